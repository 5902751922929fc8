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
of 6,000 back to back); a cold sweep of 1,000 timers is 10,000 calls.
"""

from __future__ import annotations

import functools
import os
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

PROPS = b"org.freedesktop.DBus.Properties"
#: Calls written before their answers are read, at most (a bounded write never waits on unread answers).
WINDOW = 512
_RETURN, _ERROR = 2, 3  # message types: a method return, an error
_STRINGS, _SIGNATURE, _UINT32 = (ord("s"), ord("o")), ord("g"), ord("u")
_FIXED = {
    "y": ("B", 1),
    "b": ("I", 4),
    "n": ("h", 2),
    "q": ("H", 2),
    "i": ("i", 4),
    "u": ("I", 4),
    "x": ("q", 8),
    "t": ("Q", 8),
    "d": ("d", 8),
    "h": ("I", 4),
}
_ALIGN = {**{c: size for c, (_f, size) in _FIXED.items()}, "s": 4, "o": 4, "a": 4, "g": 1, "v": 1, "(": 8, "{": 8}


OnAnswer = Callable[[object], None]


class WireError(Exception):
    """The connection failed or said something this reader cannot parse."""


class Call(NamedTuple):
    """``Get(iface, prop)`` when ``prop`` is given, else ``GetAll(iface)``, on the object at ``path``.

    A tuple: built and hashed by the ten thousand in a cold sweep.
    """

    path: bytes
    iface: bytes
    prop: bytes | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """The answer to a call was a D-Bus error (the unit vanished, a property is unknown...)."""

    name: str
    message: str


def _string(value: bytes) -> bytes:
    """A string's wire form at a 4-aligned offset: length, bytes, NUL."""
    return struct.pack("<I", len(value)) + value + b"\0"


@functools.cache
def _after_path(get: bool) -> bytes:
    """The header fields after the object path (interface, member, signature): the same for every call."""
    out = bytearray()
    for code, value in ((2, PROPS), (3, b"Get" if get else b"GetAll")):
        out += bytes((code, 1)) + b"s\0" + _string(value)
        out += bytes(-len(out) % 8)  # fields start 8-aligned, as this part does
    signature = b"ss" if get else b"s"
    return bytes(out + bytes((8, 1)) + b"g\0" + bytes((len(signature),)) + signature + b"\0")


@functools.cache
def _body(iface: bytes, prop: bytes | None) -> bytes:
    first = _string(iface)
    if prop is None:
        return first
    return first + bytes(-len(first) % 4) + _string(prop)


def encode(call: Call, serial: int) -> bytes:
    """One method call to ``org.freedesktop.DBus.Properties``, little-endian."""
    path = b"\x01\x01o\0" + _string(call.path)
    fields = path + bytes(-len(path) % 8) + _after_path(call.prop is not None)
    body = _body(call.iface, call.prop)
    head = b"l\x01\x00\x01" + struct.pack("<III", len(body), serial, len(fields)) + fields
    return head + bytes(-len(head) % 8) + body


def _end_of(sig: str, i: int) -> int:
    """The index just past the single complete type that starts at ``sig[i]``."""
    if sig[i] == "a":
        return _end_of(sig, i + 1)
    if sig[i] in "({":
        depth = 0
        while True:
            depth += sig[i] in "({"
            depth -= sig[i] in ")}"
            i += 1
            if depth == 0:
                return i
    return i + 1


def decode(data: bytes, pos: int, sig: str, i: int, order: str) -> tuple[object, int, int]:
    """The value of type ``sig[i]`` at ``data[pos]``: (value, position after it, index after its type).

    Strings, object paths, signatures and byte arrays come as ``bytes``, arrays as
    lists, dicts as dicts and structs as tuples: what pystemd gives for the same.
    """
    c = sig[i]
    if c in _FIXED:
        fmt, size = _FIXED[c]
        pos += -pos % size
        value: object = struct.unpack_from(order + fmt, data, pos)[0]
        return (bool(value) if c == "b" else value), pos + size, i + 1
    if c in "so":
        pos += -pos % 4
        (n,) = struct.unpack_from(order + "I", data, pos)
        return data[pos + 4 : pos + 4 + n], pos + 5 + n, i + 1
    if c == "g":
        n = data[pos]
        return data[pos + 1 : pos + 1 + n], pos + 2 + n, i + 1
    if c == "v":
        n = data[pos]
        inner = data[pos + 1 : pos + 1 + n].decode("ascii")
        value, pos, _ = decode(data, pos + 2 + n, inner, 0, order)
        return value, pos, i + 1
    if c == "a":
        pos += -pos % 4
        (n,) = struct.unpack_from(order + "I", data, pos)
        pos += 4
        elem = sig[i + 1]
        pos += -pos % _ALIGN[elem]
        end, after = pos + n, _end_of(sig, i)
        if elem == "y":
            return data[pos:end], end, after
        if elem == "{":
            table: dict[object, object] = {}
            while pos < end:
                pos += -pos % 8
                key, pos, j = decode(data, pos, sig, i + 2, order)
                table[key], pos, _ = decode(data, pos, sig, j, order)
            return table, end, after
        items = []
        while pos < end:
            item, pos, _ = decode(data, pos, sig, i + 1, order)
            items.append(item)
        return items, end, after
    if c == "(":
        pos += -pos % 8
        fields = []
        i += 1
        while sig[i] != ")":
            item, pos, i = decode(data, pos, sig, i, order)
            fields.append(item)
        return tuple(fields), pos, i + 1
    raise WireError(f"unsupported D-Bus type {c!r} in {sig!r}")


_Reader = Callable[[bytes, int], tuple[object, int]]
_U32 = {"<": struct.Struct("<I"), ">": struct.Struct(">I")}  # compiled once: read by the ten thousand


def _string_reader(order: str) -> _Reader:
    u32 = _U32[order].unpack_from

    def read(data: bytes, pos: int) -> tuple[object, int]:
        pos += -pos % 4
        n = u32(data, pos)[0]
        return data[pos + 4 : pos + 4 + n], pos + 5 + n

    return read


def _fixed_reader(order: str, fmt: str, size: int) -> _Reader:
    unpack = struct.Struct(order + fmt).unpack_from

    def read(data: bytes, pos: int) -> tuple[object, int]:
        pos += -pos % size
        return unpack(data, pos)[0], pos + size

    return read


def _bool_reader(order: str) -> _Reader:
    u32 = _U32[order].unpack_from

    def read(data: bytes, pos: int) -> tuple[object, int]:
        pos += -pos % 4
        return bool(u32(data, pos)[0]), pos + 4

    return read


def _structs_reader(order: str, members: list[_Reader]) -> _Reader:
    """An array of structs whose members are all simple (a timer's ``TimersMonotonic``, ``TimersCalendar``)."""
    u32 = _U32[order].unpack_from

    def read(data: bytes, pos: int) -> tuple[object, int]:
        pos += -pos % 4
        size = u32(data, pos)[0]
        pos += 4
        pos += -pos % 8  # to the first struct, even when there is none
        end, items = pos + size, []
        while pos < end:
            pos += -pos % 8
            fields = []
            for member in members:
                value, pos = member(data, pos)
                fields.append(value)
            items.append(tuple(fields))
        return items, end

    return read


def _simple(order: str) -> dict[bytes, _Reader]:
    """The variants a sweep reads by the thousand, read without walking their signature (``decode`` does the rest)."""
    string = _string_reader(order)
    simple = {
        b"s": string,
        b"o": string,
        b"ay": string,  # length, then bytes: a string without the NUL (``_variant`` steps back over it)
        b"b": _bool_reader(order),
        **{c.encode(): _fixed_reader(order, fmt, size) for c, (fmt, size) in _FIXED.items() if c not in "bh"},
    }
    for members in (b"stt", b"sst"):  # a timer's triggers
        simple[b"a(" + members + b")"] = _structs_reader(order, [simple[bytes((c,))] for c in members])
    return simple


_SIMPLE = {"<": _simple("<"), ">": _simple(">")}


def _variant(data: bytes, pos: int, order: str) -> tuple[object, int]:
    """A variant's value (its signature is at ``data[pos]``) and the position after it."""
    n = data[pos]
    inner = data[pos + 1 : pos + 1 + n]
    read = _SIMPLE[order].get(inner)
    if read is not None:
        value, end = read(data, pos + 2 + n)
        return value, (end - 1 if n == 2 and inner == b"ay" else end)  # no NUL after a byte array
    value, end, _ = decode(data, pos + 2 + n, inner.decode("ascii"), 0, order)
    return value, end


def _properties(data: bytes, pos: int, order: str) -> tuple[object, int]:
    """A ``GetAll`` answer (``a{sv}``): the property names (bytes) and their values."""
    u32 = _U32[order].unpack_from
    pos += -pos % 4
    size = u32(data, pos)[0]
    pos += 4 + (-(pos + 4) % 8)
    end = pos + size
    table: dict[object, object] = {}
    while pos < end:
        pos += -pos % 8  # each entry 8-aligned, its key a string 4-aligned there
        n = u32(data, pos)[0]
        key = data[pos + 4 : pos + 4 + n]
        table[key], pos = _variant(data, pos + 5 + n, order)
    return table, end


_SIZES = {ord("l"): struct.Struct("<I4xI"), ord("B"): struct.Struct(">I4xI")}  # body's length, fields' length


def split(buf: bytearray) -> tuple[list[bytes], int]:
    """The complete messages at the start of ``buf`` and how many bytes they took."""
    out, pos, have = [], 0, len(buf)
    with memoryview(buf) as view:
        while have - pos >= 16:
            body, fields = _SIZES[buf[pos]].unpack_from(buf, pos + 4)
            size = 16 + fields + (-fields % 8) + body
            if have - pos < size:
                break
            out.append(view[pos : pos + size].tobytes())
            pos += size
    return out, pos


#: How systemd's answers to our calls begin: little-endian, a return, REPLY_SERIAL first; then its
#: SENDER (on the private socket too), then SIGNATURE, and nothing else.
_LITTLE_RETURN, _REPLY_SERIAL = b"l\x02", b"\x05\x01u\x00"
_SENDER, _REPLY_SIGNATURE = b"\x07\x01s\x00", b"\x08\x01g\x00"
_SERIALS = struct.Struct("<I4xI")  # the header fields' length, the serial replied to
_GET, _GET_ALL = b"v", b"a{sv}"


def answer(message: bytes) -> tuple[int, int, object] | None:
    """(type, serial replied to, value or Failed) of a reply; None for anything else (signals)."""
    if message.startswith(_LITTLE_RETURN) and message.startswith(_REPLY_SERIAL, 16):
        # systemd's answer to a Get or GetAll, taken without walking its header (``_walked`` does)
        fields_len, serial = _SERIALS.unpack_from(message, 12)
        pos = 24
        if message.startswith(_SENDER, pos):
            pos += 8 + _U32["<"].unpack_from(message, pos + 4)[0] + 1
            pos += -pos % 8
        n = message[pos + 4] if len(message) > pos + 4 else 0
        if message.startswith(_REPLY_SIGNATURE, pos) and pos + 6 + n == 16 + fields_len:  # nothing after it
            signature = message[pos + 5 : pos + 5 + n]
            start = 16 + fields_len + (-fields_len % 8)
            if signature == _GET:
                return _RETURN, serial, _variant(message, start, "<")[0]
            if signature == _GET_ALL:
                return _RETURN, serial, _properties(message, start, "<")[0]
    return _walked(message)


def _walked(message: bytes) -> tuple[int, int, object] | None:
    """``answer``, its header walked field by field: any byte order, any fields, errors too."""
    order = "<" if message[0] == ord("l") else ">"
    kind = message[1]
    if kind not in (_RETURN, _ERROR):
        return None
    (fields_len,) = struct.unpack_from(order + "I", message, 12)
    fields: dict[int, Any] = {}
    pos = 16
    while pos < 16 + fields_len:  # each a (code, variant), 8-aligned; the usual ones inline
        pos += -pos % 8
        code, n, kind_of = message[pos], message[pos + 1], message[pos + 2]
        if n == 1 and kind_of in _STRINGS:  # s, o: 4-aligned here already
            (size,) = struct.unpack_from(order + "I", message, pos + 4)
            fields[code], pos = message[pos + 8 : pos + 8 + size], pos + 9 + size
        elif n == 1 and kind_of == _SIGNATURE:
            size = message[pos + 4]
            fields[code], pos = message[pos + 5 : pos + 5 + size], pos + 6 + size
        elif n == 1 and kind_of == _UINT32:
            fields[code], pos = struct.unpack_from(order + "I", message, pos + 4)[0], pos + 8
        else:
            sig = message[pos + 2 : pos + 2 + n].decode()
            fields[code], pos, _ = decode(message, pos + 3 + n, sig, 0, order)
    serial = int(fields.get(5, 0))
    start = 16 + fields_len + (-fields_len % 8)  # the body starts 8-aligned: offsets align as in the body
    signature = fields.get(8, b"")
    if kind == _RETURN and signature == b"v":  # a Get
        return kind, serial, _variant(message, start, order)[0]
    if kind == _RETURN and signature == b"a{sv}":  # a GetAll
        return kind, serial, _properties(message, start, order)[0]
    sig = bytes(signature).decode("ascii")
    values = []
    i, pos = 0, start
    while i < len(sig):
        value, pos, i = decode(message, pos, sig, i, order)
        values.append(value)
    if kind == _ERROR:
        name = bytes(fields.get(4, b"")).decode("utf-8", "replace")
        text = values[0].decode("utf-8", "replace") if values and isinstance(values[0], bytes) else ""
        return kind, serial, Failed(name, text)
    return kind, serial, values[0] if values else None


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
