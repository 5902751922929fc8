"""Plain data the core reasons about: statuses, observations and policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """An item's health. The words are part of the API."""

    OK = "ok"
    STALE = "stale"
    NEVER_TRIGGERED = "never-triggered"
    DEAD = "dead"
    FAILED = "failed"
    MISSING = "missing"
    DOWN = "down"
    HUNG = "hung"
    DEGRADED = "degraded"  # a probe answers, but slowly or with a status listed as degraded
    BLOCKED = "blocked"  # a problem caused by a broken dependency: the root is announced, not this
    PAUSED = "paused"

    @property
    def is_problem(self) -> bool:
        """Whether this status needs attention (a paused item never does)."""
        return self not in (Status.OK, Status.PAUSED)


class Kind(StrEnum):
    """What sort of item is supervised."""

    TIMER = "timer"
    DAEMON = "daemon"
    CHECK = "check"  # a probe with no unit (an external site, a database port)
    PING = "ping"  # a job elsewhere that pushes heartbeats


class OnStale(StrEnum):
    """What to do when an item goes bad."""

    RESTART = "restart"
    ALERT = "alert"


class OnDown(StrEnum):
    """What to do when a daemon's probe finds it down."""

    RESTART = "restart"
    ALERT = "alert"


class OnHung(StrEnum):
    """What to do with a run that outlived its ``max_runtime``."""

    ALERT = "alert"
    STOP = "stop"


class Anomalies(StrEnum):
    """Whether runs unusually slow or fast for the item are only shown, or also alerted."""

    SHOW = "show"
    ALERT = "alert"


class Trigger(StrEnum):
    """What started a run."""

    TIMER = "timer"
    MANUAL = "manual"  # "Run now", the API, or `systemctl start` of the service
    RESTART = "restart"  # the timer fired because the supervisor restarted it
    PING = "ping"  # a push heartbeat reported it


#: Statuses that a restart of the unit can cure.
RESTARTABLE = frozenset({Status.STALE, Status.NEVER_TRIGGERED, Status.DEAD, Status.DOWN})


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """At most ``max`` attempts per rolling ``per_s`` window, ``backoff_s`` apart.

    ``after_s``: a dead or down item is left alone this long before the first attempt
    (and before it is alerted when it was stopped cleanly): a deliberate stop, a
    package upgrade or a daemon-reload storm is not raced.
    """

    max: int = 3
    per_s: float = 3600.0
    backoff_s: float = 60.0
    after_s: float = 60.0


class ProbeKind(StrEnum):
    """How a probe looks at its target."""

    HTTP = "http"
    TCP = "tcp"


@dataclass(frozen=True, slots=True)
class ProbeSpec:
    """An HTTP or TCP probe: its target, what counts as ok or degraded, and how often it runs.

    ``expect`` and ``degraded_status`` are inclusive ranges of HTTP status codes.
    ``confirm`` consecutive worse results change the verdict for the worse, ``recover``
    consecutive better ones for the better.
    """

    kind: ProbeKind
    target: str  # a URL (http) or "host:port" (tcp)
    expect: tuple[tuple[int, int], ...] = ((200, 399),)
    degraded_status: tuple[tuple[int, int], ...] = ()
    degraded_ms: float | None = 1000.0
    timeout_s: float = 5.0
    every_s: float = 30.0
    confirm: int = 2
    recover: int = 1
    on_down: OnDown = OnDown.RESTART
    method: str = "GET"


@dataclass(frozen=True, slots=True)
class PingSchedule:
    """When a push heartbeat is expected: every ``period_s``, or at the elapses of ``calendar``.

    ``calendar`` is a normalized ``OnCalendar=`` spec (cron specs are translated at
    the edge), read in ``timezone``. A run is late once ``grace_s`` has passed.
    """

    period_s: float | None = None
    calendar: str | None = None
    timezone: str = "UTC"
    grace_s: float = 900.0


@dataclass(frozen=True, slots=True)
class ItemPolicy:
    """How one unit is supervised, as decided by the registry (or discovery)."""

    name: str
    kind: Kind
    max_stale_s: float | None = None
    stale_factor: float = 2.5
    on_stale: OnStale = OnStale.RESTART
    critical: bool = False
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    discovered: bool = False
    max_runtime_s: float | None = None
    min_runtime_s: float | None = None
    on_hung: OnHung = OnHung.ALERT
    anomalies: Anomalies = Anomalies.SHOW
    output_lines: int = 20
    probe: ProbeSpec | None = None  # a daemon's health probe, or the whole of a check
    ping: PingSchedule | None = None  # a push heartbeat's schedule
    depends_on: tuple[str, ...] = ()  # items named in the registry's ``depends_on`` (systemd's own come observed)
    keep_output: bool = False  # keep every run's journal excerpt, not only failed ones' (the registry's HTTP jobs)


@dataclass(frozen=True, slots=True)
class ServiceRun:
    """The last (or current) run of a timer's service, as systemd reports it.

    systemd keeps only one run: when the next one starts, ``result`` goes back to
    ``success`` and the exit fields are cleared. The core therefore remembers the
    last *finished* run itself (``RunMemory``) and never judges from a run in progress.
    """

    name: str
    active_state: str
    result: str
    exit_code: str | None  # "exited" | "killed" | "dumped" | None (never ran)
    exit_status: int | None
    started_at: datetime | None
    exited_at: datetime | None
    invocation_id: str | None
    sub_state: str = ""
    runtime_max_s: float | None = None  # the service's own RuntimeMaxSec=, when set

    @property
    def running(self) -> bool:
        """Whether the service is in the middle of a run (``RemainAfterExit=`` leaves it active, not running)."""
        if self.active_state == "active":
            return self.sub_state != "exited"
        return self.active_state in {"activating", "deactivating", "reloading"}

    @property
    def has_run(self) -> bool:
        """Whether the service has ever been started."""
        return self.started_at is not None

    @property
    def duration_s(self) -> float | None:
        """Duration of the last completed run."""
        if self.started_at is None or self.exited_at is None or self.exited_at < self.started_at:
            return None
        return (self.exited_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class MonotonicTrigger:
    """One ``On*Sec=`` line of a timer: its base and value."""

    base: str  # e.g. "OnUnitActiveUSec"
    value_s: float

    @property
    def recurring(self) -> bool:
        """Whether this trigger repeats (OnUnitActiveSec/OnUnitInactiveSec)."""
        return self.base in {"OnUnitActiveUSec", "OnUnitInactiveUSec"}

    @property
    def setting(self) -> str:
        """The unit-file setting name, e.g. ``OnUnitActiveSec``."""
        return self.base.removesuffix("USec") + "Sec"


@dataclass(frozen=True, slots=True)
class TimerObservation:
    """What systemd says about one timer (and its service) at one moment."""

    name: str
    load_state: str
    active_state: str
    sub_state: str = ""
    unit_file_state: str = ""
    last_trigger: datetime | None = None
    next_elapse: datetime | None = None
    active_enter: datetime | None = None
    monotonic: tuple[MonotonicTrigger, ...] = ()
    calendar: tuple[str, ...] = ()
    service: ServiceRun | None = None

    @property
    def loaded(self) -> bool:
        """Whether systemd has the unit loaded from a unit file."""
        return self.load_state == "loaded"

    @property
    def recurring(self) -> bool:
        """Whether the timer has any trigger that repeats."""
        return bool(self.calendar) or any(t.recurring for t in self.monotonic)


@dataclass(frozen=True, slots=True)
class DaemonObservation:
    """What systemd says about one long-running service, and its own restart policy."""

    name: str
    load_state: str
    active_state: str
    sub_state: str = ""
    result: str = ""
    restart: str = "no"  # the service's Restart= ("no", "always", "on-failure", ...)
    n_restarts: int = 0  # NRestarts: how often systemd restarted it automatically
    requires: tuple[str, ...] = ()  # what it needs: its Requires=/BindsTo=/Requisite=/PartOf=
    required_by: tuple[str, ...] = ()  # who needs it: RequiredBy/BoundBy/RequisiteOf/ConsistsOf (e.g. jobs' services)

    @property
    def systemd_restarting(self) -> bool:
        """Whether systemd itself is bringing the service back (it waits out RestartSec= or starts it)."""
        return self.sub_state == "auto-restart" or (
            self.active_state == "activating" and self.restart != "no" and self.result not in ("", "success")
        )

    @property
    def loaded(self) -> bool:
        """Whether systemd has the unit loaded from a unit file."""
        return self.load_state == "loaded"


Observation = TimerObservation | DaemonObservation
