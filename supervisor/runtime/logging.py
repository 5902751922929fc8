"""structlog set up for a daemon (one JSON event per line on stderr: journald keeps it), and its transition events."""

from __future__ import annotations

import logging
import sys

import structlog

from supervisor.core.state import Transition

log = structlog.get_logger("missionctl")


def configure(level: str = "info", json: bool = True) -> None:
    """Configure structlog; events are JSON with ISO UTC timestamps."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def log_transition(t: Transition) -> None:
    """One event per status change: a warning into a problem, info otherwise."""
    fields = {
        "item": t.item,
        "from": t.old.value if t.old else "unknown",
        "to": t.new.value,
        "reason": t.reason,
        "at": t.at.isoformat(),
        "initial": t.initial,
    }
    if t.new.is_problem:
        log.warning("transition", **fields)
    else:
        log.info("transition", **fields)
