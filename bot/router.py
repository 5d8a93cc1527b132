"""Dispatch: middleware around every event, then the first matching handler of each group.

Handlers are `async def handler(event, ctx)`; matchers are predicates that return a
match object (anything truthy, kept as `ctx.match`) or None. Middleware is
`async def mw(event, ctx, next_)` and decides whether to call `next_()`.
Routes belong to a named `Group`; groups run in their listed order, and within a group only
the first matching handler runs (python-telegram-bot's handler groups), so a feature can
observe an event without stealing it from another. Interactions (clicks, submits, shortcuts) reach a
handler only when its route's `who` permits the clicker (bot/authorisation.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from bot.authorisation import INTERACTIONS, Who, permitted
from bot.commands import Commands
from bot.events import EventKind, InboundEvent

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

Handler = Callable[[InboundEvent, "Context"], Awaitable[None]]
Matcher = Callable[[InboundEvent], Any]
Next = Callable[[], Awaitable[None]]
Middleware = Callable[[InboundEvent, "Context", Next], Awaitable[None]]


class Group(IntEnum):
    """Handler groups, in the order they run. Each event reaches the first matching route of
    every group, so a later group sees what an earlier one handled too."""

    MAIN = 0  # commands, narrations, clicks, forms: most routes
    ROUND_REPLIES = 1  # answers and reactions in a round's thread (bot/features/rounds.py)
    QUESTIONS = 2  # durf-te-vragen questions, answers and reactions (bot/features/asks.py)
    TYPED_REPLIES = 3  # typed answers under a suggestion (bot/features/intros.py)
    OBSERVERS = 4  # sees every event after the others (bot/features/participation.py)


@dataclass(frozen=True, slots=True)
class Route:
    matcher: Matcher
    handler: Handler
    group: Group
    name: str
    who: Who | None = None  # who may use it, for interactions (bot/authorisation.py)


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._middleware: list[Middleware] = []
        self.commands = Commands()  # `/wol` subcommands, routed by bot/features/commands.py

    def use(self, middleware: Middleware) -> None:
        """Add middleware; the first added is the outermost."""
        self._middleware.append(middleware)

    def add(
        self,
        matcher: Matcher,
        handler: Handler,
        *,
        group: Group = Group.MAIN,
        name: str | None = None,
        who: Who | None = None,
    ) -> None:
        """Route events `matcher` accepts to `handler`. A route that handles interactions
        (clicks, form submits, shortcuts) says `who` may use them; without it they are
        refused."""
        self._routes.append(Route(matcher, handler, group, name or handler.__qualname__, who))
        self._routes.sort(key=lambda r: r.group)

    def on(
        self, matcher: Matcher, *, group: Group = Group.MAIN, who: Who | None = None
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            self.add(matcher, handler, group=group, who=who)
            return handler

        return decorate

    async def dispatch(self, event: InboundEvent, ctx: Context) -> None:
        chain = list(self._middleware)

        async def call(index: int) -> None:
            if index < len(chain):
                await chain[index](event, ctx, lambda: call(index + 1))
            else:
                await self._handle(event, ctx)

        await call(0)

    async def _handle(self, event: InboundEvent, ctx: Context) -> None:
        done_groups: set[Group] = set()
        for route in self._routes:
            if route.group in done_groups:
                continue
            match = route.matcher(event)
            if match is None or match is False:
                continue
            if event.kind in INTERACTIONS and not await permitted(
                event, ctx, route.who, route.name
            ):
                return  # refused: nothing else handles a click that was not the clicker's
            done_groups.add(route.group)
            ctx.match = match
            ctx.handled_by.append(route.name)
            await route.handler(event, ctx)


# -- matchers -----------------------------------------------------------------------------------
def kind(*kinds: EventKind) -> Matcher:
    wanted = frozenset(kinds)

    def match(event: InboundEvent) -> bool | None:
        return True if event.kind in wanted else None

    return match


def action(prefix: str) -> Matcher:
    """Actions (button clicks, form submits) whose id starts with `prefix`."""

    def match(event: InboundEvent) -> str | None:
        if (
            event.kind in (EventKind.ACTION, EventKind.FORM_SUBMIT, EventKind.SHORTCUT)
            and event.action
            and event.action.action_id.startswith(prefix)
        ):
            return event.action.action_id
        return None

    return match


def shortcut(*ids: str) -> Matcher:
    """A shortcut, or a button that does the same, with one of these ids."""
    wanted = frozenset(ids)

    def match(event: InboundEvent) -> bool | None:
        ok = event.kind in (EventKind.SHORTCUT, EventKind.ACTION)
        return (
            True if ok and event.action is not None and event.action.action_id in wanted else None
        )

    return match


def form(form_id: str) -> Matcher:
    """The submission of the form `form_id`."""

    def match(event: InboundEvent) -> bool | None:
        ok = event.kind is EventKind.FORM_SUBMIT and event.action is not None
        return True if ok and event.action is not None and event.action.form_id == form_id else None

    return match


def all_of(*matchers: Matcher) -> Matcher:
    def match(event: InboundEvent) -> Any:
        result: Any = None
        for m in matchers:
            result = m(event)
            if result is None or result is False:
                return None
        return result

    return match
