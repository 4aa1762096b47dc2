"""Settings refuse what would be unsafe or unusable, in one line each."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from follicle.settings import ConfigError, Mode, Settings, load_settings
from tests.support.server import follicle_env, run_follicle

GOOD_SECRET = "k" * 48


@pytest.mark.parametrize("secret", [None, "", "changethis", "secret", "short-but-real"])
def test_production_refuses_missing_default_or_short_secret(
    secret: str | None, tmp_path: Path
) -> None:
    settings = Settings(mode=Mode.production, data_dir=tmp_path, secret_key=secret)
    with pytest.raises(ConfigError, match="FOLLICLE_SECRET_KEY"):
        settings.resolved_secret_key()


def test_production_accepts_a_real_secret(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.production, data_dir=tmp_path, secret_key=GOOD_SECRET)
    assert settings.resolved_secret_key() == GOOD_SECRET


def test_demo_generates_a_key_once_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(mode=Mode.demo, data_dir=tmp_path)
    first = settings.resolved_secret_key()
    again = Settings(mode=Mode.demo, data_dir=tmp_path).resolved_secret_key()
    assert len(first) >= 32
    assert first == again
    assert (tmp_path / "demo-secret-key").stat().st_mode & 0o077 == 0


def test_production_is_the_default_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOLLICLE_MODE", raising=False)
    assert load_settings().mode is Mode.production


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://u@h/db", "Follicle supports sqlite and postgresql"),
    ],
)
def test_bad_database_url_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("FOLLICLE_DATABASE_URL", url)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("FOLLICLE_DATABASE_URL ")
    assert expected in message
    assert "\n" not in message


def test_postgres_url_gets_the_psycopg_driver() -> None:
    settings = Settings(database_url="postgresql://u@127.0.0.1:5432/follicle")
    assert settings.sqlalchemy_url.drivername == "postgresql+psycopg"
    assert not settings.is_sqlite


def test_sqlite_file_lives_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.sqlalchemy_url.database == str(tmp_path / "follicle.db")


def test_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match=r"FOLLICLE_DATA_DIR .* cannot be created"):
        Settings(data_dir=blocker / "data").prepare_data_dir()


def _follicle(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_follicle(args, follicle_env(**env))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FOLLICLE_DATABASE_URL": "nonsense"}, "FOLLICLE_DATABASE_URL is not a database URL"),
        (
            {"FOLLICLE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
            "cannot reach the database",
        ),
        ({"FOLLICLE_DATA_DIR": "/proc/version/data"}, "FOLLICLE_DATA_DIR"),
    ],
)
def test_cli_stops_with_one_line_not_a_traceback(env: dict[str, str], expected: str) -> None:
    result = _follicle(["migrate"], env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_serve_refuses_production_without_secret(tmp_path: Path) -> None:
    env = {"FOLLICLE_DATA_DIR": str(tmp_path), "FOLLICLE_MODE": "production"}
    assert _follicle(["migrate"], env).returncode == 0
    result = _follicle(["serve", "--port", "1"], env)
    assert result.returncode == 2
    assert "FOLLICLE_SECRET_KEY must be set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_demo_refuses_production_mode(tmp_path: Path) -> None:
    env = {"FOLLICLE_DATA_DIR": str(tmp_path), "FOLLICLE_MODE": "production"}
    result = _follicle(["demo"], env)
    assert result.returncode == 2
    assert "demo data loads only in demo mode" in result.stderr


def test_a_usage_error_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = _follicle(["analyze", "--no-such-option"], {"FOLLICLE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr
