"""The public, JSON-ready view of items (used by ``check --json`` and the API)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from supervisor.core import ratelimit
from supervisor.core.model import DaemonObservation, ItemPolicy, Observation, TimerObservation
from supervisor.core.state import State
from supervisor.core.status import Assessment


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def item_report(
    policy: ItemPolicy, obs: Observation | None, found: Assessment, state: State, now: datetime
) -> dict[str, Any]:
    """One item as the API shows it; times are ISO-8601 UTC or null."""
    last_result: str | None = None
    last_exit: int | None = None
    last_duration: float | None = None
    last_trigger = next_elapse = None
    if isinstance(obs, TimerObservation):
        last_trigger, next_elapse = obs.last_trigger, obs.next_elapse
        if obs.service and obs.service.has_run:
            last_result, last_exit = obs.service.result or None, obs.service.exit_status
            last_duration = obs.service.duration_s
    elif isinstance(obs, DaemonObservation):
        last_result = obs.result or None
    item_state = state.items.get(policy.name)
    budget = found.budget
    return {
        "name": policy.name,
        "kind": found.kind.value,
        "status": found.status.value,
        "reason": found.reason,
        "last_trigger": _iso(last_trigger),
        "next_elapse": _iso(next_elapse),
        "age_s": round(found.age_s, 3) if found.age_s is not None else None,
        "budget_s": budget.seconds if budget else None,
        "budget_source": budget.source if budget else None,
        "last_result": last_result,
        "last_exit_status": last_exit,
        "last_duration_s": round(last_duration, 6) if last_duration is not None else None,
        "restarts_in_window": len(ratelimit.in_window(state.restarts.get(policy.name, ()), policy.restart, now)),
        "escalated": bool(item_state and item_state.escalated),
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
    """``{"status": "ok"|"problem", "items": [...]}`` sorted by name."""
    items = [item_report(p, observations.get(n), assessments[n], state, now) for n, p in sorted(policies.items())]
    problem = any(i["status"] != "ok" for i in items)
    return {"status": "problem" if problem else "ok", "items": items}
