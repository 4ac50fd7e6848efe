#!/usr/bin/env bash
# The operations guide's test-metrics-flow.sh, as an operator writes it with bash and kubectl
# only: its eight checks, in its order, each printed PASS or FAIL; exit 0 when all pass, 1 when
# one fails. It is the yardstick the benchmark (scripts/bench.ts) measures the action against.
#
#   1. the Prometheus and Grafana pods are Running
#   2. Prometheus answers /api/v1/targets (through the API server's service proxy)
#   3. Prometheus collects metrics: the query returns a series whose value is 1
#   4. Grafana answers /api/health with its database ok (service proxy)
#   5. the datasource ConfigMap exists and provisions a Prometheus datasource
#   6. the datasource file is mounted in the Grafana container (kubectl exec cat)
#   7. Grafana's API lists the Prometheus datasource (kubectl exec wget, with the admin password)
#   8. a query sent through Grafana to that datasource returns data (kubectl exec wget, POST /api/ds/query)
#
# Grafana's authenticated API is reached from inside its own pod: the service proxy drops the
# Authorization header (kube-apiserver strips the credentials it authenticated the caller with),
# and port-forward needs a local listener that a script would have to start, wait for and kill.
#
# Everything is set from the environment; the defaults are the TaskFlow stack of the guide.
# kube-prometheus-stack.sh beside this file runs it with that chart's names.
set -uo pipefail

NAMESPACE=${NAMESPACE:-taskflow}
PROMETHEUS_SELECTOR=${PROMETHEUS_SELECTOR:-app=prometheus}
GRAFANA_SELECTOR=${GRAFANA_SELECTOR:-app=grafana}
# name:port of the Services, as the service proxy takes them.
PROMETHEUS_SERVICE=${PROMETHEUS_SERVICE:-prometheus:9090}
GRAFANA_SERVICE=${GRAFANA_SERVICE:-grafana:3000}
GRAFANA_CONTAINER=${GRAFANA_CONTAINER:-grafana}
# Grafana's port inside its pod (the container port, not the Service's).
GRAFANA_POD_PORT=${GRAFANA_POD_PORT:-3000}
GRAFANA_USER=${GRAFANA_USER:-admin}
GRAFANA_PASSWORD=${GRAFANA_PASSWORD:-admin2024}
DATASOURCE_CONFIGMAP=${DATASOURCE_CONFIGMAP:-grafana-datasources}
DATASOURCE_FILE=${DATASOURCE_FILE:-/etc/grafana/provisioning/datasources/datasources.yaml}
DATASOURCE_NAME=${DATASOURCE_NAME:-Prometheus}
QUERY=${QUERY:-'up{job="kubernetes-pods"}'}
KUBECTL=${KUBECTL:-kubectl}
REQUEST_TIMEOUT=${REQUEST_TIMEOUT:-10s}

failed=0
pass() { printf 'PASS  %s\n' "$1"; }
fail() {
  printf 'FAIL  %s: %s\n' "$1" "$2"
  failed=$((failed + 1))
}
k() { "$KUBECTL" --request-timeout="$REQUEST_TIMEOUT" "$@"; }
proxy() { k get --raw "/api/v1/namespaces/$NAMESPACE/services/$1/proxy$2"; }
urlencode() {
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [a-zA-Z0-9.~_-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c" && out+=$c ;;
    esac
  done
  printf '%s' "$out"
}
# Grafana's API from inside the Grafana container, as the admin: grafana_api PATH [JSON-BODY]
auth=$(printf '%s:%s' "$GRAFANA_USER" "$GRAFANA_PASSWORD" | base64 | tr -d '\n')
grafana_api() {
  local post=()
  [ $# -gt 1 ] && post=(--header 'Content-Type: application/json' --post-data "$2")
  k exec -n "$NAMESPACE" "$grafana_pod" -c "$GRAFANA_CONTAINER" -- \
    wget -q -T 10 -O - --header "Authorization: Basic $auth" "${post[@]}" "http://localhost:$GRAFANA_POD_PORT$1"
}

echo "Metrics flow Prometheus -> Grafana in namespace $NAMESPACE"

# 1. Pods Running. "name phase" per pod; the Grafana pod's name serves checks 6 to 8.
check="1/8 Prometheus and Grafana pods Running"
prometheus_pods=$(k get pods -n "$NAMESPACE" -l "$PROMETHEUS_SELECTOR" -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' 2>&1)
prometheus_rc=$?
grafana_pods=$(k get pods -n "$NAMESPACE" -l "$GRAFANA_SELECTOR" -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' 2>&1)
grafana_rc=$?
grafana_pod=$(awk '$2 == "Running" { print $1; exit }' <<<"$grafana_pods")
if [ $prometheus_rc -ne 0 ] || [ $grafana_rc -ne 0 ]; then
  fail "$check" "$(printf '%s\n%s' "$prometheus_pods" "$grafana_pods" | grep -m1 -i error)"
elif [ -z "$prometheus_pods" ]; then
  fail "$check" "no Prometheus pod (-l $PROMETHEUS_SELECTOR)"
elif [ -z "$grafana_pods" ]; then
  fail "$check" "no Grafana pod (-l $GRAFANA_SELECTOR)"
elif notrunning=$(printf '%s\n%s\n' "$prometheus_pods" "$grafana_pods" | awk 'NF && $2 != "Running"') && [ -n "$notrunning" ]; then
  fail "$check" "not Running: $(tr '\n' ' ' <<<"$notrunning")"
else
  pass "$check"
fi

# 2. Prometheus's targets API.
check="2/8 Prometheus answers /api/v1/targets"
if targets=$(proxy "$PROMETHEUS_SERVICE" /api/v1/targets 2>&1) && grep -q '"status":"success"' <<<"$targets"; then
  pass "$check ($(grep -o '"health":"up"' <<<"$targets" | wc -l) targets up)"
else
  fail "$check" "$(head -c 300 <<<"$targets")"
fi

# 3. Prometheus collects metrics.
check="3/8 Prometheus collects metrics ($QUERY)"
if result=$(proxy "$PROMETHEUS_SERVICE" "/api/v1/query?query=$(urlencode "$QUERY")" 2>&1) && grep -q '"value":\[[0-9.]*,"1"\]' <<<"$result"; then
  pass "$check"
else
  fail "$check" "no series with value 1: $(head -c 300 <<<"$result")"
fi

# 4. Grafana's health (anonymous: the service proxy is enough).
check="4/8 Grafana answers /api/health"
if health=$(proxy "$GRAFANA_SERVICE" /api/health 2>&1) && grep -q '"database": *"ok"' <<<"$health"; then
  pass "$check"
else
  fail "$check" "$(head -c 300 <<<"$health")"
fi

# 5. The datasource ConfigMap.
check="5/8 ConfigMap $DATASOURCE_CONFIGMAP provisions a Prometheus datasource"
if configmap=$(k get configmap "$DATASOURCE_CONFIGMAP" -n "$NAMESPACE" -o jsonpath='{.data}' 2>&1) && grep -q 'type: *prometheus' <<<"$configmap"; then
  pass "$check"
else
  fail "$check" "$(head -c 300 <<<"$configmap")"
fi

if [ -z "$grafana_pod" ]; then
  for check in "6/8 datasource file mounted in Grafana" "7/8 Grafana lists the $DATASOURCE_NAME datasource" "8/8 Grafana queries Prometheus"; do
    fail "$check" "no Running Grafana pod (-l $GRAFANA_SELECTOR)"
  done
else
  # 6. The provisioning file inside the running Grafana container.
  check="6/8 $DATASOURCE_FILE mounted in $grafana_pod"
  if file=$(k exec -n "$NAMESPACE" "$grafana_pod" -c "$GRAFANA_CONTAINER" -- cat "$DATASOURCE_FILE" 2>&1) && grep -q 'type: *prometheus' <<<"$file"; then
    pass "$check"
  else
    fail "$check" "$(head -c 300 <<<"$file")"
  fi

  # 7. Grafana's datasource API (the uid serves check 8).
  check="7/8 Grafana lists the $DATASOURCE_NAME datasource"
  uid=''
  if datasource=$(grafana_api "/api/datasources/name/$(urlencode "$DATASOURCE_NAME")" 2>&1) && grep -q '"type":"prometheus"' <<<"$datasource"; then
    uid=$(grep -o '"uid":"[^"]*"' <<<"$datasource" | head -n 1 | cut -d'"' -f4)
    pass "$check (uid $uid)"
  else
    fail "$check" "$(head -c 300 <<<"$datasource")"
  fi

  # 8. A query through Grafana: the data Prometheus holds, as Grafana's panels get it.
  check="8/8 Grafana queries Prometheus through $DATASOURCE_NAME ($QUERY)"
  body="{\"from\":\"now-5m\",\"to\":\"now\",\"queries\":[{\"refId\":\"A\",\"datasource\":{\"type\":\"prometheus\",\"uid\":\"$uid\"},\"expr\":\"${QUERY//\"/\\\"}\",\"instant\":true,\"range\":false}]}"
  if [ -z "$uid" ]; then
    fail "$check" "no datasource to query (check 7)"
  elif answer=$(grafana_api /api/ds/query "$body" 2>&1) && grep -q '"values":\[\[[0-9]' <<<"$answer"; then
    pass "$check"
  else
    fail "$check" "no data: $(head -c 300 <<<"$answer")"
  fi
fi

if [ "$failed" -eq 0 ]; then
  echo "OK: metrics flow Prometheus -> Grafana (8 of 8 checks passed)"
  exit 0
fi
echo "BROKEN: $failed of 8 checks failed"
exit 1
