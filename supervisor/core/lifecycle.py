"""Every legal transition, as data: the run lifecycle and the statuses of each kind of item.

Everything that moves a run from one phase to another goes through ``run_step``,
and every status change of an item through ``check_status_change``; anything not
listed here raises ``IllegalTransition`` (the tests walk both tables whole).
"""

from __future__ import annotations

from enum import StrEnum

from supervisor.core.model import Kind, Status


class IllegalTransition(ValueError):
    """A transition the tables do not list: a bug in the caller, never a state to keep."""


class RunPhase(StrEnum):
    """Where an item's current run stands."""

    IDLE = "idle"  # no run in progress; the last finished run decides
    RUNNING = "running"
    HUNG = "hung"  # in progress longer than max_runtime


class RunEvent(StrEnum):
    """What an observation can tell about runs."""

    STARTED = "started"  # an invocation not seen before is in progress
    FINISHED = "finished"  # an invocation ended (seen running or not)
    OVERDUE = "overdue"  # the run in progress outlived max_runtime
    LOST = "lost"  # systemd no longer knows the run in progress (a reboot): no verdict


RUN_TRANSITIONS: dict[tuple[RunPhase, RunEvent], RunPhase] = {
    (RunPhase.IDLE, RunEvent.STARTED): RunPhase.RUNNING,
    (RunPhase.IDLE, RunEvent.FINISHED): RunPhase.IDLE,  # started and ended between two looks
    (RunPhase.RUNNING, RunEvent.STARTED): RunPhase.RUNNING,  # a newer invocation; the older one's end was not seen
    (RunPhase.RUNNING, RunEvent.FINISHED): RunPhase.IDLE,
    (RunPhase.RUNNING, RunEvent.OVERDUE): RunPhase.HUNG,
    (RunPhase.RUNNING, RunEvent.LOST): RunPhase.IDLE,
    (RunPhase.HUNG, RunEvent.STARTED): RunPhase.RUNNING,
    (RunPhase.HUNG, RunEvent.FINISHED): RunPhase.IDLE,
    (RunPhase.HUNG, RunEvent.LOST): RunPhase.IDLE,
}


def run_step(phase: RunPhase, event: RunEvent) -> RunPhase:
    """The phase after ``event``; IllegalTransition if the table does not list it."""
    try:
        return RUN_TRANSITIONS[(phase, event)]
    except KeyError:
        raise IllegalTransition(f"run: {event.value} is not possible while {phase.value}") from None


#: Statuses each kind can have, in order of precedence (the first that applies wins).
PRECEDENCE: dict[Kind, tuple[Status, ...]] = {
    Kind.TIMER: (
        Status.MISSING,
        Status.DEAD,
        Status.HUNG,
        Status.NEVER_TRIGGERED,
        Status.STALE,
        Status.FAILED,
        Status.OK,
    ),
    Kind.DAEMON: (Status.MISSING, Status.DOWN, Status.DEGRADED, Status.OK),
    Kind.CHECK: (Status.DOWN, Status.DEGRADED, Status.OK),
    Kind.PING: (Status.HUNG, Status.NEVER_TRIGGERED, Status.STALE, Status.FAILED, Status.OK),
}


def _status_table() -> dict[Kind, frozenset[tuple[Status | None, Status]]]:
    table: dict[Kind, frozenset[tuple[Status | None, Status]]] = {}
    for kind, statuses in PRECEDENCE.items():
        every = (*statuses, Status.PAUSED, Status.BLOCKED)
        # within a kind every status can follow every other (a reboot can even bring
        # back never-triggered); what can never happen is a status of another kind.
        # Any problem can be blocked by a broken dependency (core.deps).
        pairs: set[tuple[Status | None, Status]] = {(None, s) for s in every}
        pairs |= {(a, b) for a in every for b in every if a is not b}
        table[kind] = frozenset(pairs)
    return table


STATUS_TRANSITIONS = _status_table()


def check_status_change(kind: Kind, old: Status | None, new: Status) -> None:
    """Raise IllegalTransition unless ``old -> new`` is listed for ``kind``."""
    if (old, new) not in STATUS_TRANSITIONS[kind]:
        was = old.value if old else "(first look)"
        raise IllegalTransition(f"{kind.value}: {was} -> {new.value} is not a transition")
