"""``missionctl run | check | status | logs | alerts | exec | silence | unsilence | silences | url | validate``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor import __version__
from supervisor.adapters.lock import AlreadyRunning, StateLock
from supervisor.adapters.outbox import Outbox
from supervisor.adapters.statefile import StateStore
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.adapters.systemd.connection import SystemdError
from supervisor.cli.config import (
    default_env_file,
    default_registry,
    read_secrets,
    registry_for,
    running_registry,
    unknown_units,
)
from supervisor.cli.render import table
from supervisor.config.errors import RegistryError
from supervisor.config.registry import Registry
from supervisor.core.report import report
from supervisor.runtime import logging as runtime_logging
from supervisor.runtime.sweep import sweep

if TYPE_CHECKING:
    from supervisor.runtime.ports import CommandPort, ReadPort, Server

EXIT_OK, EXIT_PROBLEM, EXIT_ERROR = 0, 1, 2


def _bounded(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``lo`` to ``hi`` (a clear error, never a traceback)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number from {lo} to {hi}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"expected a whole number from {lo} to {hi}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="missionctl", description="Supervise systemd timers and services.")
    p.add_argument("--version", action="version", version=f"missionctl {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--registry", type=Path, help="registry file (default: /etc/missionctl/registry.yaml)")
        sp.add_argument("--user", action="store_true", help="supervise the user's own systemd manager")
        sp.add_argument("--bus-address", help=argparse.SUPPRESS)

    run = sub.add_parser("run", help="run the supervisor daemon")
    common(run)
    run.add_argument("--log-level", default=os.environ.get("MISSIONCTL_LOG_LEVEL", "info"))
    check = sub.add_parser(
        "check",
        help="exit 0 when all ok, 1 otherwise, 2 on error",
        description="Answers from the running supervisor's view when one runs, else sweeps systemd itself.",
    )
    common(check)
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.add_argument("--fix", action="store_true", help="sweep and restart what needs it (within budget)")
    check.add_argument("--sweep", action="store_true", help="ask systemd directly even when a supervisor runs")
    status = sub.add_parser(
        "status",
        help="table of every supervised item",
        description="Answers from the running supervisor's view when one runs, else sweeps systemd itself.",
    )
    common(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--sweep", action="store_true", help="ask systemd directly even when a supervisor runs")
    alerts = sub.add_parser("alerts", help="the alert outbox; `alerts test [CHANNEL]` sends a test message")
    common(alerts)
    alerts.add_argument("action", nargs="?", choices=["list", "test"], default="list")
    alerts.add_argument(
        "channel", nargs="?", help="email, discord, webhook, webhook:N, apprise, apprise:N or recovery_hook"
    )
    alerts.add_argument("--json", action="store_true", help="machine-readable output")
    alerts.add_argument("--limit", type=_bounded(1, 1000), default=20)
    logs = sub.add_parser("logs", help="the output of an item's last run (or of run N, newest first)")
    common(logs)
    logs.add_argument("item", help="the supervised item, e.g. backup.timer")
    logs.add_argument(
        "--run",
        type=_bounded(1, 1000),
        default=1,
        metavar="N",
        help="1 = the newest run (default), 2 = the one before it",
    )
    run_cmd = sub.add_parser(
        "exec",
        help="run a command and report it as push heartbeat NAME (start, exit code, output)",
        description="Sends start, runs CMD (no shell), sends its exit code with the tail of its output, "
        "and exits with CMD's own code. The command runs even when Mission Control cannot be reached.",
    )
    common(run_cmd)
    run_cmd.add_argument("name", help="the ping's name in the registry's pings:")
    run_cmd.add_argument(
        "--url", help="ping base URL, https://HOST/ping/KEY (default: $MISSIONCTL_PING_URL, else this host's service)"
    )
    run_cmd.add_argument("argv", nargs="*", metavar="-- CMD ARGS", help="the command to run, after --")
    quiet = sub.add_parser(
        "silence",
        help="silence items (a name or a glob): observed, neither restarted nor alerted until the end",
        description="Asks the running supervisor (with the API token); the silence is audited and survives restarts.",
    )
    common(quiet)
    quiet.add_argument("items", help="an item's name or a glob, e.g. 'backup-*' (quote it)")
    quiet.add_argument("--for", dest="length", metavar="DURATION", help="how long, e.g. 2h (default 1h)")
    quiet.add_argument("--until", help="or until when (ISO-8601 time)")
    quiet.add_argument("--reason", default="", help="shown with the silence and in the audit log")
    loud = sub.add_parser("unsilence", help="end a silence now (what it covered is judged at once)")
    common(loud)
    loud.add_argument("id", help="the silence's id (missionctl silences)")
    quiets = sub.add_parser("silences", help="silences in force, maintenance windows, items quiet now")
    common(quiets)
    quiets.add_argument("--json", action="store_true", help="machine-readable output")
    job = sub.add_parser("job", help="run one of the registry's HTTP jobs (what its generated service runs)")
    job.add_argument("action", choices=["run"])
    job.add_argument("name", help="the job's name under jobs:")
    job.add_argument("--registry", type=Path, help="registry file (default: /etc/missionctl/registry.yaml)")
    jobs = sub.add_parser("jobs", help="the registry's jobs: list, show NAME (its generated units), apply")
    common(jobs)
    jobs.add_argument("action", nargs="?", choices=["list", "show", "apply"], default="list")
    jobs.add_argument("name", nargs="?", help="with show: the job")
    jobs.add_argument("--json", action="store_true", help="machine-readable output (list)")
    url = sub.add_parser("url", help="print the dashboard URL from the registry")
    common(url)
    validate = sub.add_parser("validate", help="validate a registry file; exit 0 or 2")
    validate.add_argument("path", type=Path)
    validate.add_argument("--user", action="store_true", help="check unit names against your user manager")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``missionctl`` command."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] | None = None
    if argv[:1] == ["exec"] and "--" in argv:  # everything after -- is the command's, options included
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    if command is not None:
        args.argv = command
    if args.command == "validate":
        return _validate(args.path, args.user)
    if args.command == "job":
        from supervisor.cli.job import main as run_job

        read_secrets(False)
        return run_job(args.name, args.registry or default_registry(False))
    read_secrets(args.user)
    if args.command == "exec":
        return _exec(parser, args)
    if args.command == "run":
        return _run(args)
    try:
        registry = registry_for(args)
    except RegistryError as exc:
        fallback = running_registry(args, exc) if args.command in ("status", "check") else None
        if fallback is None:
            print("\n".join(exc.errors), file=sys.stderr)
            return EXIT_ERROR
        registry = fallback
    if args.command == "url":
        print(dashboard_url(registry))
        return EXIT_OK
    if args.command == "jobs":
        from supervisor.cli import jobs as job_cli

        if args.action == "show":
            if not args.name:
                parser.error("jobs show: name the job, e.g. missionctl jobs show nightly-report")
            return job_cli.show_job(registry, args.registry or default_registry(args.user), args.name)
        if args.action == "apply":
            return job_cli.apply(registry, args.user, args.bus_address)
        return job_cli.list_jobs(registry, args.json)
    if args.command in ("silence", "unsilence", "silences"):
        return _silences(args, registry)
    if args.command == "logs":
        from supervisor.cli.logs import show_logs

        return show_logs(registry, args.item, args.run)
    if args.command == "alerts":
        from supervisor.cli.alerts import list_alerts, test_alert

        if args.action == "test":
            return test_alert(registry, args.channel)
        return list_alerts(registry, args.json, args.limit)
    return _sweep(args, registry)


def _exec(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from supervisor.cli.exec import default_base, run

    command = args.argv
    if not command:
        parser.error("exec: give the command after --, e.g. missionctl exec backup -- /usr/local/bin/backup.sh")
    base = args.url
    if base is None:
        key = None
        listen = "http://127.0.0.1:8001/"
        try:  # on the supervised host: its own service, with the key from the environment file
            registry = registry_for(args)
            key = os.environ.get(registry.server.ping_key_env)
            listen = _local_url(registry)
        except RegistryError:
            key = os.environ.get("MISSIONCTL_PING_KEY")
        base = default_base(listen, key)
    return run(args.name, base, command)


def _silences(args: argparse.Namespace, registry: Registry) -> int:
    from supervisor.cli import silence

    base = _local_url(registry)
    if args.command == "silence":
        if args.length is not None and args.until is not None:
            print("missionctl: give --for or --until, not both", file=sys.stderr)
            return EXIT_ERROR
        return silence.silence(registry, base, args.items, args.length, args.until, args.reason)
    if args.command == "unsilence":
        return silence.unsilence(registry, base, args.id)
    return silence.list_silences(registry, base, args.json)


def _validate(path: Path, user: bool) -> int:
    """Errors: exit 2. Units systemd does not know (when it can be asked): warnings, exit 0."""
    from supervisor.config.loader import load_registry  # not the daemon's: it never validates (entry.py)

    try:
        registry = load_registry(path)
    except RegistryError as exc:
        print("\n".join(exc.errors), file=sys.stderr)
        return EXIT_ERROR
    if user:
        registry = registry.model_copy(update={"scope": "user"})
    for warning in unknown_units(registry, path, None):
        print(warning, file=sys.stderr)
    discovery = "on" if registry.discover else "off"
    listed = f"{len(registry.units)} units, {len(registry.checks)} checks, {len(registry.pings)} pings listed"
    print(f"{path}: ok ({listed}, discovery {discovery})")
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    """The daemon, with its registry validated by a child: this process never loads the validator (entry.py)."""
    from supervisor.config.vetted import read_vetted
    from supervisor.runtime.daemon import Daemon  # the daemon's imports are not needed by the tools

    path = args.registry or default_registry(args.user)
    try:
        registry = read_vetted(path, user=args.user)
    except RegistryError as exc:
        print("\n".join(exc.errors), file=sys.stderr)
        return EXIT_ERROR
    runtime_logging.configure(args.log_level)
    daemon = Daemon(
        path,
        registry,
        user=registry.scope == "user",
        address=args.bus_address,
        env_file=default_env_file(args.user),
        serve=_web_server,
    )
    try:
        return asyncio.run(daemon.run())
    except AlreadyRunning as exc:
        print(f"missionctl: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _web_server(read: ReadPort, commands: CommandPort) -> Server:
    """The HTTP service over the daemon's two ports (the web layer is loaded only when served)."""
    from supervisor.web.server import WebServer

    return WebServer(read, commands)


VIEW_FRESH_S = 120.0
"""A running supervisor's view older than this is not trusted: check and status sweep themselves."""


def _daemon_view(registry: Registry, lock: StateLock) -> dict[str, Any] | None:
    """The running supervisor's current view (``GET /api/items``), or None when none answers freshly."""
    if not registry.server.enabled or not lock.held_by_other():
        return None
    import urllib.request  # only needed when a supervisor runs

    try:
        # an http:// URL built from the registry's own listen address
        with urllib.request.urlopen(_local_url(registry) + "api/items", timeout=2) as r:  # noqa: S310
            doc = json.loads(r.read())
        generated = datetime.fromisoformat(doc["generated_at"])
        items, health = doc["items"], doc["status"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    age = (datetime.now(UTC) - generated).total_seconds()
    if not isinstance(items, list) or health not in ("ok", "degraded", "down") or not -5 < age < VIEW_FRESH_S:
        return None
    return {
        "status": "ok" if health == "ok" else "problem",
        "health": health,
        "items": items,
        "source": {"from": "supervisor", "generated_at": doc["generated_at"], "age_s": round(max(age, 0.0), 3)},
    }


def _sweep(args: argparse.Namespace, registry: Registry) -> int:
    runtime_logging.configure("warning", json=False)
    fix = getattr(args, "fix", False)
    lock = StateLock(registry.state_dir)
    live = None if fix or args.sweep else _daemon_view(registry, lock)
    if live is not None:
        return _answer(args, registry, lock, live, datetime.fromisoformat(live["source"]["generated_at"]))
    if fix:
        try:
            lock.acquire()
        except AlreadyRunning as exc:
            print(f"missionctl: {exc}; it restarts units itself, so --fix is refused", file=sys.stderr)
            return EXIT_ERROR
    client = SystemdClient(user=registry.scope == "user", address=args.bus_address, remember=False)
    try:
        client.connect()
        result = sweep(client, registry, StateStore(registry.state_dir / "state.json"), fix=fix)
    except SystemdError as exc:
        print(f"missionctl: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        client.close()
        lock.release()
    now = datetime.now(UTC)
    snap, decision = result.snapshot, result.decision
    doc = report(snap.policies, snap.observations, decision.assessments, decision.state, now)
    doc["source"] = {"from": "sweep", "generated_at": now.isoformat(), "age_s": 0.0}
    for unit, error in result.restart_errors.items():
        print(f"missionctl: restart of {unit} failed: {error}", file=sys.stderr)
    return _answer(args, registry, lock, doc, now)


def _answer(args: argparse.Namespace, registry: Registry, lock: StateLock, doc: dict[str, Any], now: datetime) -> int:
    """Print a report (as JSON or a table) and return check's exit code."""
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(table(doc, now))
        if doc["source"]["from"] == "supervisor":
            print(f"(the running supervisor's view, {doc['source']['age_s']:.1f}s old; --sweep asks systemd directly)")
        if args.command == "status":
            print(_daemon_line(registry, lock))
    return EXIT_OK if doc["status"] == "ok" else EXIT_PROBLEM


def _local_url(registry: Registry) -> str:
    """Where this host reaches the service (a wildcard listen address is reached on loopback)."""
    host, port = registry.server.host_port
    if host in ("0.0.0.0", ""):  # noqa: S104 - reading the config, not binding
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def dashboard_url(registry: Registry) -> str:
    """``server.public_url``, else the address it listens on."""
    if registry.server.public_url:
        return registry.server.public_url.rstrip("/") + "/"
    return _local_url(registry)


def _live(registry: Registry) -> dict[str, object] | None:
    """The running daemon's own report (loop lag, D-Bus, outbox), over its loopback API."""
    import urllib.request  # only the status command needs an HTTP client

    try:
        # an http:// URL built from the registry's own listen address
        with urllib.request.urlopen(_local_url(registry) + "api/maintenance", timeout=2) as r:  # noqa: S310
            doc = json.loads(r.read())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _daemon_line(registry: Registry, lock: StateLock) -> str:
    beat = registry.state_dir / "heartbeat"
    running = "running" if lock.held_by_other() else "not running"
    try:
        age = f"heartbeat {time.time() - beat.stat().st_mtime:.0f}s ago"
    except OSError:
        age = "no heartbeat"
    line = f"supervisor daemon: {running}, {age} ({registry.state_dir})"
    outbox_path = registry.state_dir / "outbox.sqlite3"
    if outbox_path.exists():
        outbox = Outbox(outbox_path, readonly=True)
        try:
            c = outbox.counts()
        finally:
            outbox.close()
        line += f"\nalerts: {c['pending']} pending, {c['dead']} dead-lettered (missionctl alerts)"
    live = _live(registry) if registry.server.enabled else None
    if live:
        sup = live.get("supervisor", {})
        assert isinstance(sup, dict)
        reg = sup.get("registry") or {}
        if reg.get("status") == "rejected":
            line += f"\nREGISTRY REJECTED at {reg.get('at')}: {reg.get('path')} (running the previous configuration)"
            line += "".join(f"\n  {e}" for e in reg.get("errors", []))
        ping = sup.get("self_ping")
        if isinstance(ping, dict) and ping.get("at"):
            error = f", error: {ping['error']}" if ping.get("error") else ""
            line += f"\nself ping: {ping['result']} {time.time() - ping['at']:.0f}s ago ({ping['sent']} sent){error}"
        line += (
            f"\nsupervisor: pid {sup.get('pid')}, D-Bus {sup.get('dbus')} ({sup.get('transport')}), "
            f"loop lag {sup.get('loop_lag_s')}s, last full sweep {sup.get('last_full_sweep_age_s')}s ago, "
            f"dashboard {dashboard_url(registry)}"
        )
    return line
