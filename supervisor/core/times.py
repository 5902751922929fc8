"""How times are written in every output: ISO-8601 UTC with a ``Z`` (pure)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime | None) -> str | None:
    """``2026-11-22T06:00:00Z`` (None stays None)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def iso_ts(ts: float | None) -> str | None:
    """An epoch timestamp as ``iso``."""
    return iso(datetime.fromtimestamp(ts, UTC)) if ts is not None else None


def parse(text: str | None) -> datetime | None:
    """The inverse of ``iso``."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None
