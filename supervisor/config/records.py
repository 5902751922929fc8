"""Stand-ins for pydantic's names, in a process that holds registries and never validates one (``schema``).

A model becomes a ``Record``: frozen, compared and hashed by its fields as a frozen pydantic
model is, and filled from the state a pydantic model pickles (``vetted`` unpickles the
child's registry into it). Defaults are class attributes, so a model made here with no
arguments (``UnitSpec()``, for a discovered timer) reads as pydantic's would. Validators
are inert: nothing here is validated, it was in the child.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar


class Record:
    """A model's values, held: read-only attributes, equality and hash by field, ``model_copy``."""

    model_config: ClassVar[dict[str, Any]] = {}
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            for name in vars(klass).get("__annotations__", {}):
                if not name.startswith("_") and name != "model_config":
                    names[name] = None
        cls._fields = tuple(names)

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """What a pydantic model pickles: its fields under ``__dict__`` (the rest is pydantic's bookkeeping)."""
        self.__dict__.update(state["__dict__"])

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def _values(self) -> Iterator[object]:
        return (getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return tuple(self._values()) == tuple(other._values())

    def __hash__(self) -> int:
        return hash(tuple(self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name, None)!r}" for name in self._fields)
        return f"{type(self).__name__}({shown})"

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Any:
        """A copy with some fields replaced (not validated, as pydantic's is not)."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update({name: getattr(self, name) for name in self._fields}, **(update or {}))
        return copy


BaseModel = Record
_REQUIRED = object()


class _Required:
    """A field with no default: a record that does not hold it has no such attribute."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        raise AttributeError(f"{owner.__name__ if owner else '?'}.{self.name} is required and not held")


def ConfigDict(**settings: Any) -> dict[str, Any]:
    """The model's settings, kept for show."""
    return settings


def Field(default: Any = _REQUIRED, *, default_factory: Callable[[], Any] | None = None, **_rules: Any) -> Any:
    """The default a field reads as when a record does not hold it (the rules were checked in the child)."""
    if default_factory is not None:
        return default_factory()
    return _Required() if default is _REQUIRED else default


class _Validator:
    def __init__(self, func: Callable[..., Any], **_options: Any) -> None:
        self.func = func


class AfterValidator(_Validator):
    """Inert."""


class BeforeValidator(_Validator):
    """Inert."""


class PlainValidator(_Validator):
    """Inert."""


def field_validator(*_fields: str, **_options: Any) -> Callable[[Any], Any]:
    """Inert: the method stays as written."""
    return lambda method: method


def model_validator(**_options: Any) -> Callable[[Any], Any]:
    """Inert: the method stays as written."""
    return lambda method: method


class ValidationError(ValueError):
    """Never raised here: nothing is validated in this process."""
