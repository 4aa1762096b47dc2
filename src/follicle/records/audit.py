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

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from follicle.records.models import AuditEntry, AuditHead, utcnow

GENESIS_HASH = "0" * 64


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
# Taking the next number locks the head row until commit: appends queue there, one at a time,
# on every backend (SQLite has one writer anyway), with no separate lock to take first.
_TAKE_NEXT = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(entry_count=_HEAD.c.entry_count + 1, last_seq=_HEAD.c.last_seq + 1)
    .returning(_HEAD.c.last_seq, _HEAD.c.last_hash)
)
_ADD_ENTRY = insert(_ENTRY).values({c.name: bindparam(c.name, type_=c.type) for c in _ENTRY.c})
_SET_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=bindparam("entry_hash"))
# PostgreSQL adds the entry and moves the head in one round trip.
_ADD_AND_SET_HASH = _SET_HASH.add_cte(_ADD_ENTRY.cte("added"))
_LAST_SEQ = select(func.coalesce(func.max(_ENTRY.c.seq), 0))


def _seed_head(session: Session) -> None:
    """The head of an empty log. Had the head been deleted while entries remain, numbering goes
    on after them and the next entry starts from the genesis hash, which ``verify_chain``
    reports as a break (the head is never silently rebuilt from the entries)."""
    values = {"id": 1, "entry_count": 0, "last_hash": GENESIS_HASH}
    values["last_seq"] = session.execute(_LAST_SEQ).scalar_one()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(_HEAD).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(_HEAD).values(values).on_conflict_do_nothing())


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

    Core statements, not the ORM's unit of work, and two round trips on PostgreSQL: every
    audited read runs this (bench/bench_api_load.py)."""
    taken = session.execute(_TAKE_NEXT).one_or_none()
    if taken is None:
        _seed_head(session)
        taken = session.execute(_TAKE_NEXT).one()
    seq, previous = taken
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
    entry_hash = entry_digest(prev_hash=previous, **fields)
    row = {**fields, "seq": seq, "prev_hash": previous, "entry_hash": entry_hash}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ADD_AND_SET_HASH, row)
    else:
        session.execute(_ADD_ENTRY, row)
        session.execute(_SET_HASH, {"entry_hash": entry_hash})
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
