"""Which runs need their journal excerpt, and where the excerpt goes once read (pure).

The core asks (``OutputWanted``); the runtime reads the journal off the loop; the
excerpts are then attached to the runs in the state and to this step's alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from supervisor.core.model import ItemPolicy, Status
from supervisor.core.runs import RunFact, RunFinished, RunMemory, RunOverdue


@dataclass(frozen=True, slots=True)
class OutputWanted:
    """Read the journal of run ``run_id`` of ``unit`` (failed, hung or anomalous) for ``item``."""

    item: str
    unit: str
    run_id: str
    started_at: datetime | None
    finished_at: datetime | None
    lines: int


def wanted(policy: ItemPolicy, facts: list[RunFact]) -> list[OutputWanted]:
    """The journal excerpts this step needs: every failed, hung or anomalous run (every run, with ``keep_output``)."""
    out: list[OutputWanted] = []
    if policy.output_lines <= 0:
        return out
    for fact in facts:
        run, lines = fact.run, policy.output_lines
        if isinstance(fact, RunFinished) and (run.failure or run.anomaly or policy.keep_output):
            out.append(OutputWanted(fact.item, fact.service, run.id, run.started_at, run.finished_at, lines))
        elif isinstance(fact, RunOverdue):
            out.append(OutputWanted(fact.item, fact.service, run.id, run.started_at, None, lines))
    return out


def output_of(status: Status, memory: RunMemory) -> str | None:
    """The excerpt an alert about ``status`` carries: the failed run's, or the hung run's."""
    if status is Status.FAILED and memory.last is not None:
        return memory.last.output
    if status is Status.HUNG and memory.current is not None:
        return memory.current.output
    return None
