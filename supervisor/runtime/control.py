"""What a person can ask for over the API: run now, restart, pause, resume (all audited)."""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog

from supervisor.adapters.history import History
from supervisor.adapters.systemd.connection import SystemdError
from supervisor.adapters.systemd.worker import SystemdWorker
from supervisor.core import silences
from supervisor.core.model import Kind, TimerObservation
from supervisor.core.pings import PingEvent
from supervisor.core.refusals import Refusals, Write
from supervisor.core.silences import Silence
from supervisor.core.state import State, pause, resume
from supervisor.runtime.held import Held
from supervisor.runtime.intake import Inbox
from supervisor.runtime.ports import Actor, BadSilence, ControlFailed, NotApplicable, UnknownItem, silence_report
from supervisor.runtime.prober import Prober

log = structlog.get_logger("missionctl.control")


MAX_SILENCES = 100


#: Apply an operator's change to the state, persist it, and decide again at once.
ChangeState = Callable[[Callable[[State], State]], Awaitable[None]]


class Control:
    """The command port: mutations on behalf of API callers; each one but a ping lands in the audit log."""

    def __init__(
        self,
        held: Held,
        history: History,
        worker: SystemdWorker,
        prober: Prober,
        inbox: Inbox,
        change_state: ChangeState,
    ) -> None:
        self.held = held
        self.history = history
        self.worker = worker
        self.prober = prober
        self.inbox = inbox
        self.change_state = change_state
        self.refusals = Refusals()

    def _known(self, item: str) -> None:
        snap = self.held.snapshot
        if snap is None or item not in snap.policies:
            raise UnknownItem(item)

    async def audit(self, actor: Actor | str, action: str, item: str | None, result: str, detail: str = "") -> None:
        """Write one audit entry."""
        await asyncio.to_thread(self.history.audit, time.time(), str(actor), action, item, result, detail)
        log.info("audit", actor=str(actor), action=action, item=item, result=result, detail=detail)

    async def refused(self, remote: str, action: str, item: str | None, result: str, detail: str = "") -> float | None:
        """Audit a refused request, coalesced per address and window; seconds to wait when rate-limited."""
        now = time.time()
        verdict = self.refusals.note(remote, result, now)
        history = self.history
        for window, _key in verdict.closed:
            if window.row is not None:
                await asyncio.to_thread(history.audit_count, window.row, window.count)
        if verdict.write is Write.INSERT:
            actor = f"anonymous@{verdict.key[0]}"
            row = await asyncio.to_thread(history.audit, now, actor, action, item, result, detail)
            self.refusals.written(verdict.key, row, verdict.count)
            log.info("audit", actor=actor, action=action, item=item, result=result, detail=detail)
        elif verdict.write is Write.UPDATE and verdict.row is not None:
            await asyncio.to_thread(history.audit_count, verdict.row, verdict.count)
            self.refusals.written(verdict.key, None, verdict.count)
        if verdict.limited:
            return self.refusals.retry_after(verdict.key, now)
        return None

    def ping(self, event: PingEvent) -> None:
        """An accepted push heartbeat: folded in at the next step."""
        self.inbox.ping(event)

    async def _unitless(self, item: str, action: str, actor: Actor) -> Kind | None:
        snap = self.held.snapshot
        kind = snap.policies[item].kind if snap is not None else None
        if kind is Kind.PING or (kind is Kind.CHECK and action == "restart"):
            why = f"{item} is a {kind.value}: it has no unit to {action}; pause and resume apply"
            await self.audit(actor, action, item, "not-applicable", why)
            raise NotApplicable(why)
        return kind

    async def run_now(self, item: str, actor: Actor) -> dict[str, Any]:
        """Start the item's service now (a timer's triggered service; a daemon itself); probe a check now."""
        self._known(item)
        if await self._unitless(item, "run", actor) is Kind.CHECK:
            self.prober.soon(item)
            await self.audit(actor, "run", item, "ok", "probe now")
            return {"item": item, "action": "run", "result": "ok", "probe": "now"}
        snap = self.held.snapshot
        assert snap is not None
        obs = snap.observations.get(item)
        unit = obs.service.name if isinstance(obs, TimerObservation) and obs.service else item
        if snap.policies[item].kind is Kind.TIMER and not isinstance(obs, TimerObservation):
            raise ControlFailed(f"{item} is not loaded")
        return await self._job("run", item, unit, actor, lambda c: c.start_unit(unit))

    async def restart(self, item: str, actor: Actor) -> dict[str, Any]:
        """Restart the item's own unit."""
        self._known(item)
        await self._unitless(item, "restart", actor)
        return await self._job("restart", item, item, actor, lambda c: c.restart_unit(item))

    async def pause(self, item: str, until: datetime | None, actor: Actor) -> dict[str, Any]:
        """Pause: shown ``paused``, never alerted, never restarted."""
        self._known(item)
        await self.change_state(lambda s: pause(s, item, until))
        detail = f"until {until.isoformat()}" if until else "until resumed"
        await self.audit(actor, "pause", item, "ok", detail)
        return {"item": item, "action": "pause", "result": "ok", "until": until.isoformat() if until else None}

    async def resume(self, item: str, actor: Actor) -> dict[str, Any]:
        """Resume: re-evaluated at once, at most one message."""
        self._known(item)
        await self.change_state(lambda s: resume(s, item))
        await self.audit(actor, "resume", item, "ok")
        return {"item": item, "action": "resume", "result": "ok"}

    async def silence(self, pattern: str, until: datetime, reason: str, actor: Actor) -> dict[str, Any]:
        """Silence the items matching ``pattern`` until ``until``: observed and recorded, not restarted nor alerted."""
        snap = self.held.snapshot
        covered = sorted(n for n in (snap.policies if snap else ()) if fnmatch.fnmatchcase(n, pattern))
        if not covered:
            await self.audit(actor, "silence", pattern, "refused", "matches no supervised item")
            raise BadSilence(f"{pattern!r} matches no supervised item")
        if len(self.held.state.silences) >= MAX_SILENCES:
            raise BadSilence(f"{MAX_SILENCES} silences are in force already; end some first (missionctl silences)")
        now = datetime.now(UTC)
        made = Silence(
            silences.silence_id(pattern, now, (s.id for s in self.held.state.silences)),
            pattern,
            until,
            reason,
            now,
            str(actor),
        )
        await self.change_state(lambda s: replace(s, silences=silences.add(s.silences, made)))
        await self.audit(actor, "silence", pattern, "ok", f"{made.id} until {until.isoformat()}: {reason}")
        return {**silence_report(made), "items": covered}

    async def unsilence(self, silence_id: str, actor: Actor) -> dict[str, Any]:
        """End a silence now; what it covered is judged at once."""
        if not any(s.id == silence_id for s in self.held.state.silences):
            raise BadSilence(f"no silence {silence_id!r}")

        def change(state: State) -> State:
            return replace(state, silences=silences.remove(state.silences, silence_id))

        await self.change_state(change)
        await self.audit(actor, "unsilence", silence_id, "ok")
        return {"id": silence_id, "action": "unsilence", "result": "ok"}

    async def _job(self, action: str, item: str, unit: str, actor: Actor, call: Any) -> dict[str, Any]:
        try:
            job = await self.worker.run(call)
        except SystemdError as exc:
            await self.audit(actor, action, item, "error", str(exc))
            raise ControlFailed(str(exc)) from exc
        await self.audit(actor, action, item, "ok", f"{unit}: {job}")
        return {"item": item, "action": action, "unit": unit, "job": job, "result": "ok"}
