"""The real server process, started the way `make run` starts it, on a loopback port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.postgres import free_port


def follicle_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLICLE_")}
    env.update(overrides)
    return env


def run_follicle(
    args: list[str], env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the `follicle` command as a user would, without this shell's FOLLICLE_* settings."""
    return subprocess.run(
        [sys.executable, "-m", "follicle", *args],
        env=env if env is not None else follicle_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "follicle", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError("server exited:\n" + log_path.read_text())
                try:
                    if httpx.get(base_url + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not answer:\n" + log_path.read_text())
                time.sleep(0.1)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def log_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    form = client.get("/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(form.text)}
    )


def loaded_demo_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """Environment for a demo-mode server on ``database_url``, migrated and loaded the way
    `make run` does it (through the real CLI)."""
    env = follicle_env(
        FOLLICLE_MODE="demo",
        FOLLICLE_DATA_DIR=str(data_dir),
        FOLLICLE_DATABASE_URL=database_url,
    )
    for command in (["migrate"], ["demo"]):
        result = run_follicle(command, env)
        assert result.returncode == 0, result.stderr
    return env
