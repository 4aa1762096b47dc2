"""Appending to and verifying the hash-chained audit log.

Each entry's hash covers its own fields and the previous entry's hash, and ``audit_head`` holds
the newest hash and the entry count, so editing, deleting (anywhere, the end included) or
reordering entries breaks the chain at a place ``verify_chain`` can name.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from follicle.records.models import AuditEntry, AuditHead, utcnow

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK_KEY = 0x666F6C6C  # any constant; serialises appends across connections


def entry_digest(
    *,
    prev_hash: str,
    at: datetime,
    actor: str,
    clinic_id: str | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    client_address: str | None,
    detail: dict[str, Any],
) -> str:
    canonical = json.dumps(
        [
            prev_hash,
            at.isoformat(timespec="microseconds"),
            actor,
            clinic_id,
            action,
            resource_type,
            resource_id,
            client_address,
            detail,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Appended:
    seq: int
    entry_hash: str


_ENTRY = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_READ_HEAD = select(_HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_ADD_ENTRY = insert(_ENTRY).returning(_ENTRY.c.seq)
_ADVANCE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(
        entry_count=_HEAD.c.entry_count + 1,
        last_seq=bindparam("new_seq"),
        last_hash=bindparam("new_hash"),
    )
)


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    resource_type: str,
    resource_id: str | None = None,
    clinic_id: str | None = None,
    client_address: str | None = None,
    detail: dict[str, Any] | None = None,
) -> Appended:
    """Add an entry in the caller's transaction (it commits or rolls back with the change).

    Core statements, not the ORM's unit of work: every audited read runs this, and the ORM
    flush was an eighth of a chart view's time (bench/bench_api_load.py)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK_KEY})
    prev_hash = session.execute(_READ_HEAD).scalar()
    fields: dict[str, Any] = {
        "at": utcnow(),
        "actor": actor,
        "clinic_id": clinic_id,
        "action": action,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "client_address": client_address,
        "detail": detail or {},
    }
    previous = prev_hash or GENESIS_HASH
    entry_hash = entry_digest(prev_hash=previous, **fields)
    seq = session.execute(
        _ADD_ENTRY, {**fields, "prev_hash": previous, "entry_hash": entry_hash}
    ).scalar_one()
    if prev_hash is None:
        session.execute(
            insert(_HEAD).values(id=1, entry_count=1, last_seq=seq, last_hash=entry_hash)
        )
    else:
        session.execute(_ADVANCE_HEAD, {"new_seq": seq, "new_hash": entry_hash})
    return Appended(seq, entry_hash)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in order and report the first entry that breaks the chain."""
    prev_hash = GENESIS_HASH
    count = 0
    last_seq: int | None = None
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        if entry.prev_hash != prev_hash:
            return ChainReport(
                False,
                count,
                entry.seq,
                "does not follow the entry before it (removed or reordered)",
            )
        expected = entry_digest(
            prev_hash=entry.prev_hash,
            at=entry.at,
            actor=entry.actor,
            clinic_id=entry.clinic_id,
            action=entry.action,
            resource_type=entry.resource_type,
            resource_id=entry.resource_id,
            client_address=entry.client_address,
            detail=entry.detail,
        )
        if expected != entry.entry_hash:
            return ChainReport(False, count, entry.seq, "was edited after it was written")
        prev_hash = entry.entry_hash
        last_seq = entry.seq
    head = session.get(AuditHead, 1)
    if head is None:
        if count:
            return ChainReport(False, count, last_seq, "the chain head record is missing")
        return ChainReport(True, 0)
    if head.last_hash != prev_hash or head.entry_count != count:
        return ChainReport(
            False,
            count,
            head.last_seq,
            "entries after this one were removed from the end of the log",
        )
    return ChainReport(True, count)
