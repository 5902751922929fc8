"""Budgets: explicit, or derived from the timer's own schedule."""

from __future__ import annotations

import pytest

from supervisor.core.budget import budget_for, format_duration
from supervisor.core.calendar import CalendarError, max_interval_s
from supervisor.core.model import MonotonicTrigger

from .factories import NOW, ago, policy, timer

DAY = 86400.0


@pytest.mark.parametrize(
    ("monotonic", "calendar", "factor", "seconds", "source"),
    [
        ((MonotonicTrigger("OnUnitActiveUSec", 600),), (), 2.5, 1500, "derived: 2.5 × OnUnitActiveSec=10m"),
        ((MonotonicTrigger("OnUnitInactiveUSec", 60),), (), 3, 180, "derived: 3 × OnUnitInactiveSec=1m"),
        (
            (MonotonicTrigger("OnBootUSec", 60), MonotonicTrigger("OnUnitActiveUSec", 7200)),
            (),
            2,
            14400,
            "OnUnitActiveSec=2h",
        ),
        ((), ("*-*-* 00:00:00",), 2.5, 2.5 * DAY, "derived: 2.5 × OnCalendar=*-*-* 00:00:00 every 1d"),
        ((), ("*-*-* *:00/15:00",), 2, 1800, "every 15m"),
        ((MonotonicTrigger("OnUnitActiveUSec", 7200),), ("*-*-* *:00:00",), 2, 7200, "every 1h"),
        ((MonotonicTrigger("OnActiveUSec", 60),), (), 2.5, None, "none: no recurring trigger"),
    ],
)
def test_it_derives_budgets(
    monotonic: tuple[MonotonicTrigger, ...],
    calendar: tuple[str, ...],
    factor: float,
    seconds: float | None,
    source: str,
) -> None:
    found = budget_for(policy(stale_factor=factor), timer(monotonic=monotonic, calendar=calendar), NOW)
    assert found.seconds == seconds
    assert source in found.source


def test_it_prefers_an_explicit_budget() -> None:
    found = budget_for(policy(max_stale_s=24000), timer(), NOW)
    assert (found.seconds, found.source) == (24000, "explicit")


def test_it_falls_back_to_next_minus_last_for_unreadable_specs() -> None:
    obs = timer(monotonic=(), calendar=("*-*~03 00:00:00",), last_trigger=ago(3600))
    found = budget_for(policy(stale_factor=2), obs, NOW)
    assert found.seconds == 2 * (3600 + 3000)
    assert "next−last" in found.source


@pytest.mark.parametrize(
    ("spec", "interval"),
    [
        ("*-*-* 00:00:00", DAY),
        ("daily", DAY),
        ("hourly", 3600),
        ("minutely", 60),
        ("weekly", 7 * DAY),
        ("Mon *-*-* 00:00:00", 7 * DAY),
        ("Mon..Fri *-*-* 09:00:00", 3 * DAY),  # the weekend gap is the widest
        ("Sat,Sun *-*-* 10:00:00", 6 * DAY),
        ("*-*-* 06,18:00:00", 12 * 3600),
        ("*-*-* 00/2:00:00", 2 * 3600),
        ("*-*-* 08..10:30:00", 22 * 3600),
        ("*-*-01 00:00:00", 31 * DAY),
        ("monthly", 31 * DAY),
        ("quarterly", 92 * DAY),
        ("*-01-01 00:00:00 UTC", 366 * DAY),  # 2027 → 2028 is a leap year
        ("*-*-* *:*:00", 60),
    ],
)
def test_it_measures_calendar_gaps(spec: str, interval: float) -> None:
    assert max_interval_s(spec, NOW.replace(tzinfo=None)) == interval


def test_it_says_none_for_a_date_that_comes_once() -> None:
    assert max_interval_s("2027-03-01 10:00:00", NOW.replace(tzinfo=None)) is None


@pytest.mark.parametrize("spec", ["*-*~01 00:00:00", "every tuesday", "*-13-01 00:00:00", "*-*-* 25:00:00"])
def test_it_rejects_specs_it_cannot_read(spec: str) -> None:
    with pytest.raises(CalendarError):
        max_interval_s(spec, NOW.replace(tzinfo=None))


@pytest.mark.parametrize(("seconds", "text"), [(5, "5s"), (90, "1m30s"), (3600, "1h"), (93784, "1d2h"), (0.4, "0.4s")])
def test_it_formats_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
