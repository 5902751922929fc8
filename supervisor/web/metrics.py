"""/metrics: a prometheus-client Collector over the published view (own registry, no globals)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from supervisor.core.health import Health
from supervisor.core.model import Status
from supervisor.core.probes import BUCKETS
from supervisor.core.times import parse
from supervisor.runtime.ports import ReadPort


def _ts(text: str | None) -> float | None:
    moment = parse(text)
    return moment.timestamp() if moment else None


class ViewCollector(Collector):
    """Every metric is computed from the view at scrape time; nothing touches D-Bus."""

    def __init__(self, backend: ReadPort) -> None:
        self.backend = backend

    def collect(self) -> Iterator[Metric]:
        view = self.backend.view
        if view is None:
            return
        up = GaugeMetricFamily(
            "missionctl_item_up", "1 when the item is ok (or paused), 0 otherwise", labels=["item", "kind", "critical"]
        )
        status = GaugeMetricFamily(
            "missionctl_item_status", "1 for the item's current status", labels=["item", "status"]
        )
        last = GaugeMetricFamily(
            "missionctl_timer_last_trigger_timestamp_seconds", "Last trigger (unix time)", labels=["item"]
        )
        nxt = GaugeMetricFamily(
            "missionctl_timer_next_elapse_timestamp_seconds", "Next elapse (unix time)", labels=["item"]
        )
        age = GaugeMetricFamily("missionctl_timer_age_seconds", "Seconds since the last trigger", labels=["item"])
        budget = GaugeMetricFamily("missionctl_timer_budget_seconds", "Staleness budget", labels=["item"])
        restarts = GaugeMetricFamily(
            "missionctl_item_restarts_in_window", "Restarts used in the window", labels=["item"]
        )
        escalated = GaugeMetricFamily(
            "missionctl_item_escalated", "1 when the restart budget is spent", labels=["item"]
        )
        exit_status = GaugeMetricFamily(
            "missionctl_timer_last_exit_status", "Exit status of the last run", labels=["item"]
        )
        duration = GaugeMetricFamily(
            "missionctl_timer_last_run_duration_seconds", "Duration of the last finished run", labels=["item"]
        )
        running = GaugeMetricFamily(
            "missionctl_timer_run_started_timestamp_seconds",
            "Start of the run in progress (unix time); absent when none runs",
            labels=["item"],
        )
        max_runtime = GaugeMetricFamily(
            "missionctl_timer_max_runtime_seconds", "How long a run may take before it is hung", labels=["item"]
        )
        silenced = GaugeMetricFamily(
            "missionctl_item_silenced",
            "1 while the item is silenced (a silence or a maintenance window): observed, not restarted nor alerted",
            labels=["item"],
        )
        for name, item in view.items.items():
            silenced.add_metric([name], 1.0 if item["silenced_until"] else 0.0)
            ok = not item["problem"]
            up.add_metric([name, item["kind"], str(item["critical"]).lower()], 1.0 if ok else 0.0)
            for s in Status:
                status.add_metric([name, s.value], 1.0 if item["status"] == s.value else 0.0)
            restarts.add_metric([name], item["restarts_in_window"])
            escalated.add_metric([name], 1.0 if item["escalated"] else 0.0)
            if item["kind"] not in ("timer", "ping"):  # a push heartbeat has runs and a schedule too
                continue
            for family, value in (
                (last, _ts(item["last_trigger"])),
                (nxt, _ts(item["next_elapse"])),
                (age, item["age_s"]),
                (budget, item["budget_s"]),
                (exit_status, item["last_exit_status"]),
                (duration, item["last_duration_s"]),
                (running, _ts(item["running_since"])),
                (max_runtime, item["max_runtime_s"]),
            ):
                if value is not None:
                    family.add_metric([name], float(value))
        yield from (up, status, last, nxt, age, budget, restarts, escalated, exit_status, duration)
        yield from (running, max_runtime, silenced)
        probes = HistogramMetricFamily(
            "missionctl_probe_duration_seconds", "Response time of probes that got an answer", labels=["item"]
        )
        for name, (counts, total) in sorted(self.backend.probe_histograms().items()):
            cumulative, buckets = 0, []
            for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), float(cumulative)))
            probes.add_metric([name], buckets, total)
        yield probes
        health = GaugeMetricFamily(
            "missionctl_health", "1 for the host's overall health (the status of /health)", labels=["status"]
        )
        for h in Health:
            health.add_metric([h.value], 1.0 if view.status == h.value else 0.0)
        yield health
        sup = view.supervisor
        yield GaugeMetricFamily(
            "missionctl_alerts_pending", "Alerts waiting for delivery", value=sup.get("outbox_pending", 0)
        )
        yield GaugeMetricFamily("missionctl_alerts_dead", "Alerts dead-lettered", value=sup.get("outbox_dead", 0))
        yield GaugeMetricFamily(
            "missionctl_snapshot_age_seconds",
            "Age of the served snapshot",
            value=(datetime.now(UTC) - view.generated_at).total_seconds(),
        )
        yield GaugeMetricFamily("missionctl_loop_lag_seconds", "Event loop lag", value=sup.get("loop_lag_s", 0.0))
        yield GaugeMetricFamily(
            "missionctl_dbus_connected",
            "1 while connected to systemd",
            value=1.0 if sup.get("dbus") == "connected" else 0.0,
        )
        calls = CounterMetricFamily("missionctl_dbus_calls", "D-Bus calls made by the supervisor")
        calls.add_metric([], float(sup.get("dbus_calls", 0)))
        yield calls
        pings = CounterMetricFamily("missionctl_pings_received", "Push heartbeats accepted", labels=["kind"])
        for kind, count in sorted((sup.get("pings_received") or {}).items()):
            pings.add_metric([kind], float(count))
        yield pings


def registry_for(backend: ReadPort) -> CollectorRegistry:
    """A fresh registry holding only this app's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ViewCollector(backend))
    return registry
