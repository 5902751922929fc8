"""Intervals of systemd ``OnCalendar=`` specs, in their normalized form.

systemd reports calendar specs normalized, e.g. ``*-*-* 00:00:00`` for ``daily``
or ``Mon..Fri *-*-* 09:00:00``. The interval used for a derived budget is the
*largest* gap between consecutive elapses over the coming year: the longest a
healthy timer can legitimately go without firing. Daylight-saving shifts are
ignored (they move an elapse by an hour at most).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_SHORTHANDS = {
    "minutely": "*-*-* *:*:00",
    "hourly": "*-*-* *:00:00",
    "daily": "*-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00",
    "weekly": "Mon *-*-* 00:00:00",
    "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00",
    "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00",
}
_MAX_ELAPSES = 2000
_HORIZON_DAYS = 800
_NEXT_HORIZON_DAYS = 8 * 366 + 2  # a next elapse as rare as a leap day is found


class CalendarError(ValueError):
    """The spec is not in a form this module understands."""


def _field(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 0
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(float(step_text))
            if step <= 0:
                raise CalendarError(f"bad repetition in {text!r}")
        if part == "*":
            start, end = lo, hi
        elif ".." in part:
            a, b = part.split("..", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(part, names)
            end = hi if step else start
        if start < lo or end > hi or start > end:
            raise CalendarError(f"value out of range in {text!r}")
        values.update(range(start, end + 1, step or 1))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text[:3].lower() in names:
        return names[text[:3].lower()]
    return int(float(text))


def _parse(
    spec: str,
) -> tuple[
    frozenset[int] | None,
    frozenset[int],
    frozenset[int],
    frozenset[int],
    frozenset[int],
    frozenset[int],
    frozenset[int],
]:
    text = _SHORTHANDS.get(spec.strip().lower(), spec.strip())
    tokens = text.split()
    weekdays = frozenset(range(7))
    if tokens and re.match(r"^[A-Za-z]{3}", tokens[0]) and "-" not in tokens[0]:
        weekdays = _field(tokens.pop(0), 0, 6, _WEEKDAYS)
    if len(tokens) >= 3 or (len(tokens) == 2 and ":" not in tokens[1]):
        tokens = tokens[:2]  # a trailing time zone: intervals do not depend on it
    if len(tokens) == 1:  # a date or a time alone: systemd fills in midnight, or every day
        tokens = [tokens[0], "00:00:00"] if "-" in tokens[0] else ["*-*-*", tokens[0]]
    if len(tokens) != 2 or "~" in tokens[0]:
        raise CalendarError(f"unsupported calendar spec {spec!r}")
    date_part, time_part = tokens
    y, mo, d = date_part.split("-")
    hms = time_part.split(":")
    if len(hms) == 2:
        hms.append("00")
    h, mi, s = hms
    years = None if y == "*" else _field(y, 1970, 2199)
    return (years, _field(mo, 1, 12), _field(d, 1, 31), weekdays, _field(h, 0, 23), _field(mi, 0, 59), _field(s, 0, 59))


def max_interval_s(spec: str, start: datetime) -> float | None:
    """Largest gap in seconds between consecutive elapses of ``spec`` after ``start``.

    None when the spec elapses fewer than twice in the horizon (a one-shot date).
    Raises CalendarError for a spec it cannot read.
    """
    return _max_interval(spec, start.date())


@lru_cache(maxsize=4096)
def _max_interval(spec: str, first_day: date) -> float | None:
    # pure and deterministic, so memoized: every sweep re-derives the same budgets
    try:
        years, months, days, weekdays, hours, minutes, seconds = _parse(spec)
    except (ValueError, IndexError) as exc:
        raise CalendarError(f"unsupported calendar spec {spec!r}") from exc
    times = [(h, m, s) for h in sorted(hours) for m in sorted(minutes) for s in sorted(seconds)]
    every_day = years is None and len(months) == 12 and len(days) == 31
    # a spec that matches every day repeats daily, a weekday-only one weekly:
    # a short horizon sees every gap; dates need up to two years (leap days)
    horizon = _HORIZON_DAYS
    if every_day:
        horizon = 2 if len(weekdays) == 7 else 15
    previous: datetime | None = None
    widest: float | None = None
    count = 0
    day = first_day
    for _ in range(horizon):
        if _day_matches(day, years, months, days, weekdays):
            for h, m, s in times:
                moment = datetime(day.year, day.month, day.day, h, m, s)
                if previous is not None:
                    gap = (moment - previous).total_seconds()
                    widest = gap if widest is None else max(widest, gap)
                previous = moment
                count += 1
                if count >= _MAX_ELAPSES:
                    return widest
        day += timedelta(days=1)
    return widest


def _day_matches(
    day: date, years: frozenset[int] | None, months: frozenset[int], days: frozenset[int], weekdays: frozenset[int]
) -> bool:
    return (
        (years is None or day.year in years) and day.month in months and day.day in days and day.weekday() in weekdays
    )


def check(spec: str) -> str:
    """The spec, if this module can read it; CalendarError otherwise (for validation at the edge)."""
    try:
        _parse(spec)
    except (ValueError, IndexError) as exc:
        raise CalendarError(f"unsupported calendar spec {spec!r}") from exc
    return spec


def next_elapse(spec: str, after: datetime, zone: tzinfo) -> datetime | None:
    """The first elapse of ``spec`` strictly after ``after`` (UTC-aware), the spec read in ``zone``.

    None when there is none within the horizon. A wall-clock time skipped by a
    daylight-saving change elapses an hour later, as zoneinfo resolves it.
    """
    try:
        years, months, days, weekdays, hours, minutes, seconds = _parse(spec)
    except (ValueError, IndexError) as exc:
        raise CalendarError(f"unsupported calendar spec {spec!r}") from exc
    times = [(h, m, s) for h in sorted(hours) for m in sorted(minutes) for s in sorted(seconds)]
    local = after.astimezone(zone)
    day = local.date() - timedelta(days=1)  # a DST fold can put an elapse on the previous local day
    for _ in range(_NEXT_HORIZON_DAYS):
        if _day_matches(day, years, months, days, weekdays):
            for h, m, s in times:
                moment = datetime(day.year, day.month, day.day, h, m, s, tzinfo=zone)
                if moment > after:
                    return moment.astimezone(after.tzinfo)
        day += timedelta(days=1)
    return None
