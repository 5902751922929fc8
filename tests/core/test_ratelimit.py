"""The rolling restart window and its edges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supervisor.core import ratelimit
from supervisor.core.model import RestartPolicy

from .factories import NOW, ago

P = RestartPolicy(max=3, per_s=3600, backoff_s=60)


@pytest.mark.parametrize(
    ("attempts", "in_window"),
    [
        ((), 0),
        ((ago(10),), 1),
        ((ago(3599.999),), 1),
        ((ago(3600),), 0),  # exactly one window old: no longer counts
        ((ago(7200), ago(100), ago(50)), 2),
    ],
)
def test_it_counts_attempts_in_the_rolling_window(attempts: tuple, in_window: int) -> None:
    assert len(ratelimit.in_window(attempts, P, NOW)) == in_window


@pytest.mark.parametrize(
    ("attempts", "allowed_at"),
    [
        ((), NOW),
        ((ago(61),), NOW),
        ((ago(60),), NOW),
        ((ago(10),), NOW + timedelta(seconds=50)),  # backoff after the last attempt
        ((ago(3000), ago(2000), ago(1000)), NOW + timedelta(seconds=600)),  # oldest leaves the window
        ((ago(3600), ago(2000), ago(1000)), NOW),  # oldest just left
    ],
)
def test_it_says_when_the_next_attempt_is_allowed(attempts: tuple, allowed_at: object) -> None:
    assert ratelimit.next_allowed(attempts, P, NOW) == allowed_at


def test_it_is_exhausted_at_max() -> None:
    assert not ratelimit.exhausted((ago(30), ago(20)), P, NOW)
    assert ratelimit.exhausted((ago(30), ago(20), ago(10)), P, NOW)
