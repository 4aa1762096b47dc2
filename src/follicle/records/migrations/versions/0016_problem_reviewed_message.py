"""a message to the patient when the clinic has reviewed a problem they reported

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 18:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_KINDS = (
    "'reminder', 'confirmation', 'rescheduled', 'cancelled', 'aftercare', 'review_due', "
    "'invite', 'password_reset'"
)
#: As 0005 named it (the naming convention prefixes it again: in the database it is
#: ck_outbox_message_ck_outbox_message_kind_allowed, and stays so).
_NAME = "ck_outbox_message_kind_allowed"


def _allow(kinds: str) -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(_NAME, type_="check")
        batch_op.create_check_constraint(_NAME, f"kind IN ({kinds})")


def upgrade() -> None:
    _allow(_KINDS + ", 'problem_reviewed'")


def downgrade() -> None:
    op.execute("DELETE FROM outbox_message WHERE kind = 'problem_reviewed'")
    _allow(_KINDS)
