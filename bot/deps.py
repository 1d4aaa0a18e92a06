"""The long-lived objects listeners need, built once at start and passed to `register`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import Settings
from bot.i18n.language import UserLanguages
from bot.services.cancel import CancelService
from bot.services.ops import Ops
from bot.services.preview import OrderPreviewer
from bot.services.runner import CancelRunner
from bot.slack.publisher import SlackPublisher


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
