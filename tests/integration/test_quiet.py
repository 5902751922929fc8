"""Maintenance windows, silences and blocked dependants against a real systemd --user manager: real timing."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.harness.lab import Lab, wait_until
from tests.harness.receiver import Receiver

TOKEN = "quiet-token"


def events(receiver: Receiver) -> list[tuple[str, str]]:
    return [(b["event"], b["item"]) for b in receiver.bodies()]


def hook(receiver: Receiver, extra: str = "") -> str:
    return f"discover: false\nalerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n  settle: 2s\n{extra}"


def window_at(start: datetime, seconds: int, items: str) -> str:
    """A maintenance window elapsing once a day at ``start`` (UTC), open ``seconds``."""
    return (
        f"maintenance:\n  - items: [{items}]\n    schedule: '*-*-* {start:%H:%M:%S}'\n"
        f"    timezone: UTC\n    duration: {seconds}s\n    reason: deploy\n"
    )


def api(lab: Lab, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{lab.port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def item(lab: Lab, name: str) -> dict[str, Any]:
    return api(lab, "GET", f"/api/items/{name}")[1]


def crashable(lab: Lab, stem: str) -> str:
    return lab.service(stem, "ExecStart=/bin/sleep 600\nRestart=no")


def test_a_failure_that_recovers_inside_a_window_sends_nothing(lab: Lab, receiver: Receiver) -> None:
    svc = crashable(lab, "api")
    start = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    lab.write_registry(f"  {svc}: {{on_stale: alert}}\n", extra=hook(receiver, window_at(start, 14, svc)))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok")
    wait_until(lambda: datetime.now(UTC) >= start + timedelta(seconds=1), what="the window open")
    wait_until(lambda: item(lab, svc)["silenced_until"], what="silenced")
    lab.um.systemctl("kill", "--signal=KILL", svc)  # a crash inside the window ...
    wait_until(lambda: lab.status_of(svc) == "down", what="down, silenced")
    assert item(lab, svc)["status"] == "down"  # the status stays truthful
    time.sleep(2)
    lab.um.systemctl("start", svc)  # ... fixed inside it
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok again")
    wait_until(lambda: datetime.now(UTC) > start + timedelta(seconds=16), timeout=30, what="the window closed")
    wait_until(lambda: item(lab, svc)["silenced_until"] is None, what="no longer silenced")
    time.sleep(2)
    assert receiver.bodies() == []
    assert ("ok", "down") in lab.transitions(svc)  # observed and recorded as usual


def test_a_failure_that_outlasts_a_window_sends_one_down_when_it_ends(lab: Lab, receiver: Receiver) -> None:
    svc = crashable(lab, "worker")
    start = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
    end = start + timedelta(seconds=10)
    lab.write_registry(f"  {svc}: {{on_stale: alert}}\n", extra=hook(receiver, window_at(start, 10, "'worker-*'")))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok")
    wait_until(lambda: datetime.now(UTC) >= start + timedelta(seconds=1), what="the window open")
    lab.um.systemctl("kill", "--signal=KILL", svc)
    wait_until(lambda: lab.status_of(svc) == "down", what="down")
    [down] = receiver.wait_for(1, timeout=30)
    assert down.json["event"] == "down" and down.json["item"] == svc
    assert down.at >= end.timestamp() - 0.05, (down.at, end.timestamp())  # judged when the window ends ...
    assert down.at - end.timestamp() < 3  # ... at once
    time.sleep(3)
    assert events(receiver) == [("down", svc)]


def test_a_silence_made_by_the_api_survives_a_restart_and_expires_on_time(lab: Lab, receiver: Receiver) -> None:
    lab.env["MISSIONCTL_TOKEN"] = TOKEN
    svc = crashable(lab, "db")
    lab.write_registry(f"  {svc}: {{on_stale: alert}}\n", extra=hook(receiver))
    first = lab.start_daemon()
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok")
    status, made = api(lab, "POST", "/api/silences", {"items": "db-*", "for": "25s", "reason": "migration"})
    assert status == 201, made
    assert made["items"] == [svc] and made["reason"] == "migration"
    until = datetime.fromisoformat(made["until"].replace("Z", "+00:00"))
    assert api(lab, "POST", "/api/silences", {"items": "nothing-*", "for": "1h"})[0] == 400
    lab.um.systemctl("kill", "--signal=KILL", svc)
    wait_until(lambda: lab.status_of(svc) == "down", what="down")
    lab.stop_daemon(first)
    lab.start_daemon()  # the silence is in the state file
    wait_until(lambda: len(lab.events("ready")) == 2, what="the second daemon ready")
    listed = api(lab, "GET", "/api/silences")[1]
    assert [s["id"] for s in listed["silences"]] == [made["id"]]
    assert listed["silenced_items"] == {svc: made["until"]}
    assert item(lab, svc)["status"] == "down" and receiver.bodies() == []
    _code, report = lab.check()
    assert report[svc]["status"] == "down" and report[svc]["silenced_until"] == made["until"]
    table = lab.cli("status", "--registry", str(lab.registry)).stdout
    assert "[silenced, ends in " in table
    [down] = receiver.wait_for(1, timeout=40)
    assert down.json["event"] == "down" and down.json["item"] == svc
    assert until.timestamp() - 0.05 <= down.at < until.timestamp() + 3  # expired on time, judged at once
    assert api(lab, "GET", "/api/silences")[1]["silences"] == []
    audit = api(lab, "GET", "/api/audit")[1]["audit"]
    assert any(a["action"] == "silence" and a["result"] == "ok" for a in audit)


def test_the_cli_silences_lists_and_unsilences(lab: Lab, receiver: Receiver) -> None:
    lab.env["MISSIONCTL_TOKEN"] = TOKEN
    svc = crashable(lab, "cache")
    lab.write_registry(f"  {svc}: {{on_stale: alert}}\n", extra=hook(receiver))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok")
    made = lab.cli("silence", "--registry", str(lab.registry), "cache-*", "--for", "1h", "--reason", "upgrade")
    assert made.returncode == 0, made.stderr
    silence_id = made.stdout.split()[0]
    assert f"({svc})" in made.stdout
    listed = lab.cli("silences", "--registry", str(lab.registry), "--json")
    doc = json.loads(listed.stdout)
    assert [s["id"] for s in doc["silences"]] == [silence_id] and doc["silences"][0]["reason"] == "upgrade"
    lab.um.systemctl("kill", "--signal=KILL", svc)
    wait_until(lambda: lab.status_of(svc) == "down", what="down")
    time.sleep(2)
    assert receiver.bodies() == []
    ended = lab.cli("unsilence", "--registry", str(lab.registry), silence_id)
    assert ended.returncode == 0, ended.stderr
    receiver.wait_for(1, timeout=10)  # judged at once: still down
    assert events(receiver) == [("down", svc)]
    gone = lab.cli("unsilence", "--registry", str(lab.registry), silence_id)
    assert gone.returncode == 2 and "no silence" in gone.stderr
    lab.env["MISSIONCTL_TOKEN"] = "wrong"
    refused = lab.cli("silence", "--registry", str(lab.registry), "cache-*")
    assert refused.returncode == 2 and "401" in refused.stderr


def test_a_stopped_database_is_one_down_listing_its_blocked_dependant(lab: Lab, receiver: Receiver) -> None:
    db = lab.service("db", "ExecStart=/bin/sleep 600")
    app = lab.name("app") + ".service"
    lab.um.write_unit(app, f"[Unit]\nRequires={db}\nAfter={db}\n[Service]\nExecStart=/bin/sleep 600\n")
    lab.um.systemctl("daemon-reload")
    lab.um.systemctl("start", app)
    policy = "{on_stale: alert, restart: {after: 2s}}"
    lab.write_registry(f"  {db}: {policy}\n  {app}: {policy}\n", extra=hook(receiver))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(db) == "ok" and lab.status_of(app) == "ok", what="ok")
    lab.um.systemctl("stop", db)  # systemd stops the app with it (Requires=)
    wait_until(lambda: lab.status_of(app) == "blocked", what="the app blocked")
    doc = item(lab, app)
    assert doc["blocked_by"] == [db] and doc["reason"].startswith(f"blocked by {db} (down): service stopped")
    [down] = receiver.wait_for(1, timeout=15)
    assert down.json["item"] == db and down.json["details"]["blocks"] == [app]
    code, report = lab.check()  # a one-shot sweep reads the dependencies from systemd too
    assert code == 1 and report[app]["status"] == "blocked" and report[app]["blocked_by"] == [db]
    time.sleep(4)  # well past restart.after: the app is neither alerted nor restarted on its own
    assert events(receiver) == [("down", db)]
    assert lab.events("restart") == []
    lab.um.systemctl("start", db)  # the database back; the app is still stopped (Requires= does not start it)
    wait_until(lambda: ("recovered", db) in events(receiver), timeout=15, what="the database's recovery")
    wait_until(lambda: len(receiver.bodies()) == 3, timeout=15, what="the app's own down")
    assert events(receiver) == [("down", db), ("recovered", db), ("down", app)]
    assert receiver.bodies()[2]["reason"] == "service stopped (inactive)"
    assert lab.status_of(app) == "down"
