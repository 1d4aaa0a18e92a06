"""Finding orders by what people know: `container MSCU1234566` and `transport TOC-02-03-2022`.

Pure rules, tested without Slack: parsing the two subcommands, what each order found can expect
from a cancel (the preview's rules, `bot.domain.preview`), which orders the choice offers and
pre-selects, the seal that ties a choice to the search that made it, and the checks of a
submitted choice.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.containers import parse_container_number
from bot.domain.preview import ALREADY_CANCELLED, predicted_refusal
from bot.i18n.catalogue import FailureKind
from bot.soget.errors import SogetApiError, SogetError
from bot.soget.models import CustomerOrder

# MouvONE's `transportOrderNumber` is free text of up to 256 characters (docs/soget-api.md §3);
# one word of visible ASCII is what people type (`TOC-02-03-2022`).
TRANSPORT_ORDER_NUMBER = re.compile(r"[!-~]{1,256}")


class SearchKind(StrEnum):
    CONTAINER = "container"
    TRANSPORT = "transport"


class SearchInputProblem(StrEnum):
    """Why a search's text is refused (other than a container number's own problems, which are
    `bot.domain.containers.ContainerNumberError`); each value is its phrase key."""

    NEEDS_A_VALUE = "search.needs_a_value"  # {kind}
    ONE_VALUE = "search.one_value"  # {kind}
    NOT_A_TRANSPORT_ORDER = "search.not_a_transport_order"


class SearchInputError(ValueError):
    def __init__(self, problem: SearchInputProblem, kind: SearchKind) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.kind = kind


@dataclass(frozen=True, slots=True)
class SearchArgs:
    """`container NUMBER` or `transport NUMBER`: what to look for in MouvONE."""

    kind: SearchKind
    query: str  # a valid ISO 6346 number (upper case, no spacing), or the transport order


def parse_search(keyword: str, rest: Sequence[str]) -> SearchArgs | None:
    """The search subcommand `keyword rest…`, or None when `keyword` names none.

    Raises SearchInputError, or ContainerNumberError for a container number that is not one:
    nothing is asked of MouvONE then.
    """
    try:
        kind = SearchKind(keyword.lower())
    except ValueError:
        return None
    if not rest:
        raise SearchInputError(SearchInputProblem.NEEDS_A_VALUE, kind)
    if kind is SearchKind.CONTAINER:
        # `MSCU 123456 6` is one number written with spaces.
        return SearchArgs(kind, parse_container_number("".join(rest)))
    if len(rest) > 1:
        raise SearchInputError(SearchInputProblem.ONE_VALUE, kind)
    if not TRANSPORT_ORDER_NUMBER.fullmatch(rest[0]):
        raise SearchInputError(SearchInputProblem.NOT_A_TRANSPORT_ORDER, kind)
    return SearchArgs(kind, rest[0])


@dataclass(frozen=True, slots=True)
class FoundOrder:
    """An order a search found, and the code MouvONE would answer a cancel with (None: no
    documented rule forbids it; MouvONE's answer stays final)."""

    order: CustomerOrder
    refusal: str | None

    @property
    def order_id(self) -> str:
        return self.order.customer_order_id

    @property
    def cancellable(self) -> bool:
        return self.refusal is None

    @property
    def offered(self) -> bool:
        """Whether the choice offers it: not an order cancelled already (nothing to do)."""
        return self.refusal != ALREADY_CANCELLED


@dataclass(frozen=True, slots=True)
class Offer:
    """What a search found, and what the choice of orders offers and pre-selects."""

    found: tuple[FoundOrder, ...]
    total: int  # what MouvONE counted: more than `found` when the search was capped
    capped: bool
    limit: int  # most orders one request may hold

    @property
    def offered(self) -> tuple[FoundOrder, ...]:
        return tuple(found for found in self.found if found.offered)

    @property
    def cancellable(self) -> tuple[FoundOrder, ...]:
        return tuple(found for found in self.found if found.cancellable)

    @property
    def preselected(self) -> tuple[str, ...]:
        """The cancellable orders, up to the limit of one request."""
        return tuple(found.order_id for found in self.cancellable[: self.limit])


def offer_of(orders: Iterable[CustomerOrder], *, total: int, capped: bool, limit: int) -> Offer:
    found = tuple(FoundOrder(order, predicted_refusal(order)) for order in orders)
    return Offer(found, total=total, capped=capped, limit=limit)


@dataclass(frozen=True, slots=True)
class SearchFailed:
    """MouvONE could not be searched: its documented `code`, or the failure kind."""

    code: str | None = None
    failure: FailureKind | None = None
    api_message: str | None = None


def search_failed(error: SogetError) -> SearchFailed:
    if isinstance(error, SogetApiError):
        return SearchFailed(code=error.code, api_message=error.api_message)
    return SearchFailed(failure=error.failure_kind)


# -- the seal of a choice -----------------------------------------------------------------------


def offer_seal(
    key: bytes, *, user_id: str, channel_id: str, args: SearchArgs, order_ids: Iterable[str]
) -> str:
    """A MAC over who was offered which orders, where, for which search. The choice's modal
    carries it; its submission is taken only if the orders it offers still match it, so a
    submission can only choose among orders a search of this bot offered to that person."""
    message = "\n".join([user_id, channel_id, args.kind.value, args.query, *sorted(set(order_ids))])
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


def seal_holds(
    seal: str,
    key: bytes,
    *,
    user_id: str,
    channel_id: str,
    args: SearchArgs,
    order_ids: Iterable[str],
) -> bool:
    expected = offer_seal(
        key, user_id=user_id, channel_id=channel_id, args=args, order_ids=order_ids
    )
    return hmac.compare_digest(seal.encode(), expected.encode())


class SelectionProblem(StrEnum):
    """Why a submitted choice opens nothing; each value is its phrase key."""

    NONE_CHOSEN = "search.choice.none_chosen"
    TOO_MANY = "search.choice.too_many"  # {count} {limit}
    NOT_OFFERED = "search.choice.not_offered"


def selection_problem(
    selected: Sequence[str], offered: Iterable[str], *, limit: int
) -> SelectionProblem | None:
    """The rules a chosen set of orders must follow: at least one, at most `limit`, and only
    orders the choice offered."""
    if not selected:
        return SelectionProblem.NONE_CHOSEN
    if not set(selected) <= set(offered):
        return SelectionProblem.NOT_OFFERED
    if len(set(selected)) > limit:
        return SelectionProblem.TOO_MANY
    return None
