"""``missionctl silence | unsilence | silences``: ad-hoc silences, through the running daemon's API.

The daemon owns the state; the CLI asks it over its loopback API with the API token
(from the environment file, as the service has it), so every silence is audited.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from supervisor.config.registry import Registry
from supervisor.notifiers.secrets import SecretUnavailable, resolve

EXIT_OK, EXIT_PROBLEM, EXIT_ERROR = 0, 1, 2


class ApiError(Exception):
    """The daemon could not be asked, or said no."""


def _call(registry: Registry, base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if method != "GET":
        server = registry.server
        try:
            token = resolve(None if server.token_file else server.token_env, server.token_file)
        except SecretUnavailable as exc:
            raise ApiError(f"no API token: {exc}") from None
        if token:
            headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path.lstrip("/"), data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - the registry's own loopback URL
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        try:
            why = json.loads(exc.read()).get("error", exc.reason)
        except (ValueError, AttributeError):
            why = exc.reason
        raise ApiError(f"{exc.code}: {why}") from None
    except (OSError, ValueError) as exc:
        raise ApiError(f"cannot reach the supervisor at {base} ({exc}); is `missionctl run` running?") from None


def silence(registry: Registry, base: str, pattern: str, length: str | None, until: str | None, reason: str) -> int:
    """Create a silence; prints it (id first) and the items it covers."""
    body: dict[str, Any] = {"items": pattern, "reason": reason}
    if until is not None:
        body["until"] = until
    else:
        body["for"] = length or "1h"
    try:
        made = _call(registry, base, "POST", "api/silences", body)
    except ApiError as exc:
        print(f"missionctl: silence refused: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{made['id']}  {pattern} silenced until {made['until']} ({', '.join(made['items'])})")
    return EXIT_OK


def unsilence(registry: Registry, base: str, silence_id: str) -> int:
    """End a silence now."""
    try:
        _call(registry, base, "DELETE", f"api/silences/{quote(silence_id, safe='')}")
    except ApiError as exc:
        print(f"missionctl: unsilence refused: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{silence_id} ended")
    return EXIT_OK


def list_silences(registry: Registry, base: str, as_json: bool) -> int:
    """The silences in force, the maintenance windows and the items quiet now."""
    try:
        doc = _call(registry, base, "GET", "api/silences")
    except ApiError as exc:
        print(f"missionctl: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if as_json:
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    if not doc["silences"]:
        print("no silence in force")
    for s in doc["silences"]:
        by = f" by {s['created_by']}" if s["created_by"] else ""
        print(f"{s['id']}  {s['pattern']}  until {s['until']}  {s['reason'] or '-'}{by}")
    for w in doc["maintenance"]:
        when = f"open until {w['open_until']}" if w["open_until"] else f"next {w['next_start']}"
        print(f"window  {','.join(w['items'])}  {w['schedule']} ({w['timezone']}) for {w['duration_s']:g}s, {when}")
    for name, until in doc["silenced_items"].items():
        print(f"  quiet: {name} until {until}")
    return EXIT_OK
