#!/usr/bin/env bash
# Install Mission Control as a systemd service: sudo ./install.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix=/opt/missionctl
confdir=/etc/missionctl

die() { echo "install.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root: sudo ./install.sh"
[ -d /run/systemd/system ] || die "this system is not running systemd (no /run/systemd/system)"

need=()
for pkg in python3-venv libsystemd-dev pkg-config gcc python3-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

[ -x "$prefix/venv/bin/python" ] || python3 -m venv "$prefix/venv"
"$prefix/venv/bin/pip" install -q --upgrade pip
"$prefix/venv/bin/pip" install -q "$here"
install -m 0644 "$here/README.md" "$prefix/README.md"

install -d -m 0755 "$confdir"
if [ ! -e "$confdir/registry.yaml" ]; then
    install -m 0644 "$here/registry.yaml" "$confdir/registry.yaml"
    echo "installed the example registry at $confdir/registry.yaml: edit it, then systemctl reload missionctl"
fi
"$prefix/venv/bin/missionctl" validate "$confdir/registry.yaml"

install -m 0644 "$here/units/missionctl.service" /etc/systemd/system/missionctl.service
systemctl daemon-reload
systemctl enable missionctl.service
systemctl restart missionctl.service
systemctl is-active --quiet missionctl.service || die "missionctl.service did not start: journalctl -u missionctl"
"$prefix/venv/bin/missionctl" status --registry "$confdir/registry.yaml" || true
