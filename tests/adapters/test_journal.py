"""Which of a unit's journal entries without a run id belong to a run (``journal.strays``).

Entries are shaped as systemd-python returns them (local time without a zone). journald
drops the id this way only by a race (tests/e2e/test_journal.py shows it on a real one);
here each boundary of the choice is set out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from supervisor.adapters.journal import strays

RUN, PREVIOUS, NEXT = "a" * 32, "b" * 32, "c" * 32
START = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
END = START + timedelta(seconds=2)


def entry(message: str, seconds: float, owner: str = "", field: str = "_SYSTEMD_INVOCATION_ID") -> dict[str, Any]:
    at = (START + timedelta(seconds=seconds)).astimezone().replace(tzinfo=None)  # as systemd-python gives it
    return {"MESSAGE": message, "__REALTIME_TIMESTAMP": at, **({field: owner} if owner else {})}


def messages(found: list[dict[str, Any]]) -> list[str]:
    return [e["MESSAGE"] for e in found]


def test_lines_without_an_id_during_the_run_are_its_own() -> None:
    unit = [
        entry("Starting job.service...", -0.01, RUN, "INVOCATION_ID"),
        entry("dumping", 0.5),
        entry("pg_dump: connection refused", 1.0),
        entry("job.service: Main process exited", 2.0, RUN, "INVOCATION_ID"),
    ]
    assert messages(strays(unit, RUN, START, END)) == ["dumping", "pg_dump: connection refused"]


def test_lines_read_just_after_the_run_ended_are_its_own_and_later_ones_are_not() -> None:
    unit = [entry("late but ours", 2.5), entry("a second and more after the end", 3.5)]
    assert messages(strays(unit, RUN, START, END)) == ["late but ours"]


def test_lines_before_the_run_started_are_another_runs() -> None:
    unit = [entry("previous run's line", -0.5), entry("previous run's end", -0.2, PREVIOUS, "INVOCATION_ID")]
    assert strays(unit, RUN, START, END) == []


def test_nothing_after_another_runs_first_entry_is_taken() -> None:
    unit = [
        entry("ours", 0.5),
        entry("Starting job.service...", 2.2, NEXT, "INVOCATION_ID"),
        entry("next run's line that lost its id", 2.3),
    ]
    assert messages(strays(unit, RUN, START, END)) == ["ours"]


def test_a_run_still_going_takes_every_line_without_an_id_since_it_started() -> None:
    unit = [entry("working", 10.0), entry("still working", 600.0), entry("ours with its id", 601.0, RUN)]
    assert messages(strays(unit, RUN, START, None)) == ["working", "still working"]
