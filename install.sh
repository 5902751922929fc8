#!/usr/bin/env bash
# Mission Control installer.
#   sudo ./install.sh              install or upgrade, start, and print where to look
#   ./install.sh --user            rootless: supervise your own user manager
#   sudo ./install.sh --uninstall  remove units and code; keep configuration and state
#   sudo ./install.sh --purge      remove configuration and state too
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mode=system action=install
for arg in "$@"; do
  case "$arg" in
    --user) mode=user ;;
    --uninstall) action=uninstall ;;
    --purge) action=purge ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "install.sh: $*" >&2; exit 1; }

if [ "$mode" = system ]; then
  [ "$(id -u)" -eq 0 ] || die "run as root (sudo ./install.sh), or use --user for a rootless install"
  [ -d /run/systemd/system ] || die "this system is not running systemd (no /run/systemd/system); Mission Control supervises systemd"
  prefix=/opt/missionctl conf=/etc/missionctl state=/var/lib/missionctl units=/etc/systemd/system bindir=/usr/local/bin
  sctl=(systemctl) unitsrc="$here/units" scope=()
else
  systemctl --user show-environment >/dev/null 2>&1 || die "no systemd user manager reachable (systemctl --user)"
  prefix="$HOME/.local/share/missionctl" conf="${XDG_CONFIG_HOME:-$HOME/.config}/missionctl"
  state="${XDG_STATE_HOME:-$HOME/.local/state}/missionctl" units="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
  bindir="$HOME/.local/bin"
  sctl=(systemctl --user) unitsrc="$here/units/user" scope=(--user)
fi
names=(missionctl.service missionctl-fallback.service missionctl-fallback.timer)

if [ "$action" != install ]; then
  "${sctl[@]}" disable --now missionctl.service missionctl-fallback.timer 2>/dev/null || true
  for n in "${names[@]}"; do rm -f "$units/$n"; done
  if [ "$mode" = system ]; then  # the jobs' units go with the generator
    systemctl stop 'missionctl-job-*.timer' 'missionctl-job-*.service' 2>/dev/null || true
    rm -f /etc/systemd/system-generators/missionctl-generator
  fi
  "${sctl[@]}" daemon-reload
  [ "$(readlink "$bindir/missionctl" 2>/dev/null)" = "$prefix/venv/bin/missionctl" ] && rm -f "$bindir/missionctl"
  rm -rf "$prefix"
  if [ "$action" = purge ]; then
    rm -rf "$conf" "$state" "${state%/missionctl}/missionctl-fallback"
    echo "Mission Control removed with its configuration and state"
  else
    echo "Mission Control removed: configuration kept in $conf, state in $state"
  fi
  exit 0
fi

need=()
for pkg in python3-venv libsystemd-dev pkg-config gcc python3-dev curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  [ "$mode" = system ] || die "missing packages: sudo apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

echo "installing Mission Control into $prefix"
mkdir -p "$prefix" "$conf" "$units"
[ -x "$prefix/venv/bin/python" ] || /usr/bin/python3 -m venv "$prefix/venv"
"$prefix/venv/bin/pip" install -q --upgrade pip
"$prefix/venv/bin/pip" install -q --upgrade "$here"
# same version number, new code: make sure an upgrade really replaces it
"$prefix/venv/bin/pip" install -q --force-reinstall --no-deps "$here"
install -m 0755 "$here/scripts/heartbeat-fallback.sh" "$prefix/heartbeat-fallback.sh"
mkdir -p "$bindir"
ln -sfn "$prefix/venv/bin/missionctl" "$bindir/missionctl"  # `missionctl status` from any shell
install -m 0644 "$here/README.md" "$prefix/README.md"

if [ ! -e "$conf/registry.yaml" ]; then
  # the example's units do not exist on this host: keep them as comments, supervise what is discovered
  awk -v scope="$mode" -v state="$state" '
    /^scope:/ { print "scope: " scope "                  # system | user"; next }
    /^state_dir:/ { print "state_dir: " state; next }
    /^units:/ { print "units: {}                     # examples (uncomment and edit):"; listing = 1; next }
    listing && /^  / { print "#" $0; next }
    { listing = 0; print }
  ' "$here/registry.yaml" > "$conf/registry.yaml"
  chmod 0644 "$conf/registry.yaml"
  echo "installed a starter registry: $conf/registry.yaml (edit it, then: ${sctl[*]} reload missionctl)"
fi
if [ ! -e "$conf/missionctl.env" ]; then
  (umask 077; {
    echo "# Secrets for missionctl (mode 0600). Referenced from the registry by *_env names."
    echo "MISSIONCTL_TOKEN=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')"
    echo "# the key in push-heartbeat URLs: http://127.0.0.1:8001/ping/KEY/NAME (see pings: in the registry)"
    echo "MISSIONCTL_PING_KEY=$(head -c 18 /dev/urandom | base64 | tr -d '/+=\n')"
    echo "# SMTP_PASSWORD="
    echo "# DISCORD_WEBHOOK_URL="
    echo "# HOOK_SECRET="
    echo "# NTFY_URL=ntfys://ntfy.sh/your-secret-topic   (an Apprise URL, see alerts.apprise)"
    echo "# the outside dead-man's switch (self_ping: in the registry; also used by the fallback):"
    echo "# MISSIONCTL_SELF_PING_URL=https://hc-ping.com/UUID"
    echo "# fallback alerts when the supervisor itself is dead (scripts/heartbeat-fallback.sh):"
    echo "# MISSIONCTL_FALLBACK_WEBHOOK="
    echo "# MISSIONCTL_FALLBACK_EMAIL="
  } > "$conf/missionctl.env")
fi
if ! grep -q '^MISSIONCTL_PING_KEY=' "$conf/missionctl.env"; then  # an install from before push heartbeats
  (umask 077; echo "MISSIONCTL_PING_KEY=$(head -c 18 /dev/urandom | base64 | tr -d '/+=\n')" >> "$conf/missionctl.env")
fi
chmod 0600 "$conf/missionctl.env"
"$prefix/venv/bin/missionctl" validate "$conf/registry.yaml"

for n in "${names[@]}"; do install -m 0644 "$unitsrc/$n" "$units/$n"; done
if [ "$mode" = system ]; then  # jobs: in the registry become timers at every daemon-reload (systemd.generator(7))
  gen=/etc/systemd/system-generators/missionctl-generator
  mkdir -p "${gen%/*}"
  printf '#!/bin/sh\nexec %s -m supervisor.cli.generator "$@"\n' "$prefix/venv/bin/python" > "$gen"
  chmod 0755 "$gen"
fi
"${sctl[@]}" daemon-reload
[ "$mode" = system ] && "$prefix/venv/bin/missionctl" jobs apply --registry "$conf/registry.yaml" >/dev/null
"${sctl[@]}" enable -q missionctl.service missionctl-fallback.timer
"${sctl[@]}" restart missionctl.service missionctl-fallback.timer

url=$("$prefix/venv/bin/missionctl" url --registry "$conf/registry.yaml")
for _ in $(seq 1 120); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "${url}health" || true)
  case "$code" in 200|503) break ;; esac
  sleep 0.5
done
case "$code" in 200|503) ;; *) die "missionctl did not answer on ${url}health; see: journalctl ${scope[*]} -u missionctl" ;; esac
echo
echo "Mission Control is running."
echo "  dashboard:  $url"
echo "  API token:  MISSIONCTL_TOKEN in $conf/missionctl.env"
echo "  pings:      ${url}ping/\$MISSIONCTL_PING_KEY/NAME (the key is in the same file; see pings: in the registry)"
echo "  registry:   $conf/registry.yaml"
echo
"$bindir/missionctl" status --registry "$conf/registry.yaml" "${scope[@]}" || true
