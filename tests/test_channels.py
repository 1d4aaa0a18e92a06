"""The one rule for where cancel requests may be opened (slash command, form, submission)."""

from __future__ import annotations

import pytest

from bot.domain.channels import ChannelRefusal, channel_refusal


@pytest.mark.parametrize(
    ("channel", "allowed", "refusal"),
    [
        ("C0CHANNEL1", (), None),
        ("G0PRIVATE1", (), None),
        ("C0CHANNEL1", ("C0CHANNEL1",), None),
        ("C0ELSEWHER", ("C0CHANNEL1",), ChannelRefusal.NOT_ALLOWED),
        ("D0DIRECT01", (), ChannelRefusal.NOT_A_CHANNEL),
        ("", (), ChannelRefusal.NOT_A_CHANNEL),
        # Outside ALLOWED_CHANNELS comes first: even `status` is refused there.
        ("D0DIRECT01", ("C0CHANNEL1",), ChannelRefusal.NOT_ALLOWED),
        ("", ("C0CHANNEL1",), ChannelRefusal.NOT_ALLOWED),
    ],
)
def test_channel_refusal(
    channel: str, allowed: tuple[str, ...], refusal: ChannelRefusal | None
) -> None:
    assert channel_refusal(channel, allowed) is refusal
