"""``missionctl exec NAME [--url URL] -- CMD ARGS...``: run a command and report it as a push heartbeat.

Sends ``start``, runs the command (no shell) with its output passed through and its
tail kept, then sends the exit code with the tail as the body, and exits with the
command's own code. When Mission Control cannot be reached the command still runs;
stderr says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from typing import IO

TAIL_BYTES = 10 * 1024
START_TIMEOUT_S = 5.0
FINISH_TIMEOUT_S = 10.0
FINISH_ATTEMPTS = 3


class Tail:
    """The last TAIL_BYTES of everything the command wrote (stdout and stderr, interleaved)."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._lock = threading.Lock()

    def add(self, chunk: bytes) -> None:
        with self._lock:
            self._chunks.append(chunk)
            self._size += len(chunk)
            while self._size - len(self._chunks[0]) >= TAIL_BYTES:
                self._size -= len(self._chunks.popleft())

    def value(self) -> bytes:
        with self._lock:
            return b"".join(self._chunks)[-TAIL_BYTES:]


def _tee(source: IO[bytes], sink: IO[bytes], tail: Tail) -> None:
    for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
        tail.add(chunk)
        with contextlib.suppress(OSError, ValueError):
            sink.write(chunk)
            sink.flush()


def shown(url: str) -> str:
    """A ping URL without its key (``/ping/KEY/name`` -> ``/ping/***/name``)."""
    head, sep, rest = url.partition("/ping/")
    return head + sep + ("***/" + rest.partition("/")[2] if sep else "")


def send(url: str, body: bytes | None, timeout: float, attempts: int) -> str | None:
    """POST (or GET without a body) ``url``; None on success, else why it failed."""
    error = "not sent"
    for attempt in range(attempts):
        if attempt:
            time.sleep(min(4.0, 2.0 ** (attempt - 1)))
        request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")  # noqa: S310
        request.add_header("User-Agent", "missionctl-exec")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user's URL
                response.read(1024)
            return None
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
            if exc.code in (404, 400):  # a wrong key or name: retrying will not help
                return error
        except (OSError, ValueError) as exc:
            error = str(getattr(exc, "reason", None) or exc)
    return error


def run(name: str, base: str | None, argv: list[str]) -> int:
    """Report ``argv`` as a run of ``name`` at ``base`` (``.../ping/KEY``); the command's exit code."""
    url = f"{base.rstrip('/')}/{name}" if base else None
    if url is None:
        print(f"missionctl exec: no ping URL (give --url or set MISSIONCTL_PING_URL); running {name} unreported",
              file=sys.stderr)  # fmt: skip
    else:
        problem = send(f"{url}/start", None, START_TIMEOUT_S, 1)
        if problem:
            print(f"missionctl exec: could not report the start to {shown(url)}: {problem}", file=sys.stderr)
    tail = Tail()
    code = _execute(argv, tail)
    if url is not None:
        problem = send(f"{url}/{code}", tail.value(), FINISH_TIMEOUT_S, FINISH_ATTEMPTS)
        if problem:
            print(f"missionctl exec: could not report exit code {code} to {shown(url)}: {problem}", file=sys.stderr)
    return code


def _execute(argv: list[str], tail: Tail) -> int:
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=None)
    except FileNotFoundError:
        message = f"missionctl exec: command not found: {argv[0]}\n"
        tail.add(message.encode())
        sys.stderr.write(message)
        return 127
    except PermissionError:
        message = f"missionctl exec: permission denied: {argv[0]}\n"
        tail.add(message.encode())
        sys.stderr.write(message)
        return 126
    forwarded = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda s, _f: child.send_signal(s)) for sig in forwarded}
    assert child.stdout is not None and child.stderr is not None
    threads = [
        threading.Thread(target=_tee, args=(child.stdout, sys.stdout.buffer, tail), daemon=True),
        threading.Thread(target=_tee, args=(child.stderr, sys.stderr.buffer, tail), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for thread in threads:
        thread.join(timeout=5)
    return 128 - status if status < 0 else status  # killed by signal N: 128 + N, as a shell says


def default_base(listen_url: str, key: str | None) -> str | None:
    """``MISSIONCTL_PING_URL``, else this host's own service with the key from the environment file."""
    if os.environ.get("MISSIONCTL_PING_URL"):
        return os.environ["MISSIONCTL_PING_URL"]
    if key:
        return f"{listen_url.rstrip('/')}/ping/{key}"
    return None
