"""Read endpoints: /health, items, transitions, runs, alerts, audit, maintenance."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import hdrs, web

from supervisor.core.report import run_report
from supervisor.core.times import iso as _iso
from supervisor.core.uptime import uptime
from supervisor.runtime.ports import CommandPort, ReadPort
from supervisor.web import params
from supervisor.web.cache import NotReady, ViewCache
from supervisor.web.errors import failed, not_ready

READ = web.AppKey("read", ReadPort)
COMMANDS = web.AppKey("commands", CommandPort)
CACHE = web.AppKey("cache", ViewCache)
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


def not_found(what: str) -> web.HTTPNotFound:
    """A 404 with a JSON body."""
    return web.HTTPNotFound(text=json.dumps({"error": what, "status": 404}), content_type="application/json")


async def health(request: web.Request) -> web.Response:
    """Aggregate health from the latest view; 503 when a critical item has a problem.

    The answer is encoded once per view and served as it is; a client that has this
    view (``If-None-Match`` with its ETag) gets a 304 with no body.
    """
    try:
        encoded = request.app[CACHE].health()
    except NotReady:
        return not_ready()
    except Exception:  # noqa: BLE001 - failed() logs it with its traceback
        return failed(request)
    if request.headers.get(hdrs.IF_NONE_MATCH) == encoded.etag and encoded.status == 200:  # istr: no case folding
        return web.Response(status=304, headers=encoded.not_modified)
    return web.Response(body=encoded.body, status=encoded.status, headers=encoded.headers)


async def items(request: web.Request) -> web.Response:
    """Every item's current state."""
    view = request.app[CACHE].view()
    return web.json_response(
        {
            "summary": view.summary,
            "status": view.status,
            "counts": view.counts,
            "generated_at": _iso(view.generated_at),
            "timezone": host_timezone(),
            "registry": view.supervisor.get("registry"),
            "items": list(view.items.values()),
        }
    )


def host_timezone() -> dict[str, Any]:
    """The host's time zone, in which the dashboard shows times (said once, in its header)."""
    local = datetime.now().astimezone()
    offset = local.utcoffset()
    return {"name": local.tzname() or "UTC", "offset_s": int(offset.total_seconds()) if offset else 0}


async def item(request: web.Request) -> web.Response:
    """One item: state, budget, restart budget, last runs and transitions, uptime."""
    name = request.match_info["name"]
    view = request.app[CACHE].view()
    if name not in view.items:
        raise not_found(f"no supervised item {name!r}")
    backend = request.app[READ]
    history = backend.history
    n = params.limit(request, 20)
    now = datetime.now(UTC)
    runs, transitions, first, spans = await asyncio.gather(
        asyncio.to_thread(history.runs, name, None, n),
        asyncio.to_thread(history.transitions, name, None, n),
        asyncio.to_thread(history.first_seen, name),
        asyncio.gather(
            *(asyncio.to_thread(history.status_history, name, (now - w).timestamp()) for w in WINDOWS.values())
        ),
    )
    doc: dict[str, Any] = dict(view.items[name])
    doc["restart_attempts"] = [_iso(t) for t in backend.state.restarts.get(name, ())]
    doc["runs"] = runs
    doc["transitions"] = transitions
    doc["uptime_pct"] = {k: uptime(h, now - w, now) for (k, w), h in zip(WINDOWS.items(), spans, strict=True)}
    doc["uptime_observed_since"] = _iso(first) if first else None  # a window longer than this is partly unknown
    probe = backend.probe_report(name)
    if probe is not None:
        minutes = await asyncio.to_thread(history.probe_minutes, name, (now - timedelta(hours=24)).timestamp())
        doc["probe"] = {**probe, "minutes": minutes}
    return web.json_response(doc)


async def transitions(request: web.Request) -> web.Response:
    """Transitions, newest first (``item``, ``since``, ``limit``)."""
    history = request.app[READ].history
    rows = await asyncio.to_thread(
        history.transitions, request.query.get("item"), params.since(request), params.limit(request)
    )
    return web.json_response({"transitions": rows})


async def runs(request: web.Request) -> web.Response:
    """Runs of timers' services, newest first (``item``, ``since``, ``limit``)."""
    history = request.app[READ].history
    rows = await asyncio.to_thread(
        history.runs, request.query.get("item"), params.since(request), params.limit(request)
    )
    return web.json_response({"runs": rows})


async def run(request: web.Request) -> web.Response:
    """One run by id, with its output; a run still in progress (hung) comes from the supervisor's memory."""
    run_id = request.match_info["id"]
    backend = request.app[READ]
    found = await asyncio.to_thread(backend.history.run, run_id)
    if found is None:
        for item, memory in backend.state.runs.items():
            for candidate in (memory.current, memory.last):
                if candidate is not None and candidate.id == run_id:
                    found = {"item": item, "in_progress": candidate is memory.current, **(run_report(candidate) or {})}
    if found is None:
        raise not_found(f"no run {run_id!r}")
    return web.json_response(found)


async def alerts(request: web.Request) -> web.Response:
    """The outbox: counts, pending, dead-lettered, recent."""
    box = request.app[READ].outbox
    if box is None:
        return web.json_response({"counts": {}, "pending": [], "dead": [], "recent": []})
    n = params.limit(request, 50)
    counts, pending, dead, recent = await asyncio.gather(
        asyncio.to_thread(box.counts),
        asyncio.to_thread(box.listing, "pending", n),
        asyncio.to_thread(box.listing, "dead", n),
        asyncio.to_thread(box.listing, None, n),
    )

    return web.json_response(
        {
            "counts": counts,
            "pending": [m.summary() for m in pending],
            "dead": [m.summary() for m in dead],
            "recent": [m.summary() for m in recent],
        }
    )


async def audit(request: web.Request) -> web.Response:
    """The audit log, newest first."""
    history = request.app[READ].history
    return web.json_response({"audit": await asyncio.to_thread(history.audit_log, params.limit(request))})


async def maintenance(request: web.Request) -> web.Response:
    """The supervisor's own maintenance tasks and health."""
    backend = request.app[READ]
    tasks = await asyncio.to_thread(backend.history.maintenance)
    counts = await asyncio.to_thread(backend.history.counts)
    return web.json_response({"tasks": tasks, "history_rows": counts, "supervisor": dict(backend.self_report())})
