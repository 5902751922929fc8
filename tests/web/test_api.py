"""The API over a real supervisor on a real systemd --user manager."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.harness.lab import Lab

from .conftest import AUTH, TOKEN


async def test_health_flips_to_503_when_a_critical_timer_goes_stale_and_back(lab: Lab, start_supervisor: Any) -> None:
    t = lab.timer("crit", "OnActiveSec=1s\nOnUnitActiveSec=1h")
    sup = await start_supervisor(f"  {t}: {{max_stale: 3s, critical: true, on_stale: alert}}\n")
    c = sup.client

    async def health() -> tuple[int, dict[str, Any]]:
        r = await c.get("/health")
        return r.status, await r.json()

    await sup.until(lambda: _status_is(health, 200, "ok"), what="healthy")
    _status, doc = await sup.until(lambda: _status_is(health, 503, "down"), timeout=15, what="down")
    assert doc["items"][t]["status"] == "stale" and doc["counts"] == {"stale": 1}
    assert doc["supervisor"]["dbus"] == "connected"
    r = await c.post(f"/api/items/{t}/restart", headers=AUTH)  # restarting the timer makes it fire again
    assert r.status == 202 and (await r.json())["result"] == "ok"
    await sup.until(lambda: _status_is(health, 200, "ok"), timeout=15, what="healthy again")


async def _status_is(health: Any, code: int, status: str) -> Any:
    got = await health()
    return got if got[0] == code and got[1]["status"] == status else None


async def test_run_now_produces_a_recorded_run(lab: Lab, start_supervisor: Any) -> None:
    t = lab.timer("manual", "OnCalendar=yearly")
    sup = await start_supervisor(f"  {t}: {{}}\n")
    assert (await sup.json(f"/api/runs?item={t}"))["runs"] == []
    r = await sup.client.post(f"/api/items/{t}/run", headers={"X-API-Key": TOKEN})
    assert r.status == 202, await r.text()
    runs = await sup.until(lambda: _runs(sup, t), what="a recorded run")
    assert runs[0]["trigger"] == "manual" and runs[0]["result"] == "success" and runs[0]["duration_s"] >= 0
    detail = await sup.json(f"/api/items/{t}")
    assert detail["runs"][0]["invocation_id"] == runs[0]["invocation_id"]
    [entry] = (await sup.json("/api/audit"))["audit"]
    assert (entry["action"], entry["item"], entry["result"]) == ("run", t, "ok")
    assert entry["actor"].startswith("token@")


async def _runs(sup: Any, item: str) -> Any:
    return (await sup.json(f"/api/runs?item={item}"))["runs"]


async def test_every_mutation_needs_the_token_and_leaves_no_trace_without_it(lab: Lab, start_supervisor: Any) -> None:
    t = lab.timer("guarded", "OnCalendar=yearly")
    sup = await start_supervisor(f"  {t}: {{}}\n")
    before = lab.um.systemctl("show", "-P", "ActiveEnterTimestampMonotonic", t).stdout
    for action in ("run", "restart", "pause", "resume"):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}, {"Authorization": TOKEN}):
            r = await sup.client.post(f"/api/items/{t}/{action}", headers=headers)
            assert r.status == 401, (action, headers)
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await r.json())["status"] == 401
    await asyncio.sleep(1)
    assert (await sup.json(f"/api/runs?item={t}"))["runs"] == []
    assert lab.um.systemctl("show", "-P", "ActiveEnterTimestampMonotonic", t).stdout == before
    assert (await sup.json(f"/api/items/{t}"))["paused"] is False
    [row] = (await sup.json("/api/audit?limit=100"))["audit"]  # refusals from one address: one row a window
    assert (row["result"], row["count"], row["actor"]) == ("unauthorized", 16, "anonymous@127.0.0.1")


async def test_a_flood_of_refused_requests_is_rate_limited_and_costs_one_audit_row(
    lab: Lab, start_supervisor: Any
) -> None:
    t = lab.timer("flooded", "OnCalendar=yearly")
    sup = await start_supervisor(f"  {t}: {{}}\n")
    statuses = []
    for _ in range(200):
        r = await sup.client.post(f"/api/items/{t}/run", headers={"Authorization": "Bearer nope"})
        statuses.append(r.status)
    assert statuses[:30] == [401] * 30 and set(statuses[30:]) == {429}
    r = await sup.client.post(f"/api/items/{t}/run", headers={"Authorization": "Bearer nope"})
    assert int(r.headers["Retry-After"]) >= 1 and (await r.json())["status"] == 429
    [row] = (await sup.json("/api/audit"))["audit"]
    assert row["count"] >= 128  # exact up to the limit, then at powers of two, exact when the window closes
    r = await sup.client.post(f"/api/items/{t}/run", headers=AUTH)  # the token still works from there
    assert r.status == 202


async def test_pause_and_resume(lab: Lab, start_supervisor: Any) -> None:
    t = lab.timer("pausable", "OnCalendar=yearly", start=False)  # loaded but inactive: dead
    sup = await start_supervisor(f"  {t}: {{critical: true, on_stale: alert}}\n")
    assert (await sup.client.get("/health")).status == 503
    r = await sup.client.post(f"/api/items/{t}/pause", json={"until": "1h"}, headers=AUTH)
    assert r.status == 200 and (await r.json())["until"]
    item = await sup.until(lambda: _item_status(sup, t, "paused"), what="paused")
    assert item["paused"] and item["paused_until"] and "would be dead" in item["reason"]
    assert (await sup.client.get("/health")).status == 200  # a paused item does not make the host down
    assert lab.um.systemctl("is-active", t, check=False).stdout.strip() == "inactive"  # and is not restarted
    r = await sup.client.post(f"/api/items/{t}/resume", headers=AUTH)
    assert r.status == 200
    await sup.until(lambda: _item_status(sup, t, "dead"), what="re-evaluated")
    assert (await sup.client.get("/health")).status == 503
    actions = [a["action"] for a in (await sup.json("/api/audit"))["audit"]]
    assert actions == ["resume", "pause"]


async def _item_status(sup: Any, item: str, status: str) -> Any:
    doc = await sup.json(f"/api/items/{item}")
    return doc if doc["status"] == status else None


async def test_bad_input_gets_clear_json_errors(lab: Lab, start_supervisor: Any) -> None:
    t = lab.timer("inputs", "OnCalendar=yearly")
    sup = await start_supervisor(f"  {t}: {{}}\n")
    c = sup.client
    cases = [
        ("GET", "/api/items/nope.timer", {}, 404, "no supervised item 'nope.timer'"),
        ("POST", "/api/items/nope.timer/run", {"headers": AUTH}, 404, "no supervised item"),
        ("POST", f"/api/items/{t}/explode", {"headers": AUTH}, 404, "no action 'explode'"),
        ("GET", "/api/runs?limit=0", {}, 400, "limit:"),
        ("GET", "/api/transitions?limit=many", {}, 400, "limit:"),
        ("GET", "/api/transitions?since=yesterday", {}, 400, "since: expected an ISO-8601 time"),
        ("POST", f"/api/items/{t}/pause", {"headers": AUTH, "data": b"{not json"}, 400, "body: expected JSON"),
        ("POST", f"/api/items/{t}/pause", {"headers": AUTH, "json": {"until": "last week"}}, 400, "until:"),
        ("POST", f"/api/items/{t}/pause", {"headers": AUTH, "json": ["1h"]}, 400, "expected a JSON object"),
        ("POST", f"/api/items/{t}/pause", {"headers": AUTH, "data": b"x" * 100_000}, 413, "Request Entity Too Large"),
        ("GET", "/api/nothing-here", {}, 404, "Not Found"),
        ("DELETE", "/health", {}, 405, "Method Not Allowed"),
    ]
    for method, path, kw, status, fragment in cases:
        r = await c.request(method, path, **kw)
        body = await r.json()
        assert (r.status, body["status"]) == (status, status), (path, body)
        assert fragment in body["error"], (path, body)
    assert (await sup.json(f"/api/items/{t}"))["paused"] is False


async def test_a_stale_snapshot_triggers_exactly_one_refresh(lab: Lab, start_supervisor: Any) -> None:
    from supervisor.web.api import CACHE

    t = lab.timer("swr", "OnCalendar=yearly")
    sup = await start_supervisor(f"  {t}: {{}}\n", ttl="0.5s")
    cache = sup.client.server.app[CACHE]
    await asyncio.sleep(1.0)  # the daemon is idle: its last view is now older than the TTL
    seq = sup.daemon.held.view.seq
    calls = sup.daemon.worker.client.calls
    responses = await asyncio.gather(*(sup.client.get("/health") for _ in range(50)))
    assert {r.status for r in responses} == {200}
    assert cache.refreshes == 1  # fifty requests saw the stale view; one refresh was asked for
    await sup.until(lambda: sup.daemon.held.view.seq > seq, what="a fresh view")
    assert sup.daemon.worker.client.calls == calls  # serving and revalidating never touched D-Bus


async def test_a_run_is_served_by_id_with_its_verdict_and_output(lab: Lab, start_supervisor: Any) -> None:
    t = lab.timer("fails", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/sh -c 'echo oops; exit 3'")
    sup = await start_supervisor(f"  {t}: {{}}\n")
    item = await sup.until(lambda: _item_failed(sup, t), what="failed")
    assert item["last_run"]["failure"] == "exit-code, exit status 3" and item["running_since"] is None
    assert item["max_runtime_s"] is None and item["max_runtime_source"] == "none: fewer than 5 finished runs"
    run_id = item["last_run"]["id"]
    r = await sup.client.get(f"/api/runs/{run_id}")
    assert r.status == 200
    run = await r.json()
    assert (run["id"], run["item"], run["failure"], run["trigger"]) == (run_id, t, "exit-code, exit status 3", "timer")
    # no journald beside the private user manager: the run says why its output is missing
    assert isinstance(run["output"], str) and (run["output"] == "" or run["output"].startswith("output unavailable"))
    assert run["output"] == item["last_run"]["output"]
    missing = await sup.client.get("/api/runs/0123456789abcdef0123456789abcdef")
    assert missing.status == 404 and (await missing.json())["status"] == 404


async def _item_failed(sup: Any, item: str) -> Any:
    doc = await sup.json(f"/api/items/{item}")
    return doc if doc["status"] == "failed" and doc["last_run"] and doc["last_run"]["output"] is not None else None


async def test_health_answers_a_client_that_has_this_view_with_a_304(lab: Lab, start_supervisor: Any) -> None:
    t = lab.timer("etag", "OnActiveSec=1s\nOnUnitActiveSec=1h")
    sup = await start_supervisor(f"  {t}: {{max_stale: 3s, critical: true, on_stale: alert}}\n")
    c = sup.client
    await sup.until(lambda: _status_is(lambda: _health(c), 200, "ok"), what="healthy")
    first = await c.get("/health")
    etag, body = first.headers["ETag"], await first.read()
    assert first.status == 200 and etag.startswith('"') and first.headers["Cache-Control"] == "no-cache"
    compared = 0
    for name in ("If-None-Match", "if-none-match", "IF-NONE-MATCH"):  # a header's name has no case
        same = await c.get("/health", headers={name: etag})
        if same.headers["ETag"] != etag:  # a new view was published in between: its own tag
            continue
        compared += 1
        assert same.status == 304 and await same.read() == b"", name
        assert same.headers["X-Content-Type-Options"] == "nosniff" and "Content-Type" not in same.headers
    assert compared >= 2  # three requests within milliseconds: at most one new view among them
    other = await c.get("/health", headers={"If-None-Match": '"0-0"'})
    assert other.status == 200 and (other.headers["ETag"] != etag or await other.read() == body)
    # a 503 is answered in full: a monitor that has the tag of a failing view still learns it fails
    _status, _doc = await sup.until(lambda: _status_is(lambda: _health(c), 503, "down"), timeout=15, what="down")
    down = await c.get("/health")
    again = await c.get("/health", headers={"If-None-Match": down.headers["ETag"]})
    assert again.status == 503 and (await again.json())["status"] == "down"


async def _health(c: Any) -> tuple[int, dict[str, Any]]:
    r = await c.get("/health")
    return r.status, await r.json()
