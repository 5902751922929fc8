#!/usr/bin/env bash
# The fallback for the fallback: if missionctl's heartbeat is stale, restart it and alert
# directly (Discord/webhook via curl, sendmail if present), at most once per hour. No Python.
set -u
beat=${MISSIONCTL_HEARTBEAT:-/var/lib/missionctl/heartbeat}
max_age=${MISSIONCTL_HEARTBEAT_MAX_AGE:-900}
stamp=${MISSIONCTL_FALLBACK_STAMP:-/var/lib/missionctl-fallback/alerted}
unit=${MISSIONCTL_UNIT:-missionctl.service}
read -r -a scope <<< "${MISSIONCTL_SYSTEMCTL_SCOPE:---system}"

now=$(date +%s)
age=$(( now - $(stat -c %Y "$beat" 2>/dev/null || echo 0) ))
[ "$age" -le "$max_age" ] && exit 0

host=$(hostname)
msg="missionctl on $host: heartbeat ${age}s old (> ${max_age}s); restarting $unit"
echo "$msg" >&2
systemctl "${scope[@]}" restart "$unit" || msg="$msg; restart FAILED"
# the outside dead-man's switch hears of it at once: healthchecks-style URL/fail, Uptime Kuma status=down
if [ -n "${MISSIONCTL_SELF_PING_URL:-}" ]; then u=$MISSIONCTL_SELF_PING_URL; if [[ $u == */api/push/* ]]; then
  curl -fsS -m 10 -o /dev/null -G --data-urlencode status=down --data-urlencode "msg=$msg" "${u%%\?*}"
  else curl -fsS -m 10 -o /dev/null --data-binary "$msg" "${u%/}/fail"; fi || echo "self ping /fail failed" >&2; fi

last=$(stat -c %Y "$stamp" 2>/dev/null || echo 0)
[ $(( now - last )) -lt 3600 ] && exit 0
mkdir -p "$(dirname "$stamp")" && touch "$stamp"

text=${msg//\"/\'}
post() { curl -fsS -m 10 -H 'Content-Type: application/json' -H 'X-Missionctl-Event: fallback' -d "$2" "$1" \
  || echo "alert to $1 failed" >&2; }
[ -n "${DISCORD_WEBHOOK_URL:-}" ] && post "$DISCORD_WEBHOOK_URL" "{\"content\": \"$text\"}"
[ -n "${MISSIONCTL_FALLBACK_WEBHOOK:-}" ] && post "$MISSIONCTL_FALLBACK_WEBHOOK" \
  "{\"event\": \"fallback\", \"host\": \"$host\", \"reason\": \"$text\", \"at\": $now}"
if [ -n "${MISSIONCTL_FALLBACK_EMAIL:-}" ] && command -v sendmail >/dev/null; then
  printf 'Subject: [missionctl] FALLBACK %s: supervisor restarted\n\n%s\n' "$host" "$msg" \
    | sendmail "$MISSIONCTL_FALLBACK_EMAIL"
fi
exit 0
