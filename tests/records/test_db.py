"""The schema the migrations build, and the record-keeping rules, on both backends."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm.exc import StaleDataError

from follicle.records import migrate
from follicle.records.db import WriteInReadOnly
from follicle.records.guards import HardDeleteRefused
from follicle.records.models import Base, Patient, new_id
from follicle.services.database import Database
from follicle.services.errors import ConcurrentChange
from tests.support.factories import make_clinic, make_patient


def _patient(clinic_id: str, **fields: object) -> Patient:
    return Patient(
        id=new_id("pat"),
        clinic_id=clinic_id,
        given_name="A",
        family_name="B",
        date_of_birth=date(1990, 1, 1),
        **fields,
    )


def test_migrations_match_the_models(db: Database) -> None:
    """Like Warehouse's `db check`: a model change without a migration fails here."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert migrate.current_revision(db.engine) == migrate.head_revision()


def test_sqlite_runs_with_the_safe_pragmas(db: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(_patient("cln_missing", sex_at_birth="male"))


def test_vocabulary_check_constraints_hold_in_the_database(db: Database) -> None:
    clinic_id = make_clinic(db)
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(_patient(clinic_id, sex_at_birth="unknown"))


def test_clinical_records_cannot_be_hard_deleted(db: Database) -> None:
    patient_id = make_patient(db, make_clinic(db))
    with pytest.raises(HardDeleteRefused), db.transaction() as session:
        session.delete(session.get(Patient, patient_id))
    with db.transaction() as session:
        assert session.get(Patient, patient_id) is not None


def test_a_stale_update_is_refused_not_silently_applied(db: Database) -> None:
    patient_id = make_patient(db, make_clinic(db), family_name="Original")
    with db.transaction() as session:
        mine = session.get(Patient, patient_id)  # read at version 1, then the form is open
    with db.transaction() as session:
        theirs = session.get(Patient, patient_id)
        assert theirs is not None
        theirs.family_name = "Theirs"  # someone else saves first
    assert mine is not None
    with pytest.raises(ConcurrentChange) as refused, db.transaction() as session:
        session.add(mine)
        mine.family_name = "Mine"
    assert isinstance(refused.value.__cause__, StaleDataError)  # the ORM's version check
    with db.transaction() as session:
        saved = session.get(Patient, patient_id)
        assert saved is not None
        assert (saved.family_name, saved.version) == ("Theirs", 2)


def test_a_snapshot_refuses_changes_and_writes_nothing(db: Database) -> None:
    clinic_id = make_clinic(db)
    with pytest.raises(WriteInReadOnly), db.snapshot() as session:
        session.add(_patient(clinic_id, sex_at_birth="male"))
        session.flush()
    with db.snapshot() as session:
        patient = session.scalar(select(Patient).where(Patient.clinic_id == clinic_id))
    assert patient is None


def test_a_snapshot_reads_while_a_writer_holds_the_lock_and_leaves_no_transaction_open(
    db: Database,
) -> None:
    """The hot read paths (chart, search, sign-in) do not queue behind writers, and the
    connection goes back to the pool with its read transaction ended (a left-open one would
    show the next request an old snapshot)."""
    clinic_id = make_clinic(db)
    first = make_patient(db, clinic_id)
    with db.transaction() as writing:
        pending = _patient(clinic_id, sex_at_birth="female")
        pending.family_name = "Pending"
        writing.add(pending)
        writing.flush()
        done: list[list[str]] = []
        reader = threading.Thread(
            target=lambda: done.append(_family_names(db, clinic_id)), daemon=True
        )
        reader.start()
        reader.join(timeout=10)
        assert done, "the read waited for the writer"
        assert "Pending" not in done[0]  # it saw the last committed state
    assert "Pending" in _family_names(db, clinic_id)  # and the next one sees the new one
    with db.snapshot() as session:
        assert session.get(Patient, first) is not None
        raw: Any = session.connection().connection.dbapi_connection
        assert _in_transaction(raw)
    assert not _in_transaction(raw)


def _in_transaction(raw: Any) -> bool:
    if isinstance(raw, sqlite3.Connection):
        return raw.in_transaction
    return bool(raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)


def _family_names(db: Database, clinic_id: str) -> list[str]:
    with db.snapshot() as session:
        return list(
            session.scalars(select(Patient.family_name).where(Patient.clinic_id == clinic_id))
        )


def test_times_come_back_as_aware_utc(db: Database) -> None:
    clinic_id = make_clinic(db)
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    with db.transaction() as session:
        session.add(
            Patient(
                id="pat_time",
                clinic_id=clinic_id,
                given_name="A",
                family_name="B",
                date_of_birth=date(1990, 1, 1),
                sex_at_birth="male",
                voided_at=moment,
                void_reason="test",
            )
        )
    with db.transaction() as session:
        stored = session.scalar(select(Patient.voided_at).where(Patient.id == "pat_time"))
    assert stored == moment
    assert stored is not None
    assert stored.tzinfo == UTC


def test_naive_times_are_refused(db: Database) -> None:
    clinic_id = make_clinic(db)
    with pytest.raises(StatementError, match="naive datetime"), db.transaction() as session:
        session.add(_patient(clinic_id, sex_at_birth="male", voided_at=datetime(2026, 1, 1)))
