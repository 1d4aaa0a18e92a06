"""Direct messages to the requester when their request is decided and when the cancel finished.

The store asks `notices_for` inside the transaction of every change, so every path that changes
a request (buttons, modal, background cancels, a restart's resume) notifies the same way and the
notice is queued in the outbox with the change: retried until Slack takes it, never lost to a
crash. Posting to a user id delivers in the app's Messages tab with the `chat:write` scope alone.
"""

from __future__ import annotations

from bot.domain.requests import CancelRequest, MessageKind, RequestStatus

_DECIDED = frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED})
_FINISHED = frozenset({RequestStatus.SUCCEEDED, RequestStatus.FAILED, RequestStatus.UNKNOWN})


def notice_for(request: CancelRequest, event: str) -> str | None:
    """Which direct message a change deserves: "decided", "finished" or none.

    A decision is the `approved`/`rejected` event (APPROVED is entered again when MouvONE was
    unavailable, which is no new decision); only an answer (or its absence) from MouvONE enters
    SUCCEEDED, FAILED or UNKNOWN.
    """
    if request.status in _DECIDED and event == request.status.value:
        # Someone who approves their own request (ALLOW_SELF_APPROVAL) knows it already.
        return None if request.decided_by == request.requester_id else "decided"
    # An interrupted cancel is not finished: its read-back decides (and notifies) later.
    if request.status in _FINISHED and not event.startswith(("settle_", "cancel_interrupted")):
        return "finished"
    return None


def notices_for(request: CancelRequest, event: str) -> list[tuple[MessageKind, str]]:
    """The store's notice policy: the direct messages (kind, recipient) a change deserves."""
    kind = notice_for(request, event)
    if kind is None:
        return []
    dm = MessageKind.DM_DECIDED if kind == "decided" else MessageKind.DM_FINISHED
    return [(dm, request.requester_id)]
