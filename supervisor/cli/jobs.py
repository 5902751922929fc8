"""``missionctl jobs list | show NAME | apply``: the registry's jobs and the units generated for them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from supervisor.config.generate import job_units, shown_url
from supervisor.config.jobs import JOB_PREFIX, job_unit
from supervisor.config.registry import Registry

EXIT_OK, EXIT_ERROR = 0, 2
SUPERVISOR = "missionctl.service"


def _program() -> str:
    return str(Path(sys.executable).with_name("missionctl"))


def list_jobs(registry: Registry, as_json: bool) -> int:
    """One line per job: its units, schedule and what it runs."""
    rows = []
    for name, job in sorted(registry.jobs.items()):
        when = job.schedule if job.schedule is not None else f"every {job.every:g}s"
        what = f"{job.http.method} {shown_url(job.http.url)}" if job.http else " ".join(job.command or ())
        rows.append({"name": name, "timer": f"{job_unit(name)}.timer", "schedule": when, "runs": what})
    if as_json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no jobs in the registry (jobs:)")
    for r in rows if not as_json else []:
        print(f"{r['name']:<24} {r['timer']:<40} {r['schedule']:<24} {r['runs']}")
    return EXIT_OK


def show_job(registry: Registry, path: Path, name: str) -> int:
    """The generated units of one job, as systemd reads them."""
    if name not in registry.jobs:
        print(f"missionctl: no job {name!r} (jobs: {', '.join(sorted(registry.jobs)) or 'none'})", file=sys.stderr)
        return EXIT_ERROR
    units = job_units(registry, str(path), _program())
    stem = job_unit(name)
    for unit in (f"{stem}.timer", f"{stem}.service"):
        print(f"# {unit}\n{units[unit]}")
    return EXIT_OK


def apply(registry: Registry, user: bool, address: str | None) -> int:
    """daemon-reload (the generator rebuilds the units), start new jobs' timers, stop removed jobs' units."""
    from supervisor.adapters.systemd.client import SystemdClient
    from supervisor.adapters.systemd.connection import SystemdError

    if user:
        print("missionctl: jobs are generated for the system manager (install.sh installs the generator)")
        return EXIT_ERROR
    client = SystemdClient(user=False, address=address)
    try:
        client.connect()
        client.reload_manager()
        units = client.list_units()
        wanted = {f"{job_unit(n)}.timer" for n in registry.jobs}
        for name in sorted(wanted):
            unit = units.get(name) or client.unit(name)
            if unit.load_state != "loaded":
                print(f"{name}: not generated ({unit.load_state}); is the generator installed?", file=sys.stderr)
            elif unit.active_state not in ("active", "activating"):
                client.start_unit(name)
                print(f"{name}: started")
        for name, unit in sorted(units.items()):
            ours = name.startswith(JOB_PREFIX) and name.endswith((".timer", ".service"))
            stem = name.rsplit(".", 1)[0]
            if ours and f"{stem}.timer" not in wanted and unit.active_state in ("active", "activating", "reloading"):
                client.stop_unit(name)
                print(f"{name}: stopped (no longer in the registry)")
        supervisor = units.get(SUPERVISOR)
        if supervisor is not None and supervisor.active_state == "active":
            client.reload_unit(SUPERVISOR)  # the daemon re-reads the registry: the jobs' timers are supervised
    except SystemdError as exc:
        print(f"missionctl: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
    print(f"{len(wanted)} jobs applied")
    return EXIT_OK
