"""`wolbot teams package`: the zip validates against the Teams manifest JSON schema (v1.29,
shipped in ./data: OfficeDev/microsoft-teams-app-schema, MIT) and holds proper icons."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from adapters.teams.cli import cli
from adapters.teams.package import (
    PackageOptions,
    build_localization,
    build_manifest,
    build_package,
    commands_of,
)
from bot.app import build
from tests.conftest import make_settings

DATA = Path(__file__).parent / "data"
BOT_ID = "eac5e5c6-ab14-4f50-80cb-49213fe51b1a"


def schema(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def validate(document: dict[str, Any], schema_name: str) -> None:
    jsonschema.Draft4Validator(
        schema(schema_name), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(document)


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Decode the (unfiltered, RGBA) PNGs the package writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", body[:10])
            assert (depth, color_type) == (8, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0
        pixels += [tuple(row[1 + x * 4 : 5 + x * 4]) for x in range(width)]
    return width, height, pixels  # type: ignore[return-value]


@pytest.fixture
def core(sqlite_url: str) -> Any:
    return build(make_settings(sqlite_url))


def test_manifest_matches_the_schema(core: Any) -> None:
    options = PackageOptions(bot_id=BOT_ID, domain="bot.example.org")
    manifest = build_manifest(options, commands_of(core), core.translator("en"))
    validate(manifest, "MicrosoftTeams.schema.v1.29.json")
    assert manifest["manifestVersion"] == "1.29"
    (bot,) = manifest["bots"]
    assert bot["botId"] == BOT_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert "help" in titles and "working on" in titles
    assert manifest["validDomains"] == ["bot.example.org"]
    assert manifest["id"] != BOT_ID
    # channel narrations without an @mention need resource-specific consent
    permissions = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in permissions
    assert manifest["webApplicationInfo"]["id"] == BOT_ID
    # added to a team by default; the message action "Share as working out loud"
    assert manifest["defaultInstallScope"] == "team"
    (extension,) = manifest["composeExtensions"]
    (share,) = extension["commands"]
    assert extension["botId"] == BOT_ID
    assert share == {
        "id": "wol_share_message",
        "type": "action",
        "context": ["message"],
        "fetchTask": True,
        "title": "Share as working out loud",
        "description": "Turn this message into what you are working on",
    }


def test_mention_only_manifest(core: Any) -> None:
    options = PackageOptions(bot_id=BOT_ID, domain="bot.example.org", all_messages=False)
    manifest = build_manifest(options, commands_of(core), core.translator("en"))
    validate(manifest, "MicrosoftTeams.schema.v1.29.json")
    assert "authorization" not in manifest
    # kept: Graph's "…Self…" permissions name the app through it (docs/teams.md 3a)
    assert manifest["webApplicationInfo"]["id"] == BOT_ID


def test_command_menu_keeps_help_and_leaves_admin_commands_out(core: Any) -> None:
    from bot.commands import Subcommand

    async def nothing(*_args: Any) -> None:
        return None

    for n in range(12):  # more commands than the menu can show
        core.commands.register(
            Subcommand(
                names={"en": (f"extra{n}",), "nl": (f"extra{n}",)},
                handler=nothing,
                summary="Extra",
                order=500 + n,
            )
        )
    core.commands.register(
        Subcommand(
            names={"en": ("secret",), "nl": ("geheim",)},
            handler=nothing,
            summary="Admins",
            order=1,
            admin_only=True,
        )
    )
    commands = commands_of(core)
    titles = [c.names["en"][0] for c in commands]
    assert len(commands) == 10
    assert titles[-1] == "help"
    assert "secret" not in titles


def test_schema_rejects_a_broken_manifest(core: Any) -> None:
    """The shipped schema really constrains: the test above could otherwise not fail."""
    options = PackageOptions(bot_id=BOT_ID, domain="bot.example.org")
    manifest = build_manifest(options, commands_of(core), core.translator("en"))
    manifest["bots"][0]["scopes"] = ["everywhere"]
    with pytest.raises(jsonschema.ValidationError):
        validate(manifest, "MicrosoftTeams.schema.v1.29.json")


def test_dutch_localisation_matches_its_schema(core: Any) -> None:
    options = PackageOptions(bot_id=BOT_ID, domain="bot.example.org")
    dutch = build_localization(options, commands_of(core), "nl", core.translator("nl"))
    validate(dutch, "MicrosoftTeams.Localization.schema.json")
    titles = [v for k, v in dutch.items() if k.endswith(".title")]
    assert "hulp" in titles and "bezig met" in titles
    assert dutch["composeExtensions[0].commands[0].title"] == "Delen als hardop werken"
    assert (
        dutch["description.short"]
        != build_localization(options, commands_of(core), "en", core.translator("en"))[
            "description.short"
        ]
    )


def test_invalid_options_are_refused(core: Any) -> None:
    for options in (
        PackageOptions(bot_id="not-a-guid", domain="bot.example.org"),
        PackageOptions(bot_id=BOT_ID, domain="https://bot.example.org/api"),
        PackageOptions(bot_id=BOT_ID, domain="bot.example.org", version="1.0"),
        PackageOptions(bot_id=BOT_ID, domain="bot.example.org", privacy_url="http://x.org"),
    ):
        with pytest.raises(ValueError):
            build_manifest(options, commands_of(core), core.translator("en"))


def test_package_zip(core: Any, tmp_path: Path) -> None:
    options = PackageOptions(bot_id=BOT_ID, domain="bot.example.org", accent="#2E7D6B")
    path = build_package(
        options,
        commands_of(core),
        {"en": core.translator("en"), "nl": core.translator("nl")},
        tmp_path / "app.zip",
    )
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "nl.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        validate(manifest, "MicrosoftTeams.schema.v1.29.json")
        validate(json.loads(zf.read("nl.json")), "MicrosoftTeams.Localization.schema.json")
        width, height, color = read_png(zf.read(manifest["icons"]["color"]))
        assert (width, height) == (192, 192)
        assert color[0] == (0x2E, 0x7D, 0x6B, 255)  # full-bleed accent colour
        assert (255, 255, 255, 255) in color  # and a white bubble
        width, height, outline = read_png(zf.read(manifest["icons"]["outline"]))
        assert (width, height) == (32, 32)
        # Teams: the outline icon is white on a transparent background
        assert all((r, g, b) == (255, 255, 255) for r, g, b, _a in outline)
        assert {a for *_rgb, a in outline} >= {0, 255}


def test_cli(tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("WOLBOT_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("WOLBOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "wolbot-teams.zip"
    assert cli(["package", "--bot-id", BOT_ID, "--domain", "bot.example.org"]) == 0
    assert out.exists()
    assert "wrote" in capsys.readouterr().out
    assert cli(["package", "--bot-id", BOT_ID, "--domain", "not a domain"]) == 2
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    assert cli(["package", "--domain", "bot.example.org"]) == 2


def test_docs_list_exactly_what_the_manifest_asks_for(core: Any, capsys) -> None:
    """Issue 17 item 2: docs/teams.md's permission table is the package's own source."""
    from adapters.teams.package import RSC_PERMISSIONS, SCOPES, permissions_markdown

    docs = (Path(__file__).resolve().parents[3] / "docs" / "teams.md").read_text()
    start = docs.index("\n", docs.index("<!-- permissions:start")) + 1
    section = docs[start : docs.index("<!-- permissions:end -->")]
    assert section == permissions_markdown(), "regenerate: wolbot teams permissions --markdown"
    assert cli(["permissions", "--markdown"]) == 0
    assert capsys.readouterr().out == permissions_markdown()
    manifest = build_manifest(
        PackageOptions(bot_id=BOT_ID, domain="bot.example.org"),
        commands_of(core),
        core.translator("en"),
    )
    asked = [p["name"] for p in manifest["authorization"]["permissions"]["resourceSpecific"]]
    assert asked == list(RSC_PERMISSIONS)
    for name in asked:
        assert f"RSC `{name}`" in section
    assert manifest["bots"][0]["scopes"] == SCOPES
    assert set(manifest) & {"webApplicationInfo"} and "`webApplicationInfo`" in section


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_command_descriptions_are_never_cut_mid_word(core: Any, lang: str) -> None:
    """The menu under the compose box shows each description whole: one whose usage would
    pass Teams' 128 characters keeps its summary alone rather than end in "…|intros|cou"."""
    options = PackageOptions(bot_id=BOT_ID, domain="bot.example.org")
    t = core.translator(lang)
    strings = build_localization(options, commands_of(core), lang, t)
    for command in commands_of(core):
        title = (command.names.get(lang) or command.names["en"])[0]
        (key,) = [
            k
            for k, v in strings.items()
            if k.endswith(".title") and v == title and k.startswith("bots[0]")
        ]
        description = strings[key.replace(".title", ".description")]
        assert len(description) <= 128
        summary = t.gettext(command.summary)
        assert description == summary or description == (
            f"{summary} ({title} {t.gettext(command.usage)})"
        ), description
