"""D-Bus values read from a message: the walk of any signature, and short paths for what a sweep reads.

Strings, object paths, signatures and byte arrays come as ``bytes``, arrays as lists,
dicts as dicts and structs as tuples: what pystemd gives for the same. Offsets are
the message's own (alignment counts from its first byte).
"""

from __future__ import annotations

import struct
from collections.abc import Callable


class WireError(Exception):
    """The connection failed or said something this reader cannot parse."""


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
    """The value of type ``sig[i]`` at ``data[pos]``: (value, position after it, index after its type)."""
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
U32 = {"<": struct.Struct("<I"), ">": struct.Struct(">I")}  # compiled once: read by the ten thousand


def _string_reader(order: str) -> _Reader:
    u32 = U32[order].unpack_from

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
    u32 = U32[order].unpack_from

    def read(data: bytes, pos: int) -> tuple[object, int]:
        pos += -pos % 4
        return bool(u32(data, pos)[0]), pos + 4

    return read


def _structs_reader(order: str, members: list[_Reader]) -> _Reader:
    """An array of structs whose members are all simple (a timer's ``TimersMonotonic``, ``TimersCalendar``)."""
    u32 = U32[order].unpack_from

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
        b"ay": string,  # length, then bytes: a string without the NUL (``variant`` steps back over it)
        b"b": _bool_reader(order),
        **{c.encode(): _fixed_reader(order, fmt, size) for c, (fmt, size) in _FIXED.items() if c not in "bh"},
    }
    for members in (b"stt", b"sst"):  # a timer's triggers
        simple[b"a(" + members + b")"] = _structs_reader(order, [simple[bytes((c,))] for c in members])
    return simple


_SIMPLE = {"<": _simple("<"), ">": _simple(">")}


def variant(data: bytes, pos: int, order: str) -> tuple[object, int]:
    """A variant's value (its signature is at ``data[pos]``) and the position after it."""
    n = data[pos]
    inner = data[pos + 1 : pos + 1 + n]
    read = _SIMPLE[order].get(inner)
    if read is not None:
        value, end = read(data, pos + 2 + n)
        return value, (end - 1 if n == 2 and inner == b"ay" else end)  # no NUL after a byte array
    value, end, _ = decode(data, pos + 2 + n, inner.decode("ascii"), 0, order)
    return value, end


def properties(data: bytes, pos: int, order: str) -> tuple[object, int]:
    """A ``GetAll`` answer (``a{sv}``): the property names (bytes) and their values."""
    u32 = U32[order].unpack_from
    pos += -pos % 4
    size = u32(data, pos)[0]
    pos += 4 + (-(pos + 4) % 8)
    end = pos + size
    table: dict[object, object] = {}
    while pos < end:
        pos += -pos % 8  # each entry 8-aligned, its key a string 4-aligned there
        n = u32(data, pos)[0]
        key = data[pos + 4 : pos + 4 + n]
        table[key], pos = variant(data, pos + 5 + n, order)
    return table, end
