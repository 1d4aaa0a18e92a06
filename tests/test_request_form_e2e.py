"""`/cancel-order` with no text opens the request form; REQUIRE_REASON for the slash command."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.i18n.catalogue import Language
from bot.slack.ids import BlockId, CallbackId, InputActionId
from bot.slack.messages.request_form import RequestForm, parse_request_form
from tests import payloads
from tests.conftest import REQUESTER, BotFactory, BotUnderTest

ORDER = "CDE0000000098"


def _view(order: str, category: str | None, details: str | None) -> dict[str, Any]:
    selected = {"value": category} if category else None
    return {
        "id": "V0000002",
        "type": "modal",
        "callback_id": CallbackId.REQUEST_MODAL.value,
        "private_metadata": payloads.CHANNEL,
        "state": {
            "values": {
                BlockId.REQUEST_ORDER.value: {
                    InputActionId.REQUEST_ORDER.value: {"type": "plain_text_input", "value": order}
                },
                BlockId.REQUEST_CATEGORY.value: {
                    InputActionId.REQUEST_CATEGORY.value: {
                        "type": "static_select",
                        "selected_option": selected,
                    }
                },
                BlockId.REQUEST_REASON.value: {
                    InputActionId.REQUEST_REASON.value: {
                        "type": "plain_text_input",
                        "value": details,
                    }
                },
            }
        },
    }


def _submission(view: dict[str, Any]) -> str:
    return payloads._form(
        {
            "type": "view_submission",
            "team": {"id": "T0PORTOPS", "domain": "portops"},
            "user": {"id": REQUESTER, "username": "requester", "team_id": "T0PORTOPS"},
            "api_app_id": "A0APP0001",
            "token": "legacy-verification-token",
            "trigger_id": "trigger.form",
            "view": view,
        }
    )


async def test_no_text_opens_the_form_and_its_submission_posts_the_request(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)

    response = await bot.command("")

    assert response.status_code == 200
    [opened] = await bot.slack.wait_for_calls("views.open")
    raw = opened.body["view"]
    view = raw if isinstance(raw, dict) else json.loads(str(raw))
    assert view["callback_id"] == CallbackId.REQUEST_MODAL.value
    assert view["private_metadata"] == payloads.CHANNEL

    submitted = await bot.post_signed(
        _submission(_view(ORDER.lower(), "duplicate_order", "ordered twice"))
    )

    assert submitted.status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.channel_posts()))
    [request] = await bot.runtime.store.history_of_order(ORDER)
    assert request.reason_category == "duplicate_order" and request.reason == "ordered twice"
    assert "Duplicate order: ordered twice" in str(bot.slack.channel_posts()[0].body["blocks"])


async def test_a_bad_form_is_answered_in_the_form(bot: BotUnderTest) -> None:
    response = await bot.post_signed(_submission(_view("CDE123", "customer_request", None)))

    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert BlockId.REQUEST_ORDER.value in answer["errors"]
    assert bot.slack.channel_posts() == []


def test_form_parsing_rules() -> None:
    import re

    pattern = re.compile(r"CDE\d{10}", re.IGNORECASE)
    good = parse_request_form(_view(ORDER, "other", "see ticket 12"), pattern, Language.EN)
    assert isinstance(good, RequestForm) and good.category == "other"
    assert good.args.order_id == ORDER
    no_details = parse_request_form(_view(ORDER, "other", ""), pattern, Language.EN)
    assert not isinstance(no_details, RequestForm) and BlockId.REQUEST_REASON.value in no_details
    no_category = parse_request_form(_view(ORDER, None, "x"), pattern, Language.EN)
    assert not isinstance(no_category, RequestForm)
    assert BlockId.REQUEST_CATEGORY.value in no_category
    two = parse_request_form(
        _view(f"{ORDER} CDE0000000099", "wrong_data", None), pattern, Language.EN
    )
    assert not isinstance(two, RequestForm) and BlockId.REQUEST_ORDER.value in two


@pytest.fixture
async def strict_bot(bot_with: BotFactory) -> BotUnderTest:
    return await bot_with(require_reason=True)


async def test_require_reason_refuses_a_command_without_one(strict_bot: BotUnderTest) -> None:
    bot = strict_bot
    bot.soget.add(ORDER)

    response = await bot.command(ORDER)

    assert "Give a reason" in response.json()["text"]
    assert await bot.runtime.store.history_of_order(ORDER) == []
    await bot.request_posted_for(ORDER)  # with a reason it goes through


def test_a_search_word_in_the_order_field_asks_for_one_order_id() -> None:
    import re

    pattern = re.compile(r"CDE\d{10}", re.IGNORECASE)
    for order, details in (("container", "not-a-number"), ("transport", "a b"), ("container", "")):
        parsed = parse_request_form(_view(order, "wrong_data", details), pattern, Language.EN)
        assert not isinstance(parsed, RequestForm) and BlockId.REQUEST_ORDER.value in parsed
