"""login sessions also hold API bearer tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="cookie", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_login_session_kind_allowed"), "kind IN ('cookie', 'bearer')"
        )


def downgrade() -> None:
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_login_session_kind_allowed"), type_="check")
        batch_op.drop_column("kind")
