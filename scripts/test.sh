#!/usr/bin/env bash
# Install every dependency (apt and pip) and run the whole suite: lint, types, tests.
# Needs root: the integration tests start a private systemd --user manager in
# cgroups of their own (tests/harness/user_manager.py). Screenshots of the
# dashboard test land in build/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

# real peers of the test suite: Prometheus (and promtool) with Alertmanager for the fleet test, wrk,
# node_exporter and valgrind (it counts instructions per request) for the benchmarks, and Debian's Chromium
# for the dashboard test (Playwright drives it; it never downloads a browser)
apt_packages=(libsystemd-dev pkg-config gcc python3-dev python3-venv dbus systemd curl shellcheck prometheus
              prometheus-alertmanager prometheus-node-exporter wrk valgrind chromium)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

export PATH="$PWD/.venv/bin:$PATH"
ruff check supervisor tests bench
ruff format --check supervisor tests bench
mypy
exec pytest "$@"
