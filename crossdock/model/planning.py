"""Planning: demand forecasts per SKU (and optionally per warehouse) over time periods."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from crossdock.model.base import CanonicalObject, ValueObject
from crossdock.model.types import NonNegativeQuantity, ShortText, Sku, UnitOfMeasure
from crossdock.model.validation import raise_field_error, require_unique

__all__ = ["Forecast", "ForecastPeriod"]


class ForecastPeriod(ValueObject):
    """Forecast demand for one period (both dates included)."""

    start: date = Field(description="First day of the period.")
    end: date = Field(description="Last day of the period.")
    quantity: NonNegativeQuantity = Field(description="Expected demand in the period.")
    lower: NonNegativeQuantity | None = Field(
        default=None, description="Lower bound of the prediction interval."
    )
    upper: NonNegativeQuantity | None = Field(
        default=None, description="Upper bound of the prediction interval."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ForecastPeriod:
        title = type(self).__name__
        if self.end < self.start:
            raise_field_error(title, ("end",), "date_order", "must not be before start", self.end)
        if self.lower is not None and self.lower > self.quantity:
            raise_field_error(
                title, ("lower",), "bound_order", "must not exceed quantity", str(self.lower)
            )
        if self.upper is not None and self.upper < self.quantity:
            raise_field_error(
                title, ("upper",), "bound_order", "must not be below quantity", str(self.upper)
            )
        return self


class Forecast(CanonicalObject):
    """A demand forecast for one SKU: quantities per period, periods in time order."""

    SCHEMA_NAME: ClassVar[str] = "forecast"

    sku: Sku = Field(description="SKU forecast.")
    warehouse: ShortText | None = Field(
        default=None, description="Warehouse forecast; all warehouses when absent."
    )
    uom: UnitOfMeasure = Field(default="unit", description="Unit of all quantities.")
    granularity: Literal["day", "week", "month"] = Field(description="Length of the periods.")
    generated_at: AwareDatetime = Field(description="When the forecast was computed.")
    method: ShortText | None = Field(
        default=None, description="Forecasting method or model name and version."
    )
    periods: list[ForecastPeriod] = Field(min_length=1, description="Periods, in time order.")

    @field_validator("periods")
    @classmethod
    def _periods_in_order(cls, periods: list[ForecastPeriod]) -> list[ForecastPeriod]:
        require_unique("ForecastPeriod", periods, lambda period: period.start, "start", "period")
        for index in range(1, len(periods)):
            if periods[index].start <= periods[index - 1].end:
                raise_field_error(
                    "ForecastPeriod",
                    (index, "start"),
                    "period_overlap",
                    "must be after the previous period's end (periods in order, no overlap)",
                    periods[index].start,
                )
        return periods
