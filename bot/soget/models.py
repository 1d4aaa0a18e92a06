"""What SOGET's customer-orders API sends back, as typed models (docs/soget-api.md §2, §5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class ApiErrorBody(BaseModel):
    """The documented error body of every operation."""

    model_config = ConfigDict(extra="ignore")

    code: str = Field(min_length=1)
    message: str | None = None
    timestamp: str | None = None


class Actor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str | None = None
    name: str | None = None


class Container(BaseModel):
    model_config = ConfigDict(extra="ignore")

    reference: str | None = None
    type: str | None = None


class CustomerOrder(BaseModel):
    """The fields of `GET /customer-orders/{id}` an approver needs to decide."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    customer_order_id: str = Field(alias="customerOrderId")
    type: str
    status: str
    transport_order_number: str | None = Field(default=None, alias="transportOrderNumber")
    container: Container | None = None
    contractor: Actor | None = None
    carrier: Actor | None = None
    date: datetime | None = None
    client_reference: str | None = Field(default=None, alias="clientReference")


def _int_or_none(value: object) -> object:
    # `first` is not described in the documentation we have: never fail a search on it.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class OrderSearchPage(BaseModel):
    """One page of `GET /customer-orders` (docs/soget-api.md §5): `total` matches in all,
    `returned` on this page, `first` (inferred: the offset of the first item), `items`."""

    model_config = ConfigDict(extra="ignore")

    total: int = Field(ge=0)
    returned: int | None = Field(default=None, ge=0)
    first: Annotated[int | None, BeforeValidator(_int_or_none)] = None
    items: list[CustomerOrder]


@dataclass(frozen=True, slots=True)
class OrderSearchResult:
    """The orders a search found, every page read, in MouvONE's order, each order once.

    `total` is what MouvONE counted; `capped` is True when the bot stopped reading pages
    before the end (its own limit), so `orders` holds fewer than `total`.
    """

    orders: tuple[CustomerOrder, ...]
    total: int
    pages: int
    capped: bool
