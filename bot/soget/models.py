"""What SOGET's customer-orders API sends back, as typed models (docs/soget-api.md §2)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


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
