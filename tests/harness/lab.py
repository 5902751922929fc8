"""One test's corner of a shared private systemd --user manager, and the real CLI/daemon."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.harness.user_manager import UserManager


def wait_until(cond: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Lab:
    """One test's corner of the shared manager: unique unit names, its own registry and state dir."""

    def __init__(self, um: UserManager, tmp: Path) -> None:
        self.um = um
        self.tag = uuid.uuid4().hex[:6]
        self.dir = tmp
        self.state_dir = tmp / "state"
        self.registry = tmp / "registry.yaml"
        self.daemons: list[subprocess.Popen[bytes]] = []
        self.env: dict[str, str] = dict(um.env)
        self.port = free_port()
        self._units: list[str] = []

    def name(self, stem: str) -> str:
        return f"{stem}-{self.tag}"

    def timer(self, stem: str, timer: str, service: str = "ExecStart=/bin/true", start: bool = True) -> str:
        name = self.name(stem)
        self.um.write_unit(f"{name}.service", f"[Service]\nType=oneshot\n{service}\n")
        self.um.write_unit(f"{name}.timer", f"[Timer]\nAccuracySec=1ms\n{timer}\n")
        self._units += [f"{name}.timer", f"{name}.service"]
        self.um.systemctl("daemon-reload")
        if start:
            self.um.systemctl("start", f"{name}.timer")
        return f"{name}.timer"

    def service(self, stem: str, body: str, start: bool = True) -> str:
        name = f"{self.name(stem)}.service"
        self.um.write_unit(name, f"[Service]\n{body}\n")
        self._units.append(name)
        self.um.systemctl("daemon-reload")
        if start:
            self.um.systemctl("start", name)
        return name

    def write_registry(self, units: str, extra: str = "discover: false\n") -> Path:
        server = "" if "server:" in extra else f"server: {{listen: '127.0.0.1:{self.port}'}}\n"
        self.registry.write_text(f"scope: user\nstate_dir: {self.state_dir}\n{server}{extra}units:\n{units}")
        return self.registry

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "supervisor", *args], env=self.env, capture_output=True, text=True, timeout=60
        )

    def check(self, *extra: str) -> tuple[int, dict[str, dict[str, Any]]]:
        """systemd's truth, swept by the CLI itself (never the running supervisor's view)."""
        r = self.cli("check", "--user", "--json", "--sweep", "--registry", str(self.registry), *extra)
        assert r.returncode in (0, 1), r.stderr
        return r.returncode, {i["name"]: i for i in json.loads(r.stdout)["items"]}

    def start_daemon(self) -> subprocess.Popen[bytes]:
        with open(self.dir / f"daemon-{len(self.daemons)}.log", "wb") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "supervisor",
                    "run",
                    "--user",
                    "--registry",
                    str(self.registry),
                    "--log-level",
                    "debug",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.daemons.append(proc)
        wait_until(lambda: self.events("ready") or proc.poll() is not None, what="daemon ready")
        assert proc.poll() is None, self.log_text()
        return proc

    def stop_daemon(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
        proc.send_signal(sig)
        return proc.wait(timeout=20)

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.dir.glob("daemon-*.log")))

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        out = []
        for line in self.log_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if name is None or event.get("event") == name:
                out.append(event)
        return out

    def state(self) -> dict[str, Any]:
        try:
            return json.loads((self.state_dir / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def transitions(self, item: str) -> list[tuple[str | None, str]]:
        """(from, to) of every transition the daemon logged for ``item`` (None: the first look)."""
        return [
            (None if e["from"] == "unknown" else e["from"], e["to"])
            for e in self.events("transition")
            if e["item"] == item
        ]

    def status_of(self, item: str) -> str | None:
        return self.state().get("items", {}).get(item, {}).get("status")

    def cleanup(self) -> None:
        for proc in self.daemons:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        if self._units:
            self.um.systemctl("stop", *self._units, check=False)
            for unit in self._units:
                (self.um.unit_dir / unit).unlink(missing_ok=True)
            self.um.systemctl("daemon-reload", check=False)
            self.um.systemctl("reset-failed", check=False)
