"""The floor for the API load benchmark: a bare FastAPI endpoint that does one indexed SQLite
read per request (the patient by primary key), served by Uvicorn exactly as `follicle serve`
serves Follicle (one process, no access log). Nothing Follicle does can be cheaper than this.

Given a PostgreSQL URL instead of a file it does the same read there (one connection per
thread, autocommit): the reference for what the PostgreSQL backend itself costs.

    python bench/floor_app.py PORT SQLITE_FILE|POSTGRESQL_URL
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

app = FastAPI()
_local = threading.local()
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


if __name__ == "__main__":
    DATABASE = sys.argv[2]
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
