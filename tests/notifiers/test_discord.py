"""Discord webhooks against a real loopback server standing in for Discord (no network here)."""

from __future__ import annotations

from typing import Any

import pytest

from supervisor.adapters.outbox import Outbox
from tests.harness.receiver import Receiver

from .conftest import deliver
from .test_webhook import payload


async def run_discord(
    outbox: Outbox, receiver: Receiver, rows: list[dict[str, Any]], until: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_WEBHOOK_URL", receiver.url("/api/webhooks/123/tok-en_secret"))
    registry = (
        "alerts:\n  discord: {webhook_url_env: DISCORD_WEBHOOK_URL}\nserver: {public_url: 'https://ops.example'}\n"
    )
    await deliver(outbox, registry, "discord", rows, until)


@pytest.mark.parametrize(("event", "colour"), [("down", 0xE74C3C), ("recovered", 0x2ECC71), ("escalated", 0xE67E22)])
async def test_embeds_are_coloured_by_severity(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, event: str, colour: int
) -> None:
    await run_discord(outbox, receiver, [payload(1, event)], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    [req] = receiver.received
    assert req.path == "/api/webhooks/123/tok-en_secret"
    [embed] = req.json["embeds"]
    assert embed["color"] == colour
    assert embed["title"].startswith({"down": "DOWN", "recovered": "RECOVERED", "escalated": "ESCALATED"}[event])
    assert (
        embed["title"].endswith("job.timer on vps1: " + ("ok -> ok" if event == "recovered" else "stale 52h > 25h"))
        or event == "recovered"
    )
    names = {f["name"]: f["value"] for f in embed["fields"]}
    assert names["Host"] == "vps1" and names["Dashboard"] == "https://ops.example/#item=job.timer"


async def test_discord_429_honours_retry_after(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.respond((429, '{"message": "You are being rate limited.", "retry_after": 0.3, "global": false}'))
    await run_discord(outbox, receiver, [payload()], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    first, second = receiver.received
    assert second.at - first.at >= 0.3


async def test_a_deleted_discord_webhook_dead_letters_without_leaking_its_token(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver.respond((404, '{"message": "Unknown Webhook", "code": 10015}'))
    await run_discord(outbox, receiver, [payload()], lambda: outbox.counts()["dead"] == 1, monkeypatch)
    [dead] = outbox.listing("dead")
    assert "HTTP 404" in (dead.last_error or "") and "tok-en_secret" not in (dead.last_error or "")


async def test_the_output_is_a_code_block_field_within_discords_limit(
    outbox: Outbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = payload()
    p["output"] = "\n".join(f"line {i}: " + "x" * 60 for i in range(100)) + "\nthe last line"
    await run_discord(outbox, receiver, [p], lambda: outbox.counts()["sent"] == 1, monkeypatch)
    [req] = receiver.received
    [embed] = req.json["embeds"]
    [output] = [f["value"] for f in embed["fields"] if f["name"] == "Output"]
    assert len(output) <= 1024 and output.startswith("```\n…") and output.endswith("the last line\n```")
    assert len(embed["fields"]) <= 25
