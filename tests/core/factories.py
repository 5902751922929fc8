"""Plain-data builders for core tests."""

from __future__ import annotations

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


def run(result: str = "success", status: int = 0, active: str = "inactive", ran: bool = True) -> ServiceRun:
    return ServiceRun(
        name="job.service",
        active_state=active,
        result=result,
        exit_code="exited" if ran else None,
        exit_status=status if ran else None,
        started_at=ago(60) if ran else None,
        exited_at=ago(50) if ran and active == "inactive" else None,
        invocation_id="ab" * 16 if ran else None,
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
