"""Alerts end to end: real systemd --user manager, the real daemon, real loopback receivers."""

from __future__ import annotations

import json
import signal
import time

from tests.harness.lab import Lab, wait_until
from tests.harness.receiver import Receiver

HOOK_SECRET = "hook-secret-5f1e9a"


def events_at(receiver: Receiver, path: str = "/hook") -> list[tuple[str, str]]:
    return [(b["event"], b["item"]) for b in receiver.bodies(path)]


def flappy(lab: Lab) -> tuple[str, str, object]:
    flag = lab.dir / "fail"
    t = lab.timer("flappy", "OnActiveSec=0\nOnUnitActiveSec=1h", service=f"ExecStart=/bin/sh -c 'test ! -e {flag}'")
    return t, t.replace(".timer", ".service"), flag


def test_one_message_when_it_breaks_and_one_when_it_recovers(lab: Lab, receiver: Receiver) -> None:
    t, svc, flag = flappy(lab)
    lab.env["HOOK_SECRET"] = HOOK_SECRET
    lab.write_registry(
        f"  {t}: {{}}\n",
        extra=f"discover: false\nalerts:\n  webhook: [{{url: '{receiver.url()}', secret_env: HOOK_SECRET}}]\n",
    )
    lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok", what="ok")
    flag.touch()  # type: ignore[attr-defined]
    for _ in range(3):  # the job keeps failing: still one message
        lab.um.systemctl("start", svc, check=False)
    wait_until(lambda: events_at(receiver) == [("down", t)], what="down alert")
    time.sleep(1)
    flag.unlink()  # type: ignore[attr-defined]
    lab.um.systemctl("start", svc)
    wait_until(lambda: len(events_at(receiver)) == 2, what="recovered alert")
    time.sleep(1)
    assert events_at(receiver) == [("down", t), ("recovered", t)]
    down, recovered = receiver.bodies()
    assert (down["status"], down["previous_status"], down["kind"]) == ("failed", "ok", "timer")
    assert down["reason"] == "last run failed: exit-code, exit status 1"
    assert (recovered["status"], recovered["previous_status"]) == ("ok", "failed")


def test_a_crash_loop_escalates_to_the_hook_then_to_humans(lab: Lab, receiver: Receiver) -> None:
    svc = lab.service("crashy", "ExecStart=/bin/sh -c 'sleep 0.2; exit 3'")
    lab.env["HOOK_SECRET"] = HOOK_SECRET
    lab.write_registry(
        f"  {svc}: {{critical: true, restart: {{max: 2, per: 1h, backoff: 0.3s, after: 0s}}}}\n",
        extra=(
            f"discover: false\nalerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n"
            f"  recovery_hook: {{url: '{receiver.url('/recover')}', secret_env: HOOK_SECRET}}\n"
        ),
    )
    lab.start_daemon()
    wait_until(lambda: receiver.bodies("/recover"), timeout=30, what="recovery hook")
    wait_until(lambda: ("escalated", svc) in events_at(receiver), what="human escalation")
    time.sleep(2)  # and nothing more
    assert len(lab.events("restart")) == 2
    assert events_at(receiver, "/recover") == [("escalated", svc)]
    assert events_at(receiver) == [("down", svc), ("escalated", svc)]
    [hook] = [r for r in receiver.received if r.path == "/recover"]
    assert hook.headers["X-Missionctl-Event"] == "escalated"
    assert hook.headers["X-Missionctl-Signature"].startswith("sha256=")
    first_recover = min(r.at for r in receiver.received if r.path == "/recover")
    human = [r.at for r in receiver.received if r.path == "/hook" and r.json["event"] == "escalated"]
    assert human and first_recover <= human[0] + 0.5  # the hook is tried first (or together)


def test_nothing_is_lost_across_a_sigkill_while_the_receiver_is_down(lab: Lab, receiver: Receiver) -> None:
    t, svc, flag = flappy(lab)
    lab.write_registry(f"  {t}: {{}}\n", extra=f"discover: false\nalerts:\n  webhook: [{{url: '{receiver.url()}'}}]\n")
    receiver.down()
    proc = lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok", what="ok")
    flag.touch()  # type: ignore[attr-defined]
    lab.um.systemctl("start", svc, check=False)
    wait_until(lambda: lab.status_of(t) == "failed", what="failed")
    flag.unlink()  # type: ignore[attr-defined]
    lab.um.systemctl("start", svc)
    wait_until(lambda: lab.status_of(t) == "ok", what="recovered")
    flag.touch()  # type: ignore[attr-defined]
    lab.um.systemctl("start", svc, check=False)
    wait_until(lambda: lab.status_of(t) == "failed", what="failed again")
    wait_until(lambda: lab.events("alert_retry"), what="delivery attempts failing")
    lab.stop_daemon(proc, signal.SIGKILL)

    lab.start_daemon()
    flag.unlink()  # type: ignore[attr-defined]
    lab.um.systemctl("start", svc)
    wait_until(lambda: lab.status_of(t) == "ok", what="recovered after the restart")
    receiver.up()
    received = receiver.wait_for(4, timeout=40)
    time.sleep(1)
    events = [(b["event"], b["status"]) for b in receiver.bodies()]
    ids = [r.headers["X-Missionctl-Delivery"] for r in receiver.received]
    duplicates = len(ids) - len(set(ids))
    assert duplicates <= 1  # at most the one in flight when killed
    unique = list(dict.fromkeys(zip(ids, events, strict=True)))
    assert [e for _, e in unique] == [("down", "failed"), ("recovered", "ok"), ("down", "failed"), ("recovered", "ok")]
    assert len(received) == len(ids)
    r = lab.cli("alerts", "--user", "--registry", str(lab.registry), "--json")
    assert r.returncode == 0, r.stderr
    counts = json.loads(r.stdout)["counts"]
    assert (counts["pending"], counts["dead"]) == (0, 0)


def test_secrets_never_reach_logs_or_outputs(lab: Lab, receiver: Receiver) -> None:
    secrets = {
        "HOOK_SECRET": HOOK_SECRET,
        "SMTP_PASSWORD": "smtp-pass-0d3c7e",
        "DISCORD_WEBHOOK_URL": receiver.url("/api/webhooks/42/discord-token-77aa"),
    }
    lab.env.update(secrets)
    t, svc, flag = flappy(lab)
    receiver.respond(500, 500, 500)  # failures get logged with their errors
    lab.write_registry(
        f"  {t}: {{critical: true}}\n",
        extra=(
            "discover: false\nalerts:\n"
            f"  webhook: [{{url: '{receiver.url()}', secret_env: HOOK_SECRET}}]\n"
            "  discord: {webhook_url_env: DISCORD_WEBHOOK_URL}\n"
            "  email: {smtp_host: 127.0.0.1, smtp_port: 9, username: ops, password_env: SMTP_PASSWORD,"
            " from: a@example.com, to: [b@example.com]}\n"
        ),
    )
    lab.start_daemon()
    wait_until(lambda: lab.status_of(t) == "ok", what="ok")
    flag.touch()  # type: ignore[attr-defined]
    lab.um.systemctl("start", svc, check=False)
    wait_until(lambda: len(lab.events("alert_retry")) >= 3, what="failing deliveries logged")
    outputs = [lab.log_text()]
    for args in (["status"], ["check", "--json"], ["alerts"], ["alerts", "--json"], ["alerts", "test", "email"]):
        r = lab.cli(*args, "--user", "--registry", str(lab.registry))
        outputs += [r.stdout, r.stderr]
    outputs.append((lab.state_dir / "state.json").read_text())
    blob = "\n".join(outputs)
    assert "email: FAILED" in blob  # the test send really ran (and failed: nothing listens on port 9)
    for name, value in secrets.items():
        leaked = value.rsplit("/", 1)[-1] if name == "DISCORD_WEBHOOK_URL" else value
        assert leaked not in blob, name


def test_alerts_test_sends_through_the_real_channel(lab: Lab, receiver: Receiver) -> None:
    lab.env["HOOK_SECRET"] = HOOK_SECRET
    lab.write_registry(
        "  {}\n", extra=f"discover: false\nalerts:\n  webhook: [{{url: '{receiver.url()}', secret_env: HOOK_SECRET}}]\n"
    )
    lab.registry.write_text(lab.registry.read_text().replace("units:\n  {}\n", "units: {}\n"))
    r = lab.cli("alerts", "test", "webhook", "--user", "--registry", str(lab.registry))
    assert (r.returncode, r.stdout.strip()) == (0, "webhook:0: sent"), r.stderr
    [req] = receiver.received
    assert req.json["reason"] == "test message from missionctl alerts test"
    assert req.headers["X-Missionctl-Signature"].startswith("sha256=")
    missing = lab.cli("alerts", "test", "discord", "--user", "--registry", str(lab.registry))
    assert missing.returncode == 2 and "no channel 'discord' configured" in missing.stdout
