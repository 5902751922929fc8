"""Roots and blocked items on the dependency graph."""

from __future__ import annotations

import pytest

from supervisor.core.deps import Block, blocked, blocks, closure, dependants, graph
from supervisor.core.model import Status

OK, DOWN, FAILED, DEGRADED, PAUSED = Status.OK, Status.DOWN, Status.FAILED, Status.DEGRADED, Status.PAUSED


def test_graph_keeps_only_supervised_dependencies_and_never_the_item_itself() -> None:
    edges = {"app.service": ["db.service", "sysinit.target", "app.service"], "x": ["db.service"]}
    assert graph(edges, ["app.service", "db.service"]) == {"app.service": ("db.service",)}


def test_a_broken_dependency_blocks_a_broken_dependant_and_is_its_root() -> None:
    deps = {"app": ("db",), "job": ("db",)}
    found = blocked({"db": DOWN, "app": DOWN, "job": FAILED}, deps)
    assert found == {"app": Block((("db", DOWN),)), "job": Block((("db", DOWN),))}
    assert blocks(found) == {"db": ("app", "job")}
    assert found["app"].reason("service stopped (inactive)") == "blocked by db (down): service stopped (inactive)"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({"db": OK, "app": DOWN}, {}),  # the dependency is fine: the dependant's problem is its own
        ({"db": DOWN, "app": OK}, {}),  # nothing to block
        ({"db": DEGRADED, "app": DOWN}, {}),  # a slow database still serves
        ({"db": PAUSED, "app": DOWN}, {}),
        ({"db": DOWN, "app": DEGRADED}, {"app": Block((("db", DOWN),))}),
    ],
)
def test_what_blocks_and_what_does_not(statuses: dict[str, Status], expected: dict[str, Block]) -> None:
    assert blocked(statuses, {"app": ("db",)}) == expected


def test_a_chain_names_its_root_for_every_item_above_it() -> None:
    deps = {"web": ("app",), "app": ("db",)}
    found = blocked({"web": DOWN, "app": DOWN, "db": DOWN}, deps)
    assert found == {"web": Block((("db", DOWN),)), "app": Block((("db", DOWN),))}
    # the middle of the chain fine: web's own problem is not the database's
    assert blocked({"web": DOWN, "app": OK, "db": DOWN}, deps) == {}


def test_a_cycle_of_broken_items_is_never_silent() -> None:
    deps = {"a": ("b",), "b": ("a",), "c": ("a",)}
    found = blocked({"a": DOWN, "b": DOWN, "c": DOWN}, deps)
    assert set(found) == {"c"}  # a and b each announce themselves
    assert found["c"] == Block((("a", DOWN), ("b", DOWN)))


def test_two_roots_are_both_named() -> None:
    found = blocked({"app": DOWN, "db": DOWN, "cache": FAILED}, {"app": ("cache", "db")})
    assert found["app"].reason("x") == "blocked by cache (failed), db (down): x"


def test_dependants_and_closure() -> None:
    deps = {"web": ("app",), "app": ("db",), "job": ("db",)}
    back = dependants(deps)
    assert back == {"app": ("web",), "db": ("app", "job")}
    assert closure({"db"}, back) == {"db", "app", "job", "web"}
