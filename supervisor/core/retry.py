"""When an HTTP job's attempt is tried again, and after how long (pure)."""

from __future__ import annotations

#: Statuses worth another attempt: the server's trouble or a request to come back, not the request's.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def retryable(status: int | None) -> bool:
    """Whether an attempt that ended so is worth repeating (None: no answer: a timeout or a connection error)."""
    return status is None or status in RETRY_STATUSES or status >= 500


def delay_s(attempt: int, backoff_s: float) -> float:
    """The wait after failed attempt ``attempt`` (1-based): backoff, 2x, 4x..."""
    return float(backoff_s * 2 ** (attempt - 1))
