"""Who may decide on a cancel request: plain rules, tested without Slack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum

from bot.requests import CancelRequest

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


class MembershipUnknownError(RuntimeError):
    """A configured user group could not be read, so membership cannot be confirmed."""


class ApproverDirectory:
    """CANCEL_APPROVERS resolved: user ids directly, user-group ids through Slack, cached."""

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
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> tuple[str, ...]:
        return (*sorted(self._users), *self._groups)

    async def is_approver(self, user_id: str) -> bool:
        """True if listed directly or a member of a listed group.

        Raises MembershipUnknownError when the user is not listed directly and some group
        could not be read: "no" would be a guess.
        """
        if user_id in self._users:
            return True
        unreadable = False
        for group_id in self._groups:
            try:
                members = await self._members(group_id)
            except Exception:
                logger.warning("could not read members of user group %s", group_id, exc_info=True)
                unreadable = True
                continue
            if user_id in members:
                return True
        if unreadable:
            raise MembershipUnknownError("a user group of CANCEL_APPROVERS could not be read")
        return False

    async def _members(self, group_id: str) -> frozenset[str]:
        async with self._lock:
            cached = self._cache.get(group_id)
            if cached is not None and self._clock() - cached[0] < self._cache_seconds:
                return cached[1]
            members = frozenset(await self._fetch(group_id))
            self._cache[group_id] = (self._clock(), members)
            return members
