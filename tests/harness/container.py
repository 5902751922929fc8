"""A throwaway "fresh VPS": system-mode systemd as PID 1 of new namespaces.

The root file system is an overlay of the host's ``/`` with a tmpfs upper layer,
so anything installed inside (units, /opt, /etc) vanishes at teardown and the
host is never written to. Network is shared with the host (loopback receivers
on the host are reachable from inside). ``stop()`` powers it off and kills
whatever is left in its cgroup.
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
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.harness.cgroups import remove_cgroup

CGROUP_ROOT = Path("/sys/fs/cgroup/unified")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MASKED = [
    "postgresql.service",
    "getty@tty1.service",
    "systemd-timesyncd.service",
    "systemd-modules-load.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "man-db.timer",
    "fstrim.timer",
    "e2scrub_all.timer",
    "dpkg-db-backup.timer",
    "prometheus.service",
    "prometheus-node-exporter.service",
    "console-getty.service",
    "systemd-tmpfiles-clean.timer",
]

INIT = r"""
set -eu
T="$1"; shift
mount -t tmpfs -o mode=755 tmpfs "$T"
mkdir -p "$T/upper" "$T/work" "$T/merged"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$T/merged"
cd "$T/merged"
mount -t proc proc proc
mount --bind proc/sys proc/sys && mount -o remount,bind,ro proc/sys
mount -t sysfs -o ro sysfs sys
mount -t cgroup2 cgroup2 sys/fs/cgroup
mount -t tmpfs -o mode=755,size=16m tmpfs dev
for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
  IFS=: read -r name major minor <<< "$n"; mknod -m 666 "dev/$name" c "$major" "$minor"
done
mkdir dev/pts dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts dev/pts
ln -s pts/ptmx dev/ptmx
mount -t tmpfs -o mode=1777 tmpfs dev/shm
touch dev/console && mount --bind "$(tty)" dev/console
mount -t tmpfs -o mode=755 tmpfs run
mkdir -p run/systemd/system
for u in "$@"; do ln -s /dev/null "run/systemd/system/$u"; done
echo unshare > run/systemd/container
ln -sf /dev/null etc/tmpfiles.d/tmp.conf
mkdir -p .oldroot
pivot_root . .oldroot
cd /
umount -l /.oldroot
exec setpriv --bounding-set -sys_module,-sys_time,-sys_rawio env -i container=unshare PATH=__PATH__ \
  /usr/lib/systemd/systemd --unit=multi-user.target
"""


class Container:
    """One booted system-mode systemd; ``run()`` executes commands inside."""

    def __init__(self) -> None:
        self.name = f"missionctl-vps-{uuid.uuid4().hex[:8]}"
        self.cgroup = CGROUP_ROOT / self.name
        self.work = Path(tempfile.mkdtemp(prefix="missionctl-vps-"))
        self.pid = 0
        self._script: subprocess.Popen[bytes] | None = None

    @property
    def root(self) -> Path:
        """The container's root file system, seen from the host."""
        return Path(f"/proc/{self.pid}/root")

    def start(self, timeout: float = 60.0) -> None:
        """Boot, then wait until systemd says the system is running (or degraded)."""
        self.cgroup.mkdir()
        init = self.work / "init.sh"
        init.write_text(INIT.replace("__PATH__", PATH))
        upper = self.work / "layer"
        upper.mkdir()
        inner = (
            "unshare --mount --propagation private --pid --fork --uts --ipc --cgroup "
            f"bash {init} {upper} {' '.join(MASKED)}"
        )
        outer = f"echo $$ > {self.cgroup}/cgroup.procs && exec {inner}"
        self._script = subprocess.Popen(
            ["script", "-qfec", f"sh -c '{outer}'", str(self.work / "console.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pid = self._find_pid1()
            if self.pid and (self.root / "run/systemd/private").exists():
                break
            if self._script.poll() is not None:
                raise RuntimeError(f"container died: {self.console()}")
            time.sleep(0.05)
        else:
            raise TimeoutError(f"container did not boot: {self.console()}")
        state = self.run("systemctl", "is-system-running", "--wait", check=False, timeout=timeout)
        if state.stdout.strip() not in ("running", "degraded"):
            raise RuntimeError(f"container state {state.stdout.strip()!r}: {self.console()}")

    def _find_pid1(self) -> int:
        # systemd moves itself into init.scope below our cgroup once it runs
        pids = [pid for procs in self.cgroup.rglob("cgroup.procs") for pid in procs.read_text().split()]
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
            if len(nspid) > 1 and nspid[-1] == "1":
                return int(pid)
        return 0

    def run(
        self, *cmd: str, check: bool = True, timeout: float = 600, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside every namespace of the container, with a clean environment."""
        environ = [f"{k}={v}" for k, v in {"PATH": PATH, "LANG": "C.UTF-8", **(env or {})}.items()]
        result = subprocess.run(
            ["nsenter", "-t", str(self.pid), "-a", "env", "-i", *environ, *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def console(self) -> str:
        """What systemd printed on the console."""
        try:
            return (self.work / "console.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> None:
        """Power off; kill what is left; remove the cgroup and files."""
        if self.pid:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGRTMIN + 4)
        deadline = time.monotonic() + timeout
        events = self.cgroup / "cgroup.events"
        while events.exists() and "populated 1" in events.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)  # a clean poweroff first
        remove_cgroup(self.cgroup)  # then kill what is left
        if self._script is not None:
            try:
                self._script.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._script.kill()
        shutil.rmtree(self.work, ignore_errors=True)


@contextmanager
def container() -> Iterator[Container]:
    """A booted container, always torn down."""
    box = Container()
    try:
        box.start()
        yield box
    finally:
        box.stop()
