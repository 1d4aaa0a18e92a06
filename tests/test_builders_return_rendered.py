"""Every message builder returns one type, `Rendered` (modals stay Slack's `View`)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any, get_type_hints

from slack_sdk.models.views import View

import bot.slack.messages
from bot.slack.messages.mrkdwn import Rendered


def public_builders() -> list[tuple[str, Callable[..., Any]]]:
    """(module.name, function) for every public `build_*` function defined in the package."""
    found: list[tuple[str, Callable[..., Any]]] = []
    for info in pkgutil.iter_modules(bot.slack.messages.__path__):
        module = importlib.import_module(f"bot.slack.messages.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("build_") and function.__module__ == module.__name__:
                found.append((f"{info.name}.{name}", function))
    return found


def test_every_message_builder_returns_rendered() -> None:
    builders = public_builders()
    assert len(builders) >= 15, builders  # the walk found the package's builders
    wrong = {}
    for name, function in builders:
        returned = get_type_hints(function).get("return")
        if returned is not Rendered and returned is not View:
            wrong[name] = returned
    assert wrong == {}
