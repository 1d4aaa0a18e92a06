"""The search behind `/cancel-order container …` and `transport …`: MouvONE's orders for a
container or a transport order, within a time limit, as an offer (`bot.domain.search`)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Sequence

from pydantic import SecretStr

from bot.domain.search import (
    Offer,
    SearchArgs,
    SearchFailed,
    SearchKind,
    SelectionProblem,
    offer_of,
    offer_seal,
    seal_holds,
    search_failed,
    selection_problem,
)
from bot.i18n.catalogue import FailureKind
from bot.soget.client import SogetClient
from bot.soget.diagnostics import log_soget_failure
from bot.soget.errors import SogetError, SogetTimeout

logger = logging.getLogger(__name__)

# The most a search reads: 4 pages of 50. More matches are said to be left out.
SEARCH_MAX_RESULTS = 200
# Pages at most, should MouvONE serve smaller pages than asked.
SEARCH_MAX_PAGES = 10


def seal_key(bot_token: SecretStr) -> bytes:
    """The key of the offers' seals, derived from the bot token: whoever holds it can make
    the bot's views anyway. Not the token itself, so a seal never helps guess it."""
    return hashlib.sha256(
        b"cancel-order-bot/offer-seal\0" + bot_token.get_secret_value().encode()
    ).digest()


class OrderSearch:
    """Never raises: a failure or a timeout is a SearchFailed the requester is shown."""

    def __init__(
        self,
        soget: SogetClient,
        *,
        timeout_seconds: float,
        key: bytes,
        orders_per_request: int,
        max_results: int = SEARCH_MAX_RESULTS,
        max_pages: int = SEARCH_MAX_PAGES,
    ) -> None:
        self._soget = soget
        self._timeout = timeout_seconds
        self._key = key
        self.orders_per_request = orders_per_request
        self.max_results = max_results
        self._max_pages = max_pages

    async def find(self, args: SearchArgs) -> Offer | SearchFailed:
        """Every page of the search, within `timeout_seconds` in all."""
        what = f"{args.kind.value} {args.query}"
        container = args.query if args.kind is SearchKind.CONTAINER else None
        transport = args.query if args.kind is SearchKind.TRANSPORT else None
        try:
            async with asyncio.timeout(self._timeout):
                result = await self._soget.search_orders(
                    container_number=container,
                    transport_order_number=transport,
                    max_results=self.max_results,
                    max_pages=self._max_pages,
                    timeout=self._timeout,
                )
        except SogetError as exc:
            log_soget_failure("search", what, exc)
            return search_failed(exc)
        except TimeoutError:
            error = SogetTimeout(f"no answer within the search's {self._timeout:g}s")
            log_soget_failure("search", what, error)
            return search_failed(error)
        except Exception:
            logger.exception("search of %s failed inside the bot", what)
            return SearchFailed(failure=FailureKind.UNEXPECTED_STATUS)
        logger.info(
            "search of %s: %d order(s) of %d in %d page(s)%s",
            what,
            len(result.orders),
            result.total,
            result.pages,
            " (capped)" if result.capped else "",
        )
        return offer_of(
            result.orders,
            total=result.total,
            capped=result.capped,
            limit=self.orders_per_request,
        )

    def seal(
        self, *, user_id: str, channel_id: str, args: SearchArgs, order_ids: Iterable[str]
    ) -> str:
        return offer_seal(
            self._key, user_id=user_id, channel_id=channel_id, args=args, order_ids=order_ids
        )

    def choice_problem(
        self,
        seal: str,
        *,
        user_id: str,
        channel_id: str,
        args: SearchArgs,
        offered: Sequence[str],
        selected: Sequence[str],
    ) -> SelectionProblem | None:
        """Why a submitted choice opens nothing, or None: the orders it offered must be those
        this bot sealed for this person, channel and search; the chosen ones among them, at
        least one and at most `orders_per_request`."""
        if not seal_holds(
            seal, self._key, user_id=user_id, channel_id=channel_id, args=args, order_ids=offered
        ):
            return SelectionProblem.NOT_OFFERED
        return selection_problem(selected, offered, limit=self.orders_per_request)
