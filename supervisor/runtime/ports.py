"""The two narrow ports the HTTP layer is given, and all it may import from the runtime.

``ReadPort``: what the supervisor publishes (the view of the last decision, the state,
the history, the outbox). ``CommandPort``: what a caller may ask for (run now, restart,
pause, resume, silences, push heartbeats), each audited. The process is assembled in
``missionctl run`` (``cli/main.py``), which hands the daemon a server factory: the
runtime never imports the web layer, and the web layer sees only these ports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from supervisor.adapters.history import History
from supervisor.adapters.outbox import Outbox
from supervisor.config.registry import Registry
from supervisor.core.pings import PingEvent
from supervisor.core.silences import Silence
from supervisor.core.state import State
from supervisor.core.times import iso
from supervisor.runtime.view import View, health_doc

__all__ = [
    "Actor",
    "BadSilence",
    "CommandPort",
    "ControlFailed",
    "NotApplicable",
    "ReadPort",
    "Server",
    "UnknownItem",
    "View",
    "health_doc",
    "silence_report",
]


class UnknownItem(LookupError):
    """The item is not supervised."""


class ControlFailed(RuntimeError):
    """systemd refused or could not be reached."""


class BadSilence(ValueError):
    """A silence that would cover nothing, or that does not exist."""


class NotApplicable(Exception):
    """The action means nothing for this kind of item (a push heartbeat has no unit to start)."""


@dataclass(frozen=True)
class Actor:
    """Who asked: the token's name and the remote address."""

    token: str
    remote: str

    def __str__(self) -> str:
        return f"{self.token}@{self.remote}"


def silence_report(s: Silence) -> dict[str, Any]:
    """A silence as the API and the CLI show it."""
    return {
        "id": s.id,
        "pattern": s.pattern,
        "until": iso(s.until),
        "reason": s.reason,
        "created_at": iso(s.created_at),
        "created_by": s.created_by,
    }


class ReadPort(Protocol):
    """What the HTTP layer reads: published, never computed by a request, never a D-Bus call."""

    @property
    def registry(self) -> Registry: ...

    @property
    def view(self) -> View | None: ...

    @property
    def state(self) -> State: ...

    @property
    def history(self) -> History: ...

    @property
    def outbox(self) -> Outbox | None: ...

    def request_refresh(self) -> None: ...

    def self_report(self) -> Mapping[str, Any]: ...

    def probe_report(self, name: str) -> Mapping[str, Any] | None: ...

    def probe_histograms(self) -> Mapping[str, tuple[Sequence[int], float]]: ...


class CommandPort(Protocol):
    """What a caller may ask for; every call but ``ping`` is audited."""

    async def run_now(self, item: str, actor: Actor) -> dict[str, Any]: ...

    async def restart(self, item: str, actor: Actor) -> dict[str, Any]: ...

    async def pause(self, item: str, until: datetime | None, actor: Actor) -> dict[str, Any]: ...

    async def resume(self, item: str, actor: Actor) -> dict[str, Any]: ...

    async def silence(self, pattern: str, until: datetime, reason: str, actor: Actor) -> dict[str, Any]: ...

    async def unsilence(self, silence_id: str, actor: Actor) -> dict[str, Any]: ...

    async def refused(
        self, remote: str, action: str, item: str | None, result: str, detail: str = ""
    ) -> float | None: ...

    def ping(self, event: PingEvent) -> None: ...


class Server(Protocol):
    """The HTTP service as the daemon drives it (built by whoever assembles the process)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def refresh(self, registry: Registry) -> None: ...
