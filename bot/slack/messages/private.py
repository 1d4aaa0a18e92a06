"""Private replies of the duplicate guard: the order already has a request, or was cancelled."""

from __future__ import annotations

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.messages.mrkdwn import escape, slack_date


def build_duplicate_text(existing: CancelRequest, link: str | None) -> str:
    """Why no new request was opened for the order, with a link to the one that covers it."""
    order = escape(existing.order_id)
    where = f" <{link}|See the request and its thread.>" if link else ""
    if existing.status is RequestStatus.SUCCEEDED:
        when = f" {slack_date(existing.outcome_at)}" if existing.outcome_at else ""
        return (
            f":white_check_mark: Order `{order}` was already cancelled through this bot{when}. "
            f"No new request was opened.{where}"
        )
    state = {
        RequestStatus.PENDING: "waiting for approval",
        RequestStatus.APPROVED: "approved",
        RequestStatus.EXECUTING: "being cancelled",
        RequestStatus.UNKNOWN: "waiting for its outcome to be confirmed",
    }.get(existing.status, existing.status.value)
    return (
        f":information_source: Order `{order}` already has a cancel request ({state}), asked by "
        f"<@{existing.requester_id}>. No new request was opened.{where}"
    )
