"""`/cancel-order container NUMBER` and `transport NUMBER`: ack at once ("searching…"), then
search MouvONE and answer privately through the command's response_url (Slack's 3 s never
waits for MouvONE). The choice of orders that follows is `handlers.choice`.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.deps import Deps
from bot.domain.search import SearchArgs, SearchFailed
from bot.slack.messages.search import build_search_failed, build_search_result, searching_text
from handlers.replies import respond_or_tell


async def answer_search_command(
    ack: AsyncAck,
    respond: AsyncRespond,
    args: SearchArgs,
    *,
    user_id: str,
    channel_id: str,
    deps: Deps,
) -> None:
    """Ack at once ("searching…"), then search and answer privately through `respond`; if
    Slack refuses that (its response_url failing), as another private message."""
    # In the ack: the language only if already known.
    searching = searching_text(args, deps.languages.cached(user_id))
    await ack(response_type="ephemeral", text=searching.text)
    found = await deps.search.find(args)  # bounded by SEARCH_TIMEOUT_SECONDS; never raises
    language = await deps.languages.of(user_id)
    if isinstance(found, SearchFailed):
        answer = build_search_failed(args, found, language)
    else:
        answer = build_search_result(args, found, language)
    await respond_or_tell(respond, answer, channel_id=channel_id, user_id=user_id, deps=deps)
