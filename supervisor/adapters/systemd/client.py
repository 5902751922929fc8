"""A blocking systemd client over pystemd, confined to one thread.

pystemd's calls block (and hold the GIL) until systemd answers, so the daemon
runs this client on a dedicated thread and bounds every call with
``SYSTEMD_BUS_TIMEOUT``. It talks to the manager's private socket when it can
(``connection``).

systemd sends every signal to every connection on its private socket, subscribed or
not (``bus_foreach_bus``: "send to all direct buses, unconditionally"). This call
connection never asks for them, so it throws them away (``discard_signals``): every
so many calls, and whenever its socket is readable while idle (the daemon watches it).
Kept, they sat in sd-bus's read queue until the connection closed, about 1.6 KB each,
some 17 per run of a oneshot service.

A timer's properties and its service's run are read again only when the unit changed
since they were last read: systemd moves ``StateChangeTimestampMonotonic`` at every
state change of a unit, and what is read here changes only with one (a timer's last
and next elapse, when it became active; a run's result, exit code and status, start
and exit times, invocation). That one Get comes *before* the read, so a change in
between is seen at the next look. So a sweep costs two Gets per timer when nothing
changed, and a changed unit at most one call more than reading it without memory. A
daemon-reload moves no state but may change ``RuntimeMaxUSec`` and a timer's
triggers: the daemon calls ``forget`` on the manager's ``Reloading``, and a new
connection starts with nothing remembered.

Within ``batch`` (a sweep), those reads are made ahead for all the sweep's timers in
one pipelined conversation on the private socket (``ahead``), with the same stamps
and the same memory; ``read_timer`` then takes what they read without a call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pystemd.dbusexc import DBusBaseError
from pystemd.dbuslib import DBus

from supervisor.adapters.systemd import decode
from supervisor.adapters.systemd.ahead import read_ahead
from supervisor.adapters.systemd.connection import (
    DEST,
    MANAGER,
    ROOT,
    ConnectionLost,
    UnitGone,
    open_connection,
    private_socket,
    wrap,
)
from supervisor.adapters.systemd.facts import (
    LIMIT,
    NEVER_RAN,
    RUN,
    STAMP,
    TIMER,
    UNIT,
    Memory,
    TimerFacts,
    UnitSummary,
    daemon_observation,
    never_fired_since,
    service_run,
    timer_facts,
    timer_observation,
    unit_rows,
)
from supervisor.adapters.systemd.wire import PROPS
from supervisor.core.model import DaemonObservation, ServiceRun, TimerObservation

_S = ord("s")
#: In a pipelined conversation, the manager may stay silent this long (as long as one call may take).
PIPELINE_TIMEOUT_S = 5.0
#: Signals the manager sent meanwhile are thrown away every this many calls (one non-blocking read when
#: there are none): a sweep during a burst of runs does not pile them up.
DISCARD_EVERY_CALLS = 128
T = TypeVar("T")
_IDLE_ROUNDS = 3  # sd_bus_process can make progress without yielding a message: stop after this many empty rounds


class SystemdClient:
    """Blocking reads and restart calls on one connection; use from one thread only."""

    def __init__(self, user: bool = False, address: str | None = None, *, remember: bool = True) -> None:
        self.user = user
        self.address = address
        self.remember = remember  # False: one look only (``check --sweep``), no stamps to read for a next one
        self._bus: DBus | None = None
        self.transport = ""
        self.calls = 0
        self.round_trips = 0  # a call answered before the next is sent is one; a pipelined conversation is one
        self.private: Path | None = None  # the manager's private socket, when that is the connection
        self.discarded = 0  # signals thrown away (see the module's docstring)
        self.reused = 0  # timers and runs taken from memory: the unit had not changed
        self.memory = Memory()
        self._fresh: set[bytes] = set()  # timers and services read ahead for the current batch

    def connect(self) -> None:
        """(Re)open the connection; nothing read on an earlier one is reused."""
        self.close()
        self._bus, self.transport = open_connection(self.user, self.address)
        self.private = private_socket(self.user) if self.transport.startswith("private:") else None
        self.forget()

    def fd(self) -> int:
        """The connection's socket: readable when the manager sent something (signals, when idle)."""
        if self._bus is None:
            raise ConnectionLost("not connected")
        return int(self._bus.get_fd())

    def discard_signals(self) -> int:
        """Throw away what the manager sent unasked (never blocks); how many rounds did something."""
        if self._bus is None:
            return 0
        done = idle = 0
        while idle < _IDLE_ROUNDS:
            try:
                msg = self._bus.process()
            except DBusBaseError as exc:
                raise wrap(exc) from exc
            if msg.is_empty():
                idle += 1
            else:
                idle = 0
                done += 1
        self.discarded += done
        return done

    def forget(self) -> None:
        """Read every timer and run afresh at the next look (after a daemon-reload)."""
        self.memory.clear()
        self._fresh = set()

    def close(self) -> None:
        """Close the connection if open."""
        if self._bus is not None:
            with contextlib.suppress(DBusBaseError):
                self._bus.close()
            self._bus = None

    @contextlib.contextmanager
    def batch(self, timers: Sequence[UnitSummary], units: Mapping[str, UnitSummary]) -> Iterator[str | None]:
        """Within it, ``read_timer`` takes these timers and runs as read ahead in one pipelined conversation.

        Only on the manager's private socket (a peer-to-peer connection of our own for
        it; see ``ahead``). Yields why the read-ahead stopped short, if it did:
        what it did not read is read one call at a time, as without it.
        """
        if self.private is None or self._bus is None:
            yield None
            return
        ahead = read_ahead(self.memory, self.private, timers, units, PIPELINE_TIMEOUT_S)
        self.calls += ahead.calls
        self.round_trips += ahead.round_trips
        self.reused += ahead.reused
        self._fresh = ahead.fresh
        try:
            yield ahead.error
        finally:
            self._fresh = set()

    def _call(self, path: bytes, iface: bytes, method: bytes, args: list[tuple[int, Any]]) -> Any:
        if self._bus is None:
            raise ConnectionLost("not connected")
        self.calls += 1
        self.round_trips += 1
        if self.calls % DISCARD_EVERY_CALLS == 0:
            self.discard_signals()
        try:
            return self._bus.call_method(DEST, path, iface, method, args).body
        except DBusBaseError as exc:
            raise wrap(exc) from exc

    def _get(self, path: bytes, iface: bytes, prop: bytes) -> Any:
        return self._call(path, PROPS, b"Get", [(_S, iface), (_S, prop)])

    def _get_all(self, path: bytes, iface: bytes) -> dict[bytes, Any]:
        body = self._call(path, PROPS, b"GetAll", [(_S, iface)])
        return dict(body)

    def list_units(self) -> dict[str, UnitSummary]:
        """Every unit the manager has loaded, with its states (one call)."""
        return unit_rows(self._call(ROOT, MANAGER, b"ListUnits", []))

    def list_units_by_names(self, names: list[str]) -> dict[str, UnitSummary]:
        """The states of these units (loading those not loaded), in one call."""
        if not names:
            return {}
        args: list[tuple[int, Any]] = [(ord("a"), b"s"), *((_S, n.encode()) for n in names), (-1, None)]
        return unit_rows(self._call(ROOT, MANAGER, b"ListUnitsByNames", args))

    def unit(self, name: str) -> UnitSummary:
        """Load (if needed) and summarize one unit by name."""
        path = self._call(ROOT, MANAGER, b"LoadUnit", [(_S, name.encode())])
        return self.summary(name, path)

    def summary(self, name: str, path: bytes) -> UnitSummary:
        """Fresh load/active/sub state of a unit whose object path is known."""
        load = decode.text(self._get(path, UNIT, b"LoadState"))
        active = decode.text(self._get(path, UNIT, b"ActiveState"))
        sub = decode.text(self._get(path, UNIT, b"SubState"))
        return UnitSummary(name, load, active, sub, path)

    def unit_file_state(self, path: bytes) -> str:
        """enabled / disabled / static / ... of a unit."""
        return decode.text(self._get(path, UNIT, b"UnitFileState"))

    def read_timer(self, unit: UnitSummary, services: dict[str, UnitSummary]) -> TimerObservation:
        """A timer and its service's last run (two Gets when neither changed since read)."""
        if unit.load_state != "loaded":
            return TimerObservation(unit.name, unit.load_state, unit.active_state, unit.sub_state)
        facts = self._timer_facts(unit.path)
        if not facts.service:  # reading its object loaded it again, as "not-found": it was unloaded since listed
            raise UnitGone(f"{unit.name} triggers no unit: gone since it was listed")
        service = self.read_service(services.get(facts.service) or self.unit(facts.service))
        return timer_observation(unit, facts, service)

    def _timer_facts(self, path: bytes) -> TimerFacts:
        return self._unless_unchanged(self.memory.timers, path, lambda stamp: self._read_timer_facts(path, stamp))

    def _read_timer_facts(self, path: bytes, stamp: int | None) -> TimerFacts:
        facts = timer_facts(self._get_all(path, TIMER), never_fired_since(stamp))
        if facts.last is None and stamp is None:  # one look, no stamp read: ask when it became active
            return replace(facts, active_enter=decode.realtime(self._get(path, UNIT, b"ActiveEnterTimestamp")))
        return facts

    def _unless_unchanged(self, memory: dict[bytes, tuple[int, T]], path: bytes, read: Callable[[int | None], T]) -> T:
        """``read(stamp)``, or what it gave last time if the unit has not changed state since (module docstring)."""
        if path in self._fresh:
            return memory[path][1]  # read ahead in this batch
        if not self.remember:
            return read(None)
        stamp = self._stamp(path)  # before the read: a change during it is seen at the next look
        known = memory.get(path)
        if known is not None and known[0] == stamp:
            self.reused += 1
            return known[1]
        value = read(stamp)
        memory[path] = (stamp, value)
        return value

    def _stamp(self, path: bytes) -> int:
        """When the unit last changed state (CLOCK_MONOTONIC, µs; 0 when it has not since it was loaded)."""
        return int(self._get(path, *STAMP) or 0)

    def read_service(self, unit: UnitSummary) -> ServiceRun:
        """The last (or current) run of a service: one Get when it has not changed since read, else ``RUN``'s.

        None of them when its stamp says it has not run (``NEVER_RAN``); its ``LIMIT`` once until ``forget``.
        """
        if unit.load_state != "loaded":
            return ServiceRun(unit.name, unit.active_state, "", None, None, None, None, None, unit.sub_state)
        run = self._unless_unchanged(self.memory.runs, unit.path, lambda stamp: self._read_run(unit, stamp))
        if (run.active_state, run.sub_state) == (unit.active_state, unit.sub_state):
            return run
        return replace(run, active_state=unit.active_state, sub_state=unit.sub_state)  # from this look's listing

    def _read_run(self, unit: UnitSummary, stamp: int | None) -> ServiceRun:
        values = NEVER_RAN if stamp == 0 else {prop: self._get(unit.path, iface, prop) for iface, prop in RUN}
        return service_run(unit.name, unit.active_state, unit.sub_state, values, self._runtime_max(unit.path))

    def _runtime_max(self, path: bytes) -> float | None:
        """The service's ``RuntimeMaxSec=``: a setting, so it changes only with a daemon-reload (``forget``)."""
        if self.remember and path in self.memory.limits:
            return self.memory.limits[path]
        limit = decode.seconds(self._get(path, *LIMIT))
        if self.remember:
            self.memory.limits[path] = limit
        return limit

    def read_daemon(self, unit: UnitSummary) -> DaemonObservation:
        """A long-running service's state, last result, restart policy and dependencies (one GetAll).

        The GetAll of every interface (an empty interface name) brings the Unit's
        dependency lists with the Service's properties: daemons are few, so their
        dependencies (both ways) are read here, and timers' jobs need no extra call.
        """
        if unit.load_state != "loaded":
            return DaemonObservation(unit.name, unit.load_state, unit.active_state, unit.sub_state)
        return daemon_observation(unit, self._get_all(unit.path, b""))

    def restart_unit(self, name: str) -> str:
        """Queue a restart job for the unit; returns the job path."""
        return self._job(b"RestartUnit", name)

    def stop_unit(self, name: str) -> str:
        """Queue a stop job for the unit (a hung run); returns the job path."""
        return self._job(b"StopUnit", name)

    def reload_unit(self, name: str) -> str:
        """Queue a reload job for the unit (its ExecReload=); returns the job path."""
        return self._job(b"ReloadUnit", name)

    def start_unit(self, name: str) -> str:
        """Queue a start job for the unit; returns the job path."""
        return self._job(b"StartUnit", name)

    def _job(self, method: bytes, name: str) -> str:
        return decode.text(self._call(ROOT, MANAGER, method, [(_S, name.encode()), (_S, b"replace")]))

    def reload_manager(self) -> None:
        """``daemon-reload``: the manager re-reads unit files and runs its generators (returns once done)."""
        self._call(ROOT, MANAGER, b"Reload", [])
