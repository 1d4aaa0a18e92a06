"""Block Kit of the notices around a request, in their reader's language: direct messages to the
requester (or to whoever clicked), the pointer to the approval channel, where a request was
asked, and the sandbox marker."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, SectionBlock

from bot.domain.requests import CancelRequest, RequestStatus, order_totals
from bot.i18n.catalogue import Language
from bot.i18n.texts import say
from bot.slack.messages import bulk as bulk_blocks
from bot.slack.messages.audit import outcome_line
from bot.slack.messages.bulk import order_label
from bot.slack.messages.mrkdwn import Rendered, clip, escape, fallback_text, md

# Marks every message in sandbox mode, whoever reads it: the operators' switch, not a phrase.
SANDBOX_MARKER = "SANDBOX — no real order is touched"


def sandbox_marker() -> ContextBlock:
    return ContextBlock(
        block_id="cancel-order-sandbox", elements=[md(f":test_tube: *{SANDBOX_MARKER}*")]
    )


def _link(permalink: str | None, language: Language) -> str:
    return f" <{permalink}|{say('dm.open_the_request', language)}>" if permalink else ""


def build_decided_dm(request: CancelRequest, permalink: str | None, language: Language) -> Rendered:
    """To the requester when an approver decided on their request."""
    who = f"<@{request.decided_by}>" if request.decided_by else say("dm.an_approver", language)
    order = escape(bulk_blocks.orders_label(request) if request.is_bulk else request.order_id)
    link = _link(permalink, language)
    if request.status is RequestStatus.REJECTED:
        note = f"\n>{escape(request.decision_note)}" if request.decision_note else ""
        text = say("dm.decided.rejected_text", language, order=order)
        body = say("dm.decided.rejected", language, approver=who, order=order, link=link, note=note)
    else:
        text = say("dm.decided.approved_text", language, order=order)
        body = say("dm.decided.approved", language, approver=who, order=order, link=link)
    return Rendered(fallback_text(text), [SectionBlock(text=md(body))])


def build_finished_dm(
    request: CancelRequest, permalink: str | None, language: Language
) -> Rendered:
    """To the requester when the cancel got its answer (or none) from MouvONE; for a bulk
    request, one message with the totals."""
    order = escape(request.order_id)
    if request.is_bulk:
        totals = bulk_blocks.totals_text(order_totals(request.orders), language)
        count = len(request.orders)
        text = say("dm.finished.bulk_text", language, count=count, totals=totals)
        body = say("dm.finished.bulk", language, count=count, totals=totals)
        body += " " + say("dm.finished.see_the_thread", language) + _link(permalink, language)
        return Rendered(fallback_text(text), [SectionBlock(text=md(clip(body, 2900)))])
    if request.status is RequestStatus.SUCCEEDED:
        text = say("dm.finished.succeeded_text", language, order=order)
        body = say("dm.finished.succeeded", language, order=order)
    elif request.status in (RequestStatus.UNKNOWN, RequestStatus.EXECUTING):
        # EXECUTING: sent while the order is read back (or sent again); not known yet.
        text = say("dm.finished.unknown_text", language, order=order)
        body = say("dm.finished.unknown", language, order=order)
    else:
        text = say("dm.finished.failed_text", language, order=order)
        body = say("dm.finished.failed", language, order=order)
    detail = outcome_line(request, language)
    if detail and request.status is not RequestStatus.SUCCEEDED:
        body += f"\n{detail}"
    body += " " + say("dm.finished.see_the_thread", language) + _link(permalink, language)
    return Rendered(fallback_text(text), [SectionBlock(text=md(body))])


def build_approval_pointer(
    request: CancelRequest, approval_channel: str, permalink: str | None, language: Language
) -> Rendered:
    """To the requester, privately, where they asked: where their request waits."""
    link = f" (<{permalink}|{say('private.approval_pointer_link', language)}>)" if permalink else ""
    return Rendered(
        say(
            "private.approval_pointer",
            language,
            order=escape(order_label(request)),
            channel=f"<#{approval_channel}>",
            link=link,
        )
    )


def asked_in_context(origin_channel_id: str, language: Language = Language.EN) -> ContextBlock:
    """On an approval request posted in APPROVAL_CHANNEL: where the request was asked.

    Part of the public request message: its builder's caller gives that message's language.
    """
    return ContextBlock(
        elements=[md(say("dm.asked_in", language, channel=f"<#{origin_channel_id}>"))]
    )


def build_click_lost_dm(
    request: CancelRequest, permalink: str | None, language: Language
) -> Rendered:
    """To someone whose click reached the bot just before it stopped: it was not taken."""
    return _stopped_notice("dm.click_lost", request, permalink, language)


def build_not_posted_dm(
    request: CancelRequest, permalink: str | None, language: Language
) -> Rendered:
    """To a requester whose request the bot stopped before posting: withdrawn, nothing sent."""
    return _stopped_notice("dm.not_posted", request, permalink, language)


def _stopped_notice(
    key: str, request: CancelRequest, permalink: str | None, language: Language
) -> Rendered:
    """A notice about one request that a stop of the bot cut short: phrase `key` (its body)
    and `key`_text (its notification line), both naming the order."""
    order = escape(order_label(request))
    text = say(f"{key}_text", language, order=order)
    body = say(key, language, order=order, link=_link(permalink, language))
    return Rendered(fallback_text(text), [SectionBlock(text=md(body))])
