"""Private replies: what only the person who typed the command or clicked sees, in their language.

Refusals of a click or a command, the usage help, the duplicate guard's answer, "invite me",
an approval counted, a click not taken, and the error handler's note.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from slack_sdk.models.blocks import Block, SectionBlock

from bot.domain.approval import Denial
from bot.domain.commands import UsageError
from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import Language
from bot.i18n.texts import say
from bot.slack.ids import SLASH_COMMAND
from bot.slack.messages.bulk import order_label
from bot.slack.messages.mrkdwn import (
    SECTION_TEXT_LIMIT,
    Rendered,
    clip,
    escape,
    md,
    mention,
    slack_date,
)

# -- a click or a modal refused ---------------------------------------------------------------


def denial_text(
    denial: Denial | None,
    request: CancelRequest | None,
    approvers: Sequence[str],
    language: Language,
) -> Rendered:
    """Why a click (or the reject modal) changed nothing."""
    return Rendered(_denial_words(denial, request, approvers, language))


def _denial_words(
    denial: Denial | None,
    request: CancelRequest | None,
    approvers: Sequence[str],
    language: Language,
) -> str:
    match denial:
        case Denial.NOT_FOUND | Denial.WRONG_MESSAGE | None:
            return say("private.denial.not_found", language)
        case Denial.NOT_APPROVER:
            who = ", ".join(mention(a) for a in approvers)
            return say("private.denial.not_approver", language, approvers=who)
        case Denial.OWN_REQUEST:
            return say("private.denial.own_request", language)
        case Denial.MEMBERSHIP_UNKNOWN:
            return say("private.denial.membership_unknown", language)
        case Denial.ALREADY_DECIDED:
            return already_decided_text(request, language)
        case Denial.EXPIRED:
            return say("private.denial.expired", language, command=SLASH_COMMAND)
        case Denial.NOT_REQUESTER:
            return say("private.denial.not_requester", language)
        case Denial.NOTHING_TO_RETRY:
            return say("private.denial.nothing_to_retry", language)
        case Denial.ALREADY_APPROVED:
            return say("private.denial.already_approved", language)
        case _:
            assert_never(denial)


def already_decided_text(request: CancelRequest | None, language: Language) -> str:
    if request is None:
        return say("private.already_decided.gone", language)
    if request.status is RequestStatus.EXPIRED:
        return say("private.already_decided.expired", language)
    details = ""
    if request.decided_by:
        details += " " + say(
            "private.already_decided.by", language, user=f"<@{request.decided_by}>"
        )
    if request.decided_at:
        details += f" {slack_date(request.decided_at, language)}"
    if request.status is RequestStatus.REJECTED:
        return say("private.already_decided.rejected", language, details=details)
    if request.status is RequestStatus.WITHDRAWN:
        return say("private.already_decided.withdrawn", language, details=details)
    return say("private.already_decided.approved", language, details=details)


def approval_counted_text(request: CancelRequest, required: int, language: Language) -> Rendered:
    """To an approver whose approval counts towards a quorum not reached yet."""
    return Rendered(
        say(
            "private.approval_counted",
            language,
            count=len(request.approver_ids),
            required=required,
            approvers=", ".join(f"<@{a}>" for a in request.approver_ids),
            order=escape(order_label(request)),
        )
    )


def click_not_taken_text(language: Language) -> Rendered:
    return Rendered(say("private.click_not_taken", language))


# -- the slash command ------------------------------------------------------------------------


def usage_problem_text(problem: UsageError, language: Language) -> str:
    """Why the command text was refused, as mrkdwn (the typed token escaped)."""
    params = {name: escape(str(value)) for name, value in problem.params.items()}
    return say(problem.problem.value, language, command=SLASH_COMMAND, **params)


def usage_text(order_id_pattern: str, language: Language, *, max_orders: int = 20) -> str:
    return (
        say(
            "private.usage.text",
            language,
            command=SLASH_COMMAND,
            pattern=escape(order_id_pattern),
            limit=max_orders,
        )
        + "\n"
        + say("search.usage", language, command=SLASH_COMMAND)
    )


def build_usage_blocks(
    problem: str | None, order_id_pattern: str, language: Language, *, max_orders: int = 20
) -> Rendered:
    """The usage help, after the `problem` (mrkdwn, escaped) if the text was refused; the
    fallback text is the problem, or the usage when there is none."""
    blocks: list[Block] = []
    if problem:
        blocks.append(
            SectionBlock(text=md(say("private.usage.problem", language, problem=problem)))
        )
    usage = usage_text(order_id_pattern, language, max_orders=max_orders)
    blocks.append(SectionBlock(text=md(usage)))
    return Rendered(problem or usage, blocks)


def missing_reason_text(language: Language) -> str:
    return say("private.usage.missing_reason", language)


def not_in_a_channel_text(language: Language) -> Rendered:
    return Rendered(say("private.not_in_a_channel", language, command=SLASH_COMMAND))


def channel_refusal_text(allowed: Sequence[str], language: Language) -> Rendered:
    """Outside ALLOWED_CHANNELS: where the command works."""
    channels = ", ".join(f"<#{channel}>" for channel in allowed)
    return Rendered(
        say("private.channel_refusal", language, command=SLASH_COMMAND, channels=channels)
    )


def list_in_a_dm_text(language: Language) -> Rendered:
    return Rendered(say("private.list_in_a_dm", language, command=SLASH_COMMAND))


# Slack's answers that mean the bot cannot post in the channel (inviting it helps).
_NOT_A_MEMBER = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


def build_not_posted_text(error: str, language: Language) -> Rendered:
    """The request could not be posted: the bot is not in the channel (most often), or Slack
    failed (a server error, a dropped connection, no answer in time: try again)."""
    key = "private.not_posted" if error in _NOT_A_MEMBER else "private.not_posted_slack_failed"
    return Rendered(say(key, language, error=escape(error)))


def build_duplicate_text(
    existing: CancelRequest, link: str | None, language: Language, *, order_id: str | None = None
) -> Rendered:
    """Why no new request was opened for the order (`order_id`, else the request's), with a
    link to the one that covers it."""
    order = escape(order_id or existing.order_id)
    where = f" <{link}|{say('private.duplicate.link', language)}>" if link else ""
    if existing.status is RequestStatus.SUCCEEDED:
        when = f" {slack_date(existing.outcome_at, language)}" if existing.outcome_at else ""
        cancelled = say("private.duplicate.cancelled", language, order=order, when=when, link=where)
        return Rendered(cancelled)
    match existing.status:
        case RequestStatus.PENDING:
            state = say("private.duplicate.state.pending", language)
        case RequestStatus.APPROVED:
            state = say("private.duplicate.state.approved", language)
        case RequestStatus.EXECUTING:
            state = say("private.duplicate.state.executing", language)
        case _:  # UNKNOWN: the other statuses do not block a new request
            state = say("private.duplicate.state.unknown", language)
    return Rendered(
        say(
            "private.duplicate.open",
            language,
            order=order,
            state=state,
            requester=f"<@{existing.requester_id}>",
            link=where,
        )
    )


def build_left_out_text(
    left_out: Sequence[tuple[str, CancelRequest, str | None]],
    language: Language,
    *,
    posted: bool,
) -> Rendered:
    """The orders of a several-order command that other requests cover: one line each, after
    a lead saying whether the request was posted without them or not opened at all."""
    lead = say("private.left_out.posted" if posted else "private.left_out.none_opened", language)
    lines = [
        "• " + build_duplicate_text(request, link, language, order_id=order_id).text
        for order_id, request, link in left_out
    ]
    return Rendered(clip("\n".join([lead, *lines]), SECTION_TEXT_LIMIT))


# -- the error handler ------------------------------------------------------------------------


def unexpected_error_text(reference: str, language: Language) -> Rendered:
    return Rendered(say("private.unexpected_error", language, reference=escape(reference)))
