"""The core stays platform-neutral: no chat SDK and no aiohttp anywhere under bot/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = (
    "slack_bolt",
    "slack_sdk",
    "botbuilder",
    "botframework",
    "aiohttp",
    "adapters",
    "microsoft_agents",
)


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
    owners = {
        "slack_bolt": "slack",
        "slack_sdk": "slack",
        "botbuilder": "teams",
        "botframework": "teams",
    }
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
    bot/matching/onnx_runtime.py may import it (it sets the variable first)."""
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


# -- the import graph: the composition root on top, no circle through it ---------------------
def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path, package: str = "bot") -> dict[str, set[str]]:
    """module -> the modules of `package` it imports: at any depth, so also under
    `if TYPE_CHECKING:` and inside functions; relative imports resolved; `from pkg import mod`
    names the module `pkg.mod`."""
    paths = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in paths else base)
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components (iteratively: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def largest_circle(root: Path) -> set[str]:
    return max(strongly_connected(import_graph(root)), key=len)


def test_features_and_insight_never_import_the_composition_root() -> None:
    """Features receive services (bot/services.py); bot/app.py only wires them."""
    graph = import_graph(ROOT)
    offenders = sorted(
        f"{name} imports bot.app"
        for name, imported in graph.items()
        if name.startswith(("bot.features", "bot.insight")) and "bot.app" in imported
    )
    assert offenders == []


def test_the_import_circle_is_at_most_three_modules() -> None:
    """Type-only imports count: a circle of them still ties every module in it together."""
    circle = largest_circle(ROOT)
    assert len(circle) <= 3, sorted(circle)


def test_the_circle_check_itself_finds_a_type_only_circle(tmp_path: Path) -> None:
    package = tmp_path / "bot"
    (package / "features").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "features" / "__init__.py").write_text("")
    (package / "app.py").write_text("from bot.features import news\n")
    (package / "context.py").write_text("from . import services\n")
    (package / "services.py").write_text("def later():\n    from bot.features.news import x\n")
    (package / "features" / "news.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "from bot import context\n"
        "if TYPE_CHECKING:\n"
        "    from bot.app import Core\n"
    )
    assert largest_circle(tmp_path) == {
        "bot.app",
        "bot.features.news",
        "bot.context",
        "bot.services",
    }
    graph = import_graph(tmp_path)
    assert "bot.app" in graph["bot.features.news"]
    (package / "features" / "news.py").write_text("from bot import context\n")
    assert largest_circle(tmp_path) == {"bot.features.news", "bot.context", "bot.services"}
    (package / "services.py").write_text("")
    assert len(largest_circle(tmp_path)) == 1


def test_every_service_has_a_name_on_the_context() -> None:
    """A service added to `Services` is reachable as `ctx.<name>` (bot.services.ServiceAccess)."""
    from dataclasses import fields

    from bot.services import ServiceAccess, Services

    missing = [
        f.name
        for f in fields(Services)
        if not f.name.startswith("_") and not hasattr(ServiceAccess, f.name)
    ]
    assert missing == []
