"""Property tests over every API parameter, against the real server of a real daemon: never a 5xx."""

from __future__ import annotations

import json
import urllib.parse

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.lab import Lab
from tests.harness.rawhttp import get, post, raw

from .conftest import RAW_TOKEN

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
AUTH = f"Authorization: Bearer {RAW_TOKEN}".encode()
texts = st.text(max_size=60)
numbers = st.one_of(st.integers(min_value=-(10**40), max_value=10**40), st.floats(allow_nan=True))
anything = st.one_of(texts, numbers, st.booleans(), st.none(), st.lists(texts, max_size=3))


def q(value: object) -> str:
    return urllib.parse.quote(str(value), safe="")


@SETTINGS
@given(limit=st.one_of(texts, numbers), since=st.one_of(texts, st.datetimes().map(str)), path=st.sampled_from(
    ["/api/runs", "/api/transitions", "/api/alerts", "/api/audit"]))  # fmt: skip
def test_query_parameters(served: tuple[Lab, str], limit: object, since: str, path: str) -> None:
    lab, t = served
    status, _h, body = raw(lab, get(f"{path}?limit={q(limit)}&since={q(since)}&item={q(t)}"))
    assert status in (200, 400), (status, body[:200])


@SETTINGS
@given(name=texts, action=st.one_of(st.sampled_from(["run", "restart", "pause", "resume"]), texts))
def test_item_names_and_actions(served: tuple[Lab, str], name: str, action: str) -> None:
    lab, _t = served
    for request in (get(f"/api/items/{q(name)}"), post(f"/api/items/{q(name)}/{q(action)}", b"", AUTH)):
        status, _h, body = raw(lab, request)
        assert 200 <= status < 500, (status, body[:200])


@SETTINGS
@given(run_id=texts)
def test_run_ids(served: tuple[Lab, str], run_id: str) -> None:
    lab, _t = served
    status, _h, _b = raw(lab, get(f"/api/runs/{q(run_id)}"))
    assert status in (200, 404)


@SETTINGS
@given(until=anything, as_query=st.booleans())
def test_pause_until(served: tuple[Lab, str], until: object, as_query: bool) -> None:
    lab, t = served
    if as_query:
        request = post(f"/api/items/{t}/pause?until={q(until)}", b"", AUTH)
    else:
        request = post(f"/api/items/{t}/pause", json.dumps({"until": until}).encode(), AUTH)
    status, _h, body = raw(lab, request)
    assert status in (200, 400), (status, body[:200])


@SETTINGS
@given(body=st.binary(max_size=200))
def test_pause_bodies(served: tuple[Lab, str], body: bytes) -> None:
    lab, t = served
    status, _h, answer = raw(lab, post(f"/api/items/{t}/pause", body, AUTH))
    assert status in (200, 400), (status, answer[:200])


@SETTINGS
@given(key=st.binary(min_size=1, max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b))
def test_api_keys(served: tuple[Lab, str], key: bytes) -> None:
    lab, t = served
    status, _h, _b = raw(lab, post(f"/api/items/{t}/resume", b"", b"X-API-Key: " + key))
    assert status in (400, 401, 429)  # 400: bytes the HTTP parser itself refuses (a NUL)
