"""The long-lived objects listeners need, built once at start and passed to `register`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import Settings
from bot.language import UserLanguages
from bot.ops import Ops
from bot.preview import OrderPreviewer
from bot.publisher import SlackPublisher
from bot.runner import CancelRunner
from bot.service import CancelService


@dataclass(frozen=True, slots=True)
class Deps:
    settings: Settings
    service: CancelService
    publisher: SlackPublisher
    runner: CancelRunner
    order_id_pattern: re.Pattern[str]
    approvers: tuple[str, ...]
    previewer: OrderPreviewer
    languages: UserLanguages
    ops: Ops
