"""The cancel workflow's business logic: open, decide, execute. No Slack in here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.approval import (
    ApproverDirectory,
    Decision,
    Denial,
    MembershipUnknownError,
    denial_for,
)
from bot.domain.outcomes import CancelOutcome, outcome_of, settle_note
from bot.domain.preview import Preview
from bot.domain.requests import CancelRequest, MessageKind, RequestStatus, with_redraw
from bot.i18n.catalogue import FailureKind
from bot.i18n.notes import NOTE_CONFIRMED_BY_READING, NOTE_INTERRUPTED
from bot.services.preview import OrderPreviewer
from bot.soget.client import SogetClient
from bot.soget.diagnostics import log_soget_failure
from bot.soget.errors import SogetError, SogetTimeout
from bot.storage.store import ApprovalResult, Store

logger = logging.getLogger(__name__)

CANCELLED_STATUS = "Cancelled"
DEFAULT_REQUEST_TTL = timedelta(hours=24)

DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_SETTLE_AFTER_SECONDS = 30.0
# Read-backs of an UNKNOWN request's order that may fail before the bot stops trying on its own.
MAX_SETTLE_READS = 3


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The request after a decision attempt, and why it was refused if it was."""

    request: CancelRequest | None
    denial: Denial | None = None

    @property
    def accepted(self) -> bool:
        return self.denial is None and self.request is not None


# A request in one of these states already covers its order: a second one is not opened.
ACTIVE_STATUSES = (
    RequestStatus.PENDING,
    RequestStatus.APPROVED,
    RequestStatus.EXECUTING,
    RequestStatus.UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class Opened:
    """The result of `/cancel-order`: a new request, or the one that already covers the order."""

    request: CancelRequest
    created: bool


class CancelService:
    def __init__(
        self,
        store: Store,
        soget: SogetClient,
        approvers: ApproverDirectory,
        *,
        allow_self_approval: bool,
        request_ttl: timedelta = DEFAULT_REQUEST_TTL,
        required_approvals: int = 1,
        remind_after: timedelta | None = None,
        instance_id: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        settle_after_seconds: float = DEFAULT_SETTLE_AFTER_SECONDS,
    ) -> None:
        self._store = store
        # Names this process in the leases it takes on EXECUTING requests.
        self.instance_id = instance_id or uuid.uuid4().hex[:12]
        self._lease = timedelta(seconds=lease_seconds)
        self._settle_after = timedelta(seconds=settle_after_seconds)
        self._soget = soget
        self._approvers = approvers
        self._allow_self_approval = allow_self_approval
        self._request_ttl = request_ttl
        self._required_approvals = required_approvals
        self._remind_after = remind_after

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
        if not self.would_reach_quorum(request):
            return None
        preview = await previewer.preview(request.order_id)
        if preview.order is None or preview.code is None:
            return None
        # The request message already warned of this very refusal: the approver saw it.
        return None if preview.code == request.preview_code else preview

    async def open_unless_duplicate(
        self,
        *,
        order_id: str,
        channel_id: str,
        requester_id: str,
        reason: str,
        reason_category: str | None = None,
    ) -> Opened:
        """Open a request, unless the order has an active one or was cancelled through the
        bot within REQUEST_TTL: then that request is returned, and nothing is opened."""
        request, created = await self._store.create_unless_active(
            order_id=order_id,
            channel_id=channel_id,
            requester_id=requester_id,
            reason=reason,
            active=ACTIVE_STATUSES,
            succeeded_since=self._store.now() - self._request_ttl,
            reason_category=reason_category,
        )
        return Opened(request, created)

    async def record_preview(self, request_id: str, preview: Preview) -> CancelRequest | None:
        """Store what the preview saw; a blocked preview withdraws the request at once."""
        await self._store.update_fields(
            request_id,
            event="previewed",
            detail=preview.note(),
            **preview.columns(self._store.now()),
        )
        if preview.blocked:
            await self.withdraw_unposted(request_id, preview.note())
        return await self._store.get(request_id)

    async def attach_message(self, request_id: str, message_ts: str) -> None:
        await self._store.update_fields(request_id, event="posted", message_ts=message_ts)

    async def withdraw_unposted(self, request_id: str, why: str) -> None:
        await self._store.transition(
            request_id,
            expected=RequestStatus.PENDING,
            target=RequestStatus.WITHDRAWN,
            actor=None,
            event="withdrawn",
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

    async def check_retry(
        self, request_id: str, user_id: str, *, message_ts: str | None
    ) -> DecisionResult:
        """Whether an approver may send an approved cancel again; `execute` then claims it."""
        return await self.check(Decision.RETRY, request_id, user_id, message_ts=message_ts)

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
            event=target.value,
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
            event="expired",
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

    async def execute(self, request_id: str) -> CancelRequest | None:
        """Send the DELETE for an approved request and record what came back.

        Returns None when the request is not in a state to execute (another task or instance
        owns it). A request left UNKNOWN (an approver's Retry) never got its answer: the order
        is read first, and the DELETE is sent again only if it is not cancelled yet.
        """
        request = await self._store.get(request_id)
        if request is None or request.status not in (
            RequestStatus.APPROVED,
            RequestStatus.UNKNOWN,
        ):
            return None
        settling = request.status is RequestStatus.UNKNOWN
        claimed = await self._claim(
            request,
            event="cancel_settling" if settling else "cancel_sent",
            count_attempt=True,
        )
        if claimed is None:
            return None
        async with self._leased(request_id):
            if settling and await self._already_cancelled(claimed.order_id):
                outcome = CancelOutcome(
                    status=RequestStatus.SUCCEEDED, note=NOTE_CONFIRMED_BY_READING
                )
            else:
                outcome = outcome_of(
                    await self._send_cancel(claimed.order_id), resent=request.attempts > 0
                )
            return await self._record(request_id, outcome)

    async def settle_unknown(self, request_id: str) -> CancelRequest | None:
        """Read (never resend) the order of a request whose cancel may have gone through.

        Cancelled → SUCCEEDED, confirmed by reading. Otherwise it stays UNKNOWN with what was
        found and the Retry button: never FAILED, since the order may yet be cancelled. A read
        that fails is tried again later, a few times. Claiming EXECUTING (with a lease) keeps a
        Retry and the other instances out meanwhile.
        """
        request = await self._store.get(request_id)
        if request is None or request.status is not RequestStatus.UNKNOWN:
            return None
        claimed = await self._claim(request, event="settle_read")
        if claimed is None:
            return None
        async with self._leased(request_id):
            found: str | None = None
            try:
                order = await self._soget.get_order(claimed.order_id)
            except SogetError as exc:
                log_soget_failure("settle", claimed.order_id, exc)
            except Exception:
                logger.exception("settle read of %s failed inside the bot", claimed.order_id)
            else:
                if order.status == CANCELLED_STATUS:
                    outcome = CancelOutcome(
                        status=RequestStatus.SUCCEEDED, note=NOTE_CONFIRMED_BY_READING
                    )
                    return await self._record(request_id, outcome)
                found = order.status
            failed_reads = (claimed.settle_reads or 0) + (1 if found is None else 0)
            again = found is None and failed_reads < MAX_SETTLE_READS
            return await self._store.transition(
                request_id,
                expected=RequestStatus.EXECUTING,
                target=RequestStatus.UNKNOWN,
                actor=None,
                owner=self.instance_id,
                event="settle_unconfirmed",
                detail=found,
                # One thread reply once the bot stops reading on its own.
                notify=() if again else with_redraw(MessageKind.VERIFIED),
                outcome_note=settle_note(found),
                settle_reads=failed_reads,
                settle_at=self._store.now() + self._settle_after * 2**failed_reads
                if again
                else None,
                lease_owner=None,
                lease_until=None,
            )

    async def take_over_orphans(self) -> list[CancelRequest]:
        """EXECUTING requests whose lease ran out (their instance died or was stopped): their
        DELETE may have reached MouvONE, so they become UNKNOWN and their order is read back
        after SETTLE_AFTER_SECONDS. Nothing is resent before that read."""
        taken = []
        for request in await self._store.orphaned_executions():
            moved = await self._store.transition(
                request.id,
                expected=RequestStatus.EXECUTING,
                target=RequestStatus.UNKNOWN,
                actor=None,
                event="cancel_interrupted",
                detail=request.lease_owner,
                lease_expired_before=self._store.now(),
                notify=(MessageKind.REDRAW,),
                outcome_failure=FailureKind.TIMEOUT.value,
                outcome_note=NOTE_INTERRUPTED,
                outcome_at=self._store.now(),
                settle_at=self._store.now() + self._settle_after,
                lease_owner=None,
                lease_until=None,
            )
            if moved is not None:
                logger.warning(
                    "request %s for %s: its cancel was interrupted (instance %s); the order "
                    "is read back before anything is resent",
                    moved.id,
                    moved.order_id,
                    request.lease_owner or "unknown",
                )
                taken.append(moved)
        return taken

    async def settles_due(self) -> list[CancelRequest]:
        return await self._store.settles_due()

    async def seconds_until_background_due(self) -> float | None:
        """Seconds until a read-back is due or a lease runs out, or None if nothing waits."""
        due = await self._store.next_background_due_at(self._lease)
        if due is None:
            return None
        return max(0.0, (due - self._store.now()).total_seconds())

    async def _claim(
        self, request: CancelRequest, *, event: str, count_attempt: bool = False
    ) -> CancelRequest | None:
        return await self._store.transition(
            request.id,
            expected=request.status,
            target=RequestStatus.EXECUTING,
            actor=None,
            event=event,
            count_attempt=count_attempt,
            lease_owner=self.instance_id,
            lease_until=self._store.now() + self._lease,
            settle_at=None,
        )

    @contextlib.asynccontextmanager
    async def _leased(self, request_id: str) -> AsyncIterator[None]:
        """Renew this instance's lease on the request while the block runs."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self._lease.total_seconds() / 3)
                until = self._store.now() + self._lease
                try:
                    if not await self._store.renew_lease(request_id, self.instance_id, until):
                        logger.warning("request %s: the lease was lost", request_id)
                        return
                except Exception:
                    logger.exception("request %s: could not renew the lease", request_id)

        renewing = asyncio.create_task(renew(), name=f"lease-{request_id}")
        try:
            yield
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _already_cancelled(self, order_id: str) -> bool:
        try:
            order = await self._soget.get_order(order_id)
        except SogetError as exc:
            log_soget_failure("settle", order_id, exc)
            return False
        return order.status == CANCELLED_STATUS

    async def _send_cancel(self, order_id: str) -> SogetError | None:
        try:
            await self._soget.cancel_order(order_id)
        except SogetError as exc:
            log_soget_failure("cancel", order_id, exc)
            return exc
        except Exception:
            logger.exception("unexpected error while cancelling %s", order_id)
            return SogetTimeout("internal error while sending the cancel")
        return None

    async def _record(self, request_id: str, outcome: CancelOutcome) -> CancelRequest | None:
        unknown = outcome.status is RequestStatus.UNKNOWN
        recorded = await self._store.transition(
            request_id,
            expected=RequestStatus.EXECUTING,
            target=outcome.status,
            actor=None,
            owner=self.instance_id,
            event="cancel_unavailable"
            if outcome.status is RequestStatus.APPROVED
            else f"outcome_{outcome.status.value}",
            detail=outcome.code or (outcome.failure.value if outcome.failure else None),
            notify=with_redraw(outcome.message),
            outcome_code=outcome.code,
            outcome_failure=outcome.failure.value if outcome.failure else None,
            outcome_message=outcome.api_message,
            outcome_timestamp=outcome.api_timestamp,
            outcome_http_status=outcome.http_status,
            outcome_note=outcome.note,
            outcome_at=self._store.now(),
            outcome_posted_at=None,
            settle_at=self._store.now() + self._settle_after if unknown else None,
            settle_reads=0,
            lease_owner=None,
            lease_until=None,
        )
        if recorded is None:
            # Another instance took the request over (this one's lease ran out): it reads the
            # order back, which tells the same truth as the answer dropped here.
            logger.warning(
                "request %s: outcome %s not recorded, the lease was lost",
                request_id,
                outcome.status,
            )
        return recorded

    async def unknown(self) -> list[CancelRequest]:
        """Requests whose cancel got no answer (those waiting for a read-back included)."""
        return await self._store.with_status(RequestStatus.UNKNOWN)

    async def approved_not_started(self) -> list[CancelRequest]:
        """Approved cancels never sent: the approving instance died before sending, or it is
        about to send (the claim in `execute` makes exactly one of them send).

        Approved requests that already met an unavailable MouvONE wait for an approver's Retry.
        """
        found = await self._store.with_status(RequestStatus.APPROVED)
        return [r for r in found if not r.awaits_retry]

    async def record_click(
        self, request_id: str, user_id: str, action: str, channel_id: str
    ) -> int:
        return await self._store.record_click(request_id, user_id, action, channel_id)

    async def click_handled(self, click_id: int) -> None:
        await self._store.click_handled(click_id)

    async def drop_lost_clicks(self) -> int:
        """Clicks stored but never handled within a lease time: tell each clicker."""
        return await self._store.drop_unhandled_clicks(self._store.now() - self._lease)
