"""dermoscope scales: micrometres per pixel of a setting, measured from a photographed ruling

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dermoscope_scale",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("setting", sa.String(length=120), nullable=False),
        sa.Column("um_per_px", sa.Double(), nullable=False),
        sa.Column("line_spacing_um", sa.Double(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("uncertainty_pct", sa.Double(), nullable=False),
        sa.Column("measured_by", sa.String(length=40), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name="fk_dermoscope_scale_clinic_id_clinic"
        ),
        sa.ForeignKeyConstraint(
            ["measured_by"],
            ["user_account.id"],
            name="fk_dermoscope_scale_measured_by_user_account",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_dermoscope_scale"),
    )
    op.create_index("ix_dermoscope_scale_clinic_id", "dermoscope_scale", ["clinic_id"])


def downgrade() -> None:
    op.drop_index("ix_dermoscope_scale_clinic_id", table_name="dermoscope_scale")
    op.drop_table("dermoscope_scale")
