"""an index for the worklist: a clinic's plans by status and review date

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 19:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_plan_clinic_status_review", "plan", ["clinic_id", "status", "review_on"])


def downgrade() -> None:
    op.drop_index("ix_plan_clinic_status_review", table_name="plan")
