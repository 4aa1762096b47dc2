"""API load benchmark: the real server on loopback under a bounded load generator (httpx +
asyncio, N users each sending one request at a time), compared with the floor (a bare FastAPI
endpoint doing one indexed SQLite read, bench/floor_app.py) on the same machine in the same run.

Scenarios at 1, 8, 32 and 128 users:
- reads: chart views (the staff chart page) and patient searches, with authorization and
  read auditing on (each read writes its audit entry);
- mixed: reads plus session records and photo uploads (re-encoded, stored, audited).
Target (issue: reliability): reads at 32 users reach >= 50 % of the floor's throughput with a
p99 <= 2x the floor's, the floor served the same way: checked with one process, and (on
PostgreSQL) with one process per core (two servers, users spread over them) as docs/deploy.md
runs it.
Writes bench/results/api_load.json and .md.

    python bench/bench_api_load.py [--seconds 8] [--users 1,8,32,128] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test support code sets up servers the same way

from results_files import record  # noqa: E402
from sqlalchemy import select  # noqa: E402
from tests.support.api import (  # noqa: E402
    ClinicUsers,
    client_for,
    clinic_users,
    eligible_intake,
    ok,
    session_body,
)
from tests.support.postgres import free_port, start_postgres  # noqa: E402
from tests.support.server import loaded_demo_env, log_in, running_server  # noqa: E402

from follicle.records.models import Clinic, Patient  # noqa: E402
from follicle.services.database import Database  # noqa: E402
from follicle.services.demo import DEMO_PASSWORD  # noqa: E402
from follicle.settings import Mode, Settings  # noqa: E402

WRITE_POOL = 40
TARGET_USERS = 32
TARGET_ROUNDS = 3


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    # Over the counted seconds: the load generator's own CPU, and the whole machine's busy
    # time (every process: servers, database, generator), to show who the two cores serve.
    generator_cpu_s: float = 0.0
    busy_core_s: float = 0.0
    measured_s: float = 0.0

    def add(self, name: str, seconds: float, ok: bool) -> None:
        self.latencies.setdefault(name, []).append(seconds)
        if not ok:
            self.errors[name] = self.errors.get(name, 0) + 1

    def merge(self, other: Tally) -> None:
        for name, values in other.latencies.items():
            self.latencies.setdefault(name, []).extend(values)
        for name, count in other.errors.items():
            self.errors[name] = self.errors.get(name, 0) + count
        self.generator_cpu_s += other.generator_cpu_s
        self.busy_core_s += other.busy_core_s
        self.measured_s += other.measured_s


def _machine_busy_s() -> float:
    """Seconds of CPU the whole machine has spent busy (all cores, /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Meter:
    """CPU readings at the start and the end of the counted seconds of a drive."""

    readings: list[tuple[float, float, float]] = field(default_factory=list)

    def read(self) -> None:
        self.readings.append((time.perf_counter(), time.process_time(), _machine_busy_s()))


Operation = Callable[[httpx.AsyncClient, random.Random], Awaitable[tuple[str, bool]]]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _summary(tally: Tally, seconds: float, names: list[str] | None = None) -> dict[str, Any]:
    chosen = names or list(tally.latencies)
    values = [v for n in chosen for v in tally.latencies.get(n, [])]
    found = {
        "requests": len(values),
        "throughput_per_s": round(len(values) / seconds, 1),
        "p50_ms": round(1000 * _percentile(values, 0.50), 1),
        "p95_ms": round(1000 * _percentile(values, 0.95), 1),
        "p99_ms": round(1000 * _percentile(values, 0.99), 1),
        "errors": sum(tally.errors.get(n, 0) for n in chosen),
    }
    if names is None and tally.measured_s and values:
        found["machine_busy_cores"] = round(tally.busy_core_s / tally.measured_s, 2)
        found["generator_cpu_ms_per_request"] = round(1000 * tally.generator_cpu_s / len(values), 1)
    return found


async def _drive(
    base_urls: str | list[str],
    users: int,
    seconds: float,
    pick: Callable[[random.Random], Operation],
    cookies: httpx.Cookies | None = None,
) -> Tally:
    """``users`` loops, each with one request in flight; 1 s of warm-up is not counted.
    With several servers, users are spread over them in turn, as a proxy would.

    Each user has its own client and connection, as a browser would. One client with a
    shared pool of N connections cost httpx 3-6 ms of CPU per request at 32 users and 8-12 ms
    at 128, so the load generator, not the server, set the floor's pace (the floor read
    330/s at 32 users that way, 680/s with a client per user)."""
    urls = [base_urls] if isinstance(base_urls, str) else base_urls
    tally = Tally()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=urls[number % len(urls)], limits=limits, timeout=60, cookies=cookies
                )
            )
            for number in range(users)
        ]
        loop = asyncio.get_running_loop()
        counting_from = loop.time() + 1.0
        deadline = counting_from + seconds
        meter = _Meter()
        loop.call_at(counting_from, meter.read)
        loop.call_at(deadline, meter.read)

        async def user(number: int) -> None:
            rng = random.Random(number)  # noqa: S311 (load mix, not secrets)
            client = clients[number]
            while loop.time() < deadline:
                operation = pick(rng)
                started = time.perf_counter()
                try:
                    name, fine = await operation(client, rng)
                except httpx.HTTPError:
                    name, fine = "transport", False
                if loop.time() >= counting_from:
                    tally.add(name, time.perf_counter() - started, fine)

        await asyncio.gather(*(user(n) for n in range(users)))
    if len(meter.readings) == 2:
        (wall_0, cpu_0, busy_0), (wall_1, cpu_1, busy_1) = meter.readings
        tally.measured_s, tally.generator_cpu_s, tally.busy_core_s = (
            wall_1 - wall_0,
            cpu_1 - cpu_0,
            busy_1 - busy_0,
        )
    return tally


@dataclass
class World:
    url: str
    cookies: httpx.Cookies
    users: ClinicUsers
    patient_ids: list[str]
    fragments: list[str]
    writable: list[tuple[str, str]]  # (patient id, approved plan id)
    photo: bytes


def _photo_jpeg() -> bytes:
    """A 2-megapixel photo-sized JPEG (noise, so it does not compress to nothing)."""
    pixels = np.random.default_rng(3).integers(40, 200, size=(1200, 1600, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _writable_patients(url: str, users: ClinicUsers) -> list[tuple[str, str]]:
    """Patients with consents and an approved 24-session plan, to record sessions against."""
    found = []
    with (
        client_for(url, users.tokens["practitioner"]) as derm,
        client_for(url, users.tokens["front_desk"]) as desk,
    ):
        texts = {t["kind"]: t["id"] for t in ok(derm.get("/consent-texts"))}
        for number in range(WRITE_POOL):
            patient = ok(
                desk.post(
                    "/patients",
                    json={
                        "given_name": f"Load{number}",
                        "family_name": "Benchmark",
                        "date_of_birth": "1984-05-06",
                        "sex_at_birth": "male",
                    },
                ),
                201,
            )["id"]
            base = f"/patients/{patient}"
            ok(derm.post(base + "/intakes", json={"intake": eligible_intake()}), 201)
            for kind, text_id in texts.items():
                consent = {
                    "kind": kind,
                    "signed_name": "Load Benchmark",
                    "consent_text_id": text_id,
                }
                ok(derm.post(base + "/consents", json=consent), 201)
            proposed = derm.post(base + "/plans")
            plan = ok(proposed, 201)
            longer = derm.patch(
                base + f"/plans/{plan['id']}",
                json={"sessions": 24, "reason": "benchmark course"},
                headers={"If-Match": proposed.headers["etag"]},
            )
            ok(longer)
            ok(
                derm.post(
                    base + f"/plans/{plan['id']}/approve",
                    headers={"If-Match": longer.headers["etag"]},
                )
            )
            found.append((patient, plan["id"]))
    return found


def _operations(world: World) -> dict[str, Operation]:
    bearer = {"Authorization": f"Bearer {world.users.tokens['practitioner']}"}
    cursor = {"next": 0}

    async def chart(client: httpx.AsyncClient, rng: random.Random) -> tuple[str, bool]:
        answer = await client.get(f"/patients/{rng.choice(world.patient_ids)}")
        return "chart", answer.status_code == 200

    async def search(client: httpx.AsyncClient, rng: random.Random) -> tuple[str, bool]:
        answer = await client.get("/patients", params={"q": rng.choice(world.fragments)})
        return "search", answer.status_code == 200

    async def record_session(client: httpx.AsyncClient, rng: random.Random) -> tuple[str, bool]:
        patient, plan = world.writable[cursor["next"] % len(world.writable)]
        cursor["next"] += 1
        answer = await client.post(
            f"/api/v1/patients/{patient}/sessions",
            json=session_body(plan, world.users.lot_id),
            headers=bearer,
        )
        return "session_record", answer.status_code == 201

    async def upload(client: httpx.AsyncClient, rng: random.Random) -> tuple[str, bool]:
        patient, _plan = rng.choice(world.writable)
        answer = await client.post(
            f"/api/v1/patients/{patient}/images",
            data={"kind": "photo", "view": "vertex"},
            files={"file": ("vertex.jpg", world.photo, "image/jpeg")},
            headers=bearer,
        )
        return "photo_upload", answer.status_code == 201

    return {"chart": chart, "search": search, "session": record_session, "upload": upload}


def _picker(weights: dict[Operation, int]) -> Callable[[random.Random], Operation]:
    population = list(weights)
    cumulative = list(weights.values())
    return lambda rng: rng.choices(population, cumulative)[0]


def _world(url: str, settings: Settings) -> World:
    db = Database.from_settings(settings)
    try:
        users = clinic_users(db, url, "demo.follicle")
        with db.transaction() as session:
            clinic = session.scalars(select(Clinic).where(Clinic.slug == "demo")).first()
            query = select(Patient.id, Patient.family_name)
            if clinic is not None:
                query = query.where(Patient.clinic_id == clinic.id)
            rows = session.execute(query).all()
    finally:
        db.dispose()
    with httpx.Client(base_url=url, timeout=30) as browser:
        assert log_in(browser, "derm@demo.follicle", DEMO_PASSWORD).status_code == 303
        cookies = browser.cookies
    return World(
        url=url,
        cookies=cookies,
        users=users,
        patient_ids=[r[0] for r in rows],
        fragments=sorted({r[1][:3].lower() for r in rows}),
        writable=_writable_patients(url, users),
        photo=_photo_jpeg(),
    )


@dataclass
class Floor:
    """The floor server, kept running so that each level of the app is measured right after
    the floor at the same level: the machine's speed drifts over a run (shared cores), and a
    floor measured minutes apart made the ratio swing by a third."""

    urls: list[str]
    ids: list[str]
    kind: str = "sqlite"
    path: str = "floor"  # or "audited": the read plus an audit-chain append (floor_app.py)

    def tally(self, users: int, seconds: float, processes: int = 1) -> Tally:
        async def read(client: httpx.AsyncClient, rng: random.Random) -> tuple[str, bool]:
            answer = await client.get(f"/{self.path}/{rng.choice(self.ids)}")
            return "floor", answer.status_code == 200

        return asyncio.run(_drive(self.urls[:processes], users, seconds, lambda rng: read))

    def measure(self, users: int, seconds: float) -> dict[str, Any]:
        found = _summary(self.tally(users, seconds), seconds)
        print(f"floor        {users:>4} users  {found}", flush=True)
        return found


@contextlib.contextmanager
def _floor_servers(database: Path | str, processes: int) -> Iterator[Floor]:
    """Floor servers on a SQLite file (the issue's floor) or a PostgreSQL URL (a reference)."""
    ports = [free_port() for _ in range(processes)]
    servers = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).parent / "floor_app.py"), str(p), str(database)]
        )
        for p in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            for _ in range(200):
                try:
                    httpx.get(url + "/docs", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        if isinstance(database, str):
            import psycopg

            with psycopg.connect(database) as pg:
                ids = [row[0] for row in pg.execute("SELECT id FROM patient")]
            yield Floor(urls, ids, "postgresql")
        else:
            import sqlite3

            with sqlite3.connect(database) as conn:
                ids = [row[0] for row in conn.execute("SELECT id FROM patient")]
            yield Floor(urls, ids)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=15)


def _target(
    floor: Floor,
    app_urls: list[str],
    pick: Callable[[random.Random], Operation],
    cookies: httpx.Cookies,
    seconds: float,
) -> dict[str, Any]:
    """Reads at TARGET_USERS against the floor, served the same way (the same number of
    processes), alternating in TARGET_ROUNDS slices so that drift in the machine's speed
    falls on both."""
    floor_tally, app_tally = Tally(), Tally()
    processes = len(app_urls)
    for _ in range(TARGET_ROUNDS):
        floor_tally.merge(floor.tally(TARGET_USERS, seconds, processes))
        app_tally.merge(asyncio.run(_drive(app_urls, TARGET_USERS, seconds, pick, cookies)))
    total = seconds * TARGET_ROUNDS
    floor_row, app_row = _summary(floor_tally, total), _summary(app_tally, total)
    ratio = app_row["throughput_per_s"] / floor_row["throughput_per_s"]
    p99 = app_row["p99_ms"] / floor_row["p99_ms"]
    verdict = {
        "floor_kind": floor.kind,
        "processes": processes,
        "floor": floor_row,
        "reads": app_row,
        "throughput_ratio": ratio,
        "p99_ratio": p99,
        "met": ratio >= 0.5 and p99 <= 2.0,
    }
    print(f"target ({processes} process(es)): {verdict}", flush=True)
    return verdict


def _run_backend(
    backend: str, levels: list[int], seconds: float, folder: Path, floor: Floor
) -> tuple[dict[str, Any], dict[int, dict[str, Any]], list[dict[str, Any]]]:
    postgres = start_postgres() if backend == "postgresql" else None
    try:
        if postgres is not None:
            import psycopg

            with psycopg.connect(postgres.url(), autocommit=True) as conn:
                conn.execute('CREATE DATABASE "bench"')
            database_url = postgres.url("bench")
        else:
            database_url = f"sqlite:///{folder / 'data' / 'follicle.db'}"
        data_dir = folder / "data"
        env = loaded_demo_env(database_url, data_dir)
        env["FOLLICLE_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE"] = "10000"
        settings = Settings(mode=Mode.demo, data_dir=data_dir, database_url=database_url)
        results: dict[str, Any] = {}
        paired: dict[int, dict[str, Any]] = {}
        with running_server(env, folder / "server.log") as url:
            world = _world(url, settings)
            operations = _operations(world)
            scenarios = {
                "reads": _picker({operations["chart"]: 55, operations["search"]: 45}),
                "mixed": _picker(
                    {
                        operations["chart"]: 45,
                        operations["search"]: 35,
                        operations["session"]: 10,
                        operations["upload"]: 10,
                    }
                ),
            }
            for scenario, pick in scenarios.items():
                for users in levels:
                    if scenario == "reads":
                        paired[users] = floor.measure(users, seconds)
                    tally = asyncio.run(_drive(url, users, seconds, pick, world.cookies))
                    row = {"all": _summary(tally, seconds)}
                    for name in sorted(tally.latencies):
                        row[name] = _summary(tally, seconds, [name])
                    results[f"{scenario}/{users}"] = row
                    print(f"{backend:<10} {scenario:<6} {users:>4} users  {row['all']}", flush=True)
            targets = [_target(floor, [url], scenarios["reads"], world.cookies, seconds)]
            if backend == "sqlite":
                # For reference: a floor that also appends to an audit chain and commits, as
                # every clinical read must.
                audited = replace(floor, kind="sqlite + audit append", path="audited")
                targets.append(_target(audited, [url], scenarios["reads"], world.cookies, seconds))
            if backend == "postgresql":
                # One process per core against one database, as docs/deploy.md runs it (the
                # floor likewise). SQLite is served by one process.
                with running_server(env, folder / "server-2.log") as second:
                    urls = [url, second]
                    targets.append(_target(floor, urls, scenarios["reads"], world.cookies, seconds))
                    # For reference, not the floor: the same bare read on PostgreSQL,
                    # which shares the two cores with the app and the load generator.
                    with _floor_servers(database_url, 2) as on_postgres:
                        for serving in ([url], urls):
                            targets.append(
                                _target(
                                    on_postgres, serving, scenarios["reads"], world.cookies, seconds
                                )
                            )
        return results, paired, targets
    finally:
        if postgres is not None:
            postgres.stop()


def _cpu_cells(row: dict[str, Any]) -> str:
    if "machine_busy_cores" not in row:
        return " | "
    return f"{row['machine_busy_cores']} | {row['generator_cpu_ms_per_request']}"


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# API load benchmark",
        "",
        f"{report['when']} on {report['machine']['platform']} ({report['machine']['cpus']} CPUs), "
        f"Python {report['machine']['python']}; {report['seconds']} s per level after 1 s of "
        "warm-up; the load generator runs on the same machine. One server process for each "
        "in this table, served the same way (Uvicorn defaults, no access log; Follicle runs "
        "requests on its 4 worker threads, the floor on FastAPI's default 40). Each user has "
        "its own connection. SQLite runs as Follicle runs "
        "it (WAL, synchronous=FULL); PostgreSQL is the test suite's throwaway server "
        "(fsync off), so its figures leave out the disk.",
        "",
        "Busy cores: the whole machine's CPU in use during the level (of "
        f"{report['machine']['cpus']}: servers, database and load generator together). "
        "Generator ms: the load generator's own CPU per request.",
        "",
        "| Backend | Scenario | Users | Requests/s | p50 ms | p95 ms | p99 ms | Errors "
        "| Busy cores | Generator ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, rows in report["backends"].items():
        for users, row in report["floor"][backend].items():
            lines.append(
                f"| floor (before {backend}) | one read | {users} | {row['throughput_per_s']} | "
                f"{row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row['errors']} | "
                f"{_cpu_cells(row)} |"
            )
        for key, row in rows.items():
            scenario, users = key.split("/")
            for name, cell in row.items():
                label = scenario if name == "all" else f"{scenario}: {name}"
                lines.append(
                    f"| {backend} | {label} | {users} | {cell['throughput_per_s']} | "
                    f"{cell['p50_ms']} | {cell['p95_ms']} | {cell['p99_ms']} | {cell['errors']} | "
                    f"{_cpu_cells(cell)} |"
                )
    lines += [
        "",
        f"## Target: reads at {TARGET_USERS} users against the floor served the same way",
        "",
        f"{TARGET_ROUNDS} alternating slices of {report['seconds']} s each (floor, then "
        "Follicle), with one server process; on PostgreSQL also with one per core behind the "
        "load generator's round robin (docs/deploy.md runs one per core behind a proxy).",
        "",
        "The target is set against the SQLite floor (the issue's). The other rows are for "
        "reference: a floor that also appends to an audit chain and commits, as every "
        "clinical read must (`sqlite + audit append`), and the same bare read on PostgreSQL.",
        "",
        "| Backend | Floor | Processes | Floor req/s | Follicle req/s | Throughput / floor "
        "| Floor p99 ms | Follicle p99 ms | p99 / floor p99 | Busy cores (floor, Follicle) | Met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for backend, verdicts in report["target"].items():
        for verdict in verdicts:
            floor, reads = verdict["floor"], verdict["reads"]
            kind = verdict.get("floor_kind", "sqlite")
            met = ("yes" if verdict["met"] else "no") if kind == "sqlite" else "(reference)"
            lines.append(
                f"| {backend} | {kind} | {verdict['processes']} | {floor['throughput_per_s']} | "
                f"{reads['throughput_per_s']} | {verdict['throughput_ratio']:.1%} | "
                f"{floor['p99_ms']} | {reads['p99_ms']} | {verdict['p99_ratio']:.1f}x | "
                f"{floor.get('machine_busy_cores', '')}, {reads.get('machine_busy_cores', '')} | "
                f"{met} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--users", default="1,8,32,128")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    levels = [int(u) for u in args.users.split(",")]
    backends = args.backends.split(",")
    report: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "seconds": args.seconds,
        "backends": {},
        "target": {},
    }
    report["floor"] = {}
    with tempfile.TemporaryDirectory(prefix="follicle-load-") as temporary:
        folder = Path(temporary) / "floor"  # the floor reads its own copy of the demo data
        folder.mkdir()
        loaded_demo_env(f"sqlite:///{folder / 'follicle.db'}", folder)
        with _floor_servers(folder / "follicle.db", 2) as floor_servers:
            for backend in backends:
                folder = Path(temporary) / backend
                folder.mkdir()
                rows, paired, targets = _run_backend(
                    backend, levels, args.seconds, folder, floor_servers
                )
                report["backends"][backend] = rows
                report["floor"][backend] = paired
                report["target"][backend] = targets
    record("api_load", report, _markdown(report))
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
