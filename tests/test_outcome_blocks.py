"""The replies that explain an outcome or a preview, rendered without Slack: every documented code
and failure kind in both languages, the words around them, and the preview's blocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.domain.preview import Preview, PreviewState, preview_of
from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import CATALOGUE, DOCUMENTED_CODES, FAILURES, FailureKind, Language
from bot.i18n.notes import NOTE_ALREADY_CANCELLED, note_text
from bot.i18n.texts import say
from bot.slack.messages.blocks import build_outcome_blocks, build_request_blocks
from bot.slack.messages.dm import build_finished_dm
from bot.slack.messages.preview import build_not_requested_reply, preview_blocks
from bot.soget.errors import SogetApiError
from bot.soget.models import CustomerOrder

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
APPROVERS = ("U0APPROVE1",)


def make_request(**fields: Any) -> CancelRequest:
    values: dict[str, Any] = {
        "id": "0123456789abcdef",
        "order_id": "CDE0000000001",
        "channel_id": "C1",
        "requester_id": "U0REQUEST1",
        "reason": "customer asked",
        "status": RequestStatus.FAILED,
        "created_at": NOW,
        "updated_at": NOW,
        "message_ts": "1.0",
        "decided_by": "U0APPROVE1",
        "decided_at": NOW,
    }
    values.update(fields)
    return CancelRequest(**values)


def rendered(blocks: list[Block]) -> str:
    return json.dumps([b.to_dict() for b in blocks], ensure_ascii=False)


# -- outcome replies ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("code", DOCUMENTED_CODES)
def test_every_documented_code_is_explained_in_both_languages(
    code: str, language: Language
) -> None:
    status = RequestStatus.SUCCEEDED if code == "ORDER_ALREADY_CANCELED" else RequestStatus.FAILED
    request = make_request(
        status=status,
        outcome_code=code,
        outcome_message="Commande de transport est introuvable!",
        outcome_timestamp="2022-11-08T14:17:19Z",
        outcome_http_status=400,
    )

    built = build_outcome_blocks(request, language)
    fallback, blocks = built.text, built.blocks

    shown = rendered(blocks)
    text = CATALOGUE[code].text(language)
    assert text.meaning in shown
    assert "« Commande" in shown if language is Language.FR else "“Commande" in shown
    if status is RequestStatus.FAILED:
        assert text.title in shown and text.next_step in shown and f"`{code}`" in shown
        assert say("thread.what_to_do", language) in shown
        retry_key = (
            "thread.retry_may_help"
            if CATALOGUE[code].retry_can_help
            else "thread.retry_will_not_help"
        )
        assert say(retry_key, language) in shown
        assert "HTTP 400" in shown and "2022-11-08T14:17:19Z" in shown
        assert fallback == say(
            "thread.not_cancelled_fallback",
            language,
            order="CDE0000000001",
            title=text.title,
            code=code,
        )
    else:
        assert fallback == say("thread.cancelled_fallback", language, order="CDE0000000001")


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(FailureKind))
def test_every_failure_kind_is_explained_in_both_languages(
    kind: FailureKind, language: Language
) -> None:
    status = RequestStatus.UNKNOWN if kind is FailureKind.TIMEOUT else RequestStatus.FAILED
    request = make_request(status=status, outcome_failure=kind.value)

    built = build_outcome_blocks(request, language)
    _fallback, blocks = built.text, built.blocks

    shown = rendered(blocks)
    text = FAILURES[kind].text(language)
    assert text.title in shown and text.meaning in shown and text.next_step in shown
    lead = "thread.outcome_unknown" if status is RequestStatus.UNKNOWN else "thread.not_cancelled"
    assert say(lead, language, order="CDE0000000001") in shown


def test_unknown_code_is_shown_raw_with_the_generic_explanation() -> None:
    request = make_request(outcome_code="R0042", outcome_message="<!channel> nouveau")

    built = build_outcome_blocks(request, Language.FR)
    _fallback, blocks = built.text, built.blocks

    shown = rendered(blocks)
    assert "`R0042`" in shown
    assert FAILURES[FailureKind.UNKNOWN_CODE].text(Language.FR).title in shown
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown


@pytest.mark.parametrize("language", list(Language))
def test_success_notes_are_translated(language: Language) -> None:
    note = NOTE_ALREADY_CANCELLED
    request = make_request(
        status=RequestStatus.SUCCEEDED, outcome_code="ORDER_ALREADY_CANCELED", outcome_note=note
    )

    built = build_outcome_blocks(request, language)
    _fallback, blocks = built.text, built.blocks

    assert note_text(note, language) in rendered(blocks)


# -- the preview in the request message ------------------------------------------------------------

ORDER_JSON = {
    "customerOrderId": "CDE0000000001",
    "type": "Master",
    "status": "Valid",
    "transportOrderNumber": "TOC-02-03-2022",
    "container": {"reference": "CGMU2436601", "type": "45G1"},
    "contractor": {"code": "FWD01", "name": "Forwarder One"},
    "carrier": {"code": "CAR01"},
    "date": "2026-11-20T08:00:00Z",
    "clientReference": None,
}


def _with_preview(preview: Preview) -> CancelRequest:
    columns = preview.columns(NOW)
    order = columns.pop("preview_order")
    return make_request(
        status=RequestStatus.PENDING,
        decided_by=None,
        decided_at=None,
        preview_order=CustomerOrder.model_validate_json(order) if order else None,
        **columns,
    )


def test_no_preview_blocks_for_requests_stored_before_previews() -> None:
    assert preview_blocks(make_request(status=RequestStatus.PENDING)) == []


def test_ready_preview_lists_the_order_without_warning() -> None:
    request = _with_preview(preview_of(CustomerOrder.model_validate(ORDER_JSON)))

    shown = rendered(preview_blocks(request))

    for expected in (
        "*Type*\\nMaster",
        "*Status*\\nValid",
        "*Transport order*\\nTOC-02-03-2022",
        "*Container*\\nCGMU2436601 (45G1)",
        "*Carrier*\\nCAR01",
        "*Contractor*\\nForwarder One (FWD01)",
        "*Client reference*\\n—",
        "*Order date*\\n<!date^",
    ):
        assert expected in shown
    assert "will refuse" not in shown


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"type": "SegmentTransfer"}, "CANNOT_CANCEL_NOT_MASTER_ORDER"),
        ({"status": "InProcess"}, "R0008"),
    ],
)
def test_warning_names_the_code(fields: dict[str, str], code: str) -> None:
    order = CustomerOrder.model_validate(ORDER_JSON | fields)
    request = _with_preview(preview_of(order))

    shown = rendered(build_request_blocks(request, APPROVERS).blocks)

    assert f"MouvONE will refuse this cancel: {CATALOGUE[code].text(Language.EN).title}" in shown
    assert f"`{code}`" in shown
    assert next(iter(fields.values())) in shown


@pytest.mark.parametrize(
    ("preview", "code"),
    [
        (Preview(PreviewState.UNAVAILABLE, failure=FailureKind.SERVER_ERROR), "server_error"),
        (Preview(PreviewState.UNAVAILABLE, code="ACTOR_NOT_FOUND"), "ACTOR_NOT_FOUND"),
        (Preview(PreviewState.UNAVAILABLE), "unknown"),
    ],
)
def test_unavailable_preview_says_so(preview: Preview, code: str) -> None:
    shown = rendered(build_request_blocks(_with_preview(preview), APPROVERS).blocks)

    assert "*Preview unavailable*" in shown and f"`{code}`" in shown
    assert "cancel-order-approve" in shown  # approvers can still decide


def test_hostile_values_are_escaped_and_clipped() -> None:
    order = CustomerOrder.model_validate(
        ORDER_JSON | {"clientReference": "<!here> " + "x" * 500, "type": "<@U1>"}
    )

    shown = rendered(preview_blocks(_with_preview(preview_of(order))))

    assert "<!here>" not in shown and "<@U1>" not in shown
    assert "x" * 300 not in shown


# -- the private reply when there is nothing to approve ---------------------------------------


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    "preview",
    [
        preview_of(
            SogetApiError(
                http_status=400,
                code="CUSTOMER_ORDER_NOT_FOUND",
                message="introuvable",
                timestamp=None,
            )
        ),
        preview_of(
            SogetApiError(http_status=400, code="WRONG_FORMAT", message=None, timestamp=None)
        ),
        preview_of(CustomerOrder.model_validate(ORDER_JSON | {"status": "Cancelled"})),
    ],
    ids=["not-found", "wrong-format", "cancelled"],
)
def test_not_requested_reply(preview: Preview, language: Language) -> None:
    assert preview.blocked and preview.code is not None

    built = build_not_requested_reply("CDE0000000001", preview, language)
    fallback, blocks = built.text, built.blocks

    shown = rendered(blocks)
    text = CATALOGUE[preview.code].text(language)
    assert say("preview.not_requested", language, order="CDE0000000001") in shown
    assert text.title in shown and text.meaning in shown and text.next_step in shown
    assert say("preview.not_requested_footer", language) in shown
    assert ("introuvable" in shown) is (preview.api_message is not None)
    assert preview.code in fallback


@pytest.mark.parametrize("language", list(Language))
def test_a_reply_sent_while_the_order_is_read_back_never_says_not_cancelled(
    language: Language,
) -> None:
    """An "outcome unknown" reply or DM still queued when the read-back starts is rendered from
    the request as it is then (EXECUTING): it must say the outcome is not known, not that the
    order was not cancelled."""
    reading_back = make_request(
        status=RequestStatus.EXECUTING, outcome_failure=FailureKind.TIMEOUT.value
    )
    order = reading_back.order_id

    reply = build_outcome_blocks(reading_back, language)
    dm = build_finished_dm(reading_back, None, language)

    unknown = say("thread.outcome_unknown", language, order=order)
    assert unknown in rendered(reply.blocks)
    assert say("thread.not_cancelled", language, order=order) not in rendered(reply.blocks)
    assert dm.text == say("dm.finished.unknown_text", language, order=order)
