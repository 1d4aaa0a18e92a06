"""Thread replies of the background sweeps (the reminder of a pending request, and the read of
an order whose cancel got no answer), in the channel's language; and the private warning of an
approver whose click would send a cancel MouvONE now refuses."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, SectionBlock

from bot.domain.preview import Preview
from bot.domain.requests import CancelRequest
from bot.i18n.catalogue import Language, entry_for_code
from bot.i18n.notes import note_text, order_status_note
from bot.i18n.texts import say
from bot.slack.ids import ActionId
from bot.slack.messages.bulk import order_label
from bot.slack.messages.mrkdwn import Rendered, escape, fallback_text, mention, slack_date
from bot.slack.messages.mrkdwn import md as _md


def _short(text: str, limit: int = 200) -> str:
    """API text, cut before escaping so the sentence around it stays whole."""
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def build_verified_text(request: CancelRequest, language: Language = Language.EN) -> Rendered:
    found = escape(note_text(request.outcome_note or order_status_note(None), language))
    return Rendered(say("thread.verified", language, order=escape(request.order_id), found=found))


def build_reminder_text(
    request: CancelRequest, approvers: Sequence[str], language: Language = Language.EN
) -> Rendered:
    who = ", ".join(mention(a) for a in approvers if a not in request.approver_ids)
    return Rendered(
        say(
            "thread.reminder",
            language,
            who=who,
            order=escape(order_label(request)),
            requester=f"<@{request.requester_id}>",
            date=slack_date(request.created_at, language),
        )
    )


def build_send_anyway(
    request: CancelRequest, preview: Preview, language: Language = Language.EN
) -> Rendered:
    """Private to the approver whose click would send the cancel (in their language): the order
    changed since the request was posted, and MouvONE would now refuse it."""
    assert preview.order is not None and preview.code is not None
    title = entry_for_code(preview.code).text(language).title
    text = fallback_text(
        say(
            "thread.send_anyway",
            language,
            order=escape(order_label(request)),
            type=_short(preview.order.type),
            status=_short(preview.order.status),
            title=escape(title),
            code=_short(preview.code),
        )
    )
    return Rendered(
        text,
        [
            SectionBlock(text=_md(text)),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=say("thread.send_anyway_button", language),
                        action_id=ActionId.SEND_ANYWAY,
                        value=request.id,
                        style="danger",
                    )
                ]
            ),
        ],
    )
