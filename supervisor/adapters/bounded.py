"""Reading a file named by configuration: a regular file, of bounded size, never blocking (no FIFO, no device)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class Refused(Exception):
    """The file cannot be used; the message says why (never its content)."""


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The whole file, at most ``max_bytes``; Refused for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise Refused(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("it is a directory" if stat.S_ISDIR(info.st_mode) else "it is not a regular file")
        if info.st_size > max_bytes:
            raise Refused(f"it is {info.st_size} bytes; at most {max_bytes} are read")
        data = b""
        while len(data) <= max_bytes:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
        if len(data) > max_bytes:
            raise Refused(f"it grew past {max_bytes} bytes while it was read")
        return data
    except OSError as exc:
        raise Refused(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
