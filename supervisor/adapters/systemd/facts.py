"""What a timer's and a service's properties say, built from them as read (one Get at a time or pipelined)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supervisor.adapters.systemd import decode
from supervisor.core.model import DaemonObservation, MonotonicTrigger, ServiceRun, TimerObservation

UNIT = b"org.freedesktop.systemd1.Unit"
TIMER = b"org.freedesktop.systemd1.Timer"
SERVICE = b"org.freedesktop.systemd1.Service"
#: When a unit last changed state: read before the rest, it says whether what was read is still true.
STAMP = (UNIT, b"StateChangeTimestampMonotonic")
#: A service's last (or current) run, one Get each. Not a GetAll of the Service interface: systemd
#: computes every one of its ~150 properties for it (accounting included), 1.35 ms a call against
#: 0.05 ms a Get (1,000 services, systemd 252, private socket). Not ``ExecStart`` either, though its
#: records hold each command's start, exit, code and status in one Get: a daemon-reload zeroes them,
#: while ``ExecMain*`` survive it.
RUN = (
    (SERVICE, b"Result"),
    (SERVICE, b"ExecMainCode"),
    (SERVICE, b"ExecMainStatus"),
    (SERVICE, b"ExecMainStartTimestamp"),
    (SERVICE, b"ExecMainExitTimestamp"),
    (UNIT, b"InvocationID"),
)
#: A setting, not a state: read once per service until a daemon-reload.
LIMIT = (SERVICE, b"RuntimeMaxUSec")
#: The dependencies that make a unit's outage its dependants' (systemd.unit(5)), and their reverse lists.
NEEDS = (b"Requires", b"BindsTo", b"Requisite", b"PartOf")
NEEDED_BY = (b"RequiredBy", b"BoundBy", b"RequisiteOf", b"ConsistsOf")
#: What ``RUN`` says of a service whose state change stamp is 0: it has not changed state since it
#: was loaded, so it has not run (a run starts by activating). Taken without reading: at boot, most.
NEVER_RAN: Mapping[bytes, object] = {
    b"Result": b"success",
    b"ExecMainCode": 0,
    b"ExecMainStatus": 0,
    b"ExecMainStartTimestamp": 0,
    b"ExecMainExitTimestamp": 0,
    b"InvocationID": b"",
}


@dataclass(frozen=True, slots=True)
class UnitSummary:
    """One row of ListUnits."""

    name: str
    load_state: str
    active_state: str
    sub_state: str
    path: bytes


@dataclass(frozen=True, slots=True)
class TimerFacts:
    """What a timer's properties said, as of its last state change (the clock is applied at each read)."""

    last: datetime | None
    next_realtime: datetime | None
    next_monotonic: int | None  # µs of CLOCK_MONOTONIC, as systemd gives it
    active_enter: datetime | None  # only for a timer that never fired
    monotonic: tuple[MonotonicTrigger, ...]
    calendar: tuple[str, ...]
    service: str


@dataclass(slots=True)
class Memory:
    """What was read, by object path, as of the unit's state change stamp (and settings until a daemon-reload)."""

    timers: dict[bytes, tuple[int, TimerFacts]] = field(default_factory=dict)
    runs: dict[bytes, tuple[int, ServiceRun]] = field(default_factory=dict)
    limits: dict[bytes, float | None] = field(default_factory=dict)  # RuntimeMaxSec= per service

    def clear(self) -> None:
        """Forget everything (after a daemon-reload, or on a new connection)."""
        self.timers.clear()
        self.runs.clear()
        self.limits.clear()


def timer_facts(props: Mapping[bytes, object], active_enter: datetime | None) -> TimerFacts:
    """A timer's facts from its Timer interface's properties (``active_enter`` matters only if it never fired)."""
    last = decode.realtime(props.get(b"LastTriggerUSec"))
    mono_next = props.get(b"NextElapseUSecMonotonic")
    monotonic = props.get(b"TimersMonotonic") or []
    calendar = props.get(b"TimersCalendar") or []
    return TimerFacts(
        last=last,
        next_realtime=decode.realtime(props.get(b"NextElapseUSecRealtime")),
        next_monotonic=mono_next if isinstance(mono_next, int) else None,
        active_enter=None if last else active_enter,
        monotonic=tuple(MonotonicTrigger(decode.text(b), v / 1_000_000) for b, v, _next in monotonic),  # type: ignore[attr-defined]
        calendar=tuple(decode.text(spec) for _b, spec, _next in calendar),  # type: ignore[attr-defined]
        service=decode.text(props.get(b"Unit")),
    )


def never_fired_since(stamp: int | None) -> datetime | None:
    """When a timer that never fired became active: its last state change, put on the wall clock.

    systemd sets both from one timestamp, and a timer changes state again only when it
    fires or stops.
    """
    if not stamp:
        return None
    now, mono = decode.clocks()
    return decode.monotonic(stamp, now, mono)


def service_run(name: str, active: str, sub: str, values: Mapping[bytes, object], limit: float | None) -> ServiceRun:
    """A service's run from the ``RUN`` properties (by name) and its ``RuntimeMaxSec=``."""
    return ServiceRun(
        name=name,
        active_state=active,
        result=decode.text(values.get(b"Result")),
        exit_code=decode.exit_code(values.get(b"ExecMainCode")),
        exit_status=int(values.get(b"ExecMainStatus") or 0),  # type: ignore[call-overload]
        started_at=decode.realtime(values.get(b"ExecMainStartTimestamp")),
        exited_at=decode.realtime(values.get(b"ExecMainExitTimestamp")),
        invocation_id=decode.invocation_id(values.get(b"InvocationID")),
        sub_state=sub,
        runtime_max_s=limit,
    )


def unit_rows(rows: Iterable[Any]) -> dict[str, UnitSummary]:
    """ListUnits' rows (or ListUnitsByNames'), by name; their states are a few words, each kept once."""
    out: dict[str, UnitSummary] = {}
    for row in rows:
        name = decode.text(row[0])
        load, active, sub = (sys.intern(decode.text(word)) for word in row[2:5])
        out[name] = UnitSummary(name, load, active, sub, row[6])
    return out


def timer_observation(unit: UnitSummary, facts: TimerFacts, service: ServiceRun | None) -> TimerObservation:
    """A loaded timer as seen now: its facts, its next elapse put on the wall clock, its service's run."""
    now, mono = decode.clocks()
    nexts = [t for t in (facts.next_realtime, decode.monotonic(facts.next_monotonic, now, mono)) if t]
    return TimerObservation(
        name=unit.name,
        load_state=unit.load_state,
        active_state=unit.active_state,
        sub_state=unit.sub_state,
        last_trigger=facts.last,
        next_elapse=min(nexts) if nexts else None,
        active_enter=facts.active_enter,
        monotonic=facts.monotonic,
        calendar=facts.calendar,
        service=service,
    )


def daemon_observation(unit: UnitSummary, props: Mapping[bytes, object]) -> DaemonObservation:
    """A loaded daemon from the GetAll of all its interfaces: state, last result, restart policy, dependencies."""
    return DaemonObservation(
        unit.name,
        unit.load_state,
        unit.active_state,
        unit.sub_state,
        result=decode.text(props.get(b"Result")),
        restart=decode.text(props.get(b"Restart")) or "no",
        n_restarts=int(props.get(b"NRestarts") or 0),  # type: ignore[call-overload]
        requires=decode.names(props, NEEDS),
        required_by=decode.names(props, NEEDED_BY),
    )
