"""`/wol me …`: a person's own language, check-ins, pause and consent."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.commands import Subcommand
from bot.errors import UserError
from bot.events import InboundEvent
from bot.features.commands import example
from bot.i18n import N_, normalise_language
from bot.insight import formats
from bot.messages import Context as ContextBlock
from bot.messages import OutboundMessage, Section, Strong, fill
from bot.router import Router
from bot.setting_values import parse_days, parse_time
from bot.validation import as_number

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

ON = {"on", "aan", "yes", "ja", "true", "1"}
OFF = {"off", "uit", "no", "nee", "false", "0"}
SWITCHES = {  # words -> PersonSettings field
    "matching": "suggest_me",
    "suggest": "suggest_me",
    "suggesties": "suggest_me",
    "share": "share_narrations",
    "delen": "share_narrations",
    "intros": "introductions",
    "introductions": "introductions",
    "introducties": "introductions",
    "kennismaking": "introductions",
    "checkins": "checkins",
    "checkin": "checkins",
    "check-ins": "checkins",
}
LABELS = {
    "suggest_me": N_("suggest me as someone who may know"),
    "share_narrations": N_("show my narrations to others in suggestions"),
    "introductions": N_("receive introductions"),
    "checkins": N_("weekly check-in"),
}
TITLE = N_("Your settings (only you see this):")
LINE = N_("{label}: {value}{source}")
DEFAULT_SOURCE = N_(" (workspace default)")
ON_TEXT, OFF_TEXT = N_("on"), N_("off")
LANGUAGE_LABEL = N_("language")
LANGUAGE_AUTO = N_("automatic")
CHECKIN_WHEN = N_("check-in days and time: {days} at {time} your time")
PAUSED = N_("paused until {date}")
HOW = N_("Change with e.g. {a}, {b}, {c}, {d}.")
SAVED = N_("Saved. {summary}")
PAUSE_DONE = N_("Paused until {date}: no check-ins, nudges or introductions until then.")
RESUMED = N_("Welcome back: check-ins, nudges and introductions are on again.")
BAD_PAUSE = N_("Pause for how many days? For example {example} (1 to 90).")
USAGE = N_("I didn't understand that. {how}")
COUNTRY_LABEL = N_("public holidays of")
COUNTRY_NONE = N_("no country")
# Command examples: each language's words (bot.features.commands.example).
EX_PAUSE_14 = N_("/wol me pause 14")
EX_COUNTRY = N_("/wol me country NL")
EX_COUNTRY_OFF = N_("/wol me country off")
EX_HOW = (
    N_("/wol me checkins off"),
    N_("/wol me checkins mon,thu 09:30"),
    N_("/wol me pause 7"),
    N_("/wol me matching off"),
)
BAD_COUNTRY = N_(
    "{value} is not a country whose public holidays I know. Use its two-letter "
    "code, for example {example}, or {off} to use the workspace's."
)


def register(services: Services, router: Router) -> None:
    router.commands.register(
        Subcommand(
            names={"en": ("me",), "nl": ("ik", "mij")},
            handler=on_me,
            summary=N_("Your own settings: language, check-ins, pause, what others may see"),
            usage=N_("[language|checkins|pause|resume|matching|share|intros|country …]"),
            order=70,
        )
    )


async def on_me(event: InboundEvent, ctx: Context, args: str) -> None:
    words = [w.lower() for w in args.split()]
    personal = ctx.personal
    ws, uid = event.workspace_id, event.user.user_id
    if not words:
        await ctx.respond(await summary(ctx, ws, uid))
        return
    head, rest = words[0], words[1:]
    changes: dict[str, Any] = {}
    if head in ("language", "taal") and rest:
        lang = normalise_language(rest[0]) if rest[0] not in ("auto", "standaard") else None
        if lang is None and rest[0] not in ("auto", "standaard"):
            raise UserError(USAGE, how=_how(ctx))
        changes["language"] = lang
    elif head in ("pause", "pauze") and rest and rest[0] in OFF | {"stop", "resume", "hervat"}:
        await _resume(ctx, ws, uid)
        return
    elif head in ("pause", "pauze"):
        days = (as_number(rest[0]) or 0) if rest else 0
        if not 1 <= days <= 90:
            raise UserError(BAD_PAUSE, example=example(ctx.t, EX_PAUSE_14))
        until = ctx.now + timedelta(days=days)
        await personal.update(ws, uid, ctx.now, paused_until=until)
        await ctx.respond(ctx.text(PAUSE_DONE, date=_date(ctx, until)))
        return
    elif head in ("resume", "hervat", "unpause"):
        await _resume(ctx, ws, uid)
        return
    elif head in ("stats", "cijfers"):
        from bot.features.participation import my_stats

        await my_stats(event, ctx)
        return
    elif head in SWITCHES and rest and rest[0] in ON | OFF:
        changes[SWITCHES[head]] = rest[0] in ON
        if SWITCHES[head] == "checkins" and rest[0] in ON and len(rest) > 1:
            changes.update(_checkin_when(rest[1:]))
    elif head in SWITCHES and SWITCHES[head] == "checkins" and rest:
        changes.update(checkins=True, **_checkin_when(rest))
    elif head in ("country", "land") and rest:
        changes["country"] = _country(ctx, rest[0])
    else:
        raise UserError(USAGE, how=_how(ctx))
    await personal.update(ws, uid, ctx.now, **changes)
    if "language" in changes:
        await ctx.choose_language_again()
    await ctx.respond(await summary(ctx, ws, uid, saved=True))


async def _resume(ctx: Context, workspace_id: str, user_id: str) -> None:
    await ctx.personal.update(workspace_id, user_id, ctx.now, paused_until=None)
    await ctx.respond(ctx.text(RESUMED))


def _country(ctx: Context, word: str) -> str | None:
    """A known country code (upper case), or None for `off` (the workspace's country)."""
    from bot.setting_values import parse_country

    if word in ("off", "uit", "none", "geen"):  # not OFF: "no" is Norway
        return None
    try:
        return parse_country(word)
    except UserError:
        raise UserError(
            BAD_COUNTRY,
            value=word[:20].upper(),
            example=example(ctx.t, EX_COUNTRY),
            off=example(ctx.t, EX_COUNTRY_OFF),
        ) from None


def _checkin_when(words: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    days = [word for word in words if not any(ch.isdigit() for ch in word)]
    for word in words:
        if any(ch.isdigit() for ch in word):
            found["checkin_time"] = parse_time(word)
    if days:  # all of them, one list: "di en do", "mon, thu", "maandag t/m woensdag"
        found["checkin_days"] = parse_days(" ".join(days))
    return found


def _how(ctx: Context) -> str:
    a, b, c, d = (example(ctx.t, msgid).text for msgid in EX_HOW)
    return ctx.t.gettext(HOW).format(a=a, b=b, c=c, d=d)


def _date(ctx: Context, moment: datetime) -> str:
    return formats.day(moment, ctx.t.lang, ctx.person.timezone or ctx.settings.timezone)


async def summary(
    ctx: Context, workspace_id: str, user_id: str, *, saved: bool = False
) -> OutboundMessage:
    t = ctx.t.gettext
    me = await ctx.personal.get(workspace_id, user_id)
    blocks: list[Section | ContextBlock] = []
    title = t(SAVED).format(summary=t(TITLE)) if saved else t(TITLE)
    blocks.append(Section(parts=(Strong(text=title),)))
    lang = (
        formats.setting_value("language", me.language, ctx.t) if me.language else t(LANGUAGE_AUTO)
    )
    blocks.append(Section(parts=fill(t(LINE), label=t(LANGUAGE_LABEL), value=lang, source="")))
    for name, label in LABELS.items():
        value = t(ON_TEXT) if getattr(me, name) else t(OFF_TEXT)
        source = "" if name in me.own else t(DEFAULT_SOURCE)
        blocks.append(Section(parts=fill(t(LINE), label=t(label), value=value, source=source)))
    blocks.append(
        Section(
            parts=fill(
                t(CHECKIN_WHEN),
                days=formats.setting_value("days", me.checkin_days, ctx.t),
                time=formats.setting_value("time", me.checkin_time, ctx.t),
            )
        )
    )
    country = formats.setting_value("country", me.country, ctx.t) if me.country else t(COUNTRY_NONE)
    source = "" if "country" in me.own or not me.country else t(DEFAULT_SOURCE)
    blocks.append(
        Section(parts=fill(t(LINE), label=t(COUNTRY_LABEL), value=country, source=source))
    )
    if me.paused(ctx.now) and me.paused_until is not None:
        blocks.append(Section(parts=fill(t(PAUSED), date=_date(ctx, me.paused_until))))
    blocks.append(ContextBlock(parts=(_how(ctx),)))
    return OutboundMessage(blocks=tuple(blocks))
