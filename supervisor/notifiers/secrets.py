"""Secrets named by ``*_env`` / ``*_file``, and scrubbing them from any text we emit."""

from __future__ import annotations

import os
import re
from pathlib import Path

from supervisor.adapters.bounded import Refused, read_regular

MAX_SECRET_BYTES = 64 * 1024
_USERINFO = re.compile(r"(//[^/@\s:]+:)[^@\s/]+@")
_DISCORD = re.compile(r"(/api/webhooks/\d+/)[\w-]+")


class SecretUnavailable(Exception):
    """A configured secret cannot be read (the message names where, never what)."""


def resolve(env: str | None, file: str | None) -> str | None:
    """The secret's value; None when neither source is configured."""
    if env:
        value = os.environ.get(env)
        if not value:
            raise SecretUnavailable(f"environment variable {env} is not set")
        return value
    if file:
        path = Path(os.path.expandvars(file))
        try:
            return read_regular(path, MAX_SECRET_BYTES).decode("utf-8", "replace").strip()
        except Refused as exc:
            raise SecretUnavailable(f"cannot read secret file {path}: {exc}") from None
    return None


class Redactor:
    """Replaces every known secret (and URL credentials) with ``***``."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._longest_first: list[str] = []

    def add(self, secret: str | None) -> None:
        """Remember a secret to scrub."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)
            self._longest_first = sorted(self._secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._longest_first:
            text = text.replace(secret, "***")
        if "@" in text:  # user:password@ in URLs
            text = _USERINFO.sub(r"\1***@", text)
        if "/api/webhooks/" in text:  # Discord-style webhook tokens
            text = _DISCORD.sub(r"\1***", text)
        return text
