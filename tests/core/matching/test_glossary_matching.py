"""The organisation glossary in matching, with the shipped encoder (e5): two narrations it
does not match on their own are matched once the organisation defines its jargon; the
stored vectors the glossary touches are re-encoded in the background; the specificity gate
counts a glossary term as content."""

from __future__ import annotations

import asyncio

import numpy as np
from sqlmodel import select

from bot.matching.e5 import E5_POLICY, E5Encoder
from bot.matching.engine import GLOSSARY_STALE, MatchingEngine
from bot.matching.glossary import Glossary
from bot.matching.ranking import Item, WorkspaceIndex
from bot.runtime import Wolbot
from bot.store.tables import Narration
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

WS = ev.WORKSPACE
SETTINGS = {"workspaces": {WS: {"admins": ["anouk"], "language": "en"}}}
FENNA = "Ik ben bezig met de HiX-rapportage over heropnames"
GERT = "I'm working on a report on readmissions from the electronic patient record"
HIX = (
    "/wol config glossary add HiX = elektronisch patiëntendossier (EPD), electronic patient record"
)


async def say(core: Wolbot, port: RecordingPort, user: str, text: str) -> str:
    before = len(port.records)
    if text.startswith("/wol"):
        await core.handle(ev.command(text[4:].strip(), user=user))
    else:
        await core.handle(ev.message(text, user=user))
    await core.delivery.drain()
    return "\n".join(r.text for r in port.records[before:] if r.op == "send")


async def stored(core: Wolbot) -> dict[str, str]:
    """Each stored narration's text -> the model its vector (on the narration's row) is
    marked with."""
    async with core.db.session() as s:
        rows = await s.exec(select(Narration))
        return {r.topic or r.text: r.vector_model or "" for r in rows}


async def settled(core: Wolbot) -> dict[str, str]:
    """Wait for the background re-encoding after a glossary change (bounded)."""
    for _ in range(600):
        models = await stored(core)
        if GLOSSARY_STALE not in models.values():
            return models
        await asyncio.sleep(0.05)
    raise AssertionError(f"still stale: {models}")


async def test_jargon_pair_matches_once_the_organisation_defines_the_term(
    make_core, port: RecordingPort
) -> None:
    core: Wolbot = make_core(port, **SETTINGS)
    await core.start(deliver=False)
    assert "Similar work" not in await say(core, port, "fenna", FENNA)
    # Without the glossary the shipped encoder does not connect them.
    assert "Similar work" not in await say(core, port, "gert", GERT)

    assert "HiX is in the glossary now" in await say(core, port, "anouk", HIX)
    models = await settled(core)
    # fenna's narration names HiX: re-encoded (its row no longer marked stale) ...
    assert models["de HiX-rapportage over heropnames"] != GLOSSARY_STALE
    # gert says the same again (his own narrations are never suggested to him): now fenna.
    answer = await say(core, port, "gert", GERT)
    assert "Similar work" in answer and "@fenna" in answer


async def test_the_vague_gate_counts_glossary_terms_as_content(
    make_core, port: RecordingPort
) -> None:
    core: Wolbot = make_core(port, **SETTINGS)
    await core.start(deliver=False)
    hint = "Vertel me iets meer"
    # "het DT": an abbreviation the vague classifier takes for content-free (since the
    # domain-adapted encoder of issue 15 item 2 it no longer does so for "het MT").
    assert hint in await say(core, port, "vera", "Ik ben bezig met het DT")
    assert "het DT is in the glossary now" in await say(
        core, port, "anouk", "/wol config glossary add het DT = directieteam"
    )
    await settled(core)
    answer = await say(core, port, "wim", "Ik ben bezig met het DT")
    assert hint not in answer
    assert "@vera" in answer  # vera's narration is no longer vague either


def test_is_vague_with_and_without_the_glossary(e5_encoder: E5Encoder) -> None:
    text = "HiX"  # (the domain-adapted encoder of issue 15 no longer gates "bezig met HiX")
    vec = e5_encoder.encode([text])[0]
    index = WorkspaceIndex(e5_encoder.dim)
    assert index.is_vague(text, vec, E5_POLICY)  # the vector classifier: content-free
    index.glossary = Glossary([("HiX", "elektronisch patiëntendossier")])
    assert not index.is_vague(text, vec, E5_POLICY)
    assert index.specificity(text) == 2.0


async def test_engine_expands_and_marks_what_the_glossary_touches(
    engine: MatchingEngine, encoder
) -> None:
    items = [
        Item.of("narration:1", "narration", "a", FENNA, visibility="public"),
        Item.of("narration:2", "narration", "b", "de kerstborrel", visibility="public"),
    ]
    await engine.index("w", items)
    encoder.texts.clear()
    changed = [("HiX", "elektronisch patiëntendossier")]
    engine._glossary_loader = _loader(changed)
    assert await engine.glossary_changed("w", changed) == 1
    await engine.background_done()
    assert encoder.texts == [FENNA + " (elektronisch patiëntendossier)"]
    ws = await engine.rebuild("w")  # from the database: saved, nothing stale
    assert "hix" in ws.items["narration:1"].tokens
    assert encoder.texts == [FENNA + " (elektronisch patiëntendossier)"]
    expected = encoder.inner.encode([FENNA + " (elektronisch patiëntendossier)"])[0]
    assert float(ws.vectors.vector("narration:1") @ expected) > 0.999
    # removed again: the text is encoded as itself once more
    engine._glossary_loader = _loader([])
    assert await engine.glossary_changed("w", changed) == 1
    await engine.background_done()
    plain = encoder.inner.encode([FENNA])[0]
    assert float((await engine.rebuild("w")).vectors.vector("narration:1") @ plain) > 0.999


def _loader(entries):  # type: ignore[no-untyped-def]
    async def load(workspace_id: str):  # type: ignore[no-untyped-def]
        return entries

    return load


def test_expansion_keeps_vectors_of_untouched_texts(e5_encoder: E5Encoder) -> None:
    g = Glossary([("HiX", "elektronisch patiëntendossier")])
    texts = ["de kerstborrel", "moving Jenkins jobs"]
    assert [g.expand(t) for t in texts] == texts
    a, b = e5_encoder.encode(texts), e5_encoder.encode([g.expand(t) for t in texts])
    assert np.allclose(a, b)


async def test_who_questions_are_read_with_the_glossary(make_core, port: RecordingPort) -> None:
    core: Wolbot = make_core(port, **SETTINGS)
    await core.start(deliver=False)
    await say(core, port, "fenna", FENNA)
    await say(core, port, "carol", "I'm working on the summer barbecue for the department")
    question = "/wol who reports from the electronic patient record"
    assert "@fenna" not in await say(core, port, "erin", question)
    await say(core, port, "anouk", HIX)
    await settled(core)
    answer = await say(core, port, "erin", question)
    assert "Colleagues who may know about" in answer and "@fenna" in answer
    assert "@carol" not in answer
    # the question naming the term itself is expanded too
    answer = await say(core, port, "erin", "/wol wie weet van HiX-koppelingen met het lab")
    assert "@fenna" in answer
