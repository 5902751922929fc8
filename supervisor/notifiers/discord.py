"""Discord webhooks: one embed per alert, coloured by severity."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from supervisor.notifiers.http import post_json
from supervisor.notifiers.render import discord_embed


class DiscordNotifier:
    """Posts to a Discord webhook URL (a secret: never logged)."""

    name = "discord"

    def __init__(self, url: str, username: str, public_url: str | None, session: aiohttp.ClientSession) -> None:
        self._url = url
        self._username = username
        self._public_url = public_url
        self._session = session

    def __repr__(self) -> str:
        return "DiscordNotifier(url=***)"

    async def send(self, payload: dict[str, Any], delivery_id: str) -> None:
        """Deliver one alert as an embed."""
        body = {"username": self._username, "embeds": [discord_embed(payload, self._public_url)]}
        # wait=true makes Discord answer only once the message exists
        url = self._url + ("&" if "?" in self._url else "?") + "wait=true"
        await post_json(self._session, url, json.dumps(body).encode(), {"User-Agent": "missionctl"}, "discord")
