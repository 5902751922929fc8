"""Build observations of every supervised item (blocking; runs on the systemd thread)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

import structlog

from supervisor.adapters.systemd.client import SystemdClient
from supervisor.adapters.systemd.connection import UnitGone
from supervisor.adapters.systemd.facts import UnitSummary
from supervisor.config.registry import Registry
from supervisor.core.model import ItemPolicy, Kind, Observation, TimerObservation

log = structlog.get_logger("missionctl.observe")
_UNITS = (Kind.TIMER, Kind.DAEMON)
_ENABLED = {"enabled", "enabled-runtime", "linked", "linked-runtime"}


@dataclass(frozen=True)
class Snapshot:
    """What systemd said about every supervised item, and when."""

    policies: dict[str, ItemPolicy]
    observations: dict[str, Observation]
    paths: dict[str, bytes] = field(default_factory=dict)  # item or service name -> object path

    @cached_property
    def _dependents(self) -> dict[str, set[str]]:
        index: dict[str, set[str]] = {name: {name} for name in self.policies}
        for name, obs in self.observations.items():
            if isinstance(obs, TimerObservation) and obs.service:
                index.setdefault(obs.service.name, set()).add(name)
        return index

    def items_for(self, unit: str) -> set[str]:
        """The items whose observation depends on ``unit``."""
        return self._dependents.get(unit, set())


def supervised(registry: Registry, units: dict[str, UnitSummary], client: SystemdClient) -> dict[str, ItemPolicy]:
    """Listed units, checks and push heartbeats, plus (with discovery) every timer that is active or enabled."""
    policies = {name: registry.policy(name) for name in registry.listed}
    policies.update(registry.unitless())
    if not registry.discover:
        return policies
    for name, unit in sorted(units.items()):
        if not name.endswith(".timer") or name in policies or registry.ignored(name):
            continue
        if unit.load_state != "loaded":
            continue
        if unit.active_state == "inactive" and client.unit_file_state(unit.path) not in _ENABLED:
            continue  # disabled and inactive: intentionally off
        policies[name] = registry.policy(name, discovered=True)
    return policies


def observe_all(client: SystemdClient, registry: Registry, *, forget: bool = False) -> Snapshot:
    """A full sweep: list units, discover, read every supervised item (``forget``: nothing from memory)."""
    if forget:
        client.forget()
    units = client.list_units()
    policies = supervised(registry, units, client)
    return _read(client, policies, units, policies)


def observe_items(client: SystemdClient, snapshot: Snapshot, names: Iterable[str], *, forget: bool = False) -> Snapshot:
    """Re-read only ``names`` (after signals), keeping the rest of the snapshot."""
    if forget:
        client.forget()
    wanted = {n: p for n in names if (p := snapshot.policies.get(n)) is not None and p.kind in _UNITS}
    deps: list[str] = []
    for name in wanted:
        deps.append(name)
        obs = snapshot.observations.get(name)
        if isinstance(obs, TimerObservation) and obs.service:
            deps.append(obs.service.name)
    units = client.list_units_by_names(deps)  # the states of them all, in one call
    fresh = _read(client, wanted, units, snapshot.policies)
    return replace(
        snapshot,
        observations={**snapshot.observations, **fresh.observations},
        paths={**snapshot.paths, **fresh.paths},
    )


def _read(
    client: SystemdClient, wanted: dict[str, ItemPolicy], units: dict[str, UnitSummary], policies: dict[str, ItemPolicy]
) -> Snapshot:
    observations: dict[str, Observation] = {}
    paths: dict[str, bytes] = {}
    timers = [units[n] for n, p in wanted.items() if p.kind is Kind.TIMER and n in units]
    with client.batch(timers, units) as short:
        if short:
            log.warning("systemd_read_ahead_failed", error=short, timers=len(timers))
        for name, policy in wanted.items():
            if policy.kind not in _UNITS:
                continue  # checks and push heartbeats: nothing to ask systemd
            try:
                unit = units.get(name) or client.unit(name)
                paths[name] = unit.path
                if policy.kind is Kind.TIMER:
                    timer = client.read_timer(unit, units)
                    observations[name] = timer
                    if timer.service and timer.service.name in units:
                        paths[timer.service.name] = units[timer.service.name].path
                else:
                    observations[name] = client.read_daemon(unit)
            except UnitGone:
                continue  # no observation: the core reports it missing
    return Snapshot(policies=dict(policies), observations=observations, paths=paths)
