"""Runs with real timing against a real systemd --user manager: slow failing jobs, hung runs, short runs.

journald does not run beside the private user manager, so the excerpts here say why
they are unavailable; tests/e2e reads a real journal in the system-mode container.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from typing import Any

from tests.harness.lab import Lab, wait_until
from tests.harness.receiver import Receiver


def events(receiver: Receiver) -> list[tuple[str, str]]:
    return [(b["event"], b["status"]) for b in receiver.bodies()]


def api(lab: Lab, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.port}{path}", timeout=5) as r:
        return json.loads(r.read())


def hook(receiver: Receiver) -> str:
    return f"alerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n"


def test_a_slow_job_failing_on_every_run_sends_one_down_then_one_recovered(lab: Lab, receiver: Receiver) -> None:
    flag = lab.dir / "broken"
    flag.touch()
    # every run takes 3 s and fails (exit 4) while the flag exists; a run starts every 4 s
    t = lab.timer(
        "scraper",
        "OnActiveSec=0\nOnUnitActiveSec=4s",
        service=f"ExecStart=/bin/sh -c 'sleep 3; test ! -e {flag} || exit 4'",
    )
    svc = t.replace(".timer", ".service")
    lab.write_registry(f"  {t}: {{}}\n", extra="discover: false\n" + hook(receiver))
    proc = lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "failed", timeout=15, what="the first failed run")
    # a supervisor restart in the middle of a run changes nothing
    wait_until(lambda: lab.um.systemctl("is-active", svc, check=False).stdout.strip() == "activating", what="a run")
    assert lab.stop_daemon(proc) == 0
    lab.start_daemon()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # 30 s of runs that start (result "success" again) and fail
        assert events(receiver) in ([], [("down", "failed")]), events(receiver)
        time.sleep(0.2)
    runs = api(lab, f"/api/runs?item={t}&limit=100")["runs"]
    assert len(runs) >= 6 and all(r["failure"] == "exit-code, exit status 4" for r in runs)
    assert {r["trigger"] for r in runs} == {"timer"} and all(r["duration_s"] > 2.9 for r in runs)
    assert events(receiver) == [("down", "failed")]
    assert lab.transitions(t).count(("failed", "ok")) == 0

    flag.unlink()  # the next run succeeds
    wait_until(lambda: len(receiver.bodies()) == 2, timeout=15, what="the recovery")
    time.sleep(5)  # and the runs after it are quiet
    assert events(receiver) == [("down", "failed"), ("recovered", "ok")]
    down = receiver.bodies()[0]
    assert down["details"]["last_run"]["trigger"] == "timer"
    assert down["output"].startswith("output unavailable: ") or down["output"] == ""  # no journald here


def test_a_stuck_run_is_hung_and_alerted_once(lab: Lab, receiver: Receiver) -> None:
    t = lab.timer("stuck", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/sleep 600")
    lab.write_registry(f"  {t}: {{max_runtime: 2s}}\n", extra="discover: false\n" + hook(receiver))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "hung", timeout=15, what="hung")
    time.sleep(3)
    assert events(receiver) == [("down", "hung")]
    assert lab.events("stop") == []  # on_hung: alert (the default) only alerts
    item = api(lab, f"/api/items/{t}")
    assert item["status"] == "hung" and item["running_since"] is not None
    assert (item["max_runtime_s"], item["max_runtime_source"]) == (2, "explicit")
    assert item["reason"].startswith("running for ") and "> max_runtime 2s (explicit)" in item["reason"]
    assert lab.um.systemctl("is-active", t.replace(".timer", ".service"), check=False).stdout.strip() == "activating"


def test_a_daemon_reload_that_changes_runtime_max_sec_is_seen_while_the_run_goes_on(lab: Lab) -> None:
    # a daemon-reload moves no unit's state: the run the supervisor remembers must be read again
    t = lab.timer("longrun", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/sleep 600\nRuntimeMaxSec=300")
    lab.write_registry(f"  {t}: {{}}\n")
    lab.start_daemon()
    before = wait_until(
        lambda: (i := api(lab, f"/api/items/{t}"))["running_since"] and i["max_runtime_s"] and i,
        what="the run seen with its RuntimeMaxSec",
    )
    assert before["max_runtime_source"].startswith("RuntimeMaxSec=")
    service = t.replace(".timer", ".service")
    lab.um.write_unit(service, "[Service]\nType=oneshot\nExecStart=/bin/sleep 600\nRuntimeMaxSec=400\n")
    lab.um.systemctl("daemon-reload")
    after = wait_until(
        lambda: (i := api(lab, f"/api/items/{t}"))["max_runtime_s"] != before["max_runtime_s"] and i,
        timeout=20,
        what="the new RuntimeMaxSec seen",
    )
    assert after["max_runtime_s"] - before["max_runtime_s"] == 100
    assert after["running_since"] == before["running_since"]  # the same run, still going


def test_on_hung_stop_stops_the_run_and_the_timer_fires_again(lab: Lab, receiver: Receiver) -> None:
    flag = lab.dir / "hang-once"
    flag.touch()
    t = lab.timer(
        "hangs",
        "OnActiveSec=0\nOnUnitInactiveSec=2s",
        service=f"ExecStart=/bin/sh -c 'if [ -e {flag} ]; then rm {flag}; exec sleep 600; fi'",
    )
    lab.write_registry(
        f"  {t}: {{max_runtime: 2s, on_hung: stop, restart: {{backoff: 1s}}}}\n",
        extra="discover: false\n" + hook(receiver),
    )
    lab.start_daemon()
    wait_until(lambda: lab.events("stop"), timeout=15, what="the hung run stopped")
    wait_until(lambda: ("recovered", "ok") in events(receiver), timeout=20, what="a good run after the stop")
    [stop] = lab.events("stop")
    assert stop["unit"] == t.replace(".timer", ".service") and stop["attempt"] == 1
    assert events(receiver) == [("down", "hung"), ("changed", "failed"), ("recovered", "ok")]
    changed = receiver.bodies()[1]
    assert changed["reason"].startswith("last run failed: stopped by missionctl after ")
    runs = api(lab, f"/api/runs?item={t}")["runs"]
    assert runs[0]["failure"] is None and runs[0]["trigger"] == "timer"  # the timer fired again by itself
    assert runs[-1]["failure"].startswith("stopped by missionctl")


def test_a_run_shorter_than_min_runtime_is_failed(lab: Lab) -> None:
    t = lab.timer("quick", "OnActiveSec=0\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{min_runtime: 5s}}\n")
    wait_until(lambda: lab.check()[1][t]["last_run"] is not None, what="a finished run")
    code, items = lab.check()
    assert code == 1 and items[t]["status"] == "failed"
    assert items[t]["reason"].startswith("last run failed: finished in ") and "< min_runtime 5s" in items[t]["reason"]
    assert items[t]["last_run"]["failure"] == items[t]["reason"].removeprefix("last run failed: ")


def test_a_failing_manual_run_of_a_never_triggered_timer_is_failed(lab: Lab, receiver: Receiver) -> None:
    t = lab.timer("backup", "OnCalendar=2099-01-01", service="ExecStart=/bin/sh -c 'sleep 1; exit 2'")
    svc = t.replace(".timer", ".service")
    lab.write_registry(f"  {t}: {{}}\n", extra="discover: false\n" + hook(receiver))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok", what="waiting for first trigger")
    lab.um.systemctl("start", svc, check=False)  # the admin runs the backup by hand
    wait_until(lambda: lab.status_of(t) == "failed", what="failed")
    [row] = api(lab, f"/api/runs?item={t}")["runs"]
    assert (row["trigger"], row["failure"]) == ("manual", "exit-code, exit status 2")
    wait_until(lambda: events(receiver) == [("down", "failed")], what="the down alert")
    check = lab.check()[1][t]
    assert (check["last_run"]["trigger"], check["last_exit_status"]) == ("manual", 2)


def test_the_last_verdict_survives_a_sigkill_of_the_supervisor(lab: Lab, receiver: Receiver) -> None:
    flag = lab.dir / "broken"
    flag.touch()
    t = lab.timer(
        "nightly", "OnActiveSec=0\nOnUnitActiveSec=3s", service=f"ExecStart=/bin/sh -c 'sleep 2; test ! -e {flag}'"
    )
    svc = t.replace(".timer", ".service")
    lab.write_registry(f"  {t}: {{}}\n", extra="discover: false\n" + hook(receiver))
    proc = lab.start_daemon()
    wait_until(lambda: events(receiver) == [("down", "failed")], timeout=15, what="down")
    wait_until(lambda: lab.um.systemctl("is-active", svc, check=False).stdout.strip() == "activating", what="a run")
    lab.stop_daemon(proc, signal.SIGKILL)
    lab.start_daemon()  # systemd now says "activating, result success": the verdict stays failed
    time.sleep(4)
    assert events(receiver) == [("down", "failed")]
    assert lab.status_of(t) == "failed"
