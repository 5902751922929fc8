"""Email over SMTP with aiosmtplib (STARTTLS or implicit TLS, optional AUTH)."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

from supervisor.config.alerts import EmailSpec
from supervisor.notifiers.base import TransportError
from supervisor.notifiers.render import email_body, subject

AUTH_ATTEMPTS = 3  # a refused login is retried (a server hiccup) then dead-lettered


class EmailNotifier:
    """Sends one plain-text message per alert."""

    name = "email"

    def __init__(self, spec: EmailSpec, password: str | None, public_url: str | None) -> None:
        self.spec = spec
        self._password = password
        self._public_url = public_url

    def __repr__(self) -> str:
        return f"EmailNotifier({self.spec.smtp_host}:{self.spec.smtp_port}, password=***)"

    def message(self, payload: dict[str, Any], delivery_id: str) -> EmailMessage:
        """The message for an alert."""
        msg = EmailMessage()
        msg["Subject"] = subject(payload)
        msg["From"] = self.spec.from_
        msg["To"] = ", ".join(self.spec.to)
        msg["Message-ID"] = make_msgid(idstring=delivery_id, domain="missionctl")
        msg["X-Missionctl-Delivery"] = delivery_id
        msg["X-Missionctl-Event"] = payload["event"]
        msg.set_content(email_body(payload, self._public_url))
        return msg

    async def send(self, payload: dict[str, Any], delivery_id: str) -> None:
        """Deliver one alert; classify SMTP failures for the outbox."""
        spec = self.spec
        context = ssl.create_default_context(cafile=spec.tls_ca_file) if (spec.tls or spec.starttls) else None
        try:
            await aiosmtplib.send(
                self.message(payload, delivery_id),
                hostname=spec.smtp_host,
                port=spec.smtp_port,
                use_tls=spec.tls,
                start_tls=spec.starttls if spec.starttls else False,
                tls_context=context,
                username=spec.username,
                password=self._password if spec.username else None,
                timeout=spec.timeout,
            )
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise TransportError(
                f"email: authentication refused for {spec.username} ({exc.code} {exc.message})",
                give_up_after=AUTH_ATTEMPTS,
            ) from exc
        except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPSenderRefused) as exc:
            raise TransportError(f"email: refused: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise TransportError(f"email: {exc.code} {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TransportError(f"email: {type(exc).__name__}: {exc}") from exc
