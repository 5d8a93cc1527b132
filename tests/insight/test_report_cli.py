"""`wolbot report --format csv|json` prints the same aggregates as `/wol stats`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.insight import record
from bot.store.engine import Database

WS = "console:local"


async def _seed(url: str) -> None:
    db = Database(url)
    try:
        now = datetime.now(UTC)
        for i in range(7):
            await record(
                db, WS, f"u{i}", "reaction" if i < 2 else "home", when=now, community="general"
            )
        await record(db, WS, "u0", "narration", when=now, community="general")
    finally:
        await db.dispose()


@pytest.fixture
def configured(sqlite_url, tmp_path, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    (tmp_path / "app.yaml").write_text(
        f"workspaces:\n  {WS}:\n    channels:\n      general:\n        kind: dialogue\n"
    )
    monkeypatch.setenv("WOLBOT_CONFIG", str(tmp_path / "app.yaml"))
    monkeypatch.setenv("WOLBOT_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("WOLBOT_SECRET_KEY", "test-secret-key-0123456789")
    asyncio.run(_seed(sqlite_url))
    return sqlite_url


def test_csv_and_json(configured, capsys) -> None:
    assert main(["report", "--format", "csv", "--workspace", WS]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    latest = [r for r in rows if r["section"] == "levels"][-4:]
    assert {r["measure"]: r["value"] for r in latest} == {
        "consume": "5",
        "contribute": "1",
        "create": "1",
        "total": "7",
    }
    assert (
        main(
            [
                "report",
                "--format",
                "json",
                "--workspace",
                WS,
                "--period",
                "month",
                "--community",
                "#general",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["period"] == "month" and data["scope"] == "general"
    assert data["periods"][-1]["levels"] == {"consume": 5, "contribute": 1, "create": 1}
    assert "u0" not in json.dumps(data)


def test_unknown_community(configured, capsys) -> None:
    assert main(["report", "--community", "nope", "--workspace", WS]) == 2
    assert "'nope' is not a community" in capsys.readouterr().err


def test_an_operator_prints_a_sign_in_link(configured, capsys) -> None:
    from bot.insight.access import digest

    assert main(["dashboard", "link", "--workspace", WS, "--user", "ada"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("http://127.0.0.1:8080/dashboard/login/")

    async def stored() -> list[str]:
        from sqlmodel import select

        from bot.store.tables.insight import DashboardToken

        db = Database(configured)
        try:
            async with db.session() as s:
                return [t.token_hash for t in await s.exec(select(DashboardToken))]
        finally:
            await db.dispose()

    assert asyncio.run(stored()) == [digest(link.rsplit("/", 1)[1])]
