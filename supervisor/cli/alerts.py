"""``missionctl alerts``: the outbox (pending, dead-lettered, recent) and test sends."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from supervisor.adapters.outbox import Outbox
from supervisor.config.registry import Registry
from supervisor.core.alerts import AlertEvent, alert_id
from supervisor.core.times import iso
from supervisor.notifiers.base import TransportError
from supervisor.notifiers.build import alert_policy, build_channels


def list_alerts(registry: Registry, as_json: bool, limit: int) -> int:
    """Print pending and dead-lettered messages, and the most recent ones."""
    path = registry.state_dir / "outbox.sqlite3"
    if not path.exists():
        print(f"no outbox yet at {path}")
        return 0
    outbox = Outbox(path, readonly=True)
    try:
        doc: dict[str, Any] = {
            "counts": outbox.counts(),
            "pending": [m.summary() for m in outbox.listing("pending", limit)],
            "dead": [m.summary() for m in outbox.listing("dead", limit)],
            "recent": [m.summary() for m in outbox.listing(None, limit)],
        }
    finally:
        outbox.close()
    if as_json:
        print(json.dumps(doc, indent=2))
        return 0
    c = doc["counts"]
    print(f"outbox: {c['pending']} pending, {c['dead']} dead-lettered, {c['sent']} sent")
    for title in ("pending", "dead", "recent"):
        rows = doc[title]
        if not rows:
            continue
        print(f"\n{title}:")
        for r in rows:
            extra = f"  error: {r['last_error']}" if r["last_error"] and r["state"] != "sent" else ""
            print(
                f"  {r['created_at']}  {r['state']:<7} {r['channel']:<14} {r['event']:<9} "
                f"{r['item'] or '-'}  attempts={r['attempts']}{extra}"
            )
    return 0


def test_alert(registry: Registry, channel: str | None) -> int:
    """Send one test message through the real channel code; 0 when every channel accepted it."""
    return asyncio.run(_test(registry, channel))


async def _test(registry: Registry, only: str | None) -> int:
    channels = build_channels(registry)
    try:
        names = [n for n in channels.notifiers if only in (None, n, n.split(":")[0])]
        if not names:
            configured = ", ".join(channels.notifiers) or "none"
            print(f"missionctl: no channel {only!r} configured (configured: {configured})")
            return 2
        host = alert_policy(registry).host
        now = datetime.now(UTC)
        test_id = alert_id(host, "test", now.isoformat())
        payload: dict[str, Any] = {
            "id": test_id,
            "event": AlertEvent.SUMMARY.value,
            "item": None,
            "kind": None,
            "status": "ok",
            "previous_status": None,
            "reason": "test message from missionctl alerts test",
            "critical": False,
            "at": iso(now),
            "host": host,
            "since": None,
            "reminder": False,
            "details": {"counts": {}, "total": 0, "ok": 0, "problems": [], "test": True},
        }
        failed = 0
        for name in names:
            try:
                await channels.notifiers[name].send(payload, test_id)
            except TransportError as exc:
                failed += 1
                print(f"{name}: FAILED: {channels.redact(str(exc))}")
            else:
                print(f"{name}: sent")
        return 1 if failed else 0
    finally:
        await channels.close()
