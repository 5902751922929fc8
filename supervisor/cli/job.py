"""``missionctl job run NAME``: one run of an HTTP job, inside the service systemd generated for it.

Every attempt's status and latency, and the tail of the final response body, go to
stdout: the journal, where the run's excerpt comes from. Exit 0 when the final answer
is expected, 1 otherwise (2: the job cannot be run at all).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from supervisor.config.generate import shown_url
from supervisor.config.jobs import HttpSpec, SecretValue
from supervisor.config.probes import status_ranges
from supervisor.core import retry

BODY_TAIL = 2000  # bytes of the final response body kept in the journal


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer like any other: ``expect`` decides


def headers_of(http: HttpSpec) -> dict[str, str]:
    """The request headers, secrets read from the environment or the service's credentials."""
    out: dict[str, str] = {}
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    for i, (name, value) in enumerate(http.headers.items()):
        if not isinstance(value, SecretValue):
            out[name] = value
        elif value.value_env:
            secret = os.environ.get(value.value_env)
            if secret is None:
                raise LookupError(f"header {name}: environment variable {value.value_env} is not set")
            out[name] = secret
        else:
            loaded = Path(creds, f"header-{i}") if creds else None
            path = loaded if loaded is not None and loaded.exists() else Path(str(value.value_file))
            out[name] = path.read_text().strip()
    return out


def body_of(http: HttpSpec, headers: dict[str, str]) -> bytes | None:
    """The request body: a mapping or a list as JSON, text as it is."""
    if http.body is None:
        return None
    lower = {k.lower() for k in headers}
    if isinstance(http.body, str):
        if "content-type" not in lower:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return http.body.encode()
    if "content-type" not in lower:
        headers["Content-Type"] = "application/json"
    return json.dumps(http.body).encode()


def attempt(http: HttpSpec, headers: dict[str, str], body: bytes | None) -> tuple[int | None, bytes, str]:
    """One request: (status or None, body, what happened)."""
    req = urllib.request.Request(http.url, data=body, method=http.method, headers=headers)  # noqa: S310
    opener = urllib.request.build_opener(_NoRedirect)
    started = time.monotonic()
    try:
        with opener.open(req, timeout=http.timeout) as resp:
            data = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        data, status = exc.read(), exc.code
    except TimeoutError:
        return None, b"", f"timeout after {http.timeout:g}s"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, b"", f"{type(reason).__name__}: {reason}"
    took = (time.monotonic() - started) * 1000
    return status, data, f"HTTP {status} in {took:.0f} ms"


def run_job(name: str, http: HttpSpec, max_retries: int, backoff_s: float) -> int:
    """Attempts with exponential backoff on 5xx, 429, timeouts and connection errors; the exit code."""
    try:
        headers = headers_of(http)
    except (LookupError, OSError) as exc:
        print(f"job {name}: {exc}", flush=True)
        return 2
    headers.setdefault("User-Agent", "missionctl-job")
    body = body_of(http, headers)
    expect = status_ranges(http.expect)
    where = f"{http.method} {shown_url(http.url)}"
    tries = max_retries + 1
    status: int | None = None
    data = b""
    for n in range(1, tries + 1):
        status, data, what = attempt(http, headers, body)
        print(f"attempt {n}/{tries}: {where} -> {what}", flush=True)
        ok = status is not None and any(lo <= status <= hi for lo, hi in expect)
        if ok or n == tries or not retry.retryable(status):
            break
        wait = retry.delay_s(n, backoff_s)
        print(f"retrying in {wait:g}s", flush=True)
        time.sleep(wait)
    if data:
        tail = data[-BODY_TAIL:].decode("utf-8", "replace")
        print(f"response body (last {min(len(data), BODY_TAIL)} of {len(data)} bytes):\n{tail}", flush=True)
    if status is not None and any(lo <= status <= hi for lo, hi in expect):
        print(f"job {name}: ok (HTTP {status})", flush=True)
        return 0
    got = f"HTTP {status}" if status is not None else "no answer"
    print(f"job {name}: failed: {got}, expected {http.expect}", flush=True)
    return 1


def main(name: str, registry_path: Path) -> int:
    """``missionctl job run NAME``."""
    from supervisor.config.errors import RegistryError
    from supervisor.config.loader import load_registry

    try:
        registry = load_registry(registry_path)
    except RegistryError as exc:
        print("\n".join(exc.errors), file=sys.stderr)
        return 2
    job = registry.jobs.get(name)
    if job is None or job.http is None:
        print(f"missionctl: no HTTP job {name!r} in {registry_path}", file=sys.stderr)
        return 2
    return run_job(name, job.http, job.retries.max, job.retries.backoff)
