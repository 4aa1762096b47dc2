"""The unit of work: one transaction per service call, committed only on success."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from follicle.records.db import (
    ReadOnlySession,
    engine_from_settings,
    read_only_session_factory,
    session_factory,
)
from follicle.services.errors import ConcurrentChange
from follicle.settings import Settings


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = session_factory(engine)
        self._snapshots = read_only_session_factory(engine)
        # SQLite has one writer at a time, and nearly every transaction writes (reads are
        # audited). Threads of this process queue here instead of in SQLite's busy handler,
        # whose growing sleeps gave p99 latencies over a second under load (bench/).
        self._one_writer = threading.RLock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(engine_from_settings(settings))

    @contextmanager
    def snapshot(self) -> Iterator[ReadOnlySession]:
        """A read-only transaction: one consistent view, no write lock, never committed.

        For reads that write nothing, not even an audit entry (the sign-in check on every
        request): on SQLite they then run while another request holds the write lock. Reads
        of clinical records use ``transaction``, their audit entry with them (DESIGN.md §4).
        A change made in it raises WriteInReadOnly."""
        # Closing (not rolling back) keeps what was loaded readable after the block; the
        # connection's transaction is rolled back as it returns to the pool.
        with self._snapshots() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commit if the block finishes, roll back (writing nothing) if it raises.

        A versioned row that another transaction changed first (PostgreSQL lets both read it)
        is refused as a ConcurrentChange (409), never written over."""
        with self._one_writer or nullcontext():
            try:
                with self._sessions() as session, session.begin():
                    yield session
            except StaleDataError as exc:
                raise ConcurrentChange from exc

    def dispose(self) -> None:
        self.engine.dispose()
