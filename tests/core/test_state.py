"""The persisted document: round trip, versioning, malformed input."""

from __future__ import annotations

import json

import pytest

from supervisor.core.lifecycle import RunPhase
from supervisor.core.model import Status, Trigger
from supervisor.core.runs import Run, RunMemory
from supervisor.core.silences import Silence
from supervisor.core.state import ItemState, State, StateFormatError, from_document, to_document

from .factories import NOW, ago


def sample() -> State:
    failed = Run(
        "ab" * 16,
        Trigger.MANUAL,
        ago(70),
        ago(60),
        "exit-code",
        "exited",
        2,
        failure="exit-code, exit status 2",
        trigger_at=None,
        output="pg_dump: connection refused",
    )
    running = Run("cd" * 16, Trigger.TIMER, ago(30), trigger_at=ago(30), stopped=True)
    return State(
        items={
            "a.timer": ItemState(Status.STALE, ago(5), "stale 5m > 1m", escalated=True, silenced_until=ago(-600)),
            "b.service": ItemState(
                Status.BLOCKED, ago(9), "blocked by db.service (down): x", blocked_by=("db.service",)
            ),
        },
        restarts={"a.timer": (ago(100), ago(50))},
        runs={"a.timer": RunMemory(failed, running, RunPhase.HUNG, ago(3600))},
        silences=(Silence("0a1b2c3d4e", "a.*", ago(-600), "migration", ago(60), "token@127.0.0.1"),),
    )


def test_it_round_trips_through_json() -> None:
    doc = json.loads(json.dumps(to_document(sample())))
    assert doc["version"] == 2
    assert "transitions" not in doc  # they live in the history database
    assert from_document(doc) == sample()


def test_it_reads_a_version_1_document_and_drops_its_transitions() -> None:
    doc = {
        "version": 1,
        "items": {"a.timer": {"status": "ok", "since": NOW.isoformat(), "reason": "", "escalated": False}},
        "restarts": {},
        "transitions": [{"item": "a.timer", "from": None, "to": "ok", "reason": "", "at": NOW.isoformat()}],
    }
    state = from_document(doc)
    assert state.items["a.timer"].status is Status.OK and state.runs == {}


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"version": 99, "items": {}, "restarts": {}, "transitions": []},
        {"version": 2, "items": {}, "restarts": {}, "runs": {"a": {"last": {"id": "x", "trigger": "cron"}}}},
        {"version": 2, "items": {}, "restarts": {}, "runs": {"a": {"phase": "sleeping"}}},
        {"version": 1},
        {
            "version": 1,
            "items": {"a": {"status": "bogus", "since": NOW.isoformat(), "reason": "", "escalated": 0}},
            "restarts": {},
            "transitions": [],
        },
        {"version": 1, "items": {}, "restarts": {"a": ["yesterday"]}, "transitions": []},
        {"version": 1, "items": {}, "restarts": {"a": ["2026-01-01T00:00:00"]}, "transitions": []},
    ],
)
def test_it_refuses_documents_it_does_not_understand(doc: object) -> None:
    with pytest.raises(StateFormatError):
        from_document(doc)
