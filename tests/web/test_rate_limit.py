"""Login attempts are limited per client address, on the form and on the token endpoint."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from follicle.web.ratelimit import RateLimited, SlidingWindow
from tests.support.server import csrf_from, follicle_env, run_follicle, running_server


def test_sliding_window_counts_per_key_and_forgets_old_hits() -> None:
    window = SlidingWindow(limit=2, window_seconds=0.2)
    window.hit("a")
    window.hit("a")
    window.hit("b")
    with pytest.raises(RateLimited) as caught:
        window.hit("a")
    assert caught.value.retry_after_seconds >= 1
    import time

    time.sleep(0.25)
    window.hit("a")


def test_the_server_answers_429_after_the_limit(tmp_path: Path) -> None:
    env = follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(tmp_path / "data"),
        FOLLICLE_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE="3",
    )
    assert run_follicle(["migrate"], env).returncode == 0
    with (
        running_server(env, tmp_path / "server.log") as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        statuses = [
            client.post(
                "/api/v1/auth/token", json={"email": f"n{i}@test.follicle", "password": "x"}
            ).status_code
            for i in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        form = client.get("/login")
        page = client.post(
            "/login",
            data={"email": "a@test.follicle", "password": "x", "csrf_token": csrf_from(form.text)},
        )
        assert page.status_code == 429
        assert int(page.headers["retry-after"]) >= 1
        assert "Too many sign-in attempts" in page.text
