"""One validation at start (issue 18): `config check`, `chat` and `serve` agree, through the
real command line, on app.yaml and on the environment; every problem at once, exit 2, no
traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.preflight import adapter_statuses

BROKEN = """\
workspaces:
  "console:local":
    country: XX
    checkins:
      days: funday
      time: "25:99"
    channels:
      general:
        kind: dialogue
        rhythm: "every tuesday"
        question_set: no-such-set
"""
EXPECTED = (
    "workspaces.console:local.channels.general.rhythm: not a cron schedule 'every tuesday' "
    "(expected a cron schedule",
    "workspaces.console:local.checkins.time: not a time of day '25:99' (expected",
    "workspaces.console:local.checkins.days: not a list of weekdays 'funday' (expected",
    "workspaces.console:local.country: unknown country code 'XX' (expected",
    "workspaces.console:local.channels.general.question_set: unknown question set "
    "'no-such-set' (expected one of the sets in the prompts directory: collaboration,",
)
PG = "postgresql://postgres@127.0.0.1:5432/test"


def wolbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full = {
        k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_", "MICROSOFT_"))
    }
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        text=True,
        input="",
        capture_output=True,
        cwd=cwd,
        env=full,
        timeout=timeout,
    )


def problem_lines(stderr: str) -> list[str]:
    return [line.strip() for line in stderr.splitlines() if line.startswith("  ")]


def test_config_check_chat_and_serve_refuse_with_the_same_lines(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(BROKEN)
    results = {
        cmd: wolbot(*cmd.split(), cwd=tmp_path)
        for cmd in ("config check", "chat", "serve --port 0")
    }
    for cmd, result in results.items():
        assert result.returncode == 2, (cmd, result.stderr)
        assert "Traceback" not in result.stderr, cmd
        for expected in EXPECTED:
            assert expected in result.stderr, (cmd, expected, result.stderr)
    lines = {cmd: problem_lines(r.stderr) for cmd, r in results.items()}
    assert lines["config check"] == lines["chat"] == lines["serve --port 0"]
    assert len(lines["chat"]) == len(EXPECTED)
    assert not (tmp_path / "wolbot.db").exists()  # refused before anything was opened


def test_a_good_file_is_normalised_like_wol_config_set(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        'workspaces:\n  "console:local":\n    country: be\n    checkins:\n'
        '      days: "Thursday, mon"\n      time: "9.30"\n    channels:\n'
        '      general:\n        rhythm: "0 10 * * TUE"\n'
        "        question_set: learning\n"
    )
    ws = load_settings(path, env={}).workspace("console:local")
    assert (ws.country, ws.checkins.days, ws.checkins.time) == ("BE", "mon,thu", "09:30")
    assert (ws.channels["general"].rhythm, ws.channels["general"].question_set) == (
        "0 10 * * tue",
        "learning",
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WOLBOT_PORT": "abc"}, "WOLBOT_PORT: not a port number 'abc' (expected an integer"),
        (
            {"WOLBOT_LOG_LEVEL": "verbose"},
            "WOLBOT_LOG_LEVEL: unknown log level 'verbose' (expected",
        ),
        ({"WOLBOT_LOG_FORMAT": "xml"}, "WOLBOT_LOG_FORMAT: unknown log format 'xml' (expected"),
        ({"WOLBOT_SECRET_KEY": "short"}, "WOLBOT_SECRET_KEY: too short (5 characters) (expected"),
        ({"WOLBOT_DATABASE_URL": "mysql://x@y/z"}, "WOLBOT_DATABASE_URL: unsupported database"),
        ({"WOLBOT_DATABASE_URL": PG}, "WOLBOT_SECRET_KEY: missing (expected"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET: missing while SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN: missing while SLACK_APP_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN: missing while SLACK_SIGNING_SECRET"),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"},
            "SLACK_CLIENT_SECRET: missing while SLACK_CLIENT_ID",
        ),
        ({"MICROSOFT_APP_ID": "abc"}, "MICROSOFT_APP_PASSWORD: missing while MICROSOFT_APP_ID"),
        ({"MICROSOFT_APP_PASSWORD": "p"}, "MICROSOFT_APP_ID: missing while MICROSOFT_APP_PASSWORD"),
        (
            {
                "MICROSOFT_APP_ID": "a",
                "MICROSOFT_APP_PASSWORD": "p",
                "MICROSOFT_APP_TYPE": "SingleTenant",
            },
            "MICROSOFT_APP_TENANT_ID: missing while",
        ),
    ],
)
def test_environment_problems(env: dict[str, str], expected: str) -> None:
    """What the command line reports (below): the core's variables from load_settings, the
    adapters' from their status(env)."""
    found = [p for s in adapter_statuses(env) for p in s.problems]
    try:
        load_settings(env=env)
    except ConfigError as exc:
        found += exc.problems
    assert any(p.startswith(expected) for p in found), found


def test_serve_with_a_bot_token_and_no_signing_secret_refuses(tmp_path: Path) -> None:
    for cmd in (("config", "check"), ("serve", "--port", "0")):
        result = wolbot(*cmd, cwd=tmp_path, env={"SLACK_BOT_TOKEN": "xoxb-1"})
        assert result.returncode == 2, (cmd, result.stdout, result.stderr)
        assert "SLACK_SIGNING_SECRET: missing while SLACK_BOT_TOKEN is set" in result.stderr
        assert "Traceback" not in result.stderr


def test_every_problem_at_once(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(BROKEN)
    result = wolbot(
        "config",
        "check",
        cwd=tmp_path,
        env={"WOLBOT_PORT": "abc", "WOLBOT_LOG_LEVEL": "verbose", "SLACK_BOT_TOKEN": "xoxb-1"},
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(problem_lines(result.stderr)) == len(EXPECTED) + 3
    assert "slack: incomplete, lacks or has a wrong SLACK_SIGNING_SECRET" in result.stdout


def test_config_check_lists_the_adapters(tmp_path: Path) -> None:
    result = wolbot(
        "config",
        "check",
        cwd=tmp_path,
        env={
            "SLACK_APP_TOKEN": "xapp-1",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "WOLBOT_PUBLIC_URL": "https://bot.example.org",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert "slack: on, Socket Mode" in result.stdout
    assert "teams: off (set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD" in result.stdout
    assert "dashboard: on, /dashboard (sign-in links to https://bot.example.org)" in result.stdout
    assert "xoxb-1" not in result.stdout + result.stderr  # no secret printed


def test_postgres_url_form_works(tmp_path: Path) -> None:
    """`postgres://` (Heroku, Render) is accepted and reaches the server."""
    result = wolbot(
        "db",
        "status",
        cwd=tmp_path,
        env={
            "WOLBOT_DATABASE_URL": PG.replace("postgresql://", "postgres://"),
            "WOLBOT_SECRET_KEY": "0123456789abcdef0123",
        },
    )
    if "database unavailable" in result.stderr and not os.environ.get("CI"):
        pytest.skip("no local PostgreSQL")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("postgresql://postgres@127.0.0.1:5432/test: ")


def test_unreachable_database_at_serve_is_one_line(tmp_path: Path) -> None:
    result = wolbot(
        "serve",
        "--port",
        "0",
        cwd=tmp_path,
        env={
            "WOLBOT_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/test",
            "WOLBOT_SECRET_KEY": "0123456789abcdef0123",
            "WOLBOT_DB_WAIT_SECONDS": "3",
        },
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    final = result.stderr.strip().splitlines()[-1]
    assert final.startswith("wolbot: database unavailable (postgresql://postgres@127.0.0.1:9/"), (
        result.stderr
    )
    assert "database not reachable yet" in result.stderr  # it waited and retried first


@pytest.mark.parametrize("command", ["slack", "teams", "dashboard"])
def test_adapter_help_works(tmp_path: Path, command: str) -> None:
    result = wolbot(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"usage: wolbot {command}" in result.stdout


def test_load_settings_collects_yaml_and_environment() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={"WOLBOT_CONFIG": "/nonexistent/app.yaml", "WOLBOT_PORT": "x"})
    assert err.value.problems[0].endswith("file not found")
    assert err.value.problems[1].startswith("WOLBOT_PORT:")


def test_every_option_of_every_command_is_explained() -> None:
    """`--help` of each (sub)command describes every option: help text for each argument,
    a description for each subcommand."""
    import argparse
    import importlib

    from bot.app import ADAPTERS
    from bot.cli import _parser

    parsers = [("wolbot", _parser())]
    parsers += [
        (f"wolbot {name}", importlib.import_module(f"{module}.cli")._parser())
        for name, module in ADAPTERS.items()
    ]
    seen = 0
    while parsers:
        name, parser = parsers.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    if f"{name} {sub}" in {f"wolbot {a}" for a in ADAPTERS}:
                        continue  # the adapter's own parser, checked above
                    assert subparser.description, f"{name} {sub}: no description"
                    parsers.append((f"{name} {sub}", subparser))
            elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                seen += 1
                assert action.help, f"{name} {action.option_strings or action.dest}: no help"
    assert seen > 30
