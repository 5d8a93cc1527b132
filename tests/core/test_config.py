"""app.yaml: validated at start, errors name the key, and the CLI exits non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_app_yaml_is_valid() -> None:
    settings = load_settings(Path(__file__).parents[2] / "app.yaml", env={})
    assert settings.language in ("en", "nl")


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={"WOLBOT_DATABASE_URL": "sqlite:///x.db"})
    assert settings.config_path is None and settings.database_url == "sqlite:///x.db"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("language: fr\n", "language: Input should be 'en' or 'nl' (got 'fr')"),
        (
            "workspaces:\n  'slack:T1':\n    timezone: Mars/Olympus\n",
            "workspaces.slack:T1.timezone: unknown time zone 'Mars/Olympus' (expected an IANA",
        ),
        ("narrations:\n  max_lenght: 10\n", "narrations.max_lenght: unknown key"),
        ("narrations:\n  max_length: 5\n", "narrations.max_length: Input should be greater than"),
        ("language: [en\n", "not valid YAML at line 2"),
        ("- just\n- a list\n", "expected a mapping of settings at the top level"),
    ],
)
def test_broken_app_yaml_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text), env={})
    assert expected in str(err.value)


def test_missing_file_named_by_env(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(env={"WOLBOT_CONFIG": str(tmp_path / "nope.yaml")})


def test_cli_config_check_exits_non_zero_on_a_broken_file(tmp_path: Path) -> None:
    path = write(tmp_path, "language: klingon\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "language: Input should be 'en' or 'nl'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_config_check_accepts_a_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, "language: nl\nworkspaces:\n  'console:local':\n    admins: [alice]\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "config", "check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
