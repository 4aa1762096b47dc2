"""The floor for the API load benchmark: a bare FastAPI endpoint that does one indexed SQLite
read per request (the patient by primary key), served by Uvicorn exactly as `follicle serve`
serves Follicle (one process, no access log). Nothing Follicle does can be cheaper than this.

Given a PostgreSQL URL instead of a file it does the same read there (one connection per
thread, autocommit): the reference for what the PostgreSQL backend itself costs.

``/audited/{id}`` (SQLite) is a second reference: the same read plus what every clinical read in
Follicle must also do, an entry appended to a hash chain and committed, in one write
transaction as Follicle runs it (BEGIN IMMEDIATE behind an in-process lock, WAL,
synchronous=FULL); no sessions, ORM or templates.

    python bench/floor_app.py PORT SQLITE_FILE|POSTGRESQL_URL
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

app = FastAPI()
_local = threading.local()
_one_writer = threading.Lock()
DATABASE = ""


def _connection() -> Any:
    if not hasattr(_local, "connection"):
        if DATABASE.startswith("postgresql://"):
            import psycopg

            _local.connection = psycopg.connect(DATABASE, autocommit=True)
        else:
            _local.connection = sqlite3.connect(DATABASE, check_same_thread=False)
    return _local.connection


@app.get("/floor/{patient_id}")
def floor(patient_id: str) -> dict[str, str]:
    query = "SELECT id, family_name FROM patient WHERE id = ?"
    if DATABASE.startswith("postgresql://"):
        query = query.replace("?", "%s")
    row = _connection().execute(query, (patient_id,)).fetchone()
    if row is None:
        raise HTTPException(404)
    return {"id": row[0], "family_name": row[1]}


def _chain_connection() -> sqlite3.Connection:
    if not hasattr(_local, "chain"):
        chain = sqlite3.connect(DATABASE, check_same_thread=False, isolation_level=None)
        chain.execute("PRAGMA journal_mode=WAL")
        chain.execute("PRAGMA synchronous=FULL")
        chain.execute("PRAGMA busy_timeout=10000")
        _local.chain = chain
    connection: sqlite3.Connection = _local.chain
    return connection


def _prepare_chain() -> None:
    with sqlite3.connect(DATABASE, isolation_level=None) as setup:
        setup.execute("PRAGMA busy_timeout=10000")
        setup.execute(
            "CREATE TABLE IF NOT EXISTS floor_chain_head "
            "(id INTEGER PRIMARY KEY, entry_count INTEGER, last_hash TEXT)"
        )
        setup.execute(
            "CREATE TABLE IF NOT EXISTS floor_chain "
            "(seq INTEGER PRIMARY KEY, resource_id TEXT, prev_hash TEXT, entry_hash TEXT)"
        )
        setup.execute("INSERT OR IGNORE INTO floor_chain_head VALUES (1, 0, ?)", ("0" * 64,))


@app.get("/audited/{patient_id}")
def audited(patient_id: str) -> dict[str, str]:
    connection = _chain_connection()
    with _one_writer:
        connection.execute("BEGIN IMMEDIATE")
        try:
            row = connection.execute(
                "SELECT id, family_name FROM patient WHERE id = ?", (patient_id,)
            ).fetchone()
            seq, previous = connection.execute(
                "UPDATE floor_chain_head SET entry_count = entry_count + 1 WHERE id = 1 "
                "RETURNING entry_count, last_hash"
            ).fetchone()
            entry = json.dumps([previous, time.time(), "floor", patient_id, {"ids": [patient_id]}])
            entry_hash = hashlib.sha256(entry.encode()).hexdigest()
            connection.execute(
                "INSERT INTO floor_chain VALUES (?, ?, ?, ?)",
                (seq, patient_id, previous, entry_hash),
            )
            connection.execute(
                "UPDATE floor_chain_head SET last_hash = ? WHERE id = 1", (entry_hash,)
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    if row is None:
        raise HTTPException(404)
    return {"id": row[0], "family_name": row[1]}


if __name__ == "__main__":
    DATABASE = sys.argv[2]
    if not DATABASE.startswith("postgresql://"):
        _prepare_chain()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
