"""a patient asks from the portal for a visit, often instead of one they cancelled

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointment_request",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("preferred_times", sa.Text(), nullable=False),
        sa.Column("instead_of_id", sa.String(length=40), nullable=True),
        sa.Column("requested_by_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.String(length=40), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("booked_appointment_id", sa.String(length=40), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('consultation', 'session', 'follow_up')",
            name=op.f("ck_appointment_request_kind_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'booked', 'withdrawn', 'closed')",
            name=op.f("ck_appointment_request_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["booked_appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_request_booked_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_appointment_request_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_request_closed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["instead_of_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_request_instead_of_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_appointment_request_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_request_requested_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_request")),
    )
    with op.batch_alter_table("appointment_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_request_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            "ix_appointment_request_clinic_status", ["clinic_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_appointment_request_patient_id"), ["patient_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appointment_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_request_patient_id"))
        batch_op.drop_index("ix_appointment_request_clinic_status")
        batch_op.drop_index(batch_op.f("ix_appointment_request_clinic_id"))

    op.drop_table("appointment_request")
