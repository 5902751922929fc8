"""The pure decision step at 1,000 timers, and what silences, windows and dependencies add to it.

Baseline: one whole step over N healthy timers with nothing silenced and no dependency. Then the
same step with an ad-hoc silence and an open maintenance window (each covering about 11 % of the
items by glob), and with 100 more daemons down and blocked by a down database. In-process (the
core has no I/O): the median of 30 steps, each after a first step that settled the state.

Also the state file's encoding after such steps, each failing one more timer (a state write follows
every alert and restart): the daemon's encoder, which keeps the entries that did not change, against
encoding the whole document (baseline), with the bytes checked equal.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from supervisor.adapters.statefile import Encoder
from supervisor.core.alerts import AlertPolicy
from supervisor.core.decide import decide
from supervisor.core.model import (
    DaemonObservation,
    ItemPolicy,
    Kind,
    MonotonicTrigger,
    Observation,
    ServiceRun,
    TimerObservation,
)
from supervisor.core.silences import Silence, Window
from supervisor.core.state import State, to_document

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
STEPS = 30


def _timer(name: str) -> TimerObservation:
    run = ServiceRun(
        name.replace(".timer", ".service"),
        "inactive",
        "success",
        "exited",
        0,
        NOW - timedelta(seconds=70),
        NOW - timedelta(seconds=60),
        name.encode().hex()[:32].ljust(32, "0"),
    )
    return TimerObservation(
        name,
        "loaded",
        "active",
        "waiting",
        last_trigger=NOW - timedelta(seconds=600),
        next_elapse=NOW + timedelta(seconds=3000),
        active_enter=NOW - timedelta(days=1),
        monotonic=(MonotonicTrigger("OnUnitActiveUSec", 3600.0),),
        service=run,
    )


def _step_ms(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    state: State,
    windows: Sequence[Window] = (),
) -> float:
    alerting = AlertPolicy()
    state = decide(policies, observations, state, NOW, alerting=alerting, windows=windows).state
    took = []
    for k in range(STEPS):
        started = time.perf_counter()
        decide(policies, observations, state, NOW + timedelta(seconds=k), alerting=alerting, windows=windows)
        took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


def _encode_ms(policies: Mapping[str, ItemPolicy], observations: dict[str, Observation]) -> tuple[float, float]:
    """Median ms to encode the state after a step that failed one more timer: (whole document, encoder)."""
    state = decide(policies, observations, State(), NOW).state
    encode = Encoder()
    encode(state)
    whole, kept = [], []
    for k, name in enumerate(list(observations)[:STEPS]):
        ok = observations[name]
        assert isinstance(ok, TimerObservation) and ok.service is not None
        run = replace(ok.service, result="exit-code", exit_status=3, invocation_id=f"{k:032x}")
        observations[name] = replace(ok, service=run)
        state = decide(policies, observations, state, NOW + timedelta(seconds=k + 1)).state
        started = time.perf_counter()
        plain = json.dumps(to_document(state), separators=(",", ":"), sort_keys=True).encode()
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        ours = encode(state)
        kept.append(time.perf_counter() - started)
        assert ours == plain
    return statistics.median(whole) * 1000, statistics.median(kept) * 1000


def bench_decide(timers: int) -> dict[str, float]:
    """Figures (ms per whole step) and ratios against the plain step of the same run."""
    names = [f"job{i:04d}.timer" for i in range(timers)]
    policies = {n: ItemPolicy(n, Kind.TIMER) for n in names}
    observations: dict[str, Observation] = {n: _timer(n) for n in names}
    plain = _step_ms(policies, observations, State())
    first = []
    for _ in range(STEPS):  # every item new: the daemon's first step after a cold sweep (no state file)
        started = time.perf_counter()
        decide(policies, observations, State(), NOW, alerting=AlertPolicy())
        first.append(time.perf_counter() - started)
    silence = Silence("s1", "job01*", NOW + timedelta(hours=1), "bench", NOW)
    window = Window(("job02*",), "*-*-* *:00:00", 7200.0)
    quiet = _step_ms(policies, observations, State(silences=(silence,)), (window,))
    down = DaemonObservation("db.service", "loaded", "failed", "failed", "exit-code")
    blocked_policies = dict(policies) | {"db.service": ItemPolicy("db.service", Kind.DAEMON)}
    blocked_obs = dict(observations) | {"db.service": down}
    for i in range(100):
        name = f"app{i:03d}.service"
        blocked_policies[name] = ItemPolicy(name, Kind.DAEMON)
        blocked_obs[name] = DaemonObservation(name, "loaded", "inactive", "dead", requires=("db.service",))
    blocked = _step_ms(blocked_policies, blocked_obs, State())
    whole, kept = _encode_ms(policies, observations)
    return {
        f"baseline: state file, {timers} timers, the whole document encoded after a step, ms": whole,
        "state file encoded after a step, keeping unchanged entries, ms": kept,
        "ratio: whole document / keeping unchanged entries": whole / kept,
        f"baseline: decision step, {timers} timers, nothing silenced, ms": plain,
        f"decision step, {timers} timers, every item new (a first step), ms": statistics.median(first) * 1000,
        "decision step + a silence and an open window (11% of items each), ms": quiet,
        "decision step + 100 daemons blocked by a down database, ms": blocked,
        "ratio: step with silence and window / baseline": quiet / plain,
        "ratio: step with 100 blocked daemons / baseline": blocked / plain,
    }
