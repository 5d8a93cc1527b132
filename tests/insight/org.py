"""A generated organisation for insight tests and benchmarks: 2,000 people over 12 weeks.

Deterministic (seeded). Besides writing the rows it keeps its own tally of what it wrote
(`Org.expected`), counted here independently of the report code, for the tests to compare.
Most people only consume, some contribute, a few create (roughly 90/9/1), and some people
move up a level halfway through.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.store.tables import Channel, Narration, Workspace
from bot.store.tables.insight import ParticipationCount
from bot.store.tables.matching import Connection, MatchSuggestion
from bot.store.tables.rhythms import Contribution, DialogueRound

WS = "test:T1"
# channel id -> (name, kind, share of people whose home it is)
COMMUNITIES = {
    "C-learn": ("learning", "dialogue", 0.45),
    "C-ask": ("durf-te-vragen", "durf-te-vragen", 0.30),
    "C-work": ("working-out-loud", "narration", 0.249),
    "C-tiny": ("tiny", "dialogue", 0.001),  # a handful of people: merged into "other"
}
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["alice"],
            "channels": {cid: {"kind": kind} for cid, (_name, kind, _share) in COMMUNITIES.items()},
        }
    }
}


@dataclass
class Org:
    people: int
    weeks: list[date]
    now: datetime
    levels: dict[date, dict[str, int]] = field(default_factory=dict)  # week -> user -> level
    community_levels: dict[str, dict[date, dict[str, int]]] = field(default_factory=dict)
    expected: dict[str, Any] = field(default_factory=dict)


def _level(rng: random.Random, tier: int) -> int:
    """A person's highest level in a week they were active, by their tier."""
    roll = rng.random()
    if tier == 3:
        return 3 if roll < 0.7 else 2
    if tier == 2:
        return 2 if roll < 0.8 else 1
    return 1


async def generate(
    db: Any, *, people: int = 2000, weeks: int = 12, seed: int = 9, now: datetime | None = None
) -> Org:
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 19, 12, 0, tzinfo=UTC)  # a Thursday
    last_monday = now.date() - timedelta(days=now.weekday())
    week_list = [last_monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
    org = Org(people, week_list, now)
    homes: list[str] = []
    for cid, (_n, _k, share) in COMMUNITIES.items():
        homes += [cid] * max(3, round(people * share))
    homes = homes[:people]
    rng.shuffle(homes)
    users = [f"U{i:05d}" for i in range(people)]
    tiers = {u: 3 if rng.random() < 0.015 else 2 if rng.random() < 0.1 else 1 for u in users}
    climbers = set(rng.sample(users, people // 20))  # move up one tier halfway through

    participation: list[dict[str, Any]] = []
    narrations: list[dict[str, Any]] = []
    tally: dict[str, int] = defaultdict(int)
    for w, week in enumerate(week_list):
        org.levels[week] = {}
        for user, home in zip(users, homes, strict=True):
            if rng.random() > 0.55:
                continue  # no signal this week
            tier = min(3, tiers[user] + (1 if user in climbers and w >= weeks // 2 else 0))
            level = _level(rng, tier)
            org.levels[week][user] = level
            org.community_levels.setdefault(home, {}).setdefault(week, {})[user] = level
            signal = {1: "home", 2: "reaction", 3: "narration"}[level]
            participation.append(
                {
                    "workspace_id": WS,
                    "user_id": user,
                    "week": week,
                    "community": home,
                    "signal": signal,
                    "level": level,
                    "count": 1 + rng.randrange(3),
                }
            )
            if level >= 2 and rng.random() < 0.5:  # they read as well
                participation.append(
                    {
                        "workspace_id": WS,
                        "user_id": user,
                        "week": week,
                        "community": home,
                        "signal": "click",
                        "level": 1,
                        "count": 1,
                    }
                )
            if level == 3:
                created = datetime.combine(week, datetime.min.time(), UTC) + timedelta(
                    days=rng.randrange(5), hours=9 + rng.randrange(8)
                )
                if created < now:
                    narrations.append(
                        {
                            "workspace_id": WS,
                            "author_id": user,
                            "text": f"I'm working on item {len(narrations)}",
                            "topic": f"item {len(narrations)}",
                            "channel_id": home,
                            "message_id": f"n{len(narrations)}",
                            "visibility": "public",
                            "language": "en",
                            "source": "channel",
                            "created_at": created,
                            "updated_at": created,
                        }
                    )
    start = datetime.combine(week_list[0], datetime.min.time(), UTC)
    async with db.session() as s:
        await s.exec(insert(Workspace).values(id=WS, platform="test", created_at=now))  # type: ignore[call-overload]
        await s.exec(
            insert(Channel),
            params=[  # type: ignore[call-overload]
                {
                    "workspace_id": WS,
                    "channel_id": cid,
                    "name": name,
                    "kind": "public",
                    "updated_at": now,
                }
                for cid, (name, _k, _s) in COMMUNITIES.items()
            ],
        )
        await s.exec(insert(ParticipationCount), params=participation)  # type: ignore[call-overload]
        await s.exec(insert(Narration), params=narrations)  # type: ignore[call-overload]
        await s.commit()
        ids = [
            n
            for (n,) in (
                await s.exec(  # type: ignore[call-overload]
                    Narration.__table__.select().with_only_columns(Narration.__table__.c.id)
                )
            )
        ]
    tally["narrations"] = len(narrations)
    org.expected["narrations_in"] = {
        cid: sum(1 for n in narrations if n["channel_id"] == cid) for cid in COMMUNITIES
    }

    suggestions, connections = [], []
    helped_options = ("yes", "somewhat", "no", None)
    for i, narration_id in enumerate(ids):
        created = narrations[i]["created_at"] + timedelta(minutes=5)
        for k in range(rng.randrange(3)):
            suggestions.append(
                {
                    "workspace_id": WS,
                    "narration_id": narration_id,
                    "narrator_id": narrations[i]["author_id"],
                    "person_id": f"U{(i + k + 1) % people:05d}",
                    "reason": "similar",
                    "item_ref": str(k),
                    "score": 0.8,
                    "created_at": created,
                }
            )
        if rng.random() < 0.3 and created < now:
            helped = rng.choice(helped_options)
            connections.append(
                {
                    "workspace_id": WS,
                    "narration_id": narration_id,
                    "narrator_id": narrations[i]["author_id"],
                    "person_id": f"U{(i + 7) % people:05d}",
                    "suggested_by": "bot",
                    "created_at": created,
                    "helped": helped,
                }
            )
            tally["introductions_rated"] += helped is not None
            tally["introductions_helpful"] += helped in ("yes", "somewhat")
    tally["suggestions"] = sum(1 for x in suggestions if x["created_at"] < now)
    tally["introductions"] = len(connections)

    rounds, answers = [], []
    for week in week_list:
        posted = datetime.combine(week, datetime.min.time(), UTC) + timedelta(days=1, hours=9)
        if posted >= now:
            continue
        rounds.append(
            {
                "workspace_id": WS,
                "channel_id": "C-learn",
                "occurrence": posted.isoformat(),
                "set_id": "general",
                "prompt_id": f"p{week}",
                "language": "en",
                "text": f"Question {week}?",
                "posted_key": f"k{week}",
                "posted_at": posted,
            }
        )
    async with db.session() as s:
        await s.exec(insert(MatchSuggestion), params=suggestions)  # type: ignore[call-overload]
        if connections:
            await s.exec(insert(Connection), params=connections)  # type: ignore[call-overload]
        await s.exec(insert(DialogueRound), params=rounds)  # type: ignore[call-overload]
        await s.commit()
        round_ids = [
            n
            for (n,) in (
                await s.exec(  # type: ignore[call-overload]
                    DialogueRound.__table__.select().with_only_columns(DialogueRound.__table__.c.id)
                )
            )
        ]
    authors: set[str] = set()
    pairs = 0
    for round_id, data in zip(round_ids, rounds, strict=True):
        who = rng.sample(users[:400], 3 + rng.randrange(12))
        pairs += len(who)
        for j, user in enumerate(who):
            authors.add(user)
            answers.append(
                {
                    "workspace_id": WS,
                    "round_id": round_id,
                    "author_id": user,
                    "text": f"Answer {j}",
                    "message_id": f"a{round_id}-{j}",
                    "reactions": rng.randrange(4),
                    "created_at": data["posted_at"] + timedelta(hours=j + 1),
                }
            )
    async with db.session() as s:
        await s.exec(insert(Contribution), params=answers)  # type: ignore[call-overload]
        await s.commit()
    tally["rounds"] = len(rounds)
    tally["round_answers"] = len(answers)
    tally["round_participants"] = len(authors)
    tally["participants_per_round"] = round(pairs / len(rounds), 1)
    await _asks(db, rng, users, start, now, tally)
    org.expected.update(tally)
    org.expected["start"] = start
    return org


async def _asks(
    db: Any,
    rng: random.Random,
    users: list[str],
    start: datetime,
    now: datetime,
    tally: dict[str, Any],
) -> None:
    """Durf-te-vragen questions and thanks, when that feature's tables exist."""
    try:
        from bot.store.tables.asks import Question, Thanks
    except ImportError:
        return
    span = (now - start).total_seconds()
    questions, thanks = [], []
    ack_hours, answer_hours = [], []
    for i in range(120):
        created = start + timedelta(seconds=rng.random() * span * 0.95)
        anonymous = rng.random() < 0.3
        ack = timedelta(hours=rng.choice((1, 2, 3, 5, 8, 30))) if rng.random() < 0.8 else None
        answer = timedelta(hours=rng.choice((2, 4, 6, 24, 48))) if rng.random() < 0.7 else None
        questions.append(
            {
                "workspace_id": WS,
                "channel_id": "C-ask",
                "message_id": f"q{i}",
                "asker_id": None if anonymous else rng.choice(users),
                "anon_ref": f"ref{i}" if anonymous else None,
                "text": f"Question {i}?",
                "language": "en",
                "created_at": created,
                "first_ack_at": created + ack if ack else None,
                "first_answer_at": created + answer if answer else None,
                "hidden": False,
            }
        )
        if ack:
            ack_hours.append(ack.total_seconds() / 3600)
        if answer:
            answer_hours.append(answer.total_seconds() / 3600)
    for i in range(90):
        created = start + timedelta(seconds=rng.random() * span * 0.95)
        giver, receiver = rng.sample(users, 2)
        thanks.append(
            {
                "workspace_id": WS,
                "channel_id": "C-ask",
                "giver_id": giver,
                "receiver_id": receiver,
                "reason": f"help {i}",
                "created_at": created,
            }
        )
    async with db.session() as s:
        await s.exec(insert(Question), params=questions)  # type: ignore[call-overload]
        await s.exec(insert(Thanks), params=thanks)  # type: ignore[call-overload]
        await s.commit()
    import statistics

    tally["questions"] = len(questions)
    tally["questions_anonymous"] = sum(1 for q in questions if q["asker_id"] is None)
    tally["questions_named"] = len(questions) - tally["questions_anonymous"]
    tally["acknowledged"] = len(ack_hours)
    tally["questions_acknowledged"] = round(len(ack_hours) / len(questions), 3)
    tally["questions_answered"] = round(len(answer_hours) / len(questions), 3)
    tally["hours_to_acknowledgement"] = round(statistics.median(ack_hours), 1)
    tally["hours_to_answer"] = round(statistics.median(answer_hours), 1)
    tally["thanks"] = len(thanks)
