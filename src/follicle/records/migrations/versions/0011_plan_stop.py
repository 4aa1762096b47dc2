"""a plan stopped: when, by whom and why

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stopped_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("stopped_by_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("stop_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            "fk_plan_stopped_by_id_user_account", "user_account", ["stopped_by_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_constraint("fk_plan_stopped_by_id_user_account", type_="foreignkey")
        batch_op.drop_column("stop_reason")
        batch_op.drop_column("stopped_by_id")
        batch_op.drop_column("stopped_at")
