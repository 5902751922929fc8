"""One message per incident, and never fighting systemd or the admin: real systemd, real timing."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.harness.lab import Lab, wait_until
from tests.harness.receiver import Receiver


def events(receiver: Receiver) -> list[tuple[str, str]]:
    return [(b["event"], b["item"]) for b in receiver.bodies()]


def hook(receiver: Receiver, extra: str = "") -> str:
    return f"discover: false\nalerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n{extra}"


def test_a_service_crashing_every_2s_under_restart_always_is_one_down_for_a_minute(
    lab: Lab, receiver: Receiver
) -> None:
    svc = lab.service(
        "worker",
        "ExecStart=/bin/sh -c 'sleep 1.5; exit 3'\nRestart=always\nRestartSec=0.5\n[Unit]\nStartLimitIntervalSec=0",
    )
    lab.write_registry(f"  {svc}: {{critical: true}}\n", extra=hook(receiver))
    lab.start_daemon()
    wait_until(lambda: events(receiver), timeout=15, what="the down alert")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert events(receiver) in ([("down", svc)], [("down", svc), ("escalated", svc)]), events(receiver)
        time.sleep(0.5)
    crashes = int(lab.um.systemctl("show", "-P", "NRestarts", svc).stdout)
    assert crashes >= 20  # it really crash-looped the whole minute
    assert lab.events("restart") == []  # systemd was restarting it: Mission Control only watched
    published = [t for t in lab.transitions(svc) if t[0] is not None]
    assert published == [("ok", "down")], published  # the incident, not every blink
    [down] = receiver.bodies()
    assert "systemd is restarting it (Restart=always" in down["reason"]


def test_a_kill_9_that_systemd_recovers_from_gets_no_restart_and_is_not_a_crash_loop(
    lab: Lab, receiver: Receiver
) -> None:
    svc = lab.service("webapp", "ExecStart=/bin/sleep 600\nRestart=on-failure\nRestartSec=1")
    lab.write_registry(f"  {svc}: {{}}\n", extra=hook(receiver, "  settle: 3s\n"))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok")
    lab.um.systemctl("kill", "--signal=KILL", svc)
    wait_until(lambda: lab.um.systemctl("show", "-P", "NRestarts", svc).stdout.strip() == "1", what="systemd's restart")
    wait_until(lambda: lab.status_of(svc) == "ok", timeout=15, what="ok again")
    time.sleep(1)
    assert lab.events("restart") == []
    assert events(receiver) in ([], [("down", svc), ("recovered", svc)]), events(receiver)
    assert not any("crash-loop" in str(b["reason"]) for b in receiver.bodies())
    assert lab.um.systemctl("show", "-P", "NRestarts", svc).stdout.strip() == "1"  # one restart: systemd's


def test_a_deliberate_stop_then_start_within_the_settle_delay_is_left_alone(lab: Lab, receiver: Receiver) -> None:
    t = lab.timer("nightly", "OnActiveSec=0\nOnUnitActiveSec=1h")
    svc = lab.service("api", "ExecStart=/bin/sleep 600")
    lab.write_registry(f"  {t}: {{}}\n  {svc}: {{}}\n", extra=hook(receiver))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok" and lab.status_of(svc) == "ok", what="ok")
    lab.um.systemctl("stop", t, svc)  # an admin (or a package upgrade) stops them on purpose
    wait_until(lambda: lab.status_of(t) == "dead" and lab.status_of(svc) == "down", what="seen stopped")
    time.sleep(5)
    lab.um.systemctl("start", t, svc)
    wait_until(lambda: lab.status_of(t) == "ok" and lab.status_of(svc) == "ok", what="ok again")
    time.sleep(1)
    assert lab.events("restart") == [] and receiver.bodies() == []
    stopped = [e for e in lab.events("transition") if e["to"] in ("dead", "down")]
    assert {e["level"] for e in stopped} == {"warning"} and len(stopped) == 2


def test_a_stop_that_outlasts_the_settle_delay_is_alerted_and_restarted(lab: Lab, receiver: Receiver) -> None:
    svc = lab.service("api", "ExecStart=/bin/sleep 600")
    lab.write_registry(f"  {svc}: {{restart: {{after: 3s}}}}\n", extra=hook(receiver))
    lab.start_daemon()
    wait_until(lambda: lab.status_of(svc) == "ok", what="ok")
    stopped_at = time.monotonic()
    lab.um.systemctl("stop", svc)
    wait_until(lambda: lab.events("restart"), timeout=15, what="the restart after the settle delay")
    assert time.monotonic() - stopped_at >= 3
    wait_until(lambda: events(receiver)[:1] == [("down", svc)], what="the down alert")


def test_ten_timers_firing_every_second_on_a_busy_cpu_are_never_dead(lab: Lab, receiver: Receiver) -> None:
    import subprocess
    import sys

    timers = []
    for i in range(10):
        name = lab.name(f"tick{i}")
        lab.um.write_unit(
            f"{name}.service", "[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=oneshot\nExecStart=/bin/true\n"
        )
        lab.um.write_unit(f"{name}.timer", "[Timer]\nOnActiveSec=0\nOnUnitActiveSec=1\nAccuracySec=1ms\n")
        lab._units += [f"{name}.timer", f"{name}.service"]
        timers.append(f"{name}.timer")
    lab.um.systemctl("daemon-reload")
    lab.um.systemctl("start", *timers)
    lab.write_registry("".join(f"  {t}: {{}}\n" for t in timers), extra=hook(receiver))
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]  # both cores busy
    try:
        lab.start_daemon()
        time.sleep(60)
    finally:
        for b in burners:
            b.kill()
            b.wait()
    for t in timers:  # they really ran every second or so, under load, the whole minute
        with urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/api/runs?item={t}&limit=1000", timeout=5) as r:
            assert len(json.loads(r.read())["runs"]) >= 20
    dead = [e for e in lab.events("transition") if e["to"] == "dead"]
    assert dead == [], dead
    assert lab.events("restart") == [] and receiver.bodies() == []
    assert all(lab.transitions(t) == [(None, "ok")] for t in timers), {t: lab.transitions(t) for t in timers}
