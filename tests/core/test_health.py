"""The overall health, decided in one place (table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supervisor.core.decide import decide
from supervisor.core.health import Health, counts_as_critical, overall
from supervisor.core.model import Status
from supervisor.core.report import report
from supervisor.core.state import State

from .factories import NOW, policy, timer

S = Status


@pytest.mark.parametrize(
    ("items", "rejected", "expected"),
    [
        ([], False, Health.OK),
        ([(S.OK, True), (S.OK, False)], False, Health.OK),
        ([(S.PAUSED, True), (S.OK, False)], False, Health.OK),  # a paused item is never a problem
        ([(S.STALE, False)], False, Health.DEGRADED),
        ([(S.HUNG, False), (S.OK, True)], False, Health.DEGRADED),
        ([(S.FAILED, True)], False, Health.DOWN),
        ([(S.MISSING, True), (S.OK, False)], False, Health.DOWN),
        ([(S.OK, True)], True, Health.DEGRADED),  # the registry on disk was rejected
        ([(S.DOWN, True)], True, Health.DOWN),
        ([(S.DEGRADED, True)], False, Health.DEGRADED),  # slow, not broken: never a 503, even when critical
        ([(S.DEGRADED, True), (S.DOWN, True)], False, Health.DOWN),
        ([(s, False) for s in Status if s.is_problem], False, Health.DEGRADED),
        ([(s, True) for s in Status if s.is_problem], False, Health.DOWN),
    ],
)
def test_overall(items: list[tuple[Status, bool]], rejected: bool, expected: Health) -> None:
    assert overall(items, config_rejected=rejected) is expected


def test_check_agrees_with_health_about_a_paused_item() -> None:
    pol = {"job.timer": policy(critical=True)}
    d = decide(pol, {"job.timer": timer(active_state="inactive")}, State(paused={"job.timer": None}), NOW)
    doc = report(pol, {"job.timer": timer()}, d.assessments, d.state, NOW)
    assert (doc["status"], doc["health"]) == ("ok", "ok")


def test_a_silenced_critical_problem_is_degraded_not_down() -> None:
    until = datetime(2026, 11, 22, tzinfo=UTC)
    assert (
        counts_as_critical(True, None) and not counts_as_critical(True, until) and not counts_as_critical(False, None)
    )
    assert overall([(Status.FAILED, counts_as_critical(True, until))]) is Health.DEGRADED
    assert overall([(Status.BLOCKED, counts_as_critical(True, None))]) is Health.DOWN  # blocked is broken too
