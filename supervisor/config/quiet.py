"""The registry's ``maintenance:`` windows and ``depends_on:`` lists."""

from __future__ import annotations

from typing import Annotated

from supervisor.config.durations import Duration
from supervisor.config.probes import Schedule, Zone, calendar_of, host_timezone
from supervisor.config.schema import AfterValidator, BaseModel, ConfigDict, Field
from supervisor.core.silences import MAX_WINDOW, Window

_GLOB_CHARS = set("*?[]")


def check_glob(pattern: str) -> str:
    """An item name or a glob over item names (``backup-*``, ``*.timer``)."""
    if not pattern or len(pattern) > 200 or any(c.isspace() or ord(c) < 32 for c in pattern):
        raise ValueError(f"invalid item pattern {pattern[:60]!r}: a name or a glob such as backup-* (no spaces)")
    return pattern


Glob = Annotated[str, AfterValidator(check_glob)]


class MaintenanceSpec(BaseModel):
    """One recurring window: ``{items: [globs], schedule: "Sun *-*-* 03:00", duration: 2h, reason: ...}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    items: tuple[Glob, ...] = Field(min_length=1)
    schedule: Schedule
    duration: Duration = Field(gt=0, le=MAX_WINDOW.total_seconds())
    timezone: Zone | None = None
    reason: str = Field("", max_length=500)

    def window(self) -> Window:
        """The core's view of this window."""
        return Window(
            items=self.items,
            calendar=calendar_of(self.schedule),
            duration_s=self.duration,
            timezone=self.timezone or host_timezone(),
            reason=self.reason or "maintenance window",
        )


def is_glob(pattern: str) -> bool:
    """Whether the pattern has glob characters (a plain name must name an item)."""
    return any(c in _GLOB_CHARS for c in pattern)
