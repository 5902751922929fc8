"""Which problems are caused by another one: the dependency graph and ``blocked`` (pure).

An item depends on another supervised item when systemd says so (``Requires=``,
``BindsTo=``, ``Requisite=``, ``PartOf=`` of its unit, or of a timer's service) or
the registry does (``depends_on:``). An item with a problem is **blocked** when
something it depends on is *broken* (any problem but ``degraded``): the root of the
chain is announced, listing what it blocks; the blocked items are neither
restarted nor alerted on their own until the root is ok again.

Roots are found on the graph of broken items: a broken item whose own broken
dependencies all lead back to it (a strongly connected component with nothing
broken below it) is a root. A cycle of broken items is therefore never silent: its
members are roots and each is announced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from supervisor.core.model import Status

Graph = Mapping[str, tuple[str, ...]]


def graph(edges: Mapping[str, Iterable[str]], items: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each item's dependencies among ``items`` (unsupervised units and itself left out), in a stable order."""
    known = set(items)
    out: dict[str, tuple[str, ...]] = {}
    for name, deps in edges.items():
        if name not in known:
            continue
        kept = tuple(sorted({d for d in deps if d in known and d != name}))
        if kept:
            out[name] = kept
    return out


def dependants(deps: Graph) -> dict[str, tuple[str, ...]]:
    """The reverse graph: for each item, who depends on it directly."""
    out: dict[str, list[str]] = {}
    for name, targets in deps.items():
        for target in targets:
            out.setdefault(target, []).append(name)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def closure(names: Iterable[str], edges: Graph) -> set[str]:
    """``names`` and everything reachable from them along ``edges``."""
    seen = set(names)
    todo = list(seen)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def broken(status: Status) -> bool:
    """Whether a dependency in this status blocks what depends on it (degraded still serves)."""
    return status.is_problem and status is not Status.DEGRADED


@dataclass(frozen=True, slots=True)
class Block:
    """Why an item is blocked: the root causes, each with its status."""

    roots: tuple[tuple[str, Status], ...]

    def reason(self, own: str) -> str:
        """``blocked by db.service (down): service stopped (inactive)``."""
        by = ", ".join(f"{name} ({status.value})" for name, status in self.roots)
        return f"blocked by {by}: {own}"


def blocked(statuses: Mapping[str, Status], deps: Graph) -> dict[str, Block]:
    """The items with a problem whose problem comes from a broken dependency, and their roots."""
    bad = {n for n, s in statuses.items() if broken(s)}
    if not bad or not deps:
        return {}
    edges = {n: tuple(d for d in deps.get(n, ()) if d in bad) for n in statuses if deps.get(n)}
    reach: dict[str, set[str]] = {}

    def reachable(name: str) -> set[str]:
        if name not in reach:
            reach[name] = closure(edges.get(name, ()), edges)
        return reach[name]

    out: dict[str, Block] = {}
    for name, status in statuses.items():
        if not status.is_problem or not edges.get(name):
            continue
        below = reachable(name)
        # a root: broken, and all it reaches reaches it back (nothing broken further down)
        roots = sorted(r for r in below if name not in reachable(r) and all(r in reachable(x) for x in reachable(r)))
        if roots:
            out[name] = Block(tuple((r, statuses[r]) for r in roots))
    return out


def blocks(found: Mapping[str, Block]) -> dict[str, tuple[str, ...]]:
    """For each root, the items it blocks (what its ``down`` alert lists)."""
    out: dict[str, list[str]] = {}
    for name, block in found.items():
        for root, _status in block.roots:
            out.setdefault(root, []).append(name)
    return {k: tuple(sorted(v)) for k, v in out.items()}
