"""one live amendment per intake: two clinicians amending the same intake at the same moment
cannot fork its history

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIVE = "amends_id IS NOT NULL AND voided_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "uq_intake_amends_live",
        "intake",
        ["amends_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_intake_amends_live", table_name="intake")
