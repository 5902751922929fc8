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
