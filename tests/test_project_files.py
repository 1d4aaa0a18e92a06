"""The Slack manifest and the code must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.ids import SLASH_COMMAND

ROOT = Path(__file__).resolve().parents[1]


def _manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_declares_the_registered_command() -> None:
    commands = [c["command"] for c in _manifest()["features"]["slash_commands"]]
    assert commands == [SLASH_COMMAND]


def test_manifest_asks_only_for_the_scopes_the_code_uses() -> None:
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").glob("*.py"))
    used_methods = set(re.findall(r"self\._client\.([a-z_]+)\(", code))
    needed = {"commands"}
    method_scopes = {
        "chat_postMessage": "chat:write",
        "chat_update": "chat:write",
        "chat_postEphemeral": "chat:write",
        "usergroups_users_list": "usergroups:read",
        "users_info": "users:read",
    }
    assert used_methods <= set(method_scopes), (
        f"map the scope of {used_methods - set(method_scopes)}"
    )
    needed |= {method_scopes[m] for m in used_methods}
    assert scopes == needed


def test_manifest_enables_interactivity_and_socket_mode() -> None:
    settings = _manifest()["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
