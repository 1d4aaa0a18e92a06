"""People's side of a cancel request: open it, check and take decisions (approve, reject,
withdraw), expire it, remind approvers, remember clicks. No Slack in here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.approval import (
    ApproverDirectory,
    Decision,
    Denial,
    MembershipUnknownError,
    denial_for,
)
from bot.domain.events import EventKind, decision_event
from bot.domain.preview import Preview
from bot.domain.requests import CancelRequest, MessageKind, RequestStatus, with_redraw
from bot.services.preview import OrderPreviewer
from bot.storage.orders import OpenedOrders
from bot.storage.store import ApprovalResult, Store

logger = logging.getLogger(__name__)

DEFAULT_REQUEST_TTL = timedelta(hours=24)
DEFAULT_LOST_CLICK_AFTER = timedelta(seconds=30)
# Far past the longest a live request takes from opening to its stored post (the previews,
# then up to three posts with their time-outs and Retry-After waits): a pending request without
# a message this old was cut off by a stop.
DEFAULT_UNPOSTED_AFTER = timedelta(minutes=10)
NEVER_POSTED = "never posted: the bot stopped before posting it"

# A request in one of these states already covers its order: a second one is not opened.
ACTIVE_STATUSES = (
    RequestStatus.PENDING,
    RequestStatus.APPROVED,
    RequestStatus.EXECUTING,
    RequestStatus.UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The request after a decision attempt, and why it was refused if it was."""

    request: CancelRequest | None
    denial: Denial | None = None

    @property
    def accepted(self) -> bool:
        return self.denial is None and self.request is not None


class RequestDecisions:
    def __init__(
        self,
        store: Store,
        approvers: ApproverDirectory,
        *,
        allow_self_approval: bool,
        request_ttl: timedelta = DEFAULT_REQUEST_TTL,
        required_approvals: int = 1,
        remind_after: timedelta | None = None,
        lost_click_after: timedelta = DEFAULT_LOST_CLICK_AFTER,
        unposted_after: timedelta = DEFAULT_UNPOSTED_AFTER,
    ) -> None:
        self._store = store
        self._approvers = approvers
        self._allow_self_approval = allow_self_approval
        self._request_ttl = request_ttl
        self._required_approvals = required_approvals
        self._remind_after = remind_after
        self._lost_click_after = lost_click_after
        self._unposted_after = unposted_after

    @property
    def required_approvals(self) -> int:
        return self._required_approvals

    def would_reach_quorum(self, request: CancelRequest) -> bool:
        return len(request.approver_ids) + 1 >= self._required_approvals

    async def refusal_at_approval(
        self, request: CancelRequest, previewer: OrderPreviewer
    ) -> Preview | None:
        """Re-read the order before the approval that would send the cancel: the preview if a
        documented rule now refuses it and the request message did not say so (the approver is
        asked to confirm), else None. A read that fails changes nothing."""
        if not self.would_reach_quorum(request) or request.is_bulk:
            # A bulk request's orders were each previewed in its message; each DELETE's own
            # answer is explained in the summary.
            return None
        preview = await previewer.preview(request.order_id)
        if preview.order is None or preview.code is None:
            return None
        # The request message already warned of this very refusal: the approver saw it.
        return None if preview.code == request.preview_code else preview

    async def open_for_orders(
        self,
        *,
        order_ids: Sequence[str],
        channel_id: str,
        requester_id: str,
        reason: str,
        reason_category: str | None = None,
    ) -> OpenedOrders:
        """Open one request for the orders that no active request covers (nor one that cancelled
        them within REQUEST_TTL): a single-order request if one is left, a bulk request if
        several, nothing if none. The orders left out come back with the request covering each."""
        return await self._store.create_for_orders(
            order_ids=order_ids,
            channel_id=channel_id,
            requester_id=requester_id,
            reason=reason,
            active=ACTIVE_STATUSES,
            succeeded_since=self._store.now() - self._request_ttl,
            reason_category=reason_category,
        )

    async def record_order_previews(
        self, request_id: str, previews: Sequence[tuple[str, Preview]]
    ) -> CancelRequest | None:
        """Store what the preview saw of each order of a bulk request; an order with nothing to
        cancel (no such order, cancelled already) is skipped, and a request where every order
        is skipped is withdrawn at once."""
        now = self._store.now()
        for order_id, preview in previews:
            await self._store.record_order_preview(
                request_id, order_id, preview.columns(now), blocked=preview.blocked
            )
        await self._store.record_event(
            request_id,
            EventKind.PREVIEWED,
            detail=", ".join(f"{order_id}: {preview.note()}" for order_id, preview in previews),
        )
        if all(preview.blocked for _order_id, preview in previews):
            await self.withdraw_unposted(request_id, "preview blocked: nothing to cancel")
        return await self._store.get(request_id)

    async def record_preview(self, request_id: str, preview: Preview) -> CancelRequest | None:
        """Store what the preview saw; a blocked preview withdraws the request at once."""
        await self._store.update_fields(
            request_id,
            event=EventKind.PREVIEWED,
            detail=preview.note(),
            **preview.columns(self._store.now()),
        )
        if preview.blocked:
            await self.withdraw_unposted(request_id, preview.note())
        return await self._store.get(request_id)

    async def attach_message(self, request_id: str, message_ts: str) -> None:
        await self._store.attach_message(request_id, message_ts, detail=None)

    async def adopt_clicked_message(self, request: CancelRequest, message_ts: str) -> CancelRequest:
        """The request with the ts of the message a click came from, if none is stored yet.

        The click raced the store write of the post's answer (or the bot stopped in between):
        without the ts, the redraw would find no message and the replies no thread.
        """
        if request.message_ts is not None:
            return request
        detail = "taken from a click on the message"
        # Redrawn at once: a change made while the message was unknown (an expiry, say) was
        # drawn on no message.
        redraw = (MessageKind.REDRAW,)
        if await self._store.attach_message(request.id, message_ts, detail=detail, notify=redraw):
            logger.info("request %s: message ts %s taken from a click", request.id, message_ts)
        return await self._store.get(request.id) or request

    async def withdraw_unposted(self, request_id: str, why: str) -> None:
        await self._store.transition(
            request_id,
            expected=RequestStatus.PENDING,
            target=RequestStatus.WITHDRAWN,
            actor=None,
            event=EventKind.WITHDRAWN,
            detail=why,
            decision_note=why,
        )

    async def check(
        self, decision: Decision, request_id: str, user_id: str, *, message_ts: str | None
    ) -> DecisionResult:
        """Whether `user_id` may take `decision` now. Changes nothing but an overdue expiry."""
        request = await self._store.get(request_id)
        if request is None:
            return DecisionResult(None, Denial.NOT_FOUND)
        if message_ts is not None and request.message_ts not in (None, message_ts):
            return DecisionResult(request, Denial.WRONG_MESSAGE)
        is_approver = False
        if decision is not Decision.WITHDRAW:
            try:
                is_approver = await self._approvers.is_approver(user_id)
            except MembershipUnknownError:
                return DecisionResult(request, Denial.MEMBERSHIP_UNKNOWN)
        denial = denial_for(
            decision=decision,
            user_id=user_id,
            request=request,
            is_approver=is_approver,
            allow_self_approval=self._allow_self_approval,
        )
        if denial is None and decision is not Decision.RETRY and self._overdue(request):
            expired = await self._expire(request)
            return DecisionResult(expired or await self._store.get(request_id), Denial.EXPIRED)
        return DecisionResult(request, denial)

    async def approve(
        self, request_id: str, user_id: str, *, message_ts: str | None
    ) -> DecisionResult:
        """Count one approval; the one reaching REQUIRED_APPROVALS approves the request.

        Accepted with the request still PENDING means: counted, more approvals needed.
        """
        checked = await self.check(Decision.APPROVE, request_id, user_id, message_ts=message_ts)
        if not checked.accepted:
            return checked
        result, request = await self._store.approve(
            request_id, user_id, required=self._required_approvals
        )
        if result is ApprovalResult.DUPLICATE:
            return DecisionResult(request, Denial.ALREADY_APPROVED)
        if result is ApprovalResult.NOT_PENDING:
            # Another click won between the check and the update.
            return DecisionResult(request, Denial.ALREADY_DECIDED)
        if result is ApprovalResult.QUORUM and request is not None:
            logger.info("request %s for %s: approved by %s", request_id, request.order_id, user_id)
        else:
            logger.info("request %s: approval by %s counted, more needed", request_id, user_id)
        return DecisionResult(request)

    async def reject(
        self, request_id: str, user_id: str, *, note: str, message_ts: str | None = None
    ) -> DecisionResult:
        return await self._decide(
            Decision.REJECT,
            request_id,
            user_id,
            message_ts=message_ts,
            target=RequestStatus.REJECTED,
            notify=with_redraw(MessageKind.REJECTION),
            note=note,
        )

    async def withdraw(
        self, request_id: str, user_id: str, *, message_ts: str | None
    ) -> DecisionResult:
        return await self._decide(
            Decision.WITHDRAW,
            request_id,
            user_id,
            message_ts=message_ts,
            target=RequestStatus.WITHDRAWN,
            notify=(MessageKind.REDRAW,),
            note="withdrawn by the requester",
        )

    async def _decide(
        self,
        decision: Decision,
        request_id: str,
        user_id: str,
        *,
        message_ts: str | None,
        target: RequestStatus,
        notify: tuple[MessageKind, ...],
        note: str = "",
    ) -> DecisionResult:
        checked = await self.check(decision, request_id, user_id, message_ts=message_ts)
        if not checked.accepted:
            return checked
        moved = await self._store.transition(
            request_id,
            expected=RequestStatus.PENDING,
            target=target,
            actor=user_id,
            event=decision_event(target),
            detail=note or None,
            notify=notify,
            decided_by=user_id,
            decided_at=self._store.now(),
            decision_note=note or None,
        )
        if moved is None:
            # Another click won between the check and the update.
            return DecisionResult(await self._store.get(request_id), Denial.ALREADY_DECIDED)
        logger.info("request %s for %s: %s by %s", request_id, moved.order_id, target, user_id)
        return DecisionResult(moved)

    def _overdue(self, request: CancelRequest) -> bool:
        return request.is_pending and self._store.now() - request.created_at > self._request_ttl

    async def _expire(self, request: CancelRequest) -> CancelRequest | None:
        return await self._store.transition(
            request.id,
            expected=RequestStatus.PENDING,
            target=RequestStatus.EXPIRED,
            actor=None,
            event=EventKind.EXPIRED,
            notify=(MessageKind.REDRAW,),
        )

    async def expire_overdue(self) -> list[CancelRequest]:
        """Expire every pending request older than REQUEST_TTL; returns those it expired."""
        cutoff = self._store.now() - self._request_ttl
        expired = []
        for request in await self._store.pending_created_before(cutoff):
            moved = await self._expire(request)
            if moved is not None:
                logger.info("request %s for %s expired", moved.id, moved.order_id)
                expired.append(moved)
        return expired

    async def remind_overdue(self) -> int:
        """Queue one reminder for each request pending longer than REMIND_AFTER."""
        if self._remind_after is None:
            return 0
        cutoff = self._store.now() - self._remind_after
        reminded = 0
        for request in await self._store.pending_unreminded_before(cutoff):
            if not self._overdue(request) and await self._store.mark_reminded(request.id):
                reminded += 1
        return reminded

    async def record_click(
        self, request_id: str, user_id: str, action: str, channel_id: str
    ) -> int:
        return await self._store.record_click(request_id, user_id, action, channel_id)

    async def click_handled(self, click_id: int) -> None:
        await self._store.click_handled(click_id)

    async def withdraw_never_posted(self) -> list[CancelRequest]:
        """Withdraw each pending request older than `unposted_after` whose message was never
        stored: the bot stopped between opening it and posting it (the preview, the post). Left
        pending, it would hold its orders until REQUEST_TTL with nothing to click, and a new
        command for them would only be told they are covered. The requester is told by direct
        message. If Slack had shown it after all, a click on it brings its ts and redraws it as
        withdrawn."""
        withdrawn = []
        cutoff = self._store.now() - self._unposted_after
        for request in await self._store.pending_created_before(cutoff):
            if request.message_ts is not None:
                continue
            moved = await self._store.transition(
                request.id,
                expected=RequestStatus.PENDING,
                target=RequestStatus.WITHDRAWN,
                actor=None,
                event=EventKind.WITHDRAWN,
                detail=NEVER_POSTED,
                notify=(MessageKind.DM_NOT_POSTED,),
                decision_note=NEVER_POSTED,
            )
            if moved is not None:
                logger.warning("request %s for %s: %s", moved.id, moved.order_id, NEVER_POSTED)
                withdrawn.append(moved)
        return withdrawn

    async def drop_lost_clicks(self) -> int:
        """Clicks stored but never handled within a lease time: tell each clicker."""
        return await self._store.drop_unhandled_clicks(self._store.now() - self._lost_click_after)
