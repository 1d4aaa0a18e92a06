"""Outcomes in the channel's language (CHANNEL_LANGUAGES, else DEFAULT_LANGUAGE), over signed
HTTP: every documented code, and each failure outside the documented error body. The people's
own Slack languages play no part in what the whole channel reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.i18n.catalogue import CATALOGUE, DOCUMENTED_CODES, FAILURES, FailureKind, Language
from bot.i18n.texts import say
from bot.slack.ids import ActionId
from tests.conftest import APPROVER, REQUESTER, BotFactory, BotUnderTest, make_settings, serve_bot
from tests.fakes.slack_api import FakeSlack, ScriptedFailure
from tests.fakes.soget_api import FakeSoget, Fault
from tests.payloads import CHANNEL

ORDER = "CDE0000000008"
LOCALES = {Language.EN: "en-GB", Language.FR: "fr-FR"}


def _other(language: Language) -> Language:
    return Language.FR if language is Language.EN else Language.EN


async def _bot_speaking(bot_with: BotFactory, language: Language) -> BotUnderTest:
    """A bot whose request channel speaks `language`, among people who speak the other one."""
    bot = await bot_with(channel_languages=f"{CHANNEL}:{language.value}")
    bot.slack.locales[REQUESTER] = LOCALES[_other(language)]
    bot.slack.locales[APPROVER] = LOCALES[_other(language)]
    return bot


def _shown(body: dict[str, Any]) -> str:
    blocks = body.get("blocks")
    text = json.dumps(blocks, ensure_ascii=False) if not isinstance(blocks, str) else blocks
    return text + str(body.get("text"))


async def _outcome(bot: BotUnderTest) -> tuple[str, str]:
    """Request, approve, and return (status, the thread reply as shown)."""
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id)
    [reply] = bot.slack.thread_replies(request.message_ts)
    return done.status.value, _shown(reply.body)


def _assert_in(language: Language, shown: str, *texts: str) -> None:
    for text in texts:
        assert text in shown, (language, text)


# Every documented code once through the real HTTP path, alternating languages, and the codes a
# cancel meets most in the other language too. The renderer is checked for every code in both
# languages in tests/test_outcome_blocks.py.
_ALTERNATING = {
    code: Language.FR if index % 2 else Language.EN for index, code in enumerate(DOCUMENTED_CODES)
}
_BOTH = ("R0008", "R0009", "CANNOT_CANCEL_NOT_MASTER_ORDER", "ORDER_ALREADY_CANCELED")
CODE_CASES = [*_ALTERNATING.items()] + [
    (code, Language.EN if _ALTERNATING[code] is Language.FR else Language.FR) for code in _BOTH
]


@pytest.mark.parametrize(
    ("code", "language"), CODE_CASES, ids=[f"{c}-{lang.value}" for c, lang in CODE_CASES]
)
async def test_documented_code_in_the_channels_language(
    bot_with: BotFactory, code: str, language: Language
) -> None:
    bot = await _bot_speaking(bot_with, language)
    bot.soget.add(ORDER, forced_code=code)

    status, shown = await _outcome(bot)

    entry = CATALOGUE[code]
    text = entry.text(language)
    _assert_in(language, shown, text.meaning)
    if code != "R0009":  # the fake answers R0009 with a null message
        quoted = say("thread.api_said", language, message=f"Erreur {code}")
        _assert_in(language, shown, quoted)  # the API's own message, quoted
    if code == "ORDER_ALREADY_CANCELED":
        assert status == "succeeded"
        _assert_in(language, shown, say("thread.cancelled", language, order=ORDER))
    else:
        assert status == "failed"
        _assert_in(language, shown, text.title, text.next_step, f"`{code}`")
        not_cancelled = say("thread.not_cancelled", language, order=ORDER)
        _assert_in(language, shown, not_cancelled, say("thread.what_to_do", language))
        retry = "thread.retry_may_help" if entry.retry_can_help else "thread.retry_will_not_help"
        _assert_in(language, shown, say(retry, language))
    # Neither the requester's nor the approver's language plays a part.
    assert entry.text(_other(language)).meaning not in shown


FAILURE_CASES = [
    (Fault(status=403, body='{"statusCode": 403, "message": "Forbidden"}'),
     FailureKind.GATEWAY_FORBIDDEN, 1),
    (Fault(status=401, body=""), FailureKind.GATEWAY_UNAUTHORIZED, 1),
    (Fault(status=404, body=""), FailureKind.ENDPOINT_NOT_FOUND, 1),
    (Fault(status=408, body=""), FailureKind.REQUEST_TIMEOUT_STATUS, 1),
    (Fault(status=429, body='{"statusCode": 429}', headers={"Retry-After": "0"}),
     FailureKind.RATE_LIMITED, 3),
    (Fault(status=504, body=""), FailureKind.SERVER_ERROR, 1),
    (Fault(status=418, body=""), FailureKind.UNEXPECTED_STATUS, 1),
    (Fault(status=400, body="not json", content_type="text/plain"), FailureKind.INVALID_BODY, 1),
    (Fault(status=400, body='{"code": 42}'), FailureKind.INVALID_BODY, 1),
]  # fmt: skip


# Each failure class once over HTTP, in alternating languages (both languages of every kind are
# rendered in tests/test_outcome_blocks.py).
FAILURE_CASES_BY_LANGUAGE = [
    (*case, Language.FR if index % 2 else Language.EN) for index, case in enumerate(FAILURE_CASES)
]


@pytest.mark.parametrize(
    ("fault", "kind", "attempts", "language"),
    FAILURE_CASES_BY_LANGUAGE,
    ids=[f"{f.status}-{k.value}-{lang.value}" for f, k, _a, lang in FAILURE_CASES_BY_LANGUAGE],
)
async def test_failure_outside_the_documented_body_is_explained(
    bot_with: BotFactory, fault: Fault, kind: FailureKind, attempts: int, language: Language
) -> None:
    bot = await _bot_speaking(bot_with, language)
    bot.soget.add(ORDER)
    bot.soget.script(*[fault] * attempts)

    status, shown = await _outcome(bot)

    text = FAILURES[kind].text(language)
    # The gateway turned it away: the approval stands and a Retry is offered. After a 408 or a
    # 5xx MouvONE may have acted: the outcome is unknown until the order is read back.
    expected = {429: "approved", 408: "unknown", 504: "unknown"}.get(fault.status, "failed")
    assert status == expected
    _assert_in(language, shown, text.title, text.meaning, text.next_step, f"`{kind.value}`")
    _assert_in(language, shown, f"HTTP {fault.status}")
    assert "Traceback" not in shown and "not json" not in shown
    assert len(bot.soget.deletes(ORDER)) == attempts


async def test_unknown_code_is_shown_raw_in_french(bot_with: BotFactory) -> None:
    bot = await _bot_speaking(bot_with, Language.FR)
    bot.soget.add(ORDER, forced_code="R0042")

    status, shown = await _outcome(bot)

    text = FAILURES[FailureKind.UNKNOWN_CODE].text(Language.FR)
    assert status == "failed"
    _assert_in(Language.FR, shown, "`R0042`", text.title, text.next_step, "« Erreur R0042 »")


async def test_timeout_in_french_says_the_outcome_is_unknown(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    settings = make_settings(
        fake_slack,
        fake_soget,
        tmp_path / "t.sqlite3",
        soget_timeout_seconds=0.3,
        channel_languages=f"{CHANNEL}:fr",
    )
    runner, bot = await serve_bot(settings, fake_slack, fake_soget)
    try:
        fake_slack.locales[REQUESTER] = "en-GB"
        fake_soget.add(ORDER)
        fake_soget.script(Fault(delay=5.0))
        status, shown = await _outcome(bot)
    finally:
        await bot.http.aclose()
        await runner.cleanup()

    assert status == "unknown"
    text = FAILURES[FailureKind.TIMEOUT].text(Language.FR)
    lead = say("thread.outcome_unknown", Language.FR, order=ORDER)
    _assert_in(Language.FR, shown, lead, text.next_step)


async def test_success_in_french(bot_with: BotFactory) -> None:
    bot = await _bot_speaking(bot_with, Language.FR)
    bot.soget.add(ORDER)

    status, shown = await _outcome(bot)

    assert status == "succeeded"
    assert f"La commande `{ORDER}` est annulée dans MouvONE" in shown
    assert f"approuvée par <@{APPROVER}>" in shown


async def test_thread_replies_read_no_ones_slack_language(bot_with: BotFactory) -> None:
    bot = await _bot_speaking(bot_with, Language.FR)
    for order_id in (ORDER, "CDE0000000009"):
        bot.soget.add(order_id, forced_code="R0009")
        request = await bot.request_posted_for(order_id)
        await bot.click(ActionId.APPROVE, request, user=APPROVER)
        await bot.wait_posted(request.id)

    # Only the requester's direct messages ask for a user's own language, never a reply.
    assert {call.body.get("user") for call in bot.slack.calls("users.info")} <= {REQUESTER}
    for reply in bot.slack.thread_replies():
        assert CATALOGUE["R0009"].text(Language.FR).title in _shown(reply.body)


@pytest.fixture
async def french_default_bot(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    settings = make_settings(fake_slack, fake_soget, tmp_path / "fr.sqlite3", default_language="FR")
    runner, bot = await serve_bot(settings, fake_slack, fake_soget)
    yield bot
    await bot.http.aclose()
    await runner.cleanup()


async def test_a_channel_not_listed_speaks_the_default_language(
    french_default_bot: BotUnderTest,
) -> None:
    bot = french_default_bot
    bot.slack.locales[REQUESTER] = "en-GB"
    # Every look-up fails (the direct messages to the requester ask for the language too).
    bot.slack.fail_always(
        "users.info", ScriptedFailure(200, {"ok": False, "error": "user_not_found"})
    )
    bot.soget.add(ORDER, forced_code="R0009")

    status, shown = await _outcome(bot)

    assert status == "failed"
    assert CATALOGUE["R0009"].text(Language.FR).title in shown


async def test_english_by_default_whatever_the_requesters_language(bot: BotUnderTest) -> None:
    bot.slack.locales[REQUESTER] = "fr-FR"
    bot.soget.add(ORDER, forced_code="R0009")

    _status, shown = await _outcome(bot)

    assert CATALOGUE["R0009"].text(Language.EN).title in shown
