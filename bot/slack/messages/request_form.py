"""The request form: `/cancel-order` with no text opens it. Builder and pure parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.channels import ChannelRefusal
from bot.domain.commands import MAX_REASON_LENGTH, CancelArgs, UsageError, parse_cancel_command
from bot.domain.containers import ContainerNumberError
from bot.domain.search import SearchInputError
from bot.i18n.catalogue import Language
from bot.i18n.texts import say
from bot.slack.ids import SLASH_COMMAND, BlockId, CallbackId, InputActionId
from bot.slack.messages.modals import modal_text

# The reasons to choose from; each has its label `modals.request.category.<name>`.
REASON_CATEGORIES = ("customer_request", "duplicate_order", "wrong_data", "other")


def category_label(category: str, language: Language) -> str:
    """The words of a reason category; one the form no longer offers shows as stored."""
    if category not in REASON_CATEGORIES:
        return category
    return say(f"modals.request.category.{category}", language)


@dataclass(frozen=True, slots=True)
class RequestForm:
    args: CancelArgs
    category: str


def form_refusal_text(refusal: ChannelRefusal, language: Language) -> str:
    """Why a form submitted for a channel (its private_metadata) opens nothing.

    The same rule as the slash command, checked again at submission: ALLOWED_CHANNELS may have
    changed since the form was opened, and the metadata is only as good as what set it.
    """
    if refusal is ChannelRefusal.NOT_A_CHANNEL:
        return say("modals.request.not_from_a_dm", language)
    return say("modals.request.not_an_allowed_channel", language)


def build_request_modal(channel_id: str, language: Language) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.REQUEST_MODAL,
        private_metadata=channel_id,
        title=modal_text("modals.request.title", language),
        submit=modal_text("modals.request.submit", language),
        close=modal_text("modals.back", language),
        blocks=[
            InputBlock(
                block_id=BlockId.REQUEST_ORDER,
                label=modal_text("modals.request.order_label", language, 2000),
                element=PlainTextInputElement(
                    action_id=InputActionId.REQUEST_ORDER,
                    max_length=40,
                    placeholder=PlainTextObject(text="CDE0000000001"),
                ),
            ),
            *reason_blocks(language),
        ],
    )


def reason_blocks(language: Language) -> list[Block]:
    """The reason category and its details: the request form's, and the choice of orders'."""
    return [
        InputBlock(
            block_id=BlockId.REQUEST_CATEGORY,
            label=modal_text("modals.request.reason_label", language, 2000),
            element=StaticSelectElement(
                action_id=InputActionId.REQUEST_CATEGORY,
                options=[
                    Option(value=category, text=category_label(category, language))
                    for category in REASON_CATEGORIES
                ],
            ),
        ),
        InputBlock(
            block_id=BlockId.REQUEST_REASON,
            label=modal_text("modals.request.details_label", language, 2000),
            optional=True,
            element=PlainTextInputElement(
                action_id=InputActionId.REQUEST_REASON,
                multiline=True,
                max_length=MAX_REASON_LENGTH,
            ),
        ),
    ]


def submitted_reason(view: dict[str, Any], language: Language) -> tuple[str, str] | dict[str, str]:
    """(category, details) of a submitted form, or the errors to show per block: a category
    must be chosen, and "other" needs details."""
    category = _value(view, BlockId.REQUEST_CATEGORY, InputActionId.REQUEST_CATEGORY)
    details = _value(view, BlockId.REQUEST_REASON, InputActionId.REQUEST_REASON)
    if category not in REASON_CATEGORIES:
        return {BlockId.REQUEST_CATEGORY.value: say("modals.request.choose_a_reason", language)}
    if category == "other" and not details:
        return {BlockId.REQUEST_REASON.value: say("modals.request.say_why_other", language)}
    return category, details


def _value(view: dict[str, Any], block: BlockId, action: InputActionId) -> str:
    values = _object(_object(view.get("state")).get("values"))
    field = _object(_object(values.get(block.value)).get(action.value))
    selected = field.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value") or "")
    return str(field.get("value") or "").strip()


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_request_form(
    view: dict[str, Any], order_id_pattern: re.Pattern[str], language: Language
) -> RequestForm | dict[str, str]:
    """The submitted form as a request, or the errors to show per block (Slack's format), in
    the `language` of the person who fills it."""
    order = _value(view, BlockId.REQUEST_ORDER, InputActionId.REQUEST_ORDER)
    one_order_id = {BlockId.REQUEST_ORDER.value: say("modals.request.one_order_id", language)}
    reason = submitted_reason(view, language)
    if isinstance(reason, dict):
        return reason
    category, details = reason
    if not order or len(order.split()) != 1:
        return one_order_id
    try:
        parsed = parse_cancel_command(f"{order} {details}", order_id_pattern)
    except UsageError as problem:
        target = (
            BlockId.REQUEST_REASON if order_id_pattern.fullmatch(order) else BlockId.REQUEST_ORDER
        )
        return {target.value: form_problem_text(problem, language)}
    except (SearchInputError, ContainerNumberError):  # `container …` typed as an order id
        return one_order_id
    if not isinstance(parsed, CancelArgs):
        return one_order_id
    return RequestForm(parsed, category)


def form_problem_text(problem: UsageError, language: Language) -> str:
    """Why a typed text was refused, for a modal's field: plain text (nothing escaped, no
    inline code)."""
    text = say(problem.problem.value, language, command=SLASH_COMMAND, **problem.params)
    return text.replace("`", "")
