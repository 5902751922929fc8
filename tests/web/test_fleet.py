"""The fleet path: real Prometheus scrapes two Mission Control instances with the shipped rules,
and a real Alertmanager delivers the critical alert of one of them to a loopback receiver.

Both are Debian's packages (``prometheus``, ``prometheus-alertmanager``), run as child processes on
loopback ports with their own storage in the test's directory. The shipped rule holds a critical
item for ``for: 2m`` before firing; the rules file is loaded as shipped, so this test takes about
two and a half minutes.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.lab import Lab, free_port, wait_until
from tests.harness.receiver import Receiver
from tests.harness.user_manager import UserManager

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "prometheus"
RULES = PROMETHEUS_DIR / "missionctl.rules.yml"
DASHBOARD = PROMETHEUS_DIR / "grafana-dashboard.json"


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _metrics(lab: Lab) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/metrics", timeout=5) as r:
        return str(r.read().decode())


class Child:
    """A child process with its log in the test's directory, always stopped."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def hosts(manager: UserManager, lab: Lab, tmp_path: Path) -> Iterator[tuple[Lab, Lab]]:
    """Two Mission Control instances (each its own process, registry, state and port)."""
    (tmp_path / "b").mkdir()
    other = Lab(manager, tmp_path / "b")
    try:
        yield lab, other
    finally:
        other.cleanup()


def test_prometheus_and_alertmanager_deliver_a_critical_item_down(
    hosts: tuple[Lab, Lab], receiver: Receiver, tmp_path: Path
) -> None:
    a, b = hosts
    bad = a.timer("fleet-bad", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/false")
    fine_a = a.timer("fleet-ok", "OnActiveSec=0\nOnUnitActiveSec=1h")
    fine_b = b.timer("fleet-ok", "OnActiveSec=0\nOnUnitActiveSec=1h")
    probed = f"http://127.0.0.1:{a.port}/health"  # a probe, so the probe histogram has samples
    a.write_registry(
        f"  {bad}: {{critical: true}}\n  {fine_a}: {{critical: true}}\n"
        f"checks:\n  self-health: {{http: '{probed}', every: 1s}}\n"
        "pings:\n  fleet-push: {period: 1h}\n"
    )
    b.write_registry(f"  {fine_b}: {{critical: true}}\n")
    a.start_daemon()
    b.start_daemon()
    wait_until(lambda: a.status_of(bad) == "failed", what="the failed item on host a")
    wait_until(lambda: b.status_of(fine_b) == "ok", what="the ok item on host b")

    am_port, prom_port = free_port(), free_port()
    am_config = tmp_path / "alertmanager.yml"
    am_config.write_text(
        "route:\n  receiver: hook\n  group_by: [alertname, instance, item]\n"
        "  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n"
        f"receivers:\n  - name: hook\n    webhook_configs:\n      - url: '{receiver.url('/alertmanager')}'\n"
        "        send_resolved: true\n"
    )
    prom_config = tmp_path / "prometheus.yml"
    prom_config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: ['{RULES}']\n"
        f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n"
        "scrape_configs:\n  - job_name: missionctl\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{a.port}', '127.0.0.1:{b.port}']\n"
    )
    am = Child(
        [
            "prometheus-alertmanager",
            f"--config.file={am_config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ],
        tmp_path / "alertmanager.log",
    )
    prom = Child(
        [
            "prometheus",
            f"--config.file={prom_config}",
            f"--storage.tsdb.path={tmp_path / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        tmp_path / "prometheus.log",
    )
    api = f"http://127.0.0.1:{prom_port}/api/v1"
    try:

        def targets_up() -> bool:
            try:
                active = _get(f"{api}/targets")["data"]["activeTargets"]
            except OSError:
                return False
            return len(active) == 2 and all(t["health"] == "up" for t in active)

        wait_until(targets_up, timeout=30, what=f"both targets up\n{prom.text()}")

        def pending_or_firing() -> list[dict[str, Any]]:
            alerts = _get(f"{api}/alerts")["data"]["alerts"]
            return [x for x in alerts if x["labels"]["alertname"] == "MissionControlCriticalItemDown"]

        pending = wait_until(pending_or_firing, timeout=30, what="the rule to see the critical item")
        assert {x["labels"]["item"] for x in pending} == {bad}, pending
        assert pending[0]["labels"]["instance"] == f"127.0.0.1:{a.port}"

        # the rule's `for: 2m`, then Alertmanager's group_wait (0s) and the webhook
        hooks = receiver.wait_for(1, timeout=200, path="/alertmanager")
        message = hooks[0].json
        assert message["status"] == "firing", message
        fired = message["alerts"]
        assert [(x["labels"]["alertname"], x["labels"]["item"], x["labels"]["instance"]) for x in fired] == [
            ("MissionControlCriticalItemDown", bad, f"127.0.0.1:{a.port}")
        ]
        assert fired[0]["labels"]["severity"] == "critical" and fired[0]["labels"]["kind"] == "timer"
        assert fired[0]["annotations"]["summary"] == f"{bad} is not ok on 127.0.0.1:{a.port}"
        # nothing from host b, nor about the ok items, reached the receiver
        everything = [x for r in receiver.received if r.path == "/alertmanager" for x in r.json["alerts"]]
        assert {x["labels"].get("item") for x in everything} == {bad}, everything

        # the Grafana dashboard's queries run on this Prometheus without errors
        # (Grafana fills $instance in with the hosts picked; here: all of them)
        answered = 0
        for expr in dashboard_exprs():
            query = expr.replace("$instance", ".+")
            answer = _get(f"{api}/query?query={urllib.parse.quote(query)}")
            assert answer["status"] == "success", (expr, answer)
            answered += bool(answer["data"]["result"])
        assert answered >= 12, answered  # most panels have data within minutes of the first scrape
    finally:
        prom.stop()
        am.stop()


def dashboard_exprs() -> list[str]:
    """Every PromQL expression of the shipped Grafana dashboard (panels and template variables)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str):
                    found.append(value)
                elif key == "query" and isinstance(value, dict) and isinstance(value.get("query"), str):
                    found.append(value["query"])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(DASHBOARD.read_text()))
    return found


_METRIC = re.compile(r"\b(missionctl_[a-z_]+)")
_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def test_the_grafana_dashboard_asks_only_for_metrics_that_metrics_exposes(lab: Lab) -> None:
    bad = lab.timer("dash-bad", "OnActiveSec=0\nOnUnitActiveSec=1h", service="ExecStart=/bin/false")
    lab.write_registry(
        f"  {bad}: {{critical: true, max_runtime: 10m}}\n"
        f"checks:\n  dash-health: {{http: 'http://127.0.0.1:{lab.port}/health', every: 1s}}\n"
        "pings:\n  dash-push: {period: 1h}\n"
    )
    lab.env["MISSIONCTL_PING_KEY"] = "dash-key"
    lab.start_daemon()
    wait_until(lambda: lab.status_of(bad) == "failed", what="the failed item")
    urllib.request.urlopen(f"http://127.0.0.1:{lab.port}/ping/dash-key/dash-push", data=b"", timeout=5).close()
    exprs = dashboard_exprs()
    assert len(exprs) >= 10, exprs
    asked = {m.group(1) for expr in exprs for m in _METRIC.finditer(expr)}
    assert len(asked) >= 12, asked

    def unanswered() -> list[str]:
        text = _metrics(lab)
        families = {m.group(1) for m in re.finditer(r"^# TYPE (\S+) ", text, re.MULTILINE)}
        samples = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and line[0] != "#"}
        missing = []
        for name in sorted(asked):
            stems = (name[: -len(s)] for s in _SUFFIXES if name.endswith(s))
            family = next((stem for stem in stems if stem in families), name)
            if family not in families:
                missing.append(f"{name} (not exposed at all)")
            elif name not in samples:
                missing.append(f"{name} (no sample yet)")
        return missing

    # the ping and the first probe answers are in /metrics within seconds; a name never exposed stays missing
    try:
        wait_until(lambda: not unanswered(), timeout=15, what="every metric the dashboard asks for")
    except AssertionError:
        raise AssertionError(f"the dashboard asks for what /metrics does not give: {unanswered()}") from None
    # every panel has a title and a datasource that is the dashboard's variable, not a fixed uid
    doc = json.loads(DASHBOARD.read_text())
    for panel in doc["panels"]:
        assert panel.get("title"), panel
        if panel.get("type") != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
