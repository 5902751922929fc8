"""The inbox: what probes and the HTTP layer hand over between steps, and when the loop is woken."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

from supervisor.core.pings import PingEvent, PingKind
from supervisor.core.probes import Outcome, ProbeResult, ProbeState
from supervisor.core.state import State
from supervisor.notifiers.secrets import Redactor
from supervisor.runtime.intake import PING_BATCH_S, Inbox

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _inbox(state: State | None = None, redact: Redactor | None = None) -> tuple[Inbox, list[float]]:
    woken: list[float] = []
    loop = asyncio.get_running_loop()
    held = state or State()
    return Inbox(lambda: held, lambda: woken.append(loop.time()), lambda: redact), woken


def _ping(item: str, n: int, body: str | None = None) -> PingEvent:
    return PingEvent(item, f"{item}-{n}", PingKind.SUCCESS, AT, body=body)


async def test_a_burst_of_pings_wakes_the_loop_once_after_the_batch_delay() -> None:
    inbox, woken = _inbox()
    start = asyncio.get_running_loop().time()
    for n in range(30):
        inbox.ping(_ping("backup", n))
    inbox.ping(replace(_ping("report", 0), kind=PingKind.FAIL))
    assert woken == []  # not one wake-up per ping
    await asyncio.sleep(PING_BATCH_S * 2)
    assert len(woken) == 1 and woken[0] - start >= PING_BATCH_S * 0.9
    assert inbox.pings_received == {"success": 30, "fail": 1}
    _probes, pings = inbox.intake.take(limit=100)
    assert [e.id for e in pings["backup"]] == [f"backup-{n}" for n in range(30)]
    inbox.ping(_ping("backup", 30))  # a later ping starts a new batch
    await asyncio.sleep(PING_BATCH_S * 2)
    assert len(woken) == 2


async def test_a_pings_body_is_scrubbed_of_secrets_before_it_is_queued() -> None:
    redact = Redactor()
    redact.add("hunter2-token")
    inbox, _ = _inbox(redact=redact)
    inbox.ping(_ping("backup", 0, body="exported with hunter2-token ok"))
    inbox.ping(_ping("backup", 1))  # no body: nothing to scrub
    _probes, pings = inbox.intake.take()
    assert [e.body for e in pings["backup"]] == ["exported with *** ok", None]
    inbox.close()


async def test_without_channels_built_a_body_is_queued_as_sent() -> None:
    inbox, _ = _inbox(redact=None)
    inbox.ping(_ping("backup", 0, body="plain"))
    assert inbox.intake.take()[1]["backup"][0].body == "plain"
    inbox.close()


async def test_closing_cancels_a_pending_wake_up_and_keeps_what_is_queued() -> None:
    inbox, woken = _inbox()
    inbox.ping(_ping("backup", 0))
    inbox.close()
    await asyncio.sleep(PING_BATCH_S * 2)
    assert woken == []
    assert inbox.intake.pending


async def test_a_steady_probe_answer_is_dropped_and_one_that_may_change_the_verdict_wakes_the_loop() -> None:
    steady = ProbeState(Outcome.OK, "HTTP 200 in 3 ms", AT)
    confirming = ProbeState(Outcome.OK, "HTTP 200 in 3 ms", AT, streak=1, pending=Outcome.DOWN)
    state = State(probes={"api": steady, "web": confirming})
    inbox, woken = _inbox(state)
    ok = ProbeResult("api", AT, Outcome.OK, "HTTP 200 in 4 ms", 4.0, 200)
    inbox.probe(ok)
    assert woken == [] and not inbox.intake.pending
    inbox.probe(replace(ok, outcome=Outcome.DOWN, reason="HTTP 500 in 4 ms", code=500))
    inbox.probe(replace(ok, item="web"))  # agrees with the verdict, but a streak is being confirmed
    inbox.probe(replace(ok, item="new"))  # no verdict yet
    assert len(woken) == 3
    probes, _pings = inbox.intake.take()
    assert sorted(probes) == ["api", "new", "web"]
    assert [inbox.eager(name) for name in ("api", "web", "new")] == [False, True, True]
