"""The API token for state-changing requests: Bearer or X-API-Key, compared in constant time."""

from __future__ import annotations

import hmac

from aiohttp import web

from supervisor.config.alerts import ServerSpec
from supervisor.notifiers.secrets import SecretUnavailable, resolve


class Token:
    """The configured token (``token_env`` or ``token_file``); None disables every mutation."""

    def __init__(self, spec: ServerSpec) -> None:
        self.problem: str | None = None
        self._value: str | None = None
        self.refresh(spec)

    def refresh(self, spec: ServerSpec) -> None:
        """Resolve the token again (a reload: the environment file or the token file may have changed)."""
        try:
            self._value, self.problem = resolve(None if spec.token_file else spec.token_env, spec.token_file), None
        except SecretUnavailable as exc:
            self._value, self.problem = None, f"no API token configured ({exc})"

    def check(self, request: web.Request) -> bool:
        """Whether the request carries the token."""
        if self._value is None:
            return False
        given = request.headers.get("X-API-Key", "")
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        # a header is whatever bytes the client sent: compare bytes, never fail on them
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self._value.encode())

    @property
    def configured(self) -> bool:
        """Whether mutations can be allowed at all."""
        return self._value is not None
