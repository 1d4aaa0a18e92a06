"""The long-lived objects listeners need, built once at start (bot.runtime.build_deps) and
passed to `register`. The store is here for the runtime's health probe and the tests; listeners
reach it only through the services."""

from __future__ import annotations

import re
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.i18n.language import UserLanguages
from bot.services.decisions import RequestDecisions
from bot.services.ops import Ops
from bot.services.preview import OrderPreviewer
from bot.services.request_flow import RequestFlow
from bot.services.runner import CancelRunner
from bot.services.search import OrderSearch
from bot.slack.publisher import SlackPublisher
from bot.storage.store import Store


@dataclass(frozen=True, slots=True)
class Deps:
    settings: Settings
    service: RequestDecisions
    requests: RequestFlow
    slack_client: AsyncWebClient  # with slack_sdk's retries; Bolt hands it to listeners
    publisher: SlackPublisher
    runner: CancelRunner
    order_id_pattern: re.Pattern[str]
    approvers: tuple[str, ...]
    previewer: OrderPreviewer
    languages: UserLanguages
    ops: Ops
    store: Store
    search: OrderSearch
