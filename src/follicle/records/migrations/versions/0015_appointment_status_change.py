"""who cancelled an appointment (or marked it a no-show), and when

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("status_changed_by_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            "fk_appointment_status_changed_by_id_user_account",
            "user_account",
            ["status_changed_by_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_appointment_status_changed_by_id_user_account", type_="foreignkey"
        )
        batch_op.drop_column("status_changed_by_id")
        batch_op.drop_column("status_changed_at")
