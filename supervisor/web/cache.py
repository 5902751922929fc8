"""Stale-while-revalidate over the daemon's view, and the cached /health body."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from supervisor.core.health import Health
from supervisor.runtime.view import View, health_doc
from supervisor.web.backend import Backend


class NotReady(Exception):
    """No view has been published yet (the first sweep is running)."""


class ViewCache:
    """Serves the latest view at once; a view older than ``ttl`` asks for one refresh.

    The refresh is requested once per stale view, however many requests see it,
    and happens in the daemon's loop (requests never wait for it, never touch D-Bus).
    """

    def __init__(self, backend: Backend, ttl_s: float) -> None:
        self.backend = backend
        self.ttl_s = ttl_s
        self.refreshes = 0
        self._asked_for = -1
        self._health: tuple[int, int, bytes, int] | None = None

    def view(self) -> View:
        """The latest view (possibly stale: then one refresh is requested)."""
        view = self.backend.view
        if view is None:
            raise NotReady()
        age = (datetime.now(UTC) - view.generated_at).total_seconds()
        if age > self.ttl_s and self._asked_for != view.seq:
            self._asked_for = view.seq
            self.refreshes += 1
            self.backend.request_refresh()
        return view

    def health(self) -> tuple[bytes, int]:
        """The /health body and status; serialized at most once per view per second."""
        view = self.view()
        second = int(time.time())
        cached = self._health
        if cached is not None and cached[0] == view.seq and cached[1] == second:
            return cached[2], cached[3]
        doc = health_doc(view, datetime.now(UTC))
        body = json.dumps(doc).encode()
        status = 503 if doc["status"] == Health.DOWN else 200
        self._health = (view.seq, second, body, status)
        return body, status
