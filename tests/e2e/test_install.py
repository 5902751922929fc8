"""install.sh on a fresh system-mode systemd, and the installed, hardened, self-supervised service.

The tests run in order on one container: install, reinstall, alerting, watchdog, fallback,
hardened restarts, uninstall and purge.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.harness.container import Container
from tests.harness.lab import wait_until
from tests.harness.receiver import Receiver

REPO = Path(__file__).resolve().parents[2]
HEALTH = "http://127.0.0.1:8001/health"


def wait(cond: Any, timeout: float = 60, what: str = "condition") -> Any:
    return wait_until(cond, timeout, what)


def http(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
    except OSError:
        return 0, None


def show(vps: Container, prop: str, unit: str = "missionctl.service") -> str:
    return vps.run("systemctl", "show", "-P", prop, unit).stdout.strip()


def journal(vps: Container) -> str:
    return vps.run("journalctl", "-u", "missionctl", "--no-pager", "-n", "60", check=False).stdout


def digest(vps: Container, path: str) -> str:
    return hashlib.sha256((vps.root / path.lstrip("/")).read_bytes()).hexdigest()


def write_registry(vps: Container, units: str, alerts: str = "") -> None:
    path = vps.root / "etc/missionctl/registry.yaml"
    text = path.read_text().replace("units: {}", "units:\n" + units, 1)
    path.write_text(text + alerts)
    vps.run("systemctl", "reload", "missionctl")


def test_1_a_fresh_install_runs_and_a_second_is_a_no_op_for_config(vps: Container) -> None:
    first = vps.run("bash", str(REPO / "install.sh"), timeout=900)
    assert "Mission Control is running." in first.stdout, first.stdout + first.stderr
    for noise in ("Deprecat", "BuildBackendWarning", "SetuptoolsDeprecationWarning"):
        assert noise not in first.stdout + first.stderr, (noise, first.stderr)
    assert vps.run("missionctl", "--version").stdout.startswith("missionctl ")  # on PATH
    assert "dashboard:  http://127.0.0.1:8001/" in first.stdout
    assert show(vps, "ActiveState") == "active"
    assert show(vps, "ActiveState", "missionctl-fallback.timer") == "active"
    status, doc = http(HEALTH)
    assert status == 200 and doc["status"] == "ok", (doc, journal(vps))
    env = vps.root / "etc/missionctl/missionctl.env"
    assert oct(env.stat().st_mode & 0o777) == "0o600" and "MISSIONCTL_TOKEN=" in env.read_text()
    assert re.search(r"^MISSIONCTL_PING_KEY=[A-Za-z0-9]{20,}$", env.read_text(), re.MULTILINE)
    before = {p: digest(vps, p) for p in ("/etc/missionctl/registry.yaml", "/etc/missionctl/missionctl.env")}
    pid = show(vps, "MainPID")

    (vps.root / "etc/missionctl/registry.yaml").write_text(
        (vps.root / "etc/missionctl/registry.yaml").read_text() + "# edited by the operator\n"
    )
    edited = digest(vps, "/etc/missionctl/registry.yaml")
    second = vps.run("bash", str(REPO / "install.sh"), timeout=900)
    assert "Mission Control is running." in second.stdout, second.stderr
    assert digest(vps, "/etc/missionctl/registry.yaml") == edited  # the operator's edit survives
    assert digest(vps, "/etc/missionctl/missionctl.env") == before["/etc/missionctl/missionctl.env"]
    assert show(vps, "MainPID") != pid and show(vps, "ActiveState") == "active"  # upgraded and restarted
    status_out = vps.run("/opt/missionctl/venv/bin/missionctl", "status").stdout
    assert "supervisor daemon: running" in status_out and "loop lag" in status_out, status_out


def test_2_a_failing_job_is_recorded_and_alerted(vps: Container, receiver: Receiver) -> None:
    units = vps.root / "etc/systemd/system"
    (units / "demo-fail.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/false\n")
    (units / "demo-fail.timer").write_text("[Timer]\nOnActiveSec=0\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")
    vps.run("systemctl", "daemon-reload")
    vps.run("systemctl", "start", "demo-fail.timer")
    write_registry(
        vps, "  demo-fail.timer: {critical: true}\n", f"alerts:\n  webhook: [{{url: '{receiver.url('/vps')}'}}]\n"
    )
    wait(lambda: http(HEALTH)[1]["items"].get("demo-fail.timer", {}).get("status") == "failed", what="failed")
    [down] = [b for b in wait(lambda: receiver.bodies("/vps"), what="the alert") if b["item"] == "demo-fail.timer"]
    assert (down["event"], down["status"], down["critical"]) == ("down", "failed", True)
    assert http(HEALTH)[0] == 503


def test_2b_a_failing_jobs_own_output_reaches_the_alert_the_api_and_logs(vps: Container, receiver: Receiver) -> None:
    secret = "hook-5ecr3t-e2e-41c9"
    env = vps.root / "etc/missionctl/missionctl.env"
    env.write_text(env.read_text() + f"HOOK_SECRET={secret}\n")
    units = vps.root / "etc/systemd/system"
    script = (
        f"echo starting dump with key {secret}; sleep 1;"
        " echo 'pg_dump: connection to server failed: Connection refused' >&2; exit 2"
    )
    (units / "demo-out.service").write_text(f'[Service]\nType=oneshot\nExecStart=/bin/sh -c "{script}"\n')
    (units / "demo-out.timer").write_text("[Timer]\nOnActiveSec=2s\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")
    vps.run("systemctl", "daemon-reload")
    vps.run("systemctl", "start", "demo-out.timer")
    registry = vps.root / "etc/missionctl/registry.yaml"
    text = registry.read_text().replace("units:\n", "units:\n  demo-out.timer: {}\n", 1)
    hook = f"{{url: '{receiver.url('/vps')}'}}"
    registry.write_text(text.replace(hook, hook[:-1] + ", secret_env: HOOK_SECRET}"))
    vps.run("systemctl", "restart", "missionctl")  # a new secret in the environment file

    def alert() -> Any:
        return next((b for b in receiver.bodies("/vps") if b["item"] == "demo-out.timer"), None)

    down = wait(alert, timeout=30, what="the alert about demo-out.timer")
    assert (down["event"], down["status"]) == ("down", "failed"), down
    assert "pg_dump: connection to server failed: Connection refused" in down["output"], (down, journal(vps))
    assert "starting dump with key ***" in down["output"] and secret not in json.dumps(down)
    run_id = down["details"]["last_run"]["id"]
    status, run = http(f"http://127.0.0.1:8001/api/runs/{run_id}")
    assert status == 200 and run["failure"] == "exit-code, exit status 2" and run["trigger"] == "timer"
    assert "Connection refused" in run["output"]
    logs = vps.run("/opt/missionctl/venv/bin/missionctl", "logs", "demo-out.timer")
    assert "Connection refused" in logs.stdout and "exit-code, exit status 2" in logs.stdout, logs
    assert secret not in logs.stdout + run["output"] + journal(vps)
    assert "output unavailable" not in journal(vps)


def test_2c_reload_refuses_a_broken_registry_and_picks_up_new_secrets(vps: Container, receiver: Receiver) -> None:
    registry = vps.root / "etc/missionctl/registry.yaml"
    good = registry.read_text()
    registry.write_text(good.replace("units:\n", "units:\n  broken.timer: {max_stale: soon}\n", 1))
    reload = vps.run("systemctl", "reload", "missionctl", check=False)
    assert reload.returncode != 0, reload
    doc = wait(lambda: (d := http(HEALTH)[1]) and d["registry"]["status"] == "rejected" and d, what="rejection")
    assert doc["status"] in ("degraded", "down"), doc
    assert any("units[broken.timer].max_stale: invalid duration 'soon'" in e for e in doc["registry"]["errors"])
    assert "broken.timer" in vps.run("systemctl", "status", "missionctl", "--no-pager", check=False).stdout
    shown = vps.run("missionctl", "status", check=False)  # still works, from the running configuration
    assert "demo-out.timer" in shown.stdout and "REGISTRY REJECTED" in shown.stdout, shown
    assert "running configuration" in shown.stderr
    assert show(vps, "ActiveState") == "active"

    secret = "new-hook-secret-7d21"
    env = vps.root / "etc/missionctl/missionctl.env"
    env.write_text(env.read_text() + f"NEWHOOK_SECRET={secret}\n")
    alerts = f"  webhook:\n    - {{url: '{receiver.url('/vps')}', secret_env: HOOK_SECRET}}\n"
    alerts += f"    - {{url: '{receiver.url('/signed')}', secret_env: NEWHOOK_SECRET}}\n"
    text = good.replace(f"  webhook: [{{url: '{receiver.url('/vps')}', secret_env: HOOK_SECRET}}]\n", alerts)
    assert text != good
    registry.write_text(text)
    vps.run("systemctl", "reload", "missionctl")  # no restart: the new secret comes with the reload
    assert wait(lambda: http(HEALTH)[1]["registry"]["status"] == "ok", what="the registry accepted")
    units = vps.root / "etc/systemd/system"
    (units / "demo-sig.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/false\n")
    (units / "demo-sig.timer").write_text("[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")
    vps.run("systemctl", "daemon-reload")
    vps.run("systemctl", "start", "demo-sig.timer")
    registry.write_text(text.replace("units:\n", "units:\n  demo-sig.timer: {}\n", 1))
    vps.run("systemctl", "reload", "missionctl")
    signed = wait(
        lambda: [r for r in receiver.received if r.path == "/signed" and r.json["item"] == "demo-sig.timer"],
        what="the alert on the new channel",
    )
    body = signed[0].body
    mac = hmac.new(secret.encode(), signed[0].headers["X-Missionctl-Timestamp"].encode() + b"." + body, "sha256")
    assert signed[0].headers["X-Missionctl-Signature"] == f"sha256={mac.hexdigest()}"
    assert "NEWHOOK_SECRET is not set" not in journal(vps)
    test = vps.run("missionctl", "alerts", "test", "webhook:1")  # a root shell reads the same secrets
    assert test.stdout.strip() == "webhook:1: sent", test


def test_3_a_hung_supervisor_is_killed_by_the_watchdog_and_restarted(vps: Container) -> None:
    assert show(vps, "WatchdogUSec") == "30s"
    dropin = vps.root / "etc/systemd/system/missionctl.service.d"
    dropin.mkdir(parents=True, exist_ok=True)
    (dropin / "watchdog-test.conf").write_text("[Service]\nWatchdogSec=4s\n")  # the test's patience only
    vps.run("systemctl", "daemon-reload")
    vps.run("systemctl", "restart", "missionctl")
    pid = show(vps, "MainPID")
    restarts = int(show(vps, "NRestarts"))
    vps.run("kill", "-STOP", pid)
    wait(
        lambda: show(vps, "MainPID") not in (pid, "0") and show(vps, "ActiveState") == "active",
        timeout=40,
        what="a new supervisor process",
    )
    assert int(show(vps, "NRestarts")) == restarts + 1
    log = vps.run("journalctl", "-u", "missionctl", "--no-pager", check=False).stdout
    assert "Watchdog timeout" in log, log[-2000:]
    (dropin / "watchdog-test.conf").unlink()
    vps.run("systemctl", "daemon-reload")
    vps.run("systemctl", "restart", "missionctl")


def test_4_the_bash_fallback_restarts_a_dead_supervisor_and_alerts_once(vps: Container, receiver: Receiver) -> None:
    env = vps.root / "etc/missionctl/missionctl.env"
    env.write_text(
        env.read_text()
        + f"MISSIONCTL_FALLBACK_WEBHOOK={receiver.url('/fallback')}\n"
        + f"MISSIONCTL_SELF_PING_URL={receiver.url('/hc/5a1f')}\n"  # the outside dead-man's switch
    )
    for _round in range(2):
        vps.run("systemctl", "stop", "missionctl")
        vps.run("touch", "-d", "20 minutes ago", "/var/lib/missionctl/heartbeat")
        vps.run("systemctl", "start", "missionctl-fallback.service")
        wait(lambda: show(vps, "ActiveState") == "active", what="the supervisor back")
    time.sleep(1)
    alerts = receiver.bodies("/fallback")
    assert len(alerts) == 1, alerts  # two dead supervisors within the hour: one direct alert
    assert alerts[0]["event"] == "fallback" and "heartbeat" in alerts[0]["reason"]
    fallback_log = vps.run("journalctl", "-u", "missionctl-fallback", "--no-pager", check=False).stdout
    assert "restarting missionctl.service" in fallback_log
    # every dead supervisor found is told to the outside monitor at once, not once an hour
    fails = [r for r in receiver.received if r.path == "/hc/5a1f/fail"]
    assert len(fails) == 2, [r.path for r in receiver.received]
    assert b"heartbeat" in fails[0].body and b"restarting missionctl.service" in fails[0].body


def test_5_restarts_from_the_hardened_service_work(vps: Container) -> None:
    assert show(vps, "CapabilityBoundingSet") == ""  # no capability at all
    assert show(vps, "NoNewPrivileges") == "yes" and show(vps, "ProtectSystem") == "strict"
    units = vps.root / "etc/systemd/system"
    (units / "demo-stale.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    (units / "demo-stale.timer").write_text("[Timer]\nOnActiveSec=1s\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")
    vps.run("systemctl", "daemon-reload")
    vps.run("systemctl", "start", "demo-stale.timer")
    registry = vps.root / "etc/missionctl/registry.yaml"
    registry.write_text(
        registry.read_text().replace(
            "units:\n", "units:\n  demo-stale.timer: {max_stale: 4s, restart: {backoff: 30s}}\n", 1
        )
    )
    vps.run("systemctl", "reload", "missionctl")
    first = show(vps, "LastTriggerUSecMonotonic", "demo-stale.timer")
    wait(
        lambda: show(vps, "LastTriggerUSecMonotonic", "demo-stale.timer") != first,
        timeout=30,
        what="the stale timer restarted (and fired again)",
    )
    items = wait(
        lambda: http("http://127.0.0.1:8001/api/transitions?item=demo-stale.timer")[1]["transitions"],
        what="transitions",
    )
    assert ("stale", "ok") in [(t["from"], t["to"]) for t in items] or wait(
        lambda: (
            ("stale", "ok")
            in [
                (t["from"], t["to"])
                for t in http("http://127.0.0.1:8001/api/transitions?item=demo-stale.timer")[1]["transitions"]
            ]
        ),
        what="stale -> ok",
    )
    assert "restart_failed" not in journal(vps)


def test_6_uninstall_keeps_config_and_purge_leaves_nothing(vps: Container) -> None:
    vps.run("bash", str(REPO / "install.sh"), "--uninstall")
    left = vps.run("systemctl", "list-unit-files", "missionctl*", "--no-legend", check=False).stdout
    assert left.strip() == "", left
    assert not (vps.root / "opt/missionctl").exists()
    assert (vps.root / "etc/missionctl/registry.yaml").exists() and (vps.root / "var/lib/missionctl").exists()
    purge = vps.run("bash", str(REPO / "install.sh"), "--purge")
    assert purge.stdout.strip() == "Mission Control removed with its configuration and state", purge.stdout
    for path in (
        "etc/missionctl",
        "var/lib/missionctl",
        "var/lib/missionctl-fallback",
        "opt/missionctl",
        "etc/systemd/system/missionctl.service",
        "etc/systemd/system/missionctl-fallback.timer",
        "usr/local/bin/missionctl",
    ):
        assert not (vps.root / path).exists(), path
