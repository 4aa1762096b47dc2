"""`follicle backup` then `follicle restore` gives back every table exactly."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from follicle.records import backup
from follicle.records.models import Base, Patient
from follicle.services.actors import cli_actor
from follicle.services.database import Database
from follicle.services.demo import load_demo
from follicle.settings import Settings
from tests.support.server import follicle_env, run_follicle


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            tables[table.name] = [tuple(row) for row in rows]
        tables["alembic_version"] = [
            tuple(r) for r in conn.execute(text("SELECT * FROM alembic_version")).all()
        ]
    return tables


def _cli(args: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    env = follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(settings.data_dir),
        FOLLICLE_DATABASE_URL=settings.database_url or "",
    )
    return run_follicle(args, env)


def test_backup_then_restore_round_trips_every_table(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    load_demo(db, cli_actor())
    before = snapshot(db.engine)
    assert sum(len(rows) for rows in before.values()) > 50
    archive = tmp_path / "backups" / "follicle.backup"

    result = _cli(["backup", str(archive)], settings)
    assert result.returncode == 0, result.stderr
    assert archive.stat().st_mode & 0o077 == 0

    with db.transaction() as session:  # changes made after the backup...
        patient = session.scalars(select(Patient).limit(1)).one()
        patient.family_name = "Changed-after-backup"
    assert snapshot(db.engine) != before
    db.dispose()

    result = _cli(["restore", str(archive)], settings)
    assert result.returncode == 0, result.stderr
    assert snapshot(db.engine) == before  # ...are gone, and everything else is identical
    assert _cli(["audit", "verify"], settings).returncode == 0


def test_backup_never_overwrites(db: Database, settings: Settings, tmp_path: Path) -> None:
    existing = tmp_path / "exists.backup"
    existing.write_text("keep me")
    result = _cli(["backup", str(existing)], settings)
    assert result.returncode == 2
    assert "already exists" in result.stderr
    assert existing.read_text() == "keep me"


def _not_a_database(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 this is a zip file, not a database")


def _foreign_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")


@pytest.mark.parametrize("make_file", [_not_a_database, _foreign_sqlite])
def test_restore_refuses_what_is_not_a_follicle_database(
    db: Database, settings: Settings, tmp_path: Path, make_file: Any
) -> None:
    load_demo(db, cli_actor())
    before = snapshot(db.engine)
    bogus = tmp_path / "bogus.backup"
    make_file(bogus)
    result = _cli(["restore", str(bogus)], settings)
    assert result.returncode == 2
    assert "not a Follicle backup" in result.stderr
    assert snapshot(db.engine) == before


def test_sqlite_restore_keeps_the_replaced_database(
    db: Database, settings: Settings, tmp_path: Path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the kept copy is SQLite's; PostgreSQL restores in one transaction")
    load_demo(db, cli_actor())
    archive = tmp_path / "a.backup"
    backup.backup(settings.sqlalchemy_url, archive)
    kept = backup.restore(settings.sqlalchemy_url, archive)
    assert kept is not None
    assert kept.exists()
    backup.check_sqlite_backup(kept)
