"""Thread replies of the background sweeps: the reminder of a pending request, and the read
of an order whose cancel got no answer."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot.domain.preview import Preview
from bot.domain.requests import CancelRequest
from bot.i18n.catalogue import Language, entry_for_code
from bot.slack.ids import ActionId
from bot.slack.messages.mrkdwn import escape, fallback_text, mention, slack_date
from bot.slack.messages.mrkdwn import md as _md


def _short(text: str, limit: int = 200) -> str:
    """API text, cut before escaping so the sentence around it stays whole."""
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def build_verified_text(request: CancelRequest) -> str:
    found = escape(request.outcome_note or "the order could not be read")
    order = escape(request.order_id)
    return (
        f":mag: I read order `{order}` in MouvONE to verify the cancel that got no answer: "
        f"{found}. So it is *not confirmed as cancelled*, and the outcome stays unknown. "
        "An approver can press Retry: if the first attempt went through after all, MouvONE "
        "says so and nothing changes."
    )


def build_reminder_text(request: CancelRequest, approvers: Sequence[str]) -> str:
    who = ", ".join(mention(a) for a in approvers if a not in request.approver_ids)
    return (
        f":bell: {who}: the cancel of `{escape(request.order_id)}` asked by "
        f"<@{request.requester_id}> {slack_date(request.created_at)} still waits for approval. "
        "Approve or reject it above."
    )


def build_send_anyway(request: CancelRequest, preview: Preview) -> tuple[str, list[Block]]:
    """Private to the approver whose click would send the cancel: the order changed since the
    request was posted, and MouvONE would now refuse it."""
    assert preview.order is not None and preview.code is not None
    title = entry_for_code(preview.code).text(Language.EN).title
    text = fallback_text(
        f":warning: MouvONE now shows order `{escape(request.order_id)}` as "
        f"{_short(preview.order.type)}, {_short(preview.order.status)}: the cancel would be "
        f"refused ({escape(title)}, `{_short(preview.code)}`). Your approval is *not* recorded."
    )
    return text, [
        SectionBlock(text=_md(text)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Send anyway",
                    action_id=ActionId.SEND_ANYWAY,
                    value=request.id,
                    style="danger",
                )
            ]
        ),
    ]
