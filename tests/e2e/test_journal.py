"""A failing run's excerpt, read from a real journald (system mode, where journald runs).

journald takes the id of what a service prints from its cgroup; reading it after a
short run's process is gone, it keeps the unit and loses the id. Taking the run's
lines by id only, one excerpt in ten held the manager's lines only (systemd 252).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.container import Container, container

ROOT = Path(__file__).resolve().parents[2]
RUNS = 60

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
    out.append(excerpt.render())
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def vps() -> Iterator[Container]:
    with container() as box:
        units = box.root / "etc/systemd/system"
        script = "echo 'dumping the database'; echo 'pg_dump: connection refused' >&2; exit 1"
        (units / "failing.service").write_text(
            f'[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "{script}"\n'
        )
        box.run("systemctl", "daemon-reload")
        yield box


def test_every_failing_runs_excerpt_holds_what_the_run_itself_wrote(vps: Container) -> None:
    excerpts = json.loads(vps.run(sys.executable, "-c", EXCERPTS, timeout=300).stdout)
    assert len(excerpts) == RUNS
    short = [e for e in excerpts if "pg_dump: connection refused" not in e or "dumping the database" not in e]
    assert not short, f"{len(short)} of {RUNS} excerpts without the run's own lines, e.g. {short[0]!r}"
    assert all("Failed with result 'exit-code'" in e for e in excerpts), excerpts[0]
