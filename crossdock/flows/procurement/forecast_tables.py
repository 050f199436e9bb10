"""Tables of demand history and forecasts (migration ``0020_forecasts``).

- ``demand_history``: what the ERP moved per warehouse, SKU, day (UTC) and kind (``sale``,
  ``return``, ``receipt``), summed over the exports that read it (each export reads a window
  after the previous one, so nothing is counted twice); the baseline forecast reads it.
- ``demand_exports``: one row per history export: its window (``since``, ``until``], what it
  held and where it went. The last ``until`` is the watermark the next export starts from.
- ``forecast_versions``: one row per forecast import (a platform's, a file's or the hub's
  baseline), unique by the client's import id; ``state`` is ``applied`` or ``rejected``; the
  rejected lines are kept with their line number, field and rule. The latest applied version is
  the forecast in force.
- ``forecast_lines``: a version's quantities per warehouse, SKU and period.

Times are epoch seconds (float); quantities are decimal text; days are ISO dates.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

demand_history = Table(
    "demand_history",
    metadata,
    Column("warehouse", String(60), primary_key=True),
    Column("sku", String(120), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("quantity", String(40), nullable=False),
)

demand_exports = Table(
    "demand_exports",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("since", Float, nullable=False),
    Column("until", Float, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("target", String(20), nullable=False),  # file | http | none
    Column("location", Text),
    Column("at", Float, nullable=False),
    Index("ix_demand_exports_until", "until"),
)

forecast_versions = Table(
    "forecast_versions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("version", Integer, nullable=False, unique=True),
    Column("import_id", String(120), nullable=False, unique=True),
    Column("source", String(20), nullable=False),  # api | file | baseline
    Column("policy", String(20), nullable=False),
    Column("state", String(20), nullable=False),  # applied | rejected
    Column("digest", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("lines_total", Integer, nullable=False),
    Column("lines_applied", Integer, nullable=False),
    Column("rejected", Text, nullable=False),  # JSON list of {"line", "field", "rule", "detail"}
    Index("ix_forecast_versions_state", "state", "version"),
)

forecast_lines = Table(
    "forecast_lines",
    metadata,
    Column("version_id", String(36), primary_key=True),
    Column("warehouse", String(60), primary_key=True),
    Column("sku", String(120), primary_key=True),
    Column("period_start", String(10), primary_key=True),
    Column("period_days", Integer, nullable=False),
    Column("line_no", Integer, nullable=False),  # the line of the import it came from
    Column("quantity", String(40), nullable=False),
    Column("confidence", String(40)),
)
