"""D-Bus values: the walk of any signature, and the short paths that must read the same."""

from __future__ import annotations

import struct

import pytest

from supervisor.adapters.systemd import values


def test_an_unknown_type_is_an_error_not_a_guess() -> None:
    with pytest.raises(values.WireError, match="unsupported"):
        values.decode(b"\0" * 8, 0, "z", 0, "<")


class _Out:
    """A little-endian D-Bus body written by hand, offsets counted from its first byte."""

    def __init__(self) -> None:
        self.data = bytearray()

    def pad(self, to: int) -> None:
        self.data += bytes(-len(self.data) % to)

    def signature(self, sig: bytes) -> None:
        self.data += bytes((len(sig),)) + sig + b"\0"

    def fixed(self, fmt: str, value: int) -> None:
        self.pad(struct.calcsize(fmt))
        self.data += struct.pack("<" + fmt, value)

    def string(self, value: bytes) -> None:
        self.fixed("I", len(value))
        self.data += value + b"\0"

    def triggers(self, items: list[tuple[bytes, int, int]]) -> None:
        """An ``a(stt)``: its length, then each struct 8-aligned."""
        self.fixed("I", 0)
        at = len(self.data) - 4
        self.pad(8)
        first = len(self.data)
        for name, a, b in items:
            self.pad(8)
            self.string(name)
            self.fixed("Q", a)
            self.fixed("Q", b)
        self.data[at : at + 4] = struct.pack("<I", len(self.data) - first)


def test_the_short_paths_read_what_walking_the_signature_reads() -> None:
    # Each as a variant (after 0 to 3 bytes, so alignments differ), read by its short path and by
    # the walk of its signature
    triggers = [(b"OnActiveUSec", 1_000_000, 2**40), (b"OnUnitActiveUSec", 3_600_000_000, 7)]
    writes = {
        b"a(stt)": lambda out: out.triggers(triggers),
        b"a(stt) empty": lambda out: out.triggers([]),
        b"s": lambda out: out.string(b"bench0001.service"),
        b"t": lambda out: out.fixed("Q", 2**63 + 5),
        b"b": lambda out: out.fixed("I", 1),
        b"u": lambda out: out.fixed("I", 7),
    }
    read = 0
    for lead in range(4):
        for name, write in writes.items():
            out = _Out()
            out.data += bytes(lead)
            out.signature(name.split()[0])
            write(out)
            data = bytes(out.data)
            short = values.variant(data, lead, "<")
            walked, end, _ = values.decode(data, lead, "v", 0, "<")
            assert short == (walked, end) and end == len(data), (lead, name)
            read += 1
    assert read == 24
    out = _Out()
    out.signature(b"a(stt)")
    out.triggers(triggers)
    assert values.variant(bytes(out.data), 0, "<")[0] == triggers
