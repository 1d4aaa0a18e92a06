"""The cancel workflow's business logic: open, decide, execute. No Slack in here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.approval import ApproverDirectory, Decision, Denial, MembershipUnknownError, denial_for
from bot.catalogue import FailureKind
from bot.diagnostics import log_soget_failure
from bot.preview import Preview
from bot.requests import CancelRequest, RequestStatus
from bot.soget import SogetApiError, SogetClient, SogetError, SogetTimeout
from bot.storage import Store

logger = logging.getLogger(__name__)

ALREADY_CANCELLED_CODE = "ORDER_ALREADY_CANCELED"


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """The request after a decision attempt, and why it was refused if it was."""

    request: CancelRequest | None
    denial: Denial | None = None

    @property
    def accepted(self) -> bool:
        return self.denial is None and self.request is not None


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What one DELETE attempt means for the request."""

    status: RequestStatus
    code: str | None = None
    failure: FailureKind | None = None
    api_message: str | None = None
    api_timestamp: str | None = None
    http_status: int | None = None
    note: str | None = None


def outcome_of(error: SogetError | None, *, resent: bool) -> CancelOutcome:
    """Classify the answer to a DELETE. `resent`: an earlier attempt's answer was never seen."""
    if error is None:
        return CancelOutcome(status=RequestStatus.SUCCEEDED, http_status=200)
    if isinstance(error, SogetApiError):
        if error.code == ALREADY_CANCELLED_CODE:
            note = (
                "resent after an earlier attempt got no answer: that attempt went through"
                if resent
                else "already cancelled before this request"
            )
            return CancelOutcome(
                status=RequestStatus.SUCCEEDED,
                code=error.code,
                api_message=error.api_message,
                api_timestamp=error.api_timestamp,
                http_status=error.http_status,
                note=note,
            )
        return CancelOutcome(
            status=RequestStatus.FAILED,
            code=error.code,
            api_message=error.api_message,
            api_timestamp=error.api_timestamp,
            http_status=error.http_status,
        )
    status = RequestStatus.UNKNOWN if isinstance(error, SogetTimeout) else RequestStatus.FAILED
    return CancelOutcome(status=status, failure=error.failure_kind, http_status=error.http_status)


class CancelService:
    def __init__(
        self,
        store: Store,
        soget: SogetClient,
        approvers: ApproverDirectory,
        *,
        allow_self_approval: bool,
    ) -> None:
        self._store = store
        self._soget = soget
        self._approvers = approvers
        self._allow_self_approval = allow_self_approval

    async def open_request(
        self, *, order_id: str, channel_id: str, requester_id: str, reason: str
    ) -> CancelRequest:
        return await self._store.create_request(
            order_id=order_id, channel_id=channel_id, requester_id=requester_id, reason=reason
        )

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
        """Whether `user_id` may take `decision` now; changes nothing."""
        request = await self._store.get(request_id)
        if request is None:
            return DecisionResult(None, Denial.NOT_FOUND)
        if message_ts is not None and request.message_ts not in (None, message_ts):
            return DecisionResult(request, Denial.WRONG_MESSAGE)
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
        return DecisionResult(request, denial)

    async def approve(
        self, request_id: str, user_id: str, *, message_ts: str | None
    ) -> DecisionResult:
        checked = await self.check(Decision.APPROVE, request_id, user_id, message_ts=message_ts)
        if not checked.accepted:
            return checked
        moved = await self._store.transition(
            request_id,
            expected=RequestStatus.PENDING,
            target=RequestStatus.APPROVED,
            actor=user_id,
            event="approved",
            decided_by=user_id,
            decided_at=self._store.now(),
        )
        if moved is None:
            # Another click won between the check and the update.
            return DecisionResult(await self._store.get(request_id), Denial.ALREADY_DECIDED)
        logger.info("request %s for %s approved by %s", request_id, moved.order_id, user_id)
        return DecisionResult(moved)

    async def reject(
        self, request_id: str, user_id: str, *, note: str, message_ts: str | None = None
    ) -> DecisionResult:
        checked = await self.check(Decision.REJECT, request_id, user_id, message_ts=message_ts)
        if not checked.accepted:
            return checked
        moved = await self._store.transition(
            request_id,
            expected=RequestStatus.PENDING,
            target=RequestStatus.REJECTED,
            actor=user_id,
            event="rejected",
            detail=note or None,
            decided_by=user_id,
            decided_at=self._store.now(),
            decision_note=note or None,
        )
        if moved is None:
            return DecisionResult(await self._store.get(request_id), Denial.ALREADY_DECIDED)
        logger.info("request %s for %s rejected by %s", request_id, moved.order_id, user_id)
        return DecisionResult(moved)

    async def execute(self, request_id: str) -> CancelRequest | None:
        """Send the DELETE for an approved request and record what came back.

        Returns None when the request is not in a state to execute (another task owns it).
        A request found EXECUTING or UNKNOWN (its answer was never recorded) is resent;
        MouvONE then answers ORDER_ALREADY_CANCELED if the first attempt went through.
        """
        request = await self._store.get(request_id)
        if request is None:
            return None
        resent = request.status in (RequestStatus.EXECUTING, RequestStatus.UNKNOWN)
        started = await self._store.transition(
            request_id,
            expected=request.status if resent else RequestStatus.APPROVED,
            target=RequestStatus.EXECUTING,
            actor=None,
            event="cancel_resent" if resent else "cancel_sent",
            count_attempt=True,
        )
        if started is None:
            return None
        error: SogetError | None = None
        try:
            await self._soget.cancel_order(started.order_id)
        except SogetError as exc:
            error = exc
            log_soget_failure("cancel", started.order_id, exc)
        except Exception:
            logger.exception("unexpected error while cancelling %s", started.order_id)
            error = SogetTimeout("internal error while sending the cancel")
        outcome = outcome_of(error, resent=resent)
        finished = await self._store.transition(
            request_id,
            expected=RequestStatus.EXECUTING,
            target=outcome.status,
            actor=None,
            event=f"outcome_{outcome.status.value}",
            detail=outcome.code or (outcome.failure.value if outcome.failure else None),
            outcome_code=outcome.code,
            outcome_failure=outcome.failure.value if outcome.failure else None,
            outcome_message=outcome.api_message,
            outcome_timestamp=outcome.api_timestamp,
            outcome_http_status=outcome.http_status,
            outcome_note=outcome.note,
            outcome_at=self._store.now(),
            outcome_posted_at=None,
        )
        return finished

    async def mark_outcome_posted(self, request_id: str) -> None:
        await self._store.update_fields(
            request_id, event="outcome_posted", outcome_posted_at=self._store.now()
        )

    async def unfinished(self) -> list[CancelRequest]:
        """Approved requests whose cancel has not produced a recorded answer yet."""
        return await self._store.with_status(RequestStatus.APPROVED, RequestStatus.EXECUTING)

    async def outcomes_to_post(self) -> list[CancelRequest]:
        return await self._store.outcomes_not_posted()
