"""Records: the models of a process that holds registries and never validates one (``config/records.py``)."""

from __future__ import annotations

import pickle

import pytest

from supervisor.config import records
from supervisor.config.registry import RestartSpec


class _Restart(records.Record):
    max: int = records.Field(3)
    per: float = records.Field(3600.0)
    backoff: float = records.Field(60.0)
    after: float = records.Field(60.0)


class Point(records.Record):
    x: int = records.Field(1, ge=0)
    tags: tuple[str, ...] = records.Field(default_factory=tuple)
    name: str = records.Field(alias="n")
    _hidden: int = 0

    @records.field_validator("x")
    @classmethod
    def _never_called(cls, value: int) -> int:
        raise AssertionError("validators are inert in a record")


def test_fields_are_the_annotated_public_names_and_defaults_read_through() -> None:
    assert Point._fields == ("x", "tags", "name")
    point = Point()
    assert (point.x, point.tags) == (1, ())
    with pytest.raises(AttributeError, match=r"Point\.name is required and not held"):
        _ = point.name


def test_a_record_is_frozen_and_compared_and_hashed_by_its_fields() -> None:
    a, b = Point(x=2, name="p"), Point(x=2, tags=(), name="p")
    assert a == b and hash(a) == hash(b)  # a default held or read through is the same value
    assert a != Point(x=3, name="p")
    with pytest.raises(AttributeError, match="frozen"):
        a.x = 5  # type: ignore[misc]
    assert repr(a) == "Point(x=2, tags=(), name='p')"


def test_model_copy_replaces_fields_and_leaves_the_original() -> None:
    a = Point(x=2, name="p")
    b = a.model_copy(update={"name": "q"})
    assert (b.x, b.name, a.name) == (2, "q", "p")


def test_it_takes_the_state_a_pydantic_model_pickles() -> None:
    state = RestartSpec(max=5).__getstate__()  # a real pydantic model's
    held = _Restart.__new__(_Restart)
    held.__setstate__(state)
    assert (held.max, held.per, held.backoff, held.after) == (5, 3600.0, 60.0, 60.0)
    assert pickle.loads(pickle.dumps(RestartSpec(max=5))) == RestartSpec(max=5)
