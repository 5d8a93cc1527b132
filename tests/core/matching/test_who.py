"""`/wol who <topic>` / `/wol wie <onderwerp>`: who may know, privately, best first, with
Connect me; consent, visibility and the asker respected; nobody rather than somebody
unrelated, with the offer to ask in the durf-te-vragen channel — English and Dutch."""

from __future__ import annotations

import json

import pytest

from bot.events import ConversationKind
from bot.features.who import find_colleagues
from bot.runtime import Wolbot
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

WS = ev.WORKSPACE
SETTINGS = {
    "workspaces": {WS: {"channels": {"DURF": {"kind": "durf-te-vragen", "language": "nl"}}}}
}

NARRATIONS = [
    ("alice", "I'm working on upgrading our Kubernetes clusters to 1.29 on AKS", "C1"),
    ("bob", "Ik ben bezig met een vast proces voor AVG-inzageverzoeken", "C1"),
    ("carol", "I'm working on the summer barbecue for the whole department", "C1"),
    ("dirk", "Ik werk aan de nieuwe huisstijl voor de website", "C1"),
    ("frank", "I'm working on handling GDPR subject access requests faster", "C1"),
]


@pytest.fixture
async def wcore(make_core, port: RecordingPort) -> Wolbot:  # type: ignore[no-untyped-def]
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False, schedule=False)
    for user, text, channel in NARRATIONS:
        await core.handle(ev.message(text, user=user, channel=channel))
    await core.delivery.drain()
    return core


async def ask(core: Wolbot, port: RecordingPort, said: str, user: str = "erin", **kw) -> list:  # type: ignore[no-untyped-def]
    before = len(port.records)
    if said.startswith("/wol"):
        await core.handle(ev.command(said[4:].strip(), user=user, **kw))
    else:
        await core.handle(ev.click(*said.split(" ", 1), user=user, **kw))
    await core.delivery.drain()
    return [r for r in port.records[before:] if r.op == "send"]


def named(record) -> list[str]:  # type: ignore[no-untyped-def]
    return list(dict.fromkeys(record.message.mentioned_user_ids()))


WHO_EN = [
    (
        "/wol who kubernetes upgrades",
        "Colleagues who may know about kubernetes upgrades:",
        ["alice"],
    ),
    ("/wol who about subject access requests?", "Colleagues who may know about", ["frank"]),
    # the whole question typed: its subject is searched for and shown
    (
        "/wol who does anyone know something about Kubernetes upgrades?",
        "Colleagues who may know about Kubernetes upgrades:",
        ["alice"],
    ),
    (
        "/wol who quantum chemistry of catalysts, anyone?",
        "I don't know anyone yet who works on quantum chemistry of catalysts.",
        [],
    ),
    ("/wol who who knows about?", "Who are you looking for?", []),
    (
        "/wol who knows something about kubernetes upgrades?",
        "Colleagues who may know about kubernetes upgrades:",
        ["alice"],
    ),
    (
        "/wol who quantum chemistry of catalysts",
        "I don't know anyone yet who works on quantum chemistry of catalysts.",
        [],
    ),
    ("/wol who", "Who are you looking for? For example: /wol who kubernetes upgrades", []),
]
WHO_NL = [
    (
        "/wol wie AVG-inzageverzoeken",
        "Collega's die misschien iets weten over AVG-inzageverzoeken:",
        ["bob"],
    ),
    (
        "/wol wie kwantumchemie van katalysatoren",
        "Ik ken nog niemand die met kwantumchemie van katalysatoren bezig is.",
        [],
    ),
    ("/wol wie", "Wie zoek je? Bijvoorbeeld: /wol wie AVG-inzageverzoeken", []),
    (
        "/wol wie heeft er ervaring met AVG-inzageverzoeken?",
        "Collega's die misschien iets weten over AVG-inzageverzoeken:",
        ["bob"],
    ),
    (
        "/wol wie weet er iets van AVG-inzageverzoeken?",
        "Collega's die misschien iets weten over AVG-inzageverzoeken:",
        ["bob"],
    ),
    (
        "/wol wie kwantumchemie van katalysatoren, wie weet daar meer van?",
        "Ik ken nog niemand die met kwantumchemie van katalysatoren bezig is.",
        [],
    ),
]


@pytest.mark.parametrize("table", [WHO_EN, WHO_NL], ids=["who-en", "who-nl"])
async def test_who_table(wcore: Wolbot, port: RecordingPort, table) -> None:  # type: ignore[no-untyped-def]
    for said, expected, first in table:
        [answer] = await ask(wcore, port, said)
        assert answer.dest.ephemeral_user == "erin"  # private
        assert expected in answer.text, (said, answer.text)
        if first:
            assert named(answer)[: len(first)] == first, (said, answer.text)
        assert "erin" not in named(answer)


async def test_the_answer_says_why_and_never_names_the_asker(wcore: Wolbot, port) -> None:  # type: ignore[no-untyped-def]
    [answer] = await ask(wcore, port, "/wol who kubernetes upgrades", user="alice")
    assert "alice" not in named(answer)
    [answer] = await ask(wcore, port, "/wol who kubernetes upgrades")
    assert "(today): “upgrading our Kubernetes clusters to 1.29 on AKS”" in answer.text
    assert "[Connect me]" in answer.text
    assert "carol" not in named(answer) and "dirk" not in named(answer)


async def test_opted_out_and_private_narrations_never_appear(wcore: Wolbot, port) -> None:  # type: ignore[no-untyped-def]
    await wcore.handle(
        ev.message(
            "I'm working on Kubernetes upgrades for the AKS clusters",
            user="gina",
            channel="G-secret",
            kind=ConversationKind.PRIVATE,
        )
    )
    await wcore.handle(ev.command("me matching off", user="alice"))
    await wcore.delivery.drain()
    [answer] = await ask(wcore, port, "/wol who kubernetes upgrades")
    assert "alice" not in named(answer) and "gina" not in named(answer)
    # in the private channel itself its narrations may be named
    found = await find_colleagues(
        wcore, WS, "erin", "kubernetes upgrades", channel_id="G-secret", visibility="private"
    )
    assert [c.person_id for c in found] == ["gina"]
    # another workspace sees nothing of this one
    assert await find_colleagues(wcore, "other-ws", "erin", "kubernetes upgrades") == []


def connect_ids(record) -> list[str]:  # type: ignore[no-untyped-def]
    """The action ids of the Connect me buttons of an answer, in order."""
    return [
        el.action_id
        for block in record.message.blocks
        for el in getattr(block, "elements", ())
        if el.action_id.startswith("who.connect")
    ]


async def test_profile_topics_count_and_connect_me_introduces(wcore: Wolbot, port) -> None:  # type: ignore[no-untyped-def]
    await wcore.handle(ev.command("profile add Kubernetes upgrades", user="hank"))
    await wcore.delivery.drain()
    [answer] = await ask(wcore, port, "/wol who kubernetes upgrades")
    assert named(answer)[0] == "hank"
    assert "@hank, ask me about: Kubernetes upgrades" in answer.text
    connect = connect_ids(answer)[0]
    value = json.dumps({"a": "erin", "t": "kubernetes upgrades", "l": "en"})
    refused = await ask(wcore, port, f"{connect} {value}", user="mallory")
    assert all(r.dest.channel_id != "D-erin-hank" for r in refused)
    done = await ask(wcore, port, f"{connect} {value}")
    intro = [r for r in done if r.dest.channel_id == "D-erin-hank"]
    assert (
        intro
        and (
            "@erin is looking for someone who knows about “kubernetes upgrades”; "
            "@hank can be asked about:"
        )
        in intro[0].text
    )
    assert "> Kubernetes upgrades\n— @hank" in intro[0].text


async def test_nobody_fits_offers_the_durf_te_vragen_channel(wcore: Wolbot, port) -> None:  # type: ignore[no-untyped-def]
    [answer] = await ask(wcore, port, "/wol wie kwantumchemie van katalysatoren")
    assert "[Vraag het in durf-te-vragen]" in answer.text
    value = json.dumps({"a": "erin", "t": "kwantumchemie van katalysatoren", "l": "nl"})
    posted = await ask(wcore, port, f"who.ask {value}")
    card = [r for r in posted if r.dest.channel_id == "DURF"]
    assert card and "Wie weet er iets over kwantumchemie van katalysatoren?" in card[0].text


async def test_the_form_of_the_app_home_button_answers_privately(wcore: Wolbot, port) -> None:  # type: ignore[no-untyped-def]
    from bot.features.who import TOPIC_FIELD, WHO_BUTTON, WHO_FORM

    opened = await ask(wcore, port, f"{WHO_BUTTON} x", user="erin")
    forms = [r for r in port.records if r.op == "form"]
    assert opened == [] and forms and forms[-1].form.form_id == WHO_FORM
    before = len(port.records)
    await wcore.handle(
        ev.message(
            "",
            user="erin",
            event_kind=ev.EventKind.FORM_SUBMIT,
            action=ev.Action(
                action_id=WHO_FORM, form_id=WHO_FORM, values={TOPIC_FIELD: "kubernetes upgrades?"}
            ),
        )
    )
    await wcore.delivery.drain()
    [answer] = [r for r in port.records[before:] if r.op == "send"]
    assert "Colleagues who may know about kubernetes upgrades:" in answer.text
    assert named(answer)[0] == "alice"


# -- a short topic naming a product or rare word finds who mentions it (QA, issue 15) ---------
MENTIONS = [
    ("wes", "I'm working on the SharePoint intranet migration to the new tenant", "C1"),
    ("xan", "Ik ben bezig met de migratie van het SharePoint-intranet naar de nieuwe tenant", "C1"),
    (
        "anouk",
        "I'm working on migrating the patient appointment reminders from SMS to the MyChart app",
        "C1",
    ),
    (
        "bram",
        "Ik ben bezig met het overzetten van de herinneringen voor patiëntafspraken van "
        "sms naar de MyChart-app",
        "C1",
    ),
]
MENTION_EN = [
    ("/wol who SharePoint", "Colleagues who may know about SharePoint:", {"wes", "xan"}),
    ("/wol who intranet", "Colleagues who may know about intranet:", {"wes", "xan"}),
    ("/wol who SMS", "Colleagues who may know about SMS:", {"anouk", "bram"}),
    ("/wol who MyChart", "Colleagues who may know about MyChart:", {"anouk", "bram"}),
    ("/wol who Kubernetes", "I don't know anyone yet who works on Kubernetes.", set()),
]
MENTION_NL = [
    ("/wol wie sharepoint", "Collega's die misschien iets weten over sharepoint:", {"wes", "xan"}),
    ("/wol wie SMS", "Collega's die misschien iets weten over SMS:", {"anouk", "bram"}),
    ("/wol wie mychart", "Collega's die misschien iets weten over mychart:", {"anouk", "bram"}),
    ("/wol wie Kubernetes", "Ik ken nog niemand die met Kubernetes bezig is.", set()),
]


@pytest.mark.parametrize("table", [MENTION_EN, MENTION_NL], ids=["mention-en", "mention-nl"])
async def test_a_short_topic_finds_who_names_it(make_core, port: RecordingPort, table) -> None:  # type: ignore[no-untyped-def]
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False, schedule=False)
    for user, text, channel in MENTIONS:
        await core.handle(ev.message(text, user=user, channel=channel))
    await core.delivery.drain()
    for said, expected, people in table:
        [answer] = await ask(core, port, said, user="yas")
        assert expected in answer.text, (said, answer.text)
        assert set(named(answer)) == people, (said, answer.text)
    # consent and visibility still rule: an opted-out person is never named
    await core.handle(ev.command("me matching off", user="xan"))
    await core.delivery.drain()
    [answer] = await ask(core, port, table[0][0], user="yas")
    assert set(named(answer)) == table[0][2] - {"xan"}


# -- no durf-te-vragen channel; a content-free topic (QA, issue 15) ---------------------------
NO_DURF = [
    (
        "/wol who quantum chemistry of catalysts",
        "I don't know anyone yet who works on quantum chemistry of catalysts. There is no "
        "durf-te-vragen channel to ask it in yet: an admin can make one with /wol config "
        "community add #durf-te-vragen durf-te-vragen.",
    ),
    (
        "/wol wie kwantumchemie van katalysatoren",
        "Ik ken nog niemand die met kwantumchemie van katalysatoren bezig is. Er is nog geen "
        "durf-te-vragen-kanaal om het in te vragen: een beheerder kan er een maken met "
        "{example}.",
    ),
]
NO_DURF_LANGUAGE = ["en", "nl"]
VAGUE = [
    (
        "/wol who the project",
        "the project says too little for me to find someone. Could you "
        "be more specific? For example: /wol who kubernetes upgrades",
    ),
    (
        "/wol wie het project",
        "Met het project kan ik nog niemand vinden: dat zegt te weinig. "
        "Kun je het specifieker maken? Bijvoorbeeld: /wol wie AVG-inzageverzoeken",
    ),
]


async def test_without_a_durf_te_vragen_channel_no_offer(make_core, port: RecordingPort) -> None:  # type: ignore[no-untyped-def]
    core = make_core(port)
    await core.start(deliver=False, schedule=False)
    for user, text, channel in NARRATIONS:
        await core.handle(ev.message(text, user=user, channel=channel))
    await core.delivery.drain()
    from bot.features.ask_channels import EX_ADD_DURF

    for (said, expected), lang in zip(NO_DURF, NO_DURF_LANGUAGE, strict=True):
        # the admin command in the reader's words, as the catalogue has it
        expected = expected.replace("{example}", core.i18n.get(lang).gettext(EX_ADD_DURF))
        [answer] = await ask(core, port, said)
        assert expected in answer.text, (said, answer.text)
        assert "[" not in answer.text  # no button
    assert "#durf-te-vragen" in answer.text


async def test_a_content_free_topic_asks_for_more(wcore: Wolbot, port: RecordingPort) -> None:
    for said, expected in VAGUE:
        [answer] = await ask(wcore, port, said)
        assert expected in answer.text, (said, answer.text)
        assert "durf-te-vragen" not in answer.text and not named(answer)


# -- Connect me: the search named as a search, their work quoted; bound to the asker -----------
async def test_connect_me_quotes_their_narration_in_both_languages(make_core, port) -> None:  # type: ignore[no-untyped-def]
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False, schedule=False)
    for user, text, channel in MENTIONS:
        await core.handle(ev.message(text, user=user, channel=channel))
    await core.delivery.drain()
    [answer] = await ask(core, port, "/wol who SharePoint-intranet", user="yas")
    by_person = dict(zip(named(answer), connect_ids(answer), strict=True))
    value = json.dumps({"a": "yas", "t": "SharePoint-intranet", "l": "en"})
    done = await ask(core, port, f"{by_person['xan']} {value}", user="yas")
    [intro] = [r for r in done if r.dest.channel_id == "D-yas-xan"]
    text = intro.text
    assert (
        "@yas is looking for someone who knows about “SharePoint-intranet”; @xan is "
        "working on this:"
    ) in text
    assert (
        "@yas zoekt iemand die iets weet over “SharePoint-intranet”; @xan is hiermee bezig:"
    ) in text
    assert "— @yas" not in text  # the search is no quote of her work
    assert "SharePoint-intranet naar de nieuwe tenant" in text and "— @xan" in text


async def test_a_forged_connect_me_introduces_nobody(make_core, port) -> None:  # type: ignore[no-untyped-def]
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False, schedule=False)
    for user, text, channel in MENTIONS:
        await core.handle(ev.message(text, user=user, channel=channel))
    await core.delivery.drain()
    [answer] = await ask(core, port, "/wol who SMS", user="yas")
    genuine = connect_ids(answer)[0]
    base, _, tag = genuine.rpartition("~")
    value = json.dumps({"a": "mallory", "t": "SMS", "l": "nl"})
    forged = [
        base,  # no tag
        base.rsplit(":", 1)[0] + ":1~" + tag,  # another item under the asker's tag
        genuine,  # the asker's own button, clicked by somebody else
    ]
    for action_id in forged:
        sent = await ask(core, port, f"{action_id} {value}", user="mallory")
        assert not [
            r
            for r in sent
            if r.dest.channel_id
            and r.dest.channel_id.startswith("D-")
            and "mallory" in r.dest.channel_id
        ], action_id
    assert not [
        r
        for r in port.records
        if (r.op == "send" and "meet" in (r.text or "")) or "zoekt iemand" in (r.text or "")
    ]
