"""The public, JSON-ready view of items (used by ``check --json`` and the API)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from supervisor.core import ratelimit
from supervisor.core.health import Health, counts_as_critical, overall
from supervisor.core.model import DaemonObservation, ItemPolicy, Kind, Observation, TimerObservation
from supervisor.core.runs import Run, RunMemory
from supervisor.core.state import State
from supervisor.core.status import Assessment
from supervisor.core.times import iso as _iso


def run_report(run: Run | None) -> dict[str, Any] | None:
    """A run as the API shows it (``last_run`` and the history's run rows share these keys)."""
    if run is None:
        return None
    duration = run.duration_s
    return {
        "id": run.id,
        "trigger": run.trigger.value,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_s": round(duration, 6) if duration is not None else None,
        "result": run.result or None,
        "exit_code": run.exit_code,
        "exit_status": run.exit_status,
        "failure": run.failure,
        "anomaly": run.anomaly,
        "output": run.output,
    }


def item_report(
    policy: ItemPolicy,
    obs: Observation | None,
    found: Assessment,
    state: State,
    now: datetime,
    runs: RunMemory | None = None,
) -> dict[str, Any]:
    """One item as the API shows it; times are ISO-8601 UTC or null.

    A timer's ``last_*`` fields describe its last *finished* run (what the verdict is
    based on); a run in progress shows only as ``running_since``.
    """
    last_result: str | None = None
    last_exit: int | None = None
    last_duration: float | None = None
    last_trigger = next_elapse = running_since = None
    memory = runs if runs is not None else state.runs.get(policy.name)
    last = memory.last if memory else None
    if isinstance(obs, TimerObservation):
        last_trigger, next_elapse = obs.last_trigger, obs.next_elapse
        if last is not None:
            last_result, last_exit, last_duration = last.result or None, last.exit_status, last.duration_s
        if memory is not None and memory.current is not None and obs.service is not None and obs.service.running:
            running_since = memory.current.started_at
    elif isinstance(obs, DaemonObservation):
        last_result = obs.result or None
    elif policy.kind is Kind.PING and memory is not None:
        if last is not None:
            last_result, last_exit, last_duration = last.result or None, last.exit_status, last.duration_s
        current = memory.current
        moments = [t for t in (last.finished_at if last else None, current.started_at if current else None) if t]
        last_trigger = max(moments) if moments else None
        next_elapse = found.next_at
        running_since = current.started_at if current else None
    item_state = state.items.get(policy.name)
    budget = found.budget
    limit = found.max_runtime
    return {
        "name": policy.name,
        "kind": found.kind.value,
        "status": found.status.value,
        "problem": found.status.is_problem,
        "reason": found.reason,
        "last_trigger": _iso(last_trigger),
        "next_elapse": _iso(next_elapse),
        "age_s": round(found.age_s, 3) if found.age_s is not None else None,
        "budget_s": budget.seconds if budget else None,
        "budget_source": budget.source if budget else None,
        "last_result": last_result,
        "last_exit_status": last_exit,
        "last_duration_s": round(last_duration, 6) if last_duration is not None else None,
        "running_since": _iso(running_since),
        "max_runtime_s": limit.seconds if limit else None,
        "max_runtime_source": limit.source if limit else None,
        "last_run": run_report(last),
        "restarts_in_window": len(ratelimit.in_window(state.restarts.get(policy.name, ()), policy.restart, now)),
        "escalated": bool(item_state and item_state.escalated),
        "silenced_until": _iso(item_state.silenced_until) if item_state else None,
        "blocked_by": list(item_state.blocked_by) if item_state else [],
        "critical": policy.critical,
        "discovered": policy.discovered,
    }


def report(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    assessments: Mapping[str, Assessment],
    state: State,
    now: datetime,
) -> dict[str, Any]:
    """``{"status": "ok"|"problem", "health": "ok"|"degraded"|"down", "items": [...]}`` sorted by name."""
    items = [item_report(p, observations.get(n), assessments[n], state, now) for n, p in sorted(policies.items())]
    health = overall(
        (
            assessments[n].status,
            counts_as_critical(p.critical, state.items[n].silenced_until if n in state.items else None),
        )
        for n, p in policies.items()
    )
    return {"status": "ok" if health is Health.OK else "problem", "health": health.value, "items": items}
