"""The Teams app package: manifest.json (schema 1.29), nl/en strings, two icons, in a zip.

The command menu is generated from the core's registered `/wol` subcommands, so it
always offers what the bot actually understands, in English and (through the
manifest's localisation file) in Dutch.
"""

from __future__ import annotations

import json
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from adapters.teams.icons import color_icon, outline_icon
from bot.features.share_work import SHARE_SHORTCUT
from bot.i18n import N_

MANIFEST_VERSION = "1.29"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.Localization.schema.json"
SCOPES = ["personal", "team", "groupChat"]
# Resource-specific consent the app asks for (left out with --mention-only), each with why:
# the manifest and docs/teams.md (`wolbot teams permissions --markdown`) come from this table.
RSC_PERMISSIONS: dict[str, str] = {
    "ChannelMessage.Read.Group": "read the messages of the team channels the app is installed "
    "in without an @mention of the bot, so narrations, round "
    "answers and durf-te-vragen questions are noticed; a team "
    "owner consents when adding the app",
    "ChatMessage.Read.Chat": "the same in the group chats people added the app to (their "
    "members consent), and in an introduction's group chat, where "
    "wolbot consents when it adds itself (docs/teams.md section 3a)",
}
RSC_RESOURCE = "https://RscBasedStoreApp"
MAX_COMMANDS = 10  # localisation files can name commands[0] … commands[9]
MAX_DESCRIPTION = 128  # the manifest schema's maxLength of a command's description
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
# A fixed namespace: the same bot id always gets the same Teams app id.
APP_ID_NAMESPACE = uuid.UUID("5d0c6a3e-4f7b-4a53-9d0e-3c6f1b1e7a11")

SHORT_DESCRIPTION = N_("Work out loud: share what you work on, find who can help.")
FULL_DESCRIPTION = N_(
    "wolbot helps your organisation work out loud. Tell it what you are working on, in a "
    "channel or in a chat with the bot, and it connects you with colleagues who work on "
    "something similar or have done it before. It also runs dialogue questions in "
    "communities and helps people dare to ask."
)
WORKING_OUT_LOUD = N_("working out loud")
SHARE_TITLE = N_("Share as working out loud")
SHARE_DESCRIPTION = N_("Turn this message into what you are working on")
# Where the app goes when someone adds it: a team, where people narrate in channels.
DEFAULT_INSTALL_SCOPE = "team"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_DOMAIN = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Translate(Protocol):
    def gettext(self, msgid: str) -> str: ...


@dataclass(frozen=True)
class Command:
    """One entry of the command menu: a subcommand's name and summary per language."""

    names: dict[str, tuple[str, ...]]
    summary: str  # English msgid
    usage: str = ""  # English msgid


@dataclass(frozen=True)
class PackageOptions:
    bot_id: str
    domain: str
    version: str = "1.0.0"
    app_id: str | None = None
    name: str = "wolbot"
    developer: str = "wolbot"
    website_url: str | None = None
    privacy_url: str | None = None
    terms_url: str | None = None
    accent: str = "#2E7D6B"
    # Receive every message in the teams and group chats the app is installed in, not only
    # those that @mention it, so "I'm working on …" is noticed (resource-specific consent).
    all_messages: bool = True

    def check(self) -> None:
        problems = []
        if not _GUID.match(self.bot_id):
            problems.append(f"bot id {self.bot_id!r} is not a GUID (the Azure Bot's app id)")
        if self.app_id and not _GUID.match(self.app_id):
            problems.append(f"app id {self.app_id!r} is not a GUID")
        if not _SEMVER.match(self.version):
            problems.append(f"version {self.version!r} is not MAJOR.MINOR.PATCH")
        if not _DOMAIN.match(self.domain):
            problems.append(f"domain {self.domain!r} is not a host name such as bot.example.org")
        for label, url in (
            ("website", self.website_url),
            ("privacy", self.privacy_url),
            ("terms", self.terms_url),
        ):
            if url and not url.startswith("https://"):
                problems.append(f"{label} URL must start with https://")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def teams_app_id(self) -> str:
        return teams_app_id(self.app_id, self.bot_id)

    def url(self, given: str | None, path: str) -> str:
        return given or f"https://{self.domain.removeprefix('*.')}/{path}"


def teams_app_id(given: str | None, bot_id: str) -> str:
    """The app's id in its manifest: `--app-id`, else derived from the bot id (stable across
    builds); the tenant's app catalog knows the app by it (its `externalId`)."""
    return given or str(uuid.uuid5(APP_ID_NAMESPACE, bot_id.lower()))


def commands_of(core: Any) -> list[Command]:
    """The command menu: everyone's subcommands in the order the help lists them.

    Teams shows at most ten (localised) commands: admin-only ones are left out (admins
    find them in the help), and `help` always stays in.
    """
    subs = [
        s
        for s in core.commands.subcommands
        if not getattr(s, "hidden", False) and not getattr(s, "admin_only", False)
    ]
    subs.sort(key=lambda s: getattr(s, "order", 0))
    if len(subs) > MAX_COMMANDS:
        helps = [s for s in subs if "help" in s.names.get("en", ())]
        rest = [s for s in subs if s not in helps]
        subs = rest[: MAX_COMMANDS - len(helps[:1])] + helps[:1]
    return [Command(dict(s.names), s.summary, getattr(s, "usage", "") or "") for s in subs]


def _command_entries(commands: Iterable[Command], lang: str, t: Translate) -> list[dict[str, str]]:
    entries = []
    for command in list(commands)[:MAX_COMMANDS]:
        names = command.names.get(lang) or command.names.get("en") or ()
        if not names:
            continue
        title = names[0][:32]
        description = t.gettext(command.summary)
        with_usage = f"{description} ({title} {t.gettext(command.usage)})"
        if command.usage and len(with_usage) <= MAX_DESCRIPTION:
            description = with_usage  # else the summary alone, never cut mid-word
        entries.append({"title": title, "description": description[:MAX_DESCRIPTION]})
    return entries


def build_manifest(
    options: PackageOptions, commands: list[Command], english: Translate
) -> dict[str, Any]:
    options.check()
    entries = _command_entries(commands, "en", english)
    bot: dict[str, Any] = {
        "botId": options.bot_id,
        "scopes": SCOPES,
        "isNotificationOnly": False,
        "supportsFiles": True,  # file consent: privacy export, statistics chart
        "supportsCalling": False,
        "supportsVideo": False,
    }
    if entries:
        bot["commandLists"] = [{"scopes": SCOPES, "commands": entries}]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": options.version,
        "id": options.teams_app_id,
        "localizationInfo": {
            "defaultLanguageTag": "en-us",
            "additionalLanguages": [{"languageTag": "nl-nl", "file": "nl.json"}],
        },
        "developer": {
            "name": options.developer[:32],
            "websiteUrl": options.url(options.website_url, ""),
            "privacyUrl": options.url(options.privacy_url, "privacy"),
            "termsOfUseUrl": options.url(options.terms_url, "terms"),
        },
        "name": {
            "short": options.name[:30],
            "full": f"{options.name} — {english.gettext(WORKING_OUT_LOUD)}"[:100],
        },
        "description": {
            "short": english.gettext(SHORT_DESCRIPTION)[:80],
            "full": english.gettext(FULL_DESCRIPTION)[:4000],
        },
        "icons": {"outline": OUTLINE_ICON, "color": COLOR_ICON},
        "accentColor": options.accent,
        "bots": [bot],
        "defaultInstallScope": DEFAULT_INSTALL_SCOPE,
        # The message action "Share as working out loud" (Slack's message shortcut).
        "composeExtensions": [
            {
                "botId": options.bot_id,
                "commands": [
                    {
                        "id": SHARE_SHORTCUT,
                        "type": "action",
                        "context": ["message"],
                        "fetchTask": True,
                        "title": english.gettext(SHARE_TITLE)[:32],
                        "description": english.gettext(SHARE_DESCRIPTION)[:128],
                    }
                ],
            }
        ],
        "validDomains": [options.domain],
        # the app registration Graph's "…Self…" installation permissions refer to (3a)
        "webApplicationInfo": {"id": options.bot_id, "resource": RSC_RESOURCE},
        **(_all_messages() if options.all_messages else {}),
    }


def permissions_markdown() -> str:
    """The table of docs/teams.md: what the manifest asks Teams for, and why."""
    rows = [
        (
            "bot scopes",
            ", ".join(f"`{s}`" for s in SCOPES),
            "the personal chat with the bot (commands, check-ins, private answers), team "
            "channels (communities) and group chats people add it to",
        ),
        *((f"RSC `{name}`", "Application", why) for name, why in RSC_PERMISSIONS.items()),
        (
            "`webApplicationInfo`",
            f"`id`: the bot's Microsoft App ID, `resource`: `{RSC_RESOURCE}`",
            "Teams needs it to grant the resource-specific consent above, "
            "and Microsoft Graph to recognise the app that adds itself to an introduction's "
            "group chat (section 3a); by itself it gives no Graph or other API access and no "
            "single sign-on (also in a `--mention-only` package)",
        ),
        ("`validDomains`", "the domain of `wolbot serve` only", "nothing else is trusted"),
    ]
    lines = ["| manifest entry | value | why wolbot needs it |", "|---|---|---|"]
    lines += [f"| {entry} | {value} | {why} |" for entry, value, why in rows]
    return "\n".join(lines) + "\n"


def _all_messages() -> dict[str, Any]:
    """Resource-specific consent to read channel and group chat messages without a mention.

    A team owner (or the chat's members) consents when installing the app.
    """
    return {
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": name, "type": "Application"} for name in RSC_PERMISSIONS
                ]
            }
        },
    }


def build_localization(
    options: PackageOptions, commands: list[Command], lang: str, t: Translate
) -> dict[str, Any]:
    """A manifest localisation file: names, descriptions and command menu in `lang`."""
    strings: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA,
        "name.short": options.name[:30],
        "name.full": f"{options.name} — {t.gettext(WORKING_OUT_LOUD)}"[:100],
        "description.short": t.gettext(SHORT_DESCRIPTION)[:80],
        "description.full": t.gettext(FULL_DESCRIPTION)[:4000],
    }
    for i, entry in enumerate(_command_entries(commands, lang, t)):
        strings[f"bots[0].commandLists[0].commands[{i}].title"] = entry["title"]
        strings[f"bots[0].commandLists[0].commands[{i}].description"] = entry["description"]
    strings["composeExtensions[0].commands[0].title"] = t.gettext(SHARE_TITLE)[:32]
    strings["composeExtensions[0].commands[0].description"] = t.gettext(SHARE_DESCRIPTION)[:128]
    return strings


def build_package(
    options: PackageOptions,
    commands: list[Command],
    translators: dict[str, Translate],
    output: Path,
) -> Path:
    """Write the zip Teams admins upload (Teams admin centre or "Upload a custom app")."""
    manifest = build_manifest(options, commands, translators["en"])
    dutch = build_localization(options, commands, "nl", translators["nl"])
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        zf.writestr("nl.json", json.dumps(dutch, indent=2, ensure_ascii=False))
        zf.writestr(COLOR_ICON, color_icon(options.accent))
        zf.writestr(OUTLINE_ICON, outline_icon())
    return output
