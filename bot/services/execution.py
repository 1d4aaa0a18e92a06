"""The cancel itself: send the DELETE of an approved request under a lease, record what came
back, read back outcomes nobody heard, take over cancels whose instance stopped. No Slack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from bot.domain.events import EventKind, outcome_event
from bot.domain.outcomes import CancelOutcome, outcome_of, settle_note
from bot.domain.requests import CancelRequest, MessageKind, RequestStatus, with_redraw
from bot.i18n.catalogue import FailureKind
from bot.i18n.notes import NOTE_CONFIRMED_BY_READING, NOTE_INTERRUPTED
from bot.services.bulk import DEFAULT_BULK_CONCURRENCY, BulkCancels, RunKind
from bot.services.cancel_call import read_status, send_cancel
from bot.soget.client import SogetClient
from bot.soget.diagnostics import log_soget_failure
from bot.soget.errors import SogetError
from bot.storage.store import Store

logger = logging.getLogger(__name__)

CANCELLED_STATUS = "Cancelled"
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_SETTLE_AFTER_SECONDS = 30.0
# Read-backs of an UNKNOWN request's order that may fail before the bot stops trying on its own.
MAX_SETTLE_READS = 3


class CancelExecution:
    def __init__(
        self,
        store: Store,
        soget: SogetClient,
        *,
        instance_id: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        settle_after_seconds: float = DEFAULT_SETTLE_AFTER_SECONDS,
        bulk_concurrency: int = DEFAULT_BULK_CONCURRENCY,
    ) -> None:
        self._store = store
        self._soget = soget
        # Names this process in the leases it takes on EXECUTING requests.
        self.instance_id = instance_id
        self._lease = timedelta(seconds=lease_seconds)
        self._settle_after = timedelta(seconds=settle_after_seconds)
        # The orders of a bulk request, each sent once, BULK_CONCURRENCY at a time.
        self._bulk = BulkCancels(
            store,
            soget,
            instance_id=instance_id,
            concurrency=bulk_concurrency,
            settle_after=self._settle_after,
            max_settle_reads=MAX_SETTLE_READS,
        )

    async def execute(self, request_id: str, *, retry: bool = False) -> CancelRequest | None:
        """Send the DELETE for an approved request and record what came back.

        Returns None when the request is not in a state to execute (another task or instance
        owns it, or ran it already). Only an approver's Retry (`retry`) sends again: for a
        request left UNKNOWN, which never got its answer, the order is read first, and the
        DELETE is sent again only if it is not cancelled yet. An approval's run (or the sweep's
        pick-up of it) that comes late, once another run has left the request UNKNOWN or
        waiting for a Retry, does nothing: it decided to run on a read made before that.
        """
        request = await self._store.get(request_id)
        if request is None or request.status not in (
            RequestStatus.APPROVED,
            RequestStatus.UNKNOWN,
        ):
            return None
        if request.awaits_retry is not retry:
            return None
        settling = request.status is RequestStatus.UNKNOWN
        claimed = await self._claim(
            request,
            event=EventKind.CANCEL_SETTLING if settling else EventKind.CANCEL_SENT,
            count_attempt=True,
        )
        if claimed is None:
            return None
        async with self._leased(request_id):
            if claimed.is_bulk:
                kind = RunKind.RETRY if retry else RunKind.FIRST
                return await self._bulk.run(claimed, kind)
            if settling and await self._already_cancelled(claimed.order_id):
                outcome = CancelOutcome(
                    status=RequestStatus.SUCCEEDED, note=NOTE_CONFIRMED_BY_READING
                )
            else:
                outcome = outcome_of(
                    await send_cancel(self._soget, claimed.order_id), resent=request.attempts > 0
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
        claimed = await self._claim(request, event=EventKind.SETTLE_READ)
        if claimed is None:
            return None
        if claimed.is_bulk:
            # A bulk run may also send orders never sent: cut off by a shutdown, it keeps its
            # lease like a DELETE (its SENDING orders are read back by whoever takes it over).
            async with self._leased(request_id):
                return await self._bulk.run(claimed, RunKind.SETTLE)
        async with self._leased(request_id), self._released_if_stopped(request_id):
            found = await read_status(self._soget, claimed.order_id)
            if found == CANCELLED_STATUS:
                outcome = CancelOutcome(
                    status=RequestStatus.SUCCEEDED, note=NOTE_CONFIRMED_BY_READING
                )
                return await self._record(request_id, outcome)
            failed_reads = (claimed.settle_reads or 0) + (1 if found is None else 0)
            again = found is None and failed_reads < MAX_SETTLE_READS
            return await self._store.transition(
                request_id,
                expected=RequestStatus.EXECUTING,
                target=RequestStatus.UNKNOWN,
                actor=None,
                owner=self.instance_id,
                event=EventKind.SETTLE_UNCONFIRMED,
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
                event=EventKind.CANCEL_INTERRUPTED,
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

    async def approved_not_started(self) -> list[CancelRequest]:
        """Approved cancels never sent: the approving instance died before sending, or it is
        about to send (the claim in `execute` makes exactly one of them send).

        Approved requests that already met an unavailable MouvONE wait for an approver's Retry.
        """
        found = await self._store.with_status(RequestStatus.APPROVED)
        return [r for r in found if not r.awaits_retry]

    async def seconds_until_background_due(self) -> float | None:
        """Seconds until a read-back is due or a lease runs out, or None if nothing waits."""
        due = await self._store.next_background_due_at(self._lease)
        if due is None:
            return None
        return max(0.0, (due - self._store.now()).total_seconds())

    async def _claim(
        self, request: CancelRequest, *, event: EventKind, count_attempt: bool = False
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

    @contextlib.asynccontextmanager
    async def _released_if_stopped(self, request_id: str) -> AsyncIterator[None]:
        """A read-back stopped by a shutdown gives its request back at once: a read is safe to
        repeat, so another instance (or the next start) reads the order now rather than once
        the lease has run out. Only reads: a DELETE cut off keeps its lease (see drain)."""
        try:
            yield
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release_read(request_id))
            raise

    async def _release_read(self, request_id: str) -> None:
        released = await self._store.transition(
            request_id,
            expected=RequestStatus.EXECUTING,
            target=RequestStatus.UNKNOWN,
            actor=None,
            owner=self.instance_id,
            event=EventKind.SETTLE_RELEASED,
            detail=self.instance_id,
            settle_at=self._store.now(),
            lease_owner=None,
            lease_until=None,
        )
        if released is not None:
            logger.info("request %s: read-back handed back at shutdown", request_id)

    async def _already_cancelled(self, order_id: str) -> bool:
        try:
            order = await self._soget.get_order(order_id)
        except SogetError as exc:
            log_soget_failure("settle", order_id, exc)
            return False
        return order.status == CANCELLED_STATUS

    async def _record(self, request_id: str, outcome: CancelOutcome) -> CancelRequest | None:
        unknown = outcome.status is RequestStatus.UNKNOWN
        recorded = await self._store.transition(
            request_id,
            expected=RequestStatus.EXECUTING,
            target=outcome.status,
            actor=None,
            owner=self.instance_id,
            event=outcome_event(outcome.status),
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
