"""scheduling: no double booking in the database, working hours, status reasons

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:30:00

A practitioner or a room cannot hold two booked appointments that overlap. PostgreSQL enforces
it with exclusion constraints; SQLite, whose write transactions are already serialised, with
triggers that abort the overlapping insert or update. The services check first to give a
helpful message; these are the guarantee under concurrency.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
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


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("working_hours", json_type, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for column in ("practitioner_id", "room_id"):
            op.execute(
                f"ALTER TABLE appointment ADD CONSTRAINT appointment_no_overlap_{column} "
                f"EXCLUDE USING gist ({column} WITH =, tsrange(starts_at, ends_at) WITH &&) "
                "WHERE (status = 'booked')"
            )
    else:
        for column, what in (("practitioner_id", "practitioner"), ("room_id", "room")):
            body = _OVERLAP.format(column=column, what=what)
            for event in ("INSERT", "UPDATE"):
                op.execute(
                    f"CREATE TRIGGER appointment_no_overlap_{column}_{event.lower()} "
                    f"BEFORE {event} ON appointment BEGIN {body} END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in ("practitioner_id", "room_id"):
            op.execute(f"ALTER TABLE appointment DROP CONSTRAINT appointment_no_overlap_{column}")
    else:
        for column in ("practitioner_id", "room_id"):
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER appointment_no_overlap_{column}_{event}")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("working_hours")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_column("status_reason")
