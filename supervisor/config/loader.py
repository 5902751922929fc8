"""Read a registry file; on error, say ``file:line: field: message`` for every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from supervisor.config.registry import Registry

#: The daemon's copy of the registry it runs with, in its state directory.
ACTIVE_REGISTRY = "registry.active.yaml"


class RegistryError(Exception):
    """The registry could not be used; ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps every scalar as YAML types, nothing executable."""


def load_registry(path: Path) -> Registry:
    """Parse and validate the registry at ``path``; RegistryError lists every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError([f"{path}: cannot read registry: {exc}"]) from exc
    return parse_registry(text, str(path))


def parse_registry(text: str, filename: str) -> Registry:
    """Parse registry text; ``filename`` is only used in messages."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise RegistryError([_yaml_error(exc, filename)]) from exc
    except yaml.YAMLError as exc:
        raise RegistryError([f"{filename}:1: yaml: {exc}"]) from exc
    if node is None:
        return Registry()
    errors = [f"{filename}:{line}: {field}: duplicate key" for line, field in _duplicates(node, ())]
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
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
        raise RegistryError(_by_line(errors)) from exc
    if errors:
        raise RegistryError(errors)
    return registry


def _yaml_error(exc: yaml.MarkedYAMLError, filename: str) -> str:
    """``file:line: yaml: problem``, on the line where the broken construct is.

    For a key, quoted scalar or flow collection left open, PyYAML notices the problem
    only further down (often the next line, or the end of the file); the place the
    construct started (its context mark) is where it must be fixed. For block
    structure errors the problem mark is already right.
    """
    context = exc.context or ""
    opened = exc.context_mark is not None and ("scanning" in context or "flow" in context)
    mark = exc.context_mark if opened else (exc.problem_mark or exc.context_mark)
    line = mark.line + 1 if mark else 1
    message = exc.problem or str(exc)
    if opened:
        message += f" ({context} that starts here)"
    return f"{filename}:{line}: yaml: {message}"


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
        if isinstance(key, int):
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
