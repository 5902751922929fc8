"""Carrying out the core's actions: restart or stop a unit over D-Bus, log an escalation.

Called only after the state that decided them is saved (``step``). A lost connection is
the link's to handle (it reconnects and the next look resyncs); systemd refusing a job
is logged, and the core sees the unit as it is at the next look.
"""

from __future__ import annotations

import structlog

from supervisor.adapters.systemd.connection import ConnectionLost, SystemdError
from supervisor.core.decide import Action, Escalate, Restart
from supervisor.runtime.link import SystemdLink
from supervisor.runtime.prober import Prober

log = structlog.get_logger("missionctl")


class Acting:
    """The daemon's hands: the link's worker for jobs, the prober to look again soon after a restart."""

    def __init__(self, link: SystemdLink, prober: Prober) -> None:
        self.link = link
        self.prober = prober

    async def act(self, action: Action) -> None:
        """Do one action (each is independent: one failing does not stop the next)."""
        if isinstance(action, Escalate):
            log.error("escalated", item=action.item, reason=action.reason, at=action.at.isoformat())
            return
        unit, verb = action.unit, "restart" if isinstance(action, Restart) else "stop"
        log.warning(verb, unit=unit, item=action.item, attempt=action.attempt)
        try:
            if isinstance(action, Restart):
                await self.link.worker.run(lambda c: c.restart_unit(unit))
                self.prober.soon(action.item)  # see it come back as early as it can
            else:
                await self.link.worker.run(lambda c: c.stop_unit(unit))
        except ConnectionLost as exc:
            self.link.lost(str(exc))
        except SystemdError as exc:
            log.error(f"{verb}_failed", unit=unit, error=str(exc))
