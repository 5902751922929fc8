"""The snapshot the HTTP layer serves: built after each decision, never by a request."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supervisor.core.decide import Decision
from supervisor.core.report import item_report
from supervisor.runtime.observe import Snapshot


@dataclass(frozen=True)
class View:
    """Everything a read endpoint needs, computed once per decision."""

    seq: int
    generated_at: datetime
    items: dict[str, dict[str, Any]]
    counts: dict[str, int]
    status: str  # ok | degraded | down
    supervisor: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """``17/18 OK``."""
        return f"{self.counts.get('ok', 0)}/{len(self.items)} OK"


def aggregate(items: dict[str, dict[str, Any]]) -> str:
    """``down`` when a critical item has a problem, ``degraded`` for any other problem, else ``ok``."""
    problems = [i for i in items.values() if i["status"] not in ("ok", "paused")]
    if any(i["critical"] for i in problems):
        return "down"
    return "degraded" if problems else "ok"


def build_view(seq: int, snapshot: Snapshot, decision: Decision, now: datetime, supervisor: dict[str, Any]) -> View:
    """The view of one decision."""
    state = decision.state
    items: dict[str, dict[str, Any]] = {}
    for name, policy in sorted(snapshot.policies.items()):
        report = item_report(policy, snapshot.observations.get(name), decision.assessments[name], state, now)
        until = state.paused.get(name)
        report["paused"] = name in state.paused
        report["paused_until"] = until.isoformat().replace("+00:00", "Z") if until else None
        report["restart_max"] = policy.restart.max
        report["restart_per_s"] = policy.restart.per_s
        report["on_stale"] = policy.on_stale.value
        item_state = state.items.get(name)
        report["since"] = item_state.since.isoformat().replace("+00:00", "Z") if item_state else None
        items[name] = report
    counts = dict(Counter(i["status"] for i in items.values()))
    return View(seq, now, items, counts, aggregate(items), supervisor)


def health_doc(view: View, now: datetime) -> dict[str, Any]:
    """The body of ``GET /health``."""
    keys = ("status", "kind", "reason", "last_trigger", "next_elapse", "age_s", "budget_s", "critical")
    return {
        "status": view.status,
        "summary": view.summary,
        "counts": view.counts,
        "items": {n: {k: i[k] for k in keys} for n, i in view.items.items()},
        "generated_at": view.generated_at.isoformat().replace("+00:00", "Z"),
        "age_s": round((now - view.generated_at).total_seconds(), 3),
        "supervisor": view.supervisor,
    }
