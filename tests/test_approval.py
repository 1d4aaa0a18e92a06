"""Tests for bot.approval: who may decide, and the approver directory with its cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.approval import (
    ApproverDirectory,
    Decision,
    Denial,
    MembershipUnknownError,
    denial_for,
)
from bot.requests import CancelRequest, RequestStatus

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
    """Slack's usergroups.users.list: members per group, failures on demand, calls recorded."""

    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members
        self.failing: set[str] = set()
        self.calls: list[str] = []

    async def __call__(self, group_id: str) -> Sequence[str]:
        self.calls.append(group_id)
        await asyncio.sleep(0)  # let other checks run while this "request" is in flight
        if group_id in self.failing:
            raise RuntimeError(f"usergroups.users.list failed for {group_id}")
        return self.members[group_id]


@pytest.fixture
def groups() -> FakeGroups:
    return FakeGroups({GROUP: [GROUP_MEMBER], OTHER_GROUP: ["U0OTHERME1"]})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def directory(
    groups: FakeGroups, clock: FakeClock, approvers: Sequence[str] = (APPROVER, GROUP)
) -> ApproverDirectory:
    return ApproverDirectory(approvers, groups, cache_seconds=300, clock=clock)


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


async def test_group_member_is_an_approver(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)

    assert await approvers.is_approver(GROUP_MEMBER)
    assert groups.calls == [GROUP]


async def test_outsider_is_not_an_approver(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, [APPROVER, GROUP, OTHER_GROUP])

    assert not await approvers.is_approver(OUTSIDER)
    assert sorted(groups.calls) == [GROUP, OTHER_GROUP]


async def test_group_id_itself_is_not_a_member(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)

    assert not await approvers.is_approver(GROUP)


async def test_no_groups_means_no_fetch(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, [APPROVER])

    assert not await approvers.is_approver(OUTSIDER)
    assert groups.calls == []


async def test_members_are_cached_within_cache_time(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)

    assert await approvers.is_approver(GROUP_MEMBER)
    clock.now += 299
    assert await approvers.is_approver(GROUP_MEMBER)
    assert not await approvers.is_approver(OUTSIDER)

    assert groups.calls == [GROUP]


async def test_members_are_fetched_again_after_cache_time(
    groups: FakeGroups, clock: FakeClock
) -> None:
    approvers = directory(groups, clock)
    assert await approvers.is_approver(GROUP_MEMBER)

    # The member leaves the group in Slack; the cache still says yes until it expires.
    groups.members[GROUP] = ["U0NEWMEMB1"]
    clock.now += 100
    assert await approvers.is_approver(GROUP_MEMBER)
    assert groups.calls == [GROUP]

    clock.now += 200  # 300 seconds after the first fetch
    assert not await approvers.is_approver(GROUP_MEMBER)
    assert await approvers.is_approver("U0NEWMEMB1")
    assert groups.calls == [GROUP, GROUP]


async def test_concurrent_checks_fetch_once(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock)

    results = await asyncio.gather(*(approvers.is_approver(GROUP_MEMBER) for _ in range(10)))

    assert all(results)
    assert groups.calls == [GROUP]


async def test_fetch_failure_is_membership_unknown_for_a_non_listed_user(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock)

    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(OUTSIDER)
    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(GROUP_MEMBER)


async def test_fetch_failure_does_not_block_a_directly_listed_user(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock)

    assert await approvers.is_approver(APPROVER)


async def test_fetch_failure_is_not_cached(groups: FakeGroups, clock: FakeClock) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock)
    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(GROUP_MEMBER)

    groups.failing.clear()

    assert await approvers.is_approver(GROUP_MEMBER)
    assert groups.calls == [GROUP, GROUP]


async def test_member_of_a_readable_group_passes_when_another_group_fails(
    groups: FakeGroups, clock: FakeClock
) -> None:
    groups.failing.add(GROUP)
    approvers = directory(groups, clock, [GROUP, OTHER_GROUP])

    assert await approvers.is_approver("U0OTHERME1")
    with pytest.raises(MembershipUnknownError):
        await approvers.is_approver(OUTSIDER)


def test_configured_lists_users_then_groups(groups: FakeGroups, clock: FakeClock) -> None:
    approvers = directory(groups, clock, [GROUP, "U0ZZZ", "U0AAA", OTHER_GROUP])

    assert approvers.configured == ("U0AAA", "U0ZZZ", GROUP, OTHER_GROUP)
