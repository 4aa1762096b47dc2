"""A real server a test may SIGKILL and restart, on a fresh database of either backend, with one
practitioner (and their token) in a fresh clinic."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from follicle.services.database import Database
from follicle.settings import Settings
from tests.conftest import TEST_SECRET, fresh_database_url, settings_for
from tests.support.api import PASSWORD, token_for
from tests.support.factories import make_clinic, make_user
from tests.support.postgres import free_port
from tests.support.server import follicle_env


class Server:
    """`follicle serve` that a test may SIGKILL and start again on the same port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "follicle", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, "server exited:\n" + self.log_path.read_text()
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@dataclass
class Site:
    server: Server
    settings: Settings
    db: Database
    token: str
    backend: str
    folder: Path
    clinic_id: str


@pytest.fixture
def site(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Site]:
    settings = settings_for(fresh_database_url(backend, tmp_path, request), tmp_path)
    db = Database.from_settings(settings)
    clinic_id = make_clinic(db)
    email = f"writer-{backend}@test.follicle"
    make_user(db, clinic_id, "practitioner", PASSWORD, email, credential="dermatologist")
    env = follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(settings.data_dir),
        FOLLICLE_DATABASE_URL=settings.database_url or "",
        FOLLICLE_SECRET_KEY=TEST_SECRET,
    )
    server = Server(env, tmp_path / "server.log")
    server.start()
    try:
        yield Site(server, settings, db, token_for(server.url, email), backend, tmp_path, clinic_id)
    finally:
        server.stop()
        db.dispose()
        db.dispose()
