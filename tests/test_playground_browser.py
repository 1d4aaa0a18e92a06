"""The playground in a real browser: headless Chromium (Debian's `chromium`, driven by
Playwright) runs the core flow by clicks against the real bot behind the Slack stand-in, and
what the page renders is checked. scripts/test.sh installs chromium where it can; elsewhere
this skips with one line, never under CI=true."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from bot.playground.browser import CHROMIUM, ORDER, SECOND_ORDER, run_core_flow
from bot.playground.page import APPROVER, OUTSIDER, REQUESTER, Playground
from bot.playground.run import running_playground
from bot.playground.slack import Message


def _browser_missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (scripts/test.sh installs Debian's chromium as root)"
    return None


@pytest.fixture
def browser_available() -> None:
    missing = _browser_missing()
    if missing is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the browser test: {missing}")
    pytest.skip(f"no browser: {missing}")


@pytest.mark.usefixtures("browser_available")
async def test_the_core_flow_by_clicks_in_chromium(tmp_path: Path) -> None:
    shot = tmp_path / "playground.png"
    async with running_playground() as slack:
        seen = await run_core_flow(slack.url + "/", screenshot=shot)
        posted = _channel_posts(slack)

    # The requester's command became the approval request, rendered from its Block Kit.
    assert f"Cancel order {ORDER}?" in seen.request_message
    assert "Rosa Martin" in seen.request_message  # <@U…> rendered as the user's name
    assert "<@" not in seen.request_message and "*Order*" not in seen.request_message
    assert "Approve" in seen.request_message and "Reject" in seen.request_message
    # Approve asks for confirmation first (the button's confirm object).
    assert ORDER in seen.confirm_dialog
    # The outsider's click was refused privately: only they saw the answer.
    assert "Only the approvers named for this bot" in seen.outsider_reply
    assert "Only visible to you" in seen.outsider_reply
    assert seen.outsider_sees_refusal_only_to_them
    # Approver 1 approved and confirmed: the outcome is in the thread, the message redrawn.
    assert f"Order {ORDER} is cancelled in MouvONE." in seen.thread
    assert "approved by" in seen.thread and APPROVER.name in seen.thread
    assert "Cancelled in MouvONE" in seen.redrawn_message
    assert "Approve" not in seen.redrawn_message
    # One request message, one outcome reply; the outsider's click changed nothing. (The
    # screenshot's second request, still waiting, is the other channel post.)
    assert [SECOND_ORDER in m.text for m in posted] == [False, True]
    replies = [m for m in slack.messages if m.thread_ts == posted[0].ts]
    assert len(replies) == 1
    refusals = [m for m in slack.messages if m.ephemeral_for is not None]
    assert {m.ephemeral_for for m in refusals} == {OUTSIDER.id}
    assert REQUESTER.id not in {m.ephemeral_for for m in refusals}
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _channel_posts(slack: Playground) -> list[Message]:
    return [
        m
        for m in slack.messages
        if m.ephemeral_for is None and m.thread_ts is None and m.channel.startswith("C")
    ]
