"""The registry's schema (pydantic, frozen, extra keys refused)."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Annotated, Literal

from supervisor.config.alerts import AlertsSpec, HistorySpec, SelfPingSpec, ServerSpec
from supervisor.config.durations import Duration
from supervisor.config.jobs import JobSpec, check_job_name, job_unit
from supervisor.config.probes import CheckSpec, PingSpec, ProbeConfig, check_item_name
from supervisor.config.quiet import MaintenanceSpec, is_glob
from supervisor.config.schema import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from supervisor.config.units import check_unit_name
from supervisor.core.model import Anomalies, ItemPolicy, Kind, OnDown, OnHung, OnStale, ProbeSpec, RestartPolicy
from supervisor.core.silences import Window

UnitName = Annotated[str, AfterValidator(check_unit_name)]
ItemName = Annotated[str, AfterValidator(check_item_name)]
JobName = Annotated[str, AfterValidator(check_job_name)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RestartSpec(_Model):
    """``restart: {max: 3, per: 1h, backoff: 60s}``."""

    max: int = Field(3, ge=0, le=1000)
    per: Duration = Field(3600.0, gt=0)
    backoff: Duration = Field(60.0, ge=0)
    after: Duration = Field(60.0, ge=0)  # a dead/down item is left alone this long first

    def policy(self) -> RestartPolicy:
        """The core's view of this spec."""
        return RestartPolicy(max=self.max, per_s=self.per, backoff_s=self.backoff, after_s=self.after)


class Defaults(_Model):
    """Settings every unit inherits unless it says otherwise."""

    stale_factor: float = Field(2.5, gt=0, le=1000)
    restart: RestartSpec = RestartSpec()
    on_stale: OnStale = OnStale.RESTART
    on_hung: OnHung = OnHung.ALERT
    anomalies: Anomalies = Anomalies.SHOW
    output_lines: int = Field(20, ge=0, le=1000)


class UnitSpec(_Model):
    """One supervised unit; every field optional."""

    max_stale: Duration | None = Field(None, gt=0)
    stale_factor: float | None = Field(None, gt=0, le=1000)
    critical: bool = False
    on_stale: OnStale | None = None
    restart: RestartSpec | None = None
    max_runtime: Duration | None = Field(None, gt=0)  # a run longer than this is hung
    min_runtime: Duration | None = Field(None, gt=0)  # a run shorter than this failed
    on_hung: OnHung | None = None
    anomalies: Anomalies | None = None
    output_lines: int | None = Field(None, ge=0, le=1000)
    probe: ProbeConfig | None = None  # a daemon's HTTP or TCP health probe
    depends_on: tuple[str, ...] = ()  # besides systemd's own Requires=/BindsTo=/Requisite=/PartOf=

    @model_validator(mode="after")
    def _bounds(self) -> UnitSpec:
        if self.min_runtime is not None and self.max_runtime is not None and self.min_runtime >= self.max_runtime:
            raise ValueError("min_runtime must be shorter than max_runtime")
        return self


_Depending = UnitSpec | CheckSpec | PingSpec | JobSpec


class Registry(_Model):
    """The whole registry file."""

    scope: Literal["system", "user"] = "system"
    state_dir: Path = Path("/var/lib/missionctl")
    discover: bool = True
    ignore: tuple[str, ...] = ()
    resync_every: Duration = Field(300.0, ge=5)
    defaults: Defaults = Defaults()
    units: dict[UnitName, UnitSpec] = Field(default_factory=dict)
    checks: dict[ItemName, CheckSpec] = Field(default_factory=dict)
    pings: dict[ItemName, PingSpec] = Field(default_factory=dict)
    jobs: dict[JobName, JobSpec] = Field(default_factory=dict)
    alerts: AlertsSpec = AlertsSpec()
    server: ServerSpec = ServerSpec()
    history: HistorySpec = HistorySpec()
    maintenance: tuple[MaintenanceSpec, ...] = ()
    self_ping: SelfPingSpec | None = None

    @field_validator("units", "checks", "pings", "jobs", mode="before")
    @classmethod
    def _empty_entries(cls, value: object) -> object:
        # `unit.timer:` with nothing after it means "all defaults"
        if value is None:
            return {}
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _names(self) -> Registry:
        for name, spec in self.units.items():
            if spec.probe is not None and not name.endswith(".service"):
                raise ValueError(f"units.{name}.probe: only a daemon (.service) has a probe; a timer's job has runs")
        for name in self.pings:
            if name in self.checks:
                raise ValueError(f"pings.{name}: the name is already a check's; every item needs its own name")
        for name in self.jobs:
            stem = job_unit(name)
            if f"{stem}.timer" in self.units or f"{stem}.service" in self.units:
                raise ValueError(f"jobs.{name}: its units ({stem}.timer) are generated; do not list them under units:")
        return self

    def job_of(self, item: str) -> str | None:
        """The job whose generated timer ``item`` is, if any."""
        if not item.endswith(".timer"):
            return None
        name = item.removesuffix(".timer").removeprefix(job_unit(""))
        return name if item.startswith(job_unit("")) and name in self.jobs else None

    def reference_errors(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Names that must exist but do not: ``depends_on`` entries, plain (glob-free) maintenance items.

        Each as (location, message), for the loader to put on the right line.
        """
        known = {*self.units, *self.checks, *self.pings, *(f"{job_unit(n)}.timer" for n in self.jobs)}
        errors: list[tuple[tuple[str | int, ...], str]] = []
        sections: tuple[
            tuple[str, dict[str, UnitSpec] | dict[str, CheckSpec] | dict[str, PingSpec] | dict[str, JobSpec]], ...
        ] = (
            ("units", self.units),
            ("checks", self.checks),
            ("pings", self.pings),
            ("jobs", self.jobs),
        )
        for section, entries in sections:
            for name, spec in entries.items():
                for i, dep in enumerate(spec.depends_on):
                    if dep == name:
                        errors.append(((section, name, "depends_on", i), f"{name!r} cannot depend on itself"))
                    elif dep not in known:
                        errors.append(
                            (
                                (section, name, "depends_on", i),
                                f"{dep!r} is not supervised: list it under units:, checks: or pings:",
                            )
                        )
        for w, window in enumerate(self.maintenance):
            for i, pattern in enumerate(window.items):
                if not is_glob(pattern) and pattern not in known and not (self.discover and pattern.endswith(".timer")):
                    errors.append(
                        (("maintenance", w, "items", i), f"{pattern!r} names no item of the registry (use a glob?)")
                    )
        return errors

    def windows(self) -> tuple[Window, ...]:
        """The core's view of the maintenance windows."""
        return tuple(m.window() for m in self.maintenance)

    @property
    def listed(self) -> tuple[str, ...]:
        """Every unit named in the registry, and the jobs' generated timers."""
        return (*self.units, *(f"{job_unit(n)}.timer" for n in self.jobs))

    def probe_specs(self) -> dict[str, ProbeSpec]:
        """Every probe of the registry: daemons' and checks'."""
        specs = {name: spec.probe.spec(spec.probe.on_down) for name, spec in self.units.items() if spec.probe}
        specs.update({name: p.probe for name, p in self.unitless().items() if p.probe is not None})
        return specs

    def unitless(self) -> dict[str, ItemPolicy]:
        """The policies of the items with no systemd unit: checks and push heartbeats."""
        out = {name: self._check_policy(name, spec) for name, spec in self.checks.items()}
        out.update({name: self._ping_policy(name, spec) for name, spec in self.pings.items()})
        return out

    def _check_policy(self, name: str, spec: CheckSpec) -> ItemPolicy:
        return ItemPolicy(
            name=name,
            kind=Kind.CHECK,
            on_stale=OnStale.ALERT,
            critical=spec.critical,
            restart=self.defaults.restart.policy(),
            probe=spec.spec(OnDown.ALERT),
            depends_on=spec.depends_on,
        )

    def _ping_policy(self, name: str, spec: PingSpec) -> ItemPolicy:
        return ItemPolicy(
            name=name,
            kind=Kind.PING,
            on_stale=OnStale.ALERT,
            critical=spec.critical,
            restart=self.defaults.restart.policy(),
            max_runtime_s=spec.max_runtime,
            min_runtime_s=spec.min_runtime,
            anomalies=self.defaults.anomalies,
            output_lines=self.defaults.output_lines,
            ping=spec.schedule_of(),
            depends_on=spec.depends_on,
        )

    def policy(self, name: str, *, discovered: bool = False) -> ItemPolicy:
        """The policy for a listed unit, a job's timer, or a discovered timer (with the defaults)."""
        job = self.job_of(name)
        if job is not None:
            return self._job_policy(name, self.jobs[job])
        spec = self.units.get(name, UnitSpec())
        d = self.defaults
        return ItemPolicy(
            name=name,
            kind=Kind.TIMER if name.endswith(".timer") else Kind.DAEMON,
            max_stale_s=spec.max_stale,
            stale_factor=spec.stale_factor if spec.stale_factor is not None else d.stale_factor,
            on_stale=spec.on_stale or d.on_stale,
            critical=spec.critical,
            restart=(spec.restart or d.restart).policy(),
            discovered=discovered,
            max_runtime_s=spec.max_runtime,
            min_runtime_s=spec.min_runtime,
            on_hung=spec.on_hung or d.on_hung,
            anomalies=spec.anomalies or d.anomalies,
            output_lines=spec.output_lines if spec.output_lines is not None else d.output_lines,
            probe=spec.probe.spec(spec.probe.on_down) if spec.probe else None,
            depends_on=spec.depends_on,
        )

    def _job_policy(self, name: str, job: JobSpec) -> ItemPolicy:
        d = self.defaults
        return ItemPolicy(
            name=name,
            kind=Kind.TIMER,
            max_stale_s=job.max_stale,
            stale_factor=d.stale_factor,
            on_stale=job.on_stale or d.on_stale,
            critical=job.critical,
            restart=d.restart.policy(),
            max_runtime_s=job.max_runtime,
            min_runtime_s=job.min_runtime,
            on_hung=job.on_hung or d.on_hung,
            anomalies=job.anomalies or d.anomalies,
            output_lines=job.output_lines if job.output_lines is not None else d.output_lines,
            depends_on=job.depends_on,
            keep_output=job.http is not None,  # every run's attempts, statuses and latencies in the history
        )

    def ignored(self, name: str) -> bool:
        """Whether discovery must pass over this unit."""
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.ignore)
