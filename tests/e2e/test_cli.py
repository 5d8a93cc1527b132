"""The real `wolbot` command: the console on the default SQLite file, and `wolbot serve`."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ACCEPTANCE = (
    "@alice\nI am working on the onboarding checklist for new nurses\n"
    "@bob\nIk ben bezig met de AVG-verzoeken\n/wol help\n"
)


def wolbot(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("WOLBOT_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )


def narrations(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        query = "SELECT author_id, language, topic FROM narration ORDER BY id"
        return conn.execute(query).fetchall()


def test_console_acceptance_script_twice(tmp_path: Path) -> None:
    first = wolbot("chat", cwd=tmp_path, stdin=ACCEPTANCE)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("reacted 📝") == 2
    # bob last wrote Dutch and chose no language: his help is in Dutch (issue 16's rule)
    assert "/wol bezig met <waar je mee bezig bent>" in first.stdout
    assert "/wol working on" not in first.stdout
    assert narrations(tmp_path / "wolbot.db") == [
        ("alice", "en", "the onboarding checklist for new nurses"),
        ("bob", "nl", "de AVG-verzoeken"),
    ]
    second = wolbot("chat", cwd=tmp_path, stdin=ACCEPTANCE)
    assert second.returncode == 0, second.stderr
    assert "Commando's:" in second.stdout
    assert len(narrations(tmp_path / "wolbot.db")) == 4


def test_console_survives_hostile_lines(tmp_path: Path) -> None:
    script = (
        "\n".join(
            [
                "@mallory",
                "I'm working on " + "x" * 50_000,
                "\x00\x01\x02\x1b[2J",
                "/wol does-not-exist",
                "/other command",
                "@ #",
                "!9",
                "> reply to nothing",
                "I'm working on <!channel> please",
            ]
        )
        + "\n"
    )
    result = wolbot("chat", cwd=tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    assert "I can keep at most 4000" in result.stdout
    assert "I don't know the command /wol does-not-exist." in result.stdout
    assert "I don't know the command /other." in result.stdout
    assert "Traceback" not in result.stderr
    assert narrations(tmp_path / "wolbot.db") == [("mallory", "en", "<!channel> please")]


def test_broken_config_stops_chat_with_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("console:\n  user: 42\n  chanel: x\n")
    result = wolbot("chat", cwd=tmp_path)
    assert result.returncode == 2
    assert "console.user: Input should be a valid string" in result.stderr
    assert "console.chanel: unknown key" in result.stderr


def test_db_upgrade_and_status(tmp_path: Path) -> None:
    up = wolbot("db", "upgrade", cwd=tmp_path)
    assert up.returncode == 0 and "up to date" in up.stdout, up.stderr
    status = wolbot("db", "status", cwd=tmp_path)
    assert "up to date" in status.stdout


def test_serve_reports_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_", "MICROSOFT_"))
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "--log-level",
            "INFO",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 60
        assert proc.stderr is not None
        while port is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            m = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
        assert port, "wolbot serve did not start"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as resp:
            body = json.load(resp)
            assert resp.status == 200
        assert body["status"] == "ok" and body["version"]
        assert body["database"] == {"ok": True, "dialect": "sqlite", "migrated": True}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


COMMUNITY_YAML = """
workspaces:
  "console:local":
    admins: [me]
    channels:
      general:
        kind: dialogue
        rhythm: "0 10 * * tue"
        timezone: Europe/Amsterdam
        language: nl
"""


def test_run_due_posts_a_round_once_in_the_console(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(COMMUNITY_YAML)
    wolbot("chat", cwd=tmp_path, stdin="hallo\n")  # the console workspace exists after a chat
    first = wolbot("run-due", "--at", "2026-11-24T10:02:00+01:00", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "[#general] wolbot:" in first.stdout and "Vraag voor deze ronde" in first.stdout
    assert "ran round:console:local:general for 2026-11-24T09:00:00+00:00" in first.stdout
    again = wolbot("run-due", "--at", "2026-11-24T10:03:00+01:00", cwd=tmp_path)
    assert "Vraag voor deze ronde" not in again.stdout  # claimed: posted once
    answer = wolbot("chat", cwd=tmp_path, stdin="/wol ronde status\n")
    # the chat runs on today's clock, so its scheduler may close that round before the
    # status is asked (or not, when the script ends first): either way gen-001 was used once
    assert "volgende vraag gen-002" in answer.stdout
