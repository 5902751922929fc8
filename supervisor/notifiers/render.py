"""How alerts read: email subject/body and Discord embeds."""

from __future__ import annotations

from typing import Any

from supervisor.core.budget import format_duration

COLOURS = {
    "down": 0xE74C3C,
    "recovered": 0x2ECC71,
    "escalated": 0xE67E22,
    "changed": 0xF1C40F,
    "anomaly": 0x9B59B6,
    "summary": 0x3498DB,
}
WORDS = {"down": "DOWN", "recovered": "RECOVERED", "changed": "CHANGED", "escalated": "ESCALATED", "anomaly": "ANOMALY"}
DISCORD_FIELD_MAX = 1024  # Discord's limit for one embed field's value


def headline(p: dict[str, Any]) -> str:
    """``DOWN nightly-pipeline.timer on HOST: stale 52h > 25h``."""
    if p["event"] == "summary":
        return f"SUMMARY on {p['host']}: {p['reason']}"
    word = WORDS[p["event"]]
    if p.get("reminder"):
        word = "STILL DOWN"
    text = p["reason"] if p["event"] != "recovered" else f"{p['previous_status']} -> ok"
    return f"{word} {p['item']} on {p['host']}: {text}"


def subject(p: dict[str, Any]) -> str:
    """The email subject."""
    return f"[missionctl] {headline(p)}"


def facts(p: dict[str, Any], public_url: str | None) -> list[tuple[str, str]]:
    """Label/value lines shared by email and Discord."""
    if p["event"] == "summary":
        d = p["details"]
        lines = [("Items", f"{d['ok']}/{d['total']} OK")]
        lines += [(x["item"], f"{x['status']}: {x['reason']}") for x in d["problems"]]
        if public_url:
            lines.append(("Dashboard", public_url))
        return lines
    d = p.get("details") or {}
    result = d.get("last_result") or "-"
    if d.get("last_exit_status") not in (None, 0):
        result += f" (exit status {d['last_exit_status']})"
    last_run = d.get("last_run") or {}
    if last_run.get("trigger"):
        result += f", {last_run['trigger']} run"
        if last_run.get("duration_s") is not None:
            result += f" of {format_duration(last_run['duration_s'])}"
    lines = [
        ("Item", f"{p['item']} ({p['kind']}{', critical' if p['critical'] else ''})"),
        ("Status", f"{p['status']} (was {p['previous_status'] or 'unknown'})"),
        ("Reason", p["reason"]),
        ("Since", p.get("since") or "-"),
        ("Last run", result),
        ("Restarts used", str(d.get("restarts_in_window", 0))),
        ("Host", p["host"]),
    ]
    if d.get("budget_s") is not None:
        age = d.get("age_s")
        lines.insert(
            4,
            (
                "Age / budget",
                f"{format_duration(age) if age is not None else 'never'} / "
                f"{format_duration(d['budget_s'])} ({d.get('budget_source')})",
            ),
        )
    if p["event"] == "escalated":
        lines.insert(0, ("ESCALATED", "restart budget spent; a human is needed"))
    if d.get("running_since"):
        lines.append(("Running since", d["running_since"]))
    if d.get("blocks"):  # the root cause of an outage: what it holds up is not alerted on its own
        lines.append(("Blocks", ", ".join(d["blocks"])))
    if public_url:
        lines.append(("Dashboard", f"{public_url.rstrip('/')}/#item={p['item']}"))
    return lines


def email_body(p: dict[str, Any], public_url: str | None) -> str:
    """A plain-text email body."""
    lines = [headline(p), ""]
    width = max(len(k) for k, _ in facts(p, public_url))
    lines += [f"{k.ljust(width)}  {v}" for k, v in facts(p, public_url)]
    if p.get("output") is not None:
        lines += ["", "Output of the run (last lines of its journal):", ""]
        lines += ["    " + line for line in str(p["output"]).splitlines() or ["(nothing)"]]
    lines += ["", f"Alert {p['id']} at {p['at']}", "-- missionctl"]
    return "\n".join(lines) + "\n"


def discord_embed(p: dict[str, Any], public_url: str | None) -> dict[str, Any]:
    """A Discord embed coloured by severity."""
    rows = facts(p, public_url)
    fields = [{"name": k[:256], "value": (v or "-")[:1024], "inline": len(v) < 40} for k, v in rows[:24]]
    if p.get("output") is not None:
        fields.append({"name": "Output", "value": code_block(str(p["output"]), DISCORD_FIELD_MAX), "inline": False})
    embed: dict[str, Any] = {
        "title": headline(p)[:256],
        "color": COLOURS[p["event"]],
        "timestamp": p["at"],
        "fields": fields,
        "footer": {"text": f"missionctl · {p['id']}"},
    }
    if public_url:
        embed["url"] = public_url
    return embed


def code_block(text: str, limit: int) -> str:
    """``text`` in a Markdown code block of at most ``limit`` characters, keeping its last lines."""
    fence = "`" * 3
    room = limit - 2 * len(fence) - 2
    body = text.replace(fence, "'" * 3) or "(nothing)"
    if len(body) > room:
        body = "…" + body[-(room - 1) :]
    return f"{fence}\n{body}\n{fence}"
