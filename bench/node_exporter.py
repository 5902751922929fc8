"""The peer people would pick instead: node_exporter's systemd collector, on the same units.

node_exporter reads the system manager, so this part boots the throwaway system-mode
container of the e2e tests with N timers and their services, and measures in the same
run: a scrape of ``prometheus-node-exporter --collector.systemd`` (Debian's package),
``systemctl list-timers --all``, our in-process sweep (cold: a new process's first, and
warm), and the whole ``missionctl check --sweep`` process.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import time
import urllib.request
from typing import Any

from tests.harness.container import PATH, Container, container
from tests.harness.lab import wait_until

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
REGISTRY = "/etc/mc-bench/registry.yaml"

SWEEP = """
import json, sys, time
from datetime import UTC, datetime
t0 = time.perf_counter()
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.config.loader import parse_registry
from supervisor.core.decide import decide
from supervisor.core.state import State
from supervisor.runtime.observe import observe_all
imported = time.perf_counter() - t0
import gc
registry = parse_registry(open(sys.argv[1]).read(), sys.argv[1])
client = SystemdClient(user=False)  # the daemon's client: the first sweep reads the stamps too
gc.collect()
gc.freeze()  # as the daemon does once started, before its first sweep
times, calls, trips = [], [], []
for i in range(int(sys.argv[2])):
    t, c, r = time.perf_counter(), client.calls, client.round_trips
    if i == 0:
        client.connect()
    snap = observe_all(client, registry)
    decide(snap.policies, snap.observations, State(), datetime.now(UTC))
    times.append(time.perf_counter() - t)
    calls.append(client.calls - c)
    trips.append(client.round_trips - r)
print(json.dumps({"imported": imported, "times": times, "calls": calls, "trips": trips, "items": len(snap.policies)}))
"""

#: The literal "two calls per timer" design, for comparison: a GetAll of the timer and one of its service,
#: every call pipelined on the private socket like ours. A lower bound of that design: the service's name
#: is taken from the timer's (not from the answer), nothing is decoded and nothing is decided.
TWO_GETALLS = """
import json, time
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.adapters.systemd.facts import SERVICE, TIMER
from supervisor.adapters.systemd.pipeline import Conversation, converse
from supervisor.adapters.systemd.wire import Call, Failed
t = time.perf_counter()
client = SystemdClient(user=False)
client.connect()
units = client.list_units()
talk, answers = Conversation(), []
for unit in units.values():
    service = units.get(unit.name.removesuffix(".timer") + ".service")
    if unit.name.startswith("bench") and unit.name.endswith(".timer") and service is not None:
        talk.ask(Call(unit.path, TIMER), answers.append)
        talk.ask(Call(service.path, SERVICE), answers.append)
converse(client.private, talk, 30)
seconds = time.perf_counter() - t
assert not any(isinstance(a, Failed) for a in answers), answers[:3]
print(json.dumps({"seconds": seconds, "calls": talk.sent + 1, "timers": talk.sent // 2}))
"""


def _populate(vps: Container, n: int) -> list[str]:
    units = vps.root / "etc/systemd/system"
    names = []
    for i in range(n):
        name = f"bench{i:04d}"
        (units / f"{name}.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
        when = "OnActiveSec=1s\nOnUnitActiveSec=1h\n" if i % 2 else f"OnCalendar=*-*-* {i % 24:02d}:{i % 60:02d}:00\n"
        (units / f"{name}.timer").write_text(f"[Timer]\nAccuracySec=1ms\n{when}")
        names.append(f"{name}.timer")
    vps.run("systemctl", "daemon-reload")
    for k in range(0, n, 250):
        vps.run("systemctl", "start", *names[k : k + 250])

    def idle() -> bool:
        out = vps.run("systemctl", "list-units", "--state=activating", "--no-legend", "bench*.service").stdout
        return not out.strip()

    wait_until(idle, 180, "every first run finished")
    time.sleep(1)
    return names


def _run_every_service(vps: Container, timers: list[str]) -> None:
    services = [t.removesuffix(".timer") + ".service" for t in timers]
    for k in range(0, len(services), 250):
        vps.run("systemctl", "start", *services[k : k + 250])  # oneshot: returns once each has exited
    time.sleep(1)


def _our_sweeps(vps: Container, python: str, processes: int = 3) -> dict[str, Any]:
    """New processes' first (cold) sweep and four more each, as the daemon's client makes them.

    ``cold`` is the median of the processes' first sweeps; the rest is the first process's.
    """
    runs = [
        json.loads(
            subprocess.run(
                _inside(vps, python, "-c", SWEEP, REGISTRY, "5"), capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(processes)
    ]
    return {**runs[0], "cold": statistics.median(run["times"][0] for run in runs)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _inside(vps: Container, *argv: str) -> list[str]:
    return ["nsenter", "-t", str(vps.pid), "-a", "env", "-i", f"PATH={PATH}", *argv]


def _scrapes(vps: Container, samples: int, private: bool) -> tuple[list[float], int]:
    port = _free_port()
    argv = [
        NODE_EXPORTER,
        "--collector.disable-defaults",
        "--collector.systemd",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    if private:
        argv.append("--collector.systemd.private")
    proc = subprocess.Popen(_inside(vps, *argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/metrics"
    try:

        def up() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=30):
                    return True
            except OSError:
                return False

        wait_until(up, 30, "node_exporter answers")  # the first scrape also warms it up
        times, timers = [], 0
        for _ in range(samples):
            t0 = time.perf_counter()
            with urllib.request.urlopen(url, timeout=60) as r:
                body = r.read().decode()
            times.append(time.perf_counter() - t0)
            timers = sum(1 for line in body.splitlines() if line.startswith("node_systemd_timer_last_trigger_seconds{"))
        return times, timers
    finally:
        proc.terminate()
        proc.wait(10)


def bench_node_exporter(python: str, n: int, samples: int) -> dict[str, float]:
    """node_exporter's scrape vs our cold and warm sweep and the whole check process, same units."""
    figures: dict[str, float] = {}
    with container() as vps:
        names = _populate(vps, n)
        conf = vps.root / "etc/mc-bench"
        conf.mkdir(parents=True)
        (conf / "registry.yaml").write_text(
            "scope: system\nstate_dir: /var/lib/mc-bench\ndiscover: true\nserver: {enabled: false}\nunits: {}\n"
        )
        for private in (False, True):
            times, timers = _scrapes(vps, samples, private)
            assert timers >= n, f"node_exporter exposed {timers} timers"
            how = "the private socket" if private else "the bus"
            figures[f"baseline: node_exporter systemd collector scrape via {how} ({timers} timers) median, s"] = (
                statistics.median(times)
            )
            figures[f"baseline: node_exporter scrape via {how} max, s"] = max(times)
        lt = []
        for _ in range(3):
            t0 = time.perf_counter()
            vps.run("systemctl", "list-timers", "--all", "--no-pager")
            lt.append(time.perf_counter() - t0)
        figures["baseline: `systemctl list-timers --all` median, s"] = statistics.median(lt)
        ours = _our_sweeps(vps, python)
        assert ours["items"] >= n, ours
        figures[f"container: our sweep of {ours['items']} items, cold (connect + first sweep), median of 3, s"] = ours[
            "cold"
        ]
        figures["container: our sweep, warm (median of the next 4), s"] = statistics.median(ours["times"][1:])
        figures["container: our sweep, cold: D-Bus calls per supervised timer"] = ours["calls"][0] / ours["items"]
        figures["container: our sweep, warm: D-Bus calls per supervised timer"] = (
            statistics.median(ours["calls"][1:]) / ours["items"]
        )
        figures["container: our sweep, cold: round trips to the manager"] = ours["trips"][0]
        figures["container: our sweep, warm: round trips to the manager (median)"] = statistics.median(
            ours["trips"][1:]
        )
        # half the services above have not run yet (their calendar time has not come), which a cold
        # sweep sees from their stamps and reads no further: the worst case is every one having run
        _run_every_service(vps, names)
        ran = _our_sweeps(vps, python)
        figures["container: our sweep, cold, every service having run once, median of 3, s"] = ran["cold"]
        figures["container: our sweep, cold, every service having run: D-Bus calls per supervised timer"] = (
            ran["calls"][0] / ran["items"]
        )
        two = [
            json.loads(
                subprocess.run(
                    _inside(vps, python, "-c", TWO_GETALLS), capture_output=True, text=True, check=True
                ).stdout
            )
            for _ in range(3)
        ]
        assert two[0]["timers"] >= n, two[0]
        figures["container: two GetAlls per timer (timer + service), pipelined, cold, lower bound, median of 3, s"] = (
            statistics.median(run["seconds"] for run in two)
        )
        figures["container: two GetAlls per timer: D-Bus calls per supervised timer"] = (
            two[0]["calls"] / two[0]["timers"]
        )
        whole = []
        for _ in range(3):
            t0 = time.perf_counter()
            r = subprocess.run(
                _inside(vps, python, "-m", "supervisor", "check", "--sweep", "--json", "--registry", REGISTRY),
                capture_output=True,
                text=True,
            )
            whole.append(time.perf_counter() - t0)
            assert r.returncode in (0, 1), r.stderr
        figures["container: whole `missionctl check --sweep` process median, s"] = statistics.median(whole)
    return figures
