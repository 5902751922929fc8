"""A private ``systemd --user`` manager with its own D-Bus session bus.

The manager runs inside a private mount namespace (so ``/run/systemd/system``
exists for it) in fresh cgroups of its own; the test process talks to it over
the session bus at ``$RUNTIME/bus``. Nothing on the host's own managers is
touched, and ``stop()`` kills only the processes this harness started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.harness.cgroups import remove_cgroup

CGROUP_ROOTS = (Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/systemd"))
SYSTEMD = "/usr/lib/systemd/systemd"


class UserManager:
    """One private user manager: start(), use env/systemctl(), stop()."""

    def __init__(self) -> None:
        self.name = f"missionctl-test-{uuid.uuid4().hex[:10]}"
        self.base = Path(tempfile.mkdtemp(prefix="missionctl-um-"))
        self.runtime = self.base / "runtime"
        self.home = self.base / "home"
        self.unit_dir = self.home / ".config" / "systemd" / "user"
        self.bus_address = f"unix:path={self.runtime}/bus"
        self.cgroups = [root / self.name for root in CGROUP_ROOTS if root.is_dir()]
        self._manager: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """Environment that points systemctl and pystemd at this manager."""
        env = dict(os.environ)
        env.update(
            DBUS_SESSION_BUS_ADDRESS=self.bus_address,
            XDG_RUNTIME_DIR=str(self.runtime),
            HOME=str(self.home),
        )
        return env

    def start(self, timeout: float = 20.0) -> None:
        """Start the manager (it starts its own bus); wait until it answers on the bus."""
        self.runtime.mkdir(parents=True)
        os.chmod(self.runtime, 0o700)
        self.unit_dir.mkdir(parents=True)
        self._mask_stock_units()
        for cg in self.cgroups:
            cg.mkdir()
        procs = " ".join(str(cg / "cgroup.procs") for cg in self.cgroups)
        script = (
            "mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && "
            f"for f in {procs}; do echo $$ > $f; done && exec {SYSTEMD} --user"
        )
        with open(self.base / "manager.log", "wb") as log:
            self._manager = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait(self._answers, timeout, "systemd --user to answer")
        self._wait(self._on_bus, timeout, "systemd --user on its session bus")

    def _mask_stock_units(self) -> None:
        # The manager brings up its session bus itself through dbus.socket, as in a
        # real login session; the distribution's other sockets (agents) and its
        # tmpfiles timer are masked so a test manager runs only what the test writes.
        stock = [Path("/usr/lib/systemd/user"), Path("/etc/systemd/user")]
        names = {"systemd-tmpfiles-clean.timer"}
        for d in stock:
            if d.is_dir():
                names.update(p.name for p in d.rglob("*.socket"))
        names.discard("dbus.socket")
        for name in names:
            (self.unit_dir / name).symlink_to("/dev/null")

    def _on_bus(self) -> bool:
        r = subprocess.run(
            [
                "busctl",
                "--user",
                "get-property",
                "org.freedesktop.systemd1",
                "/org/freedesktop/systemd1",
                "org.freedesktop.systemd1.Manager",
                "Version",
            ],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return r.returncode == 0

    def _answers(self) -> bool:
        if self._manager is not None and self._manager.poll() is not None:
            log = (self.base / "manager.log").read_text(errors="replace")
            raise RuntimeError(f"systemd --user exited {self._manager.returncode}: {log}")
        # `is-system-running` says "offline" from outside the manager's namespace,
        # so ask the manager itself for its state.
        r = self.systemctl("show", "--property=SystemState", "--value", check=False)
        return r.returncode == 0 and r.stdout.strip() in {"running", "degraded"}

    @staticmethod
    def _wait(cond: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond():  # type: ignore[operator]
                return
            time.sleep(0.05)
        raise TimeoutError(f"timed out waiting for {what}")

    def systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``systemctl --user`` against this manager (test helper only)."""
        return subprocess.run(
            ["systemctl", "--user", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def write_unit(self, name: str, text: str) -> Path:
        """Write a unit file into the manager's unit directory."""
        path = self.unit_dir / name
        path.write_text(text)
        return path

    def stop(self) -> None:
        """Stop the manager this harness started; kill what is left in its cgroups."""
        proc = self._manager
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for cg in self.cgroups:
            remove_cgroup(cg)
        shutil.rmtree(self.base, ignore_errors=True)


@contextmanager
def user_manager() -> Iterator[UserManager]:
    """Context manager form: a started manager, always torn down."""
    um = UserManager()
    try:
        um.start()
        yield um
    finally:
        um.stop()
