"""A private answer to a slash command after its ack: through the command's response_url, or,
when Slack refuses that (a server error, a dropped connection, a used-up URL), as another
private message (an ephemeral in the channel, else a direct message), so it is never lost."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncRespond

from bot.deps import Deps
from bot.slack.messages.mrkdwn import Rendered

logger = logging.getLogger(__name__)


async def respond_or_tell(
    respond: AsyncRespond, reply: Rendered, *, channel_id: str, user_id: str, deps: Deps
) -> None:
    try:
        answered = await respond(
            response_type="ephemeral", text=reply.text, blocks=reply.blocks or None
        )
        refused = answered.status_code != 200
    except Exception as exc:
        logger.warning("the answer to %s failed on response_url: %s", user_id, type(exc).__name__)
        refused = True
    if not refused:
        return
    if reply.blocks:
        await deps.publisher.tell_blocks(channel_id, user_id, reply.text, reply.blocks)
    else:
        await deps.publisher.tell(channel_id, user_id, reply.text)
