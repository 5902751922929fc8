"""``missionctl logs ITEM [--run N]``: the output of one of an item's runs."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

from supervisor.adapters.history import History
from supervisor.adapters.journal import read_excerpt
from supervisor.adapters.statefile import StateStore
from supervisor.config.registry import Registry
from supervisor.core.report import run_report
from supervisor.core.times import parse

EXIT_OK, EXIT_ERROR = 0, 2


def show_logs(registry: Registry, item: str, n: int) -> int:
    """Print run ``n`` (1 = the newest) of ``item`` and its output; 2 when there is no such run."""
    runs = _runs(registry, item, n)
    if len(runs) < n:
        known = f"{len(runs)} run{'s' if len(runs) != 1 else ''}" if runs else "no runs"
        print(f"missionctl: {item} has {known} on record; asked for run {n}", file=sys.stderr)
        return EXIT_ERROR
    run = runs[n - 1]
    print(_header(run))
    output = run.get("output") if run.get("in_progress") else _kept_output(registry, run["id"])
    if output is None:  # a run that succeeded as usual: its output was not kept, read it now
        lines = registry.policy(item).output_lines or 20
        excerpt = read_excerpt(
            run["service"], run["id"], parse(run["started_at"]), parse(run["ended_at"]), lines, settle_s=0
        )
        output = excerpt.render()
    print(output if output else "(the run printed nothing)")
    return EXIT_OK


def _runs(registry: Registry, item: str, n: int) -> list[dict[str, Any]]:
    """The item's runs, newest first: the one in progress (from the state file), then the history's."""
    found: list[dict[str, Any]] = []
    memory = StateStore(registry.state_dir / "state.json").peek().runs.get(item)
    service = registry.policy(item).name.removesuffix(".timer") + ".service"
    if memory is not None and memory.current is not None:
        doc = run_report(memory.current) or {}
        found.append({**doc, "item": item, "service": service, "ended_at": None, "in_progress": True})
    path = registry.state_dir / "history.sqlite3"
    if path.exists():
        try:
            history = History(path, readonly=True)
        except sqlite3.Error:
            return found
        try:
            found += history.runs(item, None, n)
        finally:
            history.close()
    return found


def _kept_output(registry: Registry, run_id: str) -> str | None:
    """The excerpt the history kept for one run (failed, hung or unusual runs have one)."""
    history = History(registry.state_dir / "history.sqlite3", readonly=True)
    try:
        row = history.run(run_id)
    finally:
        history.close()
    return row.get("output") if row else None


def _header(run: dict[str, Any]) -> str:
    if run.get("in_progress"):
        return f"run {run['id']} ({run['trigger']}), started {run['started_at']}, still running"
    verdict = f"failed: {run['failure']}" if run.get("failure") else "succeeded"
    odd = f", {run['anomaly']}" if run.get("anomaly") else ""
    took = f" in {run['duration_s']:.1f}s" if run.get("duration_s") is not None else ""
    return f"run {run['id']} ({run['trigger']}), ended {run['ended_at']}{took}: {verdict}{odd}"
