"""Channels from the registry: resolve secrets, build notifiers, expand routes."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supervisor.config.alerts import AlertsSpec
from supervisor.config.registry import Registry
from supervisor.core.alerts import RECOVERY_HOOK, Alert, AlertPolicy, route
from supervisor.core.incident import IncidentPolicy
from supervisor.notifiers.base import Notifier, TransportError
from supervisor.notifiers.secrets import Redactor, SecretUnavailable, resolve

if TYPE_CHECKING:
    import aiohttp


class Unavailable:
    """A channel whose secret cannot be read: every attempt fails, and is retried."""

    def __init__(self, name: str, why: str) -> None:
        self.name = name
        self.why = why

    async def send(self, payload: dict[str, Any], delivery_id: str) -> None:
        """Always a retryable failure: fixing the secret (and reloading) lets it through."""
        raise TransportError(f"{self.name}: {self.why}")


@dataclass
class Channels:
    """Every configured channel by outbox name (``email``, ``discord``, ``webhook:0``, ``recovery_hook``)."""

    notifiers: dict[str, Notifier | Unavailable]
    spec: AlertsSpec
    redact: Redactor
    session: aiohttp.ClientSession | None = None
    kinds: dict[str, list[str]] = field(default_factory=dict)

    def targets(self, alert: Alert) -> list[str]:
        """Outbox channel names for an alert, following the routes."""
        configured = [k for k in ("email", "discord", "webhook", "apprise") if self.kinds.get(k)]
        chosen = route(
            alert, configured, self.spec.routes.critical, self.spec.routes.default, RECOVERY_HOOK in self.notifiers
        )
        return [name for kind in chosen for name in self.kinds.get(kind, [])]

    async def close(self) -> None:
        """Close the shared HTTP session and the Apprise channels' threads."""
        for notifier in self.notifiers.values():
            closing = getattr(notifier, "close", None)
            if closing is not None:
                closing()
        if self.session is not None:
            await self.session.close()


def alert_policy(registry: Registry) -> AlertPolicy:
    """The core's alert semantics from the registry."""
    spec = registry.alerts
    return AlertPolicy(
        confirm=spec.confirm,
        remind_every_s=spec.remind_every,
        summary_every_s=spec.summary_every,
        host=spec.host or socket.gethostname(),
        incident=IncidentPolicy(spec.settle, spec.flapping.changes, spec.flapping.within),
    )


def build_channels(registry: Registry) -> Channels:
    """Build every configured channel (call inside a running event loop).

    The HTTP client stack and the SMTP library are imported only when a channel
    needs them: a supervisor without alerts does not pay for them in memory.
    """
    spec = registry.alerts
    public_url = registry.server.public_url
    redact = Redactor()
    server = registry.server
    with contextlib.suppress(SecretUnavailable):  # the API token is scrubbed from job output and errors too
        redact.add(resolve(None if server.token_file else server.token_env, server.token_file))
    with contextlib.suppress(SecretUnavailable):  # and the ping key (a ping URL in a job's output)
        redact.add(resolve(server.ping_key_env, None))
    session = None
    if spec.discord or spec.webhook or spec.recovery_hook:
        import aiohttp

        from supervisor.notifiers.discord import DiscordNotifier
        from supervisor.notifiers.http import TIMEOUT
        from supervisor.notifiers.webhook import WebhookNotifier

        session = aiohttp.ClientSession(timeout=TIMEOUT)
    notifiers: dict[str, Notifier | Unavailable] = {}
    kinds: dict[str, list[str]] = {}

    def secret(name: str, env: str | None, file: str | None) -> tuple[str | None, str | None]:
        try:
            value = resolve(env, file)
        except SecretUnavailable as exc:
            return None, str(exc)
        redact.add(value)
        return value, None

    if spec.email:
        from supervisor.notifiers.email import EmailNotifier  # aiosmtplib only when email is configured

        password, why = secret("email", spec.email.password_env, spec.email.password_file)
        notifiers["email"] = Unavailable("email", why) if why else EmailNotifier(spec.email, password, public_url)
        kinds["email"] = ["email"]
    if spec.discord and session is not None:
        url, why = secret("discord", spec.discord.webhook_url_env, spec.discord.webhook_url_file)
        notifiers["discord"] = (
            Unavailable("discord", why or "no URL")
            if why or not url
            else DiscordNotifier(url, spec.discord.username, public_url, session)
        )
        kinds["discord"] = ["discord"]
    for i, hook in enumerate(spec.webhook):
        name = f"webhook:{i}"
        key, why = secret(name, hook.secret_env, hook.secret_file)
        if session is not None:
            notifiers[name] = Unavailable(name, why) if why else WebhookNotifier(name, hook.url, key, session)
        kinds.setdefault("webhook", []).append(name)
    for i, entry in enumerate(spec.apprise):
        from supervisor.notifiers.apprise import AppriseNotifier, url_secrets  # Apprise only when configured

        name = f"apprise:{i}"
        url, why = secret(name, entry.url_env, entry.url_file)
        if url:
            for part in url_secrets(url):  # a token inside the URL is a secret on its own too
                redact.add(part)
        notifiers[name] = (
            Unavailable(name, why or "no URL")
            if why or not url
            else AppriseNotifier(name, url, entry.timeout, public_url)
        )
        kinds.setdefault("apprise", []).append(name)
    if spec.recovery_hook and session is not None:
        hook = spec.recovery_hook
        key, why = secret(RECOVERY_HOOK, hook.secret_env, hook.secret_file)
        notifiers[RECOVERY_HOOK] = (
            Unavailable(RECOVERY_HOOK, why) if why else WebhookNotifier(RECOVERY_HOOK, hook.url, key, session)
        )
        kinds[RECOVERY_HOOK] = [RECOVERY_HOOK]
    return Channels(notifiers, spec, redact, session, kinds)
