"""a consent signed for the patient: how the signer is related to them

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("representative", sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_consent_representative_allowed"),
            "representative IN ('parent', 'legal_guardian', 'healthcare_proxy')",
        )


def downgrade() -> None:
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_consent_representative_allowed"), type_="check")
        batch_op.drop_column("representative")
