"""The cancels of a bulk request: each order's DELETE exactly once, BULK_CONCURRENCY at a time,
under the request's lease, with the rules of a single cancel (bot/services/execution.py).

`CancelExecution` claims the request (APPROVED or UNKNOWN → EXECUTING, with a lease it renews)
and hands it here. One run:

- an order still SENDING was being sent by an instance that stopped: it becomes UNKNOWN, and is
  read back before anything else (never resent blindly);
- on an approver's Retry, orders MouvONE surely did not act on (UNAVAILABLE) wait again, and
  UNKNOWN ones are read first and sent again only if they are not cancelled;
- on an automatic read-back (settle), UNKNOWN orders are only read: cancelled → SUCCEEDED, else
  they stay UNKNOWN with what was found, for an approver's Retry;
- each WAITING order is claimed (→ SENDING, a conditional update that checks the lease) before
  its DELETE, and its answer recorded with an edit of the summary reply queued in the outbox.

Then the request takes the status its orders give (`bulk_status`), in one transition.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from enum import StrEnum

from bot.domain.events import EventKind, outcome_event
from bot.domain.outcomes import CancelOutcome, outcome_of, settle_note
from bot.domain.requests import (
    CancelRequest,
    MessageKind,
    OrderItem,
    OrderState,
    RequestStatus,
    bulk_status,
    order_totals,
    with_redraw,
)
from bot.i18n.notes import NOTE_CONFIRMED_BY_READING, NOTE_INTERRUPTED
from bot.services.cancel_call import read_status, send_cancel
from bot.soget.client import SogetClient
from bot.storage.store import Store

logger = logging.getLogger(__name__)

CANCELLED_STATUS = "Cancelled"
DEFAULT_BULK_CONCURRENCY = 4
_ORDER_STATE = {
    RequestStatus.SUCCEEDED: OrderState.SUCCEEDED,
    RequestStatus.FAILED: OrderState.FAILED,
    RequestStatus.UNKNOWN: OrderState.UNKNOWN,
    RequestStatus.APPROVED: OrderState.UNAVAILABLE,
}


class RunKind(StrEnum):
    FIRST = "first"  # the approval's run (or its pick-up after a restart)
    RETRY = "retry"  # an approver's Retry
    SETTLE = "settle"  # the automatic read-back of unknown outcomes (never a resend)


class BulkCancels:
    def __init__(
        self,
        store: Store,
        soget: SogetClient,
        *,
        instance_id: str,
        concurrency: int,
        settle_after: timedelta,
        max_settle_reads: int,
    ) -> None:
        self._store = store
        self._soget = soget
        self._instance_id = instance_id
        self._concurrency = concurrency
        self._settle_after = settle_after
        self._max_reads = max_settle_reads

    async def run(self, request: CancelRequest, kind: RunKind) -> CancelRequest | None:
        """Drive the orders of a claimed (EXECUTING, leased) bulk request, then record the
        request's status. Returns the request as recorded, or None if the lease was lost."""
        resend = (OrderState.UNAVAILABLE,) if kind is RunKind.RETRY else ()
        orders = await self._store.start_bulk_run(
            request.id, self._instance_id, interrupted_note=NOTE_INTERRUPTED, resend=resend
        )
        gate = asyncio.Semaphore(self._concurrency)

        async def one(order: OrderItem) -> None:
            async with gate:
                try:
                    await self._order(request.id, order, kind)
                except Exception:
                    # The order stays as stored (SENDING → read back after a take-over).
                    logger.exception("order %s of request %s failed", order.order_id, request.id)

        await asyncio.gather(*(one(order) for order in orders))
        return await self._finish(request.id, kind)

    async def _order(self, request_id: str, order: OrderItem, kind: RunKind) -> None:
        state = order.state
        if state is OrderState.UNKNOWN:
            if kind is RunKind.FIRST or (
                kind is RunKind.SETTLE and order.settle_reads >= self._max_reads
            ):
                return  # read back already as far as the bot goes on its own: Retry decides
            found = await read_status(self._soget, order.order_id)
            if found == CANCELLED_STATUS:
                await self._record(
                    request_id,
                    order,
                    state,
                    CancelOutcome(status=RequestStatus.SUCCEEDED, note=NOTE_CONFIRMED_BY_READING),
                )
                return
            if kind is RunKind.SETTLE:
                reads = order.settle_reads + 1 if found is None else self._max_reads
                await self._store.record_order(
                    request_id,
                    order.order_id,
                    self._instance_id,
                    expected=state,
                    state=OrderState.UNKNOWN,
                    event=EventKind.SETTLE_UNCONFIRMED,
                    detail=found,
                    settle_reads=reads,
                    outcome_note=order.outcome_note if found is None else settle_note(found),
                )
                return
            # An approver's Retry: not cancelled (or not readable), so it is sent again.
        elif state is not OrderState.WAITING:
            return
        if not await self._store.claim_order(
            request_id, order.order_id, self._instance_id, expected=state
        ):
            return  # another task or instance has it, or the lease was lost
        error = await send_cancel(self._soget, order.order_id)
        outcome = outcome_of(error, resent=order.attempts > 0)
        await self._record(request_id, order, OrderState.SENDING, outcome)

    async def _record(
        self, request_id: str, order: OrderItem, expected: OrderState, outcome: CancelOutcome
    ) -> None:
        recorded = await self._store.record_order(
            request_id,
            order.order_id,
            self._instance_id,
            expected=expected,
            state=_ORDER_STATE[outcome.status],
            event=outcome_event(outcome.status),
            detail=outcome.code or (outcome.failure.value if outcome.failure else None),
            outcome_code=outcome.code,
            outcome_failure=outcome.failure.value if outcome.failure else None,
            outcome_message=outcome.api_message,
            outcome_http_status=outcome.http_status,
            outcome_note=outcome.note,
            outcome_at=self._store.now(),
            settle_reads=0,
        )
        if not recorded:
            logger.warning(
                "request %s: the answer for %s was not recorded, the lease was lost",
                request_id,
                order.order_id,
            )

    async def _finish(self, request_id: str, kind: RunKind) -> CancelRequest | None:
        # An order whose call failed inside the bot after its claim may have been sent.
        orders = await self._store.start_bulk_run(
            request_id, self._instance_id, interrupted_note=NOTE_INTERRUPTED
        )
        status = bulk_status(orders)
        totals = order_totals(orders)
        # Read back later while an unknown order has reads left; else an approver's Retry.
        reads_left = [
            o.settle_reads
            for o in orders
            if o.state is OrderState.UNKNOWN and o.settle_reads < self._max_reads
        ]
        settle_at = (
            self._store.now() + self._settle_after * 2 ** min(reads_left) if reads_left else None
        )
        still_unknown = kind is RunKind.SETTLE and status is RequestStatus.UNKNOWN
        event = EventKind.SETTLE_UNCONFIRMED if still_unknown else outcome_event(status)
        notify: tuple[MessageKind, ...] = with_redraw(MessageKind.SUMMARY)
        recorded = await self._store.transition(
            request_id,
            expected=RequestStatus.EXECUTING,
            target=status,
            actor=None,
            owner=self._instance_id,
            event=event,
            detail=(
                f"{totals.cancelled} cancelled, {totals.refused} refused, {totals.unknown}"
                f" unknown, {totals.unavailable} not sent, {totals.skipped} skipped"
            ),
            notify=notify,
            outcome_at=self._store.now(),
            outcome_posted_at=None,
            settle_at=settle_at,
            settle_reads=0,
            lease_owner=None,
            lease_until=None,
        )
        if recorded is None:
            logger.warning("request %s: the run's end was not recorded, lease lost", request_id)
        return recorded
