"""Crash safety and online backup against the real server process (issue: reliability).

Writers create patients and intakes (an intake and its screening are one transaction) over
HTTP while the server is SIGKILLed at random moments and restarted; afterwards every write the
server acknowledged is there, nothing is half-written, and the audit chain verifies. A backup
taken while the writers run restores into another database with everything acknowledged before
it began.

``FOLLICLE_CRASH_KILLS`` sets how many kills per backend (6 by default; the long run uses 50).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import func, select

from follicle.records.models import AuditEntry, Intake, Patient, ScreeningResult
from follicle.services.database import Database
from tests.conftest import fresh_database_url, settings_for
from tests.reliability.conftest import Site
from tests.support.api import eligible_intake
from tests.support.server import run_follicle

KILLS = int(os.environ.get("FOLLICLE_CRASH_KILLS", "6"))
WRITERS = 3


@dataclass
class Ledger:
    """What the server acknowledged (2xx with the new record's id), and when."""

    patients: dict[str, float] = field(default_factory=dict)
    intakes: dict[str, str] = field(default_factory=dict)  # intake id → screening id
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writer(url: str, token: str, ledger: Ledger, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 (test timing, not secrets)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=10) as client:
        while not stop.is_set():
            try:
                created = client.post(
                    "/patients",
                    json={
                        "given_name": f"Crash{rng.randrange(10**6)}",
                        "family_name": "Synthetic",
                        "date_of_birth": "1985-03-04",
                        "sex_at_birth": "male",
                    },
                )
                if created.status_code != 201:
                    continue
                patient_id = created.json()["id"]
                with ledger.lock:
                    ledger.patients[patient_id] = time.monotonic()
                intake = client.post(
                    f"/patients/{patient_id}/intakes", json={"intake": eligible_intake()}
                )
                if intake.status_code == 201:
                    body = intake.json()
                    with ledger.lock:
                        ledger.intakes[body["id"]] = body["screening"]["id"]
            except httpx.TransportError:
                time.sleep(0.02)  # the server is down: unacknowledged, try again


@contextmanager
def writing(site: Site, ledger: Ledger, seed: int) -> Iterator[None]:
    """Writers run for the duration of the block."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(site.server.url, site.token, ledger, stop, seed + n))
        for n in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def _assert_whole(db: Database, ledger: Ledger, env: dict[str, str]) -> None:
    with db.transaction() as session:
        patients = set(session.scalars(select(Patient.id)))
        intakes = set(session.scalars(select(Intake.id)))
        screened = dict(
            session.execute(select(ScreeningResult.intake_id, ScreeningResult.id)).all()
        )
        created = set(
            session.scalars(
                select(AuditEntry.resource_id).where(AuditEntry.action == "patient.create")
            )
        )
        intake_audits = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "intake.create")
        )
    assert set(ledger.patients) <= patients, "an acknowledged patient was lost"
    assert set(ledger.intakes) <= intakes, "an acknowledged intake was lost"
    assert all(screened.get(i) == s for i, s in ledger.intakes.items())
    assert intakes == set(screened), "an intake without its screening (half-written)"
    assert patients == created, "a patient without its audit entry (half-written)"
    assert intake_audits == len(intakes)
    verified = run_follicle(["audit", "verify"], env=env)
    assert verified.returncode == 0, verified.stderr


def test_sigkill_during_writes_loses_nothing_acknowledged(site: Site) -> None:
    rng = random.Random(20261126)  # noqa: S311 (test timing, not secrets)
    ledger = Ledger()
    with writing(site, ledger, seed=0):
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.5))
            site.server.kill()
            site.server.start()
        time.sleep(0.5)
    site.server.stop()
    assert len(ledger.patients) > KILLS  # the writers were writing between the kills
    _assert_whole(site.db, ledger, site.server.env)
    if site.backend == "sqlite":
        path = site.settings.data_dir / "follicle.db"
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_backup_taken_during_writes_restores_everything_acknowledged_before_it(
    site: Site, request: pytest.FixtureRequest
) -> None:
    ledger = Ledger()
    with writing(site, ledger, seed=1):
        time.sleep(1.5)
        with ledger.lock:
            before = dict(ledger.patients), dict(ledger.intakes)
        backup_file = site.folder / "during-writes.backup"
        made = run_follicle(["backup", str(backup_file)], env=site.server.env)
        assert made.returncode == 0, made.stderr
        time.sleep(0.5)
    elsewhere = site.folder / "elsewhere"
    other = settings_for(fresh_database_url(site.backend, elsewhere, request), elsewhere)
    other_env = {**site.server.env, "FOLLICLE_DATA_DIR": str(other.data_dir)}
    other_env["FOLLICLE_DATABASE_URL"] = other.database_url or ""
    restored = run_follicle(["restore", str(backup_file)], env=other_env)
    assert restored.returncode == 0, restored.stderr
    copy = Database.from_settings(other)
    try:
        acknowledged_before = Ledger(patients=before[0], intakes=before[1])
        _assert_whole(copy, acknowledged_before, other_env)
        with copy.transaction() as session:
            in_copy = set(session.scalars(select(Patient.id)))
        with site.db.transaction() as session:
            at_source = set(session.scalars(select(Patient.id)))
        assert in_copy <= at_source  # a consistent point in time, nothing invented
        assert len(in_copy) < len(at_source)  # the writers went on after the backup
    finally:
        copy.dispose()
