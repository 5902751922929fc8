"""sd_notify: READY/STATUS/WATCHDOG to systemd (no-ops outside a Type=notify unit)."""

from __future__ import annotations

import os

from pystemd import daemon


def enabled() -> bool:
    """Whether systemd is listening for notifications."""
    return bool(os.environ.get("NOTIFY_SOCKET"))


def ready(status: str) -> None:
    """Tell systemd start-up is complete."""
    if enabled():
        daemon.notify(False, ready=1, status=status)


def status(text: str) -> None:
    """Update the one-line status shown by ``systemctl status``."""
    if enabled():
        daemon.notify(False, status=text)


def watchdog_interval_s() -> float | None:
    """How often to ping the watchdog (half its timeout), or None when it is off."""
    usec = daemon.watchdog_enabled(False)
    return usec / 2_000_000 if usec and usec > 0 else None


def watchdog() -> None:
    """Ping the watchdog."""
    if enabled():
        daemon.notify(False, watchdog=1)


def stopping() -> None:
    """Tell systemd the daemon is shutting down."""
    if enabled():
        daemon.notify(False, stopping=1)
