"""The registry's jobs: validation with file:line errors, the generated units, and their supervision policy."""

from __future__ import annotations

import pytest

from supervisor.config.errors import RegistryError
from supervisor.config.generate import job_units, quote
from supervisor.config.loader import parse_registry
from supervisor.core.model import Kind

REGISTRY = """\
jobs:
  nightly-report:
    schedule: "30 2 * * mon-fri"
    timezone: Europe/Paris
    http:
      url: "https://user:pw@api.example.com/reports/run?key=SECRET"
      method: POST
      headers:
        Authorization: {value_env: REPORT_TOKEN}
        X-Signature: {value_file: /etc/missionctl/report.sig}
        X-Plain: "yes"
      body: {full: true}
      timeout: 20s
    retries: {max: 3, backoff: 10s}
    critical: true
    max_runtime: 15m
  backup:
    every: 6h
    command: [/usr/local/bin/backup, --to, "/srv/backup dir", "100%", "$HOME"]
    user: backup
    working_directory: /srv
"""


def test_a_job_is_a_supervised_timer_with_its_own_policy() -> None:
    registry = parse_registry(REGISTRY, "r.yaml")
    assert "missionctl-job-nightly-report.timer" in registry.listed
    policy = registry.policy("missionctl-job-nightly-report.timer")
    assert policy.kind is Kind.TIMER and policy.critical and policy.max_runtime_s == 900
    assert policy.keep_output  # every run's attempts and latencies are kept
    assert not registry.policy("missionctl-job-backup.timer").keep_output
    assert registry.job_of("missionctl-job-backup.timer") == "backup"
    assert registry.job_of("other.timer") is None


def test_the_generated_units() -> None:
    units = job_units(parse_registry(REGISTRY, "r.yaml"), "/etc/missionctl/registry.yaml", "/opt/m/bin/missionctl")
    assert sorted(units) == [
        "missionctl-job-backup.service",
        "missionctl-job-backup.timer",
        "missionctl-job-nightly-report.service",
        "missionctl-job-nightly-report.timer",
    ]
    timer = units["missionctl-job-nightly-report.timer"]
    assert "OnCalendar=Mon,Tue,Wed,Thu,Fri *-*-* 02:30:00 Europe/Paris\nPersistent=yes" in timer
    assert "WantedBy=timers.target" in timer and "AccuracySec=1s" in timer
    every = units["missionctl-job-backup.timer"]
    assert "OnActiveSec=21600s\nOnUnitActiveSec=21600s" in every
    http = units["missionctl-job-nightly-report.service"]
    assert (
        'ExecStart="/opt/m/bin/missionctl" job run "nightly-report" --registry "/etc/missionctl/registry.yaml"' in http
    )
    assert "Description=Mission Control job nightly-report (POST https://api.example.com/reports/run)" in http
    assert "SECRET" not in http and "pw@" not in http  # unit files are world-readable
    assert "EnvironmentFile=-/etc/missionctl/missionctl.env" in http
    assert "LoadCredential=header-1:/etc/missionctl/report.sig" in http
    assert "TimeoutStartSec=180s" in http  # 4 attempts x 20 s + 10+20+40 s of waits + 30 s
    for line in ("DynamicUser=yes", "ProtectSystem=strict", "CapabilityBoundingSet=", "NoNewPrivileges=yes"):
        assert line in http.splitlines()
    assert "RuntimeMaxSec=900s" in http
    command = units["missionctl-job-backup.service"]
    assert 'ExecStart="/usr/local/bin/backup" "--to" "/srv/backup dir" "100%%" "$$HOME"' in command
    assert "User=backup" in command and "WorkingDirectory=/srv" in command and "DynamicUser" not in command
    assert "ProtectSystem=full" in command.splitlines() and "CapabilityBoundingSet=" in command.splitlines()


def test_quoting_takes_specifiers_variables_quotes_and_backslashes_literally() -> None:
    assert quote('a "b" \\c %n $X') == '"a \\"b\\" \\\\c %%n $$X"'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jobs:\n  'bad name': {every: 1h, command: [/bin/true]}\n", "r.yaml:2: jobs[bad name]: invalid job name"),
        ("jobs:\n  j: {command: [/bin/true]}\n", "r.yaml:2: jobs[j]: give exactly one of schedule"),
        ("jobs:\n  j: {every: 1h}\n", "r.yaml:2: jobs[j]: give exactly one of http"),
        (
            "jobs:\n  j: {every: 1h, command: [backup.sh]}\n",
            "r.yaml:2: jobs[j].command: command: the program is an absolute",
        ),
        (
            "jobs:\n  j:\n    schedule: '0 0 1 * mon'\n    command: [/bin/true]\n",
            "r.yaml:3: jobs[j].schedule: invalid cron",
        ),
        ("jobs:\n  j: {every: 1h, http: {url: 'ftp://x/'}}\n", "r.yaml:2: jobs[j].http.url:"),
        (
            "jobs:\n  j: {every: 1h, http: {url: 'http://x/', headers: {'Bad Header': v}}}\n",
            "r.yaml:2: jobs[j].http.headers: invalid header name",
        ),
        (
            "jobs:\n  j: {every: 1h, http: {url: 'http://x/'}, user: root}\n",
            "r.yaml:2: jobs[j]: user, working_directory and environment_file are for command jobs",
        ),
        (
            "units:\n  missionctl-job-j.timer: {}\njobs:\n  j: {every: 1h, command: [/bin/true]}\n",
            "r.yaml:1: (top): jobs.j: its units (missionctl-job-j.timer) are generated",
        ),
    ],
)
def test_errors_name_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "r.yaml")
    assert any(e.startswith(expected) for e in caught.value.errors), caught.value.errors
