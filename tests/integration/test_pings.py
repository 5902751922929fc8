"""Push heartbeats over real HTTP to the real daemon, and ``missionctl exec``."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from tests.harness.lab import Lab, wait_until
from tests.harness.receiver import Receiver

KEY = "k3y-for-tests-0123456789"


def registry(lab: Lab, receiver: Receiver, pings: str) -> None:
    lab.env["MISSIONCTL_PING_KEY"] = KEY
    lab.write_registry(
        "  {}\n",
        extra=f"discover: false\npings:\n{pings}alerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n",
    )


def ping(lab: Lab, path: str, body: bytes | None = None, method: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{lab.port}/ping/{path}", data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def runs(lab: Lab, item: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/api/runs?item={item}", timeout=5) as r:
        rows = json.loads(r.read())["runs"]
    assert isinstance(rows, list)
    return rows


def alerts(receiver: Receiver) -> list[tuple[str, str, str]]:
    return [(b["event"], b["item"], b["status"]) for b in receiver.bodies()]


def test_pings_on_time_then_late_fail_with_body_and_start_without_finish(lab: Lab, receiver: Receiver) -> None:
    registry(
        lab,
        receiver,
        "  every-3s: {period: 3s, grace: 1s}\n"
        "  nightly: {schedule: '0 3 * * *', timezone: Europe/Paris}\n"
        "  backup: {period: 1h, max_runtime: 2s}\n",
    )
    lab.start_daemon()
    for _ in range(5):  # on time: a success every second, well inside the period
        assert ping(lab, f"{KEY}/every-3s") == (200, "OK\n")
        time.sleep(1)
    assert lab.status_of("every-3s") == "ok" and receiver.bodies() == []
    assert len(runs(lab, "every-3s")) == 5

    wait_until(lambda: lab.status_of("every-3s") == "stale", timeout=10, what="stale once pings stop")
    receiver.wait_for(1)
    time.sleep(2)
    assert alerts(receiver) == [("down", "every-3s", "stale")]  # one message, not one per look
    assert "no finish ping since the last run finished" in receiver.bodies()[0]["reason"]

    body = b"copying /srv/data\nERROR: disk full on /backup\n"
    assert ping(lab, f"{KEY}/nightly/fail", body) == (200, "OK\n")
    wait_until(lambda: lab.status_of("nightly") == "failed", what="failed")
    receiver.wait_for(2)
    failed = receiver.bodies()[1]
    assert (failed["event"], failed["item"]) == ("down", "nightly")
    assert failed["reason"] == "last run failed: reported failure"
    assert "ERROR: disk full on /backup" in failed["output"]
    [nightly] = wait_until(lambda: runs(lab, "nightly"), what="the run in the history")
    assert nightly["failure"] == "reported failure"

    assert ping(lab, f"{KEY}/backup/start", method="POST") == (200, "OK\n")
    wait_until(lambda: lab.status_of("backup") == "hung", timeout=10, what="hung after max_runtime")
    receiver.wait_for(3)
    hung = receiver.bodies()[2]
    assert (hung["item"], hung["status"]) == ("backup", "hung")
    assert "max_runtime 2s (explicit)" in hung["reason"]
    assert ping(lab, f"{KEY}/backup/0") == (200, "OK\n")  # it finishes after all: exit code 0
    wait_until(lambda: lab.status_of("backup") == "ok", what="ok")
    [finished] = wait_until(lambda: runs(lab, "backup"), what="the run in the history")
    assert finished["duration_s"] >= 2 and finished["trigger"] == "ping"


def test_a_wrong_key_or_name_is_404_and_records_nothing(lab: Lab, receiver: Receiver) -> None:
    registry(lab, receiver, "  job: {period: 1h}\n")
    lab.start_daemon()
    before = wait_until(lambda: lab.state().get("runs"), what="the state written")
    for path in ("wrong-key/job", "wrong-key/job/fail", f"{KEY}/nope", f"{KEY}/job/256", f"{KEY}/job/what"):
        status, text = ping(lab, path, b"x")
        assert status == 404 and json.loads(text) == {"error": "not found", "status": 404}, path
    status, _ = ping(lab, "wrong-key/job", method="HEAD")
    assert status == 404
    time.sleep(1)
    assert runs(lab, "job") == []
    assert lab.state()["runs"] == before and before["job"]["last"] is None
    assert ping(lab, f"{KEY}/job", method="HEAD") == (200, "")
    wait_until(lambda: runs(lab, "job"), what="the HEAD ping recorded")


def test_a_body_keeps_its_last_10_kb_and_pings_are_rate_limited(lab: Lab, receiver: Receiver) -> None:
    registry(lab, receiver, "  chatty: {period: 1h}\n")
    lab.start_daemon()
    body = b"".join(b"line %06d\n" % i for i in range(20_000))  # 240 kB: only the first 100 kB are read
    assert ping(lab, f"{KEY}/chatty/3", body) == (200, "OK\n")
    wait_until(lambda: lab.status_of("chatty") == "failed", what="failed with exit code 3")
    output = wait_until(lambda: runs(lab, "chatty"), what="the run in the history")[0]
    detail = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/api/runs/{output['id']}").read())
    text = detail["output"]
    assert len(text.encode()) == 10 * 1024
    # the last 10 kB of the first 100 kB: 12-byte lines, bytes 92,160 to 102,400
    assert text.startswith("line 007680\n") and text.endswith("line 008532\nline")
    statuses = [ping(lab, f"{KEY}/chatty/log")[0] for _ in range(100)]
    assert statuses.count(429) > 0 and statuses[:50] == [200] * 50


def test_exec_reports_a_succeeding_and_a_failing_command(lab: Lab, receiver: Receiver) -> None:
    registry(lab, receiver, "  good: {period: 1h}\n  bad: {period: 1h}\n")
    lab.start_daemon()
    base = f"http://127.0.0.1:{lab.port}/ping/{KEY}"
    ok = subprocess.run(
        [sys.executable, "-m", "supervisor", "exec", "good", "--url", base, "--", "sh", "-c", "sleep 1.2; echo done"],
        env=lab.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "done\n", "")
    bad = subprocess.run(
        [sys.executable, "-m", "supervisor", "exec", "bad", "--url", base, "--", "sh", "-c", "echo oops >&2; exit 3"],
        env=lab.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (bad.returncode, bad.stdout, bad.stderr) == (3, "", "oops\n")
    wait_until(lambda: runs(lab, "bad") and runs(lab, "good"), what="both runs recorded")
    [good_run] = runs(lab, "good")
    assert good_run["duration_s"] >= 1.2 and good_run["failure"] is None
    [bad_run] = runs(lab, "bad")
    assert bad_run["exit_status"] == 3 and bad_run["failure"] == "exit status 3"
    receiver.wait_for(1)
    [alert] = receiver.bodies()
    assert alert["item"] == "bad" and alert["output"] == "oops\n"


def test_exec_runs_the_command_when_mission_control_is_unreachable(lab: Lab) -> None:
    dead = "http://127.0.0.1:9/ping/whatever"  # discard port: nothing listens
    r = subprocess.run(
        [sys.executable, "-m", "supervisor", "exec", "job", "--url", dead, "--", "sh", "-c", "echo ran; exit 7"],
        env=lab.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 7 and r.stdout == "ran\n"
    assert "could not report the start to http://127.0.0.1:9/ping/***/job" in r.stderr
    assert "could not report exit code 7" in r.stderr and "whatever" not in r.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "supervisor", "exec", "job", "--url", dead, "--", "/nonexistent/cmd"],
        env=lab.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 127 and "command not found: /nonexistent/cmd" in missing.stderr


def test_history_keeps_ping_runs_across_a_restart(lab: Lab, receiver: Receiver) -> None:
    registry(lab, receiver, "  job: {period: 1h}\n")
    proc = lab.start_daemon()
    assert ping(lab, f"{KEY}/job/start")[0] == 200
    wait_until(lambda: lab.state().get("runs", {}).get("job", {}).get("current"), what="the run in progress saved")
    lab.stop_daemon(proc)
    lab.start_daemon()
    wait_until(lambda: len(lab.events("ready")) == 2, what="the second daemon ready")
    assert ping(lab, f"{KEY}/job")[0] == 200
    wait_until(lambda: runs(lab, "job"), what="the run recorded")
    [run] = runs(lab, "job")
    assert run["started_at"] is not None and run["failure"] is None
    db = sqlite3.connect(lab.state_dir / "history.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM runs WHERE item = 'job'").fetchone() == (1,)


def test_check_and_status_show_pings_and_checks_as_the_daemon_left_them(lab: Lab, receiver: Receiver) -> None:
    lab.env["MISSIONCTL_PING_KEY"] = KEY
    lab.write_registry(
        "  {}\n",
        extra=(
            "discover: false\n"
            "checks:\n  nothing-here: {tcp: '127.0.0.1:9', every: 1s, confirm: 1}\n"
            "pings:\n  job: {period: 1h}\n"
        ),
    )
    proc = lab.start_daemon()
    assert ping(lab, f"{KEY}/job/fail", b"broken")[0] == 200
    wait_until(lambda: lab.status_of("job") == "failed" and lab.status_of("nothing-here") == "down", what="both")
    lab.stop_daemon(proc)
    code, items = lab.check()
    assert code == 1
    assert (items["job"]["kind"], items["job"]["status"], items["job"]["last_run"]["output"]) == (
        "ping",
        "failed",
        "broken",
    )
    assert (items["nothing-here"]["kind"], items["nothing-here"]["status"]) == ("check", "down")
    assert items["nothing-here"]["reason"] == "connect refused"
    status = lab.cli("status", "--user", "--registry", str(lab.registry))
    assert "job" in status.stdout and "nothing-here" in status.stdout and "failed" in status.stdout


def test_a_ping_answered_just_before_a_stop_is_not_lost(lab: Lab, receiver: Receiver) -> None:
    registry(lab, receiver, "  job: {period: 1h}\n")
    proc = lab.start_daemon()
    assert ping(lab, f"{KEY}/job/fail", b"last words")[0] == 200
    assert lab.stop_daemon(proc) == 0  # at once: the ping is still waiting for its step
    assert lab.state()["runs"]["job"]["last"]["output"] == "last words"
    db = sqlite3.connect(lab.state_dir / "history.sqlite3")
    assert db.execute("SELECT failure FROM runs WHERE item = 'job'").fetchall() == [("reported failure",)]
