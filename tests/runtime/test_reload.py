"""SIGHUP's registry reload (``runtime/reload.py``), through the real child that validates it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from supervisor.config.loader import load_registry
from supervisor.runtime.reload import Reloader


def _registry(path: Path, state_dir: Path, scope: str, units: str) -> None:
    path.write_text(f"scope: {scope}\nstate_dir: {state_dir}\ndiscover: false\nunits:\n{units}")


def test_a_new_registry_is_taken_but_keeps_the_state_dir_and_scope_it_started_with(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    _registry(path, tmp_path / "a", "system", "  one.timer: {}\n")
    running = load_registry(path)
    reloader = Reloader(path, None)
    _registry(path, tmp_path / "b", "user", "  one.timer: {}\n  two.timer: {max_stale: 1h}\n")
    reloaded = asyncio.run(reloader.reload(running))
    assert reloaded is not None and set(reloaded.units) == {"one.timer", "two.timer"}
    assert (reloaded.state_dir, reloaded.scope) == (tmp_path / "a", "system")  # both are chosen at start
    assert reloaded.units["two.timer"].max_stale == 3600.0
    assert reloader.report() == {"path": str(path), "status": "ok"}
    assert (tmp_path / "a" / "registry.active.yaml").read_text() == path.read_text()


def test_a_broken_registry_is_rejected_and_the_rejection_reported(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    _registry(path, tmp_path, "user", "  one.timer: {}\n")
    running = load_registry(path)
    reloader = Reloader(path, None)
    path.write_text(path.read_text() + "  bad name.timer: {}\n")
    assert asyncio.run(reloader.reload(running)) is None
    report = reloader.report()
    assert report["status"] == "rejected"
    assert report["errors"][0].startswith(f"{path}:6: units[bad name.timer]: invalid unit name")


def test_a_user_run_reads_a_reloaded_file_as_scope_user(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    _registry(path, tmp_path, "user", "  one.timer: {}\n")
    running = load_registry(path)
    path.write_text(path.read_text().replace("scope: user\n", ""))  # the default, system: --user overrides it
    reloaded = asyncio.run(Reloader(path, None).reload(running))
    assert reloaded is not None and reloaded.scope == "user"
