"""Probes, checks and pings in the registry: what they become, and bad input named by file, line and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.config.errors import RegistryError
from supervisor.config.loader import parse_registry
from supervisor.core.model import Kind, OnDown, ProbeKind

GOOD = """\
units:
  api.service:
    probe: {http: "http://127.0.0.1:8080/healthz", expect: "200-299", degraded_ms: 800, every: 10s}
  db.service: {probe: {tcp: "127.0.0.1:5432", on_down: alert}}
checks:
  example-site: {http: "https://example.com/", degraded_status: "429,503", critical: true}
  redis: {tcp: "[::1]:6379", every: 5s, confirm: 3, recover: 2}
pings:
  offsite-backup: {schedule: "30 2 * * *", grace: 30m, max_runtime: 2h, timezone: Europe/Paris}
  mailer: {period: 10m}
  report: {schedule: "Mon..Fri 09:00"}
"""


def test_it_turns_probes_checks_and_pings_into_policies() -> None:
    registry = parse_registry(GOOD, "r.yaml")
    api = registry.policy("api.service").probe
    assert api is not None and (api.kind, api.expect, api.degraded_ms, api.every_s, api.timeout_s, api.on_down) == (
        ProbeKind.HTTP,
        ((200, 299),),
        800.0,
        10.0,
        5.0,
        OnDown.RESTART,  # the default for a daemon: restart within the budget
    )
    db = registry.policy("db.service").probe
    assert db is not None and db.on_down is OnDown.ALERT and db.kind is ProbeKind.TCP
    extra = registry.unitless()
    assert {n: p.kind for n, p in extra.items()} == {
        "example-site": Kind.CHECK,
        "redis": Kind.CHECK,
        "offsite-backup": Kind.PING,
        "mailer": Kind.PING,
        "report": Kind.PING,
    }
    site = extra["example-site"]
    assert site.critical and site.probe is not None and site.probe.degraded_status == ((429, 429), (503, 503))
    assert extra["redis"].probe is not None and extra["redis"].probe.timeout_s == 5.0  # never longer than every
    backup = extra["offsite-backup"].ping
    assert backup is not None and (backup.calendar, backup.timezone, backup.grace_s) == (
        "*-*-* 02:30:00",
        "Europe/Paris",
        1800.0,
    )
    assert extra["offsite-backup"].max_runtime_s == 7200.0
    assert extra["report"].ping is not None and extra["report"].ping.calendar == "Mon..Fri 09:00"
    assert extra["mailer"].ping is not None and extra["mailer"].ping.period_s == 600.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("units:\n  a.service: {probe: {http: 'ftp://x/'}}\n", "r.yaml:2: units[a.service].probe.http: "),
        ("units:\n  a.service: {probe: {http: 'http://:80/'}}\n", "r.yaml:2: units[a.service].probe.http: "),
        ("units:\n  a.service: {probe: {http: 'http://h:99999/'}}\n", "invalid port"),
        ("units:\n  a.service:\n    probe: {tcp: 'localhost'}\n", "r.yaml:3: units[a.service].probe.tcp: "),
        ("units:\n  a.service: {probe: {tcp: 'h:0'}}\n", "port 0 is not between 1 and 65535"),
        ("units:\n  a.service: {probe: {}}\n", "give exactly one of http: URL or tcp: HOST:PORT"),
        ("units:\n  a.service: {probe: {http: 'http://h/', tcp: 'h:1'}}\n", "give exactly one of"),
        ("units:\n  a.service: {probe: {http: 'http://h/', expect: '2xx'}}\n", "invalid HTTP status range '2xx'"),
        ("units:\n  a.service: {probe: {http: 'http://h/', every: 1s, timeout: 2s}}\n", "must not be longer"),
        ("units:\n  a.timer: {probe: {http: 'http://h/'}}\n", "only a daemon (.service) has a probe"),
        ("checks:\n  site: {http: 'http://h/', on_down: restart}\n", "r.yaml:2: checks[site].on_down: unknown field"),
        ("checks:\n  db.service: {tcp: 'h:1'}\n", "looks like a systemd unit"),
        ("checks:\n  'bad name': {tcp: 'h:1'}\n", "r.yaml:2: checks[bad name]: invalid name"),
        ("pings:\n  job: {}\n", "give exactly one of period: DURATION or schedule"),
        ("pings:\n  job: {schedule: '0 0 1 * mon'}\n", "r.yaml:2: pings[job].schedule: invalid cron schedule"),
        ("pings:\n  job: {schedule: '61 * * * *'}\n", "minute: 61 is outside 0-59"),
        ("pings:\n  job: {schedule: 'whenever'}\n", "use cron (e.g. '0 3 * * *', '@daily') or OnCalendar="),
        ("pings:\n  job: {period: 1h, timezone: Mars/Olympus}\n", "unknown time zone 'Mars/Olympus'"),
        ("pings:\n  job: {period: 1h}\nchecks:\n  job: {tcp: 'h:1'}\n", "already a check's"),
    ],
)
def test_it_names_file_line_and_field_of_a_bad_probe_or_ping(text: str, expected: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "r.yaml")
    assert any(expected in e and e.startswith("r.yaml:") for e in caught.value.errors), caught.value.errors


def test_validate_exits_2_for_a_bad_cron_spec(tmp_path: Path) -> None:
    bad = tmp_path / "registry.yaml"
    bad.write_text("pings:\n  nightly:\n    schedule: '0 3 * * * *'\n")
    r = subprocess.run([sys.executable, "-m", "supervisor", "validate", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith(f"{bad}:3: pings[nightly].schedule: ") and "Traceback" not in r.stderr
