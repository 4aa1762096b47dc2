"""One real server per backend for the API tests, loaded as `make run` loads it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from follicle.services.database import Database
from follicle.settings import Settings
from tests.conftest import BACKENDS, fresh_database_url, settings_for
from tests.support.api import ClinicUsers, clinic_users
from tests.support.server import loaded_demo_env, running_server


@dataclass(frozen=True)
class ApiServer:
    url: str
    backend: str
    settings: Settings
    db: Database
    demo: ClinicUsers
    other: ClinicUsers


@pytest.fixture(scope="module", params=BACKENDS)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"api-{backend}")
    settings = settings_for(fresh_database_url(backend, folder, request), folder)
    env = loaded_demo_env(settings.database_url or "", settings.data_dir)
    # Every test here signs in from 127.0.0.1; the per-address limit has its own test
    # (tests/web/test_rate_limit.py).
    env["FOLLICLE_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE"] = "600"
    db = Database.from_settings(settings)
    try:
        with running_server(env, folder / "server.log") as base_url:
            demo = clinic_users(db, base_url, "demo.follicle")
            other = clinic_users(db, base_url, "other.follicle")
            yield ApiServer(base_url, backend, settings, db, demo, other)
    finally:
        db.dispose()
