#!/usr/bin/env bash
# Set up (Debian packages the tests use, .venv, the package) and run the whole test suite:
# ruff, mypy, then pytest. Extra arguments go to pytest (e.g. scripts/test.sh tests/dns -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
echo "== ruff" && .venv/bin/ruff check filterproxy tests bench
echo "== mypy" && .venv/bin/mypy
echo "== pytest"
mkdir -p artifacts
exec .venv/bin/python -m pytest -p no:cacheprovider -q --durations=15 "$@"
