"""The D-Bus wire format as far as a sweep needs it: a Get or GetAll encoded, messages cut from a stream, answers read.

Little-endian messages out, either endianness in.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import Any, NamedTuple

from supervisor.adapters.systemd.values import U32, WireError, decode, properties, variant

PROPS = b"org.freedesktop.DBus.Properties"
_RETURN, _ERROR = 2, 3  # message types: a method return, an error
_STRINGS, _SIGNATURE, _UINT32 = (ord("s"), ord("o")), ord("g"), ord("u")


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


_SIZES = {ord("l"): struct.Struct("<I4xI"), ord("B"): struct.Struct(">I4xI")}  # body's length, fields' length


def split(buf: bytearray) -> tuple[list[bytes], int]:
    """The complete messages at the start of ``buf`` and how many bytes they took."""
    out, pos, have = [], 0, len(buf)
    with memoryview(buf) as view:
        while have - pos >= 16:
            sizes = _SIZES.get(buf[pos])
            if sizes is None:
                raise WireError(f"not a D-Bus message: byte order mark {bytes(buf[pos : pos + 1])!r}")
            body, fields = sizes.unpack_from(buf, pos + 4)
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
            pos += 8 + U32["<"].unpack_from(message, pos + 4)[0] + 1
            pos += -pos % 8
        n = message[pos + 4] if len(message) > pos + 4 else 0
        if message.startswith(_REPLY_SIGNATURE, pos) and pos + 6 + n == 16 + fields_len:  # nothing after it
            signature = message[pos + 5 : pos + 5 + n]
            start = 16 + fields_len + (-fields_len % 8)
            if signature == _GET:
                return _RETURN, serial, variant(message, start, "<")[0]
            if signature == _GET_ALL:
                return _RETURN, serial, properties(message, start, "<")[0]
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
        return kind, serial, variant(message, start, order)[0]
    if kind == _RETURN and signature == b"a{sv}":  # a GetAll
        return kind, serial, properties(message, start, order)[0]
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
