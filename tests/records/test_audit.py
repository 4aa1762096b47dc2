"""The audit chain catches an edited, removed or reordered entry and names the first bad one."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from follicle.records import audit
from follicle.records.guards import HardDeleteRefused
from follicle.records.models import AuditEntry
from follicle.services.database import Database


def _write_entries(db: Database, count: int = 5) -> list[int]:
    seqs = []
    for number in range(count):
        with db.transaction() as session:
            entry = audit.append(
                session,
                actor="user:usr_test",
                action="patient.read",
                resource_type="patient",
                resource_id=f"pat_{number}",
                clinic_id="cln_test",
                client_address="127.0.0.1",
                detail={"ids": [f"pat_{number}"], "n": number},
            )
            seqs.append(entry.seq)
    return seqs


def _verify(db: Database) -> audit.ChainReport:
    with db.transaction() as session:
        return audit.verify_chain(session)


def test_an_untouched_chain_verifies(db: Database) -> None:
    _write_entries(db)
    report = _verify(db)
    assert report.ok
    assert report.entries_checked == 5


def test_empty_log_verifies(db: Database) -> None:
    assert _verify(db) == audit.ChainReport(True, 0)


def _edit(session: Session, seqs: list[int]) -> int:
    session.execute(
        text("UPDATE audit_entry SET resource_id = 'pat_other' WHERE seq = :s"), {"s": seqs[2]}
    )
    return seqs[2]


def _delete_middle(session: Session, seqs: list[int]) -> int:
    session.execute(text("DELETE FROM audit_entry WHERE seq = :s"), {"s": seqs[1]})
    return seqs[2]


def _delete_last(session: Session, seqs: list[int]) -> int:
    session.execute(text("DELETE FROM audit_entry WHERE seq = :s"), {"s": seqs[-1]})
    return seqs[-1]


def _reorder(session: Session, seqs: list[int]) -> int:
    a, b = seqs[1], seqs[3]
    session.execute(text("UPDATE audit_entry SET seq = -1 WHERE seq = :a"), {"a": a})
    session.execute(text("UPDATE audit_entry SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    session.execute(text("UPDATE audit_entry SET seq = :b WHERE seq = -1"), {"b": b})
    return a


def _edit_and_rehash_one(session: Session, seqs: list[int]) -> int:
    """A forger who recomputes the edited entry's own hash still breaks the next link."""
    row = (
        session.execute(text("SELECT * FROM audit_entry WHERE seq = :s"), {"s": seqs[2]})
        .mappings()
        .one()
    )
    entry = session.get(AuditEntry, seqs[2])
    assert entry is not None
    new_hash = audit.entry_digest(
        prev_hash=row["prev_hash"],
        at=entry.at,
        actor=row["actor"],
        clinic_id=row["clinic_id"],
        action="patient.list",
        resource_type=row["resource_type"],
        resource_id=row["resource_id"],
        client_address=row["client_address"],
        detail=entry.detail,
    )
    session.expunge(entry)
    session.execute(
        text("UPDATE audit_entry SET action = 'patient.list', entry_hash = :h WHERE seq = :s"),
        {"h": new_hash, "s": seqs[2]},
    )
    return seqs[3]


@pytest.mark.parametrize(
    "tamper", [_edit, _delete_middle, _delete_last, _reorder, _edit_and_rehash_one]
)
def test_tampering_is_detected_at_the_first_bad_entry(
    db: Database, tamper: Callable[[Session, list[int]], int]
) -> None:
    seqs = _write_entries(db)
    with db.transaction() as session:
        expected_bad = tamper(session, seqs)
    report = _verify(db)
    assert not report.ok
    assert report.first_bad_seq == expected_bad
    assert report.problem


def test_entries_cannot_be_changed_through_the_orm(db: Database) -> None:
    seqs = _write_entries(db, 1)
    with pytest.raises(HardDeleteRefused), db.transaction() as session:
        entry = session.get(AuditEntry, seqs[0])
        assert entry is not None
        entry.action = "nothing.happened"


def test_an_append_rolled_back_with_its_change_leaves_the_chain_whole(db: Database) -> None:
    _write_entries(db, 2)
    with pytest.raises(RuntimeError), db.transaction() as session:
        audit.append(session, actor="user:x", action="patient.update", resource_type="patient")
        raise RuntimeError("the change failed")
    _write_entries(db, 1)
    report = _verify(db)
    assert report.ok
    assert report.entries_checked == 3


def test_appends_from_many_connections_at_once_number_one_chain(db: Database) -> None:
    """Taking the next number locks the head: no two appends share a number or a predecessor."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        batches = list(pool.map(lambda _: _write_entries(db, 8), range(6)))
    seqs = sorted(seq for batch in batches for seq in batch)
    assert seqs == list(range(seqs[0], seqs[0] + 48))
    report = _verify(db)
    assert report == audit.ChainReport(True, 48)


def test_a_deleted_head_is_reported_and_appending_goes_on(db: Database) -> None:
    seqs = _write_entries(db, 3)
    with db.transaction() as session:
        session.execute(text("DELETE FROM audit_head"))
    added = _write_entries(db, 1)
    assert added[0] > seqs[-1]
    report = _verify(db)
    assert not report.ok
    assert report.first_bad_seq == added[0]
