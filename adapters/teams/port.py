"""`TeamsPort`: the core's `ChatPort` for Teams, through botbuilder's Bot Connector client.

Every call starts from a stored conversation reference (service URL, conversation,
tenant, bot), so it works after a restart for conversations the bot has seen. The
delivery worker owns retries: the SDK's own retries are switched off here, and each
failure is reported as a precise `DeliveryError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botbuilder.schema.teams import TeamsChannelAccount
from botframework.connector.aio import ConnectorClient
from msrest.exceptions import ClientRequestError, HttpOperationError

from adapters.teams.connector import delivery_error, no_sdk_retries
from adapters.teams.files import (
    CONTEXT_KEY,
    PendingFiles,
    consent_attachment,
    fallback_messages,
    file_info_attachment,
    upload,
)
from adapters.teams.group_chats import GroupChats, members_key
from adapters.teams.members import Members
from adapters.teams.mentions import mention_parts, rename_mentions
from adapters.teams.package import teams_app_id
from adapters.teams.render import (
    REACTION_EMOJI,
    REFRESH_USER_LIMIT,
    render_activity,
    render_form_activity,
)
from bot.messages import Actions, Form, OutboundMessage
from bot.ports import DeliveryError, Destination, GroupConversations, PersonInfo, Sent
from bot.store.limits import Limits
from bot.store.tables.teams import TeamsPendingFile

log = logging.getLogger(__name__)
T = TypeVar("T")

# Several people's 1:1 chats addressed as one ("group DM"): the fallback where wolbot may not
# create a group chat through Microsoft Graph (adapters/teams/group_chats.py).
GROUP_PREFIX = "wolbot-group:"
GROUP_SEPARATOR = "|"
CREATED_FOR = "wolbotCreatedFor"  # in the reference of a group chat wolbot created
LOOKUP_TIMEOUT = 5.0


class ReferenceStore(Protocol):
    async def get(self, workspace_id: str, conversation_id: str) -> dict[str, Any] | None: ...

    async def save(
        self,
        workspace_id: str,
        conversation_id: str,
        platform: str,
        reference: dict[str, Any],
        now: datetime,
    ) -> None: ...


class TeamsPort:
    platform = "teams"
    # Teams allows 7 messages a second per conversation; the delivery worker spaces them.
    min_interval = 1 / 7
    # ... and about 50 requests a second per app across one tenant (all conversations).
    workspace_interval = 1 / 50
    hourly_limit = 1800
    # Bots cannot react in Teams: `react` posts a reply, so acknowledgements stay quiet.
    reactions_post_messages = True
    # Teams has no only-you messages: `send` puts them in the person's personal chat.
    ephemeral_as_dm = True

    def __init__(
        self,
        adapter: CloudAdapter,
        *,
        app_id: str,
        references: ReferenceStore,
        members: Members,
        limits: Limits,
        group_chats: GroupChats | None = None,
    ) -> None:
        self.adapter = adapter
        self.group_chats = group_chats
        self.limits = limits
        self.app_id = app_id
        self.references = references
        self.members = members
        self._clients: dict[str, ConnectorClient] = {}
        self._dm_locks: dict[tuple[str, str], asyncio.Lock] = {}

    # -- ChatPort ------------------------------------------------------------------------------
    async def send(self, dest: Destination, message: OutboundMessage) -> Sent:
        message = await self.prepare(dest.workspace_id, message)
        if dest.channel_id.startswith(GROUP_PREFIX):
            return await self._send_to_group(dest, message)
        if dest.ephemeral_user:
            # Teams has no "only you can see this" messages: the person's 1:1 chat instead.
            dm = await self.open_dm(dest.workspace_id, (dest.ephemeral_user,))
            dest = Destination(workspace_id=dest.workspace_id, channel_id=dm, hints=dest.hints)
        try:
            return await self._post(dest, render_activity(message))
        except DeliveryError as exc:
            members = await self._created_chat_members(dest) if exc.permanent else None
            if not members:
                raise
            # A group chat wolbot created refuses the bot (removed, or not yet on its
            # roster): the members' personal chats instead, so the message is not lost.
            log.warning(
                "posting to an introduction's group chat failed (%s): sending to "
                "each member's personal chat",
                exc.reason,
            )
            group = GROUP_PREFIX + GROUP_SEPARATOR.join(members)
            return await self._send_to_group(Destination(dest.workspace_id, group), message)

    async def update(self, dest: Destination, message_id: str, message: OutboundMessage) -> None:
        message = await self.prepare(dest.workspace_id, message)
        if dest.channel_id.startswith(GROUP_PREFIX):
            members = group_members(dest.channel_id)
            for user_id, part_id in zip(members, message_id.split(GROUP_SEPARATOR), strict=False):
                if part_id:
                    dm = await self.open_dm(dest.workspace_id, (user_id,))
                    await self.update(Destination(dest.workspace_id, dm), part_id, message)
            return
        ref = await self._reference(dest)
        activity = self._activity(render_activity(message), ref, dest)
        activity.id = message_id
        conversation_id = activity.conversation.id

        async def call(client: ConnectorClient) -> Any:
            return await client.conversations.update_activity(conversation_id, message_id, activity)

        await self._call(ref["serviceUrl"], call)

    async def react(self, dest: Destination, message_id: str, emoji: str) -> None:
        """Bots cannot add reactions in Teams: a reply holding just the emoji stands in.

        It goes into the message's thread (channels) or under it (chats), so the person
        still sees their message was taken up; names without an emoji are skipped.
        """
        symbol = REACTION_EMOJI.get(emoji)
        if symbol is None:
            log.debug("no Teams stand-in for reaction %r", emoji)
            return
        thread = dest.thread_id or dest.hints.get("thread_root") or message_id
        target = Destination(
            workspace_id=dest.workspace_id,
            channel_id=dest.channel_id,
            thread_id=str(thread),
            hints=dest.hints,
        )
        await self._post(target, {"type": "message", "text": symbol, "textFormat": "plain"})

    @property
    def files(self) -> PendingFiles:
        return PendingFiles(self.members.db)

    async def send_file(
        self, dest: Destination, filename: str, content: bytes, message: OutboundMessage
    ) -> Sent:
        """The message, and a file consent card for the file (see files.py): the file is
        uploaded when the person accepts it. Only in a personal chat, as Teams requires."""
        ref = await self._reference(dest)
        user = (ref.get("user") or {}).get("id") or dest.hints.get("user_id")
        if not user or (ref.get("conversation") or {}).get("conversationType") != "personal":
            raise DeliveryError("files go to a person's personal chat", permanent=True)
        message = await self.prepare(dest.workspace_id, message)
        file_id = await self.files.add(
            dest.workspace_id, str(user), dest.channel_id, filename, content, message
        )
        payload = render_activity(message)
        payload["attachments"].append(
            consent_attachment(file_id, filename, len(content), message.plain_text())
        )
        return await self._post(dest, payload)

    async def file_consent(self, workspace_id: str, user_id: str, value: dict[str, Any]) -> None:
        """The person accepted (upload, then show the file) or declined (the text instead).
        The file is forgotten once that is shown: should the Bot Connector fail before, the
        click fails and the person can click again."""
        context = value.get("context") or {}
        row = await self.files.get(workspace_id, user_id, str(context.get(CONTEXT_KEY) or ""))
        if row is None:
            log.info("file consent for an unknown or already handled file")
            return
        await self._file_answer(workspace_id, row, value)
        await self.files.remove(row.id)

    async def _file_answer(
        self, workspace_id: str, row: TeamsPendingFile, value: dict[str, Any]
    ) -> None:
        dest = Destination(workspace_id, row.conversation_id)
        info = value.get("uploadInfo") or {}
        if value.get("action") == "accept" and info.get("uploadUrl"):
            try:
                await upload(str(info["uploadUrl"]), row.content)
            except Exception as exc:  # the person gets the text instead of nothing
                log.warning("file upload failed, sending the text instead: %s", exc)
            else:
                await self._post(
                    dest, {"type": "message", "attachments": [file_info_attachment(info)]}
                )
                return
        for message in fallback_messages(row):
            await self._post(dest, render_activity(await self.prepare(workspace_id, message)))

    async def open_dm(self, workspace_id: str, user_ids: tuple[str, ...]) -> str:
        """A person's 1:1 chat with the bot (created when needed); for several people one
        group chat with them and the bot where the tenant lets wolbot create it through
        Microsoft Graph, else a group address whose messages go to each person's 1:1 chat
        (see `send`, and `group_conversations` for which it is and why)."""
        people = tuple(dict.fromkeys(user_ids))
        if not people:
            raise DeliveryError("no one to write to", permanent=True)
        if len(people) > 1:
            lock = self._dm_locks.setdefault((workspace_id, members_key(people)), asyncio.Lock())
            async with lock:
                chat = await self._group_chat(workspace_id, people)
            if chat is not None:
                return chat
            for user_id in people:  # fail now, not halfway through a later send
                await self.open_dm(workspace_id, (user_id,))
            return GROUP_PREFIX + GROUP_SEPARATOR.join(people)
        (user_id,) = people
        # One creation at a time per person: concurrent deliveries would each create one.
        lock = self._dm_locks.setdefault((workspace_id, user_id), asyncio.Lock())
        async with lock:
            return await self._open_personal_chat(workspace_id, user_id)

    async def group_conversations(self, workspace_id: str) -> GroupConversations:
        """Whether introductions get one group chat in this tenant, or the 1:1 fallback."""
        if self.group_chats is None:
            return GroupConversations(shared=False, cause="not_configured")
        return await self.group_chats.state(workspace_id)

    async def created_chat(self, workspace_id: str, conversation_id: str) -> bool:
        """Whether wolbot created this group chat itself (for an introduction)."""
        return self.group_chats is not None and await self.group_chats.created(
            workspace_id, conversation_id
        )

    async def _created_chat_members(self, dest: Destination) -> list[str] | None:
        if dest.thread_id:
            return None
        ref = await self.references.get(dest.workspace_id, dest.channel_id)
        members = (ref or {}).get(CREATED_FOR)
        return [str(m) for m in members] if members else None

    async def _group_chat(self, workspace_id: str, people: tuple[str, ...]) -> str | None:
        """The people's group chat (created through Graph the first time), or None."""
        if self.group_chats is None:
            return None
        members: list[tuple[str, str]] = []  # (Bot Framework id, Entra ID object id)
        first = None
        for user_id in people:
            member = await self.members.get(
                workspace_id, user_id
            ) or await self.members.by_aad_object_id(workspace_id, user_id)
            first = first or member
            aad = member.aad_object_id if member is not None else None
            if member is not None and not aad:  # Graph names people by their object id
                try:
                    aad = (await self.lookup_person(workspace_id, member.user_id)).directory_id
                except DeliveryError as exc:
                    log.info("could not look up a group member's object id: %s", exc.reason)
            if member is None or not aad:
                log.info(
                    "no Entra ID object id known for a member of a group: using personal chats"
                )
                return None
            members.append((member.user_id, aad))
        base = await self._tenant_reference(workspace_id, first)
        bot = base.get("bot") or {}
        manifest_id = teams_app_id(
            self.group_chats.settings.teams_app_id,
            self.app_id or str(bot.get("id", "")).removeprefix("28:"),
        )
        chat_id = await self.group_chats.open(
            workspace_id, [m for m, _ in members], [aad for _, aad in members], manifest_id
        )
        if chat_id is None:
            return None
        if not await self.references.get(workspace_id, chat_id):
            tenant = workspace_id.removeprefix("teams:")
            reference = {
                "serviceUrl": base["serviceUrl"],
                "channelId": base.get("channelId", "msteams"),
                "conversation": {
                    "id": chat_id,
                    "conversationType": "groupChat",
                    "tenantId": tenant,
                    "isGroup": True,
                },
                "bot": bot,
                # created by wolbot for these people: their personal chats if it fails
                CREATED_FOR: [m for m, _ in members],
            }
            await self.references.save(
                workspace_id, chat_id, self.platform, reference, datetime.now(UTC)
            )
        return chat_id

    async def _open_personal_chat(self, workspace_id: str, user_id: str) -> str:
        member = await self.members.get(workspace_id, user_id)
        if member is None:
            # People listed in app.yaml (managers to remind) are named by Entra ID object id.
            member = await self.members.by_aad_object_id(workspace_id, user_id)
            user_id = member.user_id if member is not None else user_id
        known_dm = member.dm_conversation_id if member is not None else None
        if known_dm and await self.references.get(workspace_id, known_dm):
            return known_dm
        base = await self._tenant_reference(workspace_id, member)
        tenant = workspace_id.removeprefix("teams:")
        bot = base["bot"]
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=bot["id"], name=bot.get("name")),
            members=[ChannelAccount(id=user_id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )

        async def call(client: ConnectorClient) -> Any:
            return await client.conversations.create_conversation(params)

        result = await self._call(base["serviceUrl"], call)
        conversation_id = str(result.id)
        reference = {
            "serviceUrl": base["serviceUrl"],
            "channelId": base.get("channelId", "msteams"),
            "conversation": {
                "id": conversation_id,
                "conversationType": "personal",
                "tenantId": tenant,
            },
            "bot": bot,
            "user": {"id": user_id},
        }
        await self.references.save(
            workspace_id, conversation_id, self.platform, reference, datetime.now(UTC)
        )
        await self.members.set_dm(
            workspace_id,
            user_id,
            conversation_id,
            service_url=base["serviceUrl"],
            bot_id=bot["id"],
        )
        return conversation_id

    async def open_form(self, dest: Destination, form: Form) -> None:
        """A form is a card with inputs, sent to the person's 1:1 chat so answers stay private.

        Teams can only open a task module (its modal) in answer to a click, so a form the
        core opens later is sent as a card instead.
        """
        user = dest.ephemeral_user or dest.hints.get("user_id")
        if user:
            dm = await self.open_dm(dest.workspace_id, (str(user),))
            dest = Destination(workspace_id=dest.workspace_id, channel_id=dm, hints=dest.hints)
        await self._post(dest, render_form_activity(form))

    async def lookup_person(self, workspace_id: str, user_id: str) -> PersonInfo:
        member = await self.members.get(workspace_id, user_id)
        ref = await self._tenant_reference(workspace_id, member)
        conversation_id = member.conversation_id if member else ref["conversation"]["id"]

        async def call(client: ConnectorClient) -> Any:
            return await client.conversations.get_conversation_member(
                conversation_id, user_id, raw=True
            )

        account: TeamsChannelAccount | None = None
        try:
            # Looked up while an activity is handled: stay well inside Teams' 15 s window.
            raw = await asyncio.wait_for(self._call(ref["serviceUrl"], call), LOOKUP_TIMEOUT)
            # Read the body itself: the SDK's ChannelAccount drops e-mail and UPN.
            account = TeamsChannelAccount().deserialize(raw.response.json())
        except (DeliveryError, TimeoutError) as exc:
            if member is None:
                if isinstance(exc, TimeoutError):
                    raise DeliveryError("member lookup timed out") from exc
                raise
            log.info("member lookup failed (%s): using what the person's activities showed", exc)
        name = (account.name if account else None) or (member.name if member else None)
        aad = (account.aad_object_id if account else None) or (
            member.aad_object_id if member else None
        )
        return PersonInfo(
            user_id=user_id,
            display_name=name or user_id,
            timezone=member.timezone if member else None,
            locale=member.locale if member else None,
            email=(account.email or account.user_principal_name) if account else None,
            directory_id=aad,  # app.yaml lists people by it: bot.roles compares it
        )

    async def user_id_for_aad_object_id(
        self, workspace_id: str, conversation_id: str, aad_object_id: str
    ) -> str | None:
        """The Bot Framework id ("29:…") of a person Teams named by AAD object id.

        Known people are found in the adapter's memory; others are asked of the Bot
        Connector, which accepts an AAD object id as member id within a conversation.
        """
        member = await self.members.by_aad_object_id(workspace_id, aad_object_id)
        if member is not None:
            return member.user_id
        ref = await self.references.get(workspace_id, conversation_id)
        if not ref or not ref.get("serviceUrl"):
            return None
        team_or_chat = ref.get("teamId") or ref["conversation"]["id"]

        async def call(client: ConnectorClient) -> Any:
            return await client.conversations.get_conversation_member(team_or_chat, aad_object_id)

        try:
            account = await asyncio.wait_for(self._call(ref["serviceUrl"], call), LOOKUP_TIMEOUT)
        except (DeliveryError, TimeoutError) as exc:
            log.info("could not resolve a people-picker choice: %s", exc)
            return None
        return str(account.id) if account is not None and account.id else None

    async def _send_to_group(self, dest: Destination, message: OutboundMessage) -> Sent:
        """The same message in each member's 1:1 chat (mentions tell who else got it)."""
        ids: list[str] = []
        for user_id in group_members(dest.channel_id):
            dm = await self.open_dm(dest.workspace_id, (user_id,))
            sent = await self._post(
                Destination(dest.workspace_id, dm, hints=dest.hints), render_activity(message)
            )
            ids.append(sent.message_id)
        return Sent(message_id=GROUP_SEPARATOR.join(ids), channel_id=dest.channel_id)

    async def prepare(self, workspace_id: str, message: OutboundMessage) -> OutboundMessage:
        """Names for mentions, and Bot Framework ids for a card's refresh viewers (app.yaml
        lists people by Entra ID object id; Teams' `refresh.userIds` wants `29:` ids)."""
        message = await self._with_names(workspace_id, message)
        refresh = message.refresh
        if refresh is None or not refresh.viewers:
            return message
        ids: list[str] = []
        unknown = False
        for viewer in refresh.viewers:
            if not viewer.startswith("29:"):
                member = await self.members.by_aad_object_id(workspace_id, viewer)
                if member is None:
                    unknown = True  # never wrote to the bot: Teams cannot match the id
                    continue
                viewer = member.user_id
            ids.append(viewer)
        ids = list(dict.fromkeys(ids))
        update: dict[str, Any] = {"refresh": refresh.model_copy(update={"viewers": tuple(ids)})}
        if unknown or len(ids) > REFRESH_USER_LIMIT:
            # Someone would not get their own version: the buttons stay on the shared card
            # (who may click is checked when they do).
            update["blocks"] = tuple(
                b.model_copy(update={"viewers_only": False}) if isinstance(b, Actions) else b
                for b in message.blocks
            )
        return message.model_copy(update=update)

    async def _with_names(self, workspace_id: str, message: OutboundMessage) -> OutboundMessage:
        """Fill in names of mentioned people: Teams shows the text inside the mention tag."""
        missing = {
            part.user_id
            for part in mention_parts(message)
            if not part.name or part.name == part.user_id
        }
        if not missing:
            return message
        names: dict[str, str] = {}
        for user_id in missing:
            member = await self.members.get(workspace_id, user_id)
            if member is not None and member.name:
                names[user_id] = member.name
        if not names:
            return message
        return rename_mentions(message, names)

    # -- helpers -------------------------------------------------------------------------------
    async def _hourly_budget(self, conversation_id: str) -> None:
        """Teams allows 1,800 messages an hour per conversation: wait instead of a 429 storm.

        Counted in the database (bot/store/limits.py), so all replicas together stay under
        it; the 7-a-second limit is the delivery worker's spacing (`min_interval`).
        """
        wait = await self.limits.take(
            f"teams:{conversation_id}", self.hourly_limit, timedelta(hours=1)
        )
        if wait is not None:
            raise DeliveryError(
                f"hourly limit of {self.hourly_limit} messages reached in {conversation_id}",
                retry_after=wait,
            )

    async def _post(self, dest: Destination, payload: dict[str, Any]) -> Sent:
        ref = await self._reference(dest)
        await self._hourly_budget(dest.channel_id)
        activity = self._activity(payload, ref, dest)
        conversation_id = activity.conversation.id

        async def call(client: ConnectorClient) -> Any:
            if dest.thread_id:
                return await client.conversations.reply_to_activity(
                    conversation_id, dest.thread_id, activity
                )
            return await client.conversations.send_to_conversation(conversation_id, activity)

        result = await self._call(ref["serviceUrl"], call)
        # A 202 has no body: the message was accepted, its id is unknown.
        message_id = str(getattr(result, "id", "") or "")
        return Sent(message_id=message_id, channel_id=dest.channel_id)

    def _activity(self, payload: dict[str, Any], ref: dict[str, Any], dest: Destination) -> Any:
        activity = Activity().deserialize(payload)
        conversation = dict(ref.get("conversation") or {})
        conversation_id = str(conversation.get("id") or dest.channel_id)
        if dest.thread_id and conversation.get("conversationType") == "channel":
            # A reply in a channel thread is addressed to "<channel>;messageid=<root>".
            conversation_id = f"{conversation_id};messageid={dest.thread_id}"
        activity.conversation = ConversationAccount(
            id=conversation_id,
            conversation_type=conversation.get("conversationType"),
            tenant_id=conversation.get("tenantId"),
            is_group=conversation.get("isGroup"),
        )
        bot = ref.get("bot") or {}
        activity.from_property = ChannelAccount(id=bot.get("id"), name=bot.get("name"))
        tenant = conversation.get("tenantId")
        if tenant:
            activity.channel_data = {**(activity.channel_data or {}), "tenant": {"id": tenant}}
        activity.channel_id = ref.get("channelId", "msteams")
        activity.service_url = ref["serviceUrl"]
        if dest.thread_id:
            activity.reply_to_id = dest.thread_id
        return activity

    async def _reference(self, dest: Destination) -> dict[str, Any]:
        ref = await self.references.get(dest.workspace_id, dest.channel_id)
        if not ref or not ref.get("serviceUrl"):
            raise DeliveryError(
                f"no stored Teams conversation reference for {dest.channel_id}", permanent=True
            )
        return ref

    async def _tenant_reference(self, workspace_id: str, member: Any) -> dict[str, Any]:
        if member is not None:
            ref = await self.references.get(workspace_id, member.conversation_id)
            if ref and ref.get("serviceUrl"):
                return ref
            return {
                "serviceUrl": member.service_url,
                "channelId": "msteams",
                "conversation": {"id": member.conversation_id},
                "bot": {"id": member.bot_id},
            }
        ref = await self.members.any_reference(workspace_id)
        if not ref or not ref.get("serviceUrl") or not (ref.get("bot") or {}).get("id"):
            raise DeliveryError(
                f"the bot has no conversation in {workspace_id} yet", permanent=True
            )
        return ref

    async def _client(self, service_url: str) -> ConnectorClient:
        client = self._clients.get(service_url)
        if client is None:
            auth = self.adapter.bot_framework_authentication
            identity = self.adapter.create_claims_identity(self.app_id)
            client = await auth.create_connector_factory(identity).create(service_url, None)
            no_sdk_retries(client)
            self._clients[service_url] = client
        if self.app_id:
            # MSAL fetches tokens with blocking I/O: warm its cache in a thread, so the
            # SDK's own (synchronous) token call inside the request is a cache hit.
            await asyncio.to_thread(client.config.credentials.get_access_token)
        return client

    async def _call(self, service_url: str, call: Callable[[ConnectorClient], Awaitable[T]]) -> T:
        client = await self._client(service_url)
        try:
            return await call(client)
        except HttpOperationError as exc:
            raise delivery_error(exc) from exc
        except ClientRequestError as exc:
            raise DeliveryError(f"Bot Connector unreachable: {exc}") from exc
        except TimeoutError as exc:
            raise DeliveryError("Bot Connector timed out") from exc

    def close(self) -> None:
        """Forget the connector clients (each holds a requests session)."""
        self._clients.clear()

    async def aclose(self) -> None:
        self.close()
        if self.group_chats is not None:
            await self.group_chats.close()


def group_members(channel_id: str) -> list[str]:
    return [u for u in channel_id.removeprefix(GROUP_PREFIX).split(GROUP_SEPARATOR) if u]
