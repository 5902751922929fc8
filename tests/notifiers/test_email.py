"""Email against a real SMTP server (aiosmtpd on loopback), plain and with STARTTLS + AUTH."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope

from supervisor.adapters.outbox import Outbox

from .conftest import deliver
from .test_webhook import payload

PASSWORD = "hunter2-smtp-password"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = auth_data.login == b"ops@example.com" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Inbox, int, Path]]:
    secure = getattr(request, "param", False)
    inbox = Inbox()
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    kwargs: dict[str, Any] = {}
    if secure:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        kwargs = dict(tls_context=context, require_starttls=True, auth_required=True, authenticator=authenticator)
    with socket.socket() as probe:  # aiosmtpd's readiness check needs the real port up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port, ca_file
    finally:
        controller.stop()


def registry_text(port: int, ca: Path, secure: bool) -> str:
    tls = (
        f"starttls: true, tls_ca_file: '{ca}', username: ops@example.com, password_env: SMTP_PASSWORD, "
        if secure
        else ""
    )
    return (
        f"alerts:\n  email: {{smtp_host: 127.0.0.1, smtp_port: {port}, {tls}"
        "from: missionctl@example.com, to: [ops@example.com, oncall@example.com]}\n"
    )


async def send(outbox: Outbox, text: str, until: Any) -> None:
    p = payload()
    p["details"] = {
        "last_result": "exit-code",
        "last_exit_status": 1,
        "restarts_in_window": 2,
        "budget_s": 90000.0,
        "age_s": 187200.0,
        "budget_source": "explicit",
    }
    await deliver(outbox, text, "email", [p], until)


@pytest.mark.parametrize("smtp", [False, True], indirect=True, ids=["plain", "starttls+auth"])
async def test_the_message_arrives_with_a_clear_subject_and_body(
    smtp: tuple[Inbox, int, Path], outbox: Outbox, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    inbox, port, ca = smtp
    secure = "starttls" in request.node.callspec.id
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    await send(outbox, registry_text(port, ca, secure), lambda: outbox.counts()["sent"] == 1)
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == ["ops@example.com", "oncall@example.com"]
    msg = message_from_bytes(envelope.original_content or b"")
    assert msg["Subject"] == "[missionctl] DOWN job.timer on vps1: stale 52h > 25h"
    assert msg["X-Missionctl-Delivery"] == "alert-1"
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    for line in (
        "Item           job.timer (timer, critical)",
        "Status         stale (was ok)",
        "Reason         stale 52h > 25h",
        "Age / budget   2d4h / 1d1h (explicit)",
        "Last run       exit-code (exit status 1)",
        "Restarts used  2",
        "Host           vps1",
    ):
        assert line in body, body


@pytest.mark.parametrize("smtp", [True], indirect=True)
async def test_a_wrong_password_is_retried_then_dead_lettered(
    smtp: tuple[Inbox, int, Path], outbox: Outbox, monkeypatch: pytest.MonkeyPatch, fast_backoff: None
) -> None:
    inbox, port, ca = smtp
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-password")
    await send(outbox, registry_text(port, ca, True), lambda: outbox.counts()["dead"] == 1)
    [dead] = outbox.listing("dead")
    assert dead.attempts == 3
    assert "authentication refused for ops@example.com (535" in (dead.last_error or "")
    assert "wrong-password" not in (dead.last_error or "")
    assert inbox.messages == []


@pytest.mark.parametrize("smtp", [False], indirect=True)
async def test_the_failed_runs_own_output_is_in_the_body(smtp: tuple[Inbox, int, Path], outbox: Outbox) -> None:
    inbox, port, ca = smtp
    p = payload()
    p["status"], p["reason"] = "failed", "last run failed: exit-code, exit status 2"
    p["details"] = {"last_run": {"trigger": "timer", "duration_s": 3.2}, "last_result": "exit-code"}
    p["output"] = "starting dump\npg_dump: connection to server failed: Connection refused"
    await deliver(outbox, registry_text(port, ca, False), "email", [p], lambda: outbox.counts()["sent"] == 1)
    [envelope] = inbox.messages
    msg = message_from_bytes(envelope.original_content or b"")
    body = msg.get_payload(decode=True).decode().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Last run       exit-code, timer run of 3.2s" in body, body
    assert "Output of the run (last lines of its journal):\n\n    starting dump\n    pg_dump: connection" in body
