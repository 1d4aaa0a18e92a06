"""The request form: `/cancel-order` with no text opens it. Builder and pure parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain.channels import ChannelRefusal
from bot.domain.commands import CancelArgs, UsageError, parse_cancel_command
from bot.slack.ids import BlockId, CallbackId, InputActionId

CATEGORY_LABELS = {
    "customer_request": "Customer request",
    "duplicate_order": "Duplicate order",
    "wrong_data": "Wrong data",
    "other": "Other",
}


@dataclass(frozen=True, slots=True)
class RequestForm:
    args: CancelArgs
    category: str


def form_refusal_text(refusal: ChannelRefusal) -> str:
    """Why a form submitted for a channel (its private_metadata) opens nothing.

    The same rule as the slash command, checked again at submission: ALLOWED_CHANNELS may have
    changed since the form was opened, and the metadata is only as good as what set it.
    """
    if refusal is ChannelRefusal.NOT_A_CHANNEL:
        return (
            "Cancel requests need a channel where approvers can see them: open this form "
            "from a channel, not a direct message. Nothing was sent."
        )
    return (
        "Cancel requests are taken only in the channels set for this bot: open this form "
        "from one of them. Nothing was sent."
    )


def build_request_modal(channel_id: str) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.REQUEST_MODAL,
        private_metadata=channel_id,
        title=PlainTextObject(text="Cancel an order"),
        submit=PlainTextObject(text="Ask for approval"),
        close=PlainTextObject(text="Back"),
        blocks=[
            InputBlock(
                block_id=BlockId.REQUEST_ORDER,
                label=PlainTextObject(text="Order id"),
                element=PlainTextInputElement(
                    action_id=InputActionId.REQUEST_ORDER,
                    max_length=40,
                    placeholder=PlainTextObject(text="CDE0000000001"),
                ),
            ),
            InputBlock(
                block_id=BlockId.REQUEST_CATEGORY,
                label=PlainTextObject(text="Reason"),
                element=StaticSelectElement(
                    action_id=InputActionId.REQUEST_CATEGORY,
                    options=[Option(value=k, text=v) for k, v in CATEGORY_LABELS.items()],
                ),
            ),
            InputBlock(
                block_id=BlockId.REQUEST_REASON,
                label=PlainTextObject(text="Details"),
                optional=True,
                element=PlainTextInputElement(
                    action_id=InputActionId.REQUEST_REASON, multiline=True, max_length=500
                ),
            ),
        ],
    )


def _value(view: dict[str, Any], block: BlockId, action: InputActionId) -> str:
    field = view.get("state", {}).get("values", {}).get(block.value, {}).get(action.value, {})
    selected = field.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value") or "")
    return str(field.get("value") or "").strip()


def parse_request_form(
    view: dict[str, Any], order_id_pattern: re.Pattern[str]
) -> RequestForm | dict[str, str]:
    """The submitted form as a request, or the errors to show per block (Slack's format)."""
    order = _value(view, BlockId.REQUEST_ORDER, InputActionId.REQUEST_ORDER)
    category = _value(view, BlockId.REQUEST_CATEGORY, InputActionId.REQUEST_CATEGORY)
    details = _value(view, BlockId.REQUEST_REASON, InputActionId.REQUEST_REASON)
    if category not in CATEGORY_LABELS:
        return {BlockId.REQUEST_CATEGORY.value: "Choose a reason."}
    if category == "other" and not details:
        return {BlockId.REQUEST_REASON.value: "Say why, for “Other”."}
    if not order or len(order.split()) != 1:
        return {BlockId.REQUEST_ORDER.value: "Give one order id, e.g. CDE0000000001."}
    try:
        parsed = parse_cancel_command(f"{order} {details}", order_id_pattern)
    except UsageError as problem:
        target = (
            BlockId.REQUEST_REASON if order_id_pattern.fullmatch(order) else BlockId.REQUEST_ORDER
        )
        return {target.value: str(problem).replace("`", "")}
    if not isinstance(parsed, CancelArgs):
        return {BlockId.REQUEST_ORDER.value: "Give one order id, e.g. CDE0000000001."}
    return RequestForm(parsed, category)
