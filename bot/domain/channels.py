"""Where cancel requests may be opened: one rule for the slash command, the request form and
its submission."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ChannelRefusal(StrEnum):
    """Why a channel takes no cancel request."""

    NOT_ALLOWED = "not_allowed"  # outside ALLOWED_CHANNELS: nothing at all is done there
    NOT_A_CHANNEL = "not_a_channel"  # a direct message (or none): approvers cannot see it


def channel_refusal(channel_id: str, allowed: Sequence[str]) -> ChannelRefusal | None:
    """Why `channel_id` takes no request, or None if it does.

    ALLOWED_CHANNELS (when set) comes first: outside it even `status` and `list` are refused.
    Direct messages ('D…') and a missing channel (a form's metadata is only as good as what set
    it) are refused for requests only.
    """
    if allowed and channel_id not in allowed:
        return ChannelRefusal.NOT_ALLOWED
    if not channel_id or channel_id.startswith("D"):
        return ChannelRefusal.NOT_A_CHANNEL
    return None
