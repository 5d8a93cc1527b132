"""`/wol language nl|en`: a person chooses the language the bot uses with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import Subcommand
from bot.errors import UserError
from bot.events import InboundEvent
from bot.i18n import LANGUAGES, N_, normalise_language
from bot.insight.formats import and_list, setting_value
from bot.router import Router

if TYPE_CHECKING:
    from bot.context import Context
    from bot.services import Services

CHANGED = N_("From now on I'll talk to you in English.")
RESET = N_("I'll use the language you write in again (else your channel's or workspace's).")
CURRENT = N_("I talk to you in English. Choose with {example}.")
UNKNOWN = N_("I speak {languages}. Choose one of those, for example {example}.")
_NAMES = {"english": "en", "engels": "en", "dutch": "nl", "nederlands": "nl"}


def register(services: Services, router: Router) -> None:
    router.commands.register(
        Subcommand(
            names={"en": ("language",), "nl": ("taal",)},
            handler=on_language,
            summary=N_("Choose the language I use with you"),
            usage=N_("<en|nl|auto>"),
            order=80,
        )
    )


async def on_language(event: InboundEvent, ctx: Context, args: str) -> None:
    choice = args.strip().lower()
    example = "/wol language nl" if ctx.t.lang == "en" else "/wol taal en"
    if not choice:
        await ctx.respond(ctx.text(CURRENT, example=example))
        return
    if choice in ("auto", "reset", "default", "standaard"):
        await ctx.personal.update(event.workspace_id, event.user.user_id, ctx.now, language=None)
        await ctx.choose_language_again()
        await ctx.respond(ctx.text(RESET))
        return
    lang = _NAMES.get(choice) or normalise_language(choice)
    if lang is None:
        names = [setting_value("language", code, ctx.t) for code in LANGUAGES]
        raise UserError(UNKNOWN, languages=and_list(sorted(names), ctx.t.lang), example=example)
    await ctx.personal.update(event.workspace_id, event.user.user_id, ctx.now, language=lang)
    ctx.use_language(lang, only_if_implicit=False)
    await ctx.respond(ctx.text(CHANGED))
