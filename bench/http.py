"""/health under wrk, side by side with a bare aiohttp handler serving a fixed body of the same size.

Throughput on a shared 2-core machine moves by tens of percent from one second to the next: in one run
the pairs' ratios, ours then bare seconds apart, ran from 0.64 to 1.63. So the share of bare's
throughput is taken with both servers at once: both on the first core, one wrk each on the second,
for the same seconds. The scheduler gives each server half the core, so the requests each serves in
that time compare what a request costs each, under the same neighbours (one run's rounds: within a
few percent of each other). The back-to-back pairs stay for the p99 (each server alone on its core)
and as a cross-check of the share.

Every round runs on new processes, each warmed up for a second first: two processes of one same
server, served at once, stayed up to 6 % apart for as long as they ran (another pair, another gap,
either way), so one pair of processes for all the rounds would weigh each of them by that one draw.
Beside it, what does not move with the neighbours: the instructions each server runs per request
(user space, counted by callgrind over N and 2N requests, the difference divided by N).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from supervisor.web.server import LISTEN_BACKLOG
from tests.harness.user_manager import UserManager

#: With our listen backlog (``LISTEN_BACKLOG``): at 1,000 connections aiohttp's default of 128 made the
#: p99 of either server the second a dropped handshake waits (one round's p99 70 ms, another's 1,370 ms).
BARE = f"""
import sys
from aiohttp import web
body = open(sys.argv[2], 'rb').read()
async def handler(request):
    return web.Response(body=body, content_type='application/json')
app = web.Application()
app.router.add_get('/health', handler)
web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), access_log=None, print=None, backlog={LISTEN_BACKLOG})
"""


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as r:
        return bytes(r.read())


def _wait(url: str, timeout: float = 60, server: subprocess.Popen[bytes] | None = None) -> bytes:
    """The first answer of ``url`` (failing at once if ``server``, which should answer it, exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"{server.args} exited {server.returncode} before answering {url}")
        try:
            return _get(url)
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


#: Servers on the first core, wrk on the second: neither side takes the other's core, so what is compared is
#: the two servers, each on one core (left as the scheduler places them, wrk's load moved the shares by 10 points).
SERVER_CPU, CLIENT_CPU = 0, 1
PINNED = (os.cpu_count() or 1) >= 2


def on_cpu(cpu: int, argv: list[str]) -> list[str]:
    """``argv`` run on that core only (every thread it starts too), where there are two to spare."""
    return ["taskset", "-c", str(cpu), *argv] if PINNED else argv


def _wrk_argv(url: str, seconds: int, connections: int) -> list[str]:
    threads = "-t1" if PINNED else "-t2"
    return on_cpu(CLIENT_CPU, ["wrk", threads, f"-c{connections}", f"-d{seconds}s", "--latency", url])


def _wrk_figures(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None, out
    scale = {"us": 1e-3, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale,
        "requests": total,
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": float(sum(int(g) for g in errors.groups())) if errors else 0.0,
    }


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    """One wrk run against ``url``, alone."""
    out = subprocess.run(_wrk_argv(url, seconds, connections), capture_output=True, text=True, check=True).stdout
    return _wrk_figures(out)


def wrk_together(urls: list[str], seconds: int, connections: int) -> list[dict[str, float]]:
    """One wrk per URL, all at once (each with ``connections``): servers sharing one core each get half of it,
    so what they serve in the same seconds compares what a request costs each, under the same neighbours."""
    runs = [subprocess.Popen(_wrk_argv(url, seconds, connections), stdout=subprocess.PIPE, text=True) for url in urls]
    outs = [run.communicate()[0] for run in runs]
    for run in runs:
        if run.returncode:
            raise subprocess.CalledProcessError(run.returncode, run.args)
    return [_wrk_figures(out) for out in outs]


async def _requests(port: int, n: int, connections: int = 10) -> None:
    """``n`` GET /health over keep-alive connections, one request at a time on each."""
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"

    async def one(count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length: (\d+)", head)
            assert length is not None and head.startswith(b"HTTP/1.1 200 "), head
            await reader.readexactly(int(length.group(1)))
        writer.close()

    await asyncio.gather(*(one(n // connections) for _ in range(connections)))


def _instructions(argv: list[str], port: int, n: int, out: Path, env: dict[str, str] | None = None) -> int:
    """User-space instructions of the server ``argv`` started, served ``n`` requests, and stopped."""
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv]
    with open(out.with_suffix(".log"), "wb") as log:
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{port}/health", 600, server)  # a daemon under valgrind answers in about 25 s
        asyncio.run(_requests(port, n))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(300)
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.M)
    assert totals is not None, out
    return int(totals.group(1))


def instructions_per_request(argv: list[str], port: int, base: Path, env: dict[str, str] | None, n: int) -> float:
    """The instructions one more request costs ``argv``'s server: (runs of 2n requests - runs of n) / n."""
    small = _instructions(argv, port, n, base / "callgrind.n", env)
    large = _instructions(argv, port, 2 * n, base / "callgrind.2n", env)
    return (large - small) / n


def _dbus_calls(port: int) -> float:
    return float(json.loads(_get(f"http://127.0.0.1:{port}/api/maintenance"))["supervisor"]["dbus_calls"])


@contextlib.contextmanager
def _servers(
    um: UserManager, ours_argv: list[str], base: Path, port: int, bare_port: int, python: str, sample: Path
) -> Iterator[int]:
    """A new daemon on ``port`` and a new bare handler on ``bare_port`` serving the daemon's /health body as
    it is (its size is what this yields), both on the servers' core; both stopped on the way out."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        with open(base / "http.log", "ab") as log:
            started.append(
                subprocess.Popen(on_cpu(SERVER_CPU, ours_argv), env=um.env, stdout=log, stderr=subprocess.STDOUT)
            )
        body = _wait(f"http://127.0.0.1:{port}/health", server=started[0])
        while json.loads(body)["generated_at"] is None:  # pragma: no cover - first view is published with ready
            body = _get(f"http://127.0.0.1:{port}/health")
        sample.write_bytes(body)
        started.append(subprocess.Popen(on_cpu(SERVER_CPU, [python, "-c", BARE, str(bare_port), str(sample)])))
        _wait(f"http://127.0.0.1:{bare_port}/health", server=started[1])
        yield len(body)
    finally:
        for server in started:
            server.terminate()
        for server in started:
            server.wait(30)


def _round(
    port: int, bare_port: int, i: int, seconds: int, conns: int
) -> tuple[dict[str, float], dict[str, float], dict[int, dict[str, float]]]:
    """Round ``i`` on new servers: each warmed up, then both back to back (the first taking turns), then both
    at once. What it returns: ours back to back, bare's back to back, and each port's run at once."""
    for port_ in (port, bare_port):  # not counted: a new server's first second (connecting, warming up)
        wrk(f"http://127.0.0.1:{port_}/health", 1, conns)
    order = (port, bare_port) if i % 2 == 0 else (bare_port, port)
    done = {p: wrk(f"http://127.0.0.1:{p}/health", seconds, conns) for p in order}
    # a second for the server that served last to close its connections; then each wrk starting first in
    # turn, crossed with which server served last (at 1,000 connections, without the pause and always in
    # the back-to-back order, the share moved by 10 points from round to round)
    time.sleep(1)
    first = order if i % 4 < 2 else order[::-1]
    at_once = wrk_together([f"http://127.0.0.1:{p}/health" for p in first], seconds, conns)
    return done[port], done[bare_port], dict(zip(first, at_once, strict=True))


def bench_http(
    um: UserManager,
    base: Path,
    items: int,
    python: str = sys.executable,
    seconds: int = 4,
    connections: tuple[int, ...] = (100, 1000),
    rounds: int = 15,
    counted: int = 2000,
) -> dict[str, Any]:
    port, bare_port = 18801, 18802
    names = [f"bench{i:04d}.timer" for i in range(items)]
    registry, counted_registry = base / "http.yaml", base / "http-counted.yaml"
    for path, server in ((registry, ""), (counted_registry, ", snapshot_ttl: 86400")):
        path.write_text(
            f"scope: user\nstate_dir: {base}/state-http\ndiscover: false\n"
            f"server: {{listen: '127.0.0.1:{port}'{server}}}\nunits:\n" + "".join(f"  {n}: {{}}\n" for n in names)
        )
    ours_argv = [python, "-m", "supervisor", "run", "--user", "--registry", str(registry)]
    sample = base / "body.json"
    figures: dict[str, Any] = {}
    for conns in connections:
        runs: list[tuple[dict[str, float], dict[str, float]]] = []
        together: list[float] = []  # requests served in the same seconds on one core: ours / bare's
        calls, served = 0.0, 0.0
        for i in range(rounds):
            # each round on new processes: two processes of one same server keep a few percent between
            # them for as long as they live (where their memory landed), so one pair for every round would
            # carry that luck into every round; new ones average it out
            with _servers(um, ours_argv, base, port, bare_port, python, sample) as size:
                before = _dbus_calls(port)
                mine, bare_run, at_once = _round(port, bare_port, i, seconds, conns)
                calls += _dbus_calls(port) - before
            served += mine["requests"] + at_once[port]["requests"]
            runs.append((mine, bare_run))
            together.append(at_once[port]["requests"] / at_once[bare_port]["requests"])
            print(
                f"/health at {conns}, round {i + 1}: {mine['rps']:.0f} req/s (p99 {mine['p99_ms']:.2f} ms), "
                f"bare {bare_run['rps']:.0f} req/s (p99 {bare_run['p99_ms']:.2f} ms); "
                f"served at once: {100 * together[-1]:.1f} % of bare's",
                file=sys.stderr,
            )
        shares = [100 * mine["rps"] / bare_run["rps"] for mine, bare_run in runs]
        ours = {k: statistics.median(r[0][k] for r in runs) for k in ("rps", "p99_ms")}
        baseline = {k: statistics.median(r[1][k] for r in runs) for k in ("rps", "p99_ms")}
        figures |= {
            f"/health ({items} items, {size} B body) req/s at {conns} connections (median of {rounds})": ours["rps"],
            f"/health p99 at {conns} connections, ms": ours["p99_ms"],
            f"/health non-2xx responses / socket errors at {conns}": sum(
                r[0]["non_2xx"] + r[0]["socket_errors"] for r in runs
            ),
            f"baseline: bare aiohttp handler, same body, req/s at {conns}": baseline["rps"],
            f"baseline: bare aiohttp handler p99 at {conns}, ms": baseline["p99_ms"],
            f"baseline: bare handler non-2xx / socket errors at {conns}": sum(
                r[1]["non_2xx"] + r[1]["socket_errors"] for r in runs
            ),
            # what decides the target: both servers at once, on the same core, in the same seconds
            f"/health throughput vs bare handler at {conns}, %": 100 * statistics.median(together),
            f"/health throughput vs bare, served at once, lowest round at {conns}, %": 100 * min(together),
            f"/health throughput vs bare, served at once, highest round at {conns}, %": 100 * max(together),
            # the same back to back: each alone on its core, but seconds apart (the neighbours' load moves)
            f"/health throughput vs bare, back to back, median of rounds at {conns}, %": statistics.median(shares),
            f"/health throughput vs bare, back to back, lowest round at {conns}, %": min(shares),
            f"/health throughput vs bare, back to back, highest round at {conns}, %": max(shares),
            # each round's two runs back to back: the median of their ratios (the medians' ratio would mix
            # rounds the machine was busier in)
            f"/health p99 / bare p99 at {conns}": statistics.median(r[0]["p99_ms"] / r[1]["p99_ms"] for r in runs),
            f"D-Bus calls per /health request at {conns}": calls / max(1.0, served),
        }
    if shutil.which("valgrind") is None:  # scripts/test.sh installs it
        raise RuntimeError("valgrind is needed for the instruction counts of the HTTP part")
    # counted with the view's revalidation (one decision per snapshot_ttl, 30 s, whatever the load) out of
    # the window (http-counted.yaml): under valgrind the 2n run lasts longer, and a revalidation in it is not
    # a request's cost
    mine = instructions_per_request([*ours_argv[:-1], str(counted_registry)], port, base, um.env, counted)
    theirs = instructions_per_request([python, "-c", BARE, str(bare_port), str(sample)], bare_port, base, None, counted)
    figures |= {
        "/health instructions per request (callgrind, user space)": mine,
        "baseline: bare aiohttp handler instructions per request": theirs,
        "/health instructions per request / bare's": mine / theirs,
    }
    return figures
