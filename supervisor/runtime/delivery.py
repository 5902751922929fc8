"""Delivery workers: one per channel, strictly in order, retrying until delivered or dead.

Backoff is exponential with jitter, 1 s doubling to a 5 min cap; a 429's
``retry_after`` is honoured; permanent failures dead-letter at once. Every
outcome is written to the outbox right after it happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

import structlog

from supervisor.adapters.outbox import Message, Outbox
from supervisor.notifiers.base import TransportError
from supervisor.notifiers.build import Channels

log = structlog.get_logger("missionctl.alerts")

BACKOFF_START_S = 1.0
BACKOFF_CAP_S = 300.0


def backoff_s(attempts: int, rand: Callable[[], float] = random.random) -> float:
    """Delay before attempt ``attempts + 1``: 1, 2, 4, ... 300 s, each jittered down to half."""
    base: float = min(BACKOFF_CAP_S, BACKOFF_START_S * 2.0 ** max(0, attempts - 1))
    return base * (0.5 + rand() / 2)


class Delivery:
    """Runs a worker task per configured channel."""

    def __init__(self, outbox: Outbox, channels: Channels) -> None:
        self.outbox = outbox
        self.channels = channels
        self._events = {name: asyncio.Event() for name in channels.notifiers}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the workers (pending messages from before a restart go first)."""
        for name in self.channels.notifiers:
            self._tasks.append(asyncio.create_task(self._worker(name), name=f"deliver:{name}"))

    def wake(self) -> None:
        """New messages were queued."""
        for event in self._events.values():
            event.set()

    async def stop(self) -> None:
        """Cancel the workers; a message in flight stays pending and is re-sent later."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _worker(self, channel: str) -> None:
        event = self._events[channel]
        while True:
            msg = await asyncio.to_thread(self.outbox.head, channel)
            if msg is None:
                await event.wait()
                event.clear()
                continue
            delay = msg.next_attempt_at - time.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), delay)
                event.clear()
                continue
            await self._attempt(channel, msg)

    async def _attempt(self, channel: str, msg: Message) -> None:
        notifier = self.channels.notifiers[channel]
        fields = {"channel": channel, "alert_id": msg.alert_id, "alert_event": msg.event, "item": msg.item}
        try:
            await notifier.send(msg.payload, msg.alert_id)
        except TransportError as exc:
            error = self.channels.redact(str(exc))
            attempts = msg.attempts + 1
            if exc.permanent or (exc.give_up_after is not None and attempts >= exc.give_up_after):
                await asyncio.to_thread(self.outbox.mark_dead, msg.seq, error)
                log.error("alert_dead_lettered", attempts=attempts, error=error, **fields)
                return
            wait = exc.retry_after if exc.retry_after is not None else backoff_s(attempts)
            await asyncio.to_thread(self.outbox.mark_retry, msg.seq, error, time.time() + wait)
            log.warning("alert_retry", attempts=attempts, retry_in_s=round(wait, 2), error=error, **fields)
        except Exception as exc:  # noqa: BLE001 - a bug in a channel must not stop delivery
            error = self.channels.redact(f"{type(exc).__name__}: {exc}")
            wait = backoff_s(msg.attempts + 1)
            await asyncio.to_thread(self.outbox.mark_retry, msg.seq, error, time.time() + wait)
            log.error("alert_send_crashed", error=error, **fields)
        else:
            await asyncio.to_thread(self.outbox.mark_sent, msg.seq, time.time())
            log.info("alert_sent", attempts=msg.attempts + 1, **fields)
