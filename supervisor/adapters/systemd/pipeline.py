"""Many property reads in flight at once on the manager's private socket (the D-Bus wire protocol, reads only).

pystemd sends a call and waits for its answer before the next one (it has no
asynchronous call), so reading 1,000 timers cold costs 10,000 round trips. Here the
calls are written back to back and the answers read as they come: systemd handles
them in the order sent, on one connection, so a Get written before another is
answered from the state before it. An answer may ask for more calls (a stamp, then
what it vouches for), written while earlier ones are still being answered: a whole
sweep is one conversation, one round trip in all instead of ten per timer.

Only what a sweep needs: ``Get`` and ``GetAll`` on a peer-to-peer connection (no bus,
no ``Hello``), EXTERNAL authentication, little-endian messages out, either
endianness in. A connection lives for one conversation: systemd sends every signal
to every connection on its private socket, and an idle one would pile them up.

systemd 252 pauses a connection for a second after tens of thousands of calls in a
burst (measured: one pause per 60,000 Gets on one connection, or per eight connections
of 6,000 back to back); a cold sweep of 1,000 timers is at most 10,000 calls.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from supervisor.adapters.systemd.values import WireError
from supervisor.adapters.systemd.wire import Call, answer, encode, split

#: Calls written before their answers are read, at most (a bounded write never waits on unread answers).
WINDOW = 512

OnAnswer = Callable[[object], None]


class Conversation:
    """Calls to make, each with what to do with its answer; an answer may ask for more calls.

    ``converse`` writes them in order and hands each answer to its callback as it
    arrives, so a read that depends on an answer (a stamp, then what it vouches for)
    is written as soon as that answer is in: the manager is never left idle between
    a sweep's steps, and no answer is kept once its callback has taken it.
    """

    def __init__(self) -> None:
        self.queue: deque[tuple[Call, OnAnswer]] = deque()
        self.sent = 0
        self._starts: Iterator[Callable[[], None]] = iter(())

    def ask(self, call: Call, then: OnAnswer) -> None:
        """Queue ``call``; ``then(value or Failed)`` runs when its answer arrives."""
        self.queue.append((call, then))

    def take_up(self, starts: Iterable[Callable[[], None]]) -> None:
        """Work to start as the queue drains (``refill``), each start asking for calls."""
        self._starts = iter(starts)

    def refill(self) -> None:
        """Take up more of the work (``take_up``) while few calls wait to be written.

        So what is queued, and the answers' callbacks, stay bounded however many units a sweep reads.
        """
        while len(self.queue) < WINDOW:
            start = next(self._starts, None)
            if start is None:
                return
            start()


def converse(socket_path: Path, talk: Conversation, timeout: float) -> None:
    """Make every call of ``talk`` (and those its callbacks ask for) over one new connection to ``socket_path``.

    ``timeout`` bounds each wait: the manager may leave us without an answer that long (signals
    do not count), however many calls.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.settimeout(timeout)
            sock.connect(str(socket_path))
            _pipeline(sock, talk, _authenticate(sock), timeout)
        except (OSError, struct.error, ValueError, IndexError, KeyError) as exc:  # ValueError: bad UTF-8 too
            raise WireError(f"{type(exc).__name__}: {exc}") from exc


def _authenticate(sock: socket.socket) -> bytearray:
    """EXTERNAL as our uid, and BEGIN in the same write, as sd-bus's own client sends them; what followed the OK.

    Sent only after the manager's OK, BEGIN left the connection unanswered for tens of
    seconds after a timer's restart (systemd 252, system manager; signals still came).
    Sent together, messages (signals) may follow the OK line in the same read: they are
    returned to be parsed as such.
    """
    uid = str(os.geteuid()).encode().hex().encode()
    sock.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\nBEGIN\r\n")
    reply = bytearray()
    while b"\r\n" not in reply:
        chunk = sock.recv(256)
        if not chunk:
            raise WireError("the manager closed the connection while authenticating")
        reply += chunk
    line, _, rest = bytes(reply).partition(b"\r\n")
    if not line.startswith(b"OK "):
        raise WireError(f"authentication refused: {line.decode('ascii', 'replace')}")
    return bytearray(rest)


def _pipeline(sock: socket.socket, talk: Conversation, pending: bytearray, timeout: float) -> None:
    waiting: dict[int, OnAnswer] = {}  # by serial: written, not yet answered
    queue = talk.queue
    last_answer = time.monotonic()
    while True:
        messages, used = split(pending)
        del pending[:used]
        answered = len(waiting)
        for message in messages:
            got = answer(message)
            then = waiting.pop(got[1], None) if got is not None else None
            if then is not None:  # else a signal, or not an answer to us
                then(got[2])  # type: ignore[index]
        if len(waiting) < answered:
            last_answer = time.monotonic()
        talk.refill()
        if queue and len(waiting) < WINDOW:
            batch = []
            while queue and len(waiting) < WINDOW:
                call, then = queue.popleft()
                talk.sent += 1
                waiting[talk.sent] = then
                batch.append(encode(call, talk.sent))
            sock.sendall(b"".join(batch))
            continue
        if not waiting:
            return
        if time.monotonic() - last_answer > timeout:
            raise WireError(f"no answer for {timeout:g}s ({len(waiting)} calls waiting, {talk.sent} sent)")
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise WireError("the manager closed the connection")
        pending += chunk
