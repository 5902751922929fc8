"""A failing run's excerpt, read from a real journald (system mode, where journald runs).

journald takes the id of what a service prints from its cgroup; reading it after a
short run's process is gone, it keeps the unit and loses the id. Taking the run's
lines by id only, one excerpt in ten held the manager's lines only (systemd 252). Each run
prints its own id, so an excerpt with another run's lines shows too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.container import Container, container

ROOT = Path(__file__).resolve().parents[2]

#: Start a failing job (argv[1]) argv[2] times and read each run's excerpt as the daemon does, right after it ended.
EXCERPTS = f"""
import json, subprocess, sys
from datetime import UTC, datetime
sys.path.insert(0, {str(ROOT)!r})
from supervisor.adapters.journal import read_excerpt

unit, out = sys.argv[1], []
for _ in range(int(sys.argv[2])):
    subprocess.run(["systemctl", "start", unit], capture_output=True)
    props = dict(
        line.split("=", 1)
        for line in subprocess.run(
            ["systemctl", "show", unit, "--timestamp=us+utc",
             "-p", "InvocationID", "-p", "ExecMainStartTimestamp", "-p", "ExecMainExitTimestamp"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()
    )
    def at(key):  # to the microsecond, as the daemon reads it over D-Bus
        value = props.get(key, "")
        return datetime.strptime(value, "%a %Y-%m-%d %H:%M:%S.%f UTC").replace(tzinfo=UTC) if value else None
    excerpt = read_excerpt(unit, props["InvocationID"], at("ExecMainStartTimestamp"),
                           at("ExecMainExitTimestamp"), 20)
    out.append([props["InvocationID"], excerpt.render()])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def vps() -> Iterator[Container]:
    with container() as box:
        units = box.root / "etc/systemd/system"
        for name, pause in (("failing", ""), ("slow", "sleep 2; ")):
            # $$: the shell's variable, not systemd's (each run prints its own id)
            script = f"echo dumping for run $$INVOCATION_ID; {pause}echo 'pg_dump: connection refused' >&2; exit 1"
            (units / f"{name}.service").write_text(
                f'[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "{script}"\n'
            )
        box.run("systemctl", "daemon-reload")
        yield box


@pytest.mark.parametrize(
    ("unit", "runs"),
    [
        ("failing.service", 120),  # exits at once: journald often reads its output after it is gone
        ("slow.service", 4),  # two seconds between its first line and its last (and its exit)
    ],
)
def test_every_failing_runs_excerpt_holds_what_the_run_itself_wrote(vps: Container, unit: str, runs: int) -> None:
    excerpts = json.loads(vps.run(sys.executable, "-c", EXCERPTS, unit, str(runs), timeout=300).stdout)
    assert len({run_id for run_id, _ in excerpts}) == runs
    short = [e for run_id, e in excerpts if "pg_dump: connection refused" not in e or f"run {run_id}" not in e]
    assert not short, f"{len(short)} of {runs} excerpts without the run's own lines, e.g. {short[0]!r}"
    assert all("Failed with result 'exit-code'" in e for _, e in excerpts), excerpts[0]
    others = [(run_id, e) for run_id, e in excerpts if e.count("dumping for run ") != 1]
    assert not others, f"excerpts with another run's lines: {others[:2]!r}"
