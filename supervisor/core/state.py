"""The supervisor's persisted memory, and its versioned JSON form (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from supervisor.core.model import Status

SCHEMA_VERSION = 1
MAX_TRANSITIONS = 1000


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


@dataclass(frozen=True, slots=True)
class State:
    """Everything that must survive a supervisor restart."""

    items: Mapping[str, ItemState] = field(default_factory=dict)
    restarts: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)
    transitions: tuple[Transition, ...] = ()
    last_summary_at: datetime | None = None
    paused: Mapping[str, datetime | None] = field(default_factory=dict)  # item -> until (None: until resumed)

    def with_transitions(self, new: list[Transition]) -> State:
        """This state with ``new`` appended to the (bounded) transition log."""
        if not new:
            return self
        return replace(self, transitions=(*self.transitions, *new)[-MAX_TRANSITIONS:])


def to_document(state: State) -> dict[str, Any]:
    """The JSON-ready document for a state."""
    return {
        "version": SCHEMA_VERSION,
        "items": {
            name: {
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
            }
            for name, s in sorted(state.items.items())
        },
        "restarts": {unit: [t.isoformat() for t in times] for unit, times in sorted(state.restarts.items()) if times},
        "transitions": [
            {
                "item": t.item,
                "from": t.old.value if t.old else None,
                "to": t.new.value,
                "reason": t.reason,
                "at": t.at.isoformat(),
                "initial": t.initial,
            }
            for t in state.transitions
        ],
        "last_summary_at": state.last_summary_at.isoformat() if state.last_summary_at else None,
        "paused": {n: u.isoformat() if u else None for n, u in sorted(state.paused.items())},
    }


def from_document(doc: object) -> State:
    """Parse a document written by ``to_document``; StateFormatError if it is not one."""
    try:
        if not isinstance(doc, dict):
            raise StateFormatError("state document is not an object")
        if doc.get("version") != SCHEMA_VERSION:
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
            )
            for name, v in doc["items"].items()
        }
        restarts = {str(u): tuple(_time(t) for t in ts) for u, ts in doc["restarts"].items()}
        transitions = tuple(
            Transition(
                item=str(t["item"]),
                old=Status(t["from"]) if t["from"] is not None else None,
                new=Status(t["to"]),
                reason=str(t["reason"]),
                at=_time(t["at"]),
                initial=bool(t["initial"]),
            )
            for t in doc["transitions"]
        )
        summary = doc.get("last_summary_at")
        last_summary = _time(summary) if summary else None
        paused = {str(n): _time(u) if u else None for n, u in (doc.get("paused") or {}).items()}
    except StateFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFormatError(f"malformed state document: {exc!r}") from exc
    return State(items=items, restarts=restarts, transitions=transitions, last_summary_at=last_summary, paused=paused)


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


def _time(text: object) -> datetime:
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without time zone: {text!r}")
    return moment
