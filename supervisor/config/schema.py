"""What the registry's models are made of: pydantic where a registry is validated, plain records where one is held.

Validating a registry needs pydantic: its core and the models' validators are about 11 MB
resident, a sixth of the daemon. Holding a registry that was validated needs none of it.
``missionctl run`` calls ``hold_only()`` before any model is defined, and reads its registry
through a child process that validates it (``supervisor.config.vetted``): there the models
are ``records.Record``s, filled from what the child validated. Everywhere else (the other
commands, the child itself, the tests) they are pydantic models.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the models are checked against: pydantic's own names
    from pydantic import (
        AfterValidator,
        BaseModel,
        BeforeValidator,
        ConfigDict,
        Field,
        PlainValidator,
        ValidationError,
        field_validator,
        model_validator,
    )

__all__ = [
    "AfterValidator",
    "BaseModel",
    "BeforeValidator",
    "ConfigDict",
    "Field",
    "PlainValidator",
    "ValidationError",
    "field_validator",
    "model_validator",
]

#: The modules that define models: once one is imported, which kind they are is settled.
MODELS = (
    "supervisor.config.alerts",
    "supervisor.config.durations",
    "supervisor.config.jobs",
    "supervisor.config.probes",
    "supervisor.config.quiet",
    "supervisor.config.registry",
)
_held = False


def hold_only() -> None:
    """From now on the models are records: this process holds registries, it never validates one."""
    global _held
    defined = [name for name in MODELS if name in sys.modules]
    if defined and not _held:
        raise RuntimeError(f"hold_only() after the models were defined as pydantic models ({', '.join(defined)})")
    _held = True


def held() -> bool:
    """Whether this process only holds registries (its models are records)."""
    return _held


def __getattr__(name: str) -> object:
    source: ModuleType = importlib.import_module("supervisor.config.records" if _held else "pydantic")
    try:
        return getattr(source, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
