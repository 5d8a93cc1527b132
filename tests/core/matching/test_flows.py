"""The chat flows through the core: suggestions after a narration, the buttons, typed thread
replies, introductions as group DMs, the follow-up, and /wol profile — English and Dutch."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import FEATURES
from bot.clock import FakeClock
from bot.events import ConversationKind
from bot.features import matching
from bot.runtime import Wolbot
from bot.store.tables import Narration
from bot.store.tables.matching import Connection, MatchSuggestion
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort


@pytest.fixture
async def mcore(core: Wolbot, e5_encoder) -> Wolbot:  # type: ignore[no-untyped-def]
    if matching.register not in FEATURES:  # until bot/app.py lists the feature
        matching.register(core.services, core.router)
    return core


async def say(core: Wolbot, port: RecordingPort, event) -> list:  # type: ignore[no-untyped-def]
    before = len(port.records)
    await core.handle(event)
    await core.delivery.drain()
    return port.records[before:]


def sends(records: list) -> list:  # type: ignore[no-untyped-def]
    return [r for r in records if r.op == "send"]


async def jenkins_pair(core: Wolbot, port: RecordingPort) -> tuple[list, list]:
    """alice narrates in English, then bob the same work in Dutch (message m-bob): what the
    bot did after each."""
    first = await say(
        core,
        port,
        ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice"),
    )
    second = await say(
        core,
        port,
        ev.message(
            "Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions",
            user="bob",
            message_id="m-bob",
        ),
    )
    return first, second


async def test_dutch_narration_is_told_about_the_english_one(
    mcore: Wolbot, port: RecordingPort
) -> None:
    first, second = await jenkins_pair(mcore, port)
    assert sends(first) == []  # nothing similar yet: only the acknowledgement
    [reply] = sends(second)
    assert reply.dest is not None and reply.dest.thread_id == "m-bob"
    assert "alice" in reply.message.mentioned_user_ids()
    text = reply.text
    assert "Vergelijkbaar werk:" in text and "vandaag" in text
    assert "[Breng ons in contact]" in text and "[Niet relevant]" in text
    unrelated = await say(
        mcore,
        port,
        ev.message("I'm working on the summer barbecue for the department", user="carol"),
    )
    assert sends(unrelated) == []


@pytest.mark.parametrize(
    "choice",
    ["me share off", "me intros off", "me pause 7", None],
)
async def test_a_narration_suggests_only_people_who_consent(
    mcore: Wolbot, port: RecordingPort, choice: str | None
) -> None:
    """The people's own choices are read with the fatigue filters, in their statement: what
    alice chose before bob's narration decides whether bob is told about her."""
    if choice is not None:
        await say(mcore, port, ev.command(choice, user="alice"))
    _, second = await jenkins_pair(mcore, port)
    suggested = [r for r in sends(second) if "alice" in r.message.mentioned_user_ids()]
    assert len(suggested) == (1 if choice is None else 0)


async def test_private_narrations_are_not_suggested_in_public(
    mcore: Wolbot, port: RecordingPort
) -> None:
    await say(
        mcore,
        port,
        ev.message(
            "I'm working on moving our CI from Jenkins to GitHub Actions",
            user="alice",
            channel="G-secret",
            kind=ConversationKind.PRIVATE,
        ),
    )
    public = await say(
        mcore,
        port,
        ev.message("I'm working on replacing Jenkins with GitHub Actions workflows", user="bob"),
    )
    assert sends(public) == []


async def test_connect_me_opens_a_group_dm_and_follows_up(
    mcore: Wolbot, port: RecordingPort, clock: FakeClock
) -> None:
    await say(
        mcore,
        port,
        ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice"),
    )
    await say(
        mcore,
        port,
        ev.message(
            "I'm working on replacing our Jenkins build server with GitHub Actions", user="bob"
        ),
    )
    async with mcore.db.session() as s:
        [row] = list(await s.exec(select(MatchSuggestion)))
    assert (row.narrator_id, row.person_id) == ("bob", "alice")
    # only the narrator may ask for the introduction
    refused = await say(mcore, port, ev.click("matching.connect", str(row.id), user="carol"))
    assert "Only @bob can answer this suggestion." in refused[0].text
    done = await say(mcore, port, ev.click("matching.connect", str(row.id), user="bob"))
    opened = [r for r in done if r.op == "open_dm"]
    assert opened[0].user_ids == ("bob", "alice")
    intro = [r for r in done if r.op == "send" and r.dest and r.dest.channel_id == "D-bob-alice"]
    assert "meet @alice" in intro[0].text and "Jenkins build server" in intro[0].text
    async with mcore.db.session() as s:
        [conn] = list(await s.exec(select(Connection)))
        assert (await s.get(MatchSuggestion, row.id)).outcome == "connected"  # type: ignore[union-attr]
    assert conn.suggested_by == "bot"
    # the follow-up waits for three days
    assert not any("help?" in r.text for r in port.records)
    clock.advance(days=3, minutes=1)
    await mcore.delivery.drain()
    follow_up = [r for r in port.records if "Did the introduction with @alice help?" in r.text]
    assert follow_up and "[Yes]" in follow_up[0].text
    answered = await say(mcore, port, ev.click("matching.followup.yes", str(conn.id), user="bob"))
    assert answered[0].op == "form"
    await say(
        mcore,
        port,
        ev.message(
            "",
            user="bob",
            event_kind=ev.EventKind.FORM_SUBMIT,
            action=ev.Action(
                action_id="matching.how",
                value=str(conn.id),
                values={"how": "Alice shared her workflow templates"},
            ),
        ),
    )
    async with mcore.db.session() as s:
        stored = await s.get(Connection, conn.id)
    assert stored is not None and stored.helped == "yes"
    assert stored.how_it_helped == "Alice shared her workflow templates"


async def test_not_relevant_is_recorded(mcore: Wolbot, port: RecordingPort) -> None:
    await say(
        mcore,
        port,
        ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice"),
    )
    await say(
        mcore,
        port,
        ev.message(
            "I'm working on replacing our Jenkins build server with GitHub Actions", user="bob"
        ),
    )
    async with mcore.db.session() as s:
        [row] = list(await s.exec(select(MatchSuggestion)))
    out = await say(mcore, port, ev.click("matching.dismiss", str(row.id), user="bob"))
    assert "suggest @alice less often" in out[0].text
    async with mcore.db.session() as s:
        assert (await s.get(MatchSuggestion, row.id)).outcome == "not_relevant"  # type: ignore[union-attr]


async def test_typed_thread_replies_make_introductions(mcore: Wolbot, port: RecordingPort) -> None:
    await say(
        mcore,
        port,
        ev.message(
            "Ik werk aan een DPIA voor de camera's in het centrum",
            user="anouk",
            message_id="m-anouk",
        ),
    )
    done = await say(
        mcore,
        port,
        ev.message("Dat heb ik al gedaan, vorig jaar!", user="bram", thread_id="m-anouk"),
    )
    assert [r.user_ids for r in done if r.op == "open_dm"] == [("anouk", "bram")]
    someone = await say(
        mcore,
        port,
        ev.message("Ik ken iemand die je kan helpen: @carla", user="dirk", thread_id="m-anouk"),
    )
    assert [r.user_ids for r in someone if r.op == "open_dm"] == [("anouk", "carla")]
    intro = [r for r in someone if r.op == "send" and r.dest and r.dest.channel_id.startswith("D-")]
    assert "@dirk" in intro[0].text  # says who suggested it
    assert "maak kennis met @carla" in intro[0].text  # in the narration's language
    picker = await say(
        mcore, port, ev.message("I know someone who can help", user="erik", thread_id="m-anouk")
    )
    assert "[Choose a colleague ▾]" in picker[0].text or "Kies een collega" in picker[0].text
    async with mcore.db.session() as s:
        suggested_by = [c.suggested_by for c in await s.exec(select(Connection))]
    assert suggested_by == ["bram", "dirk"]
    # a reply in a thread that is not a narration does nothing
    assert (
        await say(mcore, port, ev.message("I've done this", user="bram", thread_id="m-unknown"))
        == []
    )


async def test_profile_topics_take_part_in_matching(mcore: Wolbot, port: RecordingPort) -> None:
    out = await say(
        mcore, port, ev.command("profile add GitHub Actions and CI pipelines", user="bram")
    )
    assert "Added to your profile" in out[0].text
    shown = await say(mcore, port, ev.command("profile", user="bram"))
    assert "Ask me about: GitHub Actions and CI pipelines" in shown[0].text
    reply = sends(
        await say(
            mcore,
            port,
            ev.message(
                "Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions", user="anouk"
            ),
        )
    )
    assert "Weet misschien meer: @bram" in reply[0].text
    await say(mcore, port, ev.command("ik suggesties uit", user="bram"))  # consent, /wol me
    again = sends(
        await say(
            mcore, port, ev.message("Ik werk aan onze CI-pipelines in GitHub Actions", user="dirk")
        )
    )
    assert all("bram" not in r.message.mentioned_user_ids() for r in again)  # opted out


async def test_no_introductions_without_consent(mcore: Wolbot, port: RecordingPort) -> None:
    await say(
        mcore,
        port,
        ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice"),
    )
    await say(mcore, port, ev.command("me intros off", user="carol"))
    out = await say(
        mcore,
        port,
        ev.message("I know someone who can help: @carol", user="dave", thread_id="m-none"),
    )
    assert out == []  # not a narration thread
    async with mcore.db.session() as s:
        from bot.store.tables import Narration

        [story] = list(await s.exec(select(Narration)))
    out = await say(
        mcore,
        port,
        ev.message("I know someone who can help: @carol", user="dave", thread_id=story.message_id),
    )
    assert "@carol is not taking introductions at the moment" in out[0].text
    assert not [r for r in out if r.op == "open_dm"]


async def test_erasure_removes_vectors_from_the_index(mcore: Wolbot, port: RecordingPort) -> None:
    from bot.features.privacy import forget

    await say(
        mcore,
        port,
        ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice"),
    )
    await forget(mcore, ev.WORKSPACE, "alice")
    out = sends(
        await say(
            mcore,
            port,
            ev.message(
                "Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions", user="bob"
            ),
        )
    )
    assert out == []


async def test_expert_finder_for_questions(mcore: Wolbot, port: RecordingPort) -> None:
    await say(
        mcore,
        port,
        ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice"),
    )
    await say(
        mcore,
        port,
        ev.message(
            "I'm working on moving our CI from Jenkins to GitHub Actions",
            user="erin",
            channel="G-secret",
            kind=ConversationKind.PRIVATE,
        ),
    )
    [finder] = mcore.hooks.expert_finders
    question = "Hoe zetten we onze Jenkins-jobs om naar GitHub Actions?"
    assert await finder(ev.WORKSPACE, question, set()) == ["alice"]  # not erin: private
    assert await finder(ev.WORKSPACE, question, {"alice"}) == []
    assert await finder(ev.WORKSPACE, "Waar staat de koffieautomaat?", set()) == []


async def test_follow_up_delay_is_a_workspace_setting(
    mcore: Wolbot, port: RecordingPort, clock: FakeClock
) -> None:
    await mcore.config.set(  # what `/wol config set matching.followup_days 1` stores
        ev.WORKSPACE,
        "matching.followup_days",
        1.0,
        channel_id=None,
        actor_id="admin",
        now=clock.now(),
    )
    await say(
        mcore,
        port,
        ev.message(
            "Ik werk aan een DPIA voor de camera's in het centrum",
            user="anouk",
            message_id="m-anouk",
        ),
    )
    await say(mcore, port, ev.message("Dat heb ik al gedaan", user="bram", thread_id="m-anouk"))
    clock.advance(days=1, minutes=1)
    await mcore.delivery.drain()
    asked = [
        r for r in port.records if "Heb je iets gehad aan de kennismaking met @bram?" in r.text
    ]
    assert asked and asked[0].dest is not None


async def test_dm_narrations_are_answered_in_the_dm_and_stay_private(
    mcore: Wolbot, port: RecordingPort
) -> None:
    await say(
        mcore,
        port,
        ev.message("I'm working on moving our CI from Jenkins to GitHub Actions", user="alice"),
    )
    out = sends(
        await say(
            mcore,
            port,
            ev.dm(
                "Ik werk aan het overzetten van onze Jenkins-jobs naar GitHub Actions", user="bob"
            ),
        )
    )
    assert out[0].dest is not None and out[0].dest.channel_id == "D-bob"
    assert out[0].dest.thread_id is None and "alice" in out[0].message.mentioned_user_ids()
    # bob's DM narration is never shown to anyone else
    again = sends(
        await say(
            mcore,
            port,
            ev.message("I'm working on our Jenkins to GitHub Actions migration", user="carol"),
        )
    )
    assert all("bob" not in r.message.mentioned_user_ids() for r in again)


async def test_the_lighter_encoder_can_be_chosen_in_app_yaml(
    make_core, port: RecordingPort, use_encoder
) -> None:  # type: ignore[no-untyped-def]
    """`matching.encoder: use`: the Universal Sentence Encoder instead of e5, with its own
    space (stored with every vector) and policy; the Dutch/English pair still matches."""
    from bot.matching.encoder import UseEncoder
    from bot.store.tables.matching import MatchVector

    core: Wolbot = make_core(port, matching={"encoder": "use"})
    if matching.register not in FEATURES:
        matching.register(core.services, core.router)
    await core.start(deliver=False)
    _, second = await jenkins_pair(core, port)
    [reply] = sends(second)
    assert "alice" in reply.message.mentioned_user_ids()
    async with core.db.session() as s:  # narrations' vectors are on their rows
        models = set((await s.exec(select(MatchVector.model))).all())
        models |= set((await s.exec(select(Narration.vector_model))).all())
    assert models == {UseEncoder().name}
