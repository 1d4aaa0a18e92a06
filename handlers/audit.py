"""`/cancel-order status ORDER_ID` and `/cancel-order list`: private answers from the records."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck

from bot.deps import Deps
from bot.domain.commands import ListArgs, StatusArgs
from bot.slack.ids import SLASH_COMMAND
from bot.slack.messages.audit import build_list_blocks, build_status_blocks


async def answer_audit_command(
    ack: AsyncAck, parsed: StatusArgs | ListArgs, *, user_id: str, channel_id: str, deps: Deps
) -> None:
    if isinstance(parsed, StatusArgs):
        histories = await deps.ops.audit.order_history(parsed.order_id)
        visible = await deps.ops.reasons_visible_to(histories, user_id, channel_id)
        text, blocks = build_status_blocks(parsed.order_id, histories, visible)
    elif channel_id.startswith("D"):
        await ack(
            response_type="ephemeral",
            text=f"Run `{SLASH_COMMAND} list` in a channel to see the requests waiting there.",
        )
        return
    else:
        pending, more = await deps.ops.audit.pending_in(channel_id)
        text, blocks = build_list_blocks(channel_id, pending, more=more)
    await ack(response_type="ephemeral", text=text, blocks=blocks)
