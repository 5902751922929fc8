"""Durations as written in the registry: ``90s``, ``400m``, ``6h``, ``1d``, ``1h30m`` or seconds."""

from __future__ import annotations

import math
import re
from typing import Annotated

from supervisor.config.schema import BeforeValidator

MAX_SECONDS = 10 * 366 * 86400.0  # ten years: longer is a typo, and keeps every time computation finite
_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d|w)")


def parse_duration(value: object) -> float:
    """Seconds in a duration; ValueError with a readable message otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90s, 400m, 6h, 1d or a number of seconds")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            raise ValueError(f"duration {value!r} is longer than ten years") from None
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for match in _PART.finditer(text):
                if match.start() != pos and text[pos : match.start()].strip():
                    break
                seconds += float(match.group(1)) * _UNITS[match.group(2)]
                pos = match.end()
            if pos == 0 or text[pos:].strip():
                raise ValueError(
                    f"invalid duration {value!r}: use e.g. 90s, 400m, 6h, 1d or a number of seconds"
                ) from None
    else:
        raise ValueError("expected a duration such as 90s, 400m, 6h, 1d or a number of seconds")
    if not math.isfinite(seconds):
        raise ValueError(f"duration must be a finite number of seconds, got {value!r}")
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {value!r}")
    if seconds > MAX_SECONDS:
        raise ValueError(f"duration {value!r} is longer than ten years")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
