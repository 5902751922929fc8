"""Registry parsing: durations, unit names, and file:line: field errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.config.durations import parse_duration
from supervisor.config.errors import RegistryError
from supervisor.config.loader import load_registry, parse_registry
from supervisor.core.model import Kind, OnStale

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("400m", 24000),
        ("6h", 21600),
        ("1d", 86400),
        (30, 30),
        ("45", 45),
        ("1h30m", 5400),
        ("2.5h", 9000),
        ("1w", 604800),
        (" 10 min ", 600),
    ],
)
def test_it_parses_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1hour", "-5", "5x", True, None, "1h junk"])
def test_it_rejects_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_it_loads_the_shipped_example() -> None:
    reg = load_registry(REPO / "registry.yaml")
    assert reg.units["social-post.timer"].max_stale == 24000
    nightly = reg.policy("nightly-pipeline.timer")
    assert nightly.critical and nightly.max_stale_s == 25 * 3600 and nightly.kind is Kind.TIMER
    assert reg.policy("report.timer").on_stale is OnStale.ALERT
    assert reg.policy("gateway.service").kind is Kind.DAEMON
    assert reg.policy("backup.timer").max_stale_s is None
    assert reg.ignored("apt-daily-upgrade.timer")


def test_it_applies_defaults_and_overrides() -> None:
    reg = parse_registry(
        "defaults: {stale_factor: 3, restart: {max: 5, per: 2h, backoff: 10s}, on_stale: alert}\n"
        "units:\n  a.timer:\n  b.timer: {restart: {max: 1}, on_stale: restart, stale_factor: 4}\n",
        "r.yaml",
    )
    a, b = reg.policy("a.timer"), reg.policy("b.timer")
    assert (a.stale_factor, a.restart.max, a.restart.per_s, a.restart.backoff_s, a.on_stale) == (
        3,
        5,
        7200,
        10,
        OnStale.ALERT,
    )
    assert (b.stale_factor, b.restart.max, b.restart.per_s, b.on_stale) == (4, 1, 3600, OnStale.RESTART)
    assert reg.policy("c.timer", discovered=True).discovered


BROKEN = """\
scope: sytem
defaults:
  stale_factor: -1
  restart: {max: 3, per: 1hour}
units:
  ok.timer: {max_stale: 400m}
  bad name.timer: {}
  gw.service: {critical: maybe}
  report.timer: {on_stale: ignore, colour: red}
  ok.timer: {}
  plain.socket: {}
"""


def test_it_names_file_line_and_field_for_every_error() -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry(BROKEN, "/etc/missionctl/registry.yaml")
    errors = caught.value.errors
    f = "/etc/missionctl/registry.yaml"
    expected = [
        f"{f}:1: scope:",
        f"{f}:3: defaults.stale_factor:",
        f"{f}:4: defaults.restart.per: invalid duration '1hour'",
        f"{f}:7: units[bad name.timer]: invalid unit name",
        f"{f}:8: units[gw.service].critical:",
        f"{f}:9: units[report.timer].on_stale:",
        f"{f}:9: units[report.timer].colour: unknown field",
        f"{f}:10: units[ok.timer]: duplicate key",
        f"{f}:11: units[plain.socket]: invalid unit name",
    ]
    for want in expected:
        assert any(e.startswith(want) for e in errors), (want, errors)
    assert len(errors) == len(expected)
    assert [int(e.split(":")[1]) for e in errors] == sorted(int(e.split(":")[1]) for e in errors)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [("units: [a.timer\n", 1, "yaml:"), ("- 1\n- 2\n", 1, "expected a mapping"), ("\tfoo: 1\n", 1, "yaml:")],
)
def test_it_reports_yaml_syntax_errors_with_a_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry(text, "r.yaml")
    [error] = caught.value.errors
    assert error.startswith(f"r.yaml:{line}: ") and fragment in error


def test_it_accepts_an_empty_file() -> None:
    assert parse_registry("", "r.yaml").units == {}


def test_validate_exits_2_with_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "registry.yaml"
    bad.write_text(BROKEN)
    r = subprocess.run([sys.executable, "-m", "supervisor", "validate", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 9
    assert f"{bad}:4: defaults.restart.per:" in r.stderr
    good = subprocess.run(
        [sys.executable, "-m", "supervisor", "validate", str(REPO / "registry.yaml")], capture_output=True, text=True
    )
    assert good.returncode == 0, good.stderr


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("scope: user\ndiscover true\nunits: {}\n", 2, "could not find expected ':'"),
        ("units:\n  a.timer: {}\n  b.timer\n  c.timer: {}\n", 3, "could not find expected ':'"),
        ("scope: 'user\ndiscover: true\nunits: {}\n", 1, "quoted scalar that starts here"),
        ("units: {a.timer: {max_stale: 1h}\nscope: user\n", 1, "flow mapping that starts here"),
        ("units:\n  a.timer: {}\n b.timer: {}\nscope: user\n", 3, "expected <block end>"),
        ("scope: user\nstate_dir: /a: b\n", 2, "mapping values are not allowed here"),
        ("units:\n\ta.timer: {}\n", 2, "cannot start any token"),
    ],
    ids=["missing-colon", "key-without-colon", "unclosed-quote", "unclosed-flow", "indent", "colon", "tab"],
)
def test_yaml_errors_name_the_line_that_is_broken(text: str, line: int, fragment: str) -> None:
    with pytest.raises(RegistryError) as err:
        parse_registry(text, "r.yaml")
    [message] = err.value.errors
    assert message.startswith(f"r.yaml:{line}: yaml: ") and fragment in message, message
