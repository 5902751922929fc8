"""One decision step: (policies, observations, state, now) -> (state, transitions, actions)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from supervisor.core import deps, ratelimit, silences
from supervisor.core.alerts import (
    Alert,
    AlertEvent,
    AlertPolicy,
    ItemFacts,
    anomaly_alert,
    item_alerts,
    summary_alert,
)
from supervisor.core.incident import IncidentPolicy, Tracking, in_stop_grace, publish
from supervisor.core.lifecycle import check_status_change
from supervisor.core.model import (
    RESTARTABLE,
    Anomalies,
    DaemonObservation,
    ItemPolicy,
    Kind,
    Observation,
    OnDown,
    OnHung,
    OnStale,
    Status,
    TimerObservation,
)
from supervisor.core.output import OutputWanted, output_of, wanted
from supervisor.core.pings import PingEvent, assess_ping, track_pings
from supervisor.core.probes import ProbeResult, ProbeState
from supervisor.core.probes import step as probe_step
from supervisor.core.report import item_report
from supervisor.core.runs import (
    ANOMALY_ALERT_EVERY,
    RunFact,
    RunFinished,
    RunMemory,
    RunStats,
    mark_stopped,
    track,
    usual,
    with_output,
)
from supervisor.core.silences import Window
from supervisor.core.state import ItemState, State, Transition, is_paused
from supervisor.core.status import Assessment, Cause, assess, assess_check, assess_daemon, unscheduled

_NO_STATS = RunStats()
#: "Active but nothing scheduled" becomes ``dead`` only if it still holds this long after it was first seen
#: (between two runs of a timer firing every second, systemd has not computed the next elapse yet).
UNSCHEDULED_SETTLE = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class Restart:
    """Restart ``unit`` on behalf of ``item`` (attempt ``attempt`` of the window)."""

    item: str
    unit: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Escalate:
    """The item's restart budget is spent: hand over to the recovery hook and humans."""

    item: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Stop:
    """Stop the hung run ``unit`` of ``item`` (``on_hung: stop``; attempt ``attempt`` of the restart window)."""

    item: str
    unit: str
    attempt: int


Action = Restart | Escalate | Stop


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one step. ``state`` must be persisted before ``actions`` run."""

    state: State
    assessments: Mapping[str, Assessment]
    transitions: list[Transition] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    runs: list[RunFact] = field(default_factory=list)  # runs that started, finished or became overdue
    output: list[OutputWanted] = field(default_factory=list)


def decide(
    policies: Mapping[str, ItemPolicy],
    observations: Mapping[str, Observation],
    state: State,
    now: datetime,
    *,
    act: bool = True,
    alerting: AlertPolicy | None = None,
    observed: Set[str] | None = None,
    stats: Mapping[str, RunStats] | None = None,
    probes: Mapping[str, Sequence[ProbeResult]] | None = None,
    pings: Mapping[str, Sequence[PingEvent]] | None = None,
    only: Set[str] | None = None,
    carried: Mapping[str, Assessment] | None = None,
    windows: Sequence[Window] = (),
) -> Decision:
    """Assess every item, follow its runs, record transitions, choose restarts within budget and alerts.

    With ``act=False`` nothing is restarted, stopped, escalated or alerted (a
    read-only look; runs are still followed). ``observed`` names the items re-read
    for this step (None: all of them); only those count towards ``confirm``.
    ``stats`` is each item's run history (for derived ``max_runtime`` and anomalies).
    ``probes`` are probe results and ``pings`` push heartbeats received since the last step.
    ``only``: decide just these items and keep every other one as ``carried`` assessed it (a
    step for a few pings need not re-judge a thousand timers; a full step follows soon).
    ``windows``: the registry's maintenance windows (ad-hoc silences are in the state).
    """
    assessments: dict[str, Assessment] = {}
    items: dict[str, ItemState] = {}
    alert_policy = alerting or AlertPolicy()
    incident = alert_policy.incident
    run_memory: dict[str, RunMemory] = {}
    verdicts: dict[str, ProbeState] = {}
    run_facts: list[RunFact] = []
    want: list[OutputWanted] = []
    restarts = {
        u: ratelimit.in_window(ts, policies[u].restart, now) if u in policies else ts
        for u, ts in state.restarts.items()
    }
    transitions: list[Transition] = []
    actions: list[Action] = []
    alerts: list[Alert] = []
    edges = dependency_graph(policies, observations)
    if only is not None and edges:  # what depends on an item decided now is decided again with it
        only = deps.closure(only, deps.dependants(edges))
    looks: list[_Look] = []
    for name, policy in policies.items():
        if only is not None and carried is not None and name not in only and name in carried and name in state.items:
            assessments[name] = carried[name]  # unchanged since the last step: carried as it was
            items[name] = state.items[name]
            if name in state.runs:
                run_memory[name] = state.runs[name]
            if name in state.probes:
                verdicts[name] = state.probes[name]
            continue
        look = _look(policy, observations.get(name), state, now, stats, probes, pings, incident, restarts.get(name, ()))
        run_facts.extend(look.facts)
        if isinstance(look.obs, TimerObservation):
            want.extend(wanted(policy, look.facts))
        if look.verdict is not None:
            verdicts[name] = look.verdict
        assessments[name] = look.found
        looks.append(look)
    held_by = deps.blocked({n: a.status for n, a in assessments.items()}, edges) if edges else {}
    roots = deps.blocks(held_by)
    quiet = silences.quiet((look.policy.name for look in looks), state.silences, windows, now)
    for look in looks:
        name, policy, obs, memory, previous = look.policy.name, look.policy, look.obs, look.memory, look.previous
        found, raw, tracking = look.found, look.raw, look.tracking
        block = held_by.get(name)
        if block is not None:
            found = replace(found, status=Status.BLOCKED, reason=block.reason(found.reason))
            assessments[name] = found
        hush = quiet.get(name)
        tracked = {
            "raw": tracking.raw,
            "changes": tracking.changes,
            "ok_since": tracking.ok_since,
            "bad": tracking.bad,
            "bad_reason": tracking.bad_reason,
            "unscheduled_since": look.unscheduled_since,
            "silenced_until": hush.until if hush else None,
            "blocked_by": tuple(r for r, _status in block.roots) if block else (),
        }
        current = _carry(previous, found, now, tracked)
        change = None
        if previous is None or previous.status is not found.status:
            old = previous.status if previous else None
            check_status_change(found.kind, old, found.status)
            change = Transition(name, old, found.status, found.reason, now, initial=previous is None)
            transitions.append(change)
        grace = in_stop_grace(raw, current.since, policy.restart.after_s, now)
        escalate = False
        verdict = look.verdict
        since = verdict.since if raw.cause is Cause.PROBE and verdict and verdict.since else current.since
        held = hush is not None or block is not None  # observed and recorded, never acted on nor alerted
        if act and not look.paused and not held and _may_act(policy, raw, since, now):
            attempts = restarts.get(name, ())
            if ratelimit.exhausted(attempts, policy.restart, now):
                if not current.escalated:
                    current = replace(current, escalated=True)
                    actions.append(Escalate(name, found.reason, now))
                    escalate = True
            elif ratelimit.next_allowed(attempts, policy.restart, now) <= now:
                restarts[name] = (*attempts, now)
                if raw.status is Status.HUNG and isinstance(obs, TimerObservation) and obs.service is not None:
                    memory = mark_stopped(memory)
                    actions.append(Stop(name, obs.service.name, len(restarts[name])))
                else:
                    actions.append(Restart(name, name, len(restarts[name])))
        if act and alerting is not None and not look.paused:  # a paused item keeps its alert memory as it was
            attempts = restarts.get(name, ())
            blocking = roots.get(name, ())
            item_facts = ItemFacts(
                found.kind.value,
                policy.critical,
                _Lazy(
                    lambda p=policy, o=obs, f=found, m=memory, a=attempts, b=blocking: _details(  # type: ignore[misc]
                        item_report(p, o, f, state, now, m), a, b
                    )
                ),
                output_of(found.status, memory),
            )
            was_held = previous is not None and (previous.silenced_until is not None or bool(previous.blocked_by))
            current, found_alerts = item_alerts(
                name,
                found,
                current,
                change,
                observed=observed is None or name in observed,
                escalate=escalate,
                facts=item_facts,
                policy=alerting,
                now=now,
                grace=grace,
                flapping=tracking.flapping,
                hold=held,
                released=was_held and not held,
            )
            alerts.extend(found_alerts)
            if policy.anomalies is Anomalies.ALERT and not held:
                current, memory, odd = _anomaly_alerts(
                    name, look.facts, usual(look.stats), current, memory, item_facts, alerting, now
                )
                alerts.extend(odd)
        items[name] = current
        if isinstance(obs, TimerObservation) or policy.kind is Kind.PING or name in state.runs:
            run_memory[name] = memory
    new_state = State(
        items=items,
        restarts={u: ts for u, ts in restarts.items() if ts and u in policies},
        last_summary_at=state.last_summary_at,
        paused={n: u for n, u in state.paused.items() if n in policies and (u is None or u > now)},
        runs=run_memory,
        probes=verdicts,
        silences=silences.current(state.silences, now),
    )
    if act and alerting is not None:
        new_state, summary = summary_alert(new_state, assessments, alerting, now)
        if summary is not None:
            alerts.append(summary)
    return Decision(new_state, assessments, transitions, actions, alerts, run_facts, want)


class _Look(NamedTuple):
    """What one item is at this step, before its dependencies and silences are taken into account.

    (A tuple: one is made per item per step, and a frozen dataclass costs several times more to build.)
    """

    policy: ItemPolicy
    obs: Observation | None
    memory: RunMemory
    facts: list[RunFact]
    stats: RunStats
    verdict: ProbeState | None
    previous: ItemState | None
    unscheduled_since: datetime | None
    paused: bool
    raw: Assessment  # what this look found: actions follow it
    found: Assessment  # what is published (an incident may hold it)
    tracking: Tracking


def _look(
    policy: ItemPolicy,
    obs: Observation | None,
    state: State,
    now: datetime,
    stats: Mapping[str, RunStats] | None,
    probes: Mapping[str, Sequence[ProbeResult]] | None,
    pings: Mapping[str, Sequence[PingEvent]] | None,
    incident: IncidentPolicy,
    attempts: tuple[datetime, ...],
) -> _Look:
    name = policy.name
    item_stats = (stats or {}).get(name, _NO_STATS)
    memory = state.runs.get(name, RunMemory())
    facts: list[RunFact] = []
    if isinstance(obs, TimerObservation):
        memory, facts = track(policy, obs, memory, item_stats, attempts, now)
    elif policy.kind is Kind.PING:
        memory, facts = track_pings(policy, memory, (pings or {}).get(name, ()), item_stats, now)
    verdict = _probe_verdict(policy, obs, state.probes.get(name), (probes or {}).get(name, ()))
    previous = state.items.get(name)
    unscheduled_since = None
    if isinstance(obs, TimerObservation) and unscheduled(obs):
        unscheduled_since = (previous.unscheduled_since if previous else None) or now
    between_runs = unscheduled_since is not None and now - unscheduled_since < UNSCHEDULED_SETTLE
    if policy.kind is Kind.PING:
        found = assess_ping(policy, memory, item_stats, now)
    elif policy.kind is Kind.CHECK and policy.probe is not None:
        found = assess_check(policy.probe, verdict)
    else:
        held = (previous.raw or previous.status) if previous else None
        found = assess(policy, obs, now, memory, item_stats, between_runs, verdict, held)
    paused = is_paused(state, name, now)
    if paused:
        until = state.paused[name]
        why = f"paused until {until.isoformat()}" if until else "paused"
        found = replace(found, status=Status.PAUSED, reason=f"{why} (would be {found.status}: {found.reason})")
    published, tracking = publish(policy.kind, found, previous, incident, now)
    return _Look(
        policy, obs, memory, facts, item_stats, verdict, previous, unscheduled_since, paused, found, published, tracking
    )


def dependency_graph(policies: Mapping[str, ItemPolicy], observations: Mapping[str, Observation]) -> deps.Graph:
    """Who depends on whom among the supervised items: the registry's ``depends_on`` and systemd's own.

    systemd's are read on the daemons' side (few units, read whole): what a daemon needs,
    and who needs it, a timer's job standing for its timer.
    """
    edges: dict[str, list[str]] = {n: list(p.depends_on) for n, p in policies.items() if p.depends_on}
    jobs: dict[str, str] | None = None
    for name, obs in observations.items():
        if not isinstance(obs, DaemonObservation) or not (obs.requires or obs.required_by):
            continue
        edges.setdefault(name, []).extend(obs.requires)
        if obs.required_by and jobs is None:
            jobs = {o.service.name: n for n, o in observations.items() if isinstance(o, TimerObservation) and o.service}
        for unit in obs.required_by:
            dependant = unit if unit in policies else (jobs or {}).get(unit)
            if dependant is not None:
                edges.setdefault(dependant, []).append(name)
    return deps.graph(edges, policies) if edges else {}


def with_outputs(decision: Decision, outputs: Mapping[str, str]) -> Decision:
    """The decision with journal excerpts (by run id) attached to its runs and to the alerts about them."""
    if not outputs:
        return decision
    runs = dict(decision.state.runs)
    by_item: dict[str, str] = {}
    for want in decision.output:
        text = outputs.get(want.run_id)
        if text is not None and want.item in runs:
            runs[want.item] = with_output(runs[want.item], want.run_id, text)
            by_item[want.item] = text
    alerts = [
        replace(a, output=by_item[a.item])
        if a.item in by_item and (a.event is AlertEvent.ANOMALY or Status(a.status or "ok").is_problem)
        else a
        for a in decision.alerts
    ]
    return replace(decision, state=replace(decision.state, runs=runs), alerts=alerts)


def _probe_verdict(
    policy: ItemPolicy, obs: Observation | None, state: ProbeState | None, results: Sequence[ProbeResult]
) -> ProbeState | None:
    """The probe's verdict after this step's results.

    A daemon's probe counts only while its unit is up: when systemd reports it stopped,
    failed or restarting, the verdict starts afresh (a probe of a unit coming back is not
    held against it by answers from before).
    """
    spec = policy.probe
    if spec is None:
        return None
    if policy.kind is Kind.DAEMON and (not isinstance(obs, DaemonObservation) or assess_daemon(obs).status.is_problem):
        return None
    verdict = state or ProbeState()
    for result in results:
        verdict = probe_step(spec, verdict, result)
    return verdict


def _may_act(policy: ItemPolicy, found: Assessment, since: datetime, now: datetime) -> bool:
    """Whether the supervisor may restart (or, hung, stop) the item now, whoever else is in charge of it.

    Never what systemd is restarting itself, nor a check or a push heartbeat (no unit of
    ours to act on); a dead or down item only once it has been so for ``restart.after``
    (a deliberate stop, an upgrade, a reload storm, a daemon still starting up is not raced).
    """
    if policy.kind in (Kind.CHECK, Kind.PING):
        return False
    if found.cause is Cause.PROBE:  # ``since``: when the probe's verdict became down
        on_down = policy.probe.on_down if policy.probe else OnDown.ALERT
        return on_down is OnDown.RESTART and (now - since).total_seconds() >= policy.restart.after_s
    if found.status is Status.HUNG:
        return policy.on_hung is OnHung.STOP
    if found.status not in RESTARTABLE or policy.on_stale is not OnStale.RESTART:
        return False
    if found.cause is Cause.RESTARTING:
        return False
    if found.status in (Status.DEAD, Status.DOWN):
        return (now - since).total_seconds() >= policy.restart.after_s
    return True


def _anomaly_alerts(
    name: str,
    facts: list[RunFact],
    usual_text: str,
    item: ItemState,
    memory: RunMemory,
    item_facts: ItemFacts,
    policy: AlertPolicy,
    now: datetime,
) -> tuple[ItemState, RunMemory, list[Alert]]:
    """At most one ``anomaly`` alert per item per day, for a run unusually slow or fast."""
    for fact in facts:
        if not isinstance(fact, RunFinished) or fact.run.anomaly is None:
            continue
        if memory.anomaly_alert_at is not None and now - memory.anomaly_alert_at < ANOMALY_ALERT_EVERY:
            continue
        item, alert = anomaly_alert(name, fact.run, usual_text, item, item_facts, policy, now)
        return item, replace(memory, anomaly_alert_at=now), [alert]
    return item, memory, []


class _Lazy(Mapping[str, object]):
    """An alert's details, built only when an alert is actually sent (most steps send none)."""

    def __init__(self, build: Callable[[], dict[str, object]]) -> None:
        self._build = build
        self._value: dict[str, object] | None = None

    def _get(self) -> dict[str, object]:
        if self._value is None:
            self._value = self._build()
        return self._value

    def __getitem__(self, key: str) -> object:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def _details(
    report: Mapping[str, object], attempts: tuple[datetime, ...], blocking: tuple[str, ...] = ()
) -> dict[str, object]:
    keys = (
        "last_trigger",
        "next_elapse",
        "age_s",
        "budget_s",
        "budget_source",
        "last_result",
        "last_exit_status",
        "running_since",
        "max_runtime_s",
        "last_run",
    )
    out = {k: report[k] for k in keys}
    if isinstance(out["last_run"], dict):  # the excerpt travels once, as the alert's own ``output``
        out["last_run"] = {k: v for k, v in out["last_run"].items() if k != "output"}
    out["restarts_in_window"] = len(attempts)
    out["blocks"] = list(blocking)  # what this item's problem holds up (core.deps)
    return out


def _updated(item: ItemState, **fields: object) -> ItemState:
    """``item`` with ``fields``; the same object when none differs (most items, most steps: a copy costs more)."""
    if all(getattr(item, k) == v for k, v in fields.items()):
        return item
    return replace(item, **fields)  # type: ignore[arg-type]


def _carry(previous: ItemState | None, found: Assessment, now: datetime, tracked: dict[str, Any]) -> ItemState:
    """The item's record after this look, with ``tracked`` (its incident tracking, silence and blocks)."""
    if previous is None:
        return ItemState(found.status, now, found.reason, **tracked)  # built at once: a first step builds every one
    if previous.status is not found.status:
        # a new status; escalation lasts while the item stays in trouble
        escalated = previous.escalated and previous.status.is_problem and found.status.is_problem
        return replace(previous, status=found.status, since=now, reason=found.reason, escalated=escalated, **tracked)
    return _updated(previous, **tracked)  # same status: the record as it was at the transition
