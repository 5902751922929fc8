"""Cron schedules translated to systemd ``OnCalendar=`` specs, faithfully or not at all (pure).

Five fields (minute hour day-of-month month day-of-week) with ``*``, values,
ranges ``a-b``, steps ``*/n`` ``a-b/n`` ``a/n``, lists, month and weekday names,
Sunday as 0 or 7, and the ``@hourly``/``@daily``/``@midnight``/``@weekly``/
``@monthly``/``@yearly``/``@annually`` macros. Cron runs a job when *either* a
restricted day-of-month *or* a restricted day-of-week matches; ``OnCalendar=``
needs both, so a spec restricting both is refused rather than translated wrongly.
"""

from __future__ import annotations

import itertools
import re

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {n: i for i, n in enumerate(_MONTH_NAMES, start=1)}
_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_DAYS = {n.lower(): i for i, n in enumerate(_DAY_NAMES)}
_FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
           ("month", 1, 12, _MONTHS), ("day of week", 0, 7, _DAYS))  # fmt: skip
_ITEM = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")


class CronError(ValueError):
    """A cron spec that is malformed, or that ``OnCalendar=`` cannot express exactly."""


def is_cron(spec: str) -> bool:
    """Whether ``spec`` is written as cron (five fields, or an ``@`` macro) rather than ``OnCalendar=``."""
    text = spec.strip()
    return text.startswith("@") or (len(text.split()) == 5 and not any(c in text for c in ":.~"))


def to_calendar(spec: str) -> str:
    """The ``OnCalendar=`` spec that elapses exactly when cron would run ``spec``."""
    text = spec.strip().lower()
    if text.startswith("@"):
        if text == "@reboot":
            raise CronError("@reboot has no calendar: use a service started at boot")
        if text not in _MACROS:
            raise CronError(f"unknown macro {spec.strip()!r} (known: {', '.join(sorted(_MACROS))})")
        text = _MACROS[text]
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"a cron spec has 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}")
    values = [_values(part, *field) for part, field in zip(parts, _FIELDS, strict=True)]
    minutes, hours, days, months, weekdays = values
    weekdays = {0 if d == 7 else d for d in weekdays}
    if parts[2] != "*" and parts[4] != "*":
        raise CronError(
            "cron runs when day-of-month OR day-of-week matches, OnCalendar= needs both: restrict only one of them"
        )
    dow = "" if parts[4] == "*" else ",".join(_DAY_NAMES[d] for d in sorted(weekdays)) + " "
    date = f"*-{_render(months, 1, 12, 2)}-{_render(days, 1, 31, 2)}"
    return f"{dow}{date} {_render(hours, 0, 23, 2)}:{_render(minutes, 0, 59, 2)}:00"


def _values(part: str, name: str, lo: int, hi: int, names: dict[str, int] | None) -> set[int]:
    out: set[int] = set()
    for item in part.split(","):
        match = _ITEM.match(item)
        if not match:
            raise CronError(f"{name}: cannot read {item!r}")
        base, step_text = match.group(1), match.group(2)
        step = int(step_text) if step_text else 1
        if step < 1:
            raise CronError(f"{name}: a step must be at least 1 in {item!r}")
        if base == "*":
            start, end = lo, hi
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _number(a, name, names), _number(b, name, names)
            if start > end:
                raise CronError(f"{name}: range {item!r} runs backwards")
        else:
            start = _number(base, name, names)
            end = hi if step_text else start  # "5/15" means from 5 to the end, every 15
        for v in (start, end):
            if not lo <= v <= hi:
                raise CronError(f"{name}: {v} is outside {lo}-{hi}")
        out.update(range(start, end + 1, step))
    return out


def _number(text: str, name: str, names: dict[str, int] | None) -> int:
    if text.isdigit():
        return int(text)
    if names is not None and text in names:
        return names[text]
    raise CronError(f"{name}: {text!r} is not a number" + (" or a name" if names else ""))


def _render(values: set[int], lo: int, hi: int, width: int) -> str:
    ordered = sorted(values)
    if ordered == list(range(lo, hi + 1)):
        return "*"
    if len(ordered) > 2:
        step = ordered[1] - ordered[0]
        progression = all(b - a == step for a, b in itertools.pairwise(ordered))
        if progression and ordered[-1] + step > hi:  # runs to the end of the field: systemd's own "a/n"
            return f"{ordered[0]:0{width}d}/{step}"
    return ",".join(f"{v:0{width}d}" for v in ordered)
