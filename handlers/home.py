"""The App Home tab: published each time a user opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    async def handle_app_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") == "home" and event.get("user"):
            await deps.ops.home.opened(str(event["user"]))

    app.event("app_home_opened")(handle_app_home_opened)
