"""clinic operations: devices and lots, the message outbox, account links, two-factor login

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "device",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("maker", sa.String(length=120), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("needle_configuration", sa.String(length=200), nullable=False),
        sa.Column("regulatory_status", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinic.id"], name="fk_device_clinic_id_clinic"),
        sa.PrimaryKeyConstraint("id", name="pk_device"),
        sa.UniqueConstraint("clinic_id", "maker", "model", name="uq_device_clinic_id"),
    )
    op.create_index("ix_device_clinic_id", "device", ["clinic_id"])
    op.create_table(
        "cartridge_lot",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("lot_number", sa.String(length=80), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name="fk_cartridge_lot_clinic_id_clinic"
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name="fk_cartridge_lot_device_id_device"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cartridge_lot"),
        sa.UniqueConstraint("device_id", "lot_number", name="uq_cartridge_lot_device_id"),
    )
    op.create_index("ix_cartridge_lot_clinic_id", "cartridge_lot", ["clinic_id"])
    op.create_index("ix_cartridge_lot_device_id", "cartridge_lot", ["device_id"])
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=True),
        sa.Column("user_id", sa.String(length=40), nullable=True),
        sa.Column("appointment_id", sa.String(length=40), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("ics", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("provider_reference", sa.String(length=200), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reminder', 'confirmation', 'rescheduled', 'cancelled', 'aftercare', "
            "'review_due', 'invite', 'password_reset')",
            name="ck_outbox_message_kind_allowed",
        ),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="ck_outbox_message_channel_allowed"),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')",
            name="ck_outbox_message_status_allowed",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name="fk_outbox_message_appointment_id_appointment",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name="fk_outbox_message_clinic_id_clinic"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name="fk_outbox_message_patient_id_patient"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_outbox_message_user_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_message"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_message_idempotency_key"),
    )
    op.create_index("ix_outbox_message_clinic_id", "outbox_message", ["clinic_id"])
    op.create_index("ix_outbox_message_patient_id", "outbox_message", ["patient_id"])
    op.create_index("ix_outbox_message_appointment_id", "outbox_message", ["appointment_id"])
    op.create_index("ix_outbox_message_status_due", "outbox_message", ["status", "next_attempt_at"])
    op.create_table(
        "account_token",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('invite', 'password_reset')", name="ck_account_token_purpose_allowed"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name="fk_account_token_user_id_user_account"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_token"),
        sa.UniqueConstraint("token_sha256", name="uq_account_token_token_sha256"),
    )
    op.create_index("ix_account_token_user_id", "account_token", ["user_id"])
    with op.batch_alter_table("session_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lot_id", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_session_record_lot_id", ["lot_id"])
        batch_op.create_foreign_key(
            "fk_session_record_lot_id_cartridge_lot", "cartridge_lot", ["lot_id"], ["id"]
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recovery_code_hashes", _json(), nullable=True))
        batch_op.add_column(sa.Column("deactivated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_opt_outs", _json(), server_default="[]", nullable=False)
        )
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("operations", _json(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("clinic", schema=None) as batch_op:
        batch_op.drop_column("operations")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_column("message_opt_outs")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        for column in (
            "deactivated_at",
            "recovery_code_hashes",
            "totp_last_step",
            "totp_enabled_at",
            "totp_secret",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("session_record", schema=None) as batch_op:
        batch_op.drop_constraint("fk_session_record_lot_id_cartridge_lot", type_="foreignkey")
        batch_op.drop_index("ix_session_record_lot_id")
        batch_op.drop_column("lot_id")
    op.drop_table("account_token")
    op.drop_table("outbox_message")
    op.drop_table("cartridge_lot")
    op.drop_table("device")
