"""The ``alerts:`` and ``server:`` sections of the registry.

Secrets are never written in the registry itself: each one is named by an
environment variable (``*_env``) or a file (``*_file``, e.g. under
``$CREDENTIALS_DIRECTORY``) and resolved only when a channel is built.
"""

from __future__ import annotations

from typing import Literal

from supervisor.config.durations import Duration
from supervisor.config.schema import BaseModel, ConfigDict, Field, field_validator, model_validator

Channel = Literal["email", "discord", "webhook", "apprise"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Secret(_Model):
    """Mixin check: at most one of the ``*_env`` / ``*_file`` pair."""

    @model_validator(mode="after")
    def _one_source(self) -> _Secret:
        fields = type(self).model_fields
        for stem in {name.rsplit("_", 1)[0] for name in fields if name.endswith(("_env", "_file"))}:
            if getattr(self, f"{stem}_env", None) and getattr(self, f"{stem}_file", None):
                raise ValueError(f"give {stem}_env or {stem}_file, not both")
        return self


class EmailSpec(_Secret):
    """SMTP delivery (aiosmtplib)."""

    smtp_host: str
    smtp_port: int = Field(587, ge=1, le=65535)
    starttls: bool = False
    tls: bool = False
    tls_ca_file: str | None = None  # trust a private CA (self-hosted relays)
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    from_: str = Field(alias="from")
    to: tuple[str, ...] = Field(min_length=1)
    timeout: Duration = 15.0

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _tls_modes(self) -> EmailSpec:
        if self.tls and self.starttls:
            raise ValueError("use tls (implicit, port 465) or starttls, not both")
        return self


class DiscordSpec(_Secret):
    """A Discord webhook; its URL is a secret."""

    webhook_url_env: str | None = None
    webhook_url_file: str | None = None
    username: str = "missionctl"

    @model_validator(mode="after")
    def _has_url(self) -> DiscordSpec:
        if not (self.webhook_url_env or self.webhook_url_file):
            raise ValueError("webhook_url_env or webhook_url_file is required")
        return self


class WebhookSpec(_Secret):
    """A signed JSON webhook."""

    url: str = Field(pattern=r"^https?://")
    secret_env: str | None = None
    secret_file: str | None = None
    name: str | None = None


class AppriseSpec(_Secret):
    """A channel sent through Apprise (ntfy, Gotify, Telegram, Slack, Pushover, Matrix, ...); its URL is a secret."""

    url_env: str | None = None
    url_file: str | None = None
    name: str | None = None
    timeout: Duration = Field(15.0, gt=0, le=300)  # one attempt, however many services the URL names

    @model_validator(mode="after")
    def _has_url(self) -> AppriseSpec:
        if not (self.url_env or self.url_file):
            raise ValueError("url_env or url_file is required (an Apprise URL such as ntfys://ntfy.sh/topic)")
        return self


class SelfPingSpec(_Secret):
    """``self_ping:``: the outside dead-man's switch (a healthchecks.io- or Uptime-Kuma-style push URL)."""

    url_env: str | None = None
    url_file: str | None = None
    every: Duration = Field(300.0, ge=1, le=86400)
    timeout: Duration | None = Field(None, gt=0, le=120)  # default: 10s, or ``every`` when shorter
    fail_on_critical: bool = False  # ping URL/fail (with the reason) while a critical item is down

    @model_validator(mode="after")
    def _has_url(self) -> SelfPingSpec:
        if not (self.url_env or self.url_file):
            raise ValueError("url_env or url_file is required (e.g. url_env: MISSIONCTL_SELF_PING_URL)")
        if self.timeout is not None and self.timeout > self.every:
            raise ValueError(f"timeout ({self.timeout:g}s) must not be longer than every ({self.every:g}s)")
        return self

    @property
    def timeout_s(self) -> float:
        """The timeout of one ping."""
        return self.timeout if self.timeout is not None else min(10.0, self.every)


class Routes(_Model):
    """Which channels get what; None means the built-in default."""

    critical: tuple[Channel, ...] | None = None
    default: tuple[Channel, ...] | None = None


class FlappingSpec(_Model):
    """More than ``changes`` status changes within ``within``: the item is flapping."""

    changes: int = Field(6, ge=2, le=1000)
    within: Duration = Field(600.0, gt=0)


class AlertsSpec(_Model):
    """Channels, routing and alert semantics."""

    email: EmailSpec | None = None
    discord: DiscordSpec | None = None
    webhook: tuple[WebhookSpec, ...] = ()
    apprise: tuple[AppriseSpec, ...] = ()
    routes: Routes = Routes()
    confirm: int = Field(1, ge=1, le=100)
    remind_every: Duration = 0.0
    summary_every: Duration = 0.0
    settle: Duration = 60.0  # how long a daemon (or a flapping item) must stay ok to be recovered
    flapping: FlappingSpec = FlappingSpec()
    recovery_hook: WebhookSpec | None = None
    host: str | None = None  # how this host is named in messages (default: its hostname)

    def configured(self) -> tuple[Channel, ...]:
        """The channels that have a configuration."""
        found: list[Channel] = []
        if self.email:
            found.append("email")
        if self.discord:
            found.append("discord")
        if self.webhook:
            found.append("webhook")
        if self.apprise:
            found.append("apprise")
        return tuple(found)


class ServerSpec(_Model):
    """The HTTP service (dashboard, API, /metrics)."""

    enabled: bool = True
    listen: str = Field("127.0.0.1:8001", pattern=r"^(\[[0-9a-fA-F:]+\]|[^:\[\]]+):\d{1,5}$")
    token_env: str = "MISSIONCTL_TOKEN"  # noqa: S105 - the name of a variable, not a secret
    token_file: str | None = None
    ping_key_env: str = "MISSIONCTL_PING_KEY"  # the key in /ping/{key}/{name} (no bearer token needed)
    public_url: str | None = None
    snapshot_ttl: Duration = Field(30.0, gt=0)  # older snapshots trigger one background refresh

    @field_validator("listen")
    @classmethod
    def _port_in_range(cls, value: str) -> str:
        port = int(value.rpartition(":")[2])
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} is not between 1 and 65535")
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        """Where to listen."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class HistorySpec(_Model):
    """Run/transition/audit history kept in the state directory."""

    retention: Duration = Field(30 * 86400.0, gt=0)
    backups: int = Field(10, ge=0, le=1000)
    backup_every: Duration = Field(86400.0, gt=0)
