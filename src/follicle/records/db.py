"""Engines and sessions for SQLite and PostgreSQL.

SQLite is a safe clinical default only with explicit settings: foreign keys are off unless
turned on, and WAL with ``synchronous=NORMAL`` can lose recent commits on power loss, so every
connection gets ``foreign_keys=ON``, WAL and ``synchronous=FULL`` (DESIGN.md §4).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from follicle.records import guards  # noqa: F401  (registers the no-hard-delete rule)
from follicle.settings import ConfigError, Settings

SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=10000",
)


def _apply_sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Take pysqlite's transaction handling away so that SQLAlchemy's BEGIN is the real one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


#: Execution option marking a connection that only reads (Database.snapshot).
READ_ONLY = "follicle_read_only"


def _begin_sqlite(conn: Any) -> None:
    # A writing transaction takes the write lock up front: a deferred BEGIN that later
    # upgrades can fail with SQLITE_BUSY instead of waiting, and the audit chain needs writers
    # in a line. A read-only one begins deferred: in WAL mode it reads a snapshot while
    # writers go on.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: URL | str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with Follicle's connection settings applied."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _apply_sqlite_pragmas)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def engine_from_settings(settings: Settings) -> Engine:
    if settings.is_sqlite:
        settings.prepare_data_dir()
        return make_engine(settings.sqlalchemy_url)
    return make_engine(settings.sqlalchemy_url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class WriteInReadOnly(RuntimeError):
    """A change was made in a read-only transaction: a programming error, never data."""


class ReadOnlySession(Session):
    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise WriteInReadOnly("this transaction only reads; use Database.transaction")
        super().flush(objects)


def read_only_session_factory(engine: Engine) -> sessionmaker[ReadOnlySession]:
    return sessionmaker(
        engine.execution_options(**{READ_ONLY: True}),
        class_=ReadOnlySession,
        expire_on_commit=False,
    )


def check_reachable(engine: Engine) -> None:
    """Connect once, turning a driver error into one line for the operator."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(
            f"cannot reach the database {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
