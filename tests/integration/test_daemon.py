"""``missionctl run`` against a real systemd --user manager: detect, restart, remember."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.harness.lab import Lab, wait_until


def transitions(lab: Lab, item: str) -> list[tuple[str | None, str]]:
    return lab.transitions(item)


def test_a_stale_timer_is_restarted_fires_again_and_recovers(lab: Lab) -> None:
    # fires 1s after (re)start, then only hourly: with a 3s budget it goes stale
    t = lab.timer("stale", "OnActiveSec=1s\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{max_stale: 3s, restart: {{backoff: 10s}}}}\n")
    proc = lab.start_daemon()
    wait_until(lambda: transitions(lab, t)[-1:] == [("stale", "ok")], timeout=30, what="stale -> ok")
    assert transitions(lab, t)[:3] == [(None, "ok"), ("ok", "stale"), ("stale", "ok")]
    assert len(lab.state()["restarts"][t]) == 1
    [restart] = lab.events("restart")
    assert restart["unit"] == t and restart["attempt"] == 1
    stale = next(e for e in lab.events("transition") if e["to"] == "stale")
    assert stale["level"] == "warning" and stale["reason"].startswith("stale ")
    assert lab.stop_daemon(proc) == 0


def test_a_stopped_timer_is_seen_dead_restarted_after_the_settle_delay_and_recovers(lab: Lab) -> None:
    t = lab.timer("stopped", "OnActiveSec=1s\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{restart: {{after: 2s}}}}\n")
    lab.start_daemon()
    wait_until(
        lambda: (
            lab.status_of(t) == "ok"
            and lab.um.systemctl("show", "-P", "LastTriggerUSec", t).stdout.strip() not in ("", "n/a")
        ),
        what="first trigger",
    )
    lab.um.systemctl("stop", t)
    wait_until(lambda: ("ok", "dead") in transitions(lab, t), what="dead")
    wait_until(lambda: transitions(lab, t)[-1] == ("dead", "ok"), what="dead -> ok")
    assert lab.um.systemctl("is-active", t, check=False).stdout.strip() == "active"
    assert len(lab.state()["restarts"][t]) == 1


def test_a_crash_looping_daemon_gets_exactly_max_restarts_then_escalates(lab: Lab) -> None:
    starts = lab.dir / "starts"
    svc = lab.service("loop", f"ExecStart=/bin/sh -c 'echo start >> {starts}; sleep 0.3; exit 1'")
    lab.write_registry(f"  {svc}: {{restart: {{max: 3, per: 1h, backoff: 0.5s, after: 0s}}}}\n")
    proc = lab.start_daemon()
    wait_until(lambda: lab.events("escalated"), timeout=30, what="escalation")
    time.sleep(2)  # nothing more may happen once the budget is spent
    assert len(lab.events("restart")) == 3
    assert len(lab.events("escalated")) == 1
    assert len(lab.state()["restarts"][svc]) == 3
    assert lab.state()["items"][svc]["escalated"] is True
    assert starts.read_text().count("start") == 4  # the first start plus three restarts

    # the budget survives a supervisor restart (even a SIGKILL)
    assert lab.stop_daemon(proc, signal.SIGKILL) == -signal.SIGKILL
    lab.start_daemon()
    time.sleep(3)
    assert len(lab.events("restart")) == 3
    assert len(lab.events("escalated")) == 1
    assert starts.read_text().count("start") == 4


def test_a_corrupt_state_file_is_moved_aside_and_the_daemon_carries_on(lab: Lab) -> None:
    t = lab.timer("corrupt", "OnActiveSec=0\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{}}\n")
    lab.state_dir.mkdir()
    (lab.state_dir / "state.json").write_text('{"version": 1, "items": {tru')
    proc = lab.start_daemon()
    [aside] = list(lab.state_dir.glob("state.json.corrupt-*"))
    assert aside.read_text() == '{"version": 1, "items": {tru'
    [event] = lab.events("state_file_corrupt")
    assert event["level"] == "error" and event["moved_to"] == str(aside)
    wait_until(lambda: lab.status_of(t) == "ok", what="fresh state written")
    assert proc.poll() is None


def test_it_touches_the_heartbeat_and_logs_no_warnings_in_steady_state(lab: Lab) -> None:
    t = lab.timer("steady", "OnActiveSec=0\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{}}\n")
    lab.start_daemon()
    beat = lab.state_dir / "heartbeat"
    wait_until(beat.exists, what="heartbeat")
    wait_until(lambda: lab.status_of(t) == "ok", what="ok")
    # a manual run of the service is a real event: re-read, decided, nothing to warn about
    lab.um.systemctl("start", t.replace(".timer", ".service"))
    time.sleep(1)
    assert [e for e in lab.events() if e.get("level") in ("warning", "error")] == []
    [initial] = [e for e in lab.events("transition") if e["item"] == t]
    assert initial["initial"] is True and initial["from"] == "unknown" and initial["level"] == "info"


def test_it_reacts_to_a_failing_run_through_signals(lab: Lab) -> None:
    flag = lab.dir / "fail"
    t = lab.timer("flip", "OnActiveSec=0\nOnUnitActiveSec=1h", service=f"ExecStart=/bin/sh -c 'test ! -e {flag}'")
    lab.write_registry(f"  {t}: {{}}\n")
    lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok", what="ok")
    flag.touch()
    lab.um.systemctl("start", t.replace(".timer", ".service"), check=False)
    wait_until(lambda: lab.status_of(t) == "failed", timeout=5, what="failed")
    flag.unlink()
    lab.um.systemctl("start", t.replace(".timer", ".service"))
    wait_until(lambda: lab.status_of(t) == "ok", timeout=5, what="recovered")
    assert transitions(lab, t) == [(None, "ok"), ("ok", "failed"), ("failed", "ok")]


def test_a_bad_registry_on_reload_keeps_the_running_config(lab: Lab) -> None:
    t = lab.timer("reload", "OnActiveSec=0\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{}}\n")
    proc = lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok", what="ok")
    good = lab.registry.read_text()
    lab.registry.write_text(good + "  bad name.timer: {}\n")
    proc.send_signal(signal.SIGHUP)
    [rejected] = wait_until(lambda: lab.events("registry_rejected"), what="rejection")
    line = len(lab.registry.read_text().splitlines())
    assert rejected["errors"] == [
        f"{lab.registry}:{line}: units[bad name.timer]: invalid unit name 'bad name.timer': expected NAME.timer or "
        "NAME.service (letters, digits, ':', '-', '_', '.', '\\', optionally @INSTANCE)"
    ]
    other = lab.timer("added", "OnActiveSec=0\nOnUnitActiveSec=1h")
    lab.registry.write_text(good + f"  {other}: {{}}\n")
    proc.send_signal(signal.SIGHUP)
    wait_until(lambda: lab.status_of(other) == "ok", what="reloaded registry in effect")
    assert lab.status_of(t) == "ok" and proc.poll() is None
    assert json.loads(json.dumps(lab.events("registry_reloaded")))[0]["units"] == 2
    # read, rejected, read again: each time by a child; the daemon itself never loaded the validator
    maps = Path(f"/proc/{proc.pid}/maps").read_text()
    assert "_pydantic_core" not in maps
    assert "_multidict" in maps  # the same file lists what the daemon did load (aiohttp's)


def test_it_reconnects_after_daemon_reexec_without_false_transitions(lab: Lab) -> None:
    t = lab.timer("reexec", "OnActiveSec=0\nOnUnitActiveSec=1h")
    svc = lab.service("reexec-daemon", "ExecStart=/bin/sleep 600")
    lab.write_registry(f"  {t}: {{}}\n  {svc}: {{on_stale: alert}}\n")
    lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok" and lab.status_of(svc) == "ok", what="ok")
    before = len(lab.events("transition"))
    lab.um.systemctl("daemon-reexec")
    wait_until(lambda: len(lab.events("systemd_connected")) >= 2, what="reconnected")
    wait_until(lambda: len(lab.events("systemd_connection_lost")) >= 1, what="loss logged")
    # still event-driven after the reconnect: a failure is seen through the new subscription
    lab.um.systemctl("kill", "--signal=KILL", svc)
    wait_until(lambda: lab.status_of(svc) == "down", timeout=10, what="down after reexec")
    after = lab.events("transition")[before:]
    assert [(x["item"], x["from"], x["to"]) for x in after] == [(svc, "ok", "down")]
