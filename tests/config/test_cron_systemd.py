"""Cron specs translated to OnCalendar=, checked against systemd's own calendar (``systemd-analyze calendar``).

Each spec's next elapses are computed three ways and must agree: by a brute-force
cron matcher written here from crontab(5) (minute by minute), by systemd on the
translated spec, and by ``core.calendar.next_elapse`` (what push heartbeats use).
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from supervisor.core import calendar
from supervisor.core.cron import CronError, to_calendar

BASE = datetime(2026, 1, 30, 22, 58, tzinfo=UTC)  # a Friday near a month's end: wrap-arounds are exercised
ITERATIONS = 5

SPECS = [
    "* * * * *",
    "*/15 * * * *",
    "5 * * * *",
    "0 3 * * *",
    "30 2 * * 1-5",
    "0 9 * * mon-fri",
    "0 0 * * 0",
    "0 0 * * 7",
    "0 0 * * sun",
    "15 14 1 * *",
    "0 22 * * 1,3,5",
    "0 */2 * * *",
    "0 8-18/2 * * *",
    "10-20 * * * *",
    "0,30 * * * *",
    "0 0 1 1 *",
    "0 0 1 */3 *",
    "0 12 * jan,jul *",
    "0 0 31 * *",
    "59 23 * * sat",
    "5/20 * * * *",
    "0 6 1-7 * *",
    "45 4 * feb-apr *",
    "0 0 29 2 *",
    "1 2 3 4 *",
    "*/7 * * * *",
    "0 0 * * 5-7",
    "0 0 * * 0,6",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
]

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_MACROS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
           "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}  # fmt: skip


def _field(text: str, lo: int, hi: int, names: list[str] | None = None) -> set[int]:
    def number(t: str) -> int:
        return names.index(t) + (1 if names is _MONTHS else 0) if names and t in names else int(t)

    out: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            a, b = lo, hi
        elif "-" in base:
            a, b = (number(x) for x in base.split("-"))
        else:
            a = number(base)
            b = hi if step else a
        out.update(range(a, b + 1, int(step or 1)))
    return out


def cron_elapses(spec: str, after: datetime, count: int) -> list[datetime]:
    """crontab(5), minute by minute (day-of-month and day-of-week: OR when both are restricted)."""
    minute, hour, dom, month, dow = _MACROS.get(spec, spec).split()
    mins, hours, months = _field(minute, 0, 59), _field(hour, 0, 23), _field(month, 1, 12, _MONTHS)
    days, weekdays = _field(dom, 1, 31), {d % 7 for d in _field(dow, 0, 7, _DAYS)}
    out: list[datetime] = []
    t = after.replace(second=0) + timedelta(minutes=1)
    while len(out) < count:
        day_ok = t.day in days if dow == "*" else (t.isoweekday() % 7 in weekdays if dom == "*" else False)
        if not (day_ok and t.month in months):  # skip the rest of a day that cannot match
            t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            continue
        if t.minute in mins and t.hour in hours:
            out.append(t)
        t += timedelta(minutes=1)
    return out


def systemd_elapses(spec: str, after: datetime, count: int) -> list[datetime]:
    out = subprocess.run(
        ["systemd-analyze", "calendar", f"--iterations={count}", f"--base-time={after:%Y-%m-%d %H:%M:%S} UTC", spec],
        capture_output=True,
        text=True,
        check=True,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    ).stdout
    found = re.findall(r"(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", out)
    return [datetime.fromisoformat(f).replace(tzinfo=UTC) for f in found]


def ours(spec: str, after: datetime, count: int) -> list[datetime]:
    out, t = [], after
    for _ in range(count):
        nxt = calendar.next_elapse(spec, t, UTC)
        assert nxt is not None
        out.append(nxt)
        t = nxt
    return out


@pytest.mark.parametrize("spec", SPECS)
def test_it_translates_cron_faithfully(spec: str) -> None:
    translated = to_calendar(spec)
    expected = cron_elapses(spec, BASE, ITERATIONS)
    assert systemd_elapses(translated, BASE, ITERATIONS) == expected, translated
    assert ours(translated, BASE, ITERATIONS) == expected, translated


def test_it_covers_at_least_30_specs() -> None:
    assert len(SPECS) >= 30


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("0 0 1 * mon", "day-of-month OR day-of-week"),
        ("@reboot", "@reboot has no calendar"),
        ("@often", "unknown macro"),
        ("* * * *", "5 fields"),
        ("60 * * * *", "minute: 60 is outside 0-59"),
        ("0 24 * * *", "hour: 24 is outside 0-23"),
        ("0 0 0 * *", "day of month: 0 is outside 1-31"),
        ("0 0 * 13 *", "month: 13 is outside 1-12"),
        ("0 0 * * 8", "day of week: 8 is outside 0-7"),
        ("5-1 * * * *", "runs backwards"),
        ("*/0 * * * *", "at least 1"),
        ("0 0 * foo *", "not a number or a name"),
        ("a b c d e", "not a number"),
    ],
)
def test_it_refuses_what_it_cannot_translate(spec: str, message: str) -> None:
    with pytest.raises(CronError, match=re.escape(message)):
        to_calendar(spec)
