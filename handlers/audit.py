"""`/cancel-order status ORDER_ID` and `/cancel-order list`: private answers from the records."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck

from bot.deps import Deps
from bot.domain.commands import ListArgs, StatusArgs
from bot.slack.messages.audit import build_list_blocks, build_status_blocks
from bot.slack.messages.private import list_in_a_dm_text


async def answer_audit_command(
    ack: AsyncAck, parsed: StatusArgs | ListArgs, *, user_id: str, channel_id: str, deps: Deps
) -> None:
    # Answered in the ack: no time to ask Slack for the user's language.
    language = deps.languages.cached(user_id)
    if isinstance(parsed, StatusArgs):
        histories = await deps.ops.audit.order_history(parsed.order_id)
        visible = await deps.ops.reasons_visible_to(histories, user_id, channel_id)
        answer = build_status_blocks(parsed.order_id, histories, visible, language)
    elif channel_id.startswith("D"):
        await ack(response_type="ephemeral", text=list_in_a_dm_text(language).text)
        return
    else:
        pending, more = await deps.ops.audit.pending_in(channel_id)
        answer = build_list_blocks(channel_id, pending, language, more=more)
    await ack(response_type="ephemeral", text=answer.text, blocks=answer.blocks)
