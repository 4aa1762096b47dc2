"""core records

Revision ID: 0001
Revises:
Create Date: 2026-11-26 11:01:32.979134
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_entry",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.String(length=40), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_entry")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_audit_entry_entry_hash")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_clinic_at", ["clinic_id", "at"], unique=False)
        batch_op.create_index(
            "ix_audit_entry_resource", ["resource_type", "resource_id"], unique=False
        )

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "clinic",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic")),
        sa.UniqueConstraint("slug", name=op.f("uq_clinic_slug")),
    )
    op.create_table(
        "consent_text",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('treatment', 'photo_use')", name=op.f("ck_consent_text_kind_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_consent_text_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_text")),
        sa.UniqueConstraint(
            "clinic_id", "kind", "version_number", name=op.f("uq_consent_text_clinic_id")
        ),
    )
    with op.batch_alter_table("consent_text", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_text_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "room",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_room_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room")),
        sa.UniqueConstraint("clinic_id", "name", name=op.f("uq_room_clinic_id")),
    )
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_room_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "user_account",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("credential", sa.String(length=40), nullable=True),
        sa.Column("patient_id", sa.String(length=40), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "credential IN ('dermatologist', 'physician', 'nurse_practitioner', 'registered_nurse', 'licensed_aesthetician', 'unlicensed')",
            name=op.f("ck_user_account_credential_allowed"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'practitioner', 'front_desk', 'patient')",
            name=op.f("ck_user_account_role_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_user_account_clinic_id_clinic")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_user_account_patient_id")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_clinic_id"), ["clinic_id"], unique=False)

    op.create_table(
        "login_session",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_login_session_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_login_session_token_sha256")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "patient",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex_at_birth", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "sex_at_birth IN ('female', 'male', 'intersex')",
            name=op.f("ck_patient_sex_at_birth_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_patient_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"], ["user_account.id"], name=op.f("fk_patient_voided_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patient_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_patient_clinic_name", ["clinic_id", "family_name", "given_name"], unique=False
        )
    # user_account and patient refer to each other: the second link comes once both exist.
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_user_account_patient_id_patient", "patient", ["patient_id"], ["id"]
        )

    op.create_table(
        "consent",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("consent_text_id", sa.String(length=40), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("signed_name", sa.String(length=200), nullable=False),
        sa.Column("signature_png", sa.LargeBinary(), nullable=True),
        sa.Column("witnessed_by_id", sa.String(length=40), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_consent_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["consent_text_id"],
            ["consent_text.id"],
            name=op.f("fk_consent_consent_text_id_consent_text"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_consent_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["witnessed_by_id"],
            ["user_account.id"],
            name=op.f("fk_consent_witnessed_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "intake",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("working_diagnosis", sa.String(length=40), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("amends_id", sa.String(length=40), nullable=True),
        sa.Column("amend_reason", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.String(length=40), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["amends_id"], ["intake.id"], name=op.f("fk_intake_amends_id_intake")
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_intake_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_intake_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_intake_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"], ["user_account.id"], name=op.f("fk_intake_voided_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake")),
    )
    with op.batch_alter_table("intake", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intake_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intake_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "screening_result",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("intake_id", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=30), nullable=False),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("screened_by_id", sa.String(length=40), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "decision IN ('eligible', 'eligible_with_cautions', 'defer', 'refer', 'contraindicated')",
            name=op.f("ck_screening_result_decision_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_screening_result_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["intake.id"], name=op.f("fk_screening_result_intake_id_intake")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_screening_result_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["screened_by_id"],
            ["user_account.id"],
            name=op.f("fk_screening_result_screened_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"],
            ["user_account.id"],
            name=op.f("fk_screening_result_voided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_result")),
    )
    with op.batch_alter_table("screening_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screening_result_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screening_result_intake_id"), ["intake_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_screening_result_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "plan",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("screening_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("indication", sa.String(length=40), nullable=False),
        sa.Column("needle_depth_mm", sa.Double(), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("sessions_planned", sa.Integer(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("proposed_by_id", sa.String(length=40), nullable=True),
        sa.Column("approved_by_id", sa.String(length=40), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'on_hold', 'completed', 'stopped')",
            name=op.f("ck_plan_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by_id"],
            ["user_account.id"],
            name=op.f("fk_plan_approved_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_plan_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_plan_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["user_account.id"],
            name=op.f("fk_plan_proposed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["screening_result.id"],
            name=op.f("fk_plan_screening_id_screening_result"),
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"], ["user_account.id"], name=op.f("fk_plan_voided_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "appointment",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("practitioner_id", sa.String(length=40), nullable=False),
        sa.Column("room_id", sa.String(length=40), nullable=True),
        sa.Column("plan_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("series_number", sa.Integer(), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('consultation', 'session', 'follow_up')",
            name=op.f("ck_appointment_kind_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_appointment_status_allowed"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointment_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_appointment_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_appointment_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_appointment_plan_id_plan")),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_practitioner_id_user_account"),
        ),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_appointment_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment")),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            "ix_appointment_clinic_starts", ["clinic_id", "starts_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_appointment_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_appointment_practitioner_starts", ["practitioner_id", "starts_at"], unique=False
        )

    op.create_table(
        "session_record",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("plan_id", sa.String(length=40), nullable=False),
        sa.Column("appointment_id", sa.String(length=40), nullable=True),
        sa.Column("performed_by_id", sa.String(length=40), nullable=False),
        sa.Column("performed_at", sa.DateTime(), nullable=False),
        sa.Column("device_name", sa.String(length=200), nullable=False),
        sa.Column("cartridge_lot", sa.String(length=80), nullable=False),
        sa.Column("cartridge_expiry", sa.Date(), nullable=False),
        sa.Column(
            "depth_mm_by_region",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("endpoint", sa.String(length=30), nullable=False),
        sa.Column("pain_score", sa.Integer(), nullable=True),
        sa.Column(
            "pre_session_check",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reactions", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "endpoint IN ('mild_erythema', 'pinpoint_bleeding')",
            name=op.f("ck_session_record_endpoint_allowed"),
        ),
        sa.CheckConstraint(
            "pain_score BETWEEN 0 AND 10", name=op.f("ck_session_record_pain_score_0_10")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_session_record_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_session_record_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_session_record_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["performed_by_id"],
            ["user_account.id"],
            name=op.f("fk_session_record_performed_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_session_record_plan_id_plan")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"],
            ["user_account.id"],
            name=op.f("fk_session_record_voided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_record")),
    )
    with op.batch_alter_table("session_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_record_cartridge_lot"), ["cartridge_lot"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_session_record_clinic_id"), ["clinic_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_session_record_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "adverse_event",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("session_record_id", sa.String(length=40), nullable=True),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("onset_on", sa.Date(), nullable=False),
        sa.Column("reported_by_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cleared_by_id", sa.String(length=40), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("clearance_note", sa.Text(), nullable=True),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "category IN ('erythema_prolonged', 'edema', 'pain', 'bleeding', 'infection', 'hyperpigmentation', 'hypopigmentation', 'scarring', 'contact_dermatitis', 'granuloma', 'headache', 'hair_shedding', 'other')",
            name=op.f("ck_adverse_event_category_allowed"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'cleared')", name=op.f("ck_adverse_event_status_allowed")
        ),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name=op.f("ck_adverse_event_grade_1_5")),
        sa.ForeignKeyConstraint(
            ["cleared_by_id"],
            ["user_account.id"],
            name=op.f("fk_adverse_event_cleared_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_adverse_event_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_adverse_event_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["user_account.id"],
            name=op.f("fk_adverse_event_reported_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["session_record_id"],
            ["session_record.id"],
            name=op.f("fk_adverse_event_session_record_id_session_record"),
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"],
            ["user_account.id"],
            name=op.f("fk_adverse_event_voided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_event")),
    )
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adverse_event_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_adverse_event_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "image",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("session_record_id", sa.String(length=40), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("view", sa.String(length=20), nullable=True),
        sa.Column("site", sa.String(length=20), nullable=True),
        sa.Column("um_per_px", sa.Double(), nullable=True),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("width_px", sa.Integer(), nullable=False),
        sa.Column("height_px", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("uploaded_by_id", sa.String(length=40), nullable=True),
        sa.Column("released_to_patient", sa.Boolean(), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "kind <> 'trichoscopy' OR um_per_px > 0", name=op.f("ck_image_trichoscopy_has_scale")
        ),
        sa.CheckConstraint("kind IN ('photo', 'trichoscopy')", name=op.f("ck_image_kind_allowed")),
        sa.CheckConstraint(
            "site IN ('frontal', 'midscalp', 'vertex', 'left_temporal', 'right_temporal', 'occipital')",
            name=op.f("ck_image_site_allowed"),
        ),
        sa.CheckConstraint(
            "view IN ('frontal', 'vertex', 'midline_part', 'left_temporal', 'right_temporal', 'occipital')",
            name=op.f("ck_image_view_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_image_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_image_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["session_record_id"],
            ["session_record.id"],
            name=op.f("fk_image_session_record_id_session_record"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_image_uploaded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"], ["user_account.id"], name=op.f("fk_image_voided_by_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image")),
    )
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_image_content_sha256"), ["content_sha256"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_image_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "measurement",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("patient_id", sa.String(length=40), nullable=False),
        sa.Column("image_id", sa.String(length=40), nullable=False),
        sa.Column("site", sa.String(length=20), nullable=True),
        sa.Column("measured_at", sa.DateTime(), nullable=False),
        sa.Column("hair_count", sa.Integer(), nullable=False),
        sa.Column("area_cm2", sa.Double(), nullable=False),
        sa.Column("density_per_cm2", sa.Double(), nullable=False),
        sa.Column("terminal_count", sa.Integer(), nullable=False),
        sa.Column("vellus_count", sa.Integer(), nullable=False),
        sa.Column("vellus_threshold_um", sa.Double(), nullable=False),
        sa.Column("mean_diameter_um", sa.Double(), nullable=True),
        sa.Column("diameter_cv", sa.Double(), nullable=True),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("analyser_version", sa.String(length=40), nullable=False),
        sa.Column("clinic_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("voided_by_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinic.id"], name=op.f("fk_measurement_clinic_id_clinic")
        ),
        sa.ForeignKeyConstraint(
            ["image_id"], ["image.id"], name=op.f("fk_measurement_image_id_image")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_measurement_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["voided_by_id"],
            ["user_account.id"],
            name=op.f("fk_measurement_voided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement")),
    )
    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_measurement_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_measurement_image_id"), ["image_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_measurement_patient_id"), ["patient_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("measurement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measurement_patient_id"))
        batch_op.drop_index(batch_op.f("ix_measurement_image_id"))
        batch_op.drop_index(batch_op.f("ix_measurement_clinic_id"))

    op.drop_table("measurement")
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_patient_id"))
        batch_op.drop_index(batch_op.f("ix_image_content_sha256"))
        batch_op.drop_index(batch_op.f("ix_image_clinic_id"))

    op.drop_table("image")
    with op.batch_alter_table("adverse_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_event_patient_id"))
        batch_op.drop_index(batch_op.f("ix_adverse_event_clinic_id"))

    op.drop_table("adverse_event")
    with op.batch_alter_table("session_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_record_patient_id"))
        batch_op.drop_index(batch_op.f("ix_session_record_clinic_id"))
        batch_op.drop_index(batch_op.f("ix_session_record_cartridge_lot"))

    op.drop_table("session_record")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("ix_appointment_practitioner_starts")
        batch_op.drop_index(batch_op.f("ix_appointment_patient_id"))
        batch_op.drop_index("ix_appointment_clinic_starts")
        batch_op.drop_index(batch_op.f("ix_appointment_clinic_id"))

    op.drop_table("appointment")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_patient_id"))
        batch_op.drop_index(batch_op.f("ix_plan_clinic_id"))

    op.drop_table("plan")
    with op.batch_alter_table("screening_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_result_patient_id"))
        batch_op.drop_index(batch_op.f("ix_screening_result_intake_id"))
        batch_op.drop_index(batch_op.f("ix_screening_result_clinic_id"))

    op.drop_table("screening_result")
    with op.batch_alter_table("intake", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_patient_id"))
        batch_op.drop_index(batch_op.f("ix_intake_clinic_id"))

    op.drop_table("intake")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_patient_id"))
        batch_op.drop_index(batch_op.f("ix_consent_clinic_id"))

    op.drop_table("consent")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_clinic_name")
        batch_op.drop_index(batch_op.f("ix_patient_clinic_id"))

    op.drop_table("patient")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_session_user_id"))

    op.drop_table("login_session")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_clinic_id"))

    op.drop_table("user_account")
    with op.batch_alter_table("room", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_room_clinic_id"))

    op.drop_table("room")
    with op.batch_alter_table("consent_text", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_text_clinic_id"))

    op.drop_table("consent_text")
    op.drop_table("clinic")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_resource")
        batch_op.drop_index("ix_audit_entry_clinic_at")

    op.drop_table("audit_entry")
