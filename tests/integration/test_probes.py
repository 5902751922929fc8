"""Probes of daemons and checks against real loopback peers, and a real daemon under a real systemd."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.harness.lab import Lab, free_port, wait_until
from tests.harness.receiver import Receiver
from tests.harness.target import Listener, serving


def events(receiver: Receiver) -> list[tuple[str, str, str]]:
    return [(b["event"], b["item"], b["status"]) for b in receiver.bodies()]


def health_code(lab: Lab) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/health", timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def item(lab: Lab, name: str) -> dict[str, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/api/items/{name}", timeout=5) as r:
        doc = json.loads(r.read())
    assert isinstance(doc, dict)
    return doc


def test_an_http_check_goes_down_degraded_down_and_back_with_one_message_per_change(
    lab: Lab, receiver: Receiver
) -> None:
    with serving(slow_s=0.6) as target:
        lab.write_registry(
            "  {}\n",
            extra=(
                "discover: false\n"
                f"checks:\n  site: {{http: '{target.url()}', every: 1s, timeout: 1s, degraded_ms: 300, confirm: 2}}\n"
                f"alerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n"
            ),
        )
        lab.start_daemon()
        wait_until(lambda: lab.status_of("site") == "ok", what="ok")
        assert receiver.bodies() == []

        target.mode = "error"
        wait_until(lambda: lab.status_of("site") == "down", what="down after two 500s")
        [down] = receiver.wait_for(1)
        assert down.json["event"] == "down" and down.json["kind"] == "check"
        assert "HTTP 500 in" in down.json["reason"] and "expected 200-399" in down.json["reason"]

        target.mode = "slow"
        wait_until(lambda: lab.status_of("site") == "degraded", what="degraded when slow")
        target.down()
        wait_until(lambda: lab.status_of("site") == "down", what="down when refused")
        assert "connect refused" in lab.state()["items"]["site"]["reason"]
        target.up()
        target.mode = "ok"
        wait_until(lambda: lab.status_of("site") == "ok", what="recovered")
        time.sleep(1.5)
    assert events(receiver) == [
        ("down", "site", "down"),
        ("changed", "site", "degraded"),
        ("changed", "site", "down"),
        ("recovered", "site", "ok"),
    ]
    doc = item(lab, "site")
    probe = doc["probe"]
    assert isinstance(probe, dict)
    assert probe["target"] == target.url() and probe["last"]["outcome"] == "ok"
    outcomes = {r["outcome"] for r in probe["recent"]}
    assert outcomes == {"ok", "down", "degraded"}
    slow = [r["latency_ms"] for r in probe["recent"] if r["outcome"] == "degraded"]
    assert slow and min(slow) >= 550  # the answers really took the 0.6 s the server waited
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/metrics", timeout=5).read().decode()
    assert 'missionctl_probe_duration_seconds_bucket{item="site",le="1.0"}' in metrics
    assert 'missionctl_item_status{item="site",status="ok"} 1.0' in metrics


def test_a_tcp_check_follows_a_listener_opened_and_closed(lab: Lab, receiver: Receiver) -> None:
    port = Listener()
    port.open()
    lab.write_registry(
        "  {}\n",
        extra=(
            "discover: false\n"
            f"checks:\n  db-port: {{tcp: '127.0.0.1:{port.port}', every: 1s, confirm: 1, critical: true}}\n"
            f"alerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n"
        ),
    )
    lab.start_daemon()
    try:
        wait_until(lambda: "port open, connected in" in str(item(lab, "db-port")["reason"]), what="ok by a probe")
        port.close()
        wait_until(lambda: lab.status_of("db-port") == "down", what="down")
        # the state file is written before the view is published: /health follows a moment later
        wait_until(lambda: health_code(lab) == 503, timeout=5, what="a critical check down: /health 503")
        port.open()
        wait_until(lambda: lab.status_of("db-port") == "ok", what="ok again")
        receiver.wait_for(2)
        time.sleep(1.5)
        assert events(receiver) == [("down", "db-port", "down"), ("recovered", "db-port", "ok")], events(receiver)
    finally:
        port.close()
    assert receiver.bodies()[0]["reason"] == "connect refused"


HEALTH_SERVER = """
import http.server, os, sys
port, poison = int(sys.argv[1]), sys.argv[2]
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500 if os.path.exists(poison) else 200)
        self.end_headers()
        self.wfile.write(b"wedged" if os.path.exists(poison) else b"fine")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Health).serve_forever()
"""


def test_an_active_daemon_whose_health_url_fails_is_down_restarted_once_and_recovered(
    lab: Lab, receiver: Receiver
) -> None:
    """The unit stays active the whole time; only its probe says it is wedged. A restart cures it."""
    port, poison = free_port(), lab.dir / "wedged"
    script = lab.dir / "health.py"
    script.write_text(HEALTH_SERVER)
    svc = lab.service(
        "api",
        f"ExecStartPre=/bin/rm -f {poison}\nExecStart={sys.executable} {script} {port} {poison}",
    )
    probe = f"{{http: 'http://127.0.0.1:{port}/health', every: 1s, timeout: 1s, confirm: 2}}"
    lab.write_registry(
        f"  {svc}: {{probe: {probe}, restart: {{after: 2s, backoff: 10s}}}}\n",
        extra=f"discover: false\nalerts:\n  settle: 2s\n  webhook: [{{url: '{receiver.url()}'}}]\n",
    )
    lab.start_daemon()
    wait_until(lambda: "probe: HTTP 200" in str(item(lab, svc)["reason"]), what="ok by its probe")
    pid_before = lab.um.systemctl("show", "-P", "MainPID", svc).stdout.strip()

    Path(poison).write_text("")  # the daemon wedges: still running, health answers 500
    wait_until(lambda: lab.status_of(svc) == "down", what="down by its probe")
    assert lab.um.systemctl("is-active", svc, check=False).stdout.strip() == "active"
    wait_until(lambda: lab.events("restart"), timeout=15, what="the restart")
    wait_until(lambda: lab.status_of(svc) == "ok", timeout=20, what="healthy after the restart")
    time.sleep(3)
    assert [(e["event"], e["item"]) for e in receiver.bodies()] == [("down", svc), ("recovered", svc)]
    down = receiver.bodies()[0]
    assert "probe down: HTTP 500" in down["reason"]
    assert len(lab.events("restart")) == 1
    assert lab.um.systemctl("show", "-P", "MainPID", svc).stdout.strip() != pid_before
    assert len(lab.state()["restarts"][svc]) == 1  # counted in the persisted budget


def test_a_probe_with_on_down_alert_is_never_restarted(lab: Lab, receiver: Receiver) -> None:
    port, poison = free_port(), lab.dir / "wedged"
    script = lab.dir / "health.py"
    script.write_text(HEALTH_SERVER)
    poison.write_text("")
    svc = lab.service("api", f"ExecStart={sys.executable} {script} {port} {poison}")
    probe = f"{{http: 'http://127.0.0.1:{port}/', every: 1s, confirm: 2, on_down: alert}}"
    lab.write_registry(
        f"  {svc}: {{probe: {probe}, restart: {{after: 0s}}}}\n",
        extra=f"discover: false\nalerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n",
    )
    lab.start_daemon()
    wait_until(lambda: lab.status_of(svc) == "down", what="down by its probe")
    time.sleep(3)
    assert lab.events("restart") == []
    assert [(e["event"], e["item"]) for e in receiver.bodies()] == [("down", svc)]
