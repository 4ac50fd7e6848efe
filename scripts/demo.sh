#!/usr/bin/env bash
# Installs what the demo needs (Debian's prometheus, the npm packages), builds, and runs the
# metrics-flow-check CLI against a simulated cluster (TaskFlow unless --stack says). Arguments go to the demo:
#   scripts/demo.sh [--stack taskflow|kube-prometheus|kube-prometheus-stack|prometheus-grafana-charts] [--scenario NAME] [--list] [--lang fr]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v prometheus >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build:lib
npm run --silent demo -- "$@"
