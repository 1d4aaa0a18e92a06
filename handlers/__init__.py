"""Slack listeners, one module per surface. Each exposes `register(app, deps)`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from handlers import actions, choice, commands, errors, home, middleware, views


def register_all(app: AsyncApp, deps: Deps) -> None:
    middleware.register(app, deps)
    commands.register(app, deps)
    actions.register(app, deps)
    views.register(app, deps)
    choice.register(app, deps)
    home.register(app, deps)
    errors.register(app, deps)
