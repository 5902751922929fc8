"""The snapshot the HTTP layer serves: built after each decision, never by a request."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from supervisor.core.decide import Decision
from supervisor.core.health import counts_as_critical, overall
from supervisor.core.model import Status
from supervisor.core.report import item_report
from supervisor.core.times import iso
from supervisor.runtime.observe import Snapshot


@dataclass(frozen=True)
class View:
    """Everything a read endpoint needs, for one decision.

    Published after every decision but computed only when first read: a burst of
    signals produces many views and most are never looked at.
    """

    seq: int
    generated_at: datetime
    snapshot: Snapshot
    decision: Decision
    report: Callable[[], dict[str, Any]] = dict

    @cached_property
    def supervisor(self) -> dict[str, Any]:
        """The supervisor's own health, read when the view is first served (not on every decision)."""
        return self.report()

    @cached_property
    def items(self) -> dict[str, dict[str, Any]]:
        """Every item's report, by name."""
        state, now = self.decision.state, self.generated_at
        items: dict[str, dict[str, Any]] = {}
        for name, policy in sorted(self.snapshot.policies.items()):
            found = self.decision.assessments[name]
            report = item_report(policy, self.snapshot.observations.get(name), found, state, now)
            until = state.paused.get(name)
            report["paused"] = name in state.paused
            report["paused_until"] = iso(until)
            report["restart_max"] = policy.restart.max
            report["restart_per_s"] = policy.restart.per_s
            report["on_stale"] = policy.on_stale.value
            item_state = state.items.get(name)
            report["since"] = iso(item_state.since) if item_state else None
            items[name] = report
        return items

    @cached_property
    def counts(self) -> dict[str, int]:
        """Items per status."""
        return dict(Counter(a.status.value for a in self.decision.assessments.values()))

    @cached_property
    def status(self) -> str:
        """The overall health of the items (``core.health.overall``)."""
        return overall(_health_items(self)).value

    @property
    def summary(self) -> str:
        """``17/18 OK``."""
        return f"{self.counts.get('ok', 0)}/{len(self.decision.assessments)} OK"


def _health_items(view: View) -> Iterator[tuple[Status, bool]]:
    """(status, counts as critical) of every item, for ``core.health.overall``."""
    policies, state = view.snapshot.policies, view.decision.state.items
    for name, found in view.decision.assessments.items():
        item = state.get(name)
        yield found.status, counts_as_critical(policies[name].critical, item.silenced_until if item else None)


def build_view(
    seq: int, snapshot: Snapshot, decision: Decision, now: datetime, report: Callable[[], dict[str, Any]]
) -> View:
    """The view of one decision (its contents are computed on first read)."""
    return View(seq, now, snapshot, decision, report)


def health_doc(view: View) -> dict[str, Any]:
    """The body of ``GET /health``: as of the view's decision (``generated_at``), encoded once per view."""
    keys = ("status", "kind", "reason", "last_trigger", "next_elapse", "age_s", "budget_s", "critical")
    registry = view.supervisor.get("registry") or {}
    status = overall(
        _health_items(view),
        config_rejected=registry.get("status") == "rejected",  # the file on disk is not what runs
    ).value
    return {
        "status": status,
        "registry": registry,
        "summary": view.summary,
        "counts": view.counts,
        "items": {n: {k: i[k] for k in keys} for n, i in view.items.items()},
        "generated_at": iso(view.generated_at),
        "supervisor": view.supervisor,
    }
