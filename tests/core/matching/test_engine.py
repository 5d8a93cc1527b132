"""The engine with the real model on small data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from bot.clock import FakeClock
from bot.matching.engine import MatchingEngine
from bot.matching.ranking import Item, Viewer
from bot.store.engine import Database
from bot.store.tables.matching import MatchSuggestion

from .conftest import CountingEncoder

WS = "console:local"
PUBLIC = "C-general"
NARRATIONS = [
    ("1", "alice", "moving our CI from Jenkins to GitHub Actions"),
    ("2", "carol", "a new onboarding programme for nurses on the wards"),
    ("3", "dave", "reducing the energy use of our school buildings"),
    ("4", "erin", "forecasting youth care costs for the municipal budget"),
]


def narration(
    ref: str, author: str, text: str, visibility: str = "public", channel: str = PUBLIC
) -> Item:
    return Item.of(
        f"narration:{ref}", "narration", author, text, visibility=visibility, channel_id=channel
    )


async def seed(engine: MatchingEngine, workspace: str = WS) -> None:
    await engine.index(workspace, [narration(*n) for n in NARRATIONS])


def bob(channel: str = PUBLIC, visibility: str = "public") -> Viewer:
    return Viewer("bob", channel, visibility)


async def test_dutch_narration_finds_the_english_one(engine: MatchingEngine) -> None:
    await seed(engine)
    found = await engine.search(
        WS, "het overzetten van onze Jenkins-jobs naar GitHub Actions", bob()
    )
    assert [s.item.author_id for s in found] == ["alice"]
    assert found[0].lexical > 0  # Jenkins, GitHub, Actions: shared names count too
    unrelated = await engine.search(WS, "de kerstborrel voor de afdeling organiseren", bob())
    assert unrelated == []


async def test_restart_loads_vectors_without_re_encoding(
    db: Database, engine: MatchingEngine, encoder: CountingEncoder, clock: FakeClock
) -> None:
    await seed(engine)
    again = CountingEncoder(encoder.inner)
    restarted = MatchingEngine(db, encoder=again, clock=clock)
    await restarted.warm_up()
    again.texts.clear()
    assert await restarted.size(WS) == len(NARRATIONS)
    assert again.texts == []  # nothing re-encoded on load
    found = await restarted.search(WS, "Jenkins-pipelines omzetten naar GitHub Actions", bob())
    assert found[0].item.author_id == "alice"
    assert again.texts == ["Jenkins-pipelines omzetten naar GitHub Actions"]


async def test_replicas_see_each_others_additions_and_removals(
    db: Database, engine: MatchingEngine, encoder: CountingEncoder, clock: FakeClock
) -> None:
    other = MatchingEngine(db, encoder=encoder, clock=clock, refresh_every=timedelta(seconds=30))
    await seed(engine)
    assert await other.size(WS) == len(NARRATIONS)
    await engine.index(WS, [narration("5", "frank", "rolling out multi-factor authentication")])
    query = "multi-factor authentication for all staff accounts"
    assert await other.search(WS, query, bob()) == []  # not refreshed yet
    clock.advance(seconds=31)
    assert [s.item.author_id for s in await other.search(WS, query, bob())] == ["frank"]
    assert await engine.remove(WS, "narration:5")
    clock.advance(seconds=31)
    assert await other.search(WS, query, bob()) == []
    assert await other.size(WS) == len(NARRATIONS)


async def test_workspaces_never_mix(engine: MatchingEngine) -> None:
    await seed(engine, "slack:T1")
    found = await engine.search("slack:T2", "moving CI from Jenkins to GitHub Actions", bob())
    assert found == []


async def test_private_and_dm_narrations_stay_where_they_were_said(
    engine: MatchingEngine,
) -> None:
    await engine.index(
        WS,
        [
            narration(
                "p", "alice", "moving our CI from Jenkins to GitHub Actions", "private", "G-secret"
            ),
            narration(
                "d", "carol", "replacing Jenkins with GitHub Actions workflows", "dm", "D-carol"
            ),
        ],
    )
    query = "onze Jenkins-jobs overzetten naar GitHub Actions"
    assert await engine.search(WS, query, bob()) == []  # in a public channel
    assert await engine.search(WS, query, bob("G-other", "private")) == []
    assert await engine.search(WS, query, bob("D-bob", "dm")) == []
    inside = await engine.search(WS, query, bob("G-secret", "private"))
    assert [s.item.author_id for s in inside] == ["alice"]


async def test_consent_fatigue_and_the_narrator_themself(
    engine: MatchingEngine, clock: FakeClock
) -> None:
    await seed(engine)
    query = "het overzetten van onze Jenkins-jobs naar GitHub Actions"
    assert await engine.search(WS, query, Viewer("alice", PUBLIC, "public")) == []
    # consent is the caller's predicate (bot/features/matching/consent.py)
    assert await engine.search(WS, query, bob(), allow=lambda i: i.author_id != "alice") == []
    # the same person to the same narrator: not again within the pair window
    await engine.store.record(
        [
            MatchSuggestion(
                workspace_id=WS,
                narration_id=1,
                narrator_id="bob",
                person_id="alice",
                reason="similar",
                item_ref="narration:1",
                score=0.8,
                created_at=clock.now(),
            )
        ]
    )
    assert await engine.search(WS, query, bob()) == []
    clock.advance(days=31)
    assert [s.item.author_id for s in await engine.search(WS, query, bob())] == ["alice"]
    # nobody is put forward more than `per_person` times a week, to anyone
    for i, narrator in enumerate(("x", "y", "z")):
        await engine.store.record(
            [
                MatchSuggestion(
                    workspace_id=WS,
                    narration_id=10 + i,
                    narrator_id=narrator,
                    person_id="alice",
                    reason="similar",
                    item_ref="narration:1",
                    score=0.8,
                    created_at=clock.now(),
                )
            ]
        )
    assert await engine.search(WS, query, bob()) == []


async def test_not_relevant_lowers_that_pairing(engine: MatchingEngine) -> None:
    await seed(engine)
    query = "het overzetten van onze Jenkins-jobs naar GitHub Actions"
    before = (await engine.search(WS, query, bob()))[0].score
    [row] = await engine.store.record(
        [
            MatchSuggestion(
                workspace_id=WS,
                narration_id=1,
                narrator_id="bob",
                person_id="alice",
                reason="similar",
                item_ref="narration:1",
                score=before,
                created_at=engine.clock.now() - timedelta(days=60),
            )
        ]
    )
    await engine.store.set_outcome(row.id or 0, "not_relevant")
    ranked = await engine.search(WS, query, bob())
    assert not ranked or ranked[0].score <= before - engine.policy.feedback_penalty + 1e-6


async def test_a_new_encoder_re_encodes_stored_texts_once(
    db: Database, engine: MatchingEngine, encoder: CountingEncoder, clock: FakeClock
) -> None:
    await seed(engine)
    upgraded = CountingEncoder(encoder.inner)
    upgraded.name = "use-m3/next"
    fresh = MatchingEngine(db, encoder=upgraded, clock=clock)
    await fresh.warm_up()
    upgraded.texts.clear()
    assert await fresh.size(WS) == len(NARRATIONS)
    assert sorted(upgraded.texts) == sorted(n[2] for n in NARRATIONS)
    upgraded.texts.clear()
    assert await MatchingEngine(db, encoder=upgraded, clock=clock).size(WS) == len(NARRATIONS)
    assert upgraded.texts == []


@pytest.fixture
async def upgraded(
    engine: MatchingEngine, encoder: CountingEncoder, monkeypatch: pytest.MonkeyPatch
) -> CountingEncoder:
    """Stored narrations, and an encoder of another space with re-encoding in the background
    from the second stale text on, one text per chunk."""
    from bot.matching import engine as engine_module

    monkeypatch.setattr(engine_module, "REENCODE_INLINE", 1)
    monkeypatch.setattr(engine_module, "REENCODE_CHUNK", 1)
    await seed(engine)
    other = CountingEncoder(encoder.inner)
    other.name = "e5/next"
    return other


async def test_a_large_workspace_is_re_encoded_in_the_background(
    db: Database, encoder: CountingEncoder, upgraded: CountingEncoder, clock: FakeClock
) -> None:
    """After an upgrade of the encoder the index is up at once with what needs no encoding;
    the old texts join it a chunk at a time, saved as they go. What was erased, removed or
    edited meanwhile is not brought back."""
    from sqlmodel import delete, select

    from bot.store.tables.matching import MatchVector

    fresh = MatchingEngine(db, encoder=upgraded, clock=clock)
    assert await fresh.size(WS) == 0  # up at once; nothing encoded before it
    # meanwhile: carol is forgotten (her rows erased), dave's narration deleted, erin's edited
    async with db.session() as s:
        await s.exec(delete(MatchVector).where(MatchVector.author_id == "carol"))  # type: ignore[call-overload]
        await s.commit()
    await fresh.forget_author(WS, "carol")
    await fresh.remove(WS, "narration:3")
    edited = narration("4", "erin", "forecasting youth care costs for the 2027 budget")
    await fresh.index(WS, [edited])
    await fresh.background_done()
    ws = await fresh._workspace(WS, refresh=False)
    assert sorted(ws.items) == ["narration:1", "narration:4"]
    assert ws.items["narration:4"].text == edited.text
    async with db.session() as s:
        rows = (await s.exec(select(MatchVector.ref, MatchVector.model, MatchVector.text))).all()
    assert sorted(rows) == [
        ("1", "e5/next", NARRATIONS[0][2]),
        ("3", encoder.name, NARRATIONS[2][2]),  # the tombstone, not re-encoded
        ("4", "e5/next", edited.text),
    ]
    dutch = "het overzetten van onze Jenkins-jobs naar GitHub Actions"
    assert [s.item.author_id for s in await fresh.search(WS, dutch, bob())] == ["alice"]
    upgraded.texts.clear()
    restarted = MatchingEngine(db, encoder=upgraded, clock=clock)
    assert await restarted.size(WS) == 2 and upgraded.texts == []  # saved: nothing left


async def test_a_stop_ends_background_re_encoding_and_a_restart_goes_on(
    db: Database, upgraded: CountingEncoder, clock: FakeClock
) -> None:
    first = MatchingEngine(db, encoder=upgraded, clock=clock)
    await first.size(WS)
    await first.stop()
    assert not first._background
    again = MatchingEngine(db, encoder=upgraded, clock=clock)
    await again.size(WS)
    await again.background_done()
    assert await again.size(WS) == len(NARRATIONS)


async def test_what_another_replica_re_encoded_is_not_stale_any_more(
    engine: MatchingEngine, encoder: CountingEncoder, clock: FakeClock
) -> None:
    """The background re-encoding asks before each chunk which rows still need it."""
    await seed(engine)
    keys = [f"narration:{ref}" for ref, _, _ in NARRATIONS]
    store = engine.store
    assert await store.stale(WS, keys, "e5/next") == set(keys)
    done = await store.replace_vectors(
        WS, [("narration:1", np.zeros(encoder.dim, np.float32))], "e5/next", clock.now()
    )
    assert done == {"narration:1"}
    await engine.remove(WS, "narration:2")
    assert await store.stale(WS, keys, "e5/next") == {"narration:3", "narration:4"}
    assert await store.stale("slack:T-other", keys, "e5/next") == set()  # per workspace
    again = await store.replace_vectors(  # never twice, never a removed row
        WS,
        [(k, np.zeros(encoder.dim, np.float32)) for k in ("narration:1", "narration:2")],
        "e5/next",
        clock.now(),
    )
    assert again == set()


async def test_forgetting_a_person_reaches_other_replicas(
    db: Database, engine: MatchingEngine, encoder: CountingEncoder, clock: FakeClock
) -> None:
    other = MatchingEngine(db, encoder=encoder, clock=clock)
    await seed(engine)
    assert await other.size(WS) == len(NARRATIONS)
    # the privacy feature deletes the person's rows itself; the engine then tombstones
    async with db.session() as s:
        from sqlmodel import delete

        from bot.store.tables.matching import MatchVector

        await s.exec(delete(MatchVector).where(MatchVector.author_id == "alice"))  # type: ignore[call-overload]
        await s.commit()
    assert await engine.forget_author(WS, "alice") == 1
    assert await engine.size(WS) == len(NARRATIONS) - 1
    clock.advance(seconds=31)
    query = "moving our CI from Jenkins to GitHub Actions"
    assert await other.search(WS, query, bob()) == []
    assert await other.size(WS) == len(NARRATIONS) - 1
    assert await engine.store.purge_tombstones(clock.now() + timedelta(days=3)) == 1


async def test_preload_loads_every_workspace(
    db: Database, engine: MatchingEngine, encoder: CountingEncoder, clock: FakeClock
) -> None:
    await seed(engine, "slack:T1")
    await seed(engine, "teams:X")
    fresh = MatchingEngine(db, encoder=encoder, clock=clock)
    assert await fresh.preload() == 2 * len(NARRATIONS)
    assert set(fresh._indexes) == {"slack:T1", "teams:X"}
