"""Stale-while-revalidate over the daemon's view, and the /health response encoded once per view."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from aiohttp import hdrs
from multidict import CIMultiDict, CIMultiDictProxy

from supervisor.core.health import Health
from supervisor.runtime.ports import ReadPort, View, health_doc
from supervisor.web.headers import API_HEADERS


class NotReady(Exception):
    """No view has been published yet (the first sweep is running)."""


@dataclass(frozen=True, slots=True)
class Encoded:
    """The /health answer of one view: body, status and headers, built once and served as they are."""

    seq: int
    body: bytes
    status: int
    etag: str
    headers: CIMultiDictProxy[str]
    not_modified: CIMultiDictProxy[str]  # the headers of a 304 to a client that has this view


class ViewCache:
    """Serves the latest view at once; a view older than ``ttl`` asks for one refresh.

    The refresh is requested once per stale view, however many requests see it,
    and happens in the daemon's loop (requests never wait for it, never touch D-Bus).
    """

    def __init__(self, backend: ReadPort, ttl_s: float) -> None:
        self.backend = backend
        self.ttl_s = ttl_s
        self.refreshes = 0
        self._asked_for = -1
        self._seen = -1
        self._stale_at = 0.0  # unix time at which the latest view is older than ttl
        self._health: Encoded | None = None

    def view(self) -> View:
        """The latest view (possibly stale: then one refresh is requested)."""
        view = self.backend.view
        if view is None:
            raise NotReady()
        if view.seq != self._seen:
            self._seen, self._stale_at = view.seq, view.generated_at.timestamp() + self.ttl_s
        if self._asked_for != view.seq and time.time() > self._stale_at:
            self._asked_for = view.seq
            self.refreshes += 1
            self.backend.request_refresh()
        return view

    def health(self) -> Encoded:
        """The /health answer of the latest view (encoded when the view is first asked for)."""
        view = self.view()
        cached = self._health
        if cached is not None and cached.seq == view.seq:
            return cached
        doc = health_doc(view)
        body = json.dumps(doc, separators=(",", ":")).encode()
        etag = f'"{view.seq:x}-{int(view.generated_at.timestamp() * 1000):x}"'
        common = {**API_HEADERS, hdrs.ETAG: etag, hdrs.CACHE_CONTROL: "no-cache"}  # istr keys, see headers.py
        headers = CIMultiDictProxy(CIMultiDict({hdrs.CONTENT_TYPE: "application/json", **common}))
        status = 503 if doc["status"] == Health.DOWN else 200
        self._health = Encoded(view.seq, body, status, etag, headers, CIMultiDictProxy(CIMultiDict(common)))
        return self._health
