"""Probes and push heartbeats under load, each beside its baseline measured in the same run.

probes  200 HTTP probes every 10 s against a loopback server: the daemon's CPU % and RSS,
        next to the same daemon (same timers) without probes
pings   1,000 pings per second (open loop: each request is sent on schedule, whatever the
        previous ones do) spread over 100 names: p50/p99 from the moment a request was due,
        next to a bare aiohttp handler answering the same path
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.proc import cpu_s, rss_mb
from tests.harness.user_manager import UserManager

TARGET = """
import sys
from aiohttp import web
async def handler(request):
    return web.Response(text='ok')
app = web.Application()
app.router.add_get('/{tail:.*}', handler)
app.router.add_post('/{tail:.*}', handler)
web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), access_log=None, print=None)
"""
KEY = "bench-ping-key-0123456789"


def _wait(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


def _daemon(um: UserManager, python: str, registry: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(um.env, MISSIONCTL_PING_KEY=KEY)
    with open(log, "wb") as out:
        return subprocess.Popen(
            [python, "-m", "supervisor", "run", "--user", "--registry", str(registry)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def bench_probes(
    um: UserManager, base: Path, python: str, timers: list[str], idle_s: float, probes: int = 200
) -> dict[str, Any]:
    """CPU and RSS of the daemon with ``probes`` probes every 10 s, and without them."""
    target_port, port = 18811, 18812
    target = subprocess.Popen([python, "-c", TARGET, str(target_port)])
    figures: dict[str, Any] = {}
    try:
        _wait(f"http://127.0.0.1:{target_port}/")
        units = "".join(f"  {n}.timer: {{}}\n" for n in timers)
        for label, checks in (
            ("without probes", ""),
            (
                f"with {probes} probes every 10s",
                "checks:\n"
                + "".join(
                    f"  site{i:03d}: {{http: 'http://127.0.0.1:{target_port}/health/{i}', every: 10s}}\n"
                    for i in range(probes)
                ),
            ),
        ):
            registry = base / "probes.yaml"
            registry.write_text(
                f"scope: user\nstate_dir: {base}/state-probes\ndiscover: false\n"
                f"server: {{listen: '127.0.0.1:{port}'}}\n{checks}units:\n{units}"
            )
            daemon = _daemon(um, python, registry, base / "probes.log")
            try:
                _wait(f"http://127.0.0.1:{port}/health")
                time.sleep(12)  # the first round of probes (their start is jittered over 10 s)
                c0, t0 = cpu_s(daemon.pid), time.monotonic()
                time.sleep(idle_s)
                cpu = (cpu_s(daemon.pid) - c0) / (time.monotonic() - t0) * 100
                figures[f"daemon CPU, {len(timers)} timers, {label}, %"] = round(cpu, 2)
                figures[f"daemon RSS, {len(timers)} timers, {label}, MB"] = round(rss_mb(daemon.pid), 1)
            finally:
                daemon.terminate()
                daemon.wait(30)
        without = figures[f"daemon CPU, {len(timers)} timers, without probes, %"]
        with_ = figures[f"daemon CPU, {len(timers)} timers, with {probes} probes every 10s, %"]
        figures[f"CPU cost of {probes} probes every 10s, percentage points"] = round(with_ - without, 2)
    finally:
        target.terminate()
        target.wait(30)
    return figures


async def _load(urls: list[str], rate: float, seconds: float) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(url: str, due: float) -> None:
            nonlocal errors
            try:
                async with session.post(url, data=b"bench run output") as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except aiohttp.ClientError:
                errors += 1
                return
            latencies.append(time.perf_counter() - due)

        tasks = []
        start = time.perf_counter() + 0.2
        total = int(rate * seconds)
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(urls[i % len(urls)], due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "sent": float(total),
        "rate": total / elapsed,
        "ok": float(statuses.get(200, 0)),
        "other": float(sum(v for k, v in statuses.items() if k != 200) + errors),
        "p50_ms": ordered[len(ordered) // 2] * 1000 if ordered else float("nan"),
        "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000 if ordered else float("nan"),
    }


def bench_pings(
    um: UserManager, base: Path, python: str, rate: float = 1000.0, seconds: float = 10.0, rounds: int = 5
) -> dict[str, Any]:
    """1,000 pings/s at the daemon and at a bare aiohttp handler, the same client, the same paths."""
    port, bare_port, names = 18813, 18814, 100
    registry = base / "pings.yaml"
    registry.write_text(
        f"scope: user\nstate_dir: {base}/state-pings\ndiscover: false\n"
        f"server: {{listen: '127.0.0.1:{port}'}}\npings:\n"
        + "".join(f"  job{i:03d}: {{period: 1h}}\n" for i in range(names))
        + "units: {}\n"
    )
    daemon = _daemon(um, python, registry, base / "pings.log")
    bare = subprocess.Popen([python, "-c", TARGET, str(bare_port)])
    figures: dict[str, Any] = {}
    try:
        _wait(f"http://127.0.0.1:{port}/health")
        _wait(f"http://127.0.0.1:{bare_port}/")
        runs: dict[str, list[dict[str, float]]] = {"missionctl": [], "baseline: bare aiohttp handler": []}
        cpu = 0.0
        for _ in range(rounds):  # interleaved: drift of a shared machine falls on both sides alike
            for label, p in (("missionctl", port), ("baseline: bare aiohttp handler", bare_port)):
                urls = [f"http://127.0.0.1:{p}/ping/{KEY}/job{i:03d}" for i in range(names)]
                asyncio.run(_load(urls, rate / 5, 1))  # warm up connections and code paths
                c0 = cpu_s(daemon.pid)
                runs[label].append(asyncio.run(_load(urls, rate, seconds)))
                if p == port:
                    cpu += (cpu_s(daemon.pid) - c0) / seconds * 100 / rounds
        figures[f"daemon CPU while taking {rate:.0f} pings/s, %"] = round(cpu, 1)
        for label, got in runs.items():
            figures[f"{label}: pings sent ({rounds} rounds of {rate:.0f}/s for {seconds:.0f}s)"] = sum(
                g["sent"] for g in got
            )
            figures[f"{label}: achieved rate, /s (median)"] = round(statistics.median(g["rate"] for g in got), 1)
            figures[f"{label}: answered 200"] = sum(g["ok"] for g in got)
            figures[f"{label}: other answers or errors"] = sum(g["other"] for g in got)
            figures[f"{label}: p50 from due time, ms (median of rounds)"] = round(
                statistics.median(g["p50_ms"] for g in got), 2
            )
            figures[f"{label}: p99 from due time, ms (median of rounds)"] = round(
                statistics.median(g["p99_ms"] for g in got), 2
            )
        ours = figures["missionctl: p99 from due time, ms (median of rounds)"]
        bare_p99 = figures["baseline: bare aiohttp handler: p99 from due time, ms (median of rounds)"]
        figures[f"pings p99 / bare handler p99 at {rate:.0f}/s"] = round(ours / bare_p99, 2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/maintenance", timeout=5) as r:
            import json

            received = json.loads(r.read())["supervisor"]["pings_received"]
        figures["pings the daemon recorded (success)"] = float(received.get("success", 0))
    finally:
        daemon.terminate()
        daemon.wait(30)
        bare.terminate()
        bare.wait(30)
    return figures


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run: python -m bench --only probes --only pings")
