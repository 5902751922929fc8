"""Which kind the registry's models are: pydantic where a registry is validated, records where held (schema.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from supervisor.config import schema
from supervisor.config.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


def test_hold_only_refuses_once_the_models_are_pydantics() -> None:
    # this process validates registries: its models were defined as pydantic models on import
    with pytest.raises(RuntimeError, match="after the models were defined"):
        schema.hold_only()
    assert not schema.held()
    assert schema.BaseModel.__module__.startswith("pydantic")
    assert Registry.__mro__[2] is schema.BaseModel


def test_missionctl_run_defines_records_and_the_other_commands_pydantic_models(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.yaml")  # each command stops at its registry: what matters is what it loaded
    probe = (
        "import sys; sys.argv[1:] = {argv!r}\n"
        "import supervisor.cli.entry as entry; code = entry.main()\n"
        "from supervisor.config.registry import Registry\n"
        "print(code, Registry.__mro__[2].__module__, 'pydantic' in sys.modules)"
    )
    for argv, expected in (
        (["run", "--registry", missing], "2 supervisor.config.records False"),
        (["validate", missing], "2 pydantic.main True"),
        (["status", "--registry", missing], "2 pydantic.main True"),
    ):
        done = subprocess.run([sys.executable, "-c", probe.format(argv=argv)], capture_output=True, text=True, cwd=ROOT)
        assert done.stdout.strip() == expected, done.stderr
        assert f"{missing}:1: (file): " in done.stderr  # the same error, from the child or the loader
