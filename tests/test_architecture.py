"""The core stays platform-neutral: no chat SDK and no aiohttp anywhere under bot/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "aiohttp", "adapters",
             "microsoft_agents")


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_core_imports_no_chat_sdk_or_web_framework() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for name in imports_of(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_the_check_itself_catches_an_sdk_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from slack_sdk.web.async_client import AsyncWebClient\nimport aiohttp\n")
    assert [n.split(".")[0] for n in imports_of(sample)] == ["slack_sdk", "aiohttp"]


def test_sdk_imports_stay_in_their_own_adapter() -> None:
    owners = {"slack_bolt": "slack", "slack_sdk": "slack", "botbuilder": "teams",
              "botframework": "teams"}
    offenders = []
    for path in sorted((ROOT / "adapters").rglob("*.py")):
        folder = path.relative_to(ROOT / "adapters").parts[0]
        for name in imports_of(path):
            owner = owners.get(name.split(".")[0])
            if owner is not None and owner != folder:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_onnxruntime_is_imported_only_with_its_telemetry_off() -> None:
    """onnxruntime phones home unless ORT_DISABLE_TELEMETRY is set before it loads: only
    bot/features/matching/onnx_runtime.py may import it (it sets the variable first)."""
    allowed = ROOT / "bot" / "features" / "matching" / "onnx_runtime.py"
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for folder in ("bot", "adapters", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != allowed
        for name in imports_of(path)
        if name.split(".")[0] == "onnxruntime"
    ]
    assert offenders == []


ORM = ("sqlmodel", "sqlalchemy")


def orm_imports(folders: list[Path], root: Path = ROOT) -> list[str]:
    """`module imports name` for every sqlmodel/sqlalchemy import (at any depth, also inside
    functions) of the modules under `folders`."""
    return [
        f"{path.relative_to(root).as_posix()} imports {name}"
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
        for name in imports_of(path)
        if name.split(".")[0] in ORM
    ]


def test_features_and_insight_leave_storage_to_repositories() -> None:
    """Features and insight hold decisions and messages; queries live in bot/store/."""
    assert orm_imports([ROOT / "bot" / "features", ROOT / "bot" / "insight"]) == []


def test_the_orm_check_itself_catches_every_form_of_import(tmp_path: Path) -> None:
    feature = tmp_path / "features" / "sample.py"
    feature.parent.mkdir()
    feature.write_text(
        "from sqlmodel import select\n"
        "import sqlalchemy.exc\n"
        "async def later():\n"
        "    from sqlalchemy import delete\n"
        "from bot.store.rounds import RoundRepo\n"
    )
    assert orm_imports([tmp_path], root=tmp_path) == [
        "features/sample.py imports sqlmodel",
        "features/sample.py imports sqlalchemy.exc",
        "features/sample.py imports sqlalchemy",
    ]
