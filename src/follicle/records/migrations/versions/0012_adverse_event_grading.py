"""an adverse event graded by a practitioner: as reported, and who graded it, when and why

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CATEGORIES = (
    "erythema_prolonged",
    "edema",
    "pain",
    "bleeding",
    "infection",
    "hyperpigmentation",
    "hypopigmentation",
    "scarring",
    "contact_dermatitis",
    "granuloma",
    "headache",
    "hair_shedding",
    "other",
)


def upgrade() -> None:
    quoted = ", ".join(f"'{c}'" for c in CATEGORIES)
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_category", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("reported_grade", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("graded_by_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("graded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("grading_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            "fk_adverse_event_graded_by_id_user_account", "user_account", ["graded_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_adverse_event_reported_category_allowed"), f"reported_category IN ({quoted})"
        )
        batch_op.create_check_constraint(
            op.f("ck_adverse_event_reported_grade_1_5"), "reported_grade BETWEEN 1 AND 5"
        )


def downgrade() -> None:
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_adverse_event_reported_grade_1_5"), type_="check")
        batch_op.drop_constraint(op.f("ck_adverse_event_reported_category_allowed"), type_="check")
        batch_op.drop_constraint("fk_adverse_event_graded_by_id_user_account", type_="foreignkey")
        batch_op.drop_column("grading_note")
        batch_op.drop_column("graded_at")
        batch_op.drop_column("graded_by_id")
        batch_op.drop_column("reported_grade")
        batch_op.drop_column("reported_category")
