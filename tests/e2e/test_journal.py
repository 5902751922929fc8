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
RUNS = 120

#: Start the failing job RUNS times and read each run's excerpt as the daemon does, right after it ended.
EXCERPTS = f"""
import json, subprocess, sys
from datetime import UTC, datetime
sys.path.insert(0, {str(ROOT)!r})
from supervisor.adapters.journal import read_excerpt

out = []
for _ in range({RUNS}):
    subprocess.run(["systemctl", "start", "failing.service"], capture_output=True)
    props = dict(
        line.split("=", 1)
        for line in subprocess.run(
            ["systemctl", "show", "failing.service", "--timestamp=us+utc",
             "-p", "InvocationID", "-p", "ExecMainStartTimestamp", "-p", "ExecMainExitTimestamp"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()
    )
    def at(key):  # to the microsecond, as the daemon reads it over D-Bus
        value = props.get(key, "")
        return datetime.strptime(value, "%a %Y-%m-%d %H:%M:%S.%f UTC").replace(tzinfo=UTC) if value else None
    excerpt = read_excerpt("failing.service", props["InvocationID"], at("ExecMainStartTimestamp"),
                           at("ExecMainExitTimestamp"), 20)
    out.append([props["InvocationID"], excerpt.render()])
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def vps() -> Iterator[Container]:
    with container() as box:
        units = box.root / "etc/systemd/system"
        # $$: the shell's variable, not systemd's (each run prints its own id)
        script = "echo dumping for run $$INVOCATION_ID; echo 'pg_dump: connection refused' >&2; exit 1"
        (units / "failing.service").write_text(
            f'[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "{script}"\n'
        )
        box.run("systemctl", "daemon-reload")
        yield box


def test_every_failing_runs_excerpt_holds_what_the_run_itself_wrote(vps: Container) -> None:
    runs = json.loads(vps.run(sys.executable, "-c", EXCERPTS, timeout=300).stdout)
    assert len({run_id for run_id, _ in runs}) == RUNS
    short = [e for run_id, e in runs if "pg_dump: connection refused" not in e or f"run {run_id}" not in e]
    assert not short, f"{len(short)} of {RUNS} excerpts without the run's own lines, e.g. {short[0]!r}"
    assert all("Failed with result 'exit-code'" in e for _, e in runs), runs[0]
    others = [(run_id, e) for run_id, e in runs if e.count("dumping for run ") != 1]
    assert not others, f"excerpts with another run's lines: {others[:2]!r}"
