"""Issue 16, item 9: the smaller things a new user meets, in English and Dutch."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from bot.features.topic_suggestions import short_topic
from bot.store.tables.admin import AuditEntry
from bot.store.tables.matching import ProfileTopic
from tests.core.test_dialogues import run_table
from tests.fakes import events as ev

WS = ev.WORKSPACE
YAML = {
    "workspaces": {
        WS: {
            "admins": ["alice", "bob"],
            "channels": {"C9": {"language": "nl"}, "C8": {"kind": "dialogue", "language": "nl"}},
        }
    }
}

COMMUNITY_EN = [
    (
        "alice",
        "/wol config community remove #doesnotexist",
        "#doesnotexist is not a community, so nothing changed.",
    ),
    ("alice", "/wol config community remove #C8", "#C8 is a community in app.yaml"),
    ("alice", "/wol config community add #C2 dialogue", "#C2 is now a dialogue community"),
    ("alice", "/wol config community remove #C2", "#C2 is no longer a community."),
    ("alice", "/wol config community remove #C2", "#C2 is not a community"),
]
COMMUNITY_NL = [
    (
        "bob",
        "/wol instellingen community verwijder #bestaatniet",
        "#bestaatniet is geen community, dus er is niets veranderd.",
    ),
    ("bob", "/wol instellingen community verwijder #C8", "#C8 is een community in app.yaml"),
]
ME_EN = [
    ("carol", "/wol me country XX", "XX is not a country whose public holidays I know."),
    ("carol", "/wol me country XX", "/wol me country NL"),
    ("carol", "/wol me", "public holidays of: no country"),
    ("carol", "/wol me country be", "public holidays of: Belgium"),
    ("carol", "/wol me country off", "public holidays of: no country"),
    ("carol", "/wol me pause 14", "Paused until"),
    ("carol", "/wol me pause off", "Welcome back"),
    ("carol", "/wol me resume", "Welcome back"),
    ("carol", "/wol help", "resume"),
]
ME_NL = [
    ("dirk", "/wol ik land XX", "XX is geen land waarvan ik de feestdagen ken."),
    ("dirk", "/wol ik land XX", "/wol ik land NL"),
    ("dirk", "/wol ik land nl", "feestdagen van: Nederland"),
    ("dirk", "/wol ik pauze 7", "Gepauzeerd tot"),
    ("dirk", "/wol ik pauze uit", "Welkom terug"),
    ("dirk", "/wol ik hervat", "Welkom terug"),
    ("dirk", "/wol hulp", "hervat"),
]
LONG = "the " + "very " * 100 + "long topic"
PROFILE_EN = [
    ("erin", "/wol profile add " + LONG, "A profile topic is a few words, at most 80 characters"),
    ("erin", "/wol profile add GitHub Actions", "Added to your profile: GitHub Actions"),
    # QA: a mistyped verb is not silently taken for "show my profile"
    (
        "erin",
        "/wol profile ad Kubernetes upgrades",
        "I didn't understand ad. Add a topic with /wol profile add …, remove one with "
        "/wol profile remove …",
    ),
    ("erin", "/wol profile show", "GitHub Actions"),
]
PROFILE_NL = [
    ("frank", "/wol profiel toevoegen " + LONG, "Een profielonderwerp is een paar woorden"),
    ("frank", "/wol profiel toevoegen AVG-verzoeken", "AVG-verzoeken"),
    (
        "frank",
        "/wol profiel toevoegn Kubernetes-upgrades",
        "toevoegn begreep ik niet. Voeg een onderwerp toe met /wol profiel toevoegen …, "
        "haal er een "
        "weg met /wol profiel verwijderen …",
    ),
    ("frank", "/wol profiel toon", "AVG-verzoeken"),
]
STATS_EN = [("gert", "/wol me stats", "Your first week with activity here: welcome!")]
STATS_NL = [("henk", "/wol ik cijfers", "Je eerste week met activiteit hier: welkom!")]


@pytest.fixture
async def ycore(make_core, port):
    core = make_core(port, **YAML)
    await core.start(deliver=False)
    return core


@pytest.mark.parametrize(
    ("table", "channel"),
    [
        (COMMUNITY_EN, "C1"),
        (COMMUNITY_NL, "C9"),
        (ME_EN, "C1"),
        (ME_NL, "C9"),
        (PROFILE_EN, "C1"),
        (PROFILE_NL, "C9"),
    ],
    ids=["community-en", "community-nl", "me-en", "me-nl", "profile-en", "profile-nl"],
)
async def test_small_fixes(ycore, port, table, channel) -> None:
    await run_table(ycore, port, table, channel=channel)


async def test_removing_what_is_not_a_community_is_not_audited(ycore, port) -> None:
    await run_table(ycore, port, COMMUNITY_EN[:2])
    async with ycore.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(AuditEntry))).one() == 0


async def test_a_too_long_topic_is_not_stored(ycore, port) -> None:
    await run_table(ycore, port, PROFILE_EN[:1])
    async with ycore.db.session() as s:
        assert list(await s.exec(select(ProfileTopic))) == []


@pytest.mark.parametrize(
    ("table", "channel", "narration"),
    [
        (STATS_EN, "C1", "I'm working on the onboarding checklist for new nurses"),
        (STATS_NL, "C9", "Ik ben bezig met de AVG-verzoeken van de gemeente"),
    ],
    ids=["en", "nl"],
)
async def test_a_new_person_is_welcomed_not_told_they_moved_up(
    ycore, port, table, channel, narration
) -> None:
    await ycore.handle(ev.message(narration, user=table[0][0], channel=channel))
    await ycore.delivery.drain()
    await run_table(ycore, port, table, channel=channel)
    assert "moved up" not in port.records[-1].text and "hoger" not in port.records[-1].text


@pytest.mark.parametrize(
    ("said", "expected", "channel"),
    [
        (
            "I'm working on the onboarding checklist for new nurses, because the old one is "
            "outdated and nobody reads it",
            "“onboarding checklist for new nurses”",
            "C1",
        ),
        (
            "Ik ben bezig met de migratie van de Exchange-mailboxen naar Microsoft 365 zodat "
            "iedereen in de cloud werkt",
            "“migratie van de Exchange-mailboxen”",
            "C9",
        ),
    ],
    ids=["en", "nl"],
)
async def test_a_topic_suggestion_is_short(ycore, port, said, expected, channel) -> None:
    await ycore.handle(ev.message(said, user="ivo", channel=channel))
    await ycore.delivery.drain()
    command = "/wol profiel" if channel == "C9" else "/wol profile"
    await run_table(ycore, port, [("ivo", command, expected)], channel=channel)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("the Q3 forecast model for the finance team", "Q3 forecast model"),
        (
            "I spend my days rewriting the intake form for the youth care teams in three towns",
            "rewriting the intake form",
        ),
        (
            "Vandaag werk ik aan een nieuwe intake voor de wijkteams",
            "nieuwe intake voor de wijkteams",
        ),
        ("AVG", "AVG"),
    ],
)
def test_short_topic(text, topic) -> None:
    assert short_topic(text) == topic
