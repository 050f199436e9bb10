"""Inventory: stock positions, the stock event journal, sequences and gaps per warehouse, counts,
the SKU catalogue cache, availability published per channel and the sync loop's state.

Revision ID: 0005_inventory
Revises: 0004_audit
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_inventory"
down_revision = "0004_audit"
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stock_positions",
        sa.Column("warehouse", sa.String(16), primary_key=True),
        sa.Column("location", sa.String(255), primary_key=True),
        sa.Column("sku", sa.String(128), primary_key=True),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("last_sequence", Seq),
        sa.Column("as_of", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("erp_version", sa.Integer, nullable=False),
        sa.Column("atp_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_stock_positions_sku", "stock_positions", ["sku"])
    op.create_table(
        "stock_events",
        sa.Column("warehouse", sa.String(16), primary_key=True),
        sa.Column("sequence", Seq, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("location", sa.String(255), nullable=False),
        sa.Column("to_location", sa.String(255)),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.Float, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("event_id", sa.String(100)),
    )
    op.create_table(
        "stock_warehouses",
        sa.Column("warehouse", sa.String(16), primary_key=True),
        sa.Column("max_sequence", Seq),
        sa.Column("snapshot_sequence", Seq),
        sa.Column("snapshot_as_of", sa.Float),
        sa.Column("snapshot_id", sa.String(36)),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "stock_gaps",
        sa.Column("warehouse", sa.String(16), primary_key=True),
        sa.Column("first_sequence", Seq, primary_key=True, autoincrement=False),
        sa.Column("last_sequence", Seq, nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
    )
    op.create_table(
        "stock_snapshots",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("warehouse", sa.String(16), nullable=False),
        sa.Column("sequence", Seq),
        sa.Column("as_of", sa.Float, nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("applied", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_stock_snapshots_warehouse", "stock_snapshots", ["warehouse", "received_at"]
    )
    op.create_table(
        "inventory_skus",
        sa.Column("sku", sa.String(128), primary_key=True),
        sa.Column("known", sa.Boolean, nullable=False),
        sa.Column("checked_at", sa.Float, nullable=False),
    )
    op.create_table(
        "inventory_sku_changes",
        sa.Column("sku", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("published_version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
    )
    op.create_table(
        "inventory_atp",
        sa.Column("channel", sa.String(100), primary_key=True),
        sa.Column("sku", sa.String(128), primary_key=True),
        sa.Column("available", sa.String(40), nullable=False),
        sa.Column("low", sa.Boolean, nullable=False),
        sa.Column("published_at", sa.Float, nullable=False),
    )
    sync = op.create_table(
        "inventory_sync",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("pending", sa.Boolean, nullable=False),
        sa.Column("last_change_at", sa.Float),
        sa.Column("unflushed_since", sa.Float),
        sa.Column("unpublished_since", sa.Float),
        sa.Column("last_flush_at", sa.Float),
        sa.Column("last_publish_at", sa.Float),
        sa.Column("erp_writes", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text),
    )
    op.bulk_insert(sync, [{"name": "inventory", "pending": False, "erp_writes": 0}])


def downgrade() -> None:
    for table in (
        "inventory_sync",
        "inventory_atp",
        "inventory_sku_changes",
        "inventory_skus",
    ):
        op.drop_table(table)
    op.drop_index("ix_stock_snapshots_warehouse", table_name="stock_snapshots")
    op.drop_table("stock_snapshots")
    op.drop_table("stock_gaps")
    op.drop_table("stock_warehouses")
    op.drop_table("stock_events")
    op.drop_index("ix_stock_positions_sku", table_name="stock_positions")
    op.drop_table("stock_positions")
