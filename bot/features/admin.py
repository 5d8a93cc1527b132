"""`/wol config …` for admins: effective settings with their source, changes, resets,
communities, narration capture, roles and the change history. English and Dutch verbs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.authorisation import Verdict, owner
from bot.commands import Subcommand
from bot.errors import UserError
from bot.events import EventKind, InboundEvent
from bot.features import glossary_admin, group_conversations, role_admin
from bot.features.commands import UNKNOWN as UNKNOWN_COMMAND
from bot.features.commands import example
from bot.features.me import OFF_TEXT, ON_TEXT
from bot.features.references import ChannelRef, resolve_channel, split_channel
from bot.i18n import N_, CommandExample
from bot.messages import Context as ContextBlock
from bot.messages import Form, OutboundMessage, Section, Strong, TextInput, fill
from bot.roles import ADMIN_ONLY
from bot.router import Router, action
from bot.setting_registry import OPTIONS, SOURCE_YAML_CHANNEL, Resolved, choice_word, option

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

VERBS: dict[str, tuple[str, ...]] = {
    "show": ("show", "toon"),
    "set": ("set", "zet"),
    "reset": ("reset", "herstel"),
    "history": ("history", "geschiedenis"),
    # Dutch says "community" too; "gemeenschap" (the Dutch word until the texts settled on
    # community) is still accepted, never shown.
    "community": ("community", "gemeenschap"),
    "capture": ("capture", "vastleggen"),
    "roles": ("roles", "role", "rollen", "rol"),
    "glossary": ("glossary", "woordenlijst"),
    "help": ("help", "hulp"),
}
COMMUNITY_VERBS = {
    "add": ("add", "toevoegen"),
    "remove": ("remove", "verwijder", "verwijderen"),
    "list": ("list", "lijst"),
    "edit": ("edit", "bewerk", "bewerken"),
}
COMMUNITY_KEYS = (
    "community.kind",
    "community.theme",
    "language",
    "community.rhythm",
    "timezone",
    "community.anonymous",
)
FORM_ID = "config.community"

HELP_TITLE = N_("Configure wolbot (admins only). Each change is logged in the history.")
HELP_LINES = (
    (N_("show [#channel]"), N_("every effective setting and where it comes from")),
    (N_("set <key> <value> [#channel]"), N_("change a setting, e.g. {example}")),
    (N_("reset <key> [#channel]"), N_("back to app.yaml or the built-in default")),
    (
        N_("community add #channel [narration|dialogue|durf-te-vragen]"),
        N_(
            "make a channel a community; also: community list, community remove #channel, "
            "community edit #channel"
        ),
    ),
    (N_("capture on|off [#channel]"), N_("record narrations in a channel, or not")),
    (N_("roles grant|revoke @person admin|manager"), N_("give or take a role; roles list")),
    (
        N_("glossary add <term> = <meaning>"),
        N_(
            "teach matching a word of your own (jargon, a project name); also: glossary, "
            "glossary remove <term>"
        ),
    ),
    (N_("history"), N_("who changed what, and when")),
)
SHOW_TITLE = N_("Settings for {where}:")
WHOLE_WORKSPACE = N_("the whole workspace")
CHANGED = N_("{key} is now {new} (was {old}){where}.")
UNCHANGED = N_("{key} is already {new}{where}.")
RESET_DONE = N_("{key} is back to {new} (was {old}){where}.")
IN_CHANNEL = N_(" in {channel}")
NO_HISTORY = N_("No configuration changes yet.")
HISTORY_TITLE = N_("Latest changes:")
HISTORY_LINE = N_("{when} — {who}: {what} {old} → {new}")
COMMUNITY_ADDED = N_("{channel} is now a {kind} community. Adjust it with {example}.")
COMMUNITY_REMOVED = N_("{channel} is no longer a community.")
NOT_A_COMMUNITY = N_(
    "{channel} is not a community, so nothing changed. See them all with {example}."
)
COMMUNITY_IN_YAML = N_(
    "{channel} is a community in app.yaml: remove it there ({key}). Nothing changed."
)
COMMUNITY_NONE = N_("There are no communities yet. Add one with {example}.")
COMMUNITY_LIST = N_("Communities:")
NEED_CHANNEL = N_("Which channel? For example: {example}")
NEED_KEY_VALUE = N_("Say which setting and what value, for example: {example}")
FORM_TITLE = N_("Community settings")
FORM_SAVE = N_("Save")
FORM_SAVED = N_("Saved the settings of {channel}.")
EMPTY = N_("(none)")


def register(services: Services, router: Router) -> None:
    router.commands.register(
        Subcommand(
            names={"en": ("config",), "nl": ("instellingen", "config")},
            handler=on_config,
            summary=N_("Configure wolbot: settings, communities, roles (admins)"),
            usage=N_("<show|set|reset|community|capture|roles|glossary|history>"),
            order=90,
            admin_only=True,
        )
    )
    router.add(action(FORM_ID), on_form_submit, name="admin.form", who=owner("an admin", _admin))


def _verb(word: str, table: dict[str, tuple[str, ...]]) -> str | None:
    return next((verb for verb, names in table.items() if word.lower() in names), None)


async def on_config(event: InboundEvent, ctx: Context, args: str) -> None:
    words = args.split()
    verb = _verb(words[0], VERBS) if words else "help"
    rest = words[1:]
    if verb in (None, "help"):
        shown = help_message(ctx)
        if verb is None:  # a mistyped verb is named, so the overview is not taken for an answer
            typed = Strong(text=f"{example(ctx.t, EX_CONFIG).text} {words[0]}")
            shown = OutboundMessage(
                blocks=(
                    Section(parts=fill(ctx.t.gettext(UNKNOWN_COMMAND), command=typed)),
                    *shown.blocks,
                )
            )
        await ctx.respond(shown)
    elif verb == "show":
        await show(event, ctx, rest)
    elif verb == "set":
        await set_setting(event, ctx, rest)
    elif verb == "reset":
        await reset_setting(event, ctx, rest)
    elif verb == "history":
        await history(event, ctx)
    elif verb == "community":
        await community(event, ctx, rest)
    elif verb == "capture":
        if rest and not rest[0].startswith(("#", "<#")):
            value, rest = rest[0], rest[1:]
        else:  # "capture" or "capture #channel": on, in the channel named, if one is
            value = "on"
        await set_setting(event, ctx, ["narrations.capture", value, *rest])
    elif verb == "roles":
        await role_admin.on_roles(event, ctx, rest)
    elif verb == "glossary":
        await glossary_admin.on_glossary(
            event, ctx, args.split(maxsplit=1)[1] if len(words) > 1 else ""
        )


# Command examples in each language's words (bot.features.commands.example).
EX_CONFIG = N_("/wol config")
EX_SET_LANGUAGE = N_("/wol config set language nl #team")
EX_SET = N_("/wol config set nudges.ack_hours 6")
EX_RESET = N_("/wol config reset language")
EX_COMMUNITY_ADD = N_("/wol config community add #team")
EX_COMMUNITY_ADD_KIND = N_("/wol config community add #team narration")
EX_COMMUNITY_EDIT = N_("/wol config community edit {channel}")
EX_COMMUNITY_LIST = N_("/wol config community list")


def help_message(ctx: Context) -> OutboundMessage:
    t = ctx.t.gettext
    blocks: list[Section | ContextBlock] = [Section(parts=(t(HELP_TITLE),))]
    for usage, summary in HELP_LINES:
        name = example(ctx.t, EX_CONFIG).text
        blocks.append(
            Section(
                parts=(
                    Strong(text=f"{name} {t(usage)}"),
                    " — ",
                    *fill(t(summary), example=example(ctx.t, EX_SET_LANGUAGE)),
                )
            )
        )
    keys = ", ".join(o.key for o in OPTIONS)
    blocks.append(ContextBlock(parts=(keys,)))
    return OutboundMessage(blocks=tuple(blocks))


async def _channel(
    event: InboundEvent, ctx: Context, words: list[str]
) -> tuple[ChannelRef | None, list[str]]:
    ref, rest = split_channel(words)
    if ref is not None:
        ref = await resolve_channel(ref, event.workspace_id, ctx.directory)
    return ref, rest


def format_value(ctx: Context, value: Any) -> str:
    if value is None:
        return ctx.t.gettext(EMPTY)
    if isinstance(value, bool):  # in the admin's words: "aan" / "uit" in Dutch, as typed
        return ctx.t.gettext(ON_TEXT if value else OFF_TEXT)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _where(ctx: Context, ref: ChannelRef | None) -> str:
    if ref is None:
        return ""
    return ctx.t.gettext(IN_CHANNEL).replace("{channel}", f"#{ref.name or ref.id}")


async def show(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    ref, _ = await _channel(event, ctx, words)
    resolved = await ctx.config.all(
        event.workspace_id, ref.id if ref else None, ref.name if ref else None
    )
    where = f"#{ref.name or ref.id}" if ref else ctx.t.gettext(WHOLE_WORKSPACE)
    blocks: list[Section | ContextBlock] = [
        Section(parts=fill(ctx.t.gettext(SHOW_TITLE), where=Strong(text=where)))
    ]
    blocks.extend(_setting_line(ctx, r) for r in resolved)
    if ref is None:  # how introductions reach people here (a platform may fall back)
        intro = await group_conversations.line(ctx, event.platform, event.workspace_id)
        if intro is not None:
            blocks.append(intro)
    await ctx.respond(OutboundMessage(blocks=tuple(blocks)))


def _setting_line(ctx: Context, r: Resolved) -> Section:
    return Section(
        parts=(
            Strong(text=r.option.key),
            f" = {format_value(ctx, r.value)}  ",
            f"({ctx.t.gettext(r.source)}) — {ctx.t.gettext(r.option.summary)}",
        )
    )


async def set_setting(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    ref, rest = await _channel(event, ctx, words)
    if len(rest) < 2:
        raise UserError(NEED_KEY_VALUE, example=CommandExample.of(EX_SET))
    opt = option(rest[0])
    value = opt.parse(" ".join(rest[1:]))
    old, new = await ctx.config.set(
        event.workspace_id,
        opt.key,
        value,
        channel_id=ref.id if ref else None,
        actor_id=event.user.user_id,
        now=ctx.now,
    )
    if old == new:
        await ctx.respond(
            ctx.text(
                UNCHANGED,
                key=Strong(text=opt.key),
                new=format_value(ctx, new),
                where=_where(ctx, ref),
            )
        )
        return
    await ctx.respond(
        ctx.text(
            CHANGED,
            key=Strong(text=opt.key),
            new=format_value(ctx, new),
            old=format_value(ctx, old),
            where=_where(ctx, ref),
        )
    )


async def reset_setting(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    ref, rest = await _channel(event, ctx, words)
    if not rest:
        raise UserError(NEED_KEY_VALUE, example=CommandExample.of(EX_RESET))
    opt = option(rest[0])
    old, new = await ctx.config.reset(
        event.workspace_id,
        opt.key,
        channel_id=ref.id if ref else None,
        actor_id=event.user.user_id,
        now=ctx.now,
    )
    await ctx.respond(
        ctx.text(
            RESET_DONE,
            key=Strong(text=opt.key),
            new=format_value(ctx, new),
            old=format_value(ctx, old),
            where=_where(ctx, ref),
        )
    )


async def history(event: InboundEvent, ctx: Context) -> None:
    entries = await ctx.audit.latest(event.workspace_id, limit=20)
    if not entries:
        await ctx.respond(ctx.text(NO_HISTORY))
        return
    from bot.messages import Mention

    blocks: list[Section] = [Section(parts=(Strong(text=ctx.t.gettext(HISTORY_TITLE)),))]
    for e in entries:
        when = e.at.strftime("%Y-%m-%d %H:%M UTC")
        blocks.append(
            Section(
                parts=fill(
                    ctx.t.gettext(HISTORY_LINE),
                    when=when,
                    who=Mention(user_id=e.actor_id),
                    what=Strong(text=f"{e.action} {e.target}"),
                    old=format_value(ctx, e.old),
                    new=format_value(ctx, e.new),
                )
            )
        )
    await ctx.respond(OutboundMessage(blocks=tuple(blocks)))


async def community(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    verb = _verb(words[0], COMMUNITY_VERBS) if words else "list"
    ref, rest = await _channel(event, ctx, words[1:])
    if verb in (None, "list"):
        await _list_communities(event, ctx)
        return
    if ref is None:
        raise UserError(NEED_CHANNEL, example=CommandExample.of(EX_COMMUNITY_ADD_KIND))
    config = ctx.config
    if verb == "add":
        kind = option("community.kind").parse(rest[0]) if rest else "narration"
        await config.set(
            event.workspace_id,
            "community.kind",
            kind,
            channel_id=ref.id,
            actor_id=event.user.user_id,
            now=ctx.now,
        )
        await ctx.respond(
            ctx.text(
                COMMUNITY_ADDED,
                channel=f"#{ref.name or ref.id}",
                kind=Strong(text=choice_word(kind, ctx.t.lang)),
                example=example(ctx.t, EX_COMMUNITY_EDIT, channel=f"#{ref.name or ref.id}"),
            )
        )
    elif verb == "remove":
        await _remove_community(event, ctx, ref)
    elif verb == "edit":
        await ctx.open_form(await community_form(ctx, event.workspace_id, ref))


async def _remove_community(event: InboundEvent, ctx: Context, ref: ChannelRef) -> None:
    """Only a community an admin made can be removed here; nothing else is changed or audited."""
    channel = f"#{ref.name or ref.id}"
    current = await ctx.config.get(event.workspace_id, "community.kind", ref.id, ref.name)
    if current.value is None:
        await ctx.respond(
            ctx.text(NOT_A_COMMUNITY, channel=channel, example=example(ctx.t, EX_COMMUNITY_LIST))
        )
        return
    if current.source == SOURCE_YAML_CHANNEL:
        key = f"workspaces.{event.workspace_id}.channels.{ref.name or ref.id}.kind"
        await ctx.respond(ctx.text(COMMUNITY_IN_YAML, channel=channel, key=Strong(text=key)))
        return
    await ctx.config.reset(
        event.workspace_id,
        "community.kind",
        channel_id=ref.id,
        actor_id=event.user.user_id,
        now=ctx.now,
    )
    await ctx.respond(ctx.text(COMMUNITY_REMOVED, channel=channel))


async def _list_communities(event: InboundEvent, ctx: Context) -> None:
    kinds = await ctx.config.channels_with(event.workspace_id, "community.kind")
    if not kinds:
        await ctx.respond(ctx.text(COMMUNITY_NONE, example=example(ctx.t, EX_COMMUNITY_ADD)))
        return
    blocks: list[Section] = [Section(parts=(Strong(text=ctx.t.gettext(COMMUNITY_LIST)),))]
    for channel_id, kind in sorted(kinds.items()):
        settings = ctx.config
        theme = await settings.value(event.workspace_id, "community.theme", channel_id)
        rhythm = await settings.value(event.workspace_id, "community.rhythm", channel_id)
        lang = await settings.value(event.workspace_id, "language", channel_id)
        extra = " · ".join(str(x) for x in (theme, rhythm, lang) if x)
        kind_word = choice_word(str(kind), ctx.t.lang)
        blocks.append(Section(parts=(Strong(text=f"#{channel_id}"), f" — {kind_word}  {extra}")))
    await ctx.respond(OutboundMessage(blocks=tuple(blocks)))


async def community_form(ctx: Context, workspace_id: str, ref: ChannelRef) -> Form:
    fields = []
    for key in COMMUNITY_KEYS:
        current = await ctx.config.value(workspace_id, key, ref.id, ref.name)
        opt = option(key)
        fields.append(
            TextInput(
                field_id=key,
                label=f"{key} — {ctx.t.gettext(opt.summary)}",
                initial=format_value(ctx, current) if current is not None else "",
                optional=True,
                max_length=300,
            )
        )
    return Form(
        form_id=FORM_ID,
        title=ctx.t.gettext(FORM_TITLE)[:24],
        submit_label=ctx.t.gettext(FORM_SAVE),
        fields=tuple(fields),
        private_metadata=ref.id,
    )


async def _admin(event: InboundEvent, ctx: Context) -> Verdict:
    """Community forms are for admins (bot/authorisation.py asks before the handler)."""
    return True if ctx.is_admin else ctx.text(ADMIN_ONLY, command=example(ctx.t, EX_CONFIG))


async def on_form_submit(event: InboundEvent, ctx: Context) -> None:
    """The community form: every field validated; errors go back into the form, field by field."""
    if event.kind is not EventKind.FORM_SUBMIT or event.action is None:
        return
    channel_id = event.action.value or ""
    parsed: dict[str, Any] = {}
    for key, raw in event.action.values.items():
        if key not in COMMUNITY_KEYS or not raw.strip() or raw.strip() == ctx.t.gettext(EMPTY):
            continue
        try:
            parsed[key] = option(key).parse(raw)
        except UserError as err:
            ctx.form_errors[key] = "".join(
                p if isinstance(p, str) else getattr(p, "text", "") for p in err.parts(ctx.t)
            )
    if ctx.form_errors or not channel_id:
        return
    for key, value in parsed.items():
        current = await ctx.config.value(event.workspace_id, key, channel_id)
        if current != value:
            await ctx.config.set(
                event.workspace_id,
                key,
                value,
                channel_id=channel_id,
                actor_id=event.user.user_id,
                now=ctx.now,
            )
    await ctx.respond(ctx.text(FORM_SAVED, channel=f"#{channel_id}"))
