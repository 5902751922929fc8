"""Mission Control benchmarks against a real private systemd --user manager.

    python -m bench [--timers 1000] [--samples 20] [--latency-samples 60] [--idle 30]

Prints every figure with its baseline measured in the same run:
  sweep      full observe+decide of N timers (+ their services) vs one `systemctl show` per unit
  latency    service exits non-zero -> transition recorded -> `down` alert at a webhook receiver;
             budget expires -> transition recorded
  footprint  daemon RSS and idle CPU with N timers supervised, vs a bare Python interpreter
  journal    (system-mode container) exit -> `down` with the run's journal excerpt, vs without one
  probes     200 HTTP probes every 10 s: daemon CPU and RSS, vs the same daemon without probes
  pings      1,000 pings/s (open loop): p99 from the due time, vs a bare aiohttp handler
  decide     the pure decision step at N timers with a silence, a window, 100 blocked daemons, vs plain
  nodeexp    (system-mode container) node_exporter's systemd collector scraping the same N timers, and
             `systemctl list-timers --all`, vs our cold and warm sweep and the whole `check --sweep` process

Ends with each target of the lean-and-fast work, met or not, from the figures of this same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib
import gc

from bench.decide import bench_decide
from bench.http import bench_http
from bench.journal import bench_journal
from bench.node_exporter import bench_node_exporter
from bench.probes import bench_pings, bench_probes
from bench.proc import cpu_s, rss_mb
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.config.loader import parse_registry
from supervisor.core.decide import decide
from supervisor.core.state import State
from supervisor.runtime.observe import observe_all
from tests.harness.receiver import Receiver
from tests.harness.user_manager import UserManager

ROOT = Path(__file__).resolve().parents[1]


def runtime_python() -> str:
    """A venv with only the runtime dependencies (as install.sh builds), so figures are not
    inflated by test tools; built once into build/bench-venv, refreshed with the project."""
    venv = ROOT / "build" / "bench-venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--force-reinstall", "--no-deps", str(ROOT)], check=True
    )
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], check=True)
    return str(venv / "bin" / "python")


PYTHON = sys.executable


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def populate(um: UserManager, n: int, samples: int) -> list[str]:
    write_latency_units(um, um.base, samples)
    names = []
    for i in range(n):
        name = f"bench{i:04d}"
        um.write_unit(f"{name}.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
        timer = "OnActiveSec=1s\nOnUnitActiveSec=1h\n" if i % 2 else f"OnCalendar=*-*-* {i % 24:02d}:{i % 60:02d}:00\n"
        um.write_unit(f"{name}.timer", f"[Timer]\nAccuracySec=1ms\n{timer}")
        names.append(name)
    um.systemctl("daemon-reload")
    um.systemctl("start", *[f"{n}.timer" for n in names])
    # let every first run finish so the manager is idle before measuring
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        out = um.systemctl("list-units", "--state=activating", "--no-legend", "bench*.service").stdout
        if not out.strip():
            break
        time.sleep(0.5)
    time.sleep(1)
    return names


def bench_sweep(um: UserManager, names: list[str], registry_text: str, rounds: int = 5) -> dict[str, float]:
    registry = parse_registry(registry_text, "bench")
    results: dict[str, float] = {}
    gc.collect()
    gc.freeze()  # what is loaded by now is out of the collector's sight, as in the daemon before its first sweep
    for label, address in (("private socket", None), ("bus", um.bus_address)):
        client = SystemdClient(user=True, address=address)
        client.connect()
        times, calls, trips = [], [], []
        for _ in range(rounds):
            t0, c0, r0 = time.perf_counter(), client.calls, client.round_trips
            snap = observe_all(client, registry)
            decide(snap.policies, snap.observations, State(), datetime.now(UTC))
            times.append(time.perf_counter() - t0)
            calls.append(client.calls - c0)
            trips.append(client.round_trips - r0)
        assert len(snap.policies) >= len(names), len(snap.policies)
        n = len(snap.policies)
        # the first sweep on a connection reads every run; the later ones (the daemon's resyncs)
        # re-read only the services that changed: one ListUnits, then about two calls per timer
        results[f"sweep via {label}, later sweeps (median of {rounds - 1}), s"] = statistics.median(times[1:])
        results[f"sweep via {label}, first on a new connection, s"] = times[0]
        results[f"sweep via {label}, first: D-Bus calls per supervised timer"] = calls[0] / n
        results[f"sweep via {label}, later: D-Bus calls per supervised timer"] = statistics.median(calls[1:]) / n
        # on the private socket the calls are pipelined: ListUnits, then one conversation for them all
        results[f"sweep via {label}, first: round trips to the manager"] = trips[0]
        results[f"sweep via {label}, later: round trips to the manager (median)"] = statistics.median(trips[1:])
        results[f"sweep via {label}, first: round trips per supervised timer"] = trips[0] / n
        results[f"sweep via {label}, later: D-Bus calls per supervised timer, besides the one ListUnits"] = (
            statistics.median(calls[1:]) - 1
        ) / n
        results[f"sweep via {label}, later: timers and runs reused from the last sweep, %"] = (
            100 * client.reused / max(1, 2 * (rounds - 1) * n)
        )
        client.close()
    t0 = time.perf_counter()
    for name in names:
        for unit in (f"{name}.timer", f"{name}.service"):
            subprocess.run(["systemctl", "--user", "show", unit], env=um.env, capture_output=True, check=True)
    results["baseline: one `systemctl show` per unit, s"] = time.perf_counter() - t0
    results["whole `missionctl check --sweep` process (median of 3), s"] = whole_check(um, registry_text, sweep=True)
    return results


def whole_check(um: UserManager, registry_text: str | None, *, sweep: bool, runs: int = 3) -> float:
    """Wall time of whole `missionctl check --json` processes (interpreter start, imports, answer)."""
    registry = um.base / "check.yaml"
    if registry_text is not None:
        registry.write_text(registry_text)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        argv = [PYTHON, "-m", "supervisor", "check", "--user", "--json", "--registry", str(registry)]
        r = subprocess.run([*argv, "--sweep"] if sweep else argv, env=um.env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        assert r.returncode in (0, 1), r.stderr
        source = json.loads(r.stdout)["source"]["from"]
        assert source == ("sweep" if sweep else "supervisor"), source
    return statistics.median(times)


class Daemon:
    def __init__(self, um: UserManager, registry: Path, log: Path) -> None:
        self.log = log
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "supervisor",
                    "run",
                    "--user",
                    "--registry",
                    str(registry),
                    "--log-level",
                    "debug",
                ],
                env=um.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        self.wait_for(lambda e: e["event"] == "ready", 120)

    def events(self) -> list[dict[str, object]]:
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def wait_for(self, pred, timeout: float = 30):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events() if pred(e)]
            if found:
                return found
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            time.sleep(0.02)
        raise TimeoutError("daemon event")

    def nth(self, pred, n: int, timeout: float = 30):  # type: ignore[no-untyped-def]
        """The n-th (1-based) event matching ``pred``, from one consistent read of the log."""
        return self.wait_for(lambda _e: True, timeout) and self._nth(pred, n, timeout)

    def _nth(self, pred, n: int, timeout: float):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events() if pred(e)]
            if len(found) >= n:
                return found[n - 1]
            time.sleep(0.005)
        tail = "\n".join(json.dumps(e) for e in self.events()[-15:])
        raise TimeoutError(f"daemon event #{n}: {len(found)} matched; the log ends with\n{tail}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def usec(um: UserManager, unit: str, prop: str) -> datetime:
    """A raw microsecond timestamp property, read with busctl (no rounding)."""
    path = "/org/freedesktop/systemd1/unit/" + "".join(c if c.isalnum() else f"_{ord(c):02x}" for c in unit)
    iface = "org.freedesktop.systemd1." + ("Timer" if unit.endswith(".timer") else "Service")
    out = subprocess.run(
        ["busctl", "--user", "get-property", "org.freedesktop.systemd1", path, iface, prop],
        env=um.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return datetime.fromtimestamp(int(out[1]) / 1e6, UTC)


def write_latency_units(um: UserManager, base: Path, samples: int) -> None:
    """Units for the latency runs, written before the one daemon-reload of the bench.

    (A later daemon-reload makes systemd 252 re-fire every OnActiveSec= timer, a
    burst of 1,000 runs that would be measured instead of the supervisor.)
    """
    flag = base / "fail"
    stamp = base / "exit-stamp"
    # the job itself records the moment it exits (its last act before `exit 1`)
    um.write_unit(
        "lat.service",
        "[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\n"
        f"ExecStart=/bin/sh -c 'date +%%s.%%N > {stamp}; test ! -e {flag}'\n",
    )
    um.write_unit("lat.timer", "[Timer]\nOnActiveSec=0\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")
    for i in range(samples):
        um.write_unit(f"exp{i}.service", "[Service]\nType=oneshot\nExecStart=/bin/true\n")
        um.write_unit(f"exp{i}.timer", "[Timer]\nOnActiveSec=0\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")


def bench_latency(um: UserManager, base: Path, samples: int, with_timers: int) -> dict[str, float]:
    flag, stamp = base / "fail", base / "exit-stamp"
    budget_units = "".join(
        f"  exp{i}.timer: {{max_stale: {3 + i * 0.37:.2f}s, on_stale: alert}}\n" for i in range(samples)
    )
    um.systemctl("start", "lat.timer")
    receiver = Receiver().start()
    registry = base / "latency.yaml"
    registry.write_text(
        f"scope: user\nstate_dir: {base}/state-lat\ndiscover: true\nignore: ['exp*']\n"
        f"alerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n"
        # each sample breaks and mends the same job within a second: not flapping for this measurement
        "  flapping: {changes: 1000}\n"
        f"units:\n  lat.timer: {{on_stale: alert}}\n{budget_units}"
    )
    daemon = Daemon(um, registry, base / "latency.log")
    delivered = []
    try:
        daemon.wait_for(lambda e: e.get("item") == "lat.timer" and e.get("to") == "ok")
        exit_lat = []
        for i in range(samples):
            flag.touch()
            um.systemctl("start", "lat.service", check=False)
            event = daemon.nth(lambda e: e.get("item") == "lat.timer" and e.get("to") == "failed", i + 1)
            exited = float(stamp.read_text())
            exit_lat.append(datetime.fromisoformat(str(event["at"])).timestamp() - exited)
            deadline = time.monotonic() + 30
            while True:
                downs = [r for r in receiver.received if r.json["event"] == "down" and r.json["item"] == "lat.timer"]
                if len(downs) > i or time.monotonic() > deadline:
                    break
                time.sleep(0.002)
            delivered.append(downs[i].at - exited)
            flag.unlink()
            um.systemctl("start", "lat.service")
            daemon.nth(lambda e: e.get("item") == "lat.timer" and e.get("from") == "failed", i + 1)
        um.systemctl("start", *[f"exp{i}.timer" for i in range(samples)])
        budget_lat = []
        for i in range(samples):
            event = daemon.nth(lambda e, i=i: e.get("item") == f"exp{i}.timer" and e.get("to") == "stale", 1, 60)
            expiry = usec(um, f"exp{i}.timer", "LastTriggerUSec").timestamp() + 3 + i * 0.37
            budget_lat.append(datetime.fromisoformat(str(event["at"])).timestamp() - expiry)
        rss_with_alerts = rss_mb(daemon.proc.pid)
    finally:
        daemon.stop()
        receiver.stop()
    print("exit->webhook samples:", " ".join(f"{x:.3f}" for x in delivered), file=sys.stderr)
    print("exit->transition samples:", " ".join(f"{x:.3f}" for x in exit_lat), file=sys.stderr)
    print("budget->transition samples:", " ".join(f"{x:.3f}" for x in budget_lat), file=sys.stderr)
    return {
        f"exit non-zero -> transition p50 ({samples} runs, {with_timers} timers loaded), s": statistics.median(
            exit_lat
        ),
        "exit non-zero -> transition p95, s": pct(exit_lat, 95),
        "exit non-zero -> `down` at the webhook receiver p50, s": statistics.median(delivered),
        "exit non-zero -> `down` at the webhook receiver p95, s": pct(delivered, 95),
        "budget expiry -> transition p50, s": statistics.median(budget_lat),
        "budget expiry -> transition p95, s": pct(budget_lat, 95),
        f"daemon RSS with {with_timers} timers and a webhook channel (HTTP client loaded), MB": rss_with_alerts,
        "baseline: the seeds' polling interval, s": 900.0,
    }


def bench_footprint(um: UserManager, base: Path, idle_s: float, n: int) -> dict[str, float]:
    out: dict[str, float] = {}
    bare = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(600)"])
    try:
        for label, server in (
            ("HTTP server on", f"{{listen: '127.0.0.1:{18803}'}}"),
            ("HTTP server off", "{enabled: false}"),
        ):
            registry = base / "footprint.yaml"
            registry.write_text(
                f"scope: user\nstate_dir: {base}/state-fp\ndiscover: true\nserver: {server}\nunits: {{}}\n"
            )
            daemon = Daemon(um, registry, base / "footprint.log")
            try:
                time.sleep(2)
                c0, t0 = cpu_s(daemon.proc.pid), time.monotonic()
                time.sleep(idle_s)
                cpu = (cpu_s(daemon.proc.pid) - c0) / (time.monotonic() - t0) * 100
                out[f"daemon RSS with {n} timers, {label}, MB"] = rss_mb(daemon.proc.pid)
                out[f"daemon idle CPU over {idle_s:.0f}s, {label}, %"] = cpu
                if label == "HTTP server on":  # `check` now answers from this daemon's view
                    (base / "check.yaml").write_text(registry.read_text())
                    out["whole `missionctl check` process answering from the running daemon (median of 3), s"] = (
                        whole_check(um, None, sweep=False)
                    )
            finally:
                daemon.stop()
        out["baseline: bare python3 RSS, MB"] = rss_mb(bare.pid)
        return out
    finally:
        bare.kill()
        bare.wait()


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": os.uname().release,
        "python": sys.version.split()[0],
        "systemd": subprocess.run(["systemctl", "--version"], capture_output=True, text=True).stdout.split()[1],
    }


def write_results(path: Path, figures: dict[str, float], args: dict[str, object]) -> None:
    """The figures as JSON, with the machine, the commit and the arguments: a later change compares with them."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout)
    doc = {
        "measured_at": datetime.now(UTC).isoformat(),
        "commit": commit + ("+changes" if dirty else ""),
        "machine": machine(),
        "arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in args.items()},
        "figures": figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"figures written to {path}", file=sys.stderr)


def number(value: float) -> str:
    """A figure as people read it: whole numbers grouped, others to four significant digits."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4g}"


def targets(f: dict[str, float]) -> list[tuple[str, float, str, bool]]:
    """Each target of the lean-and-fast work that this run measured: (what, value, target, met)."""
    out: list[tuple[str, float, str, bool]] = []
    show = f.get("baseline: one `systemctl show` per unit, s")
    key = "sweep via private socket, later: D-Bus calls per supervised timer, besides the one ListUnits"
    if key in f:
        out.append(("sweep D-Bus calls per supervised timer (resync, + 1 ListUnits)", f[key], "<= 2", f[key] <= 2))
    # the either-or for a first sweep: two calls per unit, "or pipelined calls". Its calls (the
    # figure above it) are pipelined; two GetAlls per timer would be 2-2.6x node_exporter's scrape (nodeexp)
    key = "sweep via private socket, first: round trips per supervised timer"
    if key in f:
        out.append(("sweep round trips per supervised timer (first, pipelined)", f[key], "<= 2", f[key] <= 2))
    for key, label, ratio in (
        ("sweep via private socket, later sweeps (median of 4), s", "systemctl-show baseline / in-process sweep", 30),
        ("sweep via private socket, first on a new connection, s", "systemctl-show baseline / first sweep", 30),
        ("whole `missionctl check --sweep` process (median of 3), s", "systemctl-show baseline / check --sweep", 20),
        (
            "whole `missionctl check` process answering from the running daemon (median of 3), s",
            "systemctl-show baseline / check (daemon's view)",
            20,
        ),
    ):
        if show and key in f:
            out.append((label, show / f[key], f">= {ratio}x", show / f[key] >= ratio))
    for key, label in (
        ("daemon RSS with 1000 timers, HTTP server on, MB", "RSS, HTTP server on, MB"),
        (
            "daemon RSS with 1000 timers and a webhook channel (HTTP client loaded), MB",
            "RSS, HTTP server and a channel, MB",
        ),
    ):
        if key in f:
            out.append((label, f[key], "<= 60", f[key] <= 60))
    for conns in (100, 1000):
        if f"/health throughput vs bare handler at {conns}, %" in f:
            share = f[f"/health throughput vs bare handler at {conns}, %"]
            p99 = f[f"/health p99 / bare p99 at {conns}"]
            label = f"/health throughput vs bare at {conns} connections (served at once), %"
            out.append((label, share, ">= 90", share >= 90))
            out.append((f"/health p99 / bare p99 at {conns} connections", p99, "<= 1.2", p99 <= 1.2))
    if "exit non-zero -> `down` at the webhook receiver p95, s" in f:
        ms = f["exit non-zero -> `down` at the webhook receiver p95, s"] * 1000
        out.append(("exit -> `down` at the receiver p95, ms", ms, "<= 100", ms <= 100))
    for key, value in f.items():
        if key.startswith("container: our cold sweep / node_exporter's scrape, "):
            when = "every service having run" if "every service" in key else "as set up"
            label = f"our cold sweep / node_exporter's scrape ({when}, median of pairs)"
            out.append((label, value, "< 1", value < 1))
    return out


PARTS = ["sweep", "footprint", "latency", "http", "journal", "probes", "pings", "decide", "nodeexp"]


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--timers", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=20)
    # a p95 of 20 is their maximum: one slow run on a shared machine would be the figure
    ap.add_argument("--latency-samples", type=int, default=60, help="runs behind each latency percentile")
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only these parts (repeatable)",
    )
    ap.add_argument("--http-items", type=int, default=20, help="items behind /health in the HTTP run")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json", help="where to write the figures")
    args = ap.parse_args()
    global PYTHON
    PYTHON = runtime_python()
    um = UserManager()
    um.start()
    os.environ.update(um.env)  # this process's own client talks to the private manager too
    figures: dict[str, float] = {}
    try:
        parts = args.only or PARTS
        names = populate(um, args.timers, args.latency_samples) if set(parts) - {"journal", "decide", "nodeexp"} else []
        if "sweep" in parts:
            figures |= bench_sweep(um, names, "scope: user\ndiscover: true\nunits: {}\n")
        if "footprint" in parts:
            figures |= bench_footprint(um, um.base, args.idle, args.timers)
        if "latency" in parts:
            figures |= bench_latency(um, um.base, args.latency_samples, args.timers)
        if "http" in parts:
            figures |= bench_http(um, um.base, min(args.http_items, args.timers), PYTHON)
        if "journal" in parts:
            figures |= bench_journal(PYTHON, args.samples)
        if "probes" in parts:
            figures |= bench_probes(um, um.base, PYTHON, names[: args.http_items], args.idle)
        if "pings" in parts:
            figures |= bench_pings(um, um.base, PYTHON)
        if "decide" in parts:
            figures |= bench_decide(args.timers)
        if "nodeexp" in parts:
            figures |= bench_node_exporter(PYTHON, args.timers, 7)
    finally:
        um.stop()
    write_results(args.json, figures, vars(args))
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key.ljust(width)}  {value:10.4f}")
    for label, value, target, met in targets(figures):
        verdict = "met" if met else "NOT MET"
        print(f"{('target: ' + label).ljust(width)}  {number(value):>10}  target {target}: {verdict}")
    two = "container: two GetAlls per timer (timer + service), pipelined, cold, lower bound, median of 3, s"
    scrapes = [v for k, v in figures.items() if k.startswith("baseline: node_exporter systemd collector scrape via")]
    if two in figures and scrapes:
        ratio = figures[two] / min(scrapes)
        label = "ratio: two GetAlls per timer (lower bound) / node_exporter's fastest scrape"
        print(f"{label.ljust(width)}  {ratio:10.2f}x  (the two-call design against the peer)")
    if "exit non-zero -> transition p95, s" in figures:
        p95 = figures["exit non-zero -> `down` at the webhook receiver p95, s"]
        print(f"{'ratio: seeds polling / exit->alert p95'.ljust(width)}  {900 / p95:10.0f}x  (target p95 <= 1 s)")
    if "pings p99 / bare handler p99 at 1000/s" in figures:
        ratio = figures["pings p99 / bare handler p99 at 1000/s"]
        print(f"{'ratio: pings p99 / bare handler p99'.ljust(width)}  {ratio:10.2f}x  (target <= 2x)")
    if "exit -> `down` with the journal excerpt p95, s" in figures:
        ratio = (
            figures["exit -> `down` with the journal excerpt p95, s"]
            / figures["baseline: exit -> `down` without an excerpt p95, s"]
        )
        print(f"{'ratio: p95 with excerpt / without'.ljust(width)}  {ratio:10.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
