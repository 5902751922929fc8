"""The host's overall health, decided once: for /health and its 503, the view, `check`'s exit code, /metrics."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from supervisor.core.model import Status


class Health(StrEnum):
    """The words of /health's ``status``."""

    OK = "ok"
    DEGRADED = "degraded"  # something needs attention
    DOWN = "down"  # a critical item has a problem: /health answers 503


def counts_as_critical(critical: bool, silenced_until: object) -> bool:
    """A critical item in a silence or a maintenance window does not make the host ``down`` (no 503 pages anyone
    about what was silenced); its problem still makes it ``degraded``."""
    return critical and silenced_until is None


def overall(items: Iterable[tuple[Status, bool]], *, config_rejected: bool = False) -> Health:
    """From every item's (status, critical): down when a critical item has a problem, degraded for any other
    problem (a degraded item, critical or not; a registry on disk that was rejected), else ok. A paused item
    is never a problem."""
    health = Health.OK
    for status, critical in items:
        if status is Status.DEGRADED:  # slow, not broken: never a 503, even for a critical item
            health = Health.DEGRADED
        elif status.is_problem:
            if critical:
                return Health.DOWN
            health = Health.DEGRADED
    if config_rejected and health is Health.OK:
        return Health.DEGRADED
    return health


def critical_problems(items: Iterable[tuple[str, Status, bool, str, bool]]) -> list[str]:
    """From (name, status, critical, reason, silenced): ``name (status): reason`` of each critical item that makes
    the host ``down`` (a degraded one does not), leaving out what is silenced (nobody is to be told about it)."""
    return [
        f"{name} ({status.value}): {reason}"
        for name, status, critical, reason, silenced in sorted(items)
        if critical and not silenced and status.is_problem and status is not Status.DEGRADED
    ]
