"""The supervisor's persisted memory, and its versioned JSON form (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from supervisor.core.lifecycle import RunPhase
from supervisor.core.model import Status, Trigger
from supervisor.core.probes import Outcome, ProbeState
from supervisor.core.runs import Run, RunMemory
from supervisor.core.silences import Silence

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 kept the last transitions here; they live in the history now


class StateFormatError(ValueError):
    """The persisted document is not a state of a version this code reads."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of an item's status; ``initial`` marks the first observation."""

    item: str
    old: Status | None
    new: Status
    reason: str
    at: datetime
    initial: bool = False


@dataclass(frozen=True, slots=True)
class ItemState:
    """What the supervisor last concluded about one item, and its alerting memory.

    ``incident`` counts problem episodes (ok -> problem); ``streak`` counts
    consecutive bad observations in the current one; ``announced`` says its
    ``down`` alert went out; ``seq`` numbers the alerts of the item, so alert ids
    are stable if a step is replayed after a crash.
    """

    status: Status
    since: datetime
    reason: str
    escalated: bool = False
    incident: int = 0
    streak: int = 0
    announced: bool = False
    seq: int = 0
    last_alert_at: datetime | None = None
    problem: Status | None = None  # the problem status last announced
    raw: Status | None = None  # what the last look found, before settling/flapping (core.incident)
    changes: tuple[datetime, ...] = ()  # recent changes of the raw status (flapping)
    ok_since: datetime | None = None  # raw ok since, while an incident settles
    bad: Status | None = None  # the raw problem it keeps returning to
    bad_reason: str = ""
    unscheduled_since: datetime | None = None  # a timer first seen with nothing scheduled (see decide)
    silenced_until: datetime | None = None  # quiet (a silence or a maintenance window) until then
    blocked_by: tuple[str, ...] = ()  # the broken dependencies its problem comes from (core.deps)


@dataclass(frozen=True, slots=True)
class State:
    """Everything that must survive a supervisor restart.

    Transitions are not kept here: they are facts of the history database (and the
    log), written after each step; this file holds only what decisions depend on.
    """

    items: Mapping[str, ItemState] = field(default_factory=dict)
    restarts: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)
    last_summary_at: datetime | None = None
    paused: Mapping[str, datetime | None] = field(default_factory=dict)  # item -> until (None: until resumed)
    runs: Mapping[str, RunMemory] = field(default_factory=dict)  # timers: last finished run, run in progress
    probes: Mapping[str, ProbeState] = field(default_factory=dict)  # probe verdicts (a restart keeps them)
    silences: tuple[Silence, ...] = ()  # ad-hoc silences (maintenance windows live in the registry)


def to_document(state: State) -> dict[str, Any]:
    """The JSON-ready document for a state."""
    return {
        **document_head(state),
        **{key: {name: entry(value) for name, value in sorted(of(state).items())} for key, (of, entry) in MAPS.items()},
    }


def document_head(state: State) -> dict[str, Any]:
    """Everything of the document but its per-item maps (``MAPS``)."""
    return {
        "version": SCHEMA_VERSION,
        "restarts": {unit: [t.isoformat() for t in times] for unit, times in sorted(state.restarts.items()) if times},
        "last_summary_at": state.last_summary_at.isoformat() if state.last_summary_at else None,
        "paused": {n: u.isoformat() if u else None for n, u in sorted(state.paused.items())},
        "silences": [_silence_doc(s) for s in state.silences],
    }


def item_doc(s: ItemState) -> dict[str, Any]:
    """One item's entry in the document's ``items``."""
    return {
        "status": s.status.value,
        "since": s.since.isoformat(),
        "reason": s.reason,
        "escalated": s.escalated,
        "incident": s.incident,
        "streak": s.streak,
        "announced": s.announced,
        "seq": s.seq,
        "last_alert_at": s.last_alert_at.isoformat() if s.last_alert_at else None,
        "problem": s.problem.value if s.problem else None,
        "raw": s.raw.value if s.raw else None,
        "changes": [t.isoformat() for t in s.changes],
        "ok_since": _iso(s.ok_since),
        "bad": s.bad.value if s.bad else None,
        "bad_reason": s.bad_reason,
        "unscheduled_since": _iso(s.unscheduled_since),
        "silenced_until": _iso(s.silenced_until),
        "blocked_by": list(s.blocked_by),
    }


def _silence_doc(s: Silence) -> dict[str, Any]:
    return {
        "id": s.id,
        "pattern": s.pattern,
        "until": s.until.isoformat(),
        "reason": s.reason,
        "created_at": s.created_at.isoformat(),
        "created_by": s.created_by,
    }


def _silence(v: Any) -> Silence:
    return Silence(
        id=str(v["id"]),
        pattern=str(v["pattern"]),
        until=_time(v["until"]),
        reason=str(v.get("reason") or ""),
        created_at=_time(v["created_at"]),
        created_by=str(v.get("created_by") or ""),
    )


def _probe_doc(p: ProbeState) -> dict[str, Any]:
    return {
        "verdict": p.verdict.value if p.verdict else None,
        "reason": p.reason,
        "since": _iso(p.since),
        "streak": p.streak,
        "pending": p.pending.value if p.pending else None,
        "pending_reason": p.pending_reason,
    }


def _probe(v: Any) -> ProbeState:
    return ProbeState(
        verdict=Outcome(v["verdict"]) if v.get("verdict") else None,
        reason=str(v.get("reason") or ""),
        since=_maybe_time(v.get("since")),
        streak=int(v.get("streak", 0)),
        pending=Outcome(v["pending"]) if v.get("pending") else None,
        pending_reason=str(v.get("pending_reason") or ""),
    )


def _run_doc(run: Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "trigger": run.trigger.value,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "result": run.result,
        "exit_code": run.exit_code,
        "exit_status": run.exit_status,
        "failure": run.failure,
        "anomaly": run.anomaly,
        "trigger_at": _iso(run.trigger_at),
        "stopped": run.stopped,
        "output": run.output,
    }


def _memory_doc(m: RunMemory) -> dict[str, Any]:
    return {
        "last": _run_doc(m.last),
        "current": _run_doc(m.current),
        "phase": m.phase.value,
        "anomaly_alert_at": _iso(m.anomaly_alert_at),
        "last_success_at": _iso(m.last_success_at),
        "expected_since": _iso(m.expected_since),
    }


def _run(v: Any) -> Run | None:
    if v is None:
        return None
    return Run(
        id=str(v["id"]),
        trigger=Trigger(v["trigger"]),
        started_at=_maybe_time(v.get("started_at")),
        finished_at=_maybe_time(v.get("finished_at")),
        result=str(v.get("result") or ""),
        exit_code=v.get("exit_code"),
        exit_status=int(v["exit_status"]) if v.get("exit_status") is not None else None,
        failure=str(v["failure"]) if v.get("failure") is not None else None,
        anomaly=str(v["anomaly"]) if v.get("anomaly") is not None else None,
        trigger_at=_maybe_time(v.get("trigger_at")),
        stopped=bool(v.get("stopped", False)),
        output=str(v["output"]) if v.get("output") is not None else None,
    )


def _memory(v: Any) -> RunMemory:
    return RunMemory(
        last=_run(v.get("last")),
        current=_run(v.get("current")),
        phase=RunPhase(v.get("phase", "idle")),
        anomaly_alert_at=_maybe_time(v.get("anomaly_alert_at")),
        last_success_at=_maybe_time(v.get("last_success_at")),
        expected_since=_maybe_time(v.get("expected_since")),
    )


#: The document's per-item maps: by key, what of the state it holds and each entry's document. An entry
#: depends only on its value, so a writer may keep the encoding of those that did not change.
MAPS: dict[str, tuple[Callable[[State], Mapping[str, Any]], Callable[[Any], dict[str, Any]]]] = {
    "items": (lambda state: state.items, item_doc),
    "runs": (lambda state: state.runs, _memory_doc),
    "probes": (lambda state: state.probes, _probe_doc),
}


def from_document(doc: object) -> State:
    """Parse a document written by ``to_document``; StateFormatError if it is not one."""
    try:
        if not isinstance(doc, dict):
            raise StateFormatError("state document is not an object")
        if doc.get("version") not in READABLE_VERSIONS:
            raise StateFormatError(f"unsupported state version {doc.get('version')!r}")
        items = {
            str(name): ItemState(
                status=Status(v["status"]),
                since=_time(v["since"]),
                reason=str(v["reason"]),
                escalated=bool(v["escalated"]),
                incident=int(v.get("incident", 0)),
                streak=int(v.get("streak", 0)),
                announced=bool(v.get("announced", False)),
                seq=int(v.get("seq", 0)),
                last_alert_at=_time(v["last_alert_at"]) if v.get("last_alert_at") else None,
                problem=Status(v["problem"]) if v.get("problem") else None,
                raw=Status(v["raw"]) if v.get("raw") else None,
                changes=tuple(_time(t) for t in v.get("changes") or ()),
                ok_since=_maybe_time(v.get("ok_since")),
                bad=Status(v["bad"]) if v.get("bad") else None,
                bad_reason=str(v.get("bad_reason") or ""),
                unscheduled_since=_maybe_time(v.get("unscheduled_since")),
                silenced_until=_maybe_time(v.get("silenced_until")),
                blocked_by=tuple(str(x) for x in v.get("blocked_by") or ()),
            )
            for name, v in doc["items"].items()
        }
        restarts = {str(u): tuple(_time(t) for t in ts) for u, ts in doc["restarts"].items()}
        summary = doc.get("last_summary_at")
        last_summary = _time(summary) if summary else None
        paused = {str(n): _time(u) if u else None for n, u in (doc.get("paused") or {}).items()}
        runs = {str(n): _memory(v) for n, v in (doc.get("runs") or {}).items()}
        probes = {str(n): _probe(v) for n, v in (doc.get("probes") or {}).items()}
        silences = tuple(_silence(v) for v in doc.get("silences") or ())
    except StateFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFormatError(f"malformed state document: {exc!r}") from exc
    return State(
        items=items,
        restarts=restarts,
        last_summary_at=last_summary,
        paused=paused,
        runs=runs,
        probes=probes,
        silences=silences,
    )


def pause(state: State, item: str, until: datetime | None) -> State:
    """The state with ``item`` paused until ``until`` (None: until resumed)."""
    return replace(state, paused={**state.paused, item: until})


def resume(state: State, item: str) -> State:
    """The state with ``item`` no longer paused."""
    return replace(state, paused={n: u for n, u in state.paused.items() if n != item})


def is_paused(state: State, item: str, now: datetime) -> bool:
    """Whether ``item`` is paused at ``now``."""
    if item not in state.paused:
        return False
    until = state.paused[item]
    return until is None or until > now


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _maybe_time(text: object) -> datetime | None:
    return _time(text) if text else None


def _time(text: object) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without time zone: {text!r}")
    return moment
