"""The floor for the API load benchmark: a bare FastAPI endpoint that does one indexed SQLite
read per request (the patient by primary key), served by Uvicorn exactly as `follicle serve`
serves Follicle (one process, no access log). Nothing Follicle does can be cheaper than this.

    python bench/floor_app.py PORT SQLITE_FILE
"""

from __future__ import annotations

import sqlite3
import sys
import threading

import uvicorn
from fastapi import FastAPI, HTTPException

app = FastAPI()
_local = threading.local()
DATABASE = ""


def _connection() -> sqlite3.Connection:
    if not hasattr(_local, "connection"):
        _local.connection = sqlite3.connect(DATABASE, check_same_thread=False)
    connection: sqlite3.Connection = _local.connection
    return connection


@app.get("/floor/{patient_id}")
def floor(patient_id: str) -> dict[str, str]:
    row = (
        _connection()
        .execute("SELECT id, family_name FROM patient WHERE id = ?", (patient_id,))
        .fetchone()
    )
    if row is None:
        raise HTTPException(404)
    return {"id": row[0], "family_name": row[1]}


if __name__ == "__main__":
    DATABASE = sys.argv[2]
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
