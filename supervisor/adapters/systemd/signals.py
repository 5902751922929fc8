"""systemd's signals (Subscribe + PropertiesChanged/JobRemoved/...), read without blocking.

A second connection is used only for signals. Its fd is handed to the event loop
(``loop.add_reader``); on readable, ``drain()`` dispatches whatever sd-bus has
buffered, which never blocks.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from pystemd.dbusexc import DBusBaseError
from pystemd.dbuslib import DBus, path_decode

from supervisor.adapters.systemd import decode
from supervisor.adapters.systemd.connection import MANAGER, ROOT, open_connection, wrap

_UNIT_PREFIX = b"/org/freedesktop/systemd1/unit"
_IDLE_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class UnitChanged:
    """Something about this unit changed; re-read it."""

    unit: str


@dataclass(frozen=True, slots=True)
class UnitsReshaped:
    """A unit appeared or vanished (``unit`` set), or the manager reloaded (``unit`` None)."""

    why: str
    unit: str | None = None


SignalEvent = UnitChanged | UnitsReshaped


class SignalConnection:
    """A subscribed connection whose signals are decoded into events."""

    def __init__(self, user: bool = False, address: str | None = None) -> None:
        self.user = user
        self.address = address
        self._bus: DBus | None = None
        self._pending: list[SignalEvent] = []
        self._callbacks: list[Any] = []

    def open(self) -> int:
        """Connect, add matches and Subscribe(); returns the fd to watch. Blocking."""
        bus, _label = open_connection(self.user, self.address)
        try:
            props = b"org.freedesktop.DBus.Properties"
            bus.match_signal(None, None, props, b"PropertiesChanged", self._callback())
            for member in (b"JobRemoved", b"UnitNew", b"UnitRemoved", b"Reloading"):
                bus.match_signal(None, ROOT, MANAGER, member, self._callback())
            bus.call_method(b"org.freedesktop.systemd1", ROOT, MANAGER, b"Subscribe", [])
        except DBusBaseError as exc:
            bus.close()
            raise wrap(exc) from exc
        self._bus = bus
        return int(bus.get_fd())

    def _callback(self) -> Any:
        # pystemd stores metadata on the callback and keeps only a borrowed pointer
        # to it: each match needs its own plain function, kept alive here.
        def callback(msg: Any, error: object = None, userdata: object = None) -> None:
            self._on_signal(msg)

        self._callbacks.append(callback)
        return callback

    def close(self) -> None:
        """Drop the connection (systemd forgets the subscription with it)."""
        if self._bus is not None:
            with contextlib.suppress(DBusBaseError):
                self._bus.close()
            self._bus = None
            self._callbacks = []

    def drain(self) -> list[SignalEvent]:
        """Dispatch everything buffered; never blocks. ConnectionLost when the peer is gone."""
        if self._bus is None:
            return []
        idle = 0
        while idle < _IDLE_ROUNDS:
            before = len(self._pending)
            try:
                msg = self._bus.process()
            except DBusBaseError as exc:
                raise wrap(exc) from exc
            idle = idle + 1 if len(self._pending) == before and msg.is_empty() else 0
        events, self._pending = self._pending, []
        return events

    def _on_signal(self, msg: Any) -> None:
        # Called from inside process(); an exception here would be swallowed by pystemd.
        try:
            msg.process_reply(True)
            member = msg.headers.get("Member")
            path = msg.headers.get("Path") or b""
            body = msg.body
            if member == b"PropertiesChanged" and path.startswith(_UNIT_PREFIX + b"/"):
                self._pending.append(UnitChanged(decode.text(path_decode(path, _UNIT_PREFIX))))
            elif member == b"JobRemoved":
                self._pending.append(UnitChanged(decode.text(body[2])))
            elif member in (b"UnitNew", b"UnitRemoved"):
                name = decode.text(body[0])
                self._pending.append(UnitsReshaped(f"{decode.text(member)} {name}", name))
            elif member == b"Reloading":
                active = body[0] if isinstance(body, list | tuple) else body  # pystemd unwraps a lone argument
                if not active:
                    self._pending.append(UnitsReshaped("manager reloaded"))
        except Exception:  # noqa: BLE001 - malformed signal: resync rather than lose it
            self._pending.append(UnitsReshaped("undecodable signal"))
