"""patient search name: the name without case or accents, for a search that finds Müller by
"muller" on SQLite as on PostgreSQL, and a list sorted as people read it

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from follicle.records.names import search_name

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_name", sa.Text(), server_default="", nullable=False))
    patient = sa.table(
        "patient",
        sa.column("id", sa.String),
        sa.column("given_name", sa.String),
        sa.column("family_name", sa.String),
        sa.column("search_name", sa.Text),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(patient.c.id, patient.c.given_name, patient.c.family_name))
    for row in rows.all():
        connection.execute(
            patient.update()
            .where(patient.c.id == row.id)
            .values(search_name=search_name(row.given_name, row.family_name))
        )
    op.create_index("ix_patient_clinic_search_name", "patient", ["clinic_id", "search_name"])


def downgrade() -> None:
    op.drop_index("ix_patient_clinic_search_name", table_name="patient")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("search_name")
