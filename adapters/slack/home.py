"""The App Home tab: published (views.publish) each time a person opens it.

Shows the person's recent narrations, quick actions, their language choice and what
privacy to expect; admins also see a summary of the configuration. Built from the
core's repositories and settings; the view is an ordinary `OutboundMessage` sent to
a destination whose hints say `surface: home`, so it goes through the outbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import or_
from sqlmodel import col, select

from bot.authorisation import ANYONE
from bot.clock import utc
from bot.events import EventKind, InboundEvent
from bot.features import help as help_feature
from bot.features.share_work import narrate_button
from bot.features.who import FORM_TITLE as WHO_KNOWS
from bot.features.who import WHO_BUTTON
from bot.i18n import N_
from bot.messages import (
    Actions,
    Button,
    Context,
    Divider,
    Mention,
    Option,
    OutboundMessage,
    Section,
    Select,
    Strong,
    fill,
)
from bot.router import Router
from bot.store.tables.matching import Connection
from bot.text import shorten

from .inbound import PLATFORM

if TYPE_CHECKING:
    from bot.context import Context as HandlerContext

LANGUAGE_SELECT = "wol_home_language"
HELP_BUTTON = "wol_home_help"
RECENT = 5

HEADER = N_("Working out loud")
WELCOME = N_(
    "Share what you are working on, and I'll help colleagues who work on the same thing find you."
)
RECENT_TITLE = N_("What you shared recently")
NOTHING_YET = N_(
    "You haven't shared what you are working on yet. Start a message with {phrase} in a "
    "channel I'm in, tell me in a direct message, or use the button below."
)
ALL_COMMANDS = N_("All commands")
LANGUAGE_TITLE = N_("Language")
LANGUAGE_NOW = N_("I talk to you in {language}.")
LANGUAGE_PICK = N_("Choose a language")
AUTOMATIC = N_("Automatic (workspace and channel)")
CONNECTIONS_TITLE = N_("Your connections")
CONNECTED_WITH = N_("Introduced to {person} on {date}")
NO_CONNECTIONS = N_(
    "No introductions yet. When someone works on something close to what you share, I'll "
    "suggest that you meet."
)
PRIVACY_TITLE = N_("Privacy")
PRIVACY = N_(
    "A narration keeps the visibility of where you shared it: a public channel, a private "
    "channel or a direct message with me. Delete the message you narrated in, and I forget "
    "that narration."
)
ADMIN_TITLE = N_("Configuration (only admins see this)")
ADMIN_COUNT = N_("Narrations in this workspace: {count}")
ADMIN_SOURCE = N_("Configuration file: {source}")
ON = N_("on")
OFF = N_("off")
DEFAULTS = N_("none (built-in defaults)")
PUBLIC = N_("public channel")
PRIVATE = N_("private channel")
DIRECT = N_("direct message")
VISIBILITY = {"public": PUBLIC, "private": PRIVATE, "dm": DIRECT}
# Shown in the person's language ("Engels"); the choices in the menu use each language's
# own name, so people find theirs whatever language the page is in.
LANGUAGE_NAMES = {"en": N_("English"), "nl": N_("Dutch")}


def is_home(event: InboundEvent) -> bool | None:
    return True if event.kind is EventKind.HOME_OPENED and event.platform == PLATFORM else None


def is_home_action(action_id: str) -> Any:
    def match(event: InboundEvent) -> bool | None:
        if event.platform != PLATFORM or event.kind is not EventKind.ACTION:
            return None
        return True if event.action is not None and event.action.action_id == action_id else None

    return match


async def home_view(event: InboundEvent, ctx: HandlerContext) -> OutboundMessage:
    t = ctx.t.gettext
    blocks: list[Any] = [
        Section(parts=(Strong(text=t(HEADER)),)),
        Section(parts=(t(WELCOME),)),
        Actions(
            elements=(
                narrate_button(ctx.t),
                Button(label=t(WHO_KNOWS), action_id=WHO_BUTTON),
                Button(label=t(ALL_COMMANDS), action_id=HELP_BUTTON),
            )
        ),
        Divider(),
        Section(parts=(Strong(text=t(RECENT_TITLE)),)),
    ]
    mine = await ctx.narrations.recent(
        event.workspace_id, author_id=event.user.user_id, limit=RECENT
    )
    if mine:
        for narration in mine:
            when = narration.created_at.strftime("%Y-%m-%d")
            blocks.append(Section(parts=(f"• {shorten(narration.topic, 200)}",)))
            where = t(VISIBILITY.get(narration.visibility, PRIVATE))
            blocks.append(Context(parts=(f"{when} · {where}",)))
    else:
        phrase = Strong(text=t(help_feature.NARRATE_PHRASE))
        blocks.append(Section(parts=fill(t(NOTHING_YET), phrase=phrase)))
    blocks += [Divider(), Section(parts=(Strong(text=t(CONNECTIONS_TITLE)),))]
    connections = await _connections(event.workspace_id, event.user.user_id, ctx)
    if connections:
        for connection in connections:
            other = (
                connection.person_id
                if connection.narrator_id == event.user.user_id
                else connection.narrator_id
            )
            when = utc(connection.created_at).strftime("%Y-%m-%d")
            blocks.append(
                Section(parts=fill(t(CONNECTED_WITH), person=Mention(user_id=other), date=when))
            )
    else:
        blocks.append(Context(parts=(t(NO_CONNECTIONS),)))
    blocks += [
        Divider(),
        Section(parts=(Strong(text=t(LANGUAGE_TITLE)),)),
        Section(
            parts=fill(t(LANGUAGE_NOW), language=t(LANGUAGE_NAMES.get(ctx.t.lang, ctx.t.lang)))
        ),
        Actions(
            elements=(
                Select(
                    action_id=LANGUAGE_SELECT,
                    placeholder=t(LANGUAGE_PICK),
                    options=(
                        Option(label="English", value="en"),
                        Option(label="Nederlands", value="nl"),
                        Option(label=t(AUTOMATIC), value="auto"),
                    ),
                ),
            )
        ),
        Divider(),
        Section(parts=(Strong(text=t(PRIVACY_TITLE)),)),
        Context(parts=(t(PRIVACY),)),
    ]
    if ctx.is_admin:
        blocks += [Divider(), *await _admin_summary(event, ctx)]
    return OutboundMessage(blocks=tuple(blocks))


async def _connections(workspace_id: str, user_id: str, ctx: HandlerContext) -> list[Connection]:
    """The person's latest introductions (the core's matching feature records them)."""
    query = (
        select(Connection)
        .where(
            Connection.workspace_id == workspace_id,
            or_(col(Connection.narrator_id) == user_id, col(Connection.person_id) == user_id),
        )
        .order_by(col(Connection.created_at).desc())
        .limit(RECENT)
    )
    async with ctx.db.session() as s:
        return list(await s.exec(query))


async def _admin_summary(event: InboundEvent, ctx: HandlerContext) -> list[Any]:
    """The workspace's effective settings, each with where its value comes from."""
    t = ctx.t.gettext
    blocks: list[Any] = [Section(parts=(Strong(text=t(ADMIN_TITLE)),))]
    for resolved in await ctx.config.all(event.workspace_id):
        value = resolved.value
        if isinstance(value, bool):
            shown = t(ON) if value else t(OFF)
        elif value is None or value == "":
            shown = "—"
        else:
            shown = str(value)
        blocks.append(
            Context(
                parts=(
                    Strong(text=resolved.option.key),
                    f" {shown} · {t(resolved.option.summary)} ({t(resolved.source)})",
                )
            )
        )
    count = await ctx.narrations.count(event.workspace_id)
    blocks.append(Context(parts=fill(t(ADMIN_COUNT), count=count)))
    source = ctx.settings.config_path or t(DEFAULTS)
    blocks.append(Context(parts=fill(t(ADMIN_SOURCE), source=source)))
    return blocks


async def on_home_opened(event: InboundEvent, ctx: HandlerContext) -> None:
    await ctx.reply(await home_view(event, ctx))


async def on_language(event: InboundEvent, ctx: HandlerContext) -> None:
    choice = event.action.value if event.action else None
    if choice not in ("en", "nl", "auto"):
        return
    lang = None if choice == "auto" else choice
    await ctx.personal.update(event.workspace_id, event.user.user_id, ctx.now, language=lang)
    await ctx.choose_language_again()
    if event.reply_hints.get("surface") == "home":
        await ctx.reply(await home_view(event, ctx))


def register(router: Router) -> None:
    async def on_help(event: InboundEvent, ctx: HandlerContext) -> None:
        await ctx.respond(help_feature.help_message(ctx, router.commands))

    router.add(is_home, on_home_opened, name="slack.home")
    # the clicker's own home tab: their language, the help for them
    router.add(is_home_action(LANGUAGE_SELECT), on_language, name="slack.home_language", who=ANYONE)
    router.add(is_home_action(HELP_BUTTON), on_help, name="slack.home_help", who=ANYONE)
