"""The outbox worker against a real SMTP server, on SQLite and PostgreSQL (issue: clinic
operations, "Reminders that arrive"): retries while the server refuses, never queues the
same reminder twice, and after being killed mid-send again and again delivers every due
message, each once in the mailbox."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from follicle.records.models import OutboxMessage, Patient, utcnow
from follicle.services import messages
from follicle.services.database import Database
from follicle.settings import Settings
from tests.support.factories import make_clinic, make_patient
from tests.support.server import run_follicle
from tests.support.smtp import smtp_sink, text_of, worker_env


def _due_messages(db: Database, count: int) -> tuple[str, set[str]]:
    clinic_id = make_clinic(db)
    patient_id = make_patient(db, clinic_id, family_name="Mailperson")
    keys = set()
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.email = "mail.person@example.test"
        for number in range(count):
            key = f"reminder:test:{number}"
            queued = messages.queue(
                session,
                clinic_id=clinic_id,
                kind="reminder",
                key=key,
                recipient=patient.email,
                due_at=utcnow() - timedelta(minutes=1),
                message=messages.letter(f"Reminder {number}", "Dear M", ["Body"], "Clinic"),
                patient_id=patient_id,
            )
            assert queued is not None
            keys.add(key)
        # The same key again is the same message: nothing new is queued.
        again = messages.queue(
            session,
            clinic_id=clinic_id,
            kind="reminder",
            key="reminder:test:0",
            recipient=patient.email,
            due_at=utcnow(),
            message=messages.letter("Reminder 0", "Dear M", ["Body"], "Clinic"),
        )
        assert again is None
    return patient_id, keys


def _statuses(db: Database) -> dict[str, int]:
    with db.transaction() as session:
        return dict(
            session.execute(
                select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(
                    OutboxMessage.status
                )
            ).all()
        )


def test_worker_retries_while_the_server_refuses_then_delivers_each_once(
    db: Database, settings: Settings
) -> None:
    _, keys = _due_messages(db, 5)
    with smtp_sink(refuse_next=7) as (sink, url):
        env = worker_env(settings, url)
        process = subprocess.Popen([sys.executable, "-m", "follicle", "worker"], env=env)
        try:
            deadline = time.monotonic() + 60
            while _statuses(db).get("sent", 0) < len(keys):
                assert time.monotonic() < deadline, _statuses(db)
                time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(timeout=15)
        assert sink.refused == 7
        assert len(sink.message_ids) == len(set(sink.message_ids)) == len(keys)
    assert _statuses(db) == {"sent": len(keys)}
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage)).all()
        assert max(r.attempts for r in rows) > 1
        retried = [r for r in rows if r.attempts > 1]
        assert all(r.last_error and r.last_error.startswith("451") for r in retried)
        assert all(r.provider_reference == str(r.provider_reference) for r in rows)
    assert text_of(next(iter(sink.mailbox.values()))).startswith("Dear M,")


def test_a_permanent_refusal_fails_without_retrying(db: Database, settings: Settings) -> None:
    _due_messages(db, 1)

    with smtp_sink() as (sink, url):
        sink.handle_DATA = _refuse_permanently  # type: ignore[method-assign]
        result = run_follicle(["worker", "--once"], env=worker_env(settings, url))
    assert result.returncode != 0
    assert "could not be sent" in result.stderr + result.stdout
    with db.transaction() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.status, row.attempts) == ("failed", 1)
        assert str(row.last_error).startswith("550")


async def _refuse_permanently(*_: object) -> str:
    return "550 5.1.1 No such user"


def test_killed_mid_send_again_and_again_every_message_arrives_once(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    count, kills = 40, 8
    _due_messages(db, count)
    rng = random.Random(8)  # noqa: S311  (test timing, not security)
    with smtp_sink(delay_seconds=0.05) as (sink, url):
        env = worker_env(settings, url)
        for _ in range(kills):
            process = subprocess.Popen(
                [sys.executable, "-m", "follicle", "worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # Kill once it is sending (the sink has seen new mail), at a random moment after.
            before = len(sink.message_ids)
            deadline = time.monotonic() + 30
            while len(sink.message_ids) == before and _statuses(db).get("sent", 0) < count:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.15))
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        time.sleep(1.2)  # let the last claim's lease run out, as a restart after a crash would
        result = run_follicle(["worker", "--once"], env=env)
        assert result.returncode == 0, result.stderr
    assert _statuses(db) == {"sent": count}
    delivered = sink.message_ids
    with db.transaction() as session:
        expected = {r.provider_reference for r in session.scalars(select(OutboxMessage)).all()}
    assert set(delivered) == expected  # every message arrived: in the mailbox exactly once
    assert len(sink.mailbox) == count
    duplicates = len(delivered) - len(set(delivered))
    print(f"kill test: {kills} kills, {duplicates} re-sent copies")
    # A copy can only be re-sent when a kill fell between the relay's 250 and our record of
    # it: at most one per kill, and always under the same Message-ID.
    assert duplicates <= kills, duplicates
