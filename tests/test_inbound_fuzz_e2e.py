"""Every field of every kind of signed request Slack sends, broken one at a time.

`test_inbound_hostile_e2e.py` lists the malformed payloads we thought of; this takes each genuine
payload the bot handles and, for every field in it (nested ones too), sends it once without the
field and once with each value of the wrong kind. The request is signed: the door lets it in.
Whatever the field, the bot answers 200, 400 or 404, never a 500; it logs no error and no
traceback; and since the clicker is no approver (or an approver clicking Reject, which only opens
the form) and no value here names one, nothing is decided:
the request stays pending, MouvONE gets no DELETE, the request message is left as it is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.ids import ActionId, BlockId, CallbackId, InputActionId
from tests import payloads
from tests.conftest import APPROVER, OUTSIDER, REQUESTER, BotUnderTest

ORDER = "CDE0000000061"
BARRIER = "U0BARRIER1"  # no approver either
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

# What a field becomes: each of the wrong kind for most fields, and a few right-kind oddities.
WRONG_VALUES: tuple[Any, ...] = (
    None,
    "",
    0,
    -1,
    True,
    [],
    {},
    ["x"],
    {"id": None},
    "x" * 5000,
    "\u202e\x00\ud7ff",
)
_DELETED = object()

Path = tuple[str | int, ...]


def _paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every field below `value` (not `value` itself), depth first."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key)
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*path, index)
            yield from _paths(child, (*path, index))


def _changed(document: Any, path: Path, new: Any) -> Any:
    """A deep copy of `document` with the field at `path` set to `new` (or deleted)."""
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if new is _DELETED:
        if isinstance(parent, dict):
            del parent[last]
        else:
            parent.pop(last)
    else:
        parent[last] = new
    return copy


def mutants(document: Any) -> Iterator[tuple[str, Any]]:
    for path in _paths(document):
        where = "/".join(str(step) for step in path)
        yield f"{where} deleted", _changed(document, path, _DELETED)
        for value in WRONG_VALUES:
            yield f"{where} = {str(value)[:12]!r}", _changed(document, path, value)


def _payload_of(form_body: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(dict(parse_qsl(form_body))["payload"])
    return parsed


def genuine_payloads(
    request_id: str, message_ts: str, response_url: str
) -> dict[str, tuple[dict[str, Any], str]]:
    """One genuine payload of each kind, sent by someone who may decide nothing, with the
    content type it comes in over HTTP."""
    clicks = {
        f"click {action.name.lower()}": _payload_of(
            payloads.block_action(
                action,
                user=OUTSIDER,
                request_id=request_id,
                message_ts=message_ts,
                response_url=response_url,
            )
        )
        for action in (ActionId.APPROVE, ActionId.REJECT, ActionId.WITHDRAW, ActionId.RETRY)
    }
    # An approver's Reject only opens the form: the deepest path a click takes without deciding.
    clicks["approver's click reject"] = _payload_of(
        payloads.block_action(
            ActionId.REJECT,
            user=APPROVER,
            request_id=request_id,
            message_ts=message_ts,
            response_url=response_url,
        )
    )
    anyway = _payload_of(
        payloads.ephemeral_button(
            ActionId.SEND_ANYWAY, user=OUTSIDER, value=request_id, response_url=response_url
        )
    )
    reject = _payload_of(
        payloads.reject_submission(user=OUTSIDER, request_id=request_id, reason="x")
    )
    form = {
        "type": "modal",
        "callback_id": CallbackId.REQUEST_MODAL.value,
        "private_metadata": payloads.CHANNEL,
        "state": {
            "values": {
                BlockId.REQUEST_ORDER.value: {
                    InputActionId.REQUEST_ORDER.value: {"type": "plain_text_input", "value": "x"}
                },
                BlockId.REQUEST_CATEGORY.value: {
                    InputActionId.REQUEST_CATEGORY.value: {
                        "type": "static_select",
                        "selected_option": {"value": "other"},
                    }
                },
            }
        },
    }
    request_form = _payload_of(payloads.view_submission(form, user=OUTSIDER))
    closed = {**reject, "type": "view_closed", "is_cleared": False}
    return {
        **{name: (payload, FORM) for name, payload in clicks.items()},
        "click send anyway": (anyway, FORM),
        "reject submission": (reject, FORM),
        "request form with a bad order id": (request_form, FORM),
        "closed reject modal": (closed, FORM),
        "home opened": (json.loads(payloads.app_home_opened(user=OUTSIDER)), JSON),
    }


def _body(payload: Any, content_type: str) -> str:
    if content_type == JSON:
        return json.dumps(payload)
    return urlencode({"payload": json.dumps(payload)})


async def _barrier(bot: BotUnderTest, request: CancelRequest) -> None:
    """A genuine click of someone else, answered privately once handled: the mutants sent before
    it were taken up by then (their handlers may still be finishing, their effects are checked
    on the stored request, which no late handler could change)."""
    assert request.message_ts is not None
    await bot.post_signed(
        payloads.block_action(
            ActionId.APPROVE,
            user=BARRIER,
            request_id=request.id,
            message_ts=request.message_ts,
            response_url=bot.slack.response_url,
        )
    )
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(BARRIER)), what="the barrier")


@pytest.fixture
async def pending(bot: BotUnderTest) -> CancelRequest:
    bot.soget.add(ORDER)
    return await bot.request_posted_for(ORDER)


KINDS = [
    "click approve",
    "click reject",
    "click withdraw",
    "click retry",
    "click send anyway",
    "approver's click reject",
    "reject submission",
    "request form with a bad order id",
    "closed reject modal",
    "home opened",
]


@pytest.mark.parametrize("kind", KINDS)
async def test_any_field_broken_is_refused_and_decides_nothing(
    bot: BotUnderTest, pending: CancelRequest, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert pending.message_ts is not None
    genuine, content_type = genuine_payloads(
        pending.id, pending.message_ts, bot.slack.response_url
    )[kind]
    updates_before = len(bot.slack.updates(pending.message_ts))
    answered: dict[int, int] = {}
    broken = list(mutants(genuine))
    assert len(broken) > 50  # the walk found the fields

    for what, mutant in broken:
        body = _body(mutant, content_type)
        response = await bot.post_signed(body, content_type=content_type)
        answered[response.status_code] = answered.get(response.status_code, 0) + 1
        assert response.status_code in (200, 400, 404), f"{kind}, {what}: {response.status_code}"
        assert "Traceback" not in response.text, f"{kind}, {what}"

    await _barrier(bot, pending)
    loud = [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR or r.exc_info
    ]
    assert loud == []
    assert answered.get(400, 0) > 0  # some of them were malformed at the door
    request = await bot.request(pending.id)
    assert request.status is RequestStatus.PENDING and request.approver_ids == ()
    assert bot.soget.deletes() == []
    assert len(bot.slack.updates(pending.message_ts)) == updates_before
    assert await bot.runtime.store.history_of_order(ORDER) == [request]


async def test_the_same_bot_still_serves_the_requester_afterwards(
    bot: BotUnderTest, pending: CancelRequest
) -> None:
    """The walk's mutants do not wedge the app: a genuine withdrawal still goes through."""
    assert pending.message_ts is not None
    genuine, content_type = genuine_payloads(
        pending.id, pending.message_ts, bot.slack.response_url
    )["click approve"]
    for _what, mutant in list(mutants(genuine))[:100]:
        await bot.post_signed(_body(mutant, content_type), content_type=content_type)

    await bot.post_signed(
        payloads.block_action(
            ActionId.WITHDRAW,
            user=REQUESTER,
            request_id=pending.id,
            message_ts=pending.message_ts,
            response_url=bot.slack.response_url,
        )
    )

    await bot.wait_status(pending.id, RequestStatus.WITHDRAWN.value)
