"""who cancelled an appointment (or marked it a no-show), and when

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 18:00:00

On SQLite the table is rebuilt to add the foreign key, which drops its triggers: migration
0003's no-overlap triggers are created again, as they were (frozen here on purpose: a
migration must not change with later code).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


_OVERLAP = """
SELECT RAISE(ABORT, 'appointment overlaps a booked appointment of the same {what}')
WHERE NEW.status = 'booked' AND NEW.{column} IS NOT NULL AND EXISTS (
    SELECT 1 FROM appointment AS a
    WHERE a.status = 'booked' AND a.id <> NEW.id AND a.{column} = NEW.{column}
      AND a.starts_at < NEW.ends_at AND NEW.starts_at < a.ends_at
);
"""


def _no_overlap_triggers_again() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # (PostgreSQL's exclusion constraints survive ALTER TABLE)
    for column, what in (("practitioner_id", "practitioner"), ("room_id", "room")):
        body = _OVERLAP.format(column=column, what=what)
        for event in ("INSERT", "UPDATE"):
            name = f"appointment_no_overlap_{column}_{event.lower()}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON appointment BEGIN {body} END")


def upgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("status_changed_by_id", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(
            "fk_appointment_status_changed_by_id_user_account",
            "user_account",
            ["status_changed_by_id"],
            ["id"],
        )
    _no_overlap_triggers_again()


def downgrade() -> None:
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_appointment_status_changed_by_id_user_account", type_="foreignkey"
        )
        batch_op.drop_column("status_changed_by_id")
        batch_op.drop_column("status_changed_at")
    _no_overlap_triggers_again()
