"""The daemon's alert side: outbox, channels and their delivery workers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from supervisor.adapters.outbox import Outbox
from supervisor.config.registry import Registry
from supervisor.core.alerts import Alert
from supervisor.notifiers.build import Channels, build_channels
from supervisor.runtime.delivery import Delivery

log = structlog.get_logger("missionctl.alerts")


class AlertService:
    """Queues alerts durably and keeps one delivery worker per channel running."""

    def __init__(self, outbox_path: Path) -> None:
        self.outbox = Outbox(outbox_path)
        self.channels: Channels | None = None
        self.delivery: Delivery | None = None

    @property
    def redact(self) -> Callable[[str], str] | None:
        """What scrubs every known secret from a text (None while no channel is built)."""
        return self.channels.redact if self.channels is not None else None

    def start(self, registry: Registry) -> None:
        """Build the channels of ``registry`` and start delivering (pending messages first)."""
        self.channels = build_channels(registry)
        for name, notifier in self.channels.notifiers.items():
            why = getattr(notifier, "why", None)
            if why:
                log.error("alert_channel_unavailable", channel=name, error=why)
        self.delivery = Delivery(self.outbox, self.channels)
        self.delivery.start()

    async def stop(self) -> None:
        """Stop the workers; what is in flight stays pending."""
        if self.delivery is not None:
            await self.delivery.stop()
            self.delivery = None
        if self.channels is not None:
            await self.channels.close()
            self.channels = None

    async def restart(self, registry: Registry) -> None:
        """New channel configuration (SIGHUP)."""
        await self.stop()
        self.start(registry)

    async def queue(self, alerts: list[Alert]) -> None:
        """Write alerts to the outbox (before the state that caused them is saved)."""
        assert self.channels is not None
        channels = self.channels
        rows = [(a.id, target, a.payload()) for a in alerts for target in channels.targets(a)]
        if rows:
            await asyncio.to_thread(self.outbox.enqueue, rows, time.time())
        for a in alerts:
            log.info(
                "alert",
                alert_id=a.id,
                alert_event=a.event.value,
                item=a.item,
                status=a.status,
                reason=a.reason,
                channels=channels.targets(a),
            )

    def wake(self) -> None:
        """New rows are waiting."""
        if self.delivery is not None:
            self.delivery.wake()

    def close(self) -> None:
        """Close the outbox."""
        self.outbox.close()
