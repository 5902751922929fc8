"""What every channel shares: the error type and the Protocol."""

from __future__ import annotations

from typing import Any, Protocol


class TransportError(Exception):
    """A delivery failed.

    ``permanent``: retrying cannot help (dead-letter now). ``retry_after``: the
    peer said when to come back. ``give_up_after``: a suspicious failure (e.g.
    a refused password) dead-letters after that many attempts.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        give_up_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.give_up_after = give_up_after


class Notifier(Protocol):
    """One alert channel."""

    name: str

    async def send(self, payload: dict[str, Any], delivery_id: str) -> None:
        """Deliver one alert payload or raise TransportError."""
        ...
