"""The dashboard in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Dialog, expect, sync_playwright

from tests.harness.lab import Lab, wait_until

ARTIFACTS = Path(os.environ.get("MISSIONCTL_ARTIFACTS", Path(__file__).resolve().parents[2] / "build" / "artifacts"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_a_failing_timer_is_red_and_run_now_turns_it_green(lab: Lab) -> None:
    flag = lab.dir / "broken"
    flag.touch()
    bad = lab.timer("nightly", "OnActiveSec=0\nOnUnitActiveSec=1d", service=f"ExecStart=/bin/sh -c 'test ! -e {flag}'")
    good = lab.timer("hourly", "OnActiveSec=0\nOnUnitActiveSec=1h")
    busy = lab.timer("export", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/sleep 600")
    lab.env["MISSIONCTL_TOKEN"] = "dash-token"
    lab.write_registry(f"  {bad}: {{critical: true}}\n  {good}: {{}}\n  {busy}: {{}}\n")
    lab.start_daemon()
    wait_until(lambda: lab.status_of(bad) == "failed", what="failed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(f"http://127.0.0.1:{lab.port}/")
        card = page.locator(f'.card[data-item="{bad}"]')
        expect(card).to_have_class("card red")
        expect(page.locator(f'.card[data-item="{good}"]')).to_have_class("card green")
        expect(page.locator(f'.card[data-item="{busy}"] .line.running')).to_contain_text("running for ")
        expect(page.locator("#summary")).to_have_text("2/3 OK")
        page.screenshot(path=str(ARTIFACTS / "dashboard-failing.png"), full_page=True)

        card.click()
        expect(page.locator("#d-name")).to_have_text(bad)
        expect(page.locator("#d-runs tbody tr.failed")).to_have_count(1)
        expect(page.locator("#d-output-run")).to_contain_text("failed: exit-code, exit status 1")
        expect(page.locator("#d-output")).not_to_be_empty()  # no journald here: it says why
        page.locator("#d-runs tbody tr.failed").click()  # a run's own detail, from /api/runs/{id}
        expect(page.locator("#d-output-run")).to_contain_text("(timer), failed: exit-code")
        flag.unlink()  # the job is fixed; a person asks for a run now

        def give_token(dialog: Dialog) -> None:
            dialog.accept("dash-token")

        page.once("dialog", give_token)
        page.get_by_role("button", name="Run now").click()
        expect(page.locator("#d-result")).to_have_text("run: ok")
        expect(card).to_have_class("card green", timeout=15_000)
        expect(page.locator("#summary")).to_have_text("3/3 OK")
        expect(page.locator("#d-runs tbody tr")).to_have_count(2)
        page.screenshot(path=str(ARTIFACTS / "dashboard-recovered.png"), full_page=True)
        browser.close()
    runs = [e for e in lab.events("audit") if e["action"] == "run"]
    assert [(e["item"], e["result"]) for e in runs] == [(bad, "ok")]


def test_sixty_items_keep_their_order_across_polls_on_a_laptop_screen(lab: Lab) -> None:
    flag = lab.dir / "broken"
    flag.touch()
    names = []
    for i in range(58):  # units written at once, one daemon-reload
        name = lab.name(f"job{i:02d}")
        fails = f"ExecStart=/bin/sh -c 'test ! -e {flag}'" if i % 10 == 3 else "ExecStart=/bin/true"
        lab.um.write_unit(f"{name}.service", f"[Service]\nType=oneshot\n{fails}\n")
        lab.um.write_unit(f"{name}.timer", "[Timer]\nOnActiveSec=0\nOnUnitActiveSec=1h\nAccuracySec=1ms\n")
        lab._units += [f"{name}.timer", f"{name}.service"]
        names.append(f"{name}.timer")
    lab.um.systemctl("daemon-reload")
    lab.um.systemctl("start", *names)
    # a worker crashing every 2 s under Restart=always: one incident, not a card that blinks
    crashy = lab.service(
        "worker",
        "ExecStart=/bin/sh -c 'sleep 1.5; exit 3'\nRestart=always\nRestartSec=0.5\n[Unit]\nStartLimitIntervalSec=0",
    )
    steady = lab.service("api", "ExecStart=/bin/sleep 600")
    lab.env["MISSIONCTL_TOKEN"] = "dash-token"
    units = "".join(f"  {n}: {{}}\n" for n in names) + f"  {crashy}: {{critical: true}}\n  {steady}: {{}}\n"
    lab.write_registry(units)
    lab.start_daemon()
    wait_until(lambda: lab.status_of(crashy) == "down", what="the worker down")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"http://127.0.0.1:{lab.port}/")
        expect(page.locator(".card")).to_have_count(60)
        expect(page.locator("#summary")).to_have_text("53/60 OK")
        expect(page.locator("#updated")).to_contain_text("(host)")
        order = page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.item)")
        problems = order[:7]
        assert crashy in problems and all(n in problems for n in names[3::10])
        assert order[7:] == sorted(order[7:]) and problems == sorted(problems)
        page.screenshot(path=str(ARTIFACTS / "dashboard-60-items-1366x768.png"))
        page.screenshot(path=str(ARTIFACTS / "dashboard-60-items-full.png"), full_page=True)
        seen = set()
        for _ in range(6):  # 6 polls, 2 s apart, while the worker keeps crashing and restarting
            page.wait_for_timeout(2100)
            assert page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.item)") == order
            seen.add(page.locator(f'.card[data-item="{crashy}"]').get_attribute("data-status"))
        assert seen == {"down"}  # the incident, not every blink

        page.locator(f'.card[data-item="{crashy}"]').click()
        expect(page.locator("#d-facts")).to_contain_text("% since ")  # uptime over what was observed
        expect(page.locator("#d-reason")).to_contain_text("systemd is restarting it")
        page.screenshot(path=str(ARTIFACTS / "dashboard-detail-1366x768.png"))

        answers = iter(["dash-token", "2h"])  # the token, then how long to pause
        page.on("dialog", lambda dialog: dialog.accept(next(answers)))
        page.locator(f'.card[data-item="{steady}"]').click()
        page.get_by_role("button", name="Pause").click()
        expect(page.locator("#d-result")).to_contain_text("pause: ok until ")
        expect(page.locator(f'.card[data-item="{steady}"]')).to_have_attribute("data-status", "paused")
        expect(page.locator("#d-facts")).to_contain_text("until ")
        assert page.request.get(f"http://127.0.0.1:{lab.port}/favicon.ico").status == 200
        browser.close()
    [pause] = [e for e in lab.events("audit") if e["action"] == "pause"]
    assert pause["detail"].startswith("until ")


def test_a_slow_check_is_yellow_with_its_response_times_and_a_ping_shows_its_runs(lab: Lab) -> None:
    from tests.harness.target import serving

    with serving(slow_s=0.5) as target:
        target.mode = "slow"
        lab.env["MISSIONCTL_PING_KEY"] = "dash-ping-key"
        lab.write_registry(
            "  {}\n",
            extra=(
                "discover: false\n"
                f"checks:\n  site: {{http: '{target.url()}', every: 1s, degraded_ms: 200, confirm: 1}}\n"
                "pings:\n  offsite: {period: 1h}\n"
            ),
        )
        lab.start_daemon()
        urlopen = __import__("urllib.request").request.urlopen
        urlopen(f"http://127.0.0.1:{lab.port}/ping/dash-ping-key/offsite/fail", data=b"rsync: connection reset")
        wait_until(lambda: lab.status_of("site") == "degraded" and lab.status_of("offsite") == "failed", what="seen")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(f"http://127.0.0.1:{lab.port}/")
            site = page.locator('.card[data-item="site"]')
            expect(site).to_have_class("card yellow")
            expect(site).to_contain_text("slower than 200 ms")
            expect(page.locator('.card[data-item="offsite"]')).to_have_class("card red")
            site.click()
            expect(page.locator("#d-name")).to_have_text("site")
            expect(page.locator("#d-latency polyline")).to_have_count(1)
            expect(page.locator("#d-facts")).to_contain_text("p95")
            expect(page.get_by_role("button", name="Probe now")).to_be_visible()
            expect(page.get_by_role("button", name="Restart")).to_be_hidden()
            page.screenshot(path=str(ARTIFACTS / "dashboard-check.png"), full_page=True)
            page.locator('.card[data-item="offsite"]').click()
            expect(page.locator("#d-name")).to_have_text("offsite")
            expect(page.locator("#d-output")).to_have_text("rsync: connection reset")
            expect(page.locator("#d-runs tbody tr.failed")).to_have_count(1)
            expect(page.get_by_role("button", name="Run now")).to_be_hidden()
            page.screenshot(path=str(ARTIFACTS / "dashboard-ping.png"), full_page=True)
            browser.close()


def test_a_blocked_dependant_is_purple_and_a_silenced_item_keeps_its_colour_under_a_gray_stripe(lab: Lab) -> None:
    db = lab.service("db", "ExecStart=/bin/sleep 600\nRestart=no")
    app = lab.name("app") + ".service"
    lab.um.write_unit(app, f"[Unit]\nBindsTo={db}\nAfter={db}\n[Service]\nExecStart=/bin/sleep 600\n")
    lab.um.systemctl("daemon-reload")
    lab.um.systemctl("start", app)
    cron = lab.timer("report", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/false")
    lab.env["MISSIONCTL_TOKEN"] = "dash-token"
    lab.write_registry(f"  {db}: {{on_stale: alert}}\n  {app}: {{on_stale: alert}}\n  {cron}: {{on_stale: alert}}\n")
    lab.start_daemon()
    wait_until(lambda: lab.status_of(cron) == "failed" and lab.status_of(app) == "ok", what="seen")
    request = __import__("urllib.request").request
    silence = request.Request(
        f"http://127.0.0.1:{lab.port}/api/silences",
        data=b'{"items": "report-*", "for": "1h", "reason": "rewrite"}',
        headers={"Authorization": "Bearer dash-token", "Content-Type": "application/json"},
    )
    assert request.urlopen(silence).status == 201
    lab.um.systemctl("kill", "--signal=KILL", db)  # systemd stops the app with it (BindsTo=)
    wait_until(lambda: lab.status_of(app) == "blocked", what="blocked")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(f"http://127.0.0.1:{lab.port}/")
        expect(page.locator(f'.card[data-item="{db}"]')).to_have_class("card red")
        blocked = page.locator(f'.card[data-item="{app}"]')
        expect(blocked).to_have_class("card blocked")
        expect(blocked).to_contain_text(f"blocked by {db} (down)")
        quiet = page.locator(f'.card[data-item="{cron}"]')
        expect(quiet).to_have_class("card red silenced")  # still red: the status is the truth
        expect(quiet.locator(".line.silenced")).to_contain_text("silenced until ")
        stripe = quiet.evaluate("e => getComputedStyle(e).backgroundImage")
        assert "repeating-linear-gradient" in stripe
        page.screenshot(path=str(ARTIFACTS / "dashboard-quiet.png"), full_page=True)
        blocked.click()
        expect(page.locator("#d-facts")).to_contain_text(f"blocked by{db}")
        quiet.click()
        expect(page.locator("#d-facts")).to_contain_text("not restarted, not alerted")
        browser.close()
