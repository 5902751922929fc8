"""Maintenance windows and silences: who is quiet, until when, and the moments they begin and end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from supervisor.core.silences import Silence, Window, boundaries, current, quiet, remove, silence_id

SUNDAY_3AM = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # a Sunday
WINDOW = Window(("backup-*", "db.service"), "Sun *-*-* 03:00:00", 7200.0, "UTC", "weekly upgrade")


def test_a_window_is_open_from_its_elapse_for_its_duration() -> None:
    assert WINDOW.open_until(SUNDAY_3AM - timedelta(seconds=1)) is None
    assert WINDOW.open_until(SUNDAY_3AM) == SUNDAY_3AM + timedelta(hours=2)
    assert WINDOW.open_until(SUNDAY_3AM + timedelta(minutes=119)) == SUNDAY_3AM + timedelta(hours=2)
    assert WINDOW.open_until(SUNDAY_3AM + timedelta(hours=2)) is None
    assert WINDOW.next_start(SUNDAY_3AM) == SUNDAY_3AM + timedelta(days=7)


def test_a_window_is_read_in_its_time_zone() -> None:
    paris = Window(("*",), "*-*-* 03:00:00", 3600.0, "Europe/Paris")
    assert paris.open_until(datetime(2026, 11, 22, 2, 30, tzinfo=UTC)) == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    assert paris.open_until(datetime(2026, 11, 22, 3, 30, tzinfo=UTC)) is None


def test_overlapping_occurrences_end_at_the_latest() -> None:
    hourly = Window(("*",), "*-*-* *:00:00", 5400.0)  # 90 minutes every hour
    at = datetime(2026, 11, 22, 10, 45, tzinfo=UTC)
    assert hourly.open_until(at) == datetime(2026, 11, 22, 11, 30, tzinfo=UTC)


def test_quiet_matches_globs_and_keeps_the_latest_end() -> None:
    now = SUNDAY_3AM + timedelta(minutes=10)
    long = Silence("s1", "backup-*", now + timedelta(hours=5), "migration", now)
    found = quiet(["backup-db.timer", "db.service", "web.service"], [long], [WINDOW], now)
    assert set(found) == {"backup-db.timer", "db.service"}
    assert found["backup-db.timer"].until == now + timedelta(hours=5)
    assert found["backup-db.timer"].reason == "migration"
    assert found["db.service"].until == SUNDAY_3AM + timedelta(hours=2)
    assert found["db.service"].reason == "weekly upgrade"


def test_expired_silences_are_neither_quiet_nor_kept() -> None:
    now = SUNDAY_3AM
    old = Silence("s1", "*", now, "", now - timedelta(hours=1))
    assert quiet(["a"], [old], [], now) == {}
    assert current([old], now) == ()


def test_boundaries_are_the_ends_and_the_next_starts() -> None:
    now = SUNDAY_3AM + timedelta(minutes=10)
    s = Silence("s1", "*", now + timedelta(minutes=30), "", now)
    assert sorted(boundaries([s], [WINDOW], now)) == [
        now + timedelta(minutes=30),
        SUNDAY_3AM + timedelta(hours=2),
        SUNDAY_3AM + timedelta(days=7),
    ]


def test_ids_are_distinct_and_removal_is_by_id() -> None:
    a = silence_id("*", SUNDAY_3AM)
    b = silence_id("*", SUNDAY_3AM, [a])
    assert a != b and len(a) == 10
    s1 = Silence(a, "*", SUNDAY_3AM, "", SUNDAY_3AM)
    s2 = Silence(b, "*", SUNDAY_3AM, "", SUNDAY_3AM)
    assert remove((s1, s2), a) == (s2,)
