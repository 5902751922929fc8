"""The persisted document: round trip, versioning, malformed input."""

from __future__ import annotations

import json

import pytest

from supervisor.core.model import Status
from supervisor.core.state import (
    MAX_TRANSITIONS,
    ItemState,
    State,
    StateFormatError,
    Transition,
    from_document,
    to_document,
)

from .factories import NOW, ago


def sample() -> State:
    return State(
        items={"a.timer": ItemState(Status.STALE, ago(5), "stale 5m > 1m", escalated=True)},
        restarts={"a.timer": (ago(100), ago(50))},
        transitions=(
            Transition("a.timer", None, Status.OK, "ok", ago(500), True),
            Transition("a.timer", Status.OK, Status.STALE, "stale", ago(5)),
        ),
    )


def test_it_round_trips_through_json() -> None:
    doc = json.loads(json.dumps(to_document(sample())))
    assert doc["version"] == 1
    assert from_document(doc) == sample()


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"version": 99, "items": {}, "restarts": {}, "transitions": []},
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


def test_it_bounds_the_transition_log() -> None:
    many = [Transition("a", None, Status.OK, "", NOW) for _ in range(MAX_TRANSITIONS + 5)]
    assert len(State().with_transitions(many).transitions) == MAX_TRANSITIONS
