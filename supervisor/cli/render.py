"""Human output for ``status`` and ``check``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from supervisor.core.budget import format_duration
from supervisor.core.times import parse

_COLUMNS = ("ITEM", "STATUS", "LAST TRIGGER", "NEXT", "AGE/BUDGET", "LAST RESULT", "RESTARTS")


def _when(iso: str | None, now: datetime) -> str:
    if not iso:
        return "-"
    moment = parse(iso)
    assert moment is not None
    delta = (moment - now).total_seconds()
    return f"in {format_duration(delta)}" if delta >= 0 else f"{format_duration(-delta)} ago"


def table(doc: dict[str, Any], now: datetime | None = None) -> str:
    """A fixed-width table of the items of a report, problems first."""
    now = now or datetime.now(UTC)
    rows: list[tuple[str, ...]] = []
    for item in sorted(doc["items"], key=lambda i: (i["status"] == "ok", i["name"])):
        if item["budget_s"] is not None:
            age = format_duration(item["age_s"]) if item["age_s"] is not None else "never"
            budget = f"{age}/{format_duration(item['budget_s'])} ({item['budget_source']})"
        else:
            budget = f"- ({item['budget_source']})" if item["budget_source"] else "-"
        result = item["last_result"] or "-"
        if item["last_exit_status"] not in (None, 0):
            result += f" ({item['last_exit_status']})"
        restarts = str(item["restarts_in_window"]) + (" ESCALATED" if item["escalated"] else "")
        name = item["name"] + (" *" if item["critical"] else "")
        status = item["status"] if item["status"] == "ok" else f"{item['status']}: {item['reason']}"
        if item.get("silenced_until"):
            status += f" [silenced, ends {_when(item['silenced_until'], now)}]"
        if item.get("running_since"):
            status += f" (running for {_when(item['running_since'], now).removesuffix(' ago')})"
        rows.append(
            (name, status, _when(item["last_trigger"], now), _when(item["next_elapse"], now), budget, result, restarts)
        )
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(_COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(_COLUMNS, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    ok = sum(1 for i in doc["items"] if i["status"] == "ok")
    lines.append(f"{ok}/{len(doc['items'])} OK   (* critical)")
    return "\n".join(lines)
