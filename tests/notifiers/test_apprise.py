"""The Apprise channel against real loopback servers (ntfy, Gotify and json:// URLs), through the real outbox."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supervisor.adapters.outbox import Outbox
from supervisor.notifiers.apprise import url_secrets
from tests.harness.receiver import Receiver

from .conftest import deliver


def payload(i: int = 1, event: str = "down", output: str | None = None) -> dict[str, Any]:
    return {
        "id": f"alert-{i}",
        "event": event,
        "item": "backup.timer",
        "kind": "timer",
        "status": "failed",
        "previous_status": "ok",
        "reason": "last run failed: exit-code, exit status 2",
        "critical": True,
        "at": "2026-11-22T12:00:00Z",
        "host": "vps1",
        "since": "2026-11-22T11:59:00Z",
        "reminder": False,
        "details": {"last_result": "exit-code", "last_exit_status": 2, "restarts_in_window": 0},
        "output": output,
    }


def registry(url: str, timeout: str = "15s") -> str:
    return f"alerts:\n  apprise: [{{url_env: APPRISE_URL, timeout: {timeout}}}]\n"


async def send(
    outbox: Outbox, url: str, rows: list[dict[str, Any]], until: Any, monkeypatch: pytest.MonkeyPatch, **kw: str
) -> None:
    monkeypatch.setenv("APPRISE_URL", url)
    await deliver(outbox, registry(url, **kw), "apprise:0", rows, until)


@pytest.mark.parametrize(
    ("scheme", "path", "field"),
    [("json", "/hook", "message"), ("ntfy", "/", "message"), ("gotify", "/message", "message")],
)
async def test_messages_arrive_at_ntfy_gotify_and_json_receivers(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, scheme: str, path: str, field: str
) -> None:
    target = {"json": "hook", "ntfy": "alerts-topic", "gotify": "AbCdEf0123456"}[scheme]
    receiver.respond((200, '{"id": "m1"}'))  # ntfy and Gotify answer 200 with the message's id
    url = f"{scheme}://127.0.0.1:{receiver.port}/{target}"
    await send(
        outbox,
        url,
        [payload(output="Traceback ...\nOSError: disk full")],
        lambda: outbox.counts()["sent"] == 1,
        monkeypatch,
    )
    [req] = receiver.received
    assert req.path == path
    assert logging.getLogger("apprise").propagate is False  # its lines can quote URL parts: never in our logs
    doc = req.json
    assert doc["title"] == "DOWN backup.timer on vps1: last run failed: exit-code, exit status 2"
    assert "Item: backup.timer (timer, critical)" in doc[field]
    assert doc[field].endswith("OSError: disk full")  # the tail of the run's output comes along
    if scheme == "ntfy":
        assert doc["topic"] == "alerts-topic"


async def test_a_5xx_is_retried_with_backoff(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    receiver.respond(500, 502)
    url = f"json://127.0.0.1:{receiver.port}/hook"
    await send(outbox, url, [payload()], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    assert len(receiver.received) == 3
    assert outbox.listing("sent")[0].attempts == 3


async def test_a_4xx_is_permanent_and_dead_lettered_without_leaking_the_urls_secrets(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.respond((401, '{"error": "unauthorized"}'), (200, '{"id": "m2"}'))
    url = f"ntfy://alice:sup3r-s3cret-pw@127.0.0.1:{receiver.port}/private-topic-4f2a"
    await send(outbox, url, [payload(1), payload(2)], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    [dead] = outbox.listing("dead")
    error = dead.last_error or ""
    assert dead.alert_id == "alert-1" and dead.attempts == 1 and "HTTP 401" in error, error
    assert "sup3r-s3cret-pw" not in error and "private-topic-4f2a" not in error
    assert len(receiver.received) == 2  # the next message is not held up by a dead one


async def test_an_unreachable_target_is_retried_and_delivered_in_order(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    receiver.down()

    async def bring_back() -> None:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(receiver.up)

    task = asyncio.create_task(bring_back())
    url = f"json://127.0.0.1:{receiver.port}/hook"
    rows = [payload(i) for i in range(1, 4)]
    await send(outbox, url, rows, lambda: outbox.counts()["sent"] == 3, monkeypatch)
    await task
    assert [b["title"] for b in receiver.bodies()] == [
        "DOWN backup.timer on vps1: last run failed: exit-code, exit status 2"
    ] * 3
    first = outbox.listing("sent")[-1]
    assert first.attempts > 1  # retried while the target was unreachable, then delivered


@pytest.fixture
def silent_peer() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a hung push service)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


async def test_a_hung_target_times_out_off_the_event_loop_and_is_retried(
    outbox: Outbox, silent_peer: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"json://127.0.0.1:{silent_peer}/hook"
    ticks = 0

    async def ticker() -> None:  # the loop keeps running while Apprise blocks in its thread
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    await send(
        outbox,
        url,
        [payload()],
        lambda: outbox.listing("pending") and outbox.listing("pending")[0].attempts >= 1,
        monkeypatch,
        timeout="0.5s",
    )
    took = time.monotonic() - started
    task.cancel()
    [pending] = outbox.listing("pending")
    assert "no answer within 0.5s" in (pending.last_error or "")
    assert ticks >= 0.5 * took / 0.05  # the event loop was not blocked


def test_url_secrets_are_the_parts_that_can_hold_tokens() -> None:
    assert url_secrets("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-100123456789") == [
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "-100123456789",
    ]
    assert url_secrets("ntfys://ntfy.sh/my-secret-topic") == ["my-secret-topic"]  # a host name is no secret


def test_missionctl_alerts_test_apprise_sends_through_the_real_channel(tmp_path: Path, receiver: Receiver) -> None:
    reg = tmp_path / "registry.yaml"
    reg.write_text(f"state_dir: {tmp_path}\nserver: {{enabled: false}}\n" + registry("x"))
    env = {"APPRISE_URL": f"json://127.0.0.1:{receiver.port}/hook", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "supervisor", "alerts", "test", "apprise", "--registry", str(reg)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "apprise:0: sent" in out.stdout
    [req] = receiver.received
    assert req.json["title"].startswith("SUMMARY on ")
