"""The heartbeat file the bash fallback watches."""

from __future__ import annotations

import os
from pathlib import Path


def touch(path: Path) -> None:
    """Create ``path`` if needed and set its mtime to now."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.utime(fd)
    finally:
        os.close(fd)
