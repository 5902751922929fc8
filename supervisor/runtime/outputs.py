"""Reading the journal excerpts a decision asked for: off the event loop, bounded in time, scrubbed."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

import structlog

from supervisor.adapters.journal import read_excerpt
from supervisor.core.output import OutputWanted

log = structlog.get_logger("missionctl")

OUTPUT_TIMEOUT_S = 5.0  # a journal read that takes longer is given up (the alert goes out without it)


async def read_outputs(wanted: list[OutputWanted], redact: Callable[[str], str] | None) -> dict[str, str]:
    """Run id -> the excerpt (or why there is none), with every known secret replaced by ``***``."""

    async def one(w: OutputWanted) -> tuple[str, str]:
        read = functools.partial(read_excerpt, w.unit, w.run_id, w.started_at, w.finished_at, w.lines)
        try:
            text = (await asyncio.wait_for(asyncio.to_thread(read), OUTPUT_TIMEOUT_S)).render()
        except TimeoutError:
            text = f"output unavailable: the journal did not answer within {OUTPUT_TIMEOUT_S:g}s"
        return w.run_id, redact(text) if redact else text

    found = dict(await asyncio.gather(*(one(w) for w in wanted)))
    for w in wanted:
        log.info("run_output", item=w.item, run=w.run_id, lines=found[w.run_id].count("\n") + 1)
    return found
