#!/usr/bin/env bash
# Set up (first run) and start the whole filterproxy service on the embedded defaults:
# config/filterproxy.yaml, unprivileged loopback ports, SQLite incidents under var/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
exec .venv/bin/filterproxy --config "${FILTERPROXY_CONFIG:-config/filterproxy.yaml}" serve "$@"
