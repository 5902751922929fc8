"""A sweep's timers and runs read ahead in two pipelined exchanges, with the same stamps as one Get at a time.

Exchange one asks, per timer, for its state change stamp, then either its Timer
properties (not known yet) or the stamp of its service (known): systemd answers in
order, so every stamp is read before what it vouches for. Exchange two reads what
the stamps say changed, and the runs of services not known yet. What is stored
is exactly what ``SystemdClient.read_timer`` would have stored reading one call at
a time; the paths read or confirmed here are "fresh" for the batch, so the
client's reads within it take them without a call. A call that failed (the unit
vanished meanwhile) leaves its unit to the one-at-a-time path, which says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.adapters.systemd import decode
from supervisor.adapters.systemd.facts import (
    LIMIT,
    RUN,
    STAMP,
    TIMER,
    Memory,
    UnitSummary,
    never_fired_since,
    service_run,
    timer_facts,
)
from supervisor.adapters.systemd.pipeline import Call, Failed, WireError, exchange

#: Timers read ahead together: a bounded peak of parsed answers (1,000 timers at once cost about 2 MB
#: of RSS that stayed), for a few more round trips.
CHUNK = 128


@dataclass(slots=True)
class ReadAhead:
    """What a read-ahead did: the paths it read or confirmed, what it cost, and why it stopped short if it did."""

    fresh: set[bytes] = field(default_factory=set)
    calls: int = 0
    exchanges: int = 0
    reused: int = 0
    error: str | None = None


def read_ahead(
    memory: Memory, socket: Path, timers: Sequence[UnitSummary], units: Mapping[str, UnitSummary], timeout: float
) -> ReadAhead:
    """Read these timers and their services' runs into ``memory`` (module docstring)."""
    out = ReadAhead()
    loaded = [t for t in timers if t.load_state == "loaded"]
    try:
        for start in range(0, len(loaded), CHUNK):
            _read(memory, socket, loaded[start : start + CHUNK], units, timeout, out)
    except WireError as exc:
        out.error = str(exc)  # what was stored before stands: each entry carries the stamp it was read under
    return out


def _service(units: Mapping[str, UnitSummary], name: str) -> UnitSummary | None:
    unit = units.get(name)
    return unit if unit is not None and unit.load_state == "loaded" else None


def _ask(socket: Path, wanted: dict[Call, None], timeout: float, out: ReadAhead) -> dict[Call, object]:
    if not wanted:
        return {}
    calls = list(wanted)
    answers = exchange(socket, calls, timeout)
    out.calls += len(calls)
    out.exchanges += 1
    return dict(zip(calls, answers, strict=True))


def _read(
    memory: Memory,
    socket: Path,
    timers: list[UnitSummary],
    units: Mapping[str, UnitSummary],
    timeout: float,
    out: ReadAhead,
) -> None:
    first: dict[Call, None] = {}
    for timer in timers:
        first[Call(timer.path, *STAMP)] = None
        known = memory.timers.get(timer.path)
        if known is None:
            first[Call(timer.path, TIMER)] = None
        elif (service := _service(units, known[1].service)) is not None and service.path in memory.runs:
            first[Call(service.path, *STAMP)] = None
    got = _ask(socket, first, timeout, out)

    changed: list[tuple[UnitSummary, int]] = []
    runs: dict[bytes, tuple[UnitSummary, int | None]] = {}
    for timer in timers:
        stamp = got.get(Call(timer.path, *STAMP))
        if not isinstance(stamp, int):
            continue
        known = memory.timers.get(timer.path)
        if known is None:
            props = got.get(Call(timer.path, TIMER))
            if not isinstance(props, dict):
                continue
            facts = timer_facts(props, never_fired_since(stamp))
            memory.timers[timer.path] = (stamp, facts)
            out.fresh.add(timer.path)
        else:
            facts = known[1]  # a state change does not change which service a timer starts
            if known[0] == stamp:
                out.fresh.add(timer.path)
                out.reused += 1
            else:
                changed.append((timer, stamp))
        service = _service(units, facts.service)
        if service is None or service.path in out.fresh or service.path in runs:
            continue
        known_run = memory.runs.get(service.path)
        run_stamp = got.get(Call(service.path, *STAMP))
        if known_run is not None and known_run[0] == run_stamp:
            out.fresh.add(service.path)
            out.reused += 1
        else:
            runs[service.path] = (service, run_stamp if isinstance(run_stamp, int) else None)

    second: dict[Call, None] = {}
    for timer, _stamp in changed:
        second[Call(timer.path, TIMER)] = None
    for service, run_stamp in runs.values():
        if run_stamp is None:
            second[Call(service.path, *STAMP)] = None
        second.update(dict.fromkeys(Call(service.path, iface, prop) for iface, prop in RUN))
        if service.path not in memory.limits:
            second[Call(service.path, *LIMIT)] = None
    got = _ask(socket, second, timeout, out)

    for timer, stamp in changed:
        props = got.get(Call(timer.path, TIMER))
        if isinstance(props, dict):
            memory.timers[timer.path] = (stamp, timer_facts(props, never_fired_since(stamp)))
            out.fresh.add(timer.path)
    for service, run_stamp in runs.values():
        stamp = run_stamp if run_stamp is not None else got.get(Call(service.path, *STAMP))
        values = {prop: got.get(Call(service.path, iface, prop)) for iface, prop in RUN}
        if not isinstance(stamp, int) or any(v is None or isinstance(v, Failed) for v in values.values()):
            continue
        if service.path not in memory.limits:
            limit = got.get(Call(service.path, *LIMIT))
            if limit is None or isinstance(limit, Failed):
                continue
            memory.limits[service.path] = decode.seconds(limit)
        run = service_run(service.name, service.active_state, service.sub_state, values, memory.limits[service.path])
        memory.runs[service.path] = (stamp, run)
        out.fresh.add(service.path)
