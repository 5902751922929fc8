"""Webhooks and the recovery hook against a real loopback HTTP server, through the real outbox."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from typing import Any

import pytest

from supervisor.adapters.outbox import Outbox
from supervisor.notifiers.webhook import signature
from supervisor.runtime.delivery import backoff_s
from tests.harness.receiver import Receiver

from .conftest import deliver as run_worker

SECRET = "s3cr3t-hook-key"


def payload(i: int = 1, event: str = "down") -> dict[str, Any]:
    return {
        "id": f"alert-{i}",
        "event": event,
        "item": "job.timer",
        "kind": "timer",
        "status": "stale",
        "previous_status": "ok",
        "reason": "stale 52h > 25h",
        "critical": True,
        "at": "2026-11-22T12:00:00Z",
        "host": "vps1",
        "since": None,
        "reminder": False,
        "details": {},
    }


async def deliver(
    outbox: Outbox, receiver: Receiver, rows: list[dict[str, Any]], until: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    registry = f"alerts:\n  webhook: [{{url: '{receiver.url()}', secret_env: HOOK_SECRET}}]\n"
    await run_worker(outbox, registry, "webhook:0", rows, until)


async def test_it_signs_and_delivers_with_stable_headers(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    await deliver(outbox, receiver, [payload()], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    [req] = receiver.received
    h = req.headers
    assert h["X-Missionctl-Event"] == "down" and h["X-Missionctl-Delivery"] == "alert-1"
    expected = hmac.new(
        SECRET.encode(), h["X-Missionctl-Timestamp"].encode() + b"." + req.body, hashlib.sha256
    ).hexdigest()
    assert h["X-Missionctl-Signature"] == f"sha256={expected}"
    assert abs(int(h["X-Missionctl-Timestamp"]) - time.time()) < 30
    assert req.json == payload()


async def test_5xx_retries_with_the_same_delivery_id(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    receiver.respond(500, 503)
    await deliver(outbox, receiver, [payload()], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    assert [r.headers["X-Missionctl-Delivery"] for r in receiver.received] == ["alert-1"] * 3
    [row] = outbox.listing("sent")
    assert row.attempts == 3


async def test_429_waits_as_told(outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    receiver.respond((429, '{"retry_after": 0.4}'))
    await deliver(outbox, receiver, [payload()], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    first, second = receiver.received
    assert second.at - first.at >= 0.4


async def test_404_is_permanent_and_dead_lettered(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.respond((404, '{"message": "Unknown Webhook"}'))
    await deliver(outbox, receiver, [payload(1), payload(2)], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    [dead] = outbox.listing("dead")
    assert dead.alert_id == "alert-1" and "HTTP 404" in (dead.last_error or "") and dead.attempts == 1
    assert len(receiver.received) == 2  # the next message is not held up by a dead one


async def test_an_unreachable_receiver_delays_in_order(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    receiver.down()
    monkeypatch.setenv("HOOK_SECRET", SECRET)

    async def bring_back() -> None:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(receiver.up)

    task = asyncio.create_task(bring_back())
    await deliver(
        outbox, receiver, [payload(i) for i in range(1, 6)], lambda: outbox.counts()["sent"] == 5, monkeypatch
    )
    await task
    assert [b["id"] for b in receiver.bodies()] == [f"alert-{i}" for i in range(1, 6)]
    assert outbox.listing("sent")[-1].attempts > 1  # the first one was retried while the receiver was down


def test_signature_matches_the_documented_formula() -> None:
    assert (
        signature("k", "1700000000", b"{}") == "sha256=" + hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    )


@pytest.mark.parametrize("attempts", [1, 2, 5, 9, 20])
def test_backoff_doubles_from_one_second_to_a_five_minute_cap(attempts: int) -> None:
    base = min(300.0, 2.0 ** (attempts - 1))
    assert backoff_s(attempts, lambda: 0.0) == base / 2
    assert backoff_s(attempts, lambda: 1.0) == base


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null/x", "/"])
def test_a_secret_file_that_is_not_a_regular_file_is_refused_not_read(path: str) -> None:
    from supervisor.notifiers.secrets import SecretUnavailable, resolve

    with pytest.raises(SecretUnavailable) as caught:
        resolve(None, path)
    assert str(caught.value).startswith(f"cannot read secret file {path}: ")
