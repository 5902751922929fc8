"""The API described in OpenAPI 3 (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from supervisor import __version__

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_JSON = {"application/json": {"schema": {"type": "object"}}}
_ITEM = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
_SINCE = {
    "name": "since",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "format": "date-time"},
    "description": "ISO-8601 time",
}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
}
_FILTER = {"name": "item", "in": "query", "required": False, "schema": {"type": "string"}}


def _get(
    summary: str, parameters: list[dict[str, Any]] | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": _JSON},
        "400": {"description": "Bad input", "content": _ERROR},
    }
    responses.update(extra or {})
    return {"get": {"summary": summary, "parameters": parameters or [], "responses": responses}}


def _action(summary: str, body: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{"bearer": []}, {"apiKey": []}],
        "parameters": [_ITEM],
        "responses": {
            "200": {"description": "Done", "content": _JSON},
            "202": {"description": "Job queued", "content": _JSON},
            "400": {"description": "Bad input", "content": _ERROR},
            "401": {"description": "Missing or wrong token", "content": _ERROR},
            "403": {"description": "No token configured", "content": _ERROR},
            "404": {"description": "Unknown item", "content": _ERROR},
            "409": {"description": "Not possible for this kind of item", "content": _ERROR},
            "413": {"description": "Body too large", "content": _ERROR},
            "502": {"description": "systemd refused", "content": _ERROR},
        },
    }
    if body:
        op["requestBody"] = {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "until": {"type": "string", "description": "ISO-8601 time or a duration such as 2h"}
                        },
                        "additionalProperties": False,
                    }
                }
            },
        }
    return {"post": op}


_SECURED = {
    "401": {"description": "Missing or wrong token", "content": _ERROR},
    "403": {"description": "No token configured", "content": _ERROR},
    "413": {"description": "Body too large", "content": _ERROR},
    "429": {"description": "Too many refused requests", "content": _ERROR},
}


def _silences() -> dict[str, Any]:
    body = {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {"type": "string", "description": "an item's name or a glob such as backup-*"},
            "for": {"type": "string", "description": "a duration such as 2h (give for or until)"},
            "until": {"type": "string", "description": "an ISO-8601 time"},
            "reason": {"type": "string", "maxLength": 500},
        },
    }
    return {
        **_get("Silences in force, maintenance windows, and the items quiet now"),
        "post": {
            "summary": "Silence items: observed and recorded, neither restarted nor alerted",
            "security": [{"bearer": []}, {"apiKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "201": {"description": "Silenced", "content": _JSON},
                "400": {"description": "Bad input, or the glob matches no item", "content": _ERROR},
                **_SECURED,
            },
        },
    }


def _unsilence() -> dict[str, Any]:
    return {
        "delete": {
            "summary": "End a silence now (what it covered is judged at once)",
            "security": [{"bearer": []}, {"apiKey": []}],
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            ],
            "responses": {
                "200": {"description": "Ended", "content": _JSON},
                "404": {"description": "No such silence", "content": _ERROR},
                **_SECURED,
            },
        }
    }


def _ping(summary: str, what: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": "key", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}},
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}},
    ]
    if what:
        parameters.append(
            {
                "name": "what",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
                "description": "start, fail, log, or an exit code 0-255 (0 is a success)",
            }
        )
    responses = {
        "200": {"description": "Recorded", "content": {"text/plain": {"schema": {"type": "string"}}}},
        "404": {"description": "Unknown name, wrong key or unknown kind (the same answer)", "content": _ERROR},
        "429": {"description": "Too many pings for this name", "content": _ERROR},
    }
    body = {
        "required": False,
        "content": {"text/plain": {"schema": {"type": "string"}}},
        "description": "the run's output: the first 100 kB are read, the last 10 kB kept",
    }
    return {
        "get": {"summary": summary, "parameters": parameters, "responses": responses},
        "post": {"summary": summary, "parameters": parameters, "requestBody": body, "responses": responses},
    }


def spec() -> dict[str, Any]:
    """The OpenAPI document."""
    item_404 = {"404": {"description": "Unknown item", "content": _ERROR}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Mission Control",
            "version": __version__,
            "description": "Supervision of systemd timers and services.",
        },
        "paths": {
            "/health": _get(
                "Aggregate health; 503 when a critical item has a problem",
                extra={"503": {"description": "A critical item has a problem", "content": _JSON}},
            ),
            "/api/items": _get("Every item"),
            "/api/items/{name}": _get("One item with runs, transitions and uptime", [_ITEM, _LIMIT], item_404),
            "/api/items/{name}/run": _action("Start the item's service now"),
            "/api/items/{name}/restart": _action("Restart the item's unit"),
            "/api/items/{name}/pause": _action("Pause alerts and restarts", body=True),
            "/api/items/{name}/resume": _action("Resume"),
            "/api/transitions": _get("Status transitions", [_FILTER, _SINCE, _LIMIT]),
            "/api/runs": _get("Runs of timers' services", [_FILTER, _SINCE, _LIMIT]),
            "/api/runs/{id}": _get(
                "One run with its output (the journal excerpt of a failed, hung or anomalous run)",
                [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}],
                {"404": {"description": "Unknown run", "content": _ERROR}},
            ),
            "/api/alerts": _get("The alert outbox", [_LIMIT]),
            "/api/audit": _get("The audit log", [_LIMIT]),
            "/api/maintenance": _get("Maintenance tasks and the supervisor's own health"),
            "/api/silences": _silences(),
            "/api/silences/{id}": _unsilence(),
            "/ping/{key}/{name}": _ping("Push heartbeat: a successful run (the key in the URL, no token)", False),
            "/ping/{key}/{name}/{what}": _ping("Push heartbeat: a start, a failure, a log line or an exit code", True),
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
                }
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
