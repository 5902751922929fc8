"""A sweep's timers and runs read ahead in one pipelined conversation, with the same stamps as one Get at a time.

Per timer, its state change stamp is asked for, then either its Timer properties
(not known yet) or the stamp of its service (known). As their answers come in, what
they say changed is asked for, and the run of a service not known yet: its stamp,
then its values (none when the stamp says it has not run). systemd answers one
connection in order, so every stamp is read before what it vouches for, and each
answer is taken as it arrives (nothing piles up, and the manager is never left idle
between steps). What is stored is exactly
what ``SystemdClient.read_timer`` would have stored reading one call at a time; the
paths read or confirmed here are "fresh" for the batch, so the client's reads within
it take them without a call. A call that failed (the unit vanished meanwhile) leaves
its unit to the one-at-a-time path, which says why.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.adapters.systemd import decode
from supervisor.adapters.systemd.facts import (
    LIMIT,
    NEVER_RAN,
    RUN,
    STAMP,
    TIMER,
    Memory,
    TimerFacts,
    UnitSummary,
    never_fired_since,
    service_run,
    timer_facts,
)
from supervisor.adapters.systemd.pipeline import Conversation, converse
from supervisor.adapters.systemd.values import WireError
from supervisor.adapters.systemd.wire import Call, Failed


@dataclass(slots=True)
class ReadAhead:
    """What a read-ahead did: the paths it read or confirmed, what it cost, and why it stopped short if it did."""

    fresh: set[bytes] = field(default_factory=set)
    calls: int = 0
    round_trips: int = 0  # the conversation, if there was one
    reused: int = 0
    error: str | None = None


@dataclass(slots=True)
class _Sweep:
    memory: Memory
    units: Mapping[str, UnitSummary]
    talk: Conversation
    out: ReadAhead
    stamps: dict[bytes, object] = field(default_factory=dict)  # services' stamps, as answered
    decided: set[bytes] = field(default_factory=set)  # services whose run is confirmed or being read

    def ask(self, call: Call, then: Callable[[object], None]) -> None:
        """Ask ``call`` in this sweep's conversation."""
        self.talk.ask(call, then)


def read_ahead(
    memory: Memory, socket: Path, timers: Sequence[UnitSummary], units: Mapping[str, UnitSummary], timeout: float
) -> ReadAhead:
    """Read these timers and their services' runs into ``memory`` (module docstring)."""
    out = ReadAhead()
    loaded = [timer for timer in timers if timer.load_state == "loaded"]
    if not loaded:
        return out  # nothing to ask: no connection
    sweep = _Sweep(memory, units, Conversation(), out)
    sweep.talk.take_up(functools.partial(_timer, sweep, timer) for timer in loaded)
    try:
        converse(socket, sweep.talk, timeout)
    except WireError as exc:
        out.error = str(exc)  # what was stored before stands: each entry carries the stamp it was read under
    out.calls, out.round_trips = sweep.talk.sent, 1
    return out


def _service(units: Mapping[str, UnitSummary], name: str) -> UnitSummary | None:
    unit = units.get(name)
    return unit if unit is not None and unit.load_state == "loaded" else None


def _timer(sweep: _Sweep, timer: UnitSummary) -> None:
    known = sweep.memory.timers.get(timer.path)
    stamp: list[object] = []
    if known is None:

        def learnt(props: object) -> None:
            if isinstance(stamp[0], int) and isinstance(props, dict):
                facts = timer_facts(props, never_fired_since(stamp[0]))
                sweep.memory.timers[timer.path] = (stamp[0], facts)
                sweep.out.fresh.add(timer.path)
                _run(sweep, facts)

        sweep.ask(Call(timer.path, *STAMP), stamp.append)
        sweep.ask(Call(timer.path, TIMER), learnt)
        return
    facts = known[1]  # a state change does not change which service a timer starts
    service = _service(sweep.units, facts.service)

    def compared(value: object) -> None:
        if not isinstance(value, int):
            return
        if known[0] == value:
            sweep.out.fresh.add(timer.path)
            sweep.out.reused += 1
        else:
            sweep.ask(Call(timer.path, TIMER), lambda props: _relearnt(sweep, timer.path, value, props))
        _run(sweep, facts)

    if service is None or service.path not in sweep.memory.runs or service.path in sweep.stamps:
        sweep.ask(Call(timer.path, *STAMP), compared)  # a service stamp asked for already is answered before
        return
    sweep.stamps[service.path] = None  # asked for: answered before anything asked after it

    def stamped(value: object) -> None:
        sweep.stamps[service.path] = value
        compared(stamp[0])

    sweep.ask(Call(timer.path, *STAMP), stamp.append)
    sweep.ask(Call(service.path, *STAMP), stamped)


def _relearnt(sweep: _Sweep, path: bytes, stamp: int, props: object) -> None:
    if isinstance(props, dict):
        sweep.memory.timers[path] = (stamp, timer_facts(props, never_fired_since(stamp)))
        sweep.out.fresh.add(path)


def _run(sweep: _Sweep, facts: TimerFacts) -> None:
    """The run of the service ``facts`` names: confirmed by its stamp, or read (stamp first, then values)."""
    service = _service(sweep.units, facts.service)
    if service is None or service.path in sweep.decided:
        return
    sweep.decided.add(service.path)
    known = sweep.memory.runs.get(service.path)
    stamp = sweep.stamps.get(service.path)
    if known is not None and known[0] == stamp:
        sweep.out.fresh.add(service.path)
        sweep.out.reused += 1
        return
    if service.path not in sweep.memory.limits:  # asked first: answered before what the run needs it for
        sweep.ask(Call(service.path, *LIMIT), functools.partial(_limit, sweep, service.path))
    if isinstance(stamp, int):  # a known run's stamp, asked with its timer's: its limit is known too
        _values(sweep, service, stamp)
    else:
        sweep.ask(Call(service.path, *STAMP), functools.partial(_values, sweep, service))


def _limit(sweep: _Sweep, path: bytes, value: object) -> None:
    if not isinstance(value, Failed):
        sweep.memory.limits[path] = decode.seconds(value)


def _values(sweep: _Sweep, service: UnitSummary, stamp: object) -> None:
    """A run's values, once its stamp is in: none to read for a service that has not run (``NEVER_RAN``)."""
    if not isinstance(stamp, int):
        return  # the unit vanished: the one-at-a-time path says why
    if stamp == 0:
        _ran(sweep, service, stamp, NEVER_RAN)
        return
    got: dict[bytes, object] = {}
    *first, (iface, last) = RUN
    for iface_, prop in first:
        sweep.ask(Call(service.path, iface_, prop), functools.partial(got.__setitem__, prop))

    def answered(value: object) -> None:
        got[last] = value
        _ran(sweep, service, stamp, got)

    sweep.ask(Call(service.path, iface, last), answered)


def _ran(sweep: _Sweep, service: UnitSummary, stamp: int, got: Mapping[bytes, object]) -> None:
    limits = sweep.memory.limits
    if service.path not in limits or any(got.get(prop) is None or isinstance(got[prop], Failed) for _i, prop in RUN):
        return  # a read failed: the one-at-a-time path says why
    run = service_run(service.name, service.active_state, service.sub_state, got, limits[service.path])
    sweep.memory.runs[service.path] = (stamp, run)
    sweep.out.fresh.add(service.path)
