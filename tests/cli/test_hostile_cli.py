"""Hostile command lines: a clear error and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.adapters.history import History

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    History(state / "history.sqlite3").close()  # a history exists: the numbers reach SQLite's bounds
    path = tmp_path / "registry.yaml"
    path.write_text(f"scope: user\nstate_dir: {state}\ndiscover: false\nunits: {{}}\n")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["logs", "x.timer", "--run", "99999999999999999999"],
        ["logs", "x.timer", "--run", "0"],
        ["logs", "x.timer", "--run", "-1"],
        ["logs", "x.timer", "--run", "1e3"],
        ["logs", "'; DROP TABLE runs; --"],
        ["logs", "\x1b[31mred.timer"],
        ["alerts", "--limit", "99999999999999999999"],
        ["alerts", "--limit", "-5"],
        ["alerts", "test", "nonsense"],
    ],
)
def test_a_hostile_command_line_is_a_clear_error(registry: Path, args: list[str]) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "supervisor", *args, "--registry", str(registry)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    assert (r.stderr + r.stdout).strip()
