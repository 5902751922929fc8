"""The pipelined conversation: against stand-in peers, and its answers against a real private user manager."""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from supervisor.adapters.systemd import pipeline, values, wire
from supervisor.adapters.systemd.client import SystemdClient
from supervisor.adapters.systemd.connection import private_socket
from supervisor.adapters.systemd.facts import SERVICE, TIMER, UNIT
from supervisor.adapters.systemd.wire import Call, Failed
from tests.adapters.test_systemd_wire import big_endian_reply, little_endian
from tests.harness.lab import Lab


def exchange(socket_path: Path, calls: list[Call], timeout: float) -> list[object]:
    """Every call's answer (a value, or ``Failed``), in order, over one conversation."""
    results: list[object] = [None] * len(calls)
    talk = pipeline.Conversation()
    for n, call in enumerate(calls):
        talk.ask(call, functools.partial(results.__setitem__, n))
    pipeline.converse(socket_path, talk, timeout)
    return results


@contextlib.contextmanager
def stand_in_peer(tmp_path: Path, script: Callable[[socket.socket], None]) -> Iterator[Path]:
    """A socket whose one peer authenticates any client, then plays ``script`` on the connection."""
    path = tmp_path / "peer"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def peer() -> None:
        conn, _ = server.accept()
        with conn:
            got = b""
            while b"BEGIN\r\n" not in got:
                got += conn.recv(256)
            script(conn)

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        thread.join(timeout=5)
        server.close()


def test_messages_that_follow_the_ok_in_the_same_read_are_parsed_as_messages(tmp_path: Path) -> None:
    # A stand-in peer: a real manager cannot be made to put a signal right behind its OK on demand
    # (it does so under a burst of runs; the test below exercises that against a real one).
    def script(conn: socket.socket) -> None:
        signal = little_endian(big_endian_reply(0, 7), 4)
        conn.sendall(b"OK 0123456789abcdef\r\n" + signal[:20])  # the OK, then half a signal
        time.sleep(0.1)
        conn.sendall(signal[20:])
        conn.recv(4096)  # the call
        conn.sendall(little_endian(big_endian_reply(1, 42), 2))
        time.sleep(0.5)

    with stand_in_peer(tmp_path, script) as path:
        assert exchange(path, [Call(b"/p", UNIT, b"Id")], timeout=3) == [42]


def test_its_answers_are_pystemds_for_every_interface_a_sweep_reads(
    client: SystemdClient, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    timer = lab.timer("wire", "OnCalendar=2099-01-01\nOnActiveSec=1h", service="ExecStart=/bin/sh -c 'exit 3'")
    service = timer.removesuffix(".timer") + ".service"
    lab.um.systemctl("start", service, check=False)
    units = client.list_units_by_names([timer, service])
    t, s = units[timer].path, units[service].path
    calls = [
        Call(t, UNIT, b"StateChangeTimestampMonotonic"),
        Call(t, TIMER),
        Call(s, SERVICE),  # every type a Service has: arrays of structs, dicts, byte arrays...
        Call(s, UNIT),
        Call(s, SERVICE, b"ExecMainStatus"),
        Call(s, UNIT, b"InvocationID"),
        Call(t, SERVICE, b"ExecMainStatus"),
    ]
    walked: list[bytes] = []
    replies: list[bytes] = []

    def walk(message: bytes) -> tuple[int, int, object] | None:
        walked.append(message)
        return _walked(message)

    def reply(message: bytes) -> tuple[int, int, object] | None:
        replies.append(message)
        return answer(message)

    _walked, answer = wire._walked, pipeline.answer
    monkeypatch.setattr(wire, "_walked", walk)
    monkeypatch.setattr(pipeline, "answer", reply)
    answers = exchange(private_socket(user=True), calls, timeout=5)
    assert [m[1] for m in walked] == [3]  # only the error: systemd's Get and GetAll answers take the short path
    assert all(answer(m) == _walked(m) for m in replies)  # which reads them as walking their header would
    for call, got in zip(calls[:-1], answers[:-1], strict=True):
        if call.prop is None:
            expected = client._get_all(call.path, call.iface)
            assert isinstance(got, dict) and set(got) == set(expected)
            for key, value in expected.items():  # pystemd gives byte arrays as lists of ints
                assert got[key] == (bytes(value) if isinstance(got[key], bytes) and isinstance(value, list) else value)
        else:
            expected = client._get(call.path, call.iface, call.prop)
            assert got == (bytes(expected) if isinstance(expected, list) else expected)
    assert answers[4] == 3
    assert isinstance(answers[-1], Failed) and answers[-1].name == "org.freedesktop.DBus.Error.UnknownProperty"


def test_answers_stay_matched_while_the_manager_broadcasts_signals(
    client: SystemdClient, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    # systemd sends every connection on its private socket every signal: runs during the exchange send some
    names = [lab.service(f"loud{i}", "Type=oneshot\nExecStart=/bin/sleep 0.05", start=False) for i in range(10)]
    units = client.list_units_by_names(names)
    calls = [Call(units[n].path, UNIT, b"Id") for n in names] * 3000
    seen: list[int] = []

    def counted(message: bytes) -> tuple[int, int, object] | None:
        seen.append(message[1])  # the message type: 4 is a signal
        return answer(message)

    answer = pipeline.answer
    monkeypatch.setattr(pipeline, "answer", counted)
    stop = threading.Event()

    def restarts() -> None:
        while not stop.is_set():
            lab.um.systemctl("restart", *names)

    runs = threading.Thread(target=restarts)
    runs.start()
    try:
        answers = exchange(private_socket(user=True), calls, timeout=60)
    finally:
        stop.set()
        runs.join()
    assert answers == [n.encode() for n in names] * 3000
    assert seen.count(4) > 0 and seen.count(2) == len(calls)


def test_a_socket_nobody_listens_on_is_a_wire_error(tmp_path: Path) -> None:
    with pytest.raises(values.WireError):
        exchange(tmp_path / "nobody", [Call(b"/p", UNIT, b"Id")], timeout=1)


def test_a_timer_just_restarted_does_not_stall_a_new_exchange(client: SystemdClient, lab: Lab) -> None:
    # with BEGIN sent only after the manager's OK, the call went unanswered after a timer's restart
    timer = lab.timer("restarted", "OnActiveSec=1s\nOnUnitActiveSec=1h")
    path = client.unit(timer).path
    for delay in (0.0, 0.3, 1.5):
        lab.um.systemctl("restart", timer)
        time.sleep(delay)
        assert exchange(private_socket(user=True), [Call(path, UNIT, b"Id")], timeout=3) == [timer.encode()]


def test_exchanges_opened_while_units_run_every_second_are_all_answered(client: SystemdClient, lab: Lab) -> None:
    # signals can follow the manager's OK in the same read: they must be parsed as messages, not as the OK line
    timers = [lab.timer(f"tick{i}", "OnActiveSec=0\nOnUnitActiveSec=1") for i in range(10)]
    paths = [client.unit(t).path for t in timers]
    done: list[int] = []

    def looks() -> None:
        end = time.monotonic() + 5
        while time.monotonic() < end:
            got = exchange(private_socket(user=True), [Call(p, UNIT, b"Id") for p in paths], timeout=3)
            assert got == [t.encode() for t in timers]
            done.append(1)

    worker = threading.Thread(target=looks, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "an exchange hung"
    assert len(done) > 10


def test_a_message_with_a_type_it_does_not_know_is_a_wire_error_not_a_crash(tmp_path: Path) -> None:
    # A stand-in peer again: a real manager sends no such message.
    reply = bytearray(little_endian(big_endian_reply(1, 42), 2))
    reply[reply.index(b"\x01t\x00") + 1] = ord("z")  # the variant's type: no such D-Bus type

    def script(conn: socket.socket) -> None:
        conn.sendall(b"OK 0123456789abcdef\r\n")
        conn.recv(4096)
        conn.sendall(bytes(reply))
        time.sleep(0.5)

    with stand_in_peer(tmp_path, script) as path, pytest.raises(values.WireError, match="unsupported"):
        exchange(path, [Call(b"/p", UNIT, b"Id")], timeout=3)
