"""Hostile HTTP input against the real server of a real daemon: never a 500, always the security headers.

Requests are written as raw bytes on a socket: an HTTP client library would refuse
to send some of them (a header that is not UTF-8, a body of 5,000 ``[``).
"""

from __future__ import annotations

import json

import pytest

from supervisor.web.headers import API_HEADERS, PAGE_HEADERS
from tests.harness.lab import Lab
from tests.harness.rawhttp import get, post, raw

from .conftest import RAW_TOKEN

AUTH = f"Authorization: Bearer {RAW_TOKEN}".encode()


def test_a_header_that_is_not_utf8_is_401_not_500(served: tuple[Lab, str]) -> None:
    lab, t = served
    for header in (b"X-API-Key: \xff\xfe\x80garbage", b"Authorization: Bearer \xc3\x28\xa0\xa1", b"X-API-Key: \x80"):
        for action in ("run", "restart", "pause", "resume"):
            status, _headers, body = raw(lab, post(f"/api/items/{t}/{action}", b"", header))
            assert status == 401, (header, action, status, body)
            assert json.loads(body)["status"] == 401


@pytest.mark.parametrize(
    "body",
    [
        b'{"until": 1e308}',
        b'{"until": "1e308"}',
        b'{"until": "inf"}',
        b'{"until": "-inf"}',
        b'{"until": "nan"}',
        b'{"until": Infinity}',
        b'{"until": NaN}',
        b'{"until": "99999999999d"}',
        b'{"until": ' + b"9" * 5000 + b"}",
        b'{"until": "' + b"9" * 5000 + b'"}',
        b'{"until": "9999-12-31T23:59:59Z"}',
        b'{"until": "2000-01-01T00:00:00Z"}',
        b'{"until": "0001-01-01T00:00:00-23:59"}',
        b'{"until": -5}',
        b'{"until": [1, 2]}',
        b'{"until": {"a": 1}}',
        b'{"until": true}',
        b"[" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"\xff\xfe not utf-8",
        b'"just a string"',
        b"",
    ],
)
def test_hostile_pause_bodies_are_400(served: tuple[Lab, str], body: bytes) -> None:
    lab, t = served
    status, _headers, answer = raw(lab, post(f"/api/items/{t}/pause", body, AUTH))
    if body == b"":
        assert status == 200  # no body: paused until resumed
        return
    assert status in (400, 413), (status, answer[:200])
    assert json.loads(answer)["status"] == status


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs?limit=1e308",
        "/api/runs?limit=-1",
        "/api/runs?limit=99999999999999999999999",
        "/api/runs?since=garbage",
        "/api/runs?since=9999-99-99",
        "/api/transitions?since=%00",
        "/api/items/%00",
        "/api/runs/%ff%fe",
        "/api/items/x/%ff",
        "/static/../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/etc/passwd",
        "/api/items/target/run",
    ],
)
def test_hostile_paths_and_queries_are_never_500(served: tuple[Lab, str], path: str) -> None:
    lab, _t = served
    status, headers, _body = raw(lab, get(path))
    assert 400 <= status < 500, (path, status)
    assert headers["x-content-type-options"] == "nosniff"


def test_an_odd_but_valid_time_is_answered(served: tuple[Lab, str]) -> None:
    lab, _t = served
    assert raw(lab, get("/api/runs?since=0001-01-01T00:00:00%2B23:59"))[0] == 200


def test_what_the_http_parser_refuses_before_routing_is_a_400(served: tuple[Lab, str]) -> None:
    # a request line longer than aiohttp's limit never reaches the application (no security headers
    # there: a bare 400 from the protocol layer, with no body a browser would render)
    lab, _t = served
    for request in (get("/api/items/" + "a" * 10_000), b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: \xff\x00\r\n\r\n"):
        status, _headers, _body = raw(lab, request)
        assert status == 400


@pytest.mark.parametrize(
    ("request_", "page"),
    [
        (get("/"), True),
        (get("/health"), False),
        (get("/api/items"), False),
        (get("/api/openapi.json"), False),
        (get("/metrics"), False),
        (get("/favicon.ico"), True),
        (get("/static/app.js"), True),
        (get("/static/nothing.js"), True),
        (get("/nowhere"), False),
        (post("/api/items/nothing/run", b""), False),
        (post("/api/items/nothing/fly", b"", AUTH), False),
    ],
    ids=[
        "dashboard",
        "health",
        "items",
        "openapi",
        "metrics",
        "favicon",
        "static",
        "static-404",
        "404",
        "401",
        "action-404",
    ],
)
def test_every_response_carries_the_security_headers(served: tuple[Lab, str], request_: bytes, page: bool) -> None:
    # the dashboard's page and files carry the page's policy; data the API's, which lets a rendered answer load nothing
    lab, _t = served
    status, headers, _body = raw(lab, request_)
    assert status < 500
    for name, value in (PAGE_HEADERS if page else API_HEADERS).items():
        assert headers.get(name.lower()) == value, (name, status)
    policy = headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and policy.startswith("default-src 'none';")
    assert "frame-ancestors 'none'" in policy and headers["x-frame-options"] == "DENY"
    assert ("script-src 'self'" in policy) == page
    assert headers["x-content-type-options"] == "nosniff"
    assert headers.get("referrer-policy") == ("no-referrer" if page else None)


def test_nothing_failed_inside(served: tuple[Lab, str]) -> None:
    lab, t = served
    for body in (b"[" * 5000, b'{"until": 1e308}'):
        raw(lab, post(f"/api/items/{t}/pause", body, AUTH))
    raw(lab, post(f"/api/items/{t}/run", b"", b"X-API-Key: \xff"))
    assert lab.events("http_handler_failed") == []
    assert "Traceback" not in lab.log_text()
