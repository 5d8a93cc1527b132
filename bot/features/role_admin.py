"""`/wol config roles …`: admins grant and revoke the admin and manager roles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import UserError
from bot.events import InboundEvent
from bot.features.references import people_in
from bot.i18n import N_, CommandExample
from bot.messages import Inline, Mention, OutboundMessage, Section, Strong
from bot.roles import ADMIN, GRANTABLE, MANAGER

EX_GRANT = N_("/wol config roles grant @person manager")
EX_REVOKE = N_("/wol config roles revoke @person manager")
EX_LIST = N_("/wol config roles list")

if TYPE_CHECKING:
    from bot.context import Context

GRANT_VERBS = ("grant", "give", "add", "geef", "toekennen")
REVOKE_VERBS = ("revoke", "remove", "take", "intrekken", "ontneem", "verwijder")
ROLE_NAMES = {"admin": ADMIN, "beheerder": ADMIN, "manager": MANAGER, "leidinggevende": MANAGER}

# A role's name in a sentence ("@kees is now admin"), in the reader's language.
ROLE_LABELS = {ADMIN: N_("admin"), MANAGER: N_("manager")}
USAGE = N_("Use {grant} or {revoke}, or {list}.")
GRANTED = N_("{person} is now {role}.")
ALREADY = N_("{person} already has the role {role}.")
REVOKED = N_("{person} is no longer {role}.")
NOT_GRANTED = N_(
    "{person} was not granted {role} with a command (roles from app.yaml or the "
    "platform's admins change there)."
)
LIST_TITLE = N_("Roles:")
LIST_EMPTY = N_("nobody yet")
SOURCE_GRANTED = N_("granted")
NO_SELF_REVOKE = N_("You can't take away your own admin role; ask another admin.")


async def on_roles(event: InboundEvent, ctx: Context, words: list[str]) -> None:
    verb = words[0].lower() if words else "list"
    if verb in ("list", "lijst"):
        await _list(event, ctx)
        return
    people, rest = people_in(" ".join(words[1:]), event)
    role = next((ROLE_NAMES[w.lower()] for w in rest if w.lower() in ROLE_NAMES), None)
    if verb not in GRANT_VERBS + REVOKE_VERBS or len(people) != 1 or role not in GRANTABLE:
        raise UserError(
            USAGE,
            grant=CommandExample.of(EX_GRANT),
            revoke=CommandExample.of(EX_REVOKE),
            list=CommandExample.of(EX_LIST),
        )
    person = people[0]
    mention = Mention(user_id=person.user_id, name=person.display_name)
    roles = ctx.roles
    if verb in GRANT_VERBS:
        done = await roles.grant(
            event.workspace_id, person.user_id, role, actor_id=event.user.user_id, now=ctx.now
        )
        await ctx.respond(
            ctx.text(
                GRANTED if done else ALREADY, person=mention, role=ctx.t.gettext(ROLE_LABELS[role])
            )
        )
        return
    if role == ADMIN and person.user_id == event.user.user_id:
        raise UserError(NO_SELF_REVOKE)
    done = await roles.revoke(
        event.workspace_id, person.user_id, role, actor_id=event.user.user_id, now=ctx.now
    )
    await ctx.respond(
        ctx.text(
            REVOKED if done else NOT_GRANTED, person=mention, role=ctx.t.gettext(ROLE_LABELS[role])
        )
    )


async def _list(event: InboundEvent, ctx: Context) -> None:
    blocks = [Section(parts=(Strong(text=ctx.t.gettext(LIST_TITLE)),))]
    for role in GRANTABLE:
        holders = await ctx.roles.holders(event.workspace_id, role)
        parts: list[Inline] = [Strong(text=ctx.t.gettext(ROLE_LABELS[role])), ": "]
        if not holders:
            parts.append(ctx.t.gettext(LIST_EMPTY))
        for i, (user_id, source) in enumerate(sorted(holders.items())):
            if i:
                parts.append(", ")
            label = ctx.t.gettext(SOURCE_GRANTED) if source == "granted" else source
            parts.extend([Mention(user_id=user_id), f" ({label})"])
        blocks.append(Section(parts=tuple(parts)))
    await ctx.respond(OutboundMessage(blocks=tuple(blocks)))
