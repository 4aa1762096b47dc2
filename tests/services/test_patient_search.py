"""The patient search agrees with the records it summarises: the latest decision that was not
voided, and the portal account's state, for every patient of the demo clinic."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from follicle.records.files import ImageStore
from follicle.records.models import Patient, ScreeningResult, UserAccount, new_id, utcnow
from follicle.services.accounts import account_status
from follicle.services.actors import cli_actor
from follicle.services.auth import actor_for
from follicle.services.database import Database
from follicle.services.demo import load_demo
from follicle.services.patients import list_patients


def test_search_shows_each_patients_latest_decision_and_portal_state(
    db: Database, tmp_path: Path
) -> None:
    load_demo(db, cli_actor(), store=ImageStore(tmp_path / "images"))
    with db.transaction() as session:
        derm = session.scalars(
            select(UserAccount).where(UserAccount.email == "derm@demo.follicle")
        ).one()
        actor = actor_for(derm)
        screened = session.scalars(
            select(ScreeningResult).order_by(ScreeningResult.created_at.desc())
        ).first()  # the latest result of its patient
        assert screened is not None
        # A newer result that was voided must not count; a deactivated account shows as such.
        session.add(
            ScreeningResult(
                id=new_id("scr"),
                clinic_id=screened.clinic_id,
                patient_id=screened.patient_id,
                intake_id=screened.intake_id,
                decision="contraindicated" if screened.decision != "contraindicated" else "defer",
                result={},
                rules_version="test",
                created_at=utcnow() + timedelta(days=1),
                voided_at=utcnow(),
                void_reason="entered on the wrong patient",
            )
        )
        portal_user = session.scalars(
            select(UserAccount).where(UserAccount.patient_id.is_not(None))
        ).first()
        assert portal_user is not None
        portal_user.active = False

    with db.transaction() as session:
        expected = {}
        for patient in session.scalars(select(Patient).where(Patient.clinic_id == actor.clinic_id)):
            results = session.scalars(
                select(ScreeningResult)
                .where(ScreeningResult.patient_id == patient.id)
                .where(ScreeningResult.voided_at.is_(None))
                .order_by(ScreeningResult.created_at, ScreeningResult.id)
            ).all()
            account = session.scalars(
                select(UserAccount).where(UserAccount.patient_id == patient.id)
            ).first()
            expected[patient.id] = (
                results[-1].decision if results else None,
                account_status(account),
            )

    found = {p.id: (p.screening_decision, p.portal) for p in list_patients(db, actor)}
    assert found == expected
    assert found[screened.patient_id][0] == screened.decision
    assert found[portal_user.patient_id or ""][1] == "deactivated"
    portals = {portal for _, portal in found.values()}
    assert {"none", "deactivated"} <= portals
