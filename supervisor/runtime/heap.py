"""The daemon's heap: what lives as long as the process is set aside from the cycle collector, and what a full
sweep churned through is handed back to the OS."""

from __future__ import annotations

import contextlib
import ctypes
import gc


def settle() -> None:
    """Everything allocated so far lives as long as the process (modules, the registry, the web app, the first
    step): out of the collector's sight, so its collections walk only what sweeping, deciding and serving allocate.

    Before the first sweep it saves that sweep's thousands of allocations a walk of all of it (a tenth of a cold
    sweep of 1,000 timers).
    """
    gc.collect()
    gc.freeze()


def release() -> None:
    """Hand the heap a full sweep churned through back to the OS (glibc keeps it otherwise)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
