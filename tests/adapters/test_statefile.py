"""The state file on a real filesystem: atomic, and corruption set aside."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from supervisor.adapters.lock import AlreadyRunning, StateLock
from supervisor.adapters.statefile import StateStore
from supervisor.core.model import Status
from supervisor.core.state import ItemState, State

from ..core.factories import NOW, ago


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
