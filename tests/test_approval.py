"""Tests for bot.approval: who may decide, and the approver directory with its cache."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from bot.domain.approval import (
    ApproverDirectory,
    Decision,
    Denial,
    MembershipUnknownError,
    denial_for,
)
from bot.domain.requests import CancelRequest, RequestStatus

REQUESTER = "U0REQUEST1"
APPROVER = "U0APPROVE1"
GROUP_MEMBER = "U0GROUPME1"
OUTSIDER = "U0OUTSIDE1"
GROUP = "S0APPROVER"
OTHER_GROUP = "S0OTHERGRP"
NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


def request_in(status: RequestStatus = RequestStatus.PENDING) -> CancelRequest:
    return CancelRequest(
        id="r" * 32,
        order_id="CDE0000000001",
        channel_id="C0CHANNEL1",
        requester_id=REQUESTER,
        reason="customer asked",
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


# -- denial_for --------------------------------------------------------------------------------

A = Decision.APPROVE
R = Decision.REJECT
DECIDED = [s for s in RequestStatus if s is not RequestStatus.PENDING]


@pytest.mark.parametrize(
    ("decision", "user", "is_approver", "allow_self", "status", "expected"),
    [
        # an approver on someone else's pending request
        (A, APPROVER, True, False, RequestStatus.PENDING, None),
        (R, APPROVER, True, False, RequestStatus.PENDING, None),
        (A, APPROVER, True, True, RequestStatus.PENDING, None),
        # not an approver: never, whatever else holds
        (A, OUTSIDER, False, False, RequestStatus.PENDING, Denial.NOT_APPROVER),
        (R, OUTSIDER, False, False, RequestStatus.PENDING, Denial.NOT_APPROVER),
        (A, OUTSIDER, False, True, RequestStatus.PENDING, Denial.NOT_APPROVER),
        (A, REQUESTER, False, True, RequestStatus.PENDING, Denial.NOT_APPROVER),
        (R, REQUESTER, False, True, RequestStatus.PENDING, Denial.NOT_APPROVER),
        (A, OUTSIDER, False, False, RequestStatus.APPROVED, Denial.NOT_APPROVER),
        # own request: approving needs ALLOW_SELF_APPROVAL, rejecting is always allowed
        (A, REQUESTER, True, False, RequestStatus.PENDING, Denial.OWN_REQUEST),
        (A, REQUESTER, True, True, RequestStatus.PENDING, None),
        (R, REQUESTER, True, False, RequestStatus.PENDING, None),
        (R, REQUESTER, True, True, RequestStatus.PENDING, None),
        # already decided
        (A, APPROVER, True, False, RequestStatus.APPROVED, Denial.ALREADY_DECIDED),
        (R, APPROVER, True, False, RequestStatus.REJECTED, Denial.ALREADY_DECIDED),
        (A, REQUESTER, True, True, RequestStatus.SUCCEEDED, Denial.ALREADY_DECIDED),
        (R, REQUESTER, True, False, RequestStatus.WITHDRAWN, Denial.ALREADY_DECIDED),
        # own decided request, self-approval off: OWN_REQUEST is checked first
        (A, REQUESTER, True, False, RequestStatus.APPROVED, Denial.OWN_REQUEST),
    ],
)
def test_denial_truth_table(
    decision: Decision,
    user: str,
    is_approver: bool,
    allow_self: bool,
    status: RequestStatus,
    expected: Denial | None,
) -> None:
    denial = denial_for(
        decision=decision,
        user_id=user,
        request=request_in(status),
        is_approver=is_approver,
        allow_self_approval=allow_self,
    )

    assert denial is expected


@pytest.mark.parametrize("decision", [A, R])
@pytest.mark.parametrize("status", DECIDED)
def test_no_decision_on_a_decided_request(decision: Decision, status: RequestStatus) -> None:
    denial = denial_for(
        decision=decision,
        user_id=APPROVER,
        request=request_in(status),
        is_approver=True,
        allow_self_approval=True,
    )

    assert denial is Denial.ALREADY_DECIDED


# -- ApproverDirectory -------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeGroups:
    """Slack's usergroups.users.list: members per group, failures on demand, calls recorded.

    While `gate` is cleared, reads wait: a slow or rate-limited Slack."""

    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members
        self.failing: set[str] = set()
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, group_id: str) -> Sequence[str]:
        self.calls.append(group_id)
        await asyncio.sleep(0)  # let other checks run while this "request" is in flight
        await self.gate.wait()
        if group_id in self.failing:
            raise RuntimeError(f"usergroups.users.list failed for {group_id}")
        return list(self.members[group_id])


@pytest.fixture
def groups() -> FakeGroups:
    return FakeGroups({GROUP: [GROUP_MEMBER], OTHER_GROUP: ["U0OTHERME1"]})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def directory(
    groups: FakeGroups,
    clock: FakeClock,
    approvers: Sequence[str] = (APPROVER, GROUP),
    cache_seconds: float = 300,
) -> ApproverDirectory:
    return ApproverDirectory(approvers, groups, cache_seconds=cache_seconds, clock=clock)


async def settled(approvers: ApproverDirectory) -> None:
    """Let the reads started in the background finish."""
    await approvers.refresh()


async def test_direct_user_is_an_approver_without_fetching(
    groups: FakeGroups, clock: FakeClock
) -> None:
    approvers = directory(groups, clock)

    assert await approvers.is_approver(APPROVER)
    assert groups.calls == []


async def test_enterprise_user_id_is_a_direct_user(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, ["W0GRIDUSER", GROUP])

    assert await approvers.is_approver("W0GRIDUSER")
    assert groups.calls == []


async def test_group_member_is_an_approver_once_read(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)
    await approvers.refresh()

    assert await approvers.is_approver(GROUP_MEMBER)
    assert groups.calls == [GROUP]


async def test_a_check_never_waits_for_slack(groups: FakeGroups, clock: FakeClock) -> None:
    """Cold cache and a Slack that does not answer: the check answers at once, unknown."""
    groups.gate.clear()
    approvers = directory(groups, clock)

    with pytest.raises(MembershipUnknownError):
        await asyncio.wait_for(approvers.is_approver(GROUP_MEMBER), timeout=1)
    assert approvers.unknown_groups == (GROUP,)

    groups.gate.set()  # the read it started in the background lands
    await settled(approvers)
    assert await approvers.is_approver(GROUP_MEMBER)
    assert groups.calls == [GROUP]


async def test_outsider_is_not_an_approver(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, [APPROVER, GROUP, OTHER_GROUP])
    await approvers.refresh()

    assert not await approvers.is_approver(OUTSIDER)
    assert sorted(groups.calls) == [GROUP, OTHER_GROUP]


async def test_group_id_itself_is_not_a_member(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)
    await approvers.refresh()

    assert not await approvers.is_approver(GROUP)


async def test_no_groups_means_no_fetch(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, [APPROVER])
    await approvers.start(wait_seconds=1)

    assert not await approvers.is_approver(OUTSIDER)
    assert groups.calls == []
    await approvers.stop()


async def test_members_are_cached_within_cache_time(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)
    await approvers.refresh()

    clock.now += 299
    assert await approvers.is_approver(GROUP_MEMBER)
    assert not await approvers.is_approver(OUTSIDER)
    await asyncio.sleep(0.01)  # a read started in the background would have begun

    assert groups.calls == [GROUP]


async def test_stale_members_are_served_while_read_again(
    groups: FakeGroups, clock: FakeClock
) -> None:
    approvers = directory(groups, clock)
    await approvers.refresh()

    # The member leaves the group in Slack, and Slack is slow to say so.
    groups.members[GROUP] = ["U0NEWMEMB1"]
    groups.gate.clear()
    clock.now += 300
    # stale, served at once
    assert await asyncio.wait_for(approvers.is_approver(GROUP_MEMBER), timeout=1)
    await wait_until(lambda: groups.calls == [GROUP, GROUP])  # ...and read again behind

    groups.gate.set()
    await settled(approvers)
    assert not await approvers.is_approver(GROUP_MEMBER)
    assert await approvers.is_approver("U0NEWMEMB1")


async def test_concurrent_checks_on_a_cold_cache_read_once(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.gate.clear()
    approvers = directory(groups, clock)

    checks = asyncio.gather(
        *(approvers.is_approver(GROUP_MEMBER) for _ in range(10)), return_exceptions=True
    )
    results = await asyncio.wait_for(checks, timeout=1)

    assert all(isinstance(r, MembershipUnknownError) for r in results)
    groups.gate.set()
    await settled(approvers)
    assert groups.calls == [GROUP]


async def test_fetch_failure_is_membership_unknown_for_a_non_listed_user(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock)
    await approvers.refresh()

    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(OUTSIDER)
    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(GROUP_MEMBER)


async def test_fetch_failure_does_not_block_a_directly_listed_user(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock)
    await approvers.refresh()

    assert await approvers.is_approver(APPROVER)


async def test_fetch_failure_is_not_cached(groups: FakeGroups, clock: FakeClock) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock)
    await approvers.refresh()
    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(GROUP_MEMBER)  # starts another read

    groups.failing.clear()
    await settled(approvers)

    assert await approvers.is_approver(GROUP_MEMBER)


async def test_failed_refresh_keeps_the_last_members(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)
    await approvers.refresh()
    groups.failing.add(GROUP)
    clock.now += 301

    await approvers.refresh()

    assert await approvers.is_approver(GROUP_MEMBER)
    assert not await approvers.is_approver(OUTSIDER)


async def test_member_of_a_readable_group_passes_when_another_group_fails(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock, [GROUP, OTHER_GROUP])
    await approvers.refresh()

    assert await approvers.is_approver("U0OTHERME1")
    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(OUTSIDER)


async def test_start_warms_the_cache(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)

    await approvers.start(wait_seconds=5)

    assert approvers.unknown_groups == ()
    assert await approvers.is_approver(GROUP_MEMBER)
    await approvers.stop()


async def test_start_waits_a_bounded_time_and_the_read_goes_on(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.gate.clear()
    approvers = directory(groups, clock)

    await asyncio.wait_for(approvers.start(wait_seconds=0.01), timeout=2)
    assert approvers.unknown_groups == (GROUP,)

    groups.gate.set()
    await settled(approvers)
    assert await approvers.is_approver(GROUP_MEMBER)
    assert groups.calls == [GROUP]  # the warm-up's read, not a second one
    await approvers.stop()


async def test_members_are_refreshed_periodically(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, cache_seconds=0.01)
    await approvers.start(wait_seconds=5)
    groups.members[GROUP] = ["U0NEWMEMB1"]

    await wait_until(lambda: len(groups.calls) >= 3)

    assert "U0NEWMEMB1" in await _members_now(approvers)
    await approvers.stop()


async def test_stop_cancels_a_read_in_flight(groups: FakeGroups, clock: FakeClock) -> None:
    groups.gate.clear()
    approvers = directory(groups, clock)
    await approvers.start(wait_seconds=0)

    await asyncio.wait_for(approvers.stop(), timeout=2)

    assert approvers.unknown_groups == (GROUP,)


async def _members_now(approvers: ApproverDirectory) -> set[str]:
    candidates = {GROUP_MEMBER, "U0NEWMEMB1"}
    return {user for user in candidates if await approvers.is_approver(user)}


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


def test_configured_lists_users_then_groups(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, [GROUP, "U0ZZZ", "U0AAA", OTHER_GROUP])

    assert approvers.configured == ("U0AAA", "U0ZZZ", GROUP, OTHER_GROUP)
