"""Read a registry file; on error, say ``file:line: field: message`` for every problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from supervisor.config import yamlsafe
from supervisor.config.errors import RegistryError
from supervisor.config.registry import Registry
from supervisor.config.schema import ValidationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def load_registry(path: Path) -> Registry:
    """Parse and validate the registry at ``path``; RegistryError lists every problem, nothing else is raised.

    Every reader of the registry (``validate``, ``check``, ``status``, ``run`` and the
    daemon's SIGHUP) goes through here.
    """
    try:
        text = yamlsafe.read_text(path)
    except yamlsafe.YamlProblem as exc:
        raise RegistryError([f"{path}:{exc.line}: {exc.field}: {exc.message}"]) from None
    return parse_registry(text, str(path))


def parse_registry(text: str, filename: str) -> Registry:
    """Parse registry text; ``filename`` is only used in messages. Raises RegistryError only."""
    try:
        return _parse(text, filename)
    except RegistryError as exc:
        raise RegistryError([_one_line(e) for e in exc.errors]) from None
    except (RecursionError, MemoryError) as exc:  # bounded above; a last line of defence, not a path
        raise RegistryError([f"{filename}:1: yaml: too complex to read ({type(exc).__name__})"]) from None
    except Exception as exc:  # noqa: BLE001 - a registry must never crash its reader
        raise RegistryError([f"{filename}:1: (file): cannot be read: {type(exc).__name__}: {exc}"]) from None


def _parse(text: str, filename: str) -> Registry:
    try:
        data, node = yamlsafe.load(text)
    except yamlsafe.YamlProblem as exc:
        raise RegistryError([f"{filename}:{exc.line}: {exc.field}: {exc.message}"]) from None
    if node is None:
        return Registry()
    errors = [f"{filename}:{line}: {field}: duplicate key" for line, field in _duplicates(node, ())]
    if not isinstance(data, dict):
        errors.append(f"{filename}:{node.start_mark.line + 1}: (top): expected a mapping of settings")
        raise RegistryError(errors)
    try:
        registry = Registry.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            errors.append(f"{filename}:{line}: {_field(loc)}: {_message(err)}")
        raise RegistryError(_by_line(errors)) from None
    for loc, message in registry.reference_errors():
        errors.append(f"{filename}:{_line_of(node, loc)}: {_field(loc)}: {message}")
    if errors:
        raise RegistryError(_by_line(errors))
    return registry


def _one_line(text: str) -> str:
    """An error is one line: control characters (a newline in a unit name...) are shown escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def _by_line(errors: list[str]) -> list[str]:
    return sorted(errors, key=lambda e: int(e.split(":")[1]) if e.split(":")[1].isdigit() else 0)


def _message(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden":
        return "unknown field"
    return msg.removeprefix("Value error, ")


def _field(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for key in loc:
        if key == "[key]":
            continue
        text = str(key)
        if isinstance(key, int) or parts in (["units"], ["checks"], ["pings"], ["jobs"]):  # an item's name, as written
            parts.append(f"[{key}]")
        elif "." in text or not parts:
            parts.append(f"[{text}]" if "." in text and parts else text)
        else:
            parts.append(f".{text}")
    return "".join(parts) or "(top)"


def _line_of(node: yaml.Node, loc: tuple[Any, ...]) -> int:
    """1-based line of the deepest node the pydantic location reaches."""
    current = node
    for key in loc:
        if key == "[key]":
            continue
        child = None
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                if str(k.value) == str(key):
                    # an error about a key itself (e.g. a bad unit name) sits on the key
                    child = k if loc[-1] == "[key]" and key == loc[-2] else v
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(key, int) and key < len(current.value):
            child = current.value[key]
        if child is None:
            break
        current = child
    return int(current.start_mark.line) + 1


def _duplicates(node: yaml.Node, path: tuple[str, ...]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = str(k.value)
            if key in seen:
                found.append((k.start_mark.line + 1, _field((*path, key))))
            seen.add(key)
            found.extend(_duplicates(v, (*path, key)))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            found.extend(_duplicates(v, (*path, str(i))))
    return found
