"""systemd's unit-name grammar, for the names a registry may list."""

from __future__ import annotations

import re

UNIT_NAME_MAX = 255
_NAME = re.compile(r"^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]+)?\.(timer|service)$")


def check_unit_name(name: str) -> str:
    """The name itself if it is a valid .timer or .service unit name; ValueError otherwise."""
    if len(name) > UNIT_NAME_MAX:
        raise ValueError(f"unit name longer than {UNIT_NAME_MAX} characters")
    if not _NAME.match(name):
        raise ValueError(
            f"invalid unit name {name!r}: expected NAME.timer or NAME.service "
            "(letters, digits, ':', '-', '_', '.', '\\', optionally @INSTANCE)"
        )
    return name
