"""What the next decision step looks at, and when: the daemon's attention, without I/O.

systemd's signals mark items *dirty* (read them again); a reshape (units come and go,
a daemon-reload) or the periodic resync asks for a *full* sweep; problems not yet
confirmed are *rechecked* a moment after they were seen; every item is *decided*
again at least every WHOLE_EVERY_S. The loop's clock (``loop_time``) and the wall
clock (``now``) are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from supervisor.adapters.systemd.signals import SignalEvent, UnitChanged, UnitsReshaped
from supervisor.config.registry import Registry
from supervisor.core.alerts import RECHECK_S
from supervisor.runtime.observe import Snapshot

RESHAPE_MIN_GAP_S = 5.0  # at most one full sweep this often, however many units come and go
WHOLE_EVERY_S = 1.0  # a step for signals, pings or probe results decides only their items, this long at most


class Focus:
    """Which items the next step reads and decides, and the moments that wake the loop."""

    def __init__(self) -> None:
        self.full = True  # the next look is a full sweep
        self.full_at = 0.0  # loop time of the last full sweep (0: none yet)
        self.next_full_at = 0.0
        self.dirty: set[str] = set()  # systemd said these changed
        self.unmapped: set[str] = set()  # units said changed before a first snapshot could map them to items
        self.recheck: set[str] = set()  # unconfirmed problems, read again at recheck_at
        self.recheck_at: float | None = None
        self.observed: set[str] | None = None  # what the last look read (None: everything)
        self.whole_at: datetime | None = None  # the last step that decided every item
        self.changed = False  # an operator's change: the next step decides every item
        self.deadline: datetime | None = None  # the next moment the core asked to be woken at
        self.forget = False  # the manager reloaded: the next look reads every timer and run afresh

    # looking -------------------------------------------------------------------------

    def sweeping(self) -> None:
        """A full sweep begins: it reads everything (what signals say during it is read again after)."""
        self.full, self.dirty, self.observed = False, set(), None
        self.recheck, self.recheck_at = set(), None

    def swept(self, loop_time: float, resync_every: float, snapshot: Snapshot) -> bool:
        """The full sweep was read at ``loop_time``: the next one is due after ``resync_every``.

        Units said changed while there was no snapshot yet (during the first sweep, which
        may have read them before the change) are now items to read again: whether any are.
        """
        self.full_at = loop_time
        self.next_full_at = loop_time + resync_every
        for unit in self.unmapped:
            self.dirty |= snapshot.items_for(unit)
        self.unmapped = set()
        return bool(self.dirty)

    def take_forget(self) -> bool:
        """Whether this look must read every timer and run afresh (the manager reloaded since the last)."""
        forget, self.forget = self.forget, False
        return forget

    def to_read(self, now: datetime, loop_time: float) -> set[str]:
        """The items to read again in this step (taken: they are clean afterwards).

        Unconfirmed problems are read again when a deadline comes (a settle delay ends: the
        step that may announce them needs a fresh look) or RECHECK_S after they were seen.
        """
        due = self.deadline is not None and now >= self.deadline
        if self.recheck_at is not None and (due or loop_time >= self.recheck_at):
            self.dirty |= self.recheck
            self.recheck, self.recheck_at = set(), None
        names, self.dirty = self.dirty, set()
        self.observed = names
        return names

    def on_signals(
        self, events: Iterable[SignalEvent], snapshot: Snapshot | None, registry: Registry, loop_time: float
    ) -> bool:
        """Fold systemd's signals in; whether the loop should wake for them.

        It wakes for items to read, and when a full sweep became due sooner than the
        loop planned its sleep: the sleep is planned again.
        """
        planned = self.next_full_at
        for event in events:
            if isinstance(event, UnitChanged):
                if snapshot is not None:
                    self.dirty |= snapshot.items_for(event.unit)
                else:
                    self.unmapped.add(event.unit)  # mapped once the first sweep is in (``swept``)
            elif isinstance(event, UnitsReshaped) and reshape_matters(event, snapshot, registry):
                self.forget = self.forget or event.unit is None
                self.next_full_at = min(self.next_full_at, max(loop_time, self.full_at + RESHAPE_MIN_GAP_S))
        return bool(self.dirty) or self.next_full_at < planned or self.next_full_at <= loop_time

    def full_due(self, loop_time: float) -> bool:
        """Whether the periodic resync (or a reshape's) is due; marks the next look full when it is."""
        if loop_time >= self.next_full_at:
            self.full = True
        return self.full

    # deciding ------------------------------------------------------------------------

    def scope(self, arrived: set[str], now: datetime, has_view: bool) -> set[str] | None:
        """The items to decide in a step woken by signals, pings or probe results; None: every item.

        Those re-read and those that sent something are decided (with what depends on them);
        every other item is carried as the last step assessed it. Every item is decided again
        at least every WHOLE_EVERY_S, after a full sweep, when a deadline came or an operator
        changed something, and when nothing arrived (a revalidation: ages move).
        """
        if self.observed is not None:  # what arrived counts as looked at, towards confirm
            self.observed = self.observed | arrived
        if self.observed is None or not has_view or self.changed:
            self.changed = False
            return None
        if not self.observed:
            return None
        if self.whole_at is None or now - self.whole_at >= timedelta(seconds=WHOLE_EVERY_S):
            return None
        if self.deadline is not None and now >= self.deadline:
            return None
        return self.observed

    def decided(
        self,
        now: datetime,
        only: set[str] | None,
        wakeup: datetime | None,
        unconfirmed: Iterable[str],
        loop_time: float,
    ) -> None:
        """A step decided ``only`` (None: every item); the core asked to be woken at ``wakeup``."""
        if only is None:
            self.whole_at = now
        elif self.deadline is not None and self.deadline > now:
            wakeup = min(wakeup, self.deadline) if wakeup else self.deadline  # the other items' moments
        self.deadline = wakeup
        # problems not yet confirmed are looked at again RECHECK_S later (the deadline wakes the loop
        # then), not at every step: a busy host's steps would re-read them all each time
        self.recheck |= set(unconfirmed)
        if self.recheck and self.recheck_at is None:
            self.recheck_at = loop_time + RECHECK_S

    def wait_s(self, now: datetime, loop_time: float, heartbeat_s: float) -> float:
        """How long the loop may sleep when nothing wakes it."""
        waits = [heartbeat_s, self.next_full_at - loop_time]
        if self.deadline is not None:
            waits.append((self.deadline - now).total_seconds() + 0.001)
        return max(0.0, min(waits))


def reshape_matters(event: UnitsReshaped, snapshot: Snapshot | None, registry: Registry) -> bool:
    """Whether units coming or going can change what is supervised."""
    if event.unit is None:
        return True
    if snapshot is not None and event.unit in snapshot.policies:
        return True
    return registry.discover and event.unit.endswith(".timer") and not registry.ignored(event.unit)
