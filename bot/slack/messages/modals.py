"""The reject modal, in the language of the approver who opens it."""

from __future__ import annotations

from slack_sdk.models.blocks import InputBlock, PlainTextInputElement, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.domain.requests import CancelRequest
from bot.i18n.catalogue import Language
from bot.i18n.texts import say
from bot.slack.ids import BlockId, CallbackId, InputActionId
from bot.slack.messages.bulk import order_label
from bot.slack.messages.mrkdwn import escape, md

# Slack's limits for a modal's title, submit and close texts, and for a placeholder.
MODAL_TITLE_LIMIT = 24
PLACEHOLDER_LIMIT = 150


def modal_text(key: str, language: Language, limit: int = MODAL_TITLE_LIMIT) -> PlainTextObject:
    """A modal's plain text (title, submit, close, label), cut to Slack's limit."""
    text = say(key, language)
    return PlainTextObject(text=text if len(text) <= limit else text[: limit - 1] + "…")


def build_reject_modal(request: CancelRequest, language: Language) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.REJECT_MODAL,
        private_metadata=request.id,
        title=modal_text("modals.reject.title", language),
        submit=modal_text("modals.reject.submit", language),
        close=modal_text("modals.back", language),
        blocks=[
            SectionBlock(
                text=md(
                    say(
                        "modals.reject.question",
                        language,
                        order=escape(order_label(request)),
                        requester=f"<@{request.requester_id}>",
                    )
                )
            ),
            InputBlock(
                block_id=BlockId.REJECT_REASON,
                label=modal_text("modals.reject.reason_label", language, 2000),
                optional=True,
                element=PlainTextInputElement(
                    action_id=InputActionId.REJECT_REASON,
                    multiline=True,
                    max_length=500,
                    placeholder=modal_text(
                        "modals.reject.reason_placeholder", language, PLACEHOLDER_LIMIT
                    ),
                ),
            ),
        ],
    )
