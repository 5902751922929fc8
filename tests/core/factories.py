"""Plain-data builders for core tests."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from supervisor.core.model import (
    DaemonObservation,
    ItemPolicy,
    Kind,
    MonotonicTrigger,
    OnStale,
    RestartPolicy,
    ServiceRun,
    TimerObservation,
)

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
HOUR = MonotonicTrigger("OnUnitActiveUSec", 3600.0)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def run(
    result: str = "success",
    status: int = 0,
    active: str = "inactive",
    ran: bool = True,
    inv: str | None = None,
    started: float | None = None,
    took: float = 10,
) -> ServiceRun:
    """A service's run as systemd shows it; each distinct outcome is a distinct invocation unless ``inv`` says.

    Distinct invocations start at distinct times (by default 60 to 70 s ago, from the id), as in systemd.
    """
    running = active != "inactive" and active != "failed"
    key = inv or f"{result}-{status}-{active}".encode().hex()[:32].ljust(32, "0")
    if started is None:
        started = 60 + zlib.crc32(key.encode()) % 1000 / 100
    return ServiceRun(
        name="job.service",
        active_state=active,
        result=result,
        exit_code="exited" if ran and not running else None,
        exit_status=status if ran else None,
        started_at=ago(started) if ran else None,
        exited_at=ago(started - took) if ran and not running else None,
        invocation_id=key if ran else None,
    )


def timer(**kw: object) -> TimerObservation:
    base: dict[str, object] = dict(
        name="job.timer",
        load_state="loaded",
        active_state="active",
        sub_state="waiting",
        last_trigger=ago(600),
        next_elapse=NOW + timedelta(seconds=3000),
        active_enter=ago(86400),
        monotonic=(HOUR,),
        service=run(),
    )
    base.update(kw)
    return TimerObservation(**base)  # type: ignore[arg-type]


def daemon(
    active: str = "active", sub: str = "running", load: str = "loaded", result: str = "success"
) -> DaemonObservation:
    return DaemonObservation("gw.service", load, active, sub, result)


def policy(name: str = "job.timer", **kw: object) -> ItemPolicy:
    base: dict[str, object] = dict(
        name=name,
        kind=Kind.TIMER if name.endswith(".timer") else Kind.DAEMON,
        restart=RestartPolicy(max=3, per_s=3600, backoff_s=60),
        on_stale=OnStale.RESTART,
    )
    base.update(kw)
    return ItemPolicy(**base)  # type: ignore[arg-type]
