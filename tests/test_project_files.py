"""The Slack manifest and the code must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.slack.ids import SLASH_COMMAND

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
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot").rglob("*.py"))
    used_methods = set(re.findall(r"self\._client\.([a-z_]+)\(", code))
    needed = {"commands"}
    method_scopes: dict[str, str | frozenset[str] | None] = {
        "chat_postMessage": "chat:write",  # also direct messages, posted to a user id
        "chat_update": "chat:write",
        "chat_postEphemeral": "chat:write",
        "chat_getPermalink": None,  # no scope required
        "views_publish": None,  # no scope required (App Home)
        "usergroups_users_list": "usergroups:read",
        "users_info": "users:read",
        # The outbox's look-up of a message that may have been posted already: a thread in a
        # public or private channel, the bot's DM channel (opened by conversations.open).
        "conversations_replies": frozenset({"channels:history", "groups:history"}),
        "conversations_history": frozenset({"channels:history", "groups:history", "im:history"}),
        "conversations_open": "im:write",
    }
    assert used_methods <= set(method_scopes), (
        f"map the scope of {used_methods - set(method_scopes)}"
    )
    for method in used_methods:
        scope = method_scopes[method]
        needed |= {scope} if isinstance(scope, str) else set(scope or ())
    assert scopes == needed


def test_manifest_subscribes_to_the_events_the_code_handles() -> None:
    manifest = _manifest()
    handled = set(
        re.findall(
            r"app\.event\(\"([a-z_]+)\"\)",
            "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "handlers").glob("*.py")),
        )
    )
    assert handled == {"app_home_opened"}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == handled
    app_home = manifest["features"]["app_home"]
    assert app_home["home_tab_enabled"] is True
    assert app_home["messages_tab_enabled"] is True  # direct messages to requesters


def test_manifest_enables_interactivity_and_socket_mode() -> None:
    settings = _manifest()["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True


def test_readme_documents_every_setting_and_the_sandbox_orders() -> None:
    from bot.config import Settings
    from bot.soget.sandbox import SANDBOX_ORDERS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`{name.upper()}`" in readme, name
    for example in SANDBOX_ORDERS:
        assert f"| `{example.order_id}` | {example.what_happens} |" in readme


def test_docker_image_is_multi_stage_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) == 2
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    [healthcheck] = re.findall(r"^HEALTHCHECK .*(?:\n .*)*", dockerfile, re.MULTILINE)
    assert "/healthz" in healthcheck and "PORT" in healthcheck
    assert 'VOLUME ["/app/data"]' in dockerfile


def _docker_instruction(dockerfile: str, name: str) -> list[str]:
    """The exec-form arguments of the last ENTRYPOINT or CMD (JSON array), [] if none."""
    import json

    found = re.findall(rf"^{name} (\[.*\])\s*$", dockerfile, re.MULTILINE)
    return list(json.loads(found[-1])) if found else []


def test_the_image_runs_in_the_mode_the_manifest_enables() -> None:
    """manifest.yml enables Socket Mode: the image's default command must pick the mode as
    ./scripts/run.sh does (Socket Mode when SLACK_APP_TOKEN is set), never force HTTP."""
    from bot.__main__ import parse_args

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    entrypoint = _docker_instruction(dockerfile, "ENTRYPOINT")
    assert entrypoint[:1] == ["cancel-order-bot"]
    default_args = [*entrypoint[1:], *_docker_instruction(dockerfile, "CMD")]
    args = parse_args(default_args)
    socket_mode = _manifest()["settings"]["socket_mode_enabled"]
    assert args.command == "run" and not args.sandbox and not args.playground
    assert args.http is (not socket_mode)
    # run.sh adds no mode of its own either: the two decide alike.
    run_sh = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert re.search(r'^exec \.venv/bin/cancel-order-bot "\$@"$', run_sh, re.MULTILINE)


def test_the_playground_page_is_packaged() -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot.playground"]
    package = ROOT / "bot" / "playground"
    packaged = {path for pattern in patterns for path in package.glob(pattern)}
    assert {p for p in package.joinpath("static").iterdir()} <= packaged
    assert {p.name for p in packaged} >= {"index.html", "playground.js", "playground.css"}


def test_every_phrase_file_is_packaged() -> None:
    """The phrase files are code: an install that leaves one out stops the bot at start."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot.i18n"]
    package = ROOT / "bot" / "i18n"
    packaged = {path for pattern in patterns for path in package.glob(pattern)}
    assert set(package.joinpath("data").glob("*.toml")) <= packaged
    assert packaged


def test_env_example_names_every_setting() -> None:
    """A newcomer copies .env.example: every setting is there, set or commented out."""
    from bot.config import Settings

    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    expected = {name.upper() for name in Settings.model_fields}
    assert sorted(expected - named) == []
    assert sorted(named - expected) == []


def test_the_build_context_leaves_out_caches_secrets_and_the_venv() -> None:
    """`docker build` sends the context before it reads the Dockerfile: a 15 MB .mypy_cache or a
    .env with live tokens must never travel with it."""
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".git", ".venv", ".env", ".mypy_cache", ".ruff_cache", ".pytest_cache"):
        assert needed in ignored, needed
    assert "**/__pycache__" in ignored
    # The phrase files ship in the package: only the top-level data/ folder is left out.
    assert not any(pattern.startswith(("bot", "**/data")) for pattern in ignored)
