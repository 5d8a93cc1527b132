"""Who may press a button, pick from a menu or submit a form: checked in one place.

A click arrives with the clicker's id and whatever value the button carried; both can be
forged or replayed (a crafted Teams submit, a console `!N`, an old message). So every route
that handles an interaction (ACTION, FORM_SUBMIT, SHORTCUT) declares who may use it, and the
router asks `permitted` before its handler runs. A route without a rule is refused: the
default is no. A refusal changes nothing, is logged, and tells the clicker why in their
language.

Rules are small async predicates on the event: the addressee of a DM or ephemeral message
(the value names them), the narrator of a suggestion or introduction, a manager, an admin,
or anyone acting only for themselves. Features that own the data build their own rules
(`owner(...)`) next to their handlers.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.events import EventKind, InboundEvent
from bot.i18n import N_
from bot.messages import OutboundMessage
from bot.secrets import INTERACTION_ADDRESSEE, Keyring

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

INTERACTIONS = frozenset({EventKind.ACTION, EventKind.FORM_SUBMIT, EventKind.SHORTCUT})
NOT_FOR_YOU = N_("This button isn't meant for you, so I left everything as it was.")

# True: allowed. False: refused with NOT_FOR_YOU. A message: refused, with that explanation.
Verdict = bool | OutboundMessage
Check = Callable[[InboundEvent, "Context"], Awaitable[Verdict]]


@dataclass(frozen=True, slots=True)
class Who:
    """Who may use an interaction: `name` for logs and docs, `check` decides."""

    name: str
    check: Check


async def _anyone(event: InboundEvent, ctx: Context) -> Verdict:
    return True


async def _admin(event: InboundEvent, ctx: Context) -> Verdict:
    return ctx.is_admin


async def _manager(event: InboundEvent, ctx: Context) -> Verdict:
    return ctx.is_manager


async def _addressee(event: InboundEvent, ctx: Context) -> Verdict:
    return event.action is not None and event.action.value == event.user.user_id


# The handler acts only for the clicker, on the clicker's own data (opening a form for
# them, recording what they submit as theirs, counting their participation).
ANYONE = Who("anyone, acting for themselves", _anyone)
ADMIN = Who("an admin", _admin)
MANAGER = Who("a manager", _manager)
# A DM or ephemeral message whose buttons carry the id of the person it was sent to.
ADDRESSEE = Who("the person the message was sent to", _addressee)


# A button shown to one person only (an ephemeral picker, which Teams delivers to the
# personal chat) can carry a keyed tag of that person: `bind` adds it to the action id,
# `bound_to_clicker` checks it. Nobody else can make a tag that passes for them.
BOUND = INTERACTION_ADDRESSEE
_TAG = 32


def bind(keyring: Keyring, workspace_id: str, user_id: str, action_id: str) -> str:
    """`action_id` bound to `user_id`: "<action id>~<keyed tag>"."""
    return f"{action_id}~{keyring.mac(BOUND, workspace_id, user_id, action_id)[:_TAG]}"


def unbound(action_id: str) -> str:
    """The action id without its tag."""
    base, sep, _ = action_id.rpartition("~")
    return base if sep else action_id


def bound_to_clicker(event: InboundEvent, keyring: Keyring) -> bool | None:
    """True when the action id carries the clicker's tag, False when it carries another
    one, None when it carries none."""
    if event.action is None:
        return None
    base, sep, tag = event.action.action_id.rpartition("~")
    if not sep:
        return None
    return any(
        hmac.compare_digest(tag, mac[:_TAG])
        for mac in keyring.macs(BOUND, event.workspace_id, event.user.user_id, base)
    )


def owner(name: str, check: Check) -> Who:
    """A rule of a feature that knows who owns what the button names."""
    return Who(name, check)


async def permitted(event: InboundEvent, ctx: Context, who: Who | None, route: str) -> bool:
    """Whether the clicker may use this interaction; a refusal is logged and explained."""
    action_id = event.action.action_id if event.action else "?"
    if who is None:
        log.error(
            "refused %s on %s: route %s declares no rule for who may use it",
            action_id,
            event.workspace_id,
            route,
        )
        verdict: Verdict = False
    else:
        verdict = await who.check(event, ctx)
        if verdict is True:
            return True
        log.warning(
            "refused %s (%s) on %s: the clicker is not %s (event %s)",
            action_id,
            route,
            event.workspace_id,
            who.name,
            event.event_id,
        )
    await ctx.respond(verdict if isinstance(verdict, OutboundMessage) else ctx.text(NOT_FOR_YOU))
    return False
