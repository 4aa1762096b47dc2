"""the patient's own view of the change, on a seven-point scale

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_outcome",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("change_score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.String(length=40), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "change_score BETWEEN -3 AND 3", name=op.f("ck_patient_outcome_change_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_patient_outcome_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_patient_outcome_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_patient_outcome_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_outcome")),
    )
    with op.batch_alter_table("patient_outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_outcome_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patient_outcome_patient_id"), ["patient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("patient_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_outcome_patient_id"))
        batch_op.drop_index(batch_op.f("ix_patient_outcome_clinic_id"))
    op.drop_table("patient_outcome")
