"""Refused requests: rate limit per address, one audit row per window, bounded addresses (pure)."""

from __future__ import annotations

from supervisor.core.refusals import Refusals, Write


def test_one_row_per_window_exact_under_the_limit_then_at_powers_of_two() -> None:
    r = Refusals(window_s=60, limit=4)
    writes = []
    for i in range(20):
        v = r.note("10.0.0.1", "unauthorized", 100.0 + i)
        writes.append(v.write)
        if v.write is not Write.NONE:
            r.written(v.key, 7 if v.write is Write.INSERT else None, v.count)
        assert v.limited is (i >= 4)
    assert writes[0] is Write.INSERT and writes[1:4] == [Write.UPDATE] * 3
    updates = [i + 1 for i, w in enumerate(writes) if w is Write.UPDATE]
    assert updates == [2, 3, 4, 8, 16]
    later = r.note("10.0.0.1", "unauthorized", 161.0)  # the window closed: its exact count is written
    [(window, key)] = later.closed
    assert (window.row, window.count, key) == (7, 20, ("10.0.0.1", "unauthorized"))
    assert later.write is Write.INSERT and not later.limited


def test_addresses_are_bounded() -> None:
    r = Refusals(max_keys=3)
    keys = {r.note(f"10.0.0.{i}", "unauthorized", 1.0).key for i in range(10)}
    assert keys == {("10.0.0.0", "unauthorized"), ("10.0.0.1", "unauthorized"), ("10.0.0.2", "unauthorized"),
                    ("*", "unauthorized")}  # fmt: skip


def test_retry_after_is_what_is_left_of_the_window() -> None:
    r = Refusals(window_s=60, limit=1)
    v = r.note("a", "refused", 10.0)
    assert r.retry_after(v.key, 25.0) == 45.0 and r.retry_after(("b", "x"), 25.0) == 1.0
