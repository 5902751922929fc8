"""YAML that cannot be used against us: bounded size, depth and alias expansion; errors with a line.

The registry is read by a process that runs as root and restarts units, and is
re-read on SIGHUP by the running daemon: a file must not be able to hang it (a
FIFO, ``/dev/zero``, a 10 MB file, an alias bomb), crash it (deep nesting that
exhausts the recursion limit, a tag that executes code or whose constructor
raises), or make it accept something nonsensical. Every failure here is a
``YamlProblem`` with the 1-based line it concerns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from supervisor.adapters.bounded import Refused, read_regular

MAX_BYTES = 1024 * 1024  # a registry is a few KiB; 1 MiB is plenty and cheap to parse
MAX_DEPTH = 32  # the registry's own nesting is about 6
MAX_NODES = 50_000  # nodes after alias expansion (1,000 units take about 5,000)
MAX_ALIASES = 1_000


class YamlProblem(Exception):
    """Why a registry's text cannot be used, and on which line."""

    def __init__(self, line: int, field: str, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.field = field
        self.message = message


def read_text(path: Path) -> str:
    """The file's text: a regular file, at most MAX_BYTES, UTF-8. Never blocks on a FIFO or a device."""
    try:
        return decode(read_regular(path, MAX_BYTES))
    except Refused as exc:
        raise YamlProblem(1, "(file)", f"cannot read the registry: {exc}") from None


def decode(data: bytes) -> str:
    """UTF-8 text, or a YamlProblem on the line of the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = " (UTF-16?)" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise YamlProblem(
            line, "(file)", f"not UTF-8 text{hint}: byte 0x{data[exc.start]:02x} at offset {exc.start}"
        ) from None


class _Loader(yaml.SafeLoader):
    """The safe loader (no tag runs code), whose every constructor failure carries the node's line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except ConstructorError:
            raise
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            raise ConstructorError(None, None, f"cannot read this {node.tag} value: {exc}", node.start_mark) from None


def load(text: str) -> tuple[Any, yaml.Node | None]:
    """The document's data and its node tree (for line numbers); YamlProblem when it cannot be used."""
    _check_shape(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node)
        return loader.construct_document(node), node
    except yaml.MarkedYAMLError as exc:
        raise _problem(exc) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(_line_at(text, exc), "yaml", str(exc).splitlines()[0]) from None
    finally:
        loader.dispose()


def _check_shape(text: str) -> None:
    """Depth and size, from the parser's events (iterative: deep nesting cannot exhaust the stack)."""
    depth = nodes = aliases = 0
    try:
        for event in _events(text):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlProblem(_mark(event), "yaml", f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise YamlProblem(_mark(event), "yaml", f"more than {MAX_ALIASES} aliases")
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise YamlProblem(_mark(event), "yaml", f"more than {MAX_NODES} values")
    except yaml.MarkedYAMLError as exc:
        raise _problem(exc) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(_line_at(text, exc), "yaml", str(exc).splitlines()[0]) from None


def _events(text: str) -> Iterator[yaml.Event]:
    loader = _Loader(text)
    try:
        while loader.check_event():
            yield loader.get_event()  # type: ignore[no-untyped-call]
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Aliases share nodes; what the document *means* is the expansion: bound its size and depth."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, expanded depth)

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:
            raise YamlProblem(node.start_mark.line + 1, "yaml", f"nested deeper than {MAX_DEPTH} levels (aliases)")
        known = sizes.get(id(node))
        if known is not None:
            return known
        size, deepest = 1, 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        for child in children:
            s, d = measure(child, depth + 1)
            size, deepest = size + s, max(deepest, d + 1)
            if size > MAX_NODES:
                raise YamlProblem(node.start_mark.line + 1, "yaml", f"more than {MAX_NODES} values once aliases expand")
        sizes[id(node)] = (size, deepest)
        return size, deepest

    measure(root, 1)


def _problem(exc: yaml.MarkedYAMLError) -> YamlProblem:
    """On the line where the broken construct is (for a key, quote or flow collection left open, its start)."""
    context = exc.context or ""
    opened = exc.context_mark is not None and ("scanning" in context or "flow" in context)
    mark = exc.context_mark if opened else (exc.problem_mark or exc.context_mark)
    message = exc.problem or str(exc).splitlines()[0]
    if opened:
        message += f" ({context} that starts here)"
    elif exc.context and not exc.problem:
        message = exc.context
    return YamlProblem(mark.line + 1 if mark else 1, "yaml", message)


def _mark(event: yaml.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark else 1


def _line_at(text: str, exc: yaml.YAMLError) -> int:
    position = getattr(exc, "position", None)  # a ReaderError (a character YAML does not allow)
    return text[:position].count("\n") + 1 if isinstance(position, int) else 1
