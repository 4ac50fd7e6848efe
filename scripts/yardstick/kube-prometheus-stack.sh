#!/usr/bin/env bash
# test-metrics-flow.sh on kube-prometheus-stack (release kps in namespace monitoring, chart
# defaults): the same eight checks with the chart's names. The datasource file is the one the
# grafana-sc-datasources sidecar copies from the ConfigMap labelled grafana_datasource=1 into the
# emptyDir Grafana reads; Grafana's admin password is read from the Secret kps-grafana unless
# GRAFANA_PASSWORD is set. Another release or namespace: set RELEASE and NAMESPACE.
set -uo pipefail
RELEASE=${RELEASE:-kps}
export NAMESPACE=${NAMESPACE:-monitoring}
export PROMETHEUS_SELECTOR=${PROMETHEUS_SELECTOR:-app.kubernetes.io/name=prometheus,operator.prometheus.io/name=$RELEASE-kube-prometheus-stack-prometheus}
export GRAFANA_SELECTOR=${GRAFANA_SELECTOR:-app.kubernetes.io/name=grafana,app.kubernetes.io/instance=$RELEASE}
export PROMETHEUS_SERVICE=${PROMETHEUS_SERVICE:-$RELEASE-kube-prometheus-stack-prometheus:9090}
export GRAFANA_SERVICE=${GRAFANA_SERVICE:-$RELEASE-grafana:80}
export GRAFANA_POD_PORT=${GRAFANA_POD_PORT:-3000}
export DATASOURCE_CONFIGMAP=${DATASOURCE_CONFIGMAP:-$RELEASE-kube-prometheus-stack-grafana-datasource}
export DATASOURCE_FILE=${DATASOURCE_FILE:-/etc/grafana/provisioning/datasources/datasource.yaml}
export QUERY=${QUERY:-up}
if [ -z "${GRAFANA_PASSWORD:-}" ]; then
  GRAFANA_PASSWORD=$("${KUBECTL:-kubectl}" get secret "$RELEASE-grafana" -n "$NAMESPACE" -o jsonpath='{.data.admin-password}' | base64 -d) || exit 1
  export GRAFANA_PASSWORD
fi
exec "$(dirname "$0")/test-metrics-flow.sh"
