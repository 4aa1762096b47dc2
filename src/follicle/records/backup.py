"""Online backup and checked restore.

SQLite uses its online backup API (a consistent copy while the server keeps running);
PostgreSQL uses ``pg_dump``/``pg_restore`` in custom format. A restore refuses any file that is
not a Follicle database, and keeps the database it replaces beside it.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from follicle.errors import OperatorError
from follicle.records.migrate import alembic_config

SQLITE_HEADER = b"SQLite format 3\x00"
#: Tables whose presence marks a Follicle database.
SIGNATURE_TABLES = frozenset({"alembic_version", "clinic", "patient", "audit_entry"})


class BackupError(OperatorError):
    """A backup or restore could not be done; the message says why."""


def _known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _libpq_url(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: URL, destination: Path) -> None:
    """Write a consistent copy of the database to ``destination`` (never overwrites)."""
    if destination.exists():
        raise BackupError(f"{destination} already exists; choose a new file name")
    destination.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(url), destination)
    else:
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--file",
                str(destination),
                _libpq_url(url),
            ],
            "pg_dump",
        )
    os.chmod(destination, 0o600)


def restore(url: URL, source: Path) -> Path | None:
    """Replace the database with ``source``; returns where the replaced database was kept."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if url.get_backend_name() == "sqlite":
        check_sqlite_backup(source)
        target = _sqlite_path(url)
        kept = None
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            kept = target.with_name(f"{target.name}.before-restore-{stamp}")
            _sqlite_backup(target, kept)
        _sqlite_copy_into(source, target)
        return kept
    check_pg_backup(source)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            _libpq_url(url),
            str(source),
        ],
        "pg_restore",
    )
    return None


def check_sqlite_backup(path: Path) -> None:
    with path.open("rb") as handle:
        if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a Follicle backup (not an SQLite database)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not tables >= SIGNATURE_TABLES:
            raise BackupError(f"{path} is not a Follicle backup (Follicle's tables are missing)")
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{path} is damaged (SQLite integrity check failed)")
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read as a Follicle backup: {exc}") from None
    finally:
        conn.close()
    if revision is None or revision[0] not in _known_revisions():
        raise BackupError(f"{path} comes from a schema version this Follicle does not know")


def check_pg_backup(path: Path) -> None:
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a Follicle backup (not a pg_dump archive)")
    names = {
        line.split()[-2]
        for line in listing.stdout.splitlines()
        if " TABLE " in line and not line.startswith(";")
    }
    if not names >= SIGNATURE_TABLES:
        raise BackupError(f"{path} is not a Follicle backup (Follicle's tables are missing)")


def _sqlite_backup(source: Path, destination: Path) -> None:
    """Copy with SQLite's online backup API, via a temporary file renamed into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=".follicle-backup-", dir=destination.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _sqlite_copy_into(source, tmp, journal_mode="DELETE")  # one self-contained file
        for suffix in ("-wal", "-shm"):
            Path(f"{destination}{suffix}").unlink(missing_ok=True)
        tmp.replace(destination)
    finally:
        tmp.unlink(missing_ok=True)


def _sqlite_copy_into(source: Path, target: Path, journal_mode: str | None = None) -> None:
    """Overwrite ``target`` page by page through the backup API, safe beside open readers."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        if journal_mode is not None:
            dst.execute(f"PRAGMA journal_mode={journal_mode}")
    finally:
        dst.close()
        src.close()


def _run(command: list[str], tool: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{tool} is not installed (Debian package postgresql-client)") from None
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()
        raise BackupError(f"{tool} failed: {message[-1] if message else result.returncode}")
