"""The layout's rules, read from the sources: the web layer sees the runtime through its ports only,
the runtime never imports the web layer, the core does no I/O imports, and nothing imports in a loop."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "supervisor"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, runtime_only: bool = False) -> Iterator[str]:
    """The supervisor modules ``path`` imports (``runtime_only``: leave out ``if TYPE_CHECKING:`` blocks)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("supervisor"):
            yield node.module
            for alias in node.names:  # `from supervisor.web import api` imports supervisor.web.api
                if (PACKAGE.parent / (node.module + "." + alias.name).replace(".", "/")).with_suffix(".py").exists():
                    yield f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("supervisor"))


SOURCES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def test_the_web_layer_reaches_the_runtime_only_through_its_ports() -> None:
    for name, path in SOURCES.items():
        if name.startswith("supervisor.web"):
            runtime = [m for m in _imports(path) if m.startswith("supervisor.runtime")]
            wrong = [m for m in runtime if m != "supervisor.runtime.ports"]
            assert wrong == [], f"{name} imports {wrong}"


def test_the_runtime_never_imports_the_web_layer() -> None:
    for name, path in SOURCES.items():
        if name.startswith("supervisor.runtime"):
            wrong = [m for m in _imports(path) if m.startswith("supervisor.web")]
            assert wrong == [], f"{name} imports {wrong}"


def test_the_core_imports_only_the_core() -> None:
    for name, path in SOURCES.items():
        if name.startswith("supervisor.core"):
            wrong = [m for m in _imports(path) if not m.startswith("supervisor.core")]
            assert wrong == [], f"{name} imports {wrong}"


def test_no_module_imports_itself_through_others() -> None:
    graph = {
        name: {m for m in _imports(path, runtime_only=True) if m in SOURCES and m != name}
        for name, path in SOURCES.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError("import loop: " + " -> ".join([*trail[trail.index(name) :], name]))
        if name in done:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert len(done) == len(SOURCES) > 90


def test_only_the_schema_names_pydantic_so_the_daemon_can_hold_records() -> None:
    # a model module importing pydantic itself would load the validator into the daemon (config/schema.py)
    for name, path in SOURCES.items():
        tree = ast.parse(path.read_text(), str(path))
        named = [
            n.module if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in n.names
            if ((n.module or "") if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
            in ("pydantic", "pydantic_core")
        ]
        assert named == [] or name == "supervisor.config.schema", f"{name} imports {named}"
