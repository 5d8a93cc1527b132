"""The readable export (`/wol privacy export`): what is kept about one person, grouped by what
it is, each item with its time, its place and how long it is kept. The schema is documented
in docs/privacy.md ("The export file"); `SCHEMA` names its version.

Only the person's own data: no internal ids, tokens, claim or delivery fields, and nothing
that names another person (whom they thanked or were thanked by, who introduced them). Every
table with personal columns is either in a group here or in `NOT_EXPORTED` with the reason
(tests/core/test_privacy_export.py checks that no table is forgotten).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import col, or_, select

from bot.clock import utc
from bot.store.engine import Database
from bot.store.participation_counts import participation_rows
from bot.store.tables import Channel, Narration, Person, Workspace
from bot.store.tables.admin import AuditEntry, PersonSettings, RoleGrant
from bot.store.tables.asks import Question, Thanks
from bot.store.tables.insight import ReportSubscription
from bot.store.tables.matching import Connection, MatchSuggestion, ProfileTopic
from bot.store.tables.rhythms import CheckinState, Contribution, DialogueRound
from bot.store.tables.teams import TeamsMember

SCHEMA = "wolbot-export/1"
CONSENT_ACTION = "consent"  # AuditEntry.action of a person's own consent change

# Tables with personal columns and where their content is in the export.
EXPORTED = {
    "person": "you",
    "teams_member": "you",
    "narration": "narrations",
    "ask_question": "questions_asked_by_name (anonymous ones: anonymous_questions)",
    "kudos": "thanks_given, thanks_received",
    "contribution": "dialogue_answers",
    "match_connection": "connections",
    "match_suggestion": "connections",
    "profile_topic": "profile_topics",
    "person_settings": "settings",
    "role_grant": "settings",
    "insight_subscription": "settings",
    "audit_entry": "consent_history",
    "participation_count": "participation",
    "checkin_state": "check_ins",
}
NOT_EXPORTED = {
    "outboxitem": "the delivery queue: messages on their way to you (removed 30 days after "
    "delivery; their content is what you received)",
    "match_vector": "numbers computed from your profile topics for matching, as from each "
    "narration on its own row (not readable, not in `narrations`; erased with them)",
    "match_hint": "when a matching tip was last sent to you (so it is not repeated)",
    "dashboard_token": "a single-use sign-in link's hash (security)",
    "dashboard_session": "a dashboard session's hash (security)",
    "inbox": "an incoming event until it is handled (minutes); afterwards only a keyed "
    "hash of its id stays, 7 days, with nothing that names you",
    "slack_inbox": "an incoming Slack event stored by an earlier version until it is handled",
    "slack_installation": "who installed the app: only the installer's id, replaced on erasure",
    "setting_override": "workspace configuration an admin changed: replaced on erasure",
    "glossary_term": "a term an admin added to the organisation's glossary: replaced on erasure",
    "custom_question": "a dialogue question an admin added: replaced on erasure",
    "ask_acknowledgement": "a manager's acknowledgement of someone's question",
    "teams_pending_file": "a file offered to you in Teams (your export, a chart) until you "
    "accept or decline it",
}


def _plain(value: Any) -> Any:
    """JSON values: dates and times as ISO 8601 text."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _time(value: datetime | None) -> str | None:
    return utc(value).isoformat() if value is not None else None


def _until(value: datetime, days: int) -> str:
    return utc(value + timedelta(days=days)).isoformat()


class PersonalExport:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def build(
        self,
        workspace_id: str,
        user_id: str,
        now: datetime,
        *,
        retention_days: int,
        audit_days: int,
    ) -> dict[str, Any]:
        async with self.db.session() as s:
            channels = {
                c.channel_id: c
                for c in await s.exec(select(Channel).where(Channel.workspace_id == workspace_id))
            }

            def where(channel_id: str | None) -> dict[str, str | None]:
                channel = channels.get(channel_id or "")
                if channel is None:
                    return {"kind": "unknown", "conversation": None}
                if channel.kind in ("dm", "group"):
                    return {"kind": channel.kind, "conversation": None}
                return {
                    "kind": channel.kind,
                    "conversation": f"#{channel.name}" if channel.name else None,
                }

            async def rows(model: Any, *conditions: Any) -> list[Any]:
                query = select(model).where(model.workspace_id == workspace_id, *conditions)
                return list(await s.exec(query))

            workspace = await s.get(Workspace, workspace_id)
            person = await s.get(Person, (workspace_id, user_id))
            member = await s.get(TeamsMember, (workspace_id, user_id))
            you: dict[str, Any] = {"name": None, "timezone": None, "locale": None}
            for source in (member, person):
                if source is not None:
                    you.update(
                        {
                            k: getattr(source, n)
                            for k, n in (
                                ("name", "name" if source is member else "display_name"),
                                ("timezone", "timezone"),
                                ("locale", "locale"),
                            )
                            if getattr(source, n)
                        }
                    )
            doc: dict[str, Any] = {
                "schema": SCHEMA,
                "exported_at": _time(now),
                "platform": workspace.platform if workspace else None,
                "workspace": workspace.name if workspace else None,
                "you": you,
                "retention": {"days": retention_days, "audit_days": audit_days},
            }
            doc["narrations"] = [
                {
                    "text": n.text,
                    "said_at": _time(n.created_at),
                    "where": where(n.channel_id),
                    "visibility": n.visibility,
                    "language": n.language,
                    "kept_until": _until(n.created_at, retention_days),
                }
                for n in await rows(Narration, col(Narration.author_id) == user_id)
            ]
            doc["questions_asked_by_name"] = [
                {
                    "number": q.id,
                    "text": q.text,
                    "asked_at": _time(q.created_at),
                    "where": where(q.channel_id),
                    "acknowledged_at": _time(q.first_ack_at),
                    "first_answer_at": _time(q.first_answer_at),
                    "answered_at": _time(q.answered_at),
                    "hidden": q.hidden,
                    "kept_until": _until(q.created_at, retention_days),
                }
                for q in await rows(Question, col(Question.asker_id) == user_id)
            ]
            thanks = await rows(
                Thanks, or_(col(Thanks.giver_id) == user_id, col(Thanks.receiver_id) == user_id)
            )
            doc["thanks_given"] = [
                {
                    "reason": k.reason,
                    "given_at": _time(k.created_at),
                    "where": where(k.channel_id),
                    "kept_until": _until(k.created_at, retention_days),
                }
                for k in thanks
                if k.giver_id == user_id
            ]
            doc["thanks_received"] = [
                {
                    "reason": k.reason,
                    "received_at": _time(k.created_at),
                    "where": where(k.channel_id),
                    "kept_until": _until(k.created_at, retention_days),
                }
                for k in thanks
                if k.receiver_id == user_id
            ]
            answers = list(
                await s.exec(
                    select(Contribution, DialogueRound.channel_id)
                    .join(DialogueRound, col(DialogueRound.id) == col(Contribution.round_id))
                    .where(
                        Contribution.workspace_id == workspace_id,
                        col(Contribution.author_id) == user_id,
                    )
                )
            )
            doc["dialogue_answers"] = [
                {
                    "text": c.text,
                    "answered_at": _time(c.created_at),
                    "where": where(channel_id),
                    "kept_until": _until(c.created_at, retention_days),
                }
                for c, channel_id in answers
            ]
            doc["connections"] = await self._connections(s, workspace_id, user_id, rows)
            doc["profile_topics"] = [
                {
                    "topic": p.topic,
                    "source": p.source,
                    "confirmed": p.confirmed,
                    "added_at": _time(p.created_at),
                    "kept_until": None,
                }
                for p in await rows(ProfileTopic, col(ProfileTopic.user_id) == user_id)
            ]
            doc["settings"] = await self._settings(s, workspace_id, user_id, rows)
            doc["consent_history"] = [
                {
                    "changed_at": _time(a.at),
                    "changes": {
                        k: {"from": (a.old or {}).get(k), "to": v} for k, v in (a.new or {}).items()
                    },
                    "kept_until": _until(a.at, audit_days),
                }
                for a in await rows(
                    AuditEntry,
                    col(AuditEntry.actor_id) == user_id,
                    col(AuditEntry.action) == CONSENT_ACTION,
                )
            ]
            doc["participation"] = [
                {
                    "week": p.week,
                    "community": where(p.community)["conversation"] if p.community else None,
                    "signal": p.signal,
                    "level": p.level,
                    "count": p.count,
                    "kept_until": None,
                }
                for p in await participation_rows(s, self.db.dialect, workspace_id, user_id=user_id)
            ]
            doc["check_ins"] = [
                {
                    "last_sent_at": _time(c.last_sent_at),
                    "answered_at": _time(c.answered_at),
                    "waiting_since": _time(c.pending_since),
                    "kept_until": None,
                }
                for c in await rows(CheckinState, col(CheckinState.user_id) == user_id)
            ]
        plain: dict[str, Any] = _plain(doc)
        return plain

    async def _connections(
        self, s: Any, workspace_id: str, user_id: str, rows: Any
    ) -> list[dict[str, Any]]:
        narrations: dict[int, str | None] = {}
        found: list[dict[str, Any]] = []
        for c in await rows(
            Connection,
            or_(col(Connection.narrator_id) == user_id, col(Connection.person_id) == user_id),
        ):
            mine = c.narrator_id == user_id
            if mine and c.narration_id not in narrations:
                n = await s.get(Narration, c.narration_id)
                narrations[c.narration_id] = n.text if n is not None else None
            found.append(
                {
                    "kind": "introduction",
                    "made_at": _time(c.created_at),
                    "your_part": "narrator" if mine else "colleague who may know",
                    "about": narrations.get(c.narration_id) if mine else None,
                    "helped": c.helped if mine else None,
                    "how_it_helped": c.how_it_helped if mine else None,
                    "kept_until": None,
                }
            )
        for m in await rows(
            MatchSuggestion,
            or_(
                col(MatchSuggestion.narrator_id) == user_id,
                col(MatchSuggestion.person_id) == user_id,
            ),
        ):
            found.append(
                {
                    "kind": "suggestion",
                    "made_at": _time(m.created_at),
                    "your_part": "narrator"
                    if m.narrator_id == user_id
                    else "colleague who may know",
                    "outcome": m.outcome,
                    "kept_until": None,
                }
            )
        return sorted(found, key=lambda item: item["made_at"] or "")

    async def _settings(self, s: Any, workspace_id: str, user_id: str, rows: Any) -> dict[str, Any]:
        row = await s.get(PersonSettings, (workspace_id, user_id))
        chosen = None
        if row is not None:
            chosen = {
                k: getattr(row, k)
                for k in (
                    "language",
                    "suggest_me",
                    "share_narrations",
                    "introductions",
                    "checkins",
                    "checkin_days",
                    "checkin_time",
                    "country",
                )
            }
            chosen["paused_until"] = _time(row.paused_until)
            chosen["changed_at"] = _time(row.updated_at)
        return {
            "your_choices": chosen,
            "kept_until": None,
            "roles": [
                {"role": r.role, "since": _time(r.granted_at)}
                for r in await rows(RoleGrant, col(RoleGrant.user_id) == user_id)
            ],
            "weekly_reports": [
                {"community": r.community and f"#{r.community}", "since": _time(r.created_at)}
                for r in await rows(ReportSubscription, col(ReportSubscription.user_id) == user_id)
            ],
        }
