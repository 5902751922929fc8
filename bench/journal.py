"""Failure -> alert latency with the run's journal excerpt, next to the same without it.

journald runs only in a system-mode systemd, so this part boots the throwaway
container of the e2e tests and runs the supervisor inside it (from the runtime
venv, visible through the container's overlay). Two timers fail in turn: one
with the default ``output_lines`` (its alert waits for the journal excerpt), one
with ``output_lines: 0`` (no journal read): the baseline of the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys

from tests.harness.container import PATH, Container, container
from tests.harness.lab import wait_until
from tests.harness.receiver import Received, Receiver

NSENTER = ("nsenter", "-t")
DAEMON_ARGS = ("run", "--registry", "/etc/mc-bench/registry.yaml")


def _units(vps: Container, name: str) -> None:
    units = vps.root / "etc/systemd/system"
    stamp = f"/run/{name}.exit"
    # the job prints its failure, records the moment it exits (its last act), then exits 1
    script = (
        f"echo 'connecting to db'; echo 'pg_dump: connection refused' >&2; date +%%s.%%N > {stamp}; "
        f"test ! -e /run/{name}.fail"
    )
    (units / f"{name}.service").write_text(
        f'[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=/bin/sh -c "{script}"\n'
    )
    (units / f"{name}.timer").write_text("[Timer]\nOnActiveSec=0\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")


def bench_journal(python: str, samples: int) -> dict[str, float]:
    """Exit -> `down` at a webhook receiver, p50/p95, with and without the journal excerpt."""
    receiver = Receiver().start()
    figures: dict[str, float] = {}
    with container() as vps:
        for name in ("withlog", "nolog"):
            _units(vps, name)
        vps.run("systemctl", "daemon-reload")
        vps.run("systemctl", "start", "withlog.timer", "nolog.timer")
        conf = vps.root / "etc/mc-bench"
        conf.mkdir(parents=True)
        (conf / "registry.yaml").write_text(
            "scope: system\nstate_dir: /var/lib/mc-bench\ndiscover: false\nserver: {enabled: false}\n"
            f"alerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n"
            # each sample breaks and mends the same job within a second: not flapping for this measurement
            "  flapping: {changes: 1000}\n"
            "units:\n  withlog.timer: {}\n  nolog.timer: {output_lines: 0}\n"
        )
        log = open(conf.parent / "mc-bench.log", "wb")  # noqa: SIM115 - closed below
        daemon = subprocess.Popen(
            [*NSENTER, str(vps.pid), "-a", "env", "-i", f"PATH={PATH}", python, "-m", "supervisor", *DAEMON_ARGS],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: b'"event": "ready"' in (conf.parent / "mc-bench.log").read_bytes(), 60, "ready")
            lat: dict[str, list[float]] = {"withlog": [], "nolog": []}
            outputs: list[str] = []
            for i in range(samples * 2):
                name = "withlog" if i % 2 == 0 else "nolog"
                seen = len(receiver.received)
                (vps.root / f"run/{name}.fail").touch()
                vps.run("systemctl", "start", f"{name}.service", check=False)

                def alert(event: str, n: str = name, s: int = seen) -> Received | None:
                    mine = (r for r in receiver.received[s:] if r.json["item"] == f"{n}.timer")
                    return next((r for r in mine if r.json["event"] == event), None)

                down = wait_until(lambda: alert("down"), 30, "the down alert")
                exited = float((vps.root / f"run/{name}.exit").read_text())
                lat[name].append(down.at - exited)
                if name == "withlog":
                    outputs.append(down.json["output"] or "")
                (vps.root / f"run/{name}.fail").unlink()
                vps.run("systemctl", "start", f"{name}.service")
                wait_until(lambda: alert("recovered"), 30, "the recovery")
        except AssertionError:
            print((conf.parent / "mc-bench.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)
            log.close()
            receiver.stop()
    complete = sum("pg_dump: connection refused" in o for o in outputs)
    print("with excerpt samples:", " ".join(f"{x:.3f}" for x in lat["withlog"]), file=sys.stderr)
    print("without samples:", " ".join(f"{x:.3f}" for x in lat["nolog"]), file=sys.stderr)
    figures[f"exit -> `down` with the journal excerpt p50 ({samples} runs, container), s"] = statistics.median(
        lat["withlog"]
    )
    figures["exit -> `down` with the journal excerpt p95, s"] = _pct(lat["withlog"], 95)
    figures["baseline: exit -> `down` without an excerpt (output_lines: 0) p50, s"] = statistics.median(lat["nolog"])
    figures["baseline: exit -> `down` without an excerpt p95, s"] = _pct(lat["nolog"], 95)
    figures["alerts whose excerpt held the job's own stderr line, %"] = 100.0 * complete / max(1, len(outputs))
    return figures


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]
