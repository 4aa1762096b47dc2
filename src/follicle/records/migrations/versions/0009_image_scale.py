"""image scale provenance: the measured dermoscope scale a trichoscopy image was read at

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dermoscope_scale_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            "fk_image_dermoscope_scale_id_dermoscope_scale",
            "dermoscope_scale",
            ["dermoscope_scale_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_image_dermoscope_scale_id_dermoscope_scale", type_="foreignkey"
        )
        batch_op.drop_column("dermoscope_scale_id")
