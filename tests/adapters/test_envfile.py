"""The secrets file, as systemd's EnvironmentFile= reads it, applied by the process itself."""

from __future__ import annotations

from pathlib import Path

from supervisor.adapters.envfile import EnvFile, parse


def test_it_parses_what_systemd_reads() -> None:
    text = "# secrets\n; also a comment\n\nA=1\nB = two words \nC=\"quoted value\"\nD='single'\nnot a line\nE=\n"
    assert parse(text) == {"A": "1", "B": "two words", "C": "quoted value", "D": "single", "E": ""}


def test_the_cli_fills_only_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "missionctl.env"
    path.write_text("TOKEN=from-file\nHOOK=file-hook\n")
    env = {"TOKEN": "from-shell"}
    EnvFile(path, env).fill()
    assert env == {"TOKEN": "from-shell", "HOOK": "file-hook"}


def test_a_reload_adds_changes_and_removes_what_the_file_holds(tmp_path: Path) -> None:
    path = tmp_path / "missionctl.env"
    path.write_text("TOKEN=t1\nOLD=o\n")
    env = {"PATH": "/bin"}
    f = EnvFile(path, env)
    f.fill()
    path.write_text("TOKEN=t2\nNEW=n\n")
    changed, removed = f.reload()
    assert (changed, removed) == ({"TOKEN", "NEW"}, {"OLD"})
    assert env == {"PATH": "/bin", "TOKEN": "t2", "NEW": "n"}
    path.unlink()
    assert f.reload() == (set(), set()) and env["TOKEN"] == "t2"  # a missing file changes nothing
