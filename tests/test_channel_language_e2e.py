"""A French channel (CHANNEL_LANGUAGES=C…:fr) over signed HTTP, among people whose Slack speaks
English: the request message, its buttons and dialogs, its redraws and its thread replies are all
in French."""

from __future__ import annotations

import json
from typing import Any

from bot.i18n.catalogue import Language
from bot.i18n.texts import say
from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import APPROVER, REQUESTER, BotFactory, BotUnderTest
from tests.payloads import CHANNEL
from tests.test_i18n_public import ENGLISH

ORDER = "CDE0000000071"
APPROVALS = "C0APPROVALS"


def _seen(body: dict[str, Any]) -> str:
    """Every string a reader can see in a message as Slack received it."""
    blocks = body.get("blocks") or []
    found = [str(body.get("text") or "")]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.append(node)

    walk(json.loads(blocks) if isinstance(blocks, str) else blocks)
    return "\n".join(found)


def _assert_french(shown: str) -> None:
    assert sorted(sentence for sentence in ENGLISH if sentence in shown) == []


async def _french_bot(bot_with: BotFactory, **overrides: Any) -> BotUnderTest:
    bot = await bot_with(**({"channel_languages": f"{CHANNEL}:fr"} | overrides))
    bot.slack.locales[REQUESTER] = "en-GB"
    bot.slack.locales[APPROVER] = "en-US"
    return bot


async def test_request_approval_and_outcome_in_a_french_channel(bot_with: BotFactory) -> None:
    bot = await _french_bot(bot_with)
    bot.soget.add(ORDER)

    request = await bot.request_posted_for(ORDER)
    [post] = bot.slack.channel_posts()
    shown = _seen(post.body)
    for words in (
        f"Annuler la commande {ORDER} ?",
        "*Demandée par*",
        "En attente d'approbation par",
        "Approuver",
        "Refuser",
        "Retirer",
        "Annuler cette commande ?",
        "Oui, l'annuler",
        "*Statut*\nValid",  # the preview
        f"Demande d'annulation de la commande {ORDER}",  # the notification text
    ):
        assert words in shown, words
    _assert_french(shown)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id)

    assert done.status.value == "succeeded"
    redrawn = _seen(bot.slack.updates(request.message_ts)[-1].body)
    assert "*Annulée dans MouvONE* — approuvée par" in redrawn
    _assert_french(redrawn)
    [reply] = bot.slack.thread_replies(request.message_ts)
    replied = _seen(reply.body)
    assert f"La commande `{ORDER}` est annulée dans MouvONE." in replied
    assert f"Demandée par <@{REQUESTER}>, approuvée par <@{APPROVER}>." in replied
    _assert_french(replied)
    # Only the requester's direct messages asked for a user's own language.
    assert {call.body.get("user") for call in bot.slack.calls("users.info")} <= {REQUESTER}


async def test_rejection_in_a_french_channel(bot_with: BotFactory) -> None:
    bot = await _french_bot(bot_with)
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.submit_reject(request, user=APPROVER, reason="pas celle-ci")
    await bot.wait_until_replies(request, 1)
    await bot.wait_delivered(request.id)

    [reply] = bot.slack.thread_replies(request.message_ts)
    replied = _seen(reply.body)
    assert f"<@{APPROVER}> a refusé l'annulation de `{ORDER}`" in replied
    assert "pas celle-ci" in replied
    _assert_french(replied)
    redrawn = _seen(bot.slack.updates(request.message_ts)[-1].body)
    assert f"Refusée par <@{APPROVER}>" in redrawn and "pas celle-ci" in redrawn
    _assert_french(redrawn)


async def test_with_an_approval_channel_its_language_counts(bot_with: BotFactory) -> None:
    bot = await _french_bot(
        bot_with, approval_channel=APPROVALS, channel_languages=f"{APPROVALS}:fr,{CHANNEL}:en"
    )
    bot.soget.add(ORDER, forced_code="R0009")
    request = await bot.request_posted_for(ORDER)

    [post] = [p for p in bot.slack.channel_posts() if p.body["channel"] == APPROVALS]
    assert f"Annuler la commande {ORDER} ?" in _seen(post.body)
    assert request.message_ts is not None
    click = payloads.block_action(  # on the request message, in the approval channel
        ActionId.APPROVE,
        user=APPROVER,
        request_id=request.id,
        message_ts=request.message_ts,
        response_url=bot.slack.response_url,
        channel=APPROVALS,
    )
    assert (await bot.post_signed(click)).status_code == 200
    await bot.wait_posted(request.id)

    [reply] = bot.slack.thread_replies(request.message_ts)
    assert say("thread.not_cancelled", Language.FR, order=ORDER) in _seen(reply.body)


async def test_other_channels_keep_the_default_language(bot_with: BotFactory) -> None:
    bot = await bot_with(channel_languages="C0ELSEWHERE:fr")
    bot.slack.locales[REQUESTER] = "fr-FR"
    bot.soget.add(ORDER)

    await bot.request_posted_for(ORDER)

    [post] = bot.slack.channel_posts()
    assert f"Cancel order {ORDER}?" in _seen(post.body)
