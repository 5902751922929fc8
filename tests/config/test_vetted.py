"""A registry validated by a child process and held here, as records or as pydantic models (``config/vetted.py``)."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from supervisor.config import vetted
from supervisor.config.errors import RegistryError
from supervisor.config.loader import load_registry
from supervisor.config.registry import Registry
from tests.config.described import described

FULL = Path(__file__).with_name("full_registry.yaml")

#: Run in a fresh interpreter that holds registries only: what it holds, and what it imported.
HELD = """
import json, sys
from pathlib import Path
from supervisor.config import schema
schema.hold_only()
from supervisor.config.vetted import read_vetted
from tests.config.described import described
registry = read_vetted(Path(sys.argv[1]), user="--user" in sys.argv)
print(json.dumps({
    "registry": described(registry),
    "kinds": sorted({c.__module__ for c in type(registry).__mro__}),
    "pydantic": sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core", "yaml")),
}))
"""


def held(path: Path, *extra: str) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", HELD, str(path), *extra], capture_output=True, text=True, cwd=root, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_registry_held_as_records_reads_as_the_validated_one() -> None:
    validated = load_registry(FULL)
    out = held(FULL)
    assert "supervisor.config.records" in out["kinds"]  # records, not pydantic models
    assert not any(kind.startswith("pydantic") for kind in out["kinds"])
    assert out["pydantic"] == []  # the validator was never loaded in that process
    assert out["registry"] == json.loads(json.dumps(described(validated)))
    assert '"class": "SecretValue"' in json.dumps(out["registry"])  # the deepest models came through


def test_the_example_registry_and_the_user_scope_come_through() -> None:
    root = Path(__file__).resolve().parents[2]
    out = held(root / "registry.yaml", "--user")
    validated = load_registry(root / "registry.yaml").model_copy(update={"scope": "user"})
    assert out["registry"] == json.loads(json.dumps(described(validated)))
    assert out["registry"]["fields"]["scope"] == "'user'"


def test_in_a_validating_process_it_reads_into_pydantic_models() -> None:
    registry = vetted.read_vetted(FULL)
    assert isinstance(registry, Registry)
    assert registry == load_registry(FULL)


def test_a_broken_registry_says_file_line_and_field_as_the_loader_does(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("units:\n  a.timer: {max_stale: soon}\n")
    with pytest.raises(RegistryError) as caught:
        vetted.read_vetted(bad)
    with pytest.raises(RegistryError) as direct:
        load_registry(bad)
    assert caught.value.errors == direct.value.errors
    assert caught.value.errors[0].startswith(f"{bad}:2: units[a.timer].max_stale: invalid duration")


def test_a_missing_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"r\.yaml:1: "):
        vetted.read_vetted(tmp_path / "r.yaml")


def test_a_child_that_does_not_answer_in_time_is_a_registry_error() -> None:
    # 10 ms: no interpreter starts that fast, so the child is still starting when its time is up
    with pytest.raises(RegistryError, match=r"full_registry\.yaml:1: \(file\): not validated within 0\.01s"):
        vetted.read_vetted(FULL, timeout=0.01)


def test_a_stream_naming_anything_but_the_registrys_classes_is_refused() -> None:
    for foreign in (print, subprocess.Popen, Path.write_text, io.BytesIO(b"")):
        stream = pickle.dumps(("ok", {"x": foreign}))
        with pytest.raises(pickle.UnpicklingError, match="a registry does not hold"):
            vetted._Unpickler(io.BytesIO(stream)).load()
    from supervisor.config.durations import parse_duration  # an own module, but a function: refused

    with pytest.raises(pickle.UnpicklingError):
        vetted._Unpickler(io.BytesIO(pickle.dumps(parse_duration))).load()


class _ByName:
    """Pickles as ``getattr(kind, name)``: how some Pythons (Debian's 3.11) pickle an enum member."""

    def __init__(self, kind: object, name: str) -> None:
        self.kind, self.name = kind, name

    def __reduce__(self) -> tuple[object, tuple[object, str]]:
        return getattr, (self.kind, self.name)


def test_an_enum_member_pickled_by_name_is_taken_and_nothing_else_by_name() -> None:
    from supervisor.core.model import OnStale

    stream = pickle.dumps(("ok", _ByName(OnStale, "ALERT")))
    assert b"getattr" in stream
    assert vetted._Unpickler(io.BytesIO(stream)).load() == ("ok", OnStale.ALERT)
    for kind, name in ((Registry, "policy"), (OnStale, "__class__"), (OnStale, "_member_map_")):
        with pytest.raises(pickle.UnpicklingError, match="a registry does not hold"):
            vetted._Unpickler(io.BytesIO(pickle.dumps(_ByName(kind, name)))).load()


def test_an_answer_that_is_neither_a_registry_nor_errors_is_a_registry_error() -> None:
    path = Path("r.yaml")
    with pytest.raises(RegistryError) as caught:
        vetted._verdict(path, pickle.dumps(("rejected", ["r.yaml:3: units: bad"])))
    assert caught.value.errors == ["r.yaml:3: units: bad"]
    for answer in (("ok", {"units": {}}), ("maybe", load_registry(FULL)), ("ok",), "ok", b""):
        with pytest.raises(RegistryError, match=r"^r\.yaml:1: \(file\): the validator's answer"):
            vetted._verdict(path, pickle.dumps(answer) if answer != b"" else b"")
    assert vetted._verdict(path, pickle.dumps(("ok", load_registry(FULL)))) == load_registry(FULL)
