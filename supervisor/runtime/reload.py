"""SIGHUP: the secrets file and the registry read again, whatever is at the path; a rejection is kept visible."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from supervisor.adapters.envfile import EnvFile
from supervisor.adapters.statefile import atomic_write
from supervisor.config.errors import ACTIVE_REGISTRY, RegistryError
from supervisor.config.registry import Registry
from supervisor.config.vetted import VETTED_TIMEOUT_S, read_vetted
from supervisor.core.times import iso

log = structlog.get_logger("missionctl")

#: A registry not validated in this time is rejected (the loader bounds its own work far below).
RELOAD_TIMEOUT_S = VETTED_TIMEOUT_S


class Reloader:
    """Reads the registry (and the environment file) again; remembers the last rejection for /health."""

    def __init__(self, path: Path, env_file: Path | None) -> None:
        self.path = path
        self.env = EnvFile(env_file) if env_file is not None else None
        self.problem: dict[str, Any] | None = None  # the file on disk, when it was rejected

    def start(self, registry: Registry) -> None:
        """At start-up: learn which variables are the env file's; save the accepted registry."""
        if self.env is not None:
            self.env.fill()  # under systemd the values are there already; this learns which keys are the file's
        self.save_active(registry)

    def report(self) -> dict[str, Any]:
        """``{"status": "ok"|"rejected", "path", ("at", "errors")}``."""
        return self.problem or {"path": str(self.path), "status": "ok"}

    def reload_secrets(self) -> None:
        """Make the environment match the secrets file again (values are never logged)."""
        if self.env is None:
            return
        changed, removed = self.env.reload()
        if changed or removed:
            log.info("secrets_reloaded", path=str(self.env.path), changed=sorted(changed), removed=sorted(removed))

    async def reload(self, running: Registry) -> Registry | None:
        """The new registry, or None (rejected: the running one stays, and ``problem`` says why)."""
        user = running.scope == "user"  # read as at start: a --user run reads any file as scope: user
        try:  # validated by a child, off the loop and bounded: whatever is at the path, supervision goes on
            registry = await asyncio.to_thread(read_vetted, self.path, user=user, timeout=RELOAD_TIMEOUT_S)
        except RegistryError as exc:
            errors = exc.errors
            self.problem = {
                "path": str(self.path),
                "status": "rejected",
                "at": iso(datetime.now(UTC)),
                "errors": errors,
            }
            log.error("registry_rejected", path=str(self.path), errors=errors, kept="running configuration")
            return None
        if registry.state_dir != running.state_dir:
            log.error(
                "registry_state_dir_changed",
                kept=str(running.state_dir),
                hint="restart the service to move the state directory",
            )
            registry = registry.model_copy(update={"state_dir": running.state_dir})
        if registry.scope != running.scope:  # the manager it talks to is chosen at start
            log.error("registry_scope_changed", kept=running.scope, hint="restart the service to change scope")
            registry = registry.model_copy(update={"scope": running.scope})
        self.problem = None
        self.save_active(registry)
        log.info("registry_reloaded", path=str(self.path), units=len(registry.units))
        return registry

    def save_active(self, registry: Registry) -> None:
        """Keep a copy of the accepted registry: the CLI falls back on it while the file on disk is broken."""
        try:
            atomic_write(registry.state_dir / ACTIVE_REGISTRY, self.path.read_bytes(), 0o644)
        except OSError as exc:
            log.warning("registry_copy_failed", error=str(exc))
