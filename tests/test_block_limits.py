"""Property-style: every builder, fed long text full of `&`, `<` and `>`, renders within Slack's
Block Kit limits once escaped, never shows markup raw, and never cuts an entity or a token."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain.approval import Denial
from bot.domain.history import RequestHistory
from bot.domain.preview import Preview, PreviewState
from bot.domain.requests import CancelRequest, OrderItem, OrderState, RequestEvent, RequestStatus
from bot.i18n.catalogue import Language
from bot.slack.messages import audit as audit_blocks
from bot.slack.messages import blocks, mrkdwn
from bot.slack.messages import bulk as bulk_blocks
from bot.slack.messages import dm as notice_blocks
from bot.slack.messages import home as home_blocks
from bot.slack.messages import modals as modal_blocks
from bot.slack.messages import preview as preview_blocks
from bot.slack.messages import private as guard_blocks
from bot.slack.messages import thread as settle_blocks
from bot.soget.models import CustomerOrder

S = RequestStatus
AT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
PERMALINK = "https://example.slack.com/archives/C0CHANNEL1/p1700000000000001"

# Slack's limits (api.slack.com/reference/block-kit), in characters as sent.
LIMITS = {
    ("section", "text"): 3000,
    ("section", "field"): 2000,
    ("context", "element"): 3000,
    ("header", "text"): 150,
    ("button", "text"): 75,
    ("button", "value"): 2000,
    ("confirm", "title"): 100,
    ("confirm", "text"): 300,
    ("confirm", "confirm"): 30,
    ("confirm", "deny"): 30,
    ("input", "label"): 2000,
    ("input", "placeholder"): 150,
    ("view", "title"): 24,
    ("view", "submit"): 24,
    ("view", "close"): 24,
}
MESSAGE_TEXT_LIMIT = 40000
# Markup the bot itself writes: mentions of ids, dates, channel links and its permalinks.
BOT_TOKENS = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|!subteam\^S[A-Z0-9]+|!date\^\d+\^[^|<>]*\|[^<>]*"
    r"|https://example\.slack\.com/[^|<>\s]+\|[^<>]*)>"
)
ENTITY = re.compile(r"&(?:amp|lt|gt);")
QUOTE = re.compile(r"(?m)^>")  # the bot quotes a note on a line of its own

_ALPHABET = [
    "&",
    "&",
    "<",
    ">",
    "<!channel>",
    "<@U0HOSTILE>",
    "&amp;",
    "*",
    "`",
    "é",
    "🎉",
    " ",
    "a",
]


def hostile_texts(seed: int, count: int = 6) -> list[str]:
    """Long, &-heavy text: escaping makes it up to five times longer."""
    rng = random.Random(seed)
    texts = ["&" * 5000, "<" * 1999 + "&", "a" * 1998 + "&&&&"]
    for _ in range(count):
        length = rng.choice([150, 199, 200, 401, 700, 1999, 3001, 6000])
        texts.append("".join(rng.choice(_ALPHABET) for _ in range(length))[:length])
    return texts


TEXTS = hostile_texts(18)


def hostile_order(text: str) -> CustomerOrder:
    return CustomerOrder.model_validate(
        {
            "customerOrderId": "CDE0000000001",
            "type": text,
            "status": text,
            "transportOrderNumber": text,
            "container": {"reference": text, "type": text},
            "contractor": {"code": text, "name": text},
            "carrier": {"code": text, "name": text},
            "date": AT,
        }
    )


def hostile_request(text: str, status: RequestStatus, **changes: Any) -> CancelRequest:
    request = CancelRequest(
        id="0123456789abcdef0123456789abcdef",
        order_id="CDE0000000001" + text[:60],  # ORDER_ID_PATTERN is the operator's choice
        channel_id="C0CHANNEL1",
        requester_id="U0REQUEST1",
        reason=text,
        status=status,
        created_at=AT,
        updated_at=AT,
        decided_by="U0APPROVE1",
        decided_at=AT,
        decision_note=text,
        outcome_code=text[:300],
        outcome_message=text,
        outcome_timestamp=text[:100],
        outcome_http_status=400,
        outcome_note=text,
        outcome_at=AT,
        preview_state=PreviewState.WARNING.value,
        preview_code=text[:300],
        preview_order=hostile_order(text),
        preview_at=AT,
        approved_by="U0APPROVE1,U0APPROVE2",
        reason_category="wrong_data",
    )
    return dataclasses.replace(request, **changes)


Rendered = tuple[str | None, list[dict[str, Any]]]


def rendered_by_every_builder(text: str) -> Iterator[tuple[str, Rendered]]:
    """(name, (fallback text, blocks as sent)) of each builder, for one hostile text."""

    def out(name: str, fallback: str | None, items: list[Block] | View) -> tuple[str, Rendered]:
        if isinstance(items, View):
            return name, (fallback, [items.to_dict()])
        return name, (fallback, [block.to_dict() for block in items])  # validates, too

    approvers = ("U0APPROVE1", "S0APPROVER")
    for status in S:
        request = hostile_request(text, status)
        shown_blocks = blocks.build_request_blocks(request, approvers, required_approvals=3).blocks
        yield out(f"request[{status}]", blocks.request_summary_text(request), shown_blocks)
        for preview_state in PreviewState:
            shown = dataclasses.replace(request, preview_state=preview_state.value)
            yield out(f"preview[{preview_state}]", None, preview_blocks.preview_blocks(shown))
        for language in Language:
            built = blocks.build_outcome_blocks(request, language)
            fallback, outcome = built.text, built.blocks
            yield out(f"outcome[{status},{language}]", fallback, outcome)
            coded = dataclasses.replace(request, outcome_code=None, outcome_failure=text[:80])
            built = blocks.build_outcome_blocks(coded, language)
            fallback, outcome = built.text, built.blocks
            yield out(f"outcome-failure[{status},{language}]", fallback, outcome)
        for language in Language:
            built = notice_blocks.build_decided_dm(request, PERMALINK, language)
            fallback, dm = built.text, built.blocks
            yield out(f"decided-dm[{status},{language}]", fallback, dm)
            built = notice_blocks.build_finished_dm(request, PERMALINK, language)
            fallback, dm = built.text, built.blocks
            yield out(f"finished-dm[{status},{language}]", fallback, dm)
            duplicate = guard_blocks.build_duplicate_text(request, PERMALINK, language).text
            yield out(f"duplicate[{status},{language}]", duplicate, [])
            decided = guard_blocks.already_decided_text(request, language)
            yield out(f"already-decided[{status},{language}]", decided, [])
        yield out(f"verified[{status}]", settle_blocks.build_verified_text(request).text, [])
        yield out(
            f"reminder[{status}]", settle_blocks.build_reminder_text(request, approvers).text, []
        )
        histories = [
            RequestHistory(request, [RequestEvent(request.id, AT, text[:40], "U0APPROVE1", text)])
        ]
        for language in Language:
            built = audit_blocks.build_status_blocks(
                request.order_id, histories, {request.id}, language
            )
            fallback, status_blocks = built.text, built.blocks
            yield out(f"status[{status},{language}]", fallback, status_blocks)
    yield from _bulk_renderings(text, out)
    request = hostile_request(text, S.PENDING)
    yield out("rejection", blocks.build_rejection_reply(request).text, [])
    for language in Language:
        yield out(
            f"reject-modal[{language}]", None, modal_blocks.build_reject_modal(request, language)
        )
        usage = guard_blocks.build_usage_blocks(mrkdwn.escape(text), text, language).blocks
        yield out(f"usage[{language}]", guard_blocks.usage_text(text, language), usage)
        yield out(
            f"not-posted[{language}]", guard_blocks.build_not_posted_text(text, language).text, []
        )
        counted = guard_blocks.approval_counted_text(request, 3, language).text
        yield out(f"counted[{language}]", counted, [])
        for denial in Denial:
            denied = guard_blocks.denial_text(denial, request, ("U0APPROVE1",), language).text
            yield out(f"denial[{denial},{language}]", denied, [])
    for code in (text[:300], "R0008"):
        preview = Preview(
            PreviewState.BLOCKED, order=hostile_order(text), code=code, api_message=text
        )
        for language in Language:
            built = preview_blocks.build_not_requested_reply(request.order_id, preview, language)
            fallback, reply = built.text, built.blocks
            yield out(f"not-requested[{language}]", fallback, reply)
    warning = Preview(PreviewState.WARNING, order=hostile_order(text), code=text[:300])
    built = settle_blocks.build_send_anyway(request, warning)
    fallback, send_anyway = built.text, built.blocks
    yield out("send-anyway", fallback, send_anyway)
    mine = [hostile_request(text, status) for status in S]
    for language in Language:
        pointer = notice_blocks.build_approval_pointer(
            request, "C0APPROVAL", PERMALINK, language
        ).text
        yield out(f"pointer[{language}]", pointer, [])
        yield out(f"home[{language}]", None, home_blocks.build_home_view(
            is_approver=True, waiting=mine[:3], mine=mine, updated_at=AT, language=language
        ))  # fmt: skip
        built = audit_blocks.build_list_blocks("C0CHANNEL1", mine, language, more=True)
        fallback, listed = built.text, built.blocks
        yield out(f"list[{language}]", fallback, listed)


def hostile_bulk_orders(text: str, count: int) -> tuple[OrderItem, ...]:
    """Orders of a bulk request in every state, each with hostile text wherever it is shown."""
    states = list(OrderState)
    return tuple(
        OrderItem(
            order_id=f"CDE{i:010d}" + text[:60],
            position=i,
            state=states[i % len(states)],
            outcome_code=text[:300] if i % 3 else None,
            outcome_failure="timeout",
            outcome_message=text,
            outcome_note=text,
            preview_state=[*PreviewState][i % len(PreviewState)].value,
            preview_code=text[:300],
            preview_order=hostile_order(text),
        )
        for i in range(count)
    )


def _bulk_renderings(
    text: str, out: Callable[[str, str | None, list[Block]], tuple[str, Rendered]]
) -> Iterator[tuple[str, Rendered]]:
    """A bulk request of 3 and of 100 hostile orders, in every status: its message (a compact
    list and a count beyond what fits), its summary reply, the private replies about it."""
    for count in (3, 100):
        orders = hostile_bulk_orders(text, count)
        for status in S:
            request = dataclasses.replace(hostile_request(text, status), orders=orders)
            for language in Language:
                built = blocks.build_request_blocks(
                    request, ("U0APPROVE1",), required_approvals=1, language=language
                )
                yield out(f"bulk-request[{count},{status},{language}]", built.text, built.blocks)
                built = bulk_blocks.build_summary_reply(request, language)
                yield out(f"bulk-summary[{count},{status},{language}]", built.text, built.blocks)
                built = notice_blocks.build_finished_dm(request, PERMALINK, language)
                yield out(
                    f"bulk-finished-dm[{count},{status},{language}]", built.text, built.blocks
                )
                built = notice_blocks.build_decided_dm(request, PERMALINK, language)
                yield out(f"bulk-decided-dm[{count},{status},{language}]", built.text, built.blocks)
        request = dataclasses.replace(hostile_request(text, S.PENDING), orders=orders)
        left_out = [(order.order_id, request, PERMALINK) for order in orders]
        preview = Preview(PreviewState.BLOCKED, code=text[:300], api_message=text)
        skipped = [(order.order_id, preview) for order in orders]
        for language in Language:
            for posted in (True, False):
                built = guard_blocks.build_left_out_text(left_out, language, posted=posted)
                yield out(f"left-out[{count},{posted},{language}]", built.text, built.blocks)
            built = preview_blocks.build_bulk_not_requested_reply(skipped, language)
            yield out(f"bulk-not-requested[{count},{language}]", built.text, built.blocks)


def limit_breaches(node: Any, where: str = "") -> Iterator[str]:
    """Every text of a rendered block tree that is over its Slack limit."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from limit_breaches(item, f"{where}[{index}]")
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")

    def over(part: str, text: str | None) -> Iterator[str]:
        limit = LIMITS[(str(kind), part)]
        if text is not None and len(text) > limit:
            yield f"{where} {kind}.{part}: {len(text)} > {limit}"

    match kind:
        case "section":
            yield from over("text", (node.get("text") or {}).get("text"))
            fields = node.get("fields") or []
            if len(fields) > 10:
                yield f"{where} section: {len(fields)} fields > 10"
            for field in fields:
                yield from over("field", field["text"])
        case "context":
            if len(node["elements"]) > 10:
                yield f"{where} context: {len(node['elements'])} elements > 10"
            for element in node["elements"]:
                yield from over("element", element.get("text"))
        case "header":
            yield from over("text", node["text"]["text"])
        case "button":
            yield from over("text", node["text"]["text"])
            yield from over("value", node.get("value"))
        case "input":
            yield from over("label", node["label"]["text"])
        case "modal" | "home":
            for part in ("title", "submit", "close"):
                if part in node:
                    kind = "view"
                    yield from over(part, node[part]["text"])
                    kind = node["type"]
            if len(node["blocks"]) > 100:
                yield f"{where} view: {len(node['blocks'])} blocks > 100"
    if "confirm" in node:
        confirm = node["confirm"]
        for part in ("title", "text", "confirm", "deny"):
            text = confirm[part]["text"]
            if len(text) > LIMITS[("confirm", part)]:
                yield f"{where} confirm.{part}: {len(text)} > {LIMITS[('confirm', part)]}"
    if "placeholder" in node and len(node["placeholder"]["text"]) > 150:
        yield f"{where} placeholder > 150"
    for key, value in node.items():
        if key != "confirm":
            yield from limit_breaches(value, f"{where}.{key}")


def mrkdwn_texts(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from mrkdwn_texts(item)
    elif isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            yield str(node["text"])
        for value in node.values():
            yield from mrkdwn_texts(value)


def markup_faults(text: str) -> list[str]:
    """Raw `<`/`>` outside the bot's own tokens, or an `&` that starts no entity (raw or cut)."""
    faults = []
    stripped = QUOTE.sub("", BOT_TOKENS.sub("", text))
    if "<" in stripped or ">" in stripped:
        at = min(i for i in (stripped.find("<"), stripped.find(">")) if i >= 0)
        faults.append(f"raw markup: …{stripped[max(0, at - 20) : at + 20]!r}")
    for match in re.finditer("&", text):
        if not ENTITY.match(text, match.start()):
            faults.append(f"bad entity: …{text[max(0, match.start() - 10) : match.start() + 10]!r}")
            break
    return faults


@pytest.mark.parametrize("text", TEXTS, ids=[f"text{i}-{len(t)}" for i, t in enumerate(TEXTS)])
def test_every_builder_stays_within_slack_limits_and_escapes(text: str) -> None:
    problems: list[str] = []
    names = 0
    for name, (fallback, rendered) in rendered_by_every_builder(text):
        names += 1
        problems += [f"{name}: {breach}" for breach in limit_breaches(rendered)]
        if len(rendered) > 50 and not (rendered and rendered[0].get("type") == "home"):
            problems.append(f"{name}: {len(rendered)} blocks > 50")
        texts = list(mrkdwn_texts(rendered))
        if fallback is not None:
            texts.append(fallback)
            if len(fallback) > MESSAGE_TEXT_LIMIT:
                problems.append(f"{name}: text {len(fallback)} > {MESSAGE_TEXT_LIMIT}")
        for shown in texts:
            problems += [f"{name}: {fault}" for fault in markup_faults(shown)]
    assert names > 100
    assert problems == [], "\n".join(problems[:20])


def test_clip_never_cuts_an_entity_or_a_token() -> None:
    for limit in range(2, 40):
        for text in ("&amp;" * 20, "a&lt;b" * 10, "<@U0APPROVE1> " * 5, "x<!date^1^{date}|d> " * 4):
            clipped = mrkdwn.clip(text, limit)
            assert len(clipped) <= limit
            assert markup_faults(clipped) == [], (text, limit, clipped)


@pytest.mark.parametrize("count", [3, 20, 100])
def test_every_order_of_a_bulk_request_is_shown_or_listed(count: int) -> None:
    """Beyond what fits, orders go to the compact list with their count: none is dropped."""
    text = TEXTS[3]
    orders = hostile_bulk_orders(text, count)
    for status in (S.PENDING, S.SUCCEEDED):
        request = dataclasses.replace(hostile_request(text, status), orders=orders)
        for built in (
            blocks.build_request_blocks(request, ("U0APPROVE1",)),
            bulk_blocks.build_summary_reply(request, Language.EN),
        ):
            shown = json.dumps([block.to_dict() for block in built.blocks])
            missing = [o.order_id[:13] for o in orders if o.order_id[:13] not in shown]
            # Ids too long to list within Slack's limits are counted, never dropped silently.
            assert not missing or f" +{len(missing)}" in shown, (status, missing[:5])
