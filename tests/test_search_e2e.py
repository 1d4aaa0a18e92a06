"""`/cancel-order container …` and `transport …` over signed HTTP, against the fake SOGET's
documented search: paging, the check digit before any call, MouvONE failing, the Choose button's
modal, and submissions of that modal, forged ones included."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from pydantic import SecretStr

from bot.domain.search import SearchArgs, SearchKind, offer_seal
from bot.services.search import seal_key
from bot.slack.ids import ActionId, BlockId, CallbackId, InputActionId
from bot.slack.messages.dm import SANDBOX_MARKER
from bot.slack.messages.search import ChoiceMetadata
from tests import payloads
from tests.conftest import APPROVER, BOT_TOKEN, REQUESTER, BotFactory, BotUnderTest
from tests.fakes.soget_api import Fault

CONTAINER = "CSQU3054383"


def _add(bot: BotUnderTest, count: int, *, container: str = CONTAINER, **fields: Any) -> list[str]:
    ids = []
    for number in range(1, count + 1):
        order_id = f"CDE{number:010d}"
        bot.soget.add(order_id, container_reference=container, **fields)
        ids.append(order_id)
    return ids


def _pages(bot: BotUnderTest) -> list[tuple[str, str]]:
    return [(r.body["offset"], r.body["limit"]) for r in bot.soget.searches()]


def _shown(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


async def _answer(bot: BotUnderTest) -> dict[str, Any]:
    """The private answer posted through the command's response_url."""
    [webhook] = await _webhooks(bot, 1)
    return webhook


async def _webhooks(bot: BotUnderTest, count: int) -> list[dict[str, Any]]:
    await bot.slack.wait_until(lambda: len(bot.slack.webhooks()) >= count, what="respond()")
    return [w.body for w in bot.slack.webhooks()]


def submission(view: dict[str, Any], *, user: str = REQUESTER) -> str:
    return payloads.view_submission(view, user=user)


def _view_of(call_body: dict[str, Any]) -> dict[str, Any]:
    raw = call_body["view"]
    view = raw if isinstance(raw, dict) else json.loads(str(raw))
    assert isinstance(view, dict)
    return view


async def _open_choice(bot: BotUnderTest, value: str) -> dict[str, Any]:
    """Click Choose; the modal as the bot last set it (views.update after views.open)."""
    click = payloads.ephemeral_button(
        ActionId.CHOOSE_ORDERS, user=REQUESTER, value=value, response_url=bot.slack.response_url
    )
    response = await bot.post_signed(click)
    assert response.status_code == 200
    [update] = await bot.slack.wait_for_calls("views.update")
    [opened] = bot.slack.calls("views.open")
    assert opened.body["trigger_id"] == json.loads(parse_qs(click)["payload"][0])["trigger_id"]
    assert update.body["view_id"] == "V0000001"
    return _view_of(update.body)


def _offered(view: dict[str, Any]) -> list[str]:
    return [
        option["value"]
        for block in view["blocks"]
        if block.get("block_id", "").startswith(BlockId.CHOICE_ORDERS.value)
        for option in block["element"]["options"]
    ]


def _ticked(view: dict[str, Any]) -> list[str]:
    return [
        option["value"]
        for block in view["blocks"]
        if block.get("block_id", "").startswith(BlockId.CHOICE_ORDERS.value)
        for option in block["element"].get("initial_options") or []
    ]


def submitted_view(
    view: dict[str, Any], selected: list[str], *, category: str = "customer_request"
) -> dict[str, Any]:
    """The modal as Slack sends it back on submit, with `selected` ticked."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        block_id = block.get("block_id", "")
        if not block_id.startswith(BlockId.CHOICE_ORDERS.value):
            continue
        in_block = [o for o in block["element"]["options"] if o["value"] in selected]
        values[block_id] = {
            InputActionId.CHOICE_ORDERS.value: {
                "type": "checkboxes",
                "selected_options": in_block,
            }
        }
    offered = _offered(view)
    extra = [
        {"text": {"type": "plain_text", "text": s}, "value": s}
        for s in selected
        if s not in offered
    ]
    if extra:  # forged: ticked although not offered
        first = f"{BlockId.CHOICE_ORDERS.value}-1"
        values.setdefault(first, {InputActionId.CHOICE_ORDERS.value: {"selected_options": []}})
        values[first][InputActionId.CHOICE_ORDERS.value]["selected_options"] += extra
    values[BlockId.REQUEST_CATEGORY.value] = {
        InputActionId.REQUEST_CATEGORY.value: {
            "type": "static_select",
            "selected_option": {"value": category},
        }
    }
    values[BlockId.REQUEST_REASON.value] = {
        InputActionId.REQUEST_REASON.value: {
            "type": "plain_text_input",
            "value": "vessel cancelled",
        }
    }
    return {**view, "id": "V0000001", "state": {"values": values}}


# -- the search ---------------------------------------------------------------------------------


async def test_a_container_with_sixty_orders_is_read_in_two_pages_and_all_are_offered(
    bot: BotUnderTest,
) -> None:
    ids = _add(bot, 60)
    bot.soget.add("CDE0000000999", container_reference="MSKU9070323")  # not this container

    response = await bot.command(f"container {CONTAINER.lower()}")

    assert response.status_code == 200
    assert CONTAINER in response.json()["text"]  # the ack: "searching…"
    answer = await _answer(bot)
    assert _pages(bot) == [("0", "50"), ("50", "50")]
    assert all(r.body["containerNumber"] == CONTAINER for r in bot.soget.searches())
    shown = _shown(answer)
    assert all(order_id in shown for order_id in ids) and "CDE0000000999" not in shown
    assert answer["response_type"] == "ephemeral"
    assert ActionId.CHOOSE_ORDERS.value in shown

    [button] = [
        element
        for block in answer["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    view = await _open_choice(bot, button["value"])

    assert _pages(bot)[2:] == [("0", "50"), ("50", "50")]  # searched again: what MouvONE says now
    assert _offered(view) == ids
    limit = bot.runtime.deps.search.orders_per_request
    assert _ticked(view) == ids[:limit]  # one request holds at most `limit`
    assert len([b for b in view["blocks"] if b["type"] == "input"]) == 6 + 2  # 10 a block
    assert view["callback_id"] == CallbackId.CHOICE_MODAL.value
    assert bot.soget.deletes() == [] and bot.slack.channel_posts() == []


async def test_a_wrong_check_digit_is_named_and_mouvone_is_not_asked(bot: BotUnderTest) -> None:
    response = await bot.command("container MSCU1234565")  # the example: 6, not 5

    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert "should be 6, not 5" in reply["text"]
    assert bot.soget.requests == []
    assert bot.slack.webhooks() == []


async def test_what_a_cancel_can_expect_is_said_for_each_order(bot: BotUnderTest) -> None:
    bot.soget.add("CDE0000000001", transport_order_number="TOC-02-03-2022")
    bot.soget.add("CDE0000000002", transport_order_number="TOC-02-03-2022", status="Submitted")
    bot.soget.add("CDE0000000003", transport_order_number="TOC-02-03-2022", status="Cancelled")
    bot.soget.add("CDE0000000004", transport_order_number="TOC-02-03-2022", type="Elementary")

    await bot.command("transport TOC-02-03-2022")

    lines = _shown(await _answer(bot))
    assert [r.body["transportOrderNumber"] for r in bot.soget.searches()] == ["TOC-02-03-2022"]
    assert "`CDE0000000001` · Master · Valid · :white_check_mark: can be cancelled" in lines
    assert "`CDE0000000002` · Master · Submitted · :warning: MouvONE will refuse" in lines
    assert "(`R0008`)" in lines and "(`CANNOT_CANCEL_NOT_MASTER_ORDER`)" in lines
    assert "`CDE0000000003` · Master · Cancelled · :heavy_minus_sign: already cancelled" in lines

    view = await _open_choice(bot, "transport:TOC-02-03-2022")
    assert _offered(view) == ["CDE0000000001", "CDE0000000002", "CDE0000000004"]
    assert _ticked(view) == ["CDE0000000001"]


async def test_nothing_found_is_said_privately(bot: BotUnderTest) -> None:
    await bot.command(f"container {CONTAINER}")

    answer = await _answer(bot)
    assert "no order" in answer["text"] and CONTAINER in answer["text"]
    assert ActionId.CHOOSE_ORDERS.value not in _shown(answer)


async def test_mouvone_failing_during_the_search_is_explained_privately(
    bot: BotUnderTest,
) -> None:
    _add(bot, 3)
    bot.soget.script(*[Fault(method="GET", status=503, body="{}")] * 3)

    await bot.command(f"container {CONTAINER}")

    answer = await _answer(bot)
    assert answer["response_type"] == "ephemeral"
    assert "could not be searched" in answer["text"] and "`server_error`" in _shown(answer)
    assert ActionId.CHOOSE_ORDERS.value not in _shown(answer)
    assert len(bot.soget.searches()) == 3  # a read: retried on 503, within the attempts


async def test_a_search_that_takes_too_long_is_explained_privately(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(search_timeout_seconds=0.3)
    _add(bot, 3)
    bot.soget.script(Fault(method="GET", delay=5.0, body="{}"))

    response = await bot.command(f"container {CONTAINER}")

    assert response.status_code == 200
    answer = await _answer(bot)
    assert "could not be searched" in answer["text"] and "`timeout`" in _shown(answer)


async def test_mouvone_failing_when_the_modal_opens_is_shown_in_the_modal(
    bot: BotUnderTest,
) -> None:
    _add(bot, 3)
    bot.soget.script(Fault(method="GET", status=400, body='{"code": "ORGANIZATION_NOT_FOUND"}'))

    view = await _open_choice(bot, f"container:{CONTAINER}")

    assert "ORGANIZATION_NOT_FOUND" in _shown(view)
    assert "submit" not in view and _offered(view) == []


# -- the choice's submission --------------------------------------------------------------------


async def _offered_view(bot: BotUnderTest, count: int) -> dict[str, Any]:
    _add(bot, count)
    return await _open_choice(bot, f"container:{CONTAINER}")


async def test_an_order_the_search_did_not_offer_is_refused(bot: BotUnderTest) -> None:
    view = await _offered_view(bot, 3)
    bot.soget.add("CDE0000000077", container_reference="MSKU9070323")

    response = await bot.post_signed(
        submission(submitted_view(view, ["CDE0000000001", "CDE0000000077"]))
    )

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "not the ones this search offered" in answer["errors"][f"{BlockId.CHOICE_ORDERS}-1"]
    assert await bot.runtime.store.history_of_order("CDE0000000077") == []
    assert bot.slack.channel_posts() == []


async def test_an_order_slipped_into_the_offered_list_breaks_the_seal(bot: BotUnderTest) -> None:
    view = await _offered_view(bot, 3)
    forged_option = {"text": {"type": "plain_text", "text": "x"}, "value": "CDE0000000077"}
    view["blocks"][1]["element"]["options"].append(forged_option)

    response = await bot.post_signed(submission(submitted_view(view, ["CDE0000000077"])))

    assert response.json()["response_action"] == "errors"
    assert await bot.runtime.store.history_of_order("CDE0000000077") == []


async def test_a_choice_made_for_someone_else_is_refused(bot: BotUnderTest) -> None:
    view = await _offered_view(bot, 3)

    response = await bot.post_signed(
        submission(submitted_view(view, ["CDE0000000001"]), user="U0SOMEONE1")
    )

    assert response.json()["response_action"] == "errors"
    assert await bot.runtime.store.history_of_order("CDE0000000001") == []


async def test_more_orders_than_one_request_holds_are_refused(bot: BotUnderTest) -> None:
    limit = bot.runtime.deps.search.orders_per_request
    view = await _offered_view(bot, limit + 5)

    response = await bot.post_signed(submission(submitted_view(view, _offered(view))))

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert f"at most {limit} orders; {limit + 5} are ticked" in str(answer["errors"])
    assert bot.slack.channel_posts() == []


async def test_a_forged_seal_over_a_view_the_bot_never_made_is_refused(bot: BotUnderTest) -> None:
    """A view made up whole, sealed with a key that is not the bot's."""
    _add(bot, 2)
    args = SearchArgs(SearchKind.CONTAINER, CONTAINER)
    another_key = seal_key(SecretStr("xoxb-another-token"))
    assert another_key != seal_key(bot.runtime.settings.slack_bot_token)
    seal = offer_seal(
        another_key,
        user_id=REQUESTER,
        channel_id=payloads.CHANNEL,
        args=args,
        order_ids=["CDE0000000001"],
    )
    metadata = ChoiceMetadata(payloads.CHANNEL, "container", CONTAINER, seal).dumps()
    view = {
        "type": "modal",
        "callback_id": CallbackId.CHOICE_MODAL.value,
        "private_metadata": metadata,
        "blocks": [
            {
                "type": "input",
                "block_id": f"{BlockId.CHOICE_ORDERS}-1",
                "element": {
                    "type": "checkboxes",
                    "action_id": InputActionId.CHOICE_ORDERS.value,
                    "options": [
                        {"text": {"type": "plain_text", "text": "x"}, "value": "CDE0000000001"}
                    ],
                },
            }
        ],
    }

    response = await bot.post_signed(submission(submitted_view(view, ["CDE0000000001"])))

    assert response.json()["response_action"] == "errors"
    assert await bot.runtime.store.history_of_order("CDE0000000001") == []
    assert BOT_TOKEN not in _shown(response.json())


async def test_the_chosen_orders_and_only_those_make_one_request(bot: BotUnderTest) -> None:
    ids = _add(bot, 5)
    bot.soget.orders["CDE0000000003"].status = "Submitted"  # offered, not ticked
    view = await _open_choice(bot, f"container:{CONTAINER}")
    assert _ticked(view) == [ids[0], ids[1], ids[3], ids[4]]
    chosen = [ids[0], ids[2], ids[3]]  # not what was ticked: what the person ticked

    response = await bot.post_signed(
        submission(submitted_view(view, chosen, category="duplicate_order"))
    )

    assert response.status_code == 200 and not response.content  # the modal closes
    await bot.slack.wait_until(lambda: bool(bot.slack.channel_posts()), what="the request")
    [request] = await bot.runtime.store.history_of_order(ids[0])
    assert request.order_ids == tuple(chosen)
    assert (request.reason_category, request.reason) == ("duplicate_order", "vessel cancelled")
    assert request.requester_id == REQUESTER and request.channel_id == payloads.CHANNEL
    for left in (ids[1], ids[4]):
        assert await bot.runtime.store.history_of_order(left) == []
    assert len(bot.slack.channel_posts()) == 1
    assert bot.soget.deletes() == []  # nothing is cancelled before an approver approves

    await bot.wait_status(request.id, "pending")
    request = await bot.wait_request_posted(request.id)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    await bot.soget.wait_until(lambda: len(bot.soget.deletes()) == 3, what="3 DELETEs")
    assert sorted(r.path.rsplit("/", 1)[1] for r in bot.soget.deletes()) == chosen


async def test_the_sandbox_search_finds_its_orders_and_offers_the_choice(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(
        sandbox=True,
        soget_api_url="https://unreachable.example.invalid/customer-orders/v1",
        soget_access_token=None,
        soget_api_key=None,
    )

    await bot.command("transport TOC-14-11-2026")

    shown = _shown(await _answer(bot))
    assert SANDBOX_MARKER in shown
    for order_id in ("CDE0000000011", "CDE0000000012", "CDE0000000013", "CDE0000000014"):
        assert order_id in shown
    assert "(`R0008`)" in shown and "already cancelled" in shown  # 13 and 15
    view = await _open_choice(bot, "transport:TOC-14-11-2026")
    assert SANDBOX_MARKER in _shown(view)
    assert _ticked(view) == ["CDE0000000011", "CDE0000000012", "CDE0000000014"]
    assert "CDE0000000015" not in _offered(view)
    assert bot.soget.requests == []  # the test's fake SOGET was never called


async def test_beyond_two_hundred_orders_the_answer_says_how_many_were_left_out(
    bot: BotUnderTest,
) -> None:
    _add(bot, 205)

    await bot.command(f"container {CONTAINER}")

    answer = await _answer(bot)
    assert _pages(bot) == [("0", "50"), ("50", "50"), ("100", "50"), ("150", "50")]
    shown = _shown(answer)
    assert "MouvONE counts 205 orders; only the first 200 are shown" in shown
    assert "CDE0000000200" in shown and "CDE0000000201" not in shown
    assert len(answer["blocks"]) <= 50


async def test_a_choice_moved_to_another_channel_is_refused(bot: BotUnderTest) -> None:
    view = await _offered_view(bot, 3)
    metadata = json.loads(view["private_metadata"])
    view["private_metadata"] = json.dumps({**metadata, "c": "C0ELSEWHER"})

    response = await bot.post_signed(submission(submitted_view(view, ["CDE0000000001"])))

    assert response.json()["response_action"] == "errors"
    assert await bot.runtime.store.history_of_order("CDE0000000001") == []


async def test_a_hanging_mouvone_delays_neither_the_ack_nor_the_modal(bot: BotUnderTest) -> None:
    """Slack's 3 s: the command is acked, and the click's trigger used, before MouvONE answers."""
    _add(bot, 2)
    held = asyncio.Event()
    bot.soget.script(Fault(method="GET", hold=held, then_apply=False, status=503, body="{}"))

    response = await bot.command(f"container {CONTAINER}")

    assert "Searching MouvONE" in response.json()["text"]
    await bot.soget.wait_until(lambda: len(bot.soget.searches()) == 1, what="the search")
    assert bot.slack.webhooks() == []  # the answer waits for MouvONE, the ack did not
    held.set()
    await _answer(bot)

    held_again = asyncio.Event()
    bot.soget.script(Fault(method="GET", hold=held_again, status=503, body="{}"))
    click = payloads.ephemeral_button(
        ActionId.CHOOSE_ORDERS,
        user=REQUESTER,
        value=f"container:{CONTAINER}",
        response_url=bot.slack.response_url,
    )
    assert (await bot.post_signed(click)).status_code == 200
    await bot.slack.wait_for_calls("views.open")  # while the search is still held
    assert bot.slack.calls("views.update") == []
    held_again.set()
    await bot.slack.wait_for_calls("views.update")
