"""Private surfaces over signed HTTP, in the reader's Slack language (users.info locale): a refusal
after a click, the usage reply, the App Home, the reject modal and a direct message.

Answers that are the ack itself (and the modal, whose trigger expires in 3 s) never wait on
Slack: they use the language only once a look-up has found it, the default before.
"""

from __future__ import annotations

import re

import pytest

from bot.i18n.catalogue import Language
from bot.i18n.texts import TEXTS
from bot.slack.ids import ActionId
from tests.conftest import APPROVER, OUTSIDER, REQUESTER, BotUnderTest
from tests.ops_helpers import open_home, shown

ORDER = "CDE0000000081"
LOCALES = {Language.EN: "en-GB", Language.FR: "fr-FR"}
OTHER = {Language.EN: Language.FR, Language.FR: Language.EN}


def pieces(key: str, language: Language) -> list[str]:
    """The fixed words of a phrase (between its placeholders and emoji codes), long enough to
    mean something."""
    text = TEXTS.phrase(key).in_language(language)
    parts = re.split(r"\{\w+\}|\n|:[a-z_]+:", text)
    return [part.strip() for part in parts if len(part.strip()) >= 8]


def assert_says(seen: str, key: str, language: Language) -> None:
    """`seen` holds the phrase `key` in `language`, and nothing of it in the other language."""
    for piece in pieces(key, language):
        assert piece in seen, (key, language, piece, seen)
    for piece in set(pieces(key, OTHER[language])) - set(pieces(key, language)):
        assert piece not in seen, (key, language, piece)


@pytest.mark.parametrize("language", list(Language), ids=lambda language: language.value)
async def test_private_surfaces_speak_the_readers_language(
    bot: BotUnderTest, language: Language
) -> None:
    for user in (REQUESTER, APPROVER, OUTSIDER):
        bot.slack.locales[user] = LOCALES[language]
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    # A refusal after a click: the click is acked first, so the language is looked up.
    await bot.click(ActionId.APPROVE, request, user=OUTSIDER)
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(OUTSIDER)), what="refusal")
    [refusal] = bot.slack.ephemerals(OUTSIDER)
    assert_says(shown(refusal.body), "private.denial.not_approver", language)

    # The usage reply is the ack itself: the language found by that look-up, no new call.
    lookups = len(bot.slack.calls("users.info"))
    response = await bot.command("help", user=OUTSIDER)
    usage = shown(response.json())
    assert_says(usage, "private.usage.text", language)
    assert len(bot.slack.calls("users.info")) == lookups

    # The App Home tab.
    await open_home(bot, APPROVER)
    await bot.slack.wait_until(lambda: bool(bot.slack.homes(APPROVER)), what="home")
    home = shown(bot.slack.homes(APPROVER)[-1].body)
    assert_says(home, "home.intro", language)
    assert_says(home, "home.waiting_header", language)
    assert_says(home, "audit.line.asked", language)

    # The reject modal (the home's look-up made the approver's language known).
    await bot.click(ActionId.REJECT, request, user=APPROVER)
    [opened] = await bot.slack.wait_for_calls("views.open")
    modal = shown(opened.body)
    for key in ("modals.reject.title", "modals.reject.question", "modals.reject.reason_label"):
        assert_says(modal, key, language)

    # The direct message to the requester, sent by the outbox.
    await bot.submit_reject(request, user=APPROVER, reason="wrong order")
    await bot.slack.wait_until(lambda: bool(bot.slack.dms(REQUESTER)), what="the DM")
    [dm] = bot.slack.dms(REQUESTER)
    assert_says(shown(dm.body), "dm.decided.rejected", language)
    assert_says(shown(dm.body), "dm.decided.rejected_text", language)


async def test_an_answer_in_the_ack_waits_on_no_look_up(bot: BotUnderTest) -> None:
    bot.slack.locales[OUTSIDER] = "fr-FR"

    response = await bot.command("CDE1 nope", user=OUTSIDER)

    # Not known yet: the default language (English here), and no users.info before the ack.
    answer = shown(response.json())
    assert_says(answer, "usage.not_an_order_id", Language.EN)
    assert_says(answer, "private.usage.text", Language.EN)
    assert bot.slack.calls("users.info") == []


async def test_an_error_in_a_french_command_is_explained_in_french(bot: BotUnderTest) -> None:
    bot.slack.locales[OUTSIDER] = "fr-FR"
    await open_home(bot, OUTSIDER)  # any look-up makes the language known
    await bot.slack.wait_until(lambda: bool(bot.slack.homes(OUTSIDER)), what="home")
    assert_says(shown(bot.slack.homes(OUTSIDER)[-1].body), "home.none_yet", Language.FR)

    response = await bot.command("CDE1 nope", user=OUTSIDER)

    answer = shown(response.json())
    assert_says(answer, "usage.not_an_order_id", Language.FR)
    assert_says(answer, "private.usage.problem", Language.FR)
    assert "`CDE1`" in answer
