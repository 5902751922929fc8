"""``missionctl check`` against a real systemd --user manager."""

from __future__ import annotations

import json
import time

from tests.harness.lab import Lab, wait_until


def test_it_sees_a_healthy_timer_as_ok(lab: Lab) -> None:
    t = lab.timer("healthy", "OnActiveSec=0\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{}}\n")
    wait_until(lambda: lab.check()[1][t]["last_trigger"], what="first trigger")
    wait_until(lambda: lab.check()[1][t]["last_result"] == "success", what="service finished")
    code, items = lab.check()
    item = items[t]
    assert code == 0
    assert (item["status"], item["kind"], item["last_exit_status"]) == ("ok", "timer", 0)
    assert item["budget_s"] == 9000 and item["budget_source"] == "derived: 2.5 × OnUnitActiveSec=1h"
    assert item["next_elapse"].endswith("Z") and item["age_s"] < 60


def test_it_sees_a_never_triggered_timer(lab: Lab) -> None:
    t = lab.timer("never", "OnActiveSec=1h\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{max_stale: 2s}}\n")
    assert lab.check()[1][t]["status"] == "ok"  # still within its budget
    time.sleep(2.2)
    code, items = lab.check()
    assert code == 1
    assert items[t]["status"] == "never-triggered" and items[t]["last_trigger"] is None


def test_it_sees_a_loaded_inactive_timer_as_dead(lab: Lab) -> None:
    t = lab.timer("idle", "OnCalendar=hourly", start=False)
    lab.write_registry(f"  {t}: {{}}\n")
    code, items = lab.check()
    assert code == 1
    assert items[t]["status"] == "dead" and items[t]["reason"] == "timer inactive"


def test_it_sees_a_swallowed_exit_code_as_failed(lab: Lab) -> None:
    t = lab.timer("exit1", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/sh -c 'exit 1'")
    lab.write_registry(f"  {t}: {{}}\n")
    items = wait_until(lambda: (i := lab.check()[1])[t]["status"] == "failed" and i, what="failed run")
    assert items[t]["last_result"] == "exit-code" and items[t]["last_exit_status"] == 1
    assert lab.um.systemctl("is-active", t, check=False).stdout.strip() == "active"  # the timer keeps "running"


def test_it_reports_a_listed_unit_that_does_not_exist(lab: Lab) -> None:
    lab.write_registry(f"  {lab.name('ghost')}.timer: {{}}\n  {lab.name('ghost')}.service: {{}}\n")
    code, items = lab.check()
    assert code == 1
    assert {i["status"] for i in items.values()} == {"missing"}
    assert {i["kind"] for i in items.values()} == {"timer", "daemon"}


def test_it_watches_daemons(lab: Lab) -> None:
    up = lab.service("up", "ExecStart=/bin/sleep 600")
    down = lab.service("down", "ExecStart=/bin/sh -c 'exit 4'")
    lab.write_registry(f"  {up}: {{critical: true}}\n  {down}: {{}}\n")
    items = wait_until(lambda: (i := lab.check()[1])[down]["status"] == "down" and i, what="daemon down")
    assert items[up]["status"] == "ok" and items[up]["critical"]
    assert items[down]["last_result"] == "exit-code"


def test_it_discovers_unlisted_timers_with_derived_budgets(lab: Lab) -> None:
    found = lab.timer("found", "OnCalendar=*:0/15")
    ignored = lab.timer("skipme", "OnCalendar=daily")
    off = lab.timer("off", "OnCalendar=daily", start=False)
    lab.write_registry("  {}\n", extra="discover: true\nignore: ['skipme-*']\n")
    lab.registry.write_text(lab.registry.read_text().replace("units:\n  {}\n", "units: {}\n"))
    _, items = lab.check()
    assert found in items and ignored not in items and off not in items
    item = items[found]
    assert item["discovered"] and item["budget_s"] == 2.5 * 900
    assert item["budget_source"] == "derived: 2.5 × OnCalendar=*-*-* *:00/15:00 every 15m"


def test_check_fix_restarts_and_records_the_attempt(lab: Lab) -> None:
    t = lab.timer("fixme", "OnActiveSec=1s\nOnUnitActiveSec=1h", start=False)
    lab.write_registry(f"  {t}: {{}}\n")
    assert lab.check()[1][t]["status"] == "dead"
    assert lab.check()[1][t]["status"] == "dead"  # a plain check changes nothing
    _, items = lab.check("--fix")
    assert items[t]["restarts_in_window"] == 1 and len(lab.state()["restarts"][t]) == 1
    wait_until(lambda: lab.check()[1][t]["status"] == "ok", what="timer fires after the fix")


def test_a_broken_registry_exits_2_naming_line_and_field(lab: Lab) -> None:
    lab.registry.write_text("scope: user\nunits:\n  a.timer: {max_stale: soon}\n")
    r = lab.cli("check", "--user", "--registry", str(lab.registry))
    assert r.returncode == 2
    assert r.stderr.startswith(f"{lab.registry}:3: units[a.timer].max_stale: invalid duration 'soon'")


def test_status_prints_a_table(lab: Lab) -> None:
    t = lab.timer("table", "OnActiveSec=0\nOnUnitActiveSec=6h")
    lab.write_registry(f"  {t}: {{critical: true}}\n")
    wait_until(lambda: lab.check()[1][t]["last_result"], what="first run")
    r = lab.cli("status", "--user", "--registry", str(lab.registry))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["ITEM", "STATUS"]
    row = next(line for line in lines if line.startswith(t))
    assert " ok " in row and "derived: 2.5 × OnUnitActiveSec=6h" in row and "success" in row
    assert "1/1 OK" in r.stdout and "supervisor daemon: not running" in r.stdout


def test_validate_warns_about_a_unit_systemd_does_not_know(lab: Lab) -> None:
    t = lab.timer("real", "OnCalendar=daily")
    lab.write_registry(f"  {t}: {{}}\n  bakcup-{lab.tag}.timer: {{}}\n")
    r = lab.cli("validate", "--user", str(lab.registry))
    assert r.returncode == 0, r.stderr
    [warning] = r.stderr.splitlines()
    assert warning == f"{lab.registry}:7: units[bakcup-{lab.tag}.timer]: warning: systemd has no such unit (not-found)"
    assert "ok (2 units, 0 checks, 0 pings listed" in r.stdout


def test_status_and_check_keep_working_from_the_running_configuration(lab: Lab) -> None:
    t = lab.timer("kept", "OnActiveSec=0\nOnUnitActiveSec=1h")
    lab.write_registry(f"  {t}: {{}}\n")
    lab.start_daemon()
    lab.registry.write_text(lab.registry.read_text() + "  broken.timer: {max_stale: soon}\n")
    r = lab.cli("check", "--user", "--json", "--registry", str(lab.registry))
    assert r.returncode == 0, r.stderr
    assert "broken.timer].max_stale: invalid duration 'soon'" in r.stderr and "running configuration" in r.stderr
    assert [i["name"] for i in json.loads(r.stdout)["items"]] == [t]
    missing = lab.cli("check", "--user", "--registry", str(lab.dir / "nowhere.yaml"))
    assert missing.returncode == 2


def test_check_and_status_answer_from_the_running_supervisor_and_say_so(lab: Lab) -> None:
    good = lab.timer("good", "OnActiveSec=0\nOnUnitActiveSec=1h")
    bad = lab.service("bad", "ExecStart=/bin/sh -c 'exit 4'")
    lab.write_registry(f"  {good}: {{}}\n  {bad}: {{}}\n")
    swept = wait_until(lambda: (i := lab.check()[1])[bad]["status"] == "down" and i[good]["last_result"] and i)
    daemon = lab.start_daemon()
    wait_until(lambda: lab.status_of(bad) == "down", what="the supervisor sees the failure")

    r = lab.cli("check", "--user", "--json", "--registry", str(lab.registry))
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["source"]["from"] == "supervisor" and 0 <= doc["source"]["age_s"] < 120
    assert doc["health"] == "degraded" and doc["status"] == "problem"
    live = {i["name"]: i for i in doc["items"]}
    assert {n: (i["status"], i["last_result"]) for n, i in live.items()} == {
        n: (i["status"], i["last_result"]) for n, i in swept.items()
    }
    table = lab.cli("status", "--user", "--registry", str(lab.registry)).stdout
    assert "(the running supervisor's view, " in table and "supervisor daemon: running" in table
    forced = json.loads(lab.cli("check", "--user", "--json", "--sweep", "--registry", str(lab.registry)).stdout)
    assert forced["source"]["from"] == "sweep"

    lab.stop_daemon(daemon)
    r = lab.cli("check", "--user", "--json", "--registry", str(lab.registry))
    assert r.returncode == 1 and json.loads(r.stdout)["source"]["from"] == "sweep"
    assert "supervisor's view" not in lab.cli("status", "--user", "--registry", str(lab.registry)).stdout
