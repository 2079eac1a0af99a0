#!/usr/bin/env bash
# Set up everything filterproxy needs on a fresh Debian 12 machine with Python 3.11:
# the Debian packages the tests use (when missing), a virtualenv in .venv, and the package itself.
#   scripts/bootstrap.sh            runtime only
#   scripts/bootstrap.sh test       + test tools (dig, PostgreSQL, Prometheus, Chromium, nftables, iproute2)
#   scripts/bootstrap.sh bench      + benchmark peers (dnsperf, unbound, dnsmasq, squid, squidGuard, e2guardian, wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-run}"

need_apt=()
want() { # want BINARY PACKAGE
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/lib/postgresql/15/bin/$1" ] || need_apt+=("$2")
}
case "$profile" in
  test|bench)
    want dig dnsutils
    want pg_ctl postgresql
    want promtool prometheus
    want chromium chromium
    want nft nftables
    want ip iproute2
    want curl curl
    want dnsmasq dnsmasq    # gateway e2e: the lab's upstream/public DNS
    want nginx nginx        # gateway e2e: the lab's origin web server (HTTP + HTTPS)
    want openssl openssl    # gateway e2e: the origin's certificate
    want slapd slapd        # identity: a real LDAP directory behind proxy authentication (/usr/sbin/slapd)
    want ldapadd ldap-utils # identity: loads the test directory
    want radclient freeradius-utils  # identity: a real RADIUS accounting client
    [ -d /usr/share/fonts/truetype/dejavu ] || need_apt+=(fonts-dejavu-core)  # block page screenshots
    ;;
esac
if [ "$profile" = bench ]; then
  want dnsperf dnsperf
  want unbound unbound
  want dnsmasq dnsmasq
  want squid squid
  want squidGuard squidguard
  want e2guardian e2guardian
  want wrk wrk
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # slapd asks for a domain and an admin password on install: take its defaults, never prompt
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections 2>/dev/null || true
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian starts some daemons on install; the tests and benchmarks run their own on loopback.
  for svc in unbound dnsmasq squid e2guardian postgresql nginx prometheus slapd; do
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv >/dev/null 2>&1; then
    # Debian's own python3 keeps venv and ensurepip in a separate package.
    echo "bootstrap: installing python3-venv"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv
    "$PY" -m venv .venv
  fi
fi
# Install into .venv with uv when it can be had (a wheel on PyPI; it resolves and installs the same
# requirements about five times faster than pip, which is most of a first start), else with pip.
install() {
  [ -x .venv/bin/uv ] || .venv/bin/pip install -q --disable-pip-version-check uv >/dev/null 2>&1 || true
  if [ -x .venv/bin/uv ]; then
    .venv/bin/uv pip install -q --python .venv/bin/python "$@"
  else
    .venv/bin/pip install -q --disable-pip-version-check "$@"
  fi
}
stamp=".venv/.installed-$profile"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  if [ "$profile" = run ]; then
    install -e .
  else
    install -e '.[dev]'
    # A wheelhouse of every runtime dependency (and the build backend), so the tests can install
    # the package into brand-new venvs without extras and without the network (tests/test_install.py).
    rm -rf .venv/wheelhouse
    .venv/bin/pip wheel -q --wheel-dir .venv/wheelhouse . 'setuptools>=77' wheel
    rm -f .venv/wheelhouse/filterproxy-*.whl  # the tests build the package from the tree they test
    # The Docker image runs a newer Python with the mitmproxy 12 line: where such an interpreter is
    # on PATH, the same install test runs on it too.
    rm -rf .venv/wheelhouse-py3.12
    py312=""
    for candidate in python3.12 $(command -v pyenv >/dev/null 2>&1 && ls -d "$(pyenv root)"/versions/3.12*/bin/python3.12 2>/dev/null); do
      if "$candidate" -m pip --version >/dev/null 2>&1; then py312="$(command -v "$candidate")"; break; fi
    done
    if [ -n "$py312" ]; then
      "$py312" -m pip wheel -q --disable-pip-version-check --wheel-dir .venv/wheelhouse-py3.12 . 'setuptools>=77' wheel
      rm -f .venv/wheelhouse-py3.12/filterproxy-*.whl
      echo "$py312" > .venv/wheelhouse-py3.12/INTERPRETER
    fi
  fi
  touch "$stamp"
fi
