"""Hostile input: bad commands, forged clicks, markup in user text, and secrets in logs."""

from __future__ import annotations

import json
import logging

import pytest

from bot.domain.requests import RequestStatus
from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import (
    APPROVER,
    BOT_TOKEN,
    OUTSIDER,
    REQUESTER,
    SIGNING_SECRET,
    SOGET_KEY,
    SOGET_TOKEN,
    BotUnderTest,
)

ORDER = "CDE0000000020"

BAD_COMMANDS = [
    # Blank text opens the request form (tests/test_request_form_e2e.py), so it is not here.
    "0000000001CDE", "cde000000000x", "C D E0000000001", "CDE0000000001x", "xCDE0000000001",
    # wrong shapes of id
    "CDE", "CDE1", "CDE000000000", "CDE00000000001", "CDE000000000A", "CDE-0000000001",
    "CD0000000001", "CDEE0000000001", "XYZ0000000001", "0000000001", "1234567890123",
    "CDE 0000000001", "CDE_0000000001", "CDE0000000001.", "#CDE0000000001", "*CDE0000000001*",
    "`CDE0000000001`", "'CDE0000000001'", "\"CDE0000000001\"", "(CDE0000000001)",
    "TOC-02-03-2022", "CGMU2436601",
    # two ids, one of them bad (good ones are a bulk request: tests/test_bulk_e2e.py)
    "CDE0000000001 CDE123", "CDE0000000001,CDE00000000021", "CDE0000000001;0000000002",
    "CDE0000000001 , ABC0000000002", "CDE0000000001\nCDE000000000２",
    # injection attempts
    "CDE0000000001'; DROP TABLE requests;--", "' OR 1=1 --", "CDE0000000001/../../admin",
    "../../etc/passwd", "CDE0000000001?x=1", "CDE0000000001#frag", "%43DE0000000001",
    "$(reboot)", "`rm -rf /`", "{{7*7}}", "${jndi:ldap://x/a}", "<script>alert(1)</script>",
    # Slack markup where the id should be
    "<!channel>", "<!here>", "<!everyone>", "<@U0OUTSIDE1>", "<#C0CHANNEL1>",
    "<!subteam^S0APPROVER>",
    "<https://evil.example|CDE0000000001>", "https://evil.example/CDE0000000001",
    "@channel CDE0000000001", "mailto:a@b.c",
    # unicode tricks
    "CDE０００００００００１", "CDE٠٠٠٠٠٠٠٠٠١", "CDE००००००००० १", "ＣＤＥ0000000001",
    "CDE\u200b0000000001", "CDE0000000001\u202e", "\u202eCDE0000000001", "CDE0000000001\u2066x",
    "CDE\u00000000000001", "CDE0000000001\x1b[31m", "\ufeffCDE0000000001", "CDE0000000001\u0007",
    "CDE00000\u00ad00001", "СDE0000000001",  # a soft hyphen; a Cyrillic first letter
    # too long
    "C" * 1001, "CDE0000000001 " + "r" * 501, "CDE0000000001" * 100,
]  # fmt: skip


def test_the_corpus_is_big_and_distinct() -> None:
    assert len(set(BAD_COMMANDS)) == len(BAD_COMMANDS) >= 60


@pytest.mark.parametrize("text", BAD_COMMANDS)
async def test_every_bad_command_gets_only_a_private_reply(bot: BotUnderTest, text: str) -> None:
    bot.soget.add("CDE0000000001")
    before = len(bot.slack.requests)  # the approver-group warm-up at start

    response = await bot.command(text)

    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert reply["text"]
    assert "<!channel>" not in json.dumps(reply) and "<!here>" not in json.dumps(reply)
    assert await bot.runtime.store.with_status(*RequestStatus) == []
    # Bolt's own auth.test aside, the bot said nothing to Slack.
    assert [r.path for r in bot.slack.requests[before:] if r.path != "/api/auth.test"] == []
    assert bot.soget.requests == []


async def test_markup_in_the_reason_cannot_ping_or_link(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    reason = "<!channel> see <https://evil.example|MouvONE> & <@U0OUTSIDE1> *now*"

    await bot.command(f"{ORDER} {reason}")

    [post] = await bot.slack.wait_for_calls("chat.postMessage")
    shown = json.dumps(post.body["blocks"])
    for raw in ("<!channel>", "<https://evil.example", "<@U0OUTSIDE1>"):
        assert raw not in shown
    assert "&lt;!channel&gt;" in shown and "&amp;" in shown
    [stored] = await bot.runtime.store.history_of_order(ORDER)
    assert stored.reason == reason  # stored as typed, escaped only when shown


async def test_click_on_a_request_that_does_not_exist_changes_nothing(bot: BotUnderTest) -> None:
    body = payloads.block_action(
        ActionId.APPROVE,
        user=APPROVER,
        request_id="f" * 32,
        message_ts="1700000000.000001",
        response_url=bot.slack.response_url,
    )
    response = await bot.post_signed(body)

    assert response.status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert "does not exist" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])
    assert bot.soget.requests == []


async def test_tampered_button_value_from_another_message_changes_nothing(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    bot.soget.add("CDE0000000021")
    first = await bot.request_posted_for(ORDER)
    second = await bot.request_posted_for("CDE0000000021")
    assert first.message_ts != second.message_ts and second.message_ts is not None

    # A click on the second message whose value was edited to the first request's id.
    body = payloads.block_action(
        ActionId.APPROVE,
        user=APPROVER,
        request_id=first.id,
        message_ts=second.message_ts,
        response_url=bot.slack.response_url,
    )
    await bot.post_signed(body)

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert (await bot.request(first.id)).status is RequestStatus.PENDING
    assert (await bot.request(second.id)).status is RequestStatus.PENDING
    assert bot.soget.deletes() == []


async def test_forged_click_from_an_outsider_with_a_valid_signature_changes_nothing(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=OUTSIDER)
    await bot.submit_reject(request, user=OUTSIDER, reason="forged")

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(OUTSIDER)))
    assert (await bot.request(request.id)).status is RequestStatus.PENDING
    assert bot.soget.deletes() == []


async def test_no_secret_in_any_log_line_message_or_answer(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot.soget.add(ORDER)
    bot.soget.add("CDE0000000022", status="Submitted")

    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    refused = await bot.request_posted_for("CDE0000000022")
    await bot.click(ActionId.APPROVE, refused, user=APPROVER)
    await bot.wait_posted(refused.id)
    await bot.command("bad id")
    await bot.click(ActionId.APPROVE, refused, user=REQUESTER)

    secrets = (BOT_TOKEN, SIGNING_SECRET, SOGET_TOKEN, SOGET_KEY)
    logged = "\n".join(
        record.getMessage() + str(record.exc_info or "") for record in caplog.records
    )
    assert len(caplog.records) > 5  # the flow was logged at all
    sent_to_slack = "\n".join(r.raw for r in bot.slack.requests)
    for secret in secrets:
        assert secret not in logged
        assert secret not in sent_to_slack
        assert secret not in repr(bot.runtime.settings)
