"""Errors are JSON without a middleware or a signal: guarded handlers, the router's own errors (the fallback route)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from supervisor.web.cache import NotReady
from supervisor.web.errors import add_fallback, guard
from supervisor.web.headers import API_HEADERS, PAGE_HEADERS


async def _bug(request: web.Request) -> web.Response:
    raise RuntimeError("secret detail")


async def _starting(request: web.Request) -> web.Response:
    raise NotReady()


async def _plain(request: web.Request) -> web.Response:
    raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer", "X-Internal": "leak"})


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="fine")


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    for path, handler in (("/bug", _bug), ("/starting", _starting), ("/plain", _plain), ("/ok", _ok)):
        app.router.add_get(path, guard(handler))
    app.router.add_post("/ok/{name}", guard(_ok))
    app.router.add_get("/page/ok", guard(_ok, PAGE_HEADERS))
    app.router.add_get("/page/plain", guard(_plain, PAGE_HEADERS))
    add_fallback(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as c:  # a real server on loopback
        yield c


async def test_a_bug_is_a_json_500_logged_with_its_traceback_and_nothing_leaks(client: TestClient) -> None:  # type: ignore[type-arg]
    with capture_logs() as logs:
        r = await client.get("/bug")
        assert (r.status, await r.json()) == (500, {"error": "internal error", "status": 500})
    assert [e["event"] for e in logs] == ["http_handler_failed"] and logs[0]["path"] == "/bug"
    assert "secret detail" not in await r.text()


async def test_not_ready_is_a_503_with_retry_after(client: TestClient) -> None:  # type: ignore[type-arg]
    r = await client.get("/starting")
    assert r.status == 503 and r.headers["Retry-After"] == "1"
    assert (await r.json())["error"] == "starting: first sweep not finished"


async def test_a_plain_http_error_becomes_json_and_keeps_only_the_headers_that_matter(client: TestClient) -> None:  # type: ignore[type-arg]
    r = await client.get("/plain")
    assert (r.status, await r.json()) == (401, {"error": "Unauthorized", "status": 401})
    assert r.headers["WWW-Authenticate"] == "Bearer" and "X-Internal" not in r.headers


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/nowhere", 404, None),
        ("GET", "/ok/deeper/still", 404, None),
        ("HEAD", "/nowhere", 404, None),
        ("POST", "/ok", 405, "GET,HEAD"),
        ("DELETE", "/ok/x", 405, "POST"),
        ("PUT", "/", 404, None),
    ],
)
async def test_the_routers_own_errors_are_json_with_security_headers(
    client: TestClient,  # type: ignore[type-arg]
    method: str,
    path: str,
    status: int,
    allow: str | None,
) -> None:
    r = await client.request(method, path)
    body = await r.read()
    assert r.status == status and r.content_type == "application/json"
    assert r.headers.get("Allow") == allow
    if method != "HEAD":
        assert int(r.headers["Content-Length"]) == len(body) and (await r.json())["status"] == status
    assert all(r.headers[k] == v for k, v in API_HEADERS.items())


async def test_a_good_answer_carries_the_security_headers_untouched(client: TestClient) -> None:  # type: ignore[type-arg]
    r = await client.get("/ok")
    assert (r.status, await r.text()) == (200, "fine")
    assert all(r.headers[k] == v for k, v in API_HEADERS.items())


async def test_a_page_route_answers_and_fails_with_the_page_headers(client: TestClient) -> None:  # type: ignore[type-arg]
    for path, status in (("/page/ok", 200), ("/page/plain", 401)):
        r = await client.get(path)
        assert r.status == status
        assert all(r.headers[k] == v for k, v in PAGE_HEADERS.items()), path
