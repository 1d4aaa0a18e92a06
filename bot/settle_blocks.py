"""Thread replies of the background sweeps: the reminder of a pending request, and the read
of an order whose cancel got no answer."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks import escape, mention, slack_date
from bot.requests import CancelRequest


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
