"""Block Kit of the notices around a request: direct messages to the requester, the pointer to
the approval channel, the reply outside ALLOWED_CHANNELS, and the sandbox marker."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.ids import SLASH_COMMAND
from bot.slack.messages.audit import md, outcome_line
from bot.slack.messages.mrkdwn import escape, fallback_text

SANDBOX_MARKER = "SANDBOX — no real order is touched"


def build_sandbox_marker() -> ContextBlock:
    return ContextBlock(
        block_id="cancel-order-sandbox", elements=[md(f":test_tube: *{SANDBOX_MARKER}*")]
    )


def _link(permalink: str | None) -> str:
    return f" <{permalink}|Open the request>" if permalink else ""


def build_decided_dm(request: CancelRequest, permalink: str | None) -> tuple[str, list[Block]]:
    """To the requester when an approver decided on their request."""
    who = f"<@{request.decided_by}>" if request.decided_by else "An approver"
    order_id = escape(request.order_id)
    if request.status is RequestStatus.REJECTED:
        note = f"\n>{escape(request.decision_note)}" if request.decision_note else ""
        text = f"Your cancel request for {order_id} was rejected."
        body = (
            f":no_entry_sign: {who} rejected your request to cancel `{order_id}`. "
            f"Nothing was sent to MouvONE.{_link(permalink)}{note}"
        )
    else:
        text = f"Your cancel request for {order_id} was approved."
        body = (
            f":arrows_counterclockwise: {who} approved your request to cancel "
            f"`{order_id}`; the bot is cancelling it in MouvONE now. "
            f"I will tell you how it ended.{_link(permalink)}"
        )
    return fallback_text(text), [SectionBlock(text=md(body))]


def build_finished_dm(request: CancelRequest, permalink: str | None) -> tuple[str, list[Block]]:
    """To the requester when the cancel got its answer (or none) from MouvONE."""
    order_id = escape(request.order_id)
    order = f"`{order_id}`"
    if request.status is RequestStatus.SUCCEEDED:
        text = f"Order {order_id} is cancelled in MouvONE."
        body = f":white_check_mark: Order {order} is cancelled in MouvONE."
    elif request.status is RequestStatus.UNKNOWN:
        text = f"Order {order_id}: outcome unknown."
        body = (
            f":warning: MouvONE did not answer the cancel of {order} in time: check the order "
            "in MouvONE."
        )
    else:
        text = f"Order {order_id} was not cancelled."
        body = f":x: Order {order} was not cancelled."
    detail = outcome_line(request)
    if detail and request.status is not RequestStatus.SUCCEEDED:
        body += f"\n{detail}"
    body += " The thread explains what happened and what to do." + _link(permalink)
    return fallback_text(text), [SectionBlock(text=md(body))]


def build_approval_pointer(
    request: CancelRequest, approval_channel: str, permalink: str | None
) -> str:
    """To the requester, privately, where they asked: where their request waits."""
    link = f" (<{permalink}|open it>)" if permalink else ""
    return (
        f"Your request to cancel `{escape(request.order_id)}` waits for approval in "
        f"<#{approval_channel}>{link}. The outcome will be posted in its thread, and I will "
        "send you a direct message when it is decided."
    )


def build_asked_in_context(origin_channel_id: str) -> ContextBlock:
    """On an approval request posted in APPROVAL_CHANNEL: where the request was asked."""
    return ContextBlock(elements=[md(f"Asked in <#{origin_channel_id}>")])


def channel_refusal_text(allowed: Sequence[str]) -> str:
    where = ", ".join(f"<#{channel}>" for channel in allowed)
    return (
        f"`{SLASH_COMMAND}` works only in {where}. Run it there; nothing was done here. "
        f"(`{SLASH_COMMAND} help` works anywhere.)"
    )


def build_click_lost_dm(request: CancelRequest, permalink: str | None) -> tuple[str, list[Block]]:
    """To someone whose click reached the bot just before it stopped: it was not taken."""
    text = f"Your click on the cancel request for {request.order_id} was not taken."
    body = (
        f":warning: The bot stopped just after your click on the cancel request for "
        f"`{escape(request.order_id)}`, before acting on it: *it was not taken*. Open the "
        f"request and click again if it still needs you.{_link(permalink)}"
    )
    return text, [SectionBlock(text=md(body))]
