"""What the web layer needs from the daemon (a Protocol: the daemon is one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from supervisor.adapters.history import History
from supervisor.config.registry import Registry
from supervisor.core.pings import PingEvent
from supervisor.core.state import State
from supervisor.runtime.alerting import AlertService
from supervisor.runtime.control import Control
from supervisor.runtime.view import View


class Recording(Protocol):
    history: History


class Backend(Protocol):
    """The daemon, as the HTTP layer sees it."""

    registry: Registry
    view: View | None
    state: State
    control: Control
    alerts: AlertService | None

    @property
    def recorder(self) -> Recording: ...

    def request_refresh(self) -> None: ...

    def self_report(self) -> Mapping[str, Any]: ...

    def ping(self, event: PingEvent) -> None: ...

    def probe_report(self, name: str) -> Mapping[str, Any] | None: ...

    def probe_histograms(self) -> Mapping[str, tuple[Sequence[int], float]]: ...
