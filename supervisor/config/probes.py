"""The registry's probes (``units: {x.service: {probe: ...}}``, ``checks:``) and push heartbeats (``pings:``)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from supervisor.config.durations import Duration
from supervisor.config.schema import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from supervisor.core import calendar, cron
from supervisor.core.model import OnDown, PingSchedule, ProbeKind, ProbeSpec
from supervisor.core.probes import split_host_port

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
_UNIT_SUFFIXES = (".service", ".timer", ".socket", ".target", ".mount", ".path", ".slice", ".scope", ".device")
_STATUS = re.compile(r"^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def check_item_name(name: str) -> str:
    """A check's or ping's name: letters, digits, ``_.@-``; never a systemd unit's name."""
    if not _NAME.match(name):
        raise ValueError(f"invalid name {name!r}: 1-100 letters, digits, '_', '.', '@', '-', starting alphanumeric")
    if name.endswith(_UNIT_SUFFIXES):
        raise ValueError(f"{name!r} looks like a systemd unit: list units under units:, name checks and pings freely")
    return name


def status_ranges(text: str) -> tuple[tuple[int, int], ...]:
    """``"200-299,304"`` as inclusive ranges; ValueError for anything else."""
    out: list[tuple[int, int]] = []
    for part in str(text).split(","):
        if not part.strip():
            continue
        match = _STATUS.match(part)
        if not match:
            raise ValueError(f"invalid HTTP status range {part.strip()!r}: use e.g. 200-399 or 200,204")
        lo = int(match.group(1))
        hi = int(match.group(2) or lo)
        if not 100 <= lo <= hi <= 599:
            raise ValueError(f"invalid HTTP status range {part.strip()!r}: codes are 100-599, low to high")
        out.append((lo, hi))
    return tuple(out)


def check_url(url: str) -> str:
    """An http(s) URL with a host (and a valid port, when given)."""
    if any(c.isspace() for c in url) or len(url) > 2048:
        raise ValueError("a URL has no whitespace and at most 2048 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"a URL starts with http:// or https://, got {url[:40]!r}")
    if not parts.hostname:
        raise ValueError(f"no host in {url[:80]!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"invalid port in {url[:80]!r}") from None
    if port == 0:
        raise ValueError(f"port 0 in {url[:80]!r} is not between 1 and 65535")
    return url


class _ProbeFields(_Model):
    http: str | None = None
    tcp: str | None = None
    method: Literal["GET", "HEAD"] = "GET"
    expect: str = "200-399"
    degraded_status: str = ""  # HTTP statuses that mean "degraded", e.g. "429,503"
    degraded_ms: float | None = Field(1000.0, gt=0, le=3_600_000)
    timeout: Duration | None = Field(None, gt=0, le=300)  # default: 5s, or ``every`` when shorter
    every: Duration = Field(30.0, ge=1, le=86400)
    confirm: int = Field(2, ge=1, le=100)
    recover: int = Field(1, ge=1, le=100)

    @field_validator("http")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @field_validator("tcp")
    @classmethod
    def _tcp(cls, value: str | None) -> str | None:
        if value is not None:
            split_host_port(value)
        return value

    @field_validator("expect", "degraded_status")
    @classmethod
    def _ranges(cls, value: str) -> str:
        status_ranges(value)
        return value

    @model_validator(mode="after")
    def _one_target(self) -> _ProbeFields:
        if (self.http is None) == (self.tcp is None):
            raise ValueError("give exactly one of http: URL or tcp: HOST:PORT")
        if not status_ranges(self.expect):
            raise ValueError("expect: list at least one HTTP status, e.g. 200-399")
        if self.timeout is not None and self.timeout > self.every:
            raise ValueError(f"timeout ({self.timeout:g}s) must not be longer than every ({self.every:g}s)")
        return self

    def spec(self, on_down: OnDown) -> ProbeSpec:
        """The core's view of this probe."""
        return ProbeSpec(
            kind=ProbeKind.HTTP if self.http else ProbeKind.TCP,
            target=self.http or self.tcp or "",
            expect=status_ranges(self.expect),
            degraded_status=status_ranges(self.degraded_status),
            degraded_ms=self.degraded_ms,
            timeout_s=self.timeout if self.timeout is not None else min(5.0, self.every),
            every_s=self.every,
            confirm=self.confirm,
            recover=self.recover,
            on_down=on_down,
            method=self.method,
        )


class ProbeConfig(_ProbeFields):
    """``probe:`` of a daemon: ``{http: URL, expect: 200-399, degraded_ms: 1000, timeout: 5s, every: 30s}``."""

    on_down: OnDown = OnDown.RESTART


class CheckSpec(_ProbeFields):
    """An entry of ``checks:``: a probe with no unit (nothing to restart: it is only alerted)."""

    critical: bool = False
    depends_on: tuple[str, ...] = ()  # items whose outage explains this one's (core.deps)


def check_zone(value: str) -> str:
    """An IANA time zone name zoneinfo knows."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Paris") from None
    return value


def host_timezone() -> str:
    """The host's IANA time zone (``TZ``, else ``/etc/localtime``'s target), UTC when it cannot be told."""
    name = os.environ.get("TZ", "").lstrip(":")
    if not name:
        try:
            target = str(Path("/etc/localtime").resolve())
        except OSError:
            target = ""
        name = target.partition("/zoneinfo/")[2]
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name or "UTC"


def check_schedule(value: str) -> str:
    """A cron or ``OnCalendar=`` schedule this code can compute (kept as written; see ``calendar_of``)."""
    calendar_of(value)
    return value


Schedule = Annotated[str, Field(max_length=200), AfterValidator(check_schedule)]
Zone = Annotated[str, Field(max_length=64), AfterValidator(check_zone)]


class PingSpec(_Model):
    """An entry of ``pings:``: ``{period: 1h}`` or ``{schedule: "0 3 * * *"}``, ``grace: 15m``."""

    period: Duration | None = Field(None, ge=1)
    schedule: Schedule | None = None
    timezone: Zone | None = None
    grace: Duration = Field(900.0, ge=0)
    max_runtime: Duration | None = Field(None, gt=0)
    min_runtime: Duration | None = Field(None, gt=0)
    critical: bool = False
    depends_on: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_schedule(self) -> PingSpec:
        if (self.period is None) == (self.schedule is None):
            raise ValueError("give exactly one of period: DURATION or schedule: CRON-OR-ONCALENDAR")
        if self.min_runtime is not None and self.max_runtime is not None and self.min_runtime >= self.max_runtime:
            raise ValueError("min_runtime must be shorter than max_runtime")
        return self

    def schedule_of(self) -> PingSchedule:
        """The core's view of when this heartbeat is expected."""
        return PingSchedule(
            period_s=self.period,
            calendar=calendar_of(self.schedule) if self.schedule else None,
            timezone=self.timezone or host_timezone(),
            grace_s=self.grace,
        )


def calendar_of(schedule: str) -> str:
    """A cron spec translated, or an ``OnCalendar=`` spec checked; ValueError naming what is wrong."""
    try:
        if cron.is_cron(schedule):
            return cron.to_calendar(schedule)
        return calendar.check(schedule)
    except cron.CronError as exc:
        raise ValueError(f"invalid cron schedule {schedule!r}: {exc}") from None
    except calendar.CalendarError:
        raise ValueError(
            f"invalid schedule {schedule!r}: use cron (e.g. '0 3 * * *', '@daily') or OnCalendar= "
            "(e.g. 'Mon..Fri *-*-* 09:00')"
        ) from None
