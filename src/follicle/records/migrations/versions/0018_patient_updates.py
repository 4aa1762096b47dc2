"""updates and education the clinic sends to the patients who opted in to them

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_KINDS = (
    "'reminder', 'confirmation', 'rescheduled', 'cancelled', 'aftercare', 'review_due', "
    "'invite', 'password_reset', 'problem_reviewed'"
)
#: As 0005 named it (the naming convention prefixes it again: in the database it is
#: ck_outbox_message_ck_outbox_message_kind_allowed, and stays so).
_NAME = "ck_outbox_message_kind_allowed"


def _allow(kinds: str) -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(_NAME, type_="check")
        batch_op.create_check_constraint(_NAME, f"kind IN ({kinds})")


def upgrade() -> None:
    _allow(_KINDS + ", 'update', 'education'")


def downgrade() -> None:
    op.execute("DELETE FROM outbox_message WHERE kind IN ('update', 'education')")
    _allow(_KINDS)
