"""The outside dead-man's switch: a real supervisor pings a loopback monitor every period, /fail when critical."""

from __future__ import annotations

import itertools
import time

from supervisor.runtime.selfping import Request, Verdict, request_for
from tests.harness.lab import Lab, wait_until
from tests.harness.receiver import Receiver


def test_healthchecks_and_uptime_kuma_urls() -> None:
    ok, bad = Verdict(True, "vps1: 3/3 OK"), Verdict(False, "vps1: 1 critical down: db (down): x")
    assert request_for("https://hc-ping.com/5a1f", ok) == Request("POST", "https://hc-ping.com/5a1f", b"vps1: 3/3 OK")
    assert request_for("https://hc-ping.com/5a1f/", bad).url == "https://hc-ping.com/5a1f/fail"
    kuma = request_for("https://kuma.example/api/push/T0k?status=up&msg=OK&ping=", bad)
    assert kuma.method == "GET" and kuma.body is None
    assert (
        kuma.url
        == "https://kuma.example/api/push/T0k?status=down&msg=vps1%3A+1+critical+down%3A+db+%28down%29%3A+x&ping="
    )


def test_the_supervisor_pings_every_period_and_fails_while_a_critical_item_is_down(
    lab: Lab, receiver: Receiver
) -> None:
    svc = lab.service("db", "ExecStart=/bin/sleep 600\nRestart=no")
    lab.env["SELF_PING_URL"] = receiver.url("/hc/5a1f")
    lab.write_registry(
        f"  {svc}: {{critical: true, on_stale: alert}}\n",
        extra="discover: false\nalerts: {settle: 1s}\n"
        "self_ping: {url_env: SELF_PING_URL, every: 2s, timeout: 1s, fail_on_critical: true}\n",
    )
    lab.start_daemon()
    oks = receiver.wait_for(3, timeout=20, path="/hc/5a1f")
    gaps = [b.at - a.at for a, b in itertools.pairwise(oks)]
    assert all(1.5 < g < 3.5 for g in gaps), gaps  # every period
    assert oks[-1].body.endswith(b"1/1 OK")
    lab.um.systemctl("kill", "--signal=KILL", svc)
    [fail, *_] = receiver.wait_for(1, timeout=10, path="/hc/5a1f/fail")
    assert f"1 critical down: {svc} (down): service failed".encode() in fail.body
    lab.um.systemctl("start", svc)
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok again")
    seen = len(receiver.received)
    time.sleep(2.5)
    assert receiver.received[seen:] and receiver.received[-1].path == "/hc/5a1f"  # back to plain pings
    doc = lab.cli("status", "--registry", str(lab.registry))
    assert receiver.url("/hc/5a1f") not in doc.stdout + lab.log_text()  # the URL is a secret


def test_uptime_kuma_push_urls_get_status_and_msg(lab: Lab, receiver: Receiver) -> None:
    svc = lab.service("web", "ExecStart=/bin/sleep 600\nRestart=no")
    lab.env["KUMA_URL"] = receiver.url("/api/push/T0k") + "?status=up&msg=OK&ping="
    lab.write_registry(
        f"  {svc}: {{critical: true, on_stale: alert}}\n",
        extra="discover: false\nself_ping: {url_env: KUMA_URL, every: 1s, fail_on_critical: true}\n",
    )
    lab.start_daemon()
    [up, *_] = receiver.wait_for(1, timeout=20, path="/api/push/T0k")
    assert up.method == "GET" and up.query["status"] == "up" and up.query["msg"].endswith("1/1 OK")
    lab.um.systemctl("kill", "--signal=KILL", svc)
    wait_until(lambda: receiver.received[-1].query.get("status") == "down", timeout=10, what="status=down")
    assert svc in receiver.received[-1].query["msg"]
