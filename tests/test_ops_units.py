"""Unit tests of the operations pieces that need no server: parsing, marking, notices, labels."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import SectionBlock

from bot.domain.commands import ListArgs, StatusArgs, UsageError, parse_cancel_command
from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import FailureKind, Language
from bot.observability.metrics import error_code_label
from bot.services.notices import notice_for
from bot.slack.messages.audit import status_label
from bot.slack.messages.dm import SANDBOX_MARKER, build_decided_dm, build_finished_dm
from bot.slack.messages.home import build_home_view
from bot.slack.messages.private import usage_problem_text
from bot.slack.sandbox import mark_api_payload, mark_message, mark_view
from bot.soget.errors import SogetApiError, SogetHttpError, SogetTimeout
from handlers.middleware import cancel_request_id

PATTERN = re.compile(r"CDE\d{10}", re.I)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
REQUEST = CancelRequest(
    id="0123456789abcdef0123456789abcdef",
    order_id="CDE0000000001",
    channel_id="C0CHANNEL1",
    requester_id="U0REQUEST1",
    reason="customer asked",
    status=RequestStatus.PENDING,
    created_at=NOW,
    updated_at=NOW,
    message_ts="1700000000.000001",
)


# -- subcommands -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["status CDE0000000001", "  STATUS   cde0000000001 "])
def test_status_subcommand(text: str) -> None:
    assert parse_cancel_command(text, PATTERN) == StatusArgs("CDE0000000001")


@pytest.mark.parametrize("text", ["list", " LIST "])
def test_list_subcommand(text: str) -> None:
    assert parse_cancel_command(text, PATTERN) == ListArgs()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status", "Give one order id after `status`"),
        ("status CDE1", "`CDE1` is not an order id"),
        ("status CDE0000000001 CDE0000000002", "Give one order id"),
        ("status CDE００００００００01", "is not an order id"),
        ("list everything", "`list` takes nothing"),
    ],
)
def test_malformed_subcommands(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_cancel_command(text, PATTERN)
    assert message in usage_problem_text(caught.value, Language.EN)


def test_a_reason_starting_with_list_is_still_a_reason() -> None:
    parsed = parse_cancel_command("CDE0000000001 list of containers was wrong", PATTERN)
    assert getattr(parsed, "reason", None) == "list of containers was wrong"


# -- sandbox marking ---------------------------------------------------------------------------


def test_text_only_message_gets_blocks_and_a_prefixed_text() -> None:
    text, blocks = mark_message("Only the approvers can approve.", None)

    assert text == f"[{SANDBOX_MARKER}] Only the approvers can approve."
    assert blocks[0]["text"]["text"] == "Only the approvers can approve."
    assert SANDBOX_MARKER in str(blocks[-1])


def test_marking_twice_marks_once() -> None:
    text, blocks = mark_message("hello", [SectionBlock(text="x")])
    again_text, again = mark_message(text, blocks)

    assert again_text == text
    assert again == blocks and len(blocks) == 2


def test_views_get_the_marker_first_and_other_methods_are_left_alone() -> None:
    view = build_home_view(
        is_approver=False, waiting=[], mine=[], updated_at=NOW, language=Language.EN
    ).to_dict()
    marked = mark_view(view)
    assert isinstance(marked, dict)
    assert SANDBOX_MARKER in str(marked["blocks"][0])
    assert mark_api_payload("usergroups.users.list", {"usergroup": "S1"}) == {"usergroup": "S1"}
    published = mark_api_payload("views.publish", {"user_id": "U1", "view": view})
    assert SANDBOX_MARKER in str(published["view"])


# -- notices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "event", "decided_by", "expected"),
    [
        (RequestStatus.PENDING, "requested", None, None),
        (RequestStatus.APPROVED, "approved", "U0APPROVE1", "decided"),
        (RequestStatus.APPROVED, "approved", "U0REQUEST1", None),  # self-approval: no news
        # Back to APPROVED because MouvONE was unavailable: not a second decision.
        (RequestStatus.APPROVED, "cancel_unavailable", "U0APPROVE1", None),
        (RequestStatus.REJECTED, "rejected", "U0APPROVE1", "decided"),
        (RequestStatus.EXECUTING, "cancel_sent", "U0APPROVE1", None),
        (RequestStatus.SUCCEEDED, "outcome_succeeded", "U0APPROVE1", "finished"),
        (RequestStatus.FAILED, "outcome_failed", "U0APPROVE1", "finished"),
        (RequestStatus.UNKNOWN, "outcome_unknown", "U0APPROVE1", "finished"),
        (RequestStatus.WITHDRAWN, "withdrawn", None, None),
        (RequestStatus.EXPIRED, "expired", None, None),
    ],
)
def test_which_changes_deserve_a_direct_message(
    status: RequestStatus, event: str, decided_by: str | None, expected: str | None
) -> None:
    changed = replace(REQUEST, status=status, decided_by=decided_by)
    assert notice_for(changed, event) == expected


def test_direct_messages_link_to_the_thread_and_escape_notes() -> None:
    rejected = replace(
        REQUEST,
        status=RequestStatus.REJECTED,
        decided_by="U0APPROVE1",
        decision_note="<!channel> wrong order",
    )
    built = build_decided_dm(rejected, "https://example.invalid/archives/C1/p1", Language.EN)
    text, blocks = built.text, built.blocks
    body = str(blocks[0].to_dict())
    assert "rejected" in text
    assert "<https://example.invalid/archives/C1/p1|Open the request>" in body
    assert "&lt;!channel&gt;" in body and "<!channel>" not in body

    unknown = replace(REQUEST, status=RequestStatus.UNKNOWN, outcome_failure="timeout")
    built = build_finished_dm(unknown, None, Language.EN)
    text, blocks = built.text, built.blocks
    assert "outcome unknown" in text
    assert "Open the request" not in str(blocks[0].to_dict())  # no link when Slack gave none


def test_every_status_has_a_label_in_both_languages() -> None:
    assert status_label(RequestStatus.SUCCEEDED, Language.EN).endswith("cancelled in MouvONE")
    assert status_label(RequestStatus.EXPIRED, Language.FR).startswith(":hourglass: expirée")
    for status in RequestStatus:
        for language in Language:
            assert status_label(status, language).split(" ", 1)[1].strip()


# -- labels and ids ------------------------------------------------------------------------------


def test_error_labels_stay_few() -> None:
    def api_error(code: str) -> SogetApiError:
        return SogetApiError(http_status=400, code=code, message=None, timestamp=None)

    assert error_code_label(api_error("R0008")) == "R0008"
    assert error_code_label(api_error("SOMETHING_NEW_42")) == "unknown_code"
    assert error_code_label(SogetHttpError(503)) == FailureKind.SERVER_ERROR.value
    assert error_code_label(SogetTimeout("late")) == "timeout"


def test_cancel_request_id_of_clicks_and_modals() -> None:
    assert cancel_request_id({"actions": [{"value": REQUEST.id}]}) == REQUEST.id
    assert cancel_request_id({"view": {"private_metadata": REQUEST.id}}) == REQUEST.id
    assert cancel_request_id({"actions": [{"value": "not an id; DROP TABLE"}]}) is None
    assert cancel_request_id({"command": "/cancel-order"}) is None


# -- Block Kit limits ----------------------------------------------------------------------------


def test_the_largest_audit_and_home_views_stay_within_slack_limits() -> None:
    from bot.domain.history import RequestHistory
    from bot.domain.requests import RequestEvent
    from bot.services.audit import MAX_HISTORY, MAX_LISTED
    from bot.slack.messages.audit import build_list_blocks, build_status_blocks

    long = replace(REQUEST, reason="r" * 500, decision_note="n" * 500, decided_by="U0APPROVE1")
    events = [RequestEvent(REQUEST.id, NOW, "cancel_sent", None, None)] * 40
    histories = [RequestHistory(long, events)] * MAX_HISTORY
    built = build_status_blocks("CDE0000000001", histories, {REQUEST.id}, Language.FR)
    _text, status_blocks = built.text, built.blocks
    built = build_list_blocks("C0CHANNEL1", [long] * MAX_LISTED, Language.FR, more=True)
    _text, list_blocks = built.text, built.blocks
    home = build_home_view(
        is_approver=True,
        waiting=[long] * MAX_LISTED,
        mine=[long] * 10,
        updated_at=NOW,
        language=Language.FR,
    )

    assert len(status_blocks) <= 50 and len(list_blocks) <= 50
    assert "événements plus anciens" in str(status_blocks[2].to_dict())
    for block in (*status_blocks, *list_blocks):
        block.validate_json()
    home.validate_json()
    assert len(home.blocks) <= 100
