"""``missionctl-generator``: a systemd generator (systemd.generator(7)) for the registry's ``jobs:``.

systemd runs it at boot and at every ``daemon-reload`` with its output directories;
the units it writes there live in /run and are rebuilt from the registry each time,
so a job removed from the registry leaves nothing behind and no unit outside that
directory is ever touched. A registry that does not parse falls back to the copy the
daemon runs with (``state_dir/registry.active.yaml``): a typo does not unschedule
every job. A generator must not fail the boot: every problem is said on stderr
(the journal) and the exit code is 0.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REGISTRY = Path(os.environ.get("MISSIONCTL_REGISTRY", "/etc/missionctl/registry.yaml"))


def write_units(out: Path, units: dict[str, str]) -> None:
    """The unit files, and each timer wanted by timers.target (started at boot)."""
    wants = out / "timers.target.wants"
    for name, text in units.items():
        (out / name).write_text(text)
        if name.endswith(".timer"):
            wants.mkdir(exist_ok=True)
            link = wants / name
            if not link.is_symlink():
                link.symlink_to(f"../{name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``missionctl-generator NORMAL_DIR [EARLY_DIR LATE_DIR]``."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: missionctl-generator NORMAL_DIR [EARLY_DIR LATE_DIR]", file=sys.stderr)
        return 0
    from supervisor.cli.config import state_dir_of
    from supervisor.config.errors import ACTIVE_REGISTRY, RegistryError
    from supervisor.config.generate import job_units
    from supervisor.config.loader import load_registry

    try:
        registry = load_registry(REGISTRY)
    except RegistryError as exc:
        print("missionctl-generator: " + "; ".join(exc.errors), file=sys.stderr)
        try:
            registry = load_registry(state_dir_of(REGISTRY, False) / ACTIVE_REGISTRY)
        except RegistryError:
            print("missionctl-generator: no usable registry; no job units generated", file=sys.stderr)
            return 0
        print("missionctl-generator: using the registry the daemon runs with", file=sys.stderr)
    program = str(Path(sys.executable).with_name("missionctl"))
    try:
        write_units(Path(args[0]), job_units(registry, str(REGISTRY), program))
    except OSError as exc:
        print(f"missionctl-generator: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
