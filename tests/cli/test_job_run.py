"""``missionctl job run``: one HTTP job's attempts against a real loopback server."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from supervisor.cli.job import run_job
from supervisor.config.jobs import HttpSpec
from supervisor.core.retry import delay_s, retryable
from tests.harness.receiver import Receiver


def test_what_is_retried_and_when() -> None:
    assert retryable(None) and retryable(500) and retryable(503) and retryable(429) and retryable(599)
    assert not retryable(404) and not retryable(401) and not retryable(200)
    assert [delay_s(n, 2.0) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]


def test_500_twice_then_200_succeeds_on_the_third_attempt(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.respond((500, '{"error": "busy"}'), (502, "bad gateway"), (200, '{"done": true}'))
    http = HttpSpec(url=receiver.url("/run?key=hidden"), method="POST", body={"full": True}, timeout=5)
    started = time.monotonic()
    assert run_job("report", http, max_retries=3, backoff_s=0.2) == 0
    assert time.monotonic() - started >= 0.2 + 0.4  # backoff, then twice the backoff
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith("attempt")]
    assert len(lines) == 3 and "attempt 1/4: POST http://127.0.0.1:" in lines[0]
    assert "/run -> HTTP 500 in " in lines[0] and "-> HTTP 502 in " in lines[1] and "-> HTTP 200 in " in lines[2]
    assert "hidden" not in out  # the query (a key, often) is never printed
    assert '{"done": true}' in out and "job report: ok (HTTP 200)" in out
    assert [r.json for r in receiver.received] == [{"full": True}] * 3
    assert receiver.received[0].headers["Content-Type"] == "application/json"


def test_a_final_500_fails_with_its_body_and_a_4xx_is_not_retried(
    receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.respond((500, "shard 7 timed out"), (500, "shard 7 timed out again"))
    assert run_job("sync", HttpSpec(url=receiver.url("/sync")), max_retries=1, backoff_s=0) == 1
    out = capsys.readouterr().out
    assert out.rstrip().endswith("job sync: failed: HTTP 500, expected 200-299")
    assert "shard 7 timed out again" in out
    receiver.respond((404, "no such report"))
    assert run_job("gone", HttpSpec(url=receiver.url("/gone")), max_retries=5, backoff_s=0) == 1
    assert len(receiver.received) == 3  # the 404 was asked once


@pytest.fixture
def silent_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        yield s.getsockname()[1]


def test_timeouts_and_refused_connections_are_retried(silent_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    http = HttpSpec(url=f"http://127.0.0.1:{silent_port}/slow", timeout=0.3)
    assert run_job("slow", http, max_retries=1, backoff_s=0) == 1
    out = capsys.readouterr().out
    assert out.count("-> timeout after 0.3s") == 2
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert run_job("down", HttpSpec(url=f"http://127.0.0.1:{closed}/"), max_retries=2, backoff_s=0) == 1
    out = capsys.readouterr().out
    assert out.count("ConnectionRefusedError") == 3 and "no answer" in out


def test_secret_headers_come_from_the_environment_or_the_services_credentials(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORT_TOKEN", "Bearer t0k3n")
    (tmp_path / "header-1").write_text("sig-from-credentials\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    http = HttpSpec.model_validate(
        {
            "url": receiver.url("/h"),
            "headers": {
                "Authorization": {"value_env": "REPORT_TOKEN"},
                "X-Signature": {"value_file": "/nonexistent/sig"},
                "X-Plain": "yes",
            },
        }
    )
    assert run_job("h", http, max_retries=0, backoff_s=0) == 0
    headers = receiver.received[0].headers
    assert headers["Authorization"] == "Bearer t0k3n" and headers["X-Signature"] == "sig-from-credentials"
    assert headers["X-Plain"] == "yes"
    monkeypatch.delenv("REPORT_TOKEN")
    assert run_job("h", http, max_retries=0, backoff_s=0) == 2  # cannot be run at all: said, not sent


def test_jobs_list_and_show_print_the_generated_units(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    reg = tmp_path / "registry.yaml"
    reg.write_text(
        f"state_dir: {tmp_path}\njobs:\n  ping-api: {{schedule: '*/15 * * * *', http: {{url: 'https://api.example.com/x'}}}}\n"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "supervisor", "jobs", *args, "--registry", str(reg)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60)

    listed = json.loads(cli("list", "--json").stdout)
    assert listed == [
        {
            "name": "ping-api",
            "timer": "missionctl-job-ping-api.timer",
            "schedule": "*/15 * * * *",
            "runs": "GET https://api.example.com/x",
        }
    ]
    shown = cli("show", "ping-api").stdout
    assert "# missionctl-job-ping-api.timer" in shown and "OnCalendar=*-*-* *:00/15:00" in shown
    assert "# missionctl-job-ping-api.service" in shown and "DynamicUser=yes" in shown
    missing = cli("show", "nope")
    assert missing.returncode == 2 and "no job 'nope'" in missing.stderr
