"""Where the CLI finds its configuration: the registry, the secrets file, and the running configuration."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from supervisor.adapters.envfile import EnvFile
from supervisor.config.errors import ACTIVE_REGISTRY, RegistryError
from supervisor.config.registry import Registry

_STATE_DIR = re.compile(r"^state_dir:\s*['\"]?([^'\"#\s]+)", re.MULTILINE)


def default_registry(user: bool) -> Path:
    """$MISSIONCTL_REGISTRY, else the system or per-user location."""
    if env := os.environ.get("MISSIONCTL_REGISTRY"):
        return Path(env)
    return _config_dir(user) / "registry.yaml"


def default_env_file(user: bool) -> Path:
    """$MISSIONCTL_ENV_FILE, else ``missionctl.env`` beside the registry's default location."""
    if env := os.environ.get("MISSIONCTL_ENV_FILE"):
        return Path(env)
    return _config_dir(user) / "missionctl.env"


def _config_dir(user: bool) -> Path:
    if user:
        return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "missionctl"
    return Path("/etc/missionctl")


def read_secrets(user: bool) -> None:
    """Give the CLI the service's secrets (what is already in the environment wins)."""
    EnvFile(default_env_file(user)).fill()


def registry_for(args: argparse.Namespace) -> Registry:
    """The registry named by the arguments; with ``--user`` its scope is user."""
    from supervisor.config.loader import load_registry  # not the daemon's: it never validates (entry.py)

    registry = load_registry(args.registry or default_registry(args.user))
    if args.user and registry.scope != "user":
        registry = registry.model_copy(update={"scope": "user"})
    return registry


def running_registry(args: argparse.Namespace, rejected: RegistryError) -> Registry | None:
    """The configuration the daemon runs with, while the file on disk is broken (None: there is none)."""
    from supervisor.config.loader import parse_registry

    path = args.registry or default_registry(args.user)
    state_dir = state_dir_of(path, args.user)
    copy = state_dir / ACTIVE_REGISTRY
    try:
        registry = parse_registry(copy.read_text(), str(copy))
    except (OSError, UnicodeDecodeError, RegistryError):
        return None
    print("\n".join(rejected.errors), file=sys.stderr)
    print(f"missionctl: {path} is rejected; showing the running configuration ({copy})", file=sys.stderr)
    if args.user and registry.scope != "user":
        registry = registry.model_copy(update={"scope": "user"})
    return registry


def state_dir_of(path: Path, user: bool) -> Path:
    """The broken file's own ``state_dir:`` line when it has one, else the default."""
    try:
        match = _STATE_DIR.search(path.read_text(errors="replace"))
    except OSError:
        match = None
    if match:
        return Path(match.group(1))
    if user:
        return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local/state")) / "missionctl"
    return Path(Registry.model_fields["state_dir"].default)


def unknown_units(registry: Registry, path: Path, address: str | None) -> list[str]:
    """Warnings for listed units systemd does not know (empty when systemd cannot be asked)."""
    from supervisor.adapters.systemd.client import SystemdClient
    from supervisor.adapters.systemd.connection import SystemdError

    client = SystemdClient(user=registry.scope == "user", address=address)
    try:
        client.connect()
    except SystemdError:
        return []
    text = path.read_text(errors="replace")
    warnings = []
    try:
        for name in registry.listed:
            state = client.unit(name).load_state
            if state != "loaded":
                line = next((i + 1 for i, t in enumerate(text.splitlines()) if t.lstrip().startswith(name)), 1)
                warnings.append(f"{path}:{line}: units[{name}]: warning: systemd has no such unit ({state})")
    except SystemdError:
        return []
    finally:
        client.close()
    return warnings
