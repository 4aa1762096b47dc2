"""Scale benchmark: a synthetic chain of clinics (100,000 patients, about 1,000,000 session
records on PostgreSQL; one clinic's size on SQLite), then the queries a clinic runs every day,
timed through the services the app uses (authorization and read auditing included):
today's schedule, patient search, the chart, follow-ups due (the worklist), adverse-event rates
by device lot and responders by indication. Target: each <= 200 ms at p95. For the slowest SQL
statement of each, the plan (EXPLAIN ANALYZE / EXPLAIN QUERY PLAN) is recorded.
Writes bench/results/scale.json and .md.

    python bench/bench_scale.py [--clinics 20] [--patients-per-clinic 5000] [--runs 30]
                                [--backends postgresql,sqlite]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from results_files import record  # noqa: E402
from sqlalchemy import Engine, event, insert, text  # noqa: E402
from tests.support.api import eligible_intake  # noqa: E402
from tests.support.postgres import start_postgres  # noqa: E402

from follicle.records import migrate  # noqa: E402
from follicle.records.models import (  # noqa: E402
    AdverseEvent,
    Appointment,
    CartridgeLot,
    Clinic,
    Device,
    Image,
    Intake,
    Measurement,
    Patient,
    Plan,
    ScreeningResult,
    SessionRecord,
    UserAccount,
)
from follicle.services import chart, devices, outcomes, patients, schedule, worklist  # noqa: E402
from follicle.services.actors import Actor  # noqa: E402
from follicle.services.database import Database  # noqa: E402

TARGET_P95_MS = 200.0
FAMILY = [
    "Abbott", "Baker", "Carter", "Dalton", "Evans", "Fisher", "Garcia", "Hughes", "Iqbal",
    "Jensen", "Khan", "Lopez", "Murphy", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Smith",
    "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Young", "Zhang",
]  # fmt: skip
GIVEN = ["Alex", "Sam", "Jo", "Kim", "Lee", "Max", "Noor", "Ola", "Ray", "Tess", "Uma", "Vic"]
BATCH = 5000


def _batched(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            conn.execute(insert(model), rows[start : start + BATCH])


def _ids(prefix: str, clinic: int, count: int) -> list[str]:
    return [f"{prefix}_{clinic:03d}{n:07d}" for n in range(count)]


def load_chain(engine: Engine, clinics: int, per_clinic: int, today: date) -> dict[str, int]:
    """Synthetic clinics, loaded through SQLAlchemy Core in batches (same types as the app)."""
    rng = random.Random(2611)  # noqa: S311 (synthetic data, not secrets)
    now = datetime.now(UTC)
    counts: dict[str, int] = {}
    intake_doc = eligible_intake()
    for c in range(clinics):
        clinic_id = f"cln_{c:03d}"
        rows: dict[Any, list[dict[str, Any]]] = {m: [] for m in (
            Clinic, UserAccount, Device, CartridgeLot, Patient, Intake, ScreeningResult, Plan,
            Appointment, SessionRecord, Image, Measurement, AdverseEvent)}  # fmt: skip
        rows[Clinic].append(
            {"id": clinic_id, "name": f"Clinic {c}", "slug": f"clinic-{c}",
             "time_zone": "Europe/London", "settings": {}, "operations": {}}
        )  # fmt: skip
        staff = [("admin", None), ("front_desk", None)] + [("practitioner", "dermatologist")] * 4
        for n, (role, credential) in enumerate(staff):
            rows[UserAccount].append(
                {"id": f"usr_{c:03d}{n:03d}", "clinic_id": clinic_id, "role": role,
                 "email": f"{role}{n}@clinic{c}.bench", "display_name": f"{role} {n}",
                 "credential": credential, "password_hash": None}
            )  # fmt: skip
        practitioners = [f"usr_{c:03d}{n:03d}" for n in range(2, 6)]
        rows[Device].append(
            {"id": f"dev_{c:03d}", "clinic_id": clinic_id, "maker": "Bench Medical",
             "model": "BP-1", "needle_configuration": "12 needles", "regulatory_status": "test"}
        )  # fmt: skip
        lots = [f"lot_{c:03d}{n}" for n in range(3)]
        for n, lot in enumerate(lots):
            rows[CartridgeLot].append(
                {"id": lot, "clinic_id": clinic_id, "device_id": f"dev_{c:03d}",
                 "lot_number": f"L{c}-{n}", "expires_on": today + timedelta(days=365),
                 "received_on": today - timedelta(days=200)}
            )  # fmt: skip
        first_day = datetime.combine(today - timedelta(days=60), datetime.min.time(), UTC)
        slot_index = 0  # 4 practitioners x 16 half-hour slots a day, in sequence: no overlap
        for pid in _ids("pat", c, per_clinic):
            rows[Patient].append(
                {"id": pid, "clinic_id": clinic_id, "family_name": rng.choice(FAMILY)
                 + str(rng.randrange(100)), "given_name": rng.choice(GIVEN),
                 "date_of_birth": date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1),
                 "sex_at_birth": rng.choice(("female", "male")), "created_at": now}
            )  # fmt: skip
            diagnosis = rng.choices(
                ("androgenetic_alopecia", "alopecia_areata", "telogen_effluvium"), (7, 2, 1)
            )[0]
            doc = {**intake_doc, "hair_loss": {**intake_doc["hair_loss"],
                                                "working_diagnosis": diagnosis}}  # fmt: skip
            rows[Intake].append(
                {"id": "ink" + pid[3:], "clinic_id": clinic_id, "patient_id": pid,
                 "document": doc, "working_diagnosis": diagnosis, "recorded_on": today}
            )  # fmt: skip
            rows[ScreeningResult].append(
                {"id": "scr" + pid[3:], "clinic_id": clinic_id, "patient_id": pid,
                 "intake_id": "ink" + pid[3:], "decision": "eligible", "rules_version": "bench",
                 "result": {"decision": "eligible", "findings": []}}
            )  # fmt: skip
            if diagnosis == "telogen_effluvium":
                continue
            plan_id = "pln" + pid[3:]
            status = rng.choices(("approved", "completed", "proposed"), (80, 15, 5))[0]
            rows[Plan].append(
                {"id": plan_id, "clinic_id": clinic_id, "patient_id": pid,
                 "screening_id": "scr" + pid[3:], "status": status, "indication": diagnosis,
                 "document": {"sessions": 12, "interval_days": 14}, "needle_depth_mm": 0.6,
                 "interval_days": 14, "sessions_planned": 12,
                 "review_on": today + timedelta(days=rng.randrange(-30, 90))}
            )  # fmt: skip
            for _ in range(3):
                day, within = divmod(slot_index, 4 * 16)
                practitioner = practitioners[within % 4]
                starts = first_day + timedelta(days=day, hours=9, minutes=30 * (within // 4))
                slot_index += 1
                rows[Appointment].append(
                    {"id": f"apt{pid[3:]}{len(rows[Appointment])}", "clinic_id": clinic_id,
                     "patient_id": pid, "practitioner_id": practitioner, "plan_id": plan_id,
                     "kind": "session", "status": "booked" if starts.date() >= today
                     else "completed", "starts_at": starts,
                     "ends_at": starts + timedelta(minutes=30)}
                )  # fmt: skip
            first = today - timedelta(days=rng.randrange(90, 180))
            for n in range(rng.randrange(7, 15)):
                record_id = f"rec{pid[3:]}{n:02d}"
                rows[SessionRecord].append(
                    {"id": record_id, "clinic_id": clinic_id, "patient_id": pid,
                     "plan_id": plan_id, "performed_by_id": rng.choice(practitioners),
                     "performed_at": datetime.combine(first + timedelta(days=14 * n),
                                                      datetime.min.time(), UTC),
                     "lot_id": rng.choice(lots), "device_name": "Bench Medical BP-1",
                     "cartridge_lot": "L", "cartridge_expiry": today + timedelta(days=365),
                     "depth_mm_by_region": {"vertex": 0.6}, "endpoint": "mild_erythema",
                     "pre_session_check": {}}
                )  # fmt: skip
                if rng.random() < 0.003:
                    rows[AdverseEvent].append(
                        {"id": "ae" + record_id, "clinic_id": clinic_id, "patient_id": pid,
                         "session_record_id": record_id, "category": "erythema_prolonged",
                         "grade": rng.choice((1, 1, 2, 3)), "serious": rng.random() < 0.1,
                         "description": "synthetic", "onset_on": first,
                         "reported_by_id": practitioners[0], "status": "open"}
                    )  # fmt: skip
            if rng.random() < 0.6:
                gain = rng.gauss(8, 10)
                for visit, day in enumerate((first, first + timedelta(days=120))):
                    for image in range(3):
                        image_id = f"img{pid[3:]}{visit}{image}"
                        density = 150 * (1 + gain / 100 * visit) + rng.gauss(0, 4)
                        taken = datetime.combine(day, datetime.min.time(), UTC)
                        rows[Image].append(
                            {"id": image_id, "clinic_id": clinic_id, "patient_id": pid,
                             "content_sha256": "0" * 64, "kind": "trichoscopy",
                             "site": "vertex", "um_per_px": 5.0, "media_type": "image/png",
                             "width_px": 1600, "height_px": 1200, "taken_at": taken}
                        )  # fmt: skip
                        rows[Measurement].append(
                            {"id": "msr" + image_id[3:], "clinic_id": clinic_id,
                             "patient_id": pid, "image_id": image_id, "site": "vertex",
                             "measured_at": taken, "hair_count": round(density * 0.5),
                             "area_cm2": 0.5, "density_per_cm2": density,
                             "terminal_count": round(density * 0.4), "vellus_count":
                             round(density * 0.1), "vellus_threshold_um": 30.0,
                             "mean_diameter_um": 60.0, "diameter_cv": 0.2, "result": {},
                             "analyser_version": "bench"}
                        )  # fmt: skip
        for model, found in rows.items():
            _batched(engine, model, found)
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + len(found)
        print(f"  clinic {c + 1}/{clinics} loaded", flush=True)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return counts


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[float, str, Any]]]:
    """Every SQL statement run inside the block, with its duration."""
    found: list[tuple[float, str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        found.append((time.perf_counter() - conn.info["started"], statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _plan(engine: Engine, statement: str, parameters: Any) -> str:
    prefix = "EXPLAIN ANALYZE " if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, parameters).all()
    return "\n".join(" | ".join(str(v) for v in row) for row in rows)


def measure(db: Database, clinics: int, per_clinic: int, runs: int, today: date) -> dict[str, Any]:
    rng = random.Random(7)  # noqa: S311

    def actor(c: int, role: str) -> Actor:
        number = {"admin": 0, "front_desk": 1, "practitioner": 2}[role]
        credential = "dermatologist" if role == "practitioner" else None
        return Actor(f"usr_{c:03d}{number:03d}", f"cln_{c:03d}", role, credential, None, role)

    queries: dict[str, Callable[[int], Any]] = {
        "today's schedule": lambda c: schedule.day_agenda(db, actor(c, "front_desk"), today),
        "patient search": lambda c: patients.list_patients(
            db, actor(c, "front_desk"), rng.choice(FAMILY)[:3]
        ),
        "chart": lambda c: chart.patient_chart(
            db, actor(c, "practitioner"), f"pat_{c:03d}{rng.randrange(per_clinic):07d}", today
        ),
        "follow-ups due (worklist)": lambda c: worklist.worklist(
            db, actor(c, "practitioner"), today
        ),
        "adverse events by lot": lambda c: devices.safety_by_lot(db, actor(c, "admin")),
        "responders by indication": lambda c: outcomes.responders_by_indication(
            db, actor(c, "practitioner")
        ),
    }
    found: dict[str, Any] = {}
    for query in queries.values():
        query(0)  # warm: every module and cache loaded, as in a running server
    gc.collect()
    gc.freeze()  # as `follicle serve` does once the app is built
    for name, query in queries.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            query(rng.randrange(clinics))
            times.append(1000 * (time.perf_counter() - started))
        times.sort()
        with statements(db.engine) as seen:
            query(0)
        slowest = max(seen, key=lambda s: s[0])
        found[name] = {
            "p50_ms": round(times[len(times) // 2], 1),
            "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1),
            "max_ms": round(times[-1], 1),
            "statements": len(seen),
            "slowest_statement": " ".join(slowest[1].split())[:600],
            "slowest_ms": round(1000 * slowest[0], 1),
            "plan": _plan(db.engine, slowest[1], slowest[2]),
        }
        print(f"  {name:<28} p50 {found[name]['p50_ms']:>7} ms  p95 {found[name]['p95_ms']:>7} ms",
              flush=True)  # fmt: skip
    return found


def run_backend(backend: str, clinics: int, per_clinic: int, runs: int) -> dict[str, Any]:
    today = date.today()
    postgres = start_postgres() if backend == "postgresql" else None
    with tempfile.TemporaryDirectory(prefix="follicle-scale-") as folder:
        try:
            if postgres is not None:
                import psycopg

                with psycopg.connect(postgres.url(), autocommit=True) as conn:
                    conn.execute('CREATE DATABASE "scale"')
                url = postgres.url("scale").replace("postgresql://", "postgresql+psycopg://")
            else:
                url = f"sqlite:///{folder}/follicle.db"
            from follicle.records.db import make_engine

            engine = make_engine(url)
            migrate.upgrade(engine)
            started = time.perf_counter()
            counts = load_chain(engine, clinics, per_clinic, today)
            load_seconds = time.perf_counter() - started
            db = Database(engine)
            print(f"{backend}: loaded {counts} in {load_seconds:.0f} s", flush=True)
            found = measure(db, clinics, per_clinic, runs, today)
            db.dispose()
            return {"rows": counts, "load_seconds": round(load_seconds), "queries": found}
        finally:
            if postgres is not None:
                postgres.stop()


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Scale benchmark",
        "",
        f"{report['when']} on {report['machine']['platform']} ({report['machine']['cpus']} "
        f"CPUs), Python {report['machine']['python']}. Each query is the service the app "
        f"calls (authorization and the audit entry included), {report['runs']} runs on random "
        f"clinics and patients. Target: p95 <= {TARGET_P95_MS:.0f} ms.",
        "",
    ]
    for backend, result in report["backends"].items():
        rows = ", ".join(f"{n:,} {t}" for t, n in result["rows"].items() if n)
        lines += [f"## {backend}", "", f"Rows: {rows} (loaded in {result['load_seconds']} s).", ""]
        lines += ["| Query | p50 ms | p95 ms | max ms | SQL statements | Met |",
                  "|---|---:|---:|---:|---:|---|"]  # fmt: skip
        for name, q in result["queries"].items():
            met = "yes" if q["p95_ms"] <= TARGET_P95_MS else "no"
            lines.append(
                f"| {name} | {q['p50_ms']} | {q['p95_ms']} | {q['max_ms']} | {q['statements']} "
                f"| {met} |"
            )
        lines += ["", "Slowest statement of each, with its plan:", ""]
        for name, q in result["queries"].items():
            lines += [f"### {backend}: {name} ({q['slowest_ms']} ms)", "", "```sql",
                      q["slowest_statement"], "```", "", "```", q["plan"], "```", ""]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clinics", type=int, default=20)
    parser.add_argument("--patients-per-clinic", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "runs": args.runs,
        "backends": {},
    }
    for backend in args.backends.split(","):
        clinics = args.clinics if backend == "postgresql" else 1  # SQLite: one clinic's size
        report["backends"][backend] = run_backend(
            backend, clinics, args.patients_per_clinic, args.runs
        )
    record("scale", report, _markdown(report))
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
