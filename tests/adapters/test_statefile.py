"""The state file on a real filesystem: atomic, and corruption set aside."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from supervisor.adapters.lock import AlreadyRunning, StateLock
from supervisor.adapters.statefile import Encoder, StateStore
from supervisor.core.decide import decide
from supervisor.core.model import Status
from supervisor.core.state import ItemState, State, to_document

from ..core.factories import NOW, ago, policy, run, timer
from ..core.test_state import sample


def state() -> State:
    return State(items={"a.timer": ItemState(Status.OK, NOW, "ok")}, restarts={"a.timer": (ago(5),)})


def test_it_saves_and_loads(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json")
    store.save(state())
    assert store.load() == state()
    assert oct(os.stat(tmp_path / "state.json").st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp files left


def test_it_starts_empty_without_a_file(tmp_path: Path) -> None:
    assert StateStore(tmp_path / "state.json").load() == State()


@pytest.mark.parametrize("content", [b"{not json", b"", b"[]", b'{"version": 7}', b"\xff\xfe"])
def test_it_moves_a_corrupt_file_aside_and_carries_on(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with capture_logs() as logs:
        loaded = StateStore(path).load()
    assert loaded == State()
    assert not path.exists()
    [aside] = list(tmp_path.glob("state.json.corrupt-*"))
    assert aside.read_bytes() == content
    [event] = [e for e in logs if e["event"] == "state_file_corrupt"]
    assert event["log_level"] == "error" and event["moved_to"] == str(aside)


def test_peek_never_moves_anything(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{broken")
    assert StateStore(path).peek() == State()
    assert path.exists()


def test_a_save_replaces_the_file_whole(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json")
    store.save(state())
    store.save(State())
    assert json.loads((tmp_path / "state.json").read_text())["items"] == {}


def test_it_allows_one_daemon_per_state_dir(tmp_path: Path) -> None:
    first, second = StateLock(tmp_path), StateLock(tmp_path)
    first.acquire()
    assert second.held_by_other()
    with pytest.raises(AlreadyRunning, match=str(os.getpid())):
        second.acquire()
    first.release()
    assert not second.held_by_other()
    second.acquire()
    second.release()


def _plain(state: State) -> bytes:
    return json.dumps(to_document(state), separators=(",", ":"), sort_keys=True).encode()


def test_the_encoder_writes_what_a_whole_encoding_writes_as_items_change_come_and_go() -> None:
    """Entries are kept from one state to the next: each state's bytes must still be the whole encoding's."""
    names = [f"t{i:03d}.timer" for i in range(60)]
    policies = {n: policy(n) for n in names}
    observations = {n: timer(name=n) for n in names}
    encode = Encoder()
    state = State()
    for step in range(6):
        now = NOW + timedelta(seconds=step)
        if step == 2:  # some items fail: their entries change, the others' are kept
            observations |= {n: timer(name=n, service=run("failed", 3)) for n in names[:7]}
        if step == 4:  # items leave the registry, one comes: dropped and added entries
            for n in names[50:]:
                del policies[n], observations[n]
            policies["new.timer"], observations["new.timer"] = policy("new.timer"), timer(name="new.timer")
        state = decide(policies, observations, state, now).state
        assert encode(state) == _plain(state), f"step {step}"
    assert encode(sample()) == _plain(sample())  # every section: restarts, runs in progress, silences, pauses
    assert encode(State()) == _plain(State())  # and back to nothing


def test_a_state_saved_through_the_encoder_loads_back_equal(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.json")
    store.save(sample())
    store.save(replace(sample(), paused={"a.timer": None}))
    assert StateStore(tmp_path / "state.json").load() == replace(sample(), paused={"a.timer": None})
