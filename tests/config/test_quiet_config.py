"""Registry: maintenance windows, depends_on, the apprise channel and self_ping, with file:line: field errors."""

from __future__ import annotations

import pytest

from supervisor.config.errors import RegistryError
from supervisor.config.loader import parse_registry
from supervisor.core.silences import Window

GOOD = """\
units:
  db.service: {}
  app.service: {depends_on: [db.service]}
checks:
  site: {http: "http://127.0.0.1:8080/", depends_on: [app.service]}
pings:
  backup: {period: 1d, depends_on: [db.service]}
maintenance:
  - items: [db.service, "backup*"]
    schedule: "Sun *-*-* 03:00"
    duration: 2h
    timezone: Europe/Paris
    reason: weekly upgrade
  - items: ["*"]
    schedule: "0 4 1 * *"
    duration: 30m
alerts:
  apprise: [{url_env: NTFY_URL}, {url_file: /run/credentials/missionctl.service/gotify, timeout: 5s}]
self_ping: {url_env: MISSIONCTL_SELF_PING_URL, every: 5m, fail_on_critical: true}
"""


def test_a_full_example_reads_into_the_cores_terms() -> None:
    registry = parse_registry(GOOD, "r.yaml")
    assert registry.policy("app.service").depends_on == ("db.service",)
    unitless = registry.unitless()
    assert unitless["site"].depends_on == ("app.service",) and unitless["backup"].depends_on == ("db.service",)
    weekly, monthly = registry.windows()
    assert weekly == Window(("db.service", "backup*"), "Sun *-*-* 03:00", 7200.0, "Europe/Paris", "weekly upgrade")
    assert monthly.calendar == "*-*-01 04:00:00" and monthly.reason == "maintenance window"  # cron, translated
    assert [a.timeout for a in registry.alerts.apprise] == [15.0, 5.0]
    assert registry.self_ping is not None and registry.self_ping.timeout_s == 10.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "units:\n  a.service: {depends_on: [b.service]}\n",
            "r.yaml:2: units[a.service].depends_on[0]: 'b.service' is not supervised: list it under units:",
        ),
        (
            "units:\n  a.service: {depends_on: [a.service]}\n",
            "r.yaml:2: units[a.service].depends_on[0]: 'a.service' cannot depend on itself",
        ),
        (
            "units:\n  a.service: {}\nmaintenance:\n  - items: [a.service, b.service]\n"
            "    schedule: daily\n    duration: 1h\n",
            "r.yaml:4: maintenance[0].items[1]: 'b.service' names no item of the registry",
        ),
        (
            "maintenance:\n  - items: ['*']\n    schedule: '0 0 1 * mon'\n    duration: 1h\n",
            "r.yaml:3: maintenance[0].schedule: invalid cron schedule '0 0 1 * mon': cron runs when day-of-month OR",
        ),
        (
            "maintenance:\n  - items: ['*']\n    schedule: daily\n    duration: 8d\n",
            "r.yaml:4: maintenance[0].duration:",
        ),
        ("maintenance:\n  - items: []\n    schedule: daily\n    duration: 1h\n", "r.yaml:2: maintenance[0].items:"),
        ("alerts:\n  apprise: [{name: x}]\n", "r.yaml:2: alerts.apprise[0]: url_env or url_file is required"),
        ("self_ping: {url_env: X, every: 30s, timeout: 1m}\n", "r.yaml:1: self_ping: timeout (60s) must not be longer"),
    ],
)
def test_errors_name_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "r.yaml")
    assert any(e.startswith(expected) for e in caught.value.errors), caught.value.errors
