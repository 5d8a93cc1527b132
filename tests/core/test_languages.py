"""Issue 16, item 1: a message to one person is in that person's language (their choice, else
the language they last wrote in, else the channel's, else the workspace's), in both
directions; public posts stay in the channel's language. (Introductions: matching/
test_bilingual_intros.py.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.events import ConversationKind
from bot.features.ask_nudges import run_nudges
from bot.features.checkins import run_checkins
from bot.langdetect import detect_language
from bot.ports import PersonInfo
from tests.conftest import CoreFactory
from tests.core.test_dialogues import run_table
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

WS = ev.WORKSPACE
MONDAY_10_AMS = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CHECKIN = {"en": "What are you working on this week?", "nl": "Waar ben je deze week mee bezig?"}
REMINDER = {"en": "A gentle reminder", "nl": "Een vriendelijke herinnering"}


def settings(workspace_language: str, **more: object) -> dict[str, object]:
    return {
        "workspaces": {
            WS: {
                "language": workspace_language,
                "timezone": "Europe/Amsterdam",
                "defaults": {"checkins": True},
                "checkins": {"days": "mon", "time": "10:00"},
                **more,
            }
        }
    }


async def started(make_core: CoreFactory, port: RecordingPort, lang: str, **more: object):  # type: ignore[no-untyped-def]
    core = make_core(port, **settings(lang, **more))
    await core.start(deliver=False, schedule=False)
    await core.directory.ensure_workspace(WS, "test")
    return core


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ik ben bezig met de nieuwe zoekfunctie", "nl"),
        ("Dank je wel", "nl"),
        ("I'm working on the new search function", "en"),
        ("Yes please", "en"),
        ("ok", None),
        ("👍", None),
        ("thanks!", None),
        ("Elasticsearch Kibana", None),
    ],
)
def test_the_written_language_is_only_taken_when_the_words_tell(text: str, expected) -> None:  # type: ignore[no-untyped-def]
    assert detect_language(text) == expected


@pytest.mark.parametrize(
    ("workspace", "said", "lang"),
    [
        ("en", "Ik ben bezig met de nieuwe intake voor de wijkteams", "nl"),
        ("nl", "I'm working on the new intake for the district teams", "en"),
    ],
)
async def test_checkin_and_reminder_in_the_language_they_last_wrote(
    make_core: CoreFactory,
    port: RecordingPort,
    clock,
    workspace: str,
    said: str,  # type: ignore[no-untyped-def]
    lang: str,
) -> None:
    clock.set(MONDAY_10_AMS)
    core = await started(make_core, port, workspace)
    for user in ("joost", "sanne"):
        await core.directory.remember_person(WS, PersonInfo(user, user), clock.now())
    await core.handle(ev.message(said, user="joost"))  # sanne never wrote anything
    await core.delivery.drain()
    assert (await run_checkins(core, clock.now()))["sent"] == 2
    await core.delivery.drain()
    asked = {r.dest.channel_id: r.text for r in port.sent() if r.dest.channel_id.startswith("D-")}
    assert CHECKIN[lang] in asked["D-joost"]
    assert CHECKIN[workspace] in asked["D-sanne"]  # nothing written: the workspace's language
    clock.advance(hours=4, minutes=5)
    assert (await run_checkins(core, clock.now()))["reminded"] == 2
    await core.delivery.drain()
    reminded = {r.dest.channel_id: r.text for r in port.sent()[-2:]}
    assert REMINDER[lang] in reminded["D-joost"] and REMINDER[workspace] in reminded["D-sanne"]


async def test_their_own_choice_beats_what_they_write(
    make_core: CoreFactory, port: RecordingPort, clock
) -> None:  # type: ignore[no-untyped-def]
    clock.set(MONDAY_10_AMS)
    core = await started(make_core, port, "en")
    await core.directory.remember_person(WS, PersonInfo("joost", "joost"), clock.now())
    await run_table(
        core,
        port,
        [
            ("joost", "/wol taal en", "From now on I'll talk to you in English."),
            ("joost", "Ik ben bezig met de nieuwe intake voor de wijkteams", "📝"),
            ("joost", "/wol me", "Your settings"),
            ("joost", "/wol language auto", "Ik gebruik weer de taal waarin je schrijft"),
            ("joost", "/wol me", "Jouw instellingen"),
        ],
    )
    assert (await run_checkins(core, clock.now()))["sent"] == 1
    await core.delivery.drain()
    assert CHECKIN["nl"] in port.sent()[-1].text


# (workspace language, who, what they type, the answer) — clicks, DMs and commands answer
# in the language the person last wrote in; the public acknowledgement stays in the channel's.
TABLE_EN = [
    ("joost", "Ik ben bezig met de nieuwe intake voor de wijkteams", "📝"),
    ("joost", "/wol pause 5", "Gepauzeerd tot"),
    ("sanne", "/wol pause 5", "Paused until"),
    ("joost", "/wol privacy", "Wat ik over je bewaar"),
]
TABLE_NL = [
    ("joost", "I'm working on the new intake for the district teams", "📝"),
    ("joost", "/wol pauze 5", "Paused until"),
    ("sanne", "/wol pauze 5", "Gepauzeerd tot"),
    ("joost", "/wol privacy", "What I keep about you"),
]


@pytest.mark.parametrize(
    ("workspace", "table"),
    [("en", TABLE_EN), ("nl", TABLE_NL)],
    ids=["en-workspace", "nl-workspace"],
)
async def test_answers_follow_the_written_language(
    make_core: CoreFactory, port: RecordingPort, workspace: str, table
) -> None:  # type: ignore[no-untyped-def]
    core = await started(make_core, port, workspace)
    await run_table(core, port, table)


@pytest.mark.parametrize(
    ("workspace", "answer", "relay_word"),
    [
        ("en", "Ik ben het er helemaal mee eens, dat is een goede vraag", "je anonieme vraag"),
        ("nl", "I think this is a good question, and I agree with it", "your anonymous question"),
    ],
)
async def test_relay_and_digest_to_one_person_in_their_language(
    make_core: CoreFactory,
    port: RecordingPort,
    clock,
    workspace: str,
    answer: str,  # type: ignore[no-untyped-def]
    relay_word: str,
) -> None:
    clock.set(datetime(2026, 1, 9, 15, 0, tzinfo=UTC))  # Friday 16:00 in Amsterdam
    core = await started(
        make_core,
        port,
        workspace,
        managers=["mona"],
        channels={"DURF": {"kind": "durf-te-vragen", "anonymous": True}},
    )
    # anna writes (in the other language) before asking anonymously; the relay follows her
    await core.handle(ev.dm(answer, user="anna"))
    await core.handle(
        ev.command(
            "ask anon Mag ik een vraag stellen over verlof?",
            user="anna",
            channel="D-anna",
            kind=ConversationKind.DM,
        )
    )
    await core.delivery.drain()
    card = next(r for r in port.sent() if r.dest.channel_id == "DURF")
    await core.handle(
        ev.message(
            "Kijk op het intranet, daar staat het.",
            user="bert",
            channel="DURF",
            thread_id=card.message_id,
            message_id="a1",
        )
    )
    await core.delivery.drain()
    relay = port.sent()[-1]
    assert relay.dest.channel_id == "D-anna" and relay_word.lower() in relay.text.lower()
    # mona wrote in the other language too: her digest is in it
    await core.handle(ev.message(answer, user="mona", channel="C1"))
    clock.set(datetime(2026, 1, 12, 11, 5, tzinfo=UTC))
    assert (await run_nudges(core, clock.now()))["digests"] == 1
    await core.delivery.drain()
    digest = port.sent()[-1]
    other = "nl" if workspace == "en" else "en"
    expected = {"nl": "wachten op waardering", "en": "waiting for a manager's acknowledgement"}
    assert digest.dest.channel_id == "D-mona"
    assert expected[other] in digest.text.lower(), digest.text
