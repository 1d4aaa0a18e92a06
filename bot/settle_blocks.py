"""The thread reply after the bot read an order whose cancel got no answer."""

from __future__ import annotations

from bot.blocks import escape
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
