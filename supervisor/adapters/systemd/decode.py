"""D-Bus values to plain Python: timestamps, strings, ids."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

USEC_INFINITY = 2**64 - 1
_EXIT_CODES = {1: "exited", 2: "killed", 3: "dumped"}


def text(value: object) -> str:
    """A D-Bus string (bytes from pystemd) as str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)


def names(props: Mapping[bytes, object], keys: Iterable[bytes]) -> tuple[str, ...]:
    """The unit names listed under ``keys`` (arrays of strings), each once, in order."""
    out: dict[str, None] = {}
    for key in keys:
        value = props.get(key)
        if isinstance(value, list | tuple):
            out.update((text(v), None) for v in value)
    return tuple(out)


def realtime(usec: object) -> datetime | None:
    """A CLOCK_REALTIME microsecond timestamp as UTC datetime; 0/infinity mean None."""
    if not isinstance(usec, int) or usec <= 0 or usec >= USEC_INFINITY:
        return None
    return datetime.fromtimestamp(usec / 1_000_000, UTC)


def monotonic(usec: object, now: datetime, mono_now_s: float) -> datetime | None:
    """A CLOCK_MONOTONIC microsecond timestamp as a UTC wall-clock estimate."""
    if not isinstance(usec, int) or usec <= 0 or usec >= USEC_INFINITY:
        return None
    return now + timedelta(seconds=usec / 1_000_000 - mono_now_s)


def seconds(usec: object) -> float | None:
    """A microsecond duration (``RuntimeMaxUSec``) in seconds; 0/infinity mean None (unset)."""
    if not isinstance(usec, int) or usec <= 0 or usec >= USEC_INFINITY:
        return None
    return usec / 1_000_000


def clocks() -> tuple[datetime, float]:
    """The wall clock and CLOCK_MONOTONIC read together (adapters only)."""
    return datetime.now(UTC), time.clock_gettime(time.CLOCK_MONOTONIC)


def exit_code(code: object) -> str | None:
    """systemd's ExecMainCode (a CLD_* value) as a word."""
    return _EXIT_CODES.get(code) if isinstance(code, int) else None


def invocation_id(value: object) -> str | None:
    """An InvocationID (16 bytes) as 32 hex digits; None when unset."""
    if isinstance(value, bytes | bytearray | list) and any(value):
        return bytes(value).hex()
    return None
