"""The wire format by hand: calls encoded, messages cut from a stream, answers read in either byte order.

(The answers of a real manager are compared with pystemd's in test_systemd_pipeline.)
"""

from __future__ import annotations

import struct

import pytest

from supervisor.adapters.systemd import values, wire
from supervisor.adapters.systemd.facts import TIMER, UNIT
from supervisor.adapters.systemd.wire import Call


def big_endian_reply(serial: int, value: int) -> bytes:
    """A method return in big-endian order: REPLY_SERIAL and SIGNATURE fields, a variant of type ``t``."""
    fields = bytearray(bytes((5, 1)) + b"u\0" + struct.pack(">I", serial))
    fields += bytes(-len(fields) % 8) + bytes((8, 1)) + b"g\0" + bytes((1,)) + b"v\0"
    header = b"B\x02\x00\x01" + struct.pack(">III", 0, 99, len(fields)) + bytes(fields)
    header += bytes(-len(header) % 8)
    body = bytes((1,)) + b"t\0" + bytes(5) + struct.pack(">Q", value)  # the u64 aligned to 8
    return header[:4] + struct.pack(">I", len(body)) + header[8:] + body


def little_endian(message: bytes, kind: int) -> bytes:
    """``big_endian_reply``'s message as a little-endian one of type ``kind`` (2: a reply, 4: a signal)."""
    _, serial, value = wire.answer(message)  # type: ignore[misc]
    fields = bytearray(bytes((5, 1)) + b"u\0" + struct.pack("<I", serial))
    fields += bytes((8, 1)) + b"g\0" + bytes((1,)) + b"v\0"
    header = b"l" + bytes((kind, 0, 1)) + struct.pack("<III", 16, 99, len(fields)) + bytes(fields) + b"\0"
    return header + bytes((1,)) + b"t\0" + bytes(5) + struct.pack("<Q", value)  # type: ignore[arg-type]


def test_it_encodes_a_get_whose_header_reads_back() -> None:
    message = wire.encode(Call(b"/org/freedesktop/systemd1/unit/a_2etimer", TIMER, b"LastTriggerUSec"), 42)
    assert message[:4] == b"l\x01\x00\x01" and struct.unpack_from("<I", message, 8)[0] == 42
    fields, _, _ = values.decode(message, 12, "a(yv)", 0, "<")
    assert dict(fields) == {  # type: ignore[call-overload]
        1: b"/org/freedesktop/systemd1/unit/a_2etimer",
        2: b"org.freedesktop.DBus.Properties",
        3: b"Get",
        8: b"ss",
    }
    (messages, used) = wire.split(bytearray(message))
    assert messages == [message] and used == len(message)
    body_at = len(message) - struct.unpack_from("<I", message, 4)[0]
    assert values.decode(message[body_at:], 0, "s", 0, "<")[0] == TIMER


def test_it_splits_messages_that_arrive_a_byte_at_a_time() -> None:
    sent = [wire.encode(Call(b"/p", UNIT, None if n % 2 else b"Id"), n) for n in range(1, 4)]
    buf, got = bytearray(), []
    for byte in b"".join(sent):
        buf.append(byte)
        messages, used = wire.split(buf)
        del buf[:used]
        got += messages
    assert got == sent and not buf


def test_it_reads_an_answer_in_either_byte_order() -> None:
    assert wire.answer(big_endian_reply(7, 2**40 + 3)) == (2, 7, 2**40 + 3)
    assert wire.answer(wire.encode(Call(b"/p", UNIT, b"Id"), 1)) is None  # a call, not an answer


def test_an_answer_with_more_header_fields_reads_as_the_usual_one() -> None:
    # systemd's answers carry REPLY_SERIAL, SENDER and SIGNATURE and are read without walking their
    # header (the test above checks that on a real manager); one that names a destination is walked
    usual = little_endian(big_endian_reply(9, 2**33), 2)
    fields = bytearray(bytes((5, 1)) + b"u\0" + struct.pack("<I", 9))
    fields += bytes((6, 1)) + b"s\0" + struct.pack("<I", 5) + b":1.42\0"
    fields += bytes(-len(fields) % 8) + bytes((8, 1)) + b"g\0" + bytes((1,)) + b"v\0"
    header = b"l\x02\x00\x01" + struct.pack("<III", 16, 99, len(fields)) + bytes(fields)
    walked = header + bytes(-len(header) % 8) + bytes((1,)) + b"t\0" + bytes(5) + struct.pack("<Q", 2**33)
    assert wire.answer(usual) == wire.answer(walked) == (2, 9, 2**33)


def test_a_stream_that_is_not_d_bus_is_a_wire_error() -> None:
    message = wire.encode(Call(b"/p", UNIT, b"Id"), 1)
    with pytest.raises(values.WireError, match="not a D-Bus message"):
        wire.split(bytearray(message + b"GET / HTTP/1.1\r\n\r\n"))
