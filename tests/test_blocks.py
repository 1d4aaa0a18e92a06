"""Tests for bot.blocks: every Block Kit message and view, built from data."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from bot.domain.requests import (
    TERMINAL_STATUSES,
    CancelRequest,
    OrderItem,
    OrderState,
    RequestStatus,
)
from bot.i18n.catalogue import CATALOGUE, FAILURES, FailureKind, Language
from bot.i18n.notes import NOTE_CONFIRMED_BY_READING
from bot.slack.ids import ActionId, BlockId
from bot.slack.messages.blocks import (
    build_outcome_blocks,
    build_rejection_reply,
    build_request_blocks,
    request_summary_text,
)
from bot.slack.messages.mrkdwn import escape, mention
from bot.soget.models import CustomerOrder

S = RequestStatus
CREATED = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
DECIDED = datetime(2024, 5, 6, 7, 18, 9, tzinfo=UTC)
APPROVERS = ("U0APPROVE1", "S0APPROVER")
REQUEST_ID = "0123456789abcdef0123456789abcdef"
HOSTILE = "<!channel> see <https://evil.example|click> & *bold* <@U0BOSS> <!subteam^S1>"


def make_request(status: RequestStatus = S.PENDING, **changes: Any) -> CancelRequest:
    request = CancelRequest(
        id=REQUEST_ID,
        order_id="CDE0000000001",
        channel_id="C0CHANNEL1",
        requester_id="U0REQUEST1",
        reason="customer asked",
        status=status,
        created_at=CREATED,
        updated_at=CREATED,
    )
    if status is not S.PENDING:
        request = dataclasses.replace(request, decided_by="U0APPROVE1", decided_at=DECIDED)
    return dataclasses.replace(request, **changes)


def realistic(status: RequestStatus) -> CancelRequest:
    """A request as the service leaves it in `status`."""
    match status:
        case S.SUCCEEDED:
            return make_request(status, outcome_at=DECIDED, outcome_http_status=200)
        case S.FAILED:
            return make_request(
                status,
                outcome_code="R0008",
                outcome_message="Commande en cours",
                outcome_timestamp="2024-05-06T07:18:10Z",
                outcome_http_status=400,
                outcome_at=DECIDED,
            )
        case S.UNKNOWN:
            return make_request(status, outcome_failure="timeout", outcome_at=DECIDED)
        case S.REJECTED | S.WITHDRAWN:
            return make_request(status, decision_note="not this one")
        case _:
            return make_request(status)


def dump(blocks: Sequence[Block]) -> str:
    """The JSON Slack receives; raises if a block does not validate."""
    for block in blocks:
        block.validate_json()
    return json.dumps([block.to_dict() for block in blocks], ensure_ascii=False)


def texts(blocks: Sequence[Block]) -> str:
    """Every string value in the blocks, joined: what a reader can see."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.append(node)

    walk([block.to_dict() for block in blocks])
    return "\n".join(found)


def actions_blocks(blocks: Sequence[Block]) -> list[ActionsBlock]:
    return [b for b in blocks if isinstance(b, ActionsBlock)]


# -- request message ---------------------------------------------------------------------------


def test_pending_request_has_approve_and_reject_buttons() -> None:
    blocks = build_request_blocks(make_request(), APPROVERS).blocks

    actions = actions_blocks(blocks)
    assert len(actions) == 1
    assert actions[0].block_id == BlockId.DECISION
    buttons = {e.action_id: e for e in actions[0].elements if isinstance(e, ButtonElement)}
    assert list(buttons)[:2] == [ActionId.APPROVE, ActionId.REJECT]
    assert all(b.value == REQUEST_ID for b in buttons.values())
    approve, reject = buttons[ActionId.APPROVE], buttons[ActionId.REJECT]
    assert approve.confirm is not None
    assert approve.style == "primary"
    confirm = approve.confirm.to_dict()
    assert "CDE0000000001" in json.dumps(confirm)
    assert confirm["confirm"]["text"]
    assert confirm["deny"]["text"]
    assert reject.confirm is None
    dump(blocks)


def test_pending_request_shows_order_requester_reason_and_approvers() -> None:
    shown = texts(build_request_blocks(make_request(), APPROVERS).blocks)

    assert "CDE0000000001" in shown
    assert "<@U0REQUEST1>" in shown
    assert "customer asked" in shown
    assert "<@U0APPROVE1>" in shown
    assert "<!subteam^S0APPROVER>" in shown
    assert f"<!date^{int(CREATED.timestamp())}^" in shown


def test_request_without_reason_says_so() -> None:
    shown = texts(build_request_blocks(make_request(reason=""), APPROVERS).blocks)

    assert "No reason given" in shown


@pytest.mark.parametrize("status", list(RequestStatus))
def test_blocks_validate_for_every_status(status: RequestStatus) -> None:
    request = realistic(status)

    blocks = build_request_blocks(request, APPROVERS).blocks

    encoded = dump(blocks)
    assert "CDE0000000001" in encoded
    for block in blocks:
        if isinstance(block, SectionBlock):
            for field in block.fields or []:
                assert len(field.text or "") <= 2000


@pytest.mark.parametrize("status", [s for s in RequestStatus if s is not S.PENDING])
def test_non_pending_request_has_no_decision_buttons(status: RequestStatus) -> None:
    blocks = build_request_blocks(realistic(status), APPROVERS).blocks

    shown = json.dumps([b.to_dict() for b in blocks])
    assert ActionId.APPROVE.value not in shown
    assert ActionId.REJECT.value not in shown


# UNKNOWN is left out: an approver may be offered a way to resend a cancel whose outcome is unknown.
@pytest.mark.parametrize(
    "status", [s for s in RequestStatus if s in TERMINAL_STATUSES or s in (S.APPROVED, S.EXECUTING)]
)
def test_decided_request_has_no_actions_block(status: RequestStatus) -> None:
    blocks = build_request_blocks(realistic(status), APPROVERS).blocks

    assert actions_blocks(blocks) == []


@pytest.mark.parametrize("status", list(RequestStatus))
def test_summary_text_for_every_status(status: RequestStatus) -> None:
    text = request_summary_text(realistic(status))

    assert "CDE0000000001" in text
    assert "<@U0REQUEST1>" in text


def test_status_lines_say_what_happened() -> None:
    def line(status: RequestStatus) -> str:
        return texts(build_request_blocks(realistic(status), APPROVERS).blocks)

    assert "Cancelled in MouvONE" in line(S.SUCCEEDED)
    assert "Not cancelled" in line(S.FAILED)
    assert "R0008" in line(S.FAILED)
    assert "Outcome unknown" in line(S.UNKNOWN)
    assert "Rejected by <@U0APPROVE1>" in line(S.REJECTED)
    assert "not this one" in line(S.REJECTED)
    assert "Withdrawn" in line(S.WITHDRAWN)
    assert "Not cancelled" not in line(S.UNKNOWN)


def test_hostile_reason_is_escaped() -> None:
    blocks = build_request_blocks(make_request(reason=HOSTILE), APPROVERS).blocks

    shown = texts(blocks)
    dump(blocks)
    assert "<!channel>" not in shown
    assert "<https://evil" not in shown
    assert "<@U0BOSS>" not in shown
    assert "<!subteam^S1>" not in shown
    assert "&lt;!channel&gt;" in shown
    assert "&lt;https://evil.example|click&gt;" in shown
    assert " &amp; " in shown
    assert "&amp;amp;" not in shown
    assert "bold" in shown  # the text is kept, only made harmless


def test_hostile_decision_note_is_escaped() -> None:
    for status in (S.REJECTED, S.WITHDRAWN):
        shown = texts(
            build_request_blocks(make_request(status, decision_note=HOSTILE), APPROVERS).blocks
        )

        assert "<!channel>" not in shown
        assert "&lt;!channel&gt;" in shown


def test_longest_hostile_reason_still_validates() -> None:
    blocks = build_request_blocks(make_request(reason="<" * 500), APPROVERS).blocks

    dump(blocks)
    section = blocks[1]
    assert isinstance(section, SectionBlock)
    assert all(len(field.text or "") <= 2000 for field in section.fields or [])


# -- outcome in the thread ---------------------------------------------------------------------


def test_failed_outcome_with_r0008_explains_the_code() -> None:
    request = make_request(
        S.FAILED,
        outcome_code="R0008",
        outcome_message="Commande en cours de traitement",
        outcome_timestamp="2024-05-06T07:18:10Z",
        outcome_http_status=400,
        outcome_at=DECIDED,
    )

    built = build_outcome_blocks(request)
    text, blocks = built.text, built.blocks

    shown = texts(blocks)
    explanation = CATALOGUE["R0008"].text(Language.EN)
    dump(blocks)
    assert "`R0008`" in shown
    assert explanation.title in shown
    assert explanation.meaning in shown
    assert explanation.next_step in shown
    assert "“Commande en cours de traitement”" in shown
    assert "2024-05-06T07:18:10Z" in shown
    assert "HTTP 400" in shown
    assert "was not cancelled" in shown
    assert "<@U0REQUEST1>" in shown
    assert "R0008" in text
    assert "CDE0000000001" in text


def test_outcome_in_french() -> None:
    request = make_request(S.FAILED, outcome_code="R0008", outcome_at=DECIDED)

    built = build_outcome_blocks(request, Language.FR)
    _, blocks = built.text, built.blocks

    assert CATALOGUE["R0008"].text(Language.FR).title in texts(blocks)


def test_unknown_code_is_shown_raw() -> None:
    request = make_request(
        S.FAILED, outcome_code="XYZ_NEW", outcome_message="nouveau", outcome_at=DECIDED
    )

    built = build_outcome_blocks(request)
    text, blocks = built.text, built.blocks

    shown = texts(blocks)
    dump(blocks)
    assert "XYZ_NEW" in shown
    assert "XYZ_NEW" in text
    assert FAILURES[FailureKind.UNKNOWN_CODE].text(Language.EN).title in shown
    assert "“nouveau”" in shown


def test_hostile_api_message_is_escaped() -> None:
    request = make_request(
        S.FAILED, outcome_code="<!here>", outcome_message=HOSTILE, outcome_at=DECIDED
    )

    built = build_outcome_blocks(request)
    _, blocks = built.text, built.blocks

    shown = texts(blocks)
    assert "<!channel>" not in shown
    assert "<!here>" not in shown
    assert "&lt;!channel&gt;" in shown


def test_timeout_outcome_is_unknown_never_not_cancelled() -> None:
    request = make_request(S.UNKNOWN, outcome_failure="timeout", outcome_at=DECIDED)

    built = build_outcome_blocks(request)
    text, blocks = built.text, built.blocks

    shown = texts(blocks)
    dump(blocks)
    assert "outcome unknown" in shown.lower()
    assert FAILURES[FailureKind.TIMEOUT].text(Language.EN).title in shown
    assert "was not cancelled" not in shown
    assert "was not cancelled" not in text  # the notification text too
    assert "not cancelled" not in text.lower()


@pytest.mark.parametrize("kind", list(FailureKind))
def test_failure_kinds_have_an_outcome_message(kind: FailureKind) -> None:
    request = make_request(S.FAILED, outcome_failure=kind.value, outcome_at=DECIDED)

    built = build_outcome_blocks(request)
    text, blocks = built.text, built.blocks

    shown = texts(blocks)
    dump(blocks)
    assert FAILURES[kind].text(Language.EN).title in shown
    assert f"`{kind.value}`" in shown
    assert text


def test_unrecognised_failure_falls_back_to_unexpected_status() -> None:
    request = make_request(S.FAILED, outcome_failure="brand_new_failure", outcome_at=DECIDED)

    built = build_outcome_blocks(request)
    _, blocks = built.text, built.blocks

    assert FAILURES[FailureKind.UNEXPECTED_STATUS].text(Language.EN).title in texts(blocks)


def test_succeeded_outcome() -> None:
    request = make_request(S.SUCCEEDED, outcome_at=DECIDED)

    built = build_outcome_blocks(request)
    text, blocks = built.text, built.blocks

    shown = texts(blocks)
    dump(blocks)
    assert "is cancelled in MouvONE" in shown
    assert "<@U0REQUEST1>" in shown
    assert "<@U0APPROVE1>" in shown
    assert "not cancelled" not in shown
    assert text == "Order CDE0000000001 is cancelled in MouvONE."


def test_already_cancelled_outcome_explains_and_notes() -> None:
    request = make_request(
        S.SUCCEEDED,
        outcome_code="ORDER_ALREADY_CANCELED",
        outcome_note="already cancelled before this request",
        outcome_at=DECIDED,
    )

    built = build_outcome_blocks(request)
    _, blocks = built.text, built.blocks

    shown = texts(blocks)
    dump(blocks)
    assert CATALOGUE["ORDER_ALREADY_CANCELED"].text(Language.EN).meaning in shown
    assert "already cancelled before this request" in shown


def test_long_api_message_is_clipped() -> None:
    request = make_request(S.FAILED, outcome_code="R0008", outcome_message="é" * 5000)

    built = build_outcome_blocks(request)
    _, blocks = built.text, built.blocks

    dump(blocks)
    assert "é" * 501 not in texts(blocks)


# -- rejection -----------------------------------------------------------------------------------


def test_rejection_reply_escapes_the_note() -> None:
    reply = build_rejection_reply(make_request(S.REJECTED, decision_note=HOSTILE)).text

    assert "<!channel>" not in reply
    assert "&lt;!channel&gt;" in reply
    assert "<@U0REQUEST1>" in reply
    assert "<@U0APPROVE1>" in reply
    assert "Nothing was sent to MouvONE" in reply


def test_escape_and_mention() -> None:
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"
    assert mention("U0APPROVE1") == "<@U0APPROVE1>"
    assert mention("W0GRIDUSER") == "<@W0GRIDUSER>"
    assert mention("S0APPROVER") == "<!subteam^S0APPROVER>"


def test_approvals_progress_names_who_approved_so_far() -> None:
    from dataclasses import replace

    from bot.slack.messages.blocks import approvals_progress

    request = make_request(approved_by="U0A,U0B")
    assert approvals_progress(request, 3) == "2 of 3 approvals: <@U0A>, <@U0B>"
    assert approvals_progress(request, 1) == ""
    assert approvals_progress(replace(request, approved_by=None), 2) == ""


def bulk_orders(count: int = 7, *, hostile: str = "") -> tuple[OrderItem, ...]:
    """Orders of a bulk request in every state, with previews and outcomes as stored."""
    order = CustomerOrder.model_validate(
        {"customerOrderId": "CDE0000000001", "type": "Master" + hostile, "status": "Valid"}
    )
    shapes: list[dict[str, Any]] = [
        {"state": OrderState.SUCCEEDED, "preview_state": "ready", "preview_order": order},
        {
            "state": OrderState.FAILED,
            "outcome_code": "R0008",
            "preview_state": "warning",
            "preview_code": "R0008",
            "preview_order": order,
        },
        {"state": OrderState.UNKNOWN, "outcome_failure": "timeout", "preview_state": "ready"},
        {"state": OrderState.UNAVAILABLE, "outcome_failure": "connection_failed"},
        {
            "state": OrderState.SKIPPED,
            "preview_state": "blocked",
            "preview_code": "CUSTOMER_ORDER_NOT_FOUND",
        },
        {"state": OrderState.WAITING, "preview_state": "unavailable", "preview_failure": "timeout"},
        {"state": OrderState.SUCCEEDED, "outcome_note": NOTE_CONFIRMED_BY_READING},
    ]
    return tuple(
        OrderItem(order_id=f"CDE{i:010d}", position=i, **shapes[i % len(shapes)])
        for i in range(count)
    )


def bulk_request(status: RequestStatus, count: int = 7, **changes: Any) -> CancelRequest:
    return dataclasses.replace(realistic(status), orders=bulk_orders(count), **changes)
