"""Who may decide on a cancel request: plain rules, tested without Slack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum

from bot.domain.requests import CancelRequest

logger = logging.getLogger(__name__)


class Denial(StrEnum):
    NOT_FOUND = "not_found"  # no such request (or a tampered button)
    WRONG_MESSAGE = "wrong_message"  # the click did not come from the request's own message
    NOT_APPROVER = "not_approver"
    OWN_REQUEST = "own_request"
    ALREADY_DECIDED = "already_decided"
    MEMBERSHIP_UNKNOWN = "membership_unknown"  # a user group could not be read from Slack
    EXPIRED = "expired"  # pending longer than REQUEST_TTL
    NOT_REQUESTER = "not_requester"  # only the requester may withdraw
    NOTHING_TO_RETRY = "nothing_to_retry"
    ALREADY_APPROVED = "already_approved"  # this approver counted already (REQUIRED_APPROVALS)


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RETRY = "retry"  # send an approved cancel again after MouvONE was unavailable
    WITHDRAW = "withdraw"  # the requester takes a pending request back


def denial_for(
    *,
    decision: Decision,
    user_id: str,
    request: CancelRequest,
    is_approver: bool,
    allow_self_approval: bool,
) -> Denial | None:
    """Why `user_id` may not take `decision` on `request`, or None if they may.

    Rejecting one's own request is always allowed to an approver: it only stops a cancel.
    Retrying counts as approving: the requester may not push their own cancel through.
    """
    if decision is Decision.WITHDRAW:
        if user_id != request.requester_id:
            return Denial.NOT_REQUESTER
        return None if request.is_pending else Denial.ALREADY_DECIDED
    if not is_approver:
        return Denial.NOT_APPROVER
    own = user_id == request.requester_id
    if decision in (Decision.APPROVE, Decision.RETRY) and own and not allow_self_approval:
        return Denial.OWN_REQUEST
    if decision is Decision.RETRY:
        return None if request.awaits_retry else Denial.NOTHING_TO_RETRY
    if not request.is_pending:
        return Denial.ALREADY_DECIDED
    if decision is Decision.APPROVE and user_id in request.approver_ids:
        return Denial.ALREADY_APPROVED
    return None


MemberFetcher = Callable[[str], Awaitable[Sequence[str]]]

# How often a group never read (or whose last read failed) is tried again in the background.
UNKNOWN_RETRY_SECONDS = 30.0


class MembershipUnknownError(RuntimeError):
    """A configured user group could not be read, so membership cannot be confirmed."""


class ApproverDirectory:
    """CANCEL_APPROVERS resolved: user ids directly, user-group ids through Slack.

    Group members come from a cache that is never read through: Slack is only asked in the
    background (warm-up at start, a periodic refresh, and a refresh when a read finds the cache
    stale), so a click or command is never held up by `usergroups.users.list`, which Slack
    rate-limits with waits longer than its 3-second deadline. A stale list is served while it
    is refreshed; a group never read successfully is "unknown", and unknown never approves.
    """

    def __init__(
        self,
        approver_ids: Sequence[str],
        fetch_group_members: MemberFetcher,
        *,
        cache_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = frozenset(i for i in approver_ids if not i.startswith("S"))
        self._groups = tuple(i for i in approver_ids if i.startswith("S"))
        self._fetch = fetch_group_members
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}  # group → (read at, members)
        self._reads: dict[str, asyncio.Task[None]] = {}  # the one read in flight per group
        self._refresher: asyncio.Task[None] | None = None

    @property
    def configured(self) -> tuple[str, ...]:
        return (*sorted(self._users), *self._groups)

    @property
    def unknown_groups(self) -> tuple[str, ...]:
        """Configured groups never read successfully."""
        return tuple(g for g in self._groups if g not in self._cache)

    async def is_approver(self, user_id: str) -> bool:
        """True if listed directly or a member of a listed group, from the cache only.

        Raises MembershipUnknownError when the user is not listed directly, is in no group
        known, and some group was never read: "no" would be a guess.
        """
        if user_id in self._users:
            return True
        unknown = False
        for group_id in self._groups:
            cached = self._cache.get(group_id)
            if cached is None or self._clock() - cached[0] >= self._cache_seconds:
                self._read_in_background(group_id)
            if cached is None:
                unknown = True
            elif user_id in cached[1]:
                return True
        if unknown:
            raise MembershipUnknownError("a user group of CANCEL_APPROVERS could not be read")
        return False

    async def refresh(self) -> None:
        """Read every group now (one read per group in flight); failures keep the old list."""
        reads = [self._read_in_background(g) for g in self._groups]
        if reads:
            await asyncio.wait(reads)

    async def start(self, *, wait_seconds: float) -> None:
        """Warm the cache, waiting at most `wait_seconds` for it, then keep it fresh."""
        reads = [self._read_in_background(g) for g in self._groups]
        if reads:
            # asyncio.wait, not wait_for: a slow read goes on in the background.
            await asyncio.wait(reads, timeout=wait_seconds)
            self._refresher = asyncio.get_running_loop().create_task(
                self._refresh_periodically(), name="approver-groups-refresh"
            )

    async def stop(self) -> None:
        tasks = [t for t in (self._refresher, *self._reads.values()) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self._refresher = None

    async def _refresh_periodically(self) -> None:
        while True:
            known = not self.unknown_groups
            await asyncio.sleep(self._cache_seconds if known else UNKNOWN_RETRY_SECONDS)
            await self.refresh()

    def _read_in_background(self, group_id: str) -> asyncio.Task[None]:
        running = self._reads.get(group_id)
        if running is not None:
            return running
        task = asyncio.get_running_loop().create_task(
            self._read(group_id), name=f"read-user-group-{group_id}"
        )
        self._reads[group_id] = task
        task.add_done_callback(lambda _done: self._reads.pop(group_id, None))
        return task

    async def _read(self, group_id: str) -> None:
        try:
            members = frozenset(await self._fetch(group_id))
        except Exception:
            logger.warning("could not read members of user group %s", group_id, exc_info=True)
            return
        self._cache[group_id] = (self._clock(), members)
