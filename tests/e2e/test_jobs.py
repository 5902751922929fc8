"""The registry's jobs become real timers on a fresh system-mode systemd, through install.sh's generator.

Three jobs: an HTTP call every minute, an HTTP call answered 500 twice then 200 (one retry per run:
its first run fails, the next succeeds), and a command. They fire on schedule, their runs are in
the history with every attempt's status and latency, the failed run's final 500 body is in the
alert, a job removed from the registry loses its units at the next reload, and units that are not
Mission Control's are never touched.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

from tests.harness.container import Container
from tests.harness.lab import wait_until
from tests.harness.receiver import Receiver, receiving

REPO = Path(__file__).resolve().parents[2]
API = "http://127.0.0.1:8001"
GENERATED = "run/systemd/generator"


def get(path: str) -> Any:
    with urllib.request.urlopen(API + path, timeout=5) as r:
        return json.loads(r.read())


def show(vps: Container, unit: str, prop: str) -> str:
    return vps.run("systemctl", "show", "-P", prop, unit).stdout.strip()


def test_three_jobs_from_the_registry_run_as_generated_timers(vps: Container, receiver: Receiver) -> None:
    vps.run("bash", str(REPO / "install.sh"), timeout=900)
    # a unit that is not ours, named like ours would be, and one of the admin's own: never touched
    (vps.root / "etc/systemd/system/missionctl-job-handmade.service").write_text(
        "[Service]\nType=oneshot\nExecStart=/bin/true\n"
    )
    (vps.root / "etc/systemd/system/admin-own.timer").write_text("[Timer]\nOnCalendar=yearly\n")
    (vps.root / "etc/systemd/system/admin-own.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    with receiving() as flaky:
        flaky.respond(
            (500, '{"error": "database timeout on shard 7"}'), (500, '{"error": "database timeout on shard 7"}')
        )
        registry = vps.root / "etc/missionctl/registry.yaml"
        registry.write_text(
            registry.read_text()
            + f"alerts:\n  webhook: [{{url: '{receiver.url('/jobs')}'}}]\n"
            + "jobs:\n"
            + f"  tick: {{schedule: '* * * * *', http: {{url: '{receiver.url('/tick')}?token=s3cret', method: POST,"
            + " body: {source: missionctl}}, critical: true}\n"
            + f"  flaky: {{every: 20s, http: {{url: '{flaky.url('/flaky')}'}}, retries: {{max: 1, backoff: 1s}}}}\n"
            + "  report: {every: 20s, command: [/bin/echo, report written]}\n"
        )
        apply = vps.run("missionctl", "jobs", "apply")
        assert "3 jobs applied" in apply.stdout, apply.stdout + apply.stderr
        for stem in ("tick", "flaky", "report"):
            unit = f"missionctl-job-{stem}"
            assert (vps.root / GENERATED / f"{unit}.timer").exists()
            assert (vps.root / GENERATED / f"{unit}.service").exists()
            assert show(vps, f"{unit}.timer", "ActiveState") == "active"
        tick_text = (vps.root / GENERATED / "missionctl-job-tick.service").read_text()
        assert "s3cret" not in tick_text and "DynamicUser=yes" in tick_text  # world-readable: no secret in it
        assert show(vps, "missionctl-job-tick.timer", "TimersCalendar").startswith("{ OnCalendar=*-*-* *:*:00")

        # the flaky job's first run: 500, retried once after 1 s, 500 again: failed, alerted with the body
        def down() -> Any:
            return next((b for b in receiver.bodies("/jobs") if b["item"] == "missionctl-job-flaky.timer"), None)

        alert = wait_until(down, timeout=90, what="the flaky job's down")
        assert alert["event"] == "down" and alert["status"] == "failed"
        assert "attempt 1/2: GET http://127.0.0.1:" in alert["output"]
        assert "-> HTTP 500 in " in alert["output"] and "retrying in 1s" in alert["output"]
        assert "database timeout on shard 7" in alert["output"]  # the final 500's body
        assert len(flaky.received) == 2
        # its next run gets 200 (the receiver's default answer is 204; expect is 200-299): recovered
        wait_until(
            lambda: any(
                b["event"] == "recovered" and b["item"] == "missionctl-job-flaky.timer"
                for b in receiver.bodies("/jobs")
            ),
            timeout=60,
            what="the flaky job recovered",
        )
    # the minutely job fired on schedule, at a minute boundary, with its body and query
    wait_until(lambda: receiver.received and any(r.path == "/tick" for r in receiver.received), timeout=75, what="tick")
    tick = next(r for r in receiver.received if r.path == "/tick")
    assert tick.query == {"token": "s3cret"} and tick.json == {"source": "missionctl"}
    assert int(tick.at) % 60 <= 3, tick.at
    runs = wait_until(
        lambda: [r for r in get("/api/runs?item=missionctl-job-tick.timer")["runs"] if r["result"] == "success"],
        timeout=30,
        what="the tick job's run in the history",
    )
    detail = get(f"/api/runs/{runs[0]['id']}")
    assert re.search(r"attempt 1/3: POST http://127\.0\.0\.1:\d+/tick -> HTTP 204 in \d+ ms", detail["output"])
    assert "s3cret" not in detail["output"]
    report = wait_until(
        lambda: get("/api/runs?item=missionctl-job-report.timer")["runs"], timeout=60, what="the command job's run"
    )
    assert report[0]["result"] == "success"
    items = {i["name"]: i for i in get("/api/items")["items"]}
    assert items["missionctl-job-tick.timer"]["critical"] is True
    assert items["missionctl-job-flaky.timer"]["budget_s"] == 50.0  # derived from every: 20s (x2.5)

    # "Run now" (the dashboard's button, the API's run) starts a job's service through systemd like any timer's
    env = (vps.root / "etc/missionctl/missionctl.env").read_text()
    token = re.search(r"^MISSIONCTL_TOKEN=(.+)$", env, re.M).group(1)  # type: ignore[union-attr]
    req = urllib.request.Request(
        API + "/api/items/missionctl-job-report.timer/run", method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 202 and json.loads(r.read())["unit"] == "missionctl-job-report.service"
    manual = wait_until(
        lambda: [r for r in get("/api/runs?item=missionctl-job-report.timer")["runs"] if r["trigger"] == "manual"],
        timeout=30,
        what="the manual run",
    )
    assert manual[0]["result"] == "success"

    # a plain daemon-reload runs the generator: a job added to the registry has its units at once
    registry.write_text(registry.read_text() + "  late: {schedule: daily, command: [/bin/true], user: nobody}\n")
    vps.run("systemctl", "daemon-reload")
    assert (vps.root / GENERATED / "missionctl-job-late.timer").exists()
    assert show(vps, "missionctl-job-late.timer", "LoadState") == "loaded"
    assert show(vps, "missionctl-job-late.timer", "SourcePath") == "/etc/missionctl/registry.yaml"

    # the generated HTTP service is hardened, and scored
    score = vps.run("systemd-analyze", "security", "--no-pager", "missionctl-job-tick.service", check=False).stdout
    found = re.search(r"Overall exposure level for missionctl-job-tick\.service: (\d+\.\d+) (\w+)", score)
    assert found and float(found.group(1)) <= 3.0, score[-600:]
    print(f"systemd-analyze security missionctl-job-tick.service: {found.group(1)} {found.group(2)}")
    score = vps.run("systemd-analyze", "security", "--no-pager", "missionctl-job-report.service", check=False).stdout
    found = re.search(r"Overall exposure level for missionctl-job-report\.service: (\d+\.\d+) (\w+)", score)
    assert found and float(found.group(1)) <= 3.0, score[-600:]  # a command job with a dynamic user of its own
    print(f"systemd-analyze security missionctl-job-report.service: {found.group(1)} {found.group(2)}")
    score = vps.run("systemd-analyze", "security", "--no-pager", "missionctl-job-late.service", check=False).stdout
    found = re.search(r"Overall exposure level for missionctl-job-late\.service: (\d+\.\d+) (\w+)", score)
    assert found and float(found.group(1)) <= 6.0, score[-600:]  # a named user's own rights, /usr and /etc read-only
    print(f"systemd-analyze security missionctl-job-late.service (user: nobody): {found.group(1)} {found.group(2)}")

    # a job removed from the registry loses its units; nothing else is touched
    registry.write_text(re.sub(r"  report: .*\n", "", registry.read_text()))
    vps.run("missionctl", "jobs", "apply")
    assert not (vps.root / GENERATED / "missionctl-job-report.timer").exists()
    assert show(vps, "missionctl-job-report.timer", "LoadState") == "not-found"
    assert show(vps, "missionctl-job-tick.timer", "ActiveState") == "active"
    assert (vps.root / "etc/systemd/system/missionctl-job-handmade.service").exists()
    assert show(vps, "admin-own.timer", "LoadState") == "loaded"
    wait_until(lambda: "missionctl-job-report.timer" not in {i["name"] for i in get("/api/items")["items"]}, timeout=20)
