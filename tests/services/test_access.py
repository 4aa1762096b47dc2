"""Tenancy and ownership: what a user may not see answers exactly like what does not exist."""

from __future__ import annotations

import pytest

from follicle.services import patients, portal, schedule
from follicle.services.actors import Actor
from follicle.services.auth import actor_for
from follicle.services.authz import ROLE_PERMISSIONS, Permission, authorize
from follicle.services.database import Database
from follicle.services.errors import Forbidden, NotFound
from tests.support.factories import make_clinic, make_patient, make_user


def _actor(db: Database, user_id: str) -> Actor:
    from follicle.records.models import UserAccount

    with db.transaction() as session:
        user = session.get(UserAccount, user_id)
        assert user is not None
        return actor_for(user)


@pytest.fixture
def two_clinics(db: Database) -> dict[str, str]:
    ours, theirs = make_clinic(db, "Ours"), make_clinic(db, "Theirs")
    our_patient = make_patient(db, ours, "Ourpatient")
    their_patient = make_patient(db, theirs, "Theirpatient")
    return {
        "ours": ours,
        "our_patient": our_patient,
        "other_patient_here": make_patient(db, ours, "Neighbour"),
        "their_patient": their_patient,
        "our_staff": make_user(db, ours, "practitioner"),
        "our_patient_user": make_user(db, ours, "patient", patient_id=our_patient),
    }


def test_staff_see_only_their_clinics_patients(db: Database, two_clinics: dict[str, str]) -> None:
    staff = _actor(db, two_clinics["our_staff"])
    names = {p.family_name for p in patients.list_patients(db, staff)}
    assert names == {"Ourpatient", "Neighbour"}
    with pytest.raises(NotFound):
        patients.get_patient(db, staff, two_clinics["their_patient"])
    with pytest.raises(NotFound):
        patients.get_patient(db, staff, "pat_does_not_exist")


def test_a_patient_sees_only_themself(db: Database, two_clinics: dict[str, str]) -> None:
    me = _actor(db, two_clinics["our_patient_user"])
    assert patients.get_patient(db, me, two_clinics["our_patient"]).family_name == "Ourpatient"
    for other in ("other_patient_here", "their_patient"):
        with pytest.raises(NotFound):
            patients.get_patient(db, me, two_clinics[other])
    with pytest.raises(Forbidden):
        patients.list_patients(db, me)
    with pytest.raises(Forbidden):
        schedule.day_agenda(db, me)
    assert portal.portal_home(db, me).given_name == "Pat"


def test_staff_have_no_portal(db: Database, two_clinics: dict[str, str]) -> None:
    with pytest.raises(Forbidden):
        portal.portal_home(db, _actor(db, two_clinics["our_staff"]))


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
@pytest.mark.parametrize("permission", list(Permission))
def test_policy_denies_by_default_and_hides_other_tenants(
    role: str, permission: Permission
) -> None:
    actor = Actor(user_id="usr_a", clinic_id="cln_a", role=role, patient_id="pat_a")
    allowed = permission in ROLE_PERMISSIONS[role]
    if allowed:
        authorize(actor, permission, clinic_id="cln_a", patient_id="pat_a")
    else:
        with pytest.raises(Forbidden):
            authorize(actor, permission, clinic_id="cln_a", patient_id="pat_a")
    if role != "cli":
        with pytest.raises(NotFound):
            authorize(actor, permission, clinic_id="cln_other")
    unknown = Actor(user_id="usr_b", clinic_id="cln_a", role="intruder")
    with pytest.raises(Forbidden):
        authorize(unknown, permission, clinic_id="cln_a")


def test_the_chart_answers_only_its_clinics_staff_and_never_for_a_voided_patient(
    db: Database, two_clinics: dict[str, str]
) -> None:
    from datetime import UTC, datetime

    from follicle.records.models import Patient
    from follicle.services import chart

    staff = _actor(db, two_clinics["our_staff"])
    shown = chart.patient_chart(db, staff, two_clinics["our_patient"])
    assert shown.patient["family_name"] == "Ourpatient"
    assert shown.status["portal"] == "active"
    assert chart.patient_chart(db, staff, two_clinics["other_patient_here"]).status["portal"] == (
        "none"
    )
    for hidden in (two_clinics["their_patient"], "pat_does_not_exist"):
        with pytest.raises(NotFound):
            chart.patient_chart(db, staff, hidden)
    patient = _actor(db, two_clinics["our_patient_user"])
    assert chart.patient_chart(db, patient, two_clinics["our_patient"]).intakes == []
    with pytest.raises(NotFound):
        chart.patient_chart(db, patient, two_clinics["other_patient_here"])
    with db.transaction() as session:
        voided = session.get(Patient, two_clinics["other_patient_here"])
        assert voided is not None
        voided.voided_at, voided.void_reason = datetime.now(UTC), "registered twice"
    with pytest.raises(NotFound):
        chart.patient_chart(db, staff, two_clinics["other_patient_here"])
