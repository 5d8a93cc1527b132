"""One Teams group chat per set of people (an introduction), or the 1:1 fallback, per tenant.

The choice is made at run time: the first refusal by Graph (401/403, a missing permission
or admin consent) or failure (the token endpoint, a timeout, a 5xx) puts the tenant on the
1:1 fallback with its reason (`teams_graph_state`), which `/wol config show` shows admins.
Graph is tried again after `recheck` (24 hours, also when the token endpoint refused the
app's credentials; 15 minutes after any other failure); the first success ends it.

Idempotent: the chat is stored under a hash of its members (`teams_group_chat`) as soon as
Graph created it, before the app is added and before anything is posted, so a retry, a
second replica or a restart in between reuses it instead of creating another. A creation
is claimed first; a claim left by a process that died before Graph answered expires after
`CLAIM` and the chat is then created again (the one window this cannot close: Graph gives
no way to find a chat created by a request whose answer was lost).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.teams.graph import (
    RECHECK_AFTER_FAILURE,
    Graph,
    GraphFailed,
    GraphRefused,
    GraphSettings,
)
from bot.clock import utc
from bot.ports import DeliveryError, GroupConversations
from bot.store.engine import Database
from bot.store.tables.teams import TeamsGraphState, TeamsGroupChat

log = logging.getLogger(__name__)
CLAIM = timedelta(seconds=60)


def members_key(user_ids: Sequence[str]) -> str:
    """The same people, in any order, give the same key; the ids are not readable from it."""
    joined = "\n".join(sorted(set(user_ids)))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


class GroupChats:
    def __init__(
        self,
        db: Database,
        settings: GraphSettings,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.settings = settings
        self.graph = Graph(settings) if settings.off is None else None
        self.now = now

    async def close(self) -> None:
        if self.graph is not None:
            await self.graph.close()

    async def state(self, workspace_id: str) -> GroupConversations:
        """What `/wol config show` tells admins about introductions in this tenant."""
        if self.settings.off is not None:
            return GroupConversations(shared=False, cause=self.settings.off)
        async with self.db.session() as s:
            row = await s.get(TeamsGraphState, workspace_id)
        if row is None or row.shared:
            return GroupConversations(shared=True, since=utc(row.since) if row else None)
        return GroupConversations(
            shared=False,
            cause=row.cause,
            permission=row.permission,
            detail=row.detail,
            status=_status_of(row.detail),
            since=utc(row.since),
            retry_at=utc(row.retry_at) if row.retry_at else None,
        )

    async def created(self, workspace_id: str, chat_id: str) -> bool:
        async with self.db.session() as s:
            found = (
                await s.exec(
                    select(TeamsGroupChat.members_key)
                    .where(
                        TeamsGroupChat.workspace_id == workspace_id,
                        TeamsGroupChat.chat_id == chat_id,
                    )
                    .limit(1)
                )
            ).first()
        return found is not None

    async def open(
        self,
        workspace_id: str,
        user_ids: Sequence[str],
        aad_object_ids: list[str],
        manifest_id: str,
    ) -> str | None:
        """The group chat of these people, with the bot in it; None: use the 1:1 fallback."""
        if self.graph is None:
            return None
        now = self.now()
        async with self.db.session() as s:
            state = await s.get(TeamsGraphState, workspace_id)
        if (
            state is not None
            and not state.shared
            and state.retry_at is not None
            and now < utc(state.retry_at)
        ):
            return None
        tenant = workspace_id.removeprefix("teams:")
        key = members_key(user_ids)
        row = await self._claim(workspace_id, key, now)
        chat_id = row.chat_id
        try:
            if chat_id is None:
                chat_id = await self.graph.create_group_chat(tenant, aad_object_ids)
                await self._store(workspace_id, key, chat_id=chat_id)
                log.info("created a Teams group chat for an introduction in %s", workspace_id)
            if not row.installed:
                app = await self.graph.catalog_app(tenant, manifest_id)
                await self.graph.install(tenant, chat_id, app)
                await self._store(workspace_id, key, installed=True)
        except GraphRefused as exc:
            self.graph.forget(tenant)
            await self._release(workspace_id, key)
            log.warning(
                "Teams introductions fall back to personal chats in %s: Graph refused "
                "(%s missing or not consented): %s",
                workspace_id,
                exc.permission,
                exc.detail,
            )
            await self._fallback(
                workspace_id,
                now,
                "permission",
                exc.permission,
                f"HTTP {exc.status}: {exc.detail}",
                now + self.settings.recheck,
            )
            return None
        except GraphFailed as exc:
            self.graph.forget(tenant)
            await self._release(workspace_id, key)
            log.warning(
                "Teams introductions fall back to personal chats in %s for now: %s",
                workspace_id,
                exc.detail,
            )
            status = f"HTTP {exc.status}: " if exc.status else ""
            # refused credentials wait for an admin like a refused permission; the rest passes
            later = (
                self.settings.recheck
                if exc.signin
                else min(RECHECK_AFTER_FAILURE, self.settings.recheck)
            )
            await self._fallback(
                workspace_id,
                now,
                "signin" if exc.signin else "failure",
                None,
                f"{status}{exc.detail}",
                now + later,
            )
            return None
        if state is not None and not state.shared:
            log.info("Teams group chats work again in %s", workspace_id)
        if state is None or not state.shared:
            await self._shared(workspace_id, now)
        return chat_id

    # -- storage -------------------------------------------------------------------------------
    async def _claim(self, workspace_id: str, key: str, now: datetime) -> TeamsGroupChat:
        """The stored chat, or the right to create it (one process at a time)."""
        async with self.db.session() as s:
            row = await s.get(TeamsGroupChat, (workspace_id, key))
            if row is None:
                row = TeamsGroupChat(
                    workspace_id=workspace_id,
                    members_key=key,
                    claimed_until=now + CLAIM,
                    created_at=now,
                )
                s.add(row)
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()
                    raise DeliveryError(
                        "another process is creating this group chat", retry_after=5.0
                    ) from None
                return TeamsGroupChat(workspace_id=workspace_id, members_key=key)
            if row.chat_id is not None:
                return TeamsGroupChat(
                    workspace_id=workspace_id,
                    members_key=key,
                    chat_id=row.chat_id,
                    installed=row.installed,
                )
            claimed = (
                await s.exec(
                    update(TeamsGroupChat)
                    .where(
                        col(TeamsGroupChat.workspace_id) == workspace_id,
                        col(TeamsGroupChat.members_key) == key,
                        col(TeamsGroupChat.chat_id).is_(None),
                        (col(TeamsGroupChat.claimed_until).is_(None))
                        | (col(TeamsGroupChat.claimed_until) < now),
                    )
                    .values(claimed_until=now + CLAIM)
                    # no evaluation against the loaded row (SQLite gives naive datetimes back)
                    .execution_options(synchronize_session=False)
                )
            ).rowcount
            await s.commit()
        if not claimed:
            raise DeliveryError("another process is creating this group chat", retry_after=5.0)
        return TeamsGroupChat(workspace_id=workspace_id, members_key=key)

    async def _store(self, workspace_id: str, key: str, **values: object) -> None:
        async with self.db.session() as s:
            await s.exec(
                update(TeamsGroupChat)
                .where(
                    col(TeamsGroupChat.workspace_id) == workspace_id,
                    col(TeamsGroupChat.members_key) == key,
                )
                .values(claimed_until=None, **values)
            )
            await s.commit()

    async def _release(self, workspace_id: str, key: str) -> None:
        await self._store(workspace_id, key)

    async def _fallback(
        self,
        workspace_id: str,
        now: datetime,
        cause: str,
        permission: str | None,
        detail: str,
        retry_at: datetime,
    ) -> None:
        async with self.db.session() as s:
            row = await s.get(TeamsGraphState, workspace_id)
            if row is None:
                row = TeamsGraphState(workspace_id=workspace_id, since=now)
            elif row.shared or row.cause != cause or row.permission != permission:
                row.since = now
            row.shared, row.cause, row.permission = False, cause, permission
            row.detail, row.retry_at = detail[:500], retry_at
            s.add(row)
            await _commit(s)

    async def _shared(self, workspace_id: str, now: datetime) -> None:
        async with self.db.session() as s:
            row = await s.get(TeamsGraphState, workspace_id) or TeamsGraphState(
                workspace_id=workspace_id
            )
            row.shared, row.cause, row.permission, row.detail, row.retry_at = (
                True,
                None,
                None,
                None,
                None,
            )
            row.since = now
            s.add(row)
            await _commit(s)


async def _commit(s: AsyncSession) -> None:
    try:
        await s.commit()
    except IntegrityError:  # another replica recorded the state at the same moment
        await s.rollback()


def _status_of(detail: str | None) -> int | None:
    if detail and detail.startswith("HTTP "):
        number = detail[5:].split(":", 1)[0]
        return int(number) if number.isdigit() else None
    return None
