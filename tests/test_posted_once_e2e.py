"""Every outcome is posted once, also when Slack took a message and the bot never heard back:
killed mid-call (SIGKILL, a claim left behind), a timeout, a 5xx once the message was posted.
Each message the outbox posts carries its delivery as Slack message metadata; a delivery whose
earlier attempt may have reached Slack is looked for before it is posted again."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.requests import CancelRequest, MessageKind
from bot.playground.slack import Message
from bot.slack.ids import ActionId
from bot.slack.publisher import (
    DELIVERY_EVENT,
    DeliveryMark,
    LookupIncompleteError,
    SlackPublisher,
)
from bot.storage.store import Store
from tests import payloads
from tests.conftest import (
    APPROVER,
    BOT_TOKEN,
    REQUESTER,
    SIGNING_SECRET,
    BotFactory,
    BotUnderTest,
)
from tests.fakes.slack_api import FakeSlack, ScriptedFailure
from tests.fakes.soget_api import FakeSoget
from tests.ports import free_port
from tests.test_blocks import make_request
from tests.test_bulk_e2e import bulk_posted
from tests.test_process_e2e import _approve_value, bot_env, running_bot

ORDER = "CDE0000000041"
BULK = ("CDE0000000042", "CDE0000000043")
THREAD_REPLY = ScriptedFailure(0, only_threads=True)
OUTCOME_TEXT = "is cancelled in MouvONE"


def _kind(message: Message) -> str | None:
    """The outbox kind a posted message's metadata names."""
    metadata = message.metadata or {}
    payload = metadata.get("event_payload") or {}
    return payload.get("kind") if metadata.get("event_type") == DELIVERY_EVENT else None


def _outcomes(slack: FakeSlack, request: CancelRequest) -> list[Message]:
    assert request.message_ts is not None
    return [m for m in slack.posted_in_thread(request.message_ts) if OUTCOME_TEXT in m.text]


async def test_a_first_attempt_makes_no_look_up_and_every_post_names_its_delivery(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    for order in BULK:
        bot.soget.add(order)
    single = await bot.request_posted_for(ORDER)
    bulk = await bulk_posted(bot, " ".join(BULK) + " vessel cancelled", BULK[0])

    for request in (single, bulk):
        await bot.click(ActionId.APPROVE, request, user=APPROVER)
        await bot.wait_posted(request.id)
        await bot.wait_delivered(request.id)

    assert bot.slack.lookups() == []  # nothing uncertain: no conversations.* read
    posted = [m for m in bot.slack.messages if m.ephemeral_for is None and m.user != REQUESTER]
    outbox_posts = [m for m in posted if m.thread_ts or m.channel == REQUESTER]
    kinds = sorted(str(_kind(m)) for m in outbox_posts)
    assert kinds == sorted(["outcome", "summary", "dm_decided", "dm_decided"] + ["dm_finished"] * 2)
    ids = [(m.metadata or {})["event_payload"]["delivery"] for m in outbox_posts]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("how", ["timeout", "5xx"])
async def test_a_reply_slack_took_without_answering_is_found_not_posted_again(
    bot_with: BotFactory, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Slack posts the outcome reply, then the answer is lost (past the client's timeout, or a
    500 after the post): the retry finds the reply in the thread and marks it delivered."""
    monkeypatch.setattr("bot.runtime.SLACK_TIMEOUT_SECONDS", 1.0)
    bot = await bot_with()
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    released = asyncio.Event()
    if how == "timeout":
        bot.slack.hold_answer("chat.postMessage", released, THREAD_REPLY)
    else:
        bot.slack.fail_next(
            "chat.postMessage", ScriptedFailure(500, only_threads=True, after_applying=True)
        )
    try:
        await bot.click(ActionId.APPROVE, request, user=APPROVER)
        done = await bot.wait_posted(request.id, timeout=10)
        await bot.wait_delivered(request.id)
    finally:
        released.set()

    assert done.outcome_posted_at is not None
    [reply] = _outcomes(bot.slack, request)
    assert _kind(reply) == "outcome"
    assert len(bot.slack.thread_replies(request.message_ts)) == 1  # one post call, no second
    [look_up] = bot.slack.calls("conversations.replies")
    assert look_up.body["ts"] == request.message_ts
    assert str(look_up.body["include_all_metadata"]).lower() in ("1", "true")


async def test_a_look_up_slack_refuses_posts_again_and_says_why(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """A workspace that did not grant channels:history: the look-up answers missing_scope, so
    the reply is posted again (the documented at-least-once fallback), never lost."""
    bot.slack.without_scopes("channels:history", "groups:history", "im:history")
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.slack.fail_next(
        "chat.postMessage", ScriptedFailure(500, only_threads=True, after_applying=True)
    )
    with caplog.at_level(logging.INFO, logger="bot.services.outbox"):
        await bot.click(ActionId.APPROVE, request, user=APPROVER)
        done = await bot.wait_posted(request.id, timeout=10)
        await bot.wait_delivered(request.id)

    assert done.outcome_posted_at is not None
    assert len(_outcomes(bot.slack, request)) == 2  # posted again rather than lost
    [refused] = bot.slack.calls("conversations.replies")
    assert refused.body["channel"] == request.channel_id
    said = [r.getMessage() for r in caplog.records if "could not check" in r.getMessage()]
    assert len(said) == 1 and "missing_scope" in said[0] and "posting it again" in said[0]


async def test_a_reply_not_in_slack_after_a_5xx_is_posted(bot: BotUnderTest) -> None:
    """A 500 before anything was posted: the look-up finds nothing, the reply goes out once."""
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.slack.fail_next("chat.postMessage", ScriptedFailure(500, only_threads=True))

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id, timeout=10)
    await bot.wait_delivered(request.id)

    assert len(_outcomes(bot.slack, request)) == 1
    assert len(bot.slack.calls("conversations.replies")) == 1


@pytest.mark.parametrize("where", ["thread", "dm"])
async def test_the_look_up_pages_through_a_long_thread_or_dm_channel(
    fake_slack: FakeSlack, where: str
) -> None:
    """The message looked for sits on the third page of 200 (a busy thread: oldest first; a
    DM channel: newest first); past LOOKUP_MAX_PAGES pages the look-up gives up, and says so."""
    publisher = SlackPublisher(
        AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url), [APPROVER]
    )
    parent = fake_slack.post("C0CHANNEL1", "request", [])
    request = dataclasses.replace(make_request(), message_ts=parent.ts)
    kind = MessageKind.DM_FINISHED if where == "dm" else MessageKind.OUTCOME
    wanted = DeliveryMark(request.id, 7, kind)
    channel, thread_ts = (REQUESTER, None) if where == "dm" else ("C0CHANNEL1", parent.ts)
    others = [DeliveryMark(request.id, 1000 + n, kind) for n in range(1300)]

    def post(mark: DeliveryMark) -> Message:
        return fake_slack.post(
            channel, "reply", [], thread_ts=thread_ts, metadata=mark.metadata().to_dict()
        )

    ahead = others[:450] if where == "thread" else others[:50]
    for mark in ahead:
        post(mark)
    found = post(wanted)
    for mark in others[len(ahead) : 500]:
        post(mark)  # in a DM channel, the newest come first
    assert await publisher.find_posted(wanted, request, recipient=REQUESTER) == found.ts
    reads = fake_slack.lookups()
    assert [r.path.removeprefix("/api/") for r in reads].count("conversations.open") == (
        1 if where == "dm" else 0
    )
    listed = [r for r in reads if r.path != "/api/conversations.open"]
    assert len(listed) == 3  # pages of 200: the third holds it
    absent = DeliveryMark(request.id, 8, kind)
    assert await publisher.find_posted(absent, request, recipient=REQUESTER) is None
    for mark in others[500:]:
        post(mark)
    with pytest.raises(LookupIncompleteError):
        await publisher.find_posted(absent, request, recipient=REQUESTER)


# -- SIGKILL between Slack taking the message and the bot marking it -----------------------------


async def _signed(http: httpx.AsyncClient, port: str, body: str) -> None:
    response = await http.post(
        f"http://127.0.0.1:{port}/slack/events",
        content=body,
        headers=payloads.signed_headers(body, SIGNING_SECRET),
    )
    assert response.status_code == 200


@asynccontextmanager
async def _store(path: Path) -> AsyncIterator[Store]:
    store = await Store.open(path)
    try:
        yield store
    finally:
        await store.close()


async def _delivered(store: Store, request_id: str) -> bool:
    request = await store.get(request_id)
    return (
        request is not None
        and request.outcome_posted_at is not None
        and await store.undelivered_count(request_id) == 0
    )


@pytest.mark.parametrize(
    ("kind", "stop"),
    [
        ("outcome", signal.SIGKILL),
        ("dm_decided", signal.SIGKILL),
        ("summary", signal.SIGKILL),
        ("outcome", signal.SIGTERM),
    ],
    ids=["outcome", "dm", "summary", "outcome-drained"],
)
async def test_sigkill_after_slack_took_the_message_posts_it_once(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, kind: str, stop: signal.Signals
) -> None:
    """Killed (or drained: SIGTERM, its grace over) after Slack took the message and before
    the bot marked it: the restart on the same database finds it and posts nothing again."""
    orders = BULK if kind == "summary" else (ORDER,)
    for order in orders:
        fake_soget.add(order)
    database = tmp_path / "data" / "bot.sqlite3"
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env["SHUTDOWN_GRACE_SECONDS"] = "1"
    released = asyncio.Event()
    # Slack posts the message; its answer never reaches the bot, killed meanwhile.
    where = ScriptedFailure(0, channel=REQUESTER) if kind == "dm_decided" else THREAD_REPLY
    try:
        async with running_bot(env, tmp_path) as process:
            async with httpx.AsyncClient() as http:
                command = payloads.slash_command(
                    " ".join(orders) + " customer asked",
                    user=REQUESTER,
                    response_url=fake_slack.response_url,
                )
                await _signed(http, env["PORT"], command)
                [post] = await fake_slack.wait_for_calls("chat.postMessage", timeout=10)
                request_id, _ = _approve_value(post.body)
                fake_slack.hold_answer("chat.postMessage", released, where)
                click = payloads.block_action(
                    ActionId.APPROVE,
                    user=APPROVER,
                    request_id=request_id,
                    message_ts="1700000000.000001",
                    response_url=fake_slack.response_url,
                )
                await _signed(http, env["PORT"], click)
            await fake_slack.wait_until(
                lambda: any(_kind(m) == kind for m in fake_slack.messages),
                timeout=10,
                what=f"the {kind} message in Slack",
            )
            # SIGKILL: Slack has the message, the bot never marked it. SIGTERM: the drain
            # cuts the call off once its grace is over and gives the message back.
            process.send_signal(stop)
            await asyncio.wait_for(process.wait(), timeout=20)
        released.set()
        async with _store(database) as store:
            [held] = await store._db.execute_fetchall(
                "SELECT id, delivered_at, claimed_until, maybe_posted FROM outbox WHERE kind = ?"
                " ORDER BY id LIMIT 1",
                (kind,),
            )
            assert held["delivered_at"] is None
            if stop is signal.SIGTERM:
                assert held["claimed_until"] is None and held["maybe_posted"] == 1
            else:
                assert held["claimed_until"] is not None
                # Time passes: the dead process's claims run out (CLAIM_SECONDS).
                await store._db.execute(
                    "UPDATE outbox SET claimed_until = '2000-01-01T00:00:00.000000+00:00'"
                    " WHERE claimed_until IS NOT NULL AND delivered_at IS NULL"
                )

        env["PORT"] = str(free_port())
        async with running_bot(env, tmp_path) as restarted, _store(database) as store:
            for _ in range(1500):
                if await _delivered(store, request_id):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the request's messages were never all delivered")
            summary_ts = await store.summary_ts(request_id)
            [marked] = await store._db.execute_fetchall(
                "SELECT delivered_at, maybe_posted FROM outbox WHERE id = ?", (held["id"],)
            )
            await asyncio.sleep(0.3)  # room for a wrong second post to show up
            restarted.send_signal(signal.SIGTERM)
            await asyncio.wait_for(restarted.wait(), timeout=20)
    finally:
        released.set()

    assert marked["delivered_at"] is not None and marked["maybe_posted"] == 1
    [message] = [m for m in fake_slack.messages if _kind(m) == kind]  # once, not twice
    assert fake_slack.lookups(), "the restart looked for the message before posting it"
    if kind == "summary":
        assert message.ts == summary_ts  # later edits go to the one summary reply
        final = fake_slack.updates(summary_ts)[-1].body
        assert "Done:" in json.dumps(final) and "2 cancelled" in json.dumps(final)
        assert message.text == final["text"]
    elif kind == "dm_decided":
        assert [m.channel for m in fake_slack.messages if _kind(m) == "dm_finished"] == [REQUESTER]
        [opened] = fake_slack.calls("conversations.open")
        assert opened.body["users"] == REQUESTER
    else:
        assert OUTCOME_TEXT in message.text
        assert MessageKind(kind) is MessageKind.OUTCOME
