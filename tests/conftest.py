"""Shared fixtures: every database test runs on a real SQLite file and a real PostgreSQL server.

Each test gets a fresh database copied from a migrated template (a file copy for SQLite,
``CREATE DATABASE … TEMPLATE`` for PostgreSQL), so tests never see each other's rows and the
schema under test is the one the migrations build.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from follicle.records import migrate
from follicle.records.db import make_engine
from follicle.services.database import Database
from follicle.settings import Mode, Settings
from tests.support.postgres import PostgresServer, start_postgres

BACKENDS = ("sqlite", "postgresql")
TEST_SECRET = "test-secret-" + "x" * 40


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> str:
    admin = make_engine(psycopg_url(pg_server.url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE follicle_template"))
    admin.dispose()
    engine = make_engine(psycopg_url(pg_server.url("follicle_template")))
    migrate.upgrade(engine)
    engine.dispose()
    return "follicle_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "follicle.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so a copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fresh_database_url(backend: str, folder: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database, as a plain (libpq-style) URL."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = folder / "data" / "follicle.db"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    template_name: str = request.getfixturevalue("pg_template")
    name = "t_" + secrets.token_hex(6)
    admin = make_engine(psycopg_url(server.url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    admin.dispose()
    return server.url(name)


def settings_for(database_url: str, folder: Path) -> Settings:
    return Settings(
        mode=Mode.demo, data_dir=folder / "data", database_url=database_url, secret_key=TEST_SECRET
    )


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return fresh_database_url(backend, tmp_path, request)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_settings(settings)
    try:
        yield database
    finally:
        database.dispose()
