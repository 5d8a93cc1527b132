"""Durf te vragen: named and anonymous questions, acknowledgement, nudges, answers, thanks,
and an anonymity check over the whole database."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.events import Action, EventKind
from bot.features.ask_card import current_card
from bot.features.ask_nudges import run_nudges, working_hours
from bot.messages import OutboundMessage
from bot.ports import PersonInfo
from bot.store.tables import metadata
from bot.store.tables.asks import Acknowledgement, Question, Thanks
from tests.core.test_dialogues import run_table
from tests.fakes import events as ev

WS = ev.WORKSPACE
DURF = {
    "env": {"WOLBOT_SECRET_KEY": "test-secret-key-that-is-long-enough"},
    "workspaces": {
        WS: {
            "admins": ["alice"],
            "managers": ["mona"],
            "timezone": "Europe/Amsterdam",
            "channels": {"DURF": {"kind": "durf-te-vragen", "anonymous": True, "language": "nl"}},
        }
    },
}
FRIDAY_16 = datetime(2026, 1, 9, 15, 0, tzinfo=UTC)  # 16:00 in Amsterdam


@pytest.fixture
async def dcore(make_core, port, clock):
    port.people["anna"] = PersonInfo("anna", "Anna de Vries", email="anna@example.org")
    clock.set(FRIDAY_16)
    core = make_core(port, **DURF)
    await core.start(deliver=False, schedule=False)
    return core


async def run(core, event):
    ctx = await core.handle(event)
    await core.delivery.drain()
    return ctx


def cards(port):
    return [
        r
        for r in port.sent()
        if r.message
        and any(
            b.type == "actions" and b.elements[0].action_id == "ask.ack" for b in r.message.blocks
        )
    ]


async def questions(core) -> list[Question]:
    async with core.db.session() as s:
        return list(await s.exec(select(Question).order_by(Question.id)))


async def test_a_message_in_the_channel_is_a_question_with_an_acknowledge_card(dcore, port):
    await run(
        dcore, ev.message("Hoe vraag ik verlof aan?", user="bert", channel="DURF", message_id="q1")
    )
    [card] = cards(port)
    assert card.dest.thread_id == "q1"
    assert "Leidinggevenden: waardeer" in card.text  # the channel's language
    [question] = await questions(dcore)
    assert (question.asker_id, question.message_id, question.language) == ("bert", "q1", "nl")


async def test_ask_from_anywhere_posts_into_the_channel(dcore, port):
    await run(dcore, ev.command("ask How do I book a meeting room?", user="bert", channel="C7"))
    posted = [r for r in port.sent() if r.dest.channel_id == "DURF"]
    assert "Vraag van @bert (#1)" in posted[0].text and "book a meeting room" in posted[0].text
    assert "Your question is in #DURF (#1)." in port.sent()[-1].text


async def test_a_manager_acknowledges_and_others_are_refused_kindly(dcore, port):
    await run(
        dcore,
        ev.message(
            "Mag ik een vraag stellen over de cao?", user="bert", channel="DURF", message_id="q1"
        ),
    )
    await run(dcore, ev.click("ask.ack", "1", user="carl", channel="DURF"))
    assert "is voor leidinggevenden" in port.sent()[-1].text  # the channel speaks Dutch
    await run(dcore, ev.click("ask.ack", "1", user="mona", channel="DURF"))
    ack = port.sent()[-1]
    assert ack.dest.thread_id == "q1" and "Wat goed dat je dit vraagt!" in ack.text
    assert "— @mona" in ack.text
    await run(dcore, ev.click("ask.ack", "1", user="mona", channel="DURF"))
    assert "al gewaardeerd" in port.sent()[-1].text
    [question] = await questions(dcore)
    assert question.first_ack_at is not None


async def test_acknowledge_with_a_note_opens_a_form(dcore, port):
    await run(
        dcore,
        ev.message(
            "Waar vind ik de declaratieregels?", user="bert", channel="DURF", message_id="q1"
        ),
    )
    await run(dcore, ev.click("ask.ack_note", "1", user="alice", channel="DURF"))
    form = port.sent("form")[-1].form
    assert form.form_id == "ask.ack_form" and form.private_metadata == "1"
    await run(
        dcore,
        ev.message(
            "",
            user="alice",
            channel="DURF",
            event_kind=EventKind.FORM_SUBMIT,
            action=Action(
                action_id="ask.ack_form",
                form_id="ask.ack_form",
                value="1",
                values={"note": "Goede vraag, Bert!"},
            ),
        ),
    )
    ack = port.sent()[-1]
    assert [b.type for b in ack.message.blocks] == ["section", "quote", "context"]
    assert "Goede vraag, Bert!" in ack.text


async def test_the_ack_text_can_be_configured(dcore, port):
    await run(dcore, ev.command("config set ack_text Fijn dat je dit deelt! #DURF", user="alice"))
    await run(
        dcore,
        ev.message(
            "Wie weet hoe de nieuwe printer werkt?", user="bert", channel="DURF", message_id="q1"
        ),
    )
    await run(dcore, ev.click("ask.ack", "1", user="mona", channel="DURF"))
    assert "Fijn dat je dit deelt!" in port.sent()[-1].text


async def test_anonymous_question_relay_follow_up_and_answered(dcore, port):
    await run(
        dcore,
        ev.command(
            "ask anon Is het normaal dat ik me onzeker voel over AI?",
            user="anna",
            channel="D-anna",
            kind=ev.ConversationKind.DM,
        ),
    )
    posted = next(r for r in port.sent() if r.dest.channel_id == "DURF")
    assert "Anonieme vraag (#1)" in posted.text and "anna" not in posted.text.lower()
    await run(
        dcore,
        ev.message(
            "Heel normaal, ik ook. Kom eens koffie drinken.",
            user="bert",
            channel="DURF",
            thread_id=posted.message_id,
            message_id="a1",
        ),
    )
    relay = port.sent()[-1]
    assert relay.dest.channel_id == "D-anna" and "Heel normaal" in relay.text
    assert "anonieme vraag #1" in relay.text.lower()
    await run(
        dcore,
        ev.command(
            "ask reply 1 Dank je, dat helpt!",
            user="anna",
            channel="D-anna",
            kind=ev.ConversationKind.DM,
        ),
    )
    follow_up = [r for r in port.sent() if r.dest.thread_id == posted.message_id][-1]
    assert "Dank je, dat helpt!" in follow_up.text and "anna" not in follow_up.text.lower()
    await run(dcore, ev.command("ask reply 1 Ik ben het niet", user="bert"))
    assert "Alleen degene die vraag #1 stelde" in port.sent()[-1].text  # bert writes Dutch
    button = relay.message.blocks[-1].elements[0]
    await run(dcore, ev.click(button.action_id, button.value, user="anna", channel="D-anna"))
    react = port.sent("react")[-1]
    assert (react.message_id, react.emoji) == ("a1", "white_check_mark")
    [question] = await questions(dcore)
    assert question.answered_at is not None and question.first_answer_at is not None


async def test_anonymous_questions_are_limited_and_need_permission(make_core, port, clock):
    core = make_core(port, **DURF)
    for i in range(3):
        await run(core, ev.command(f"ask anon question {i}?", user="anna"))
    await run(core, ev.command("ask anon one more?", user="anna"))
    assert "that's the limit" in port.sent()[-1].text
    closed = {
        **DURF,
        "workspaces": {
            WS: {
                **DURF["workspaces"][WS],
                "channels": {"DURF": {"kind": "durf-te-vragen", "anonymous": False}},
            }
        },
    }
    other = make_core(port, **closed)
    await run(other, ev.command("ask anon is this allowed?", user="bert"))
    assert "Anonymous questions are not allowed in #DURF" in port.sent()[-1].text


async def snapshot(core) -> set[tuple[str, str]]:
    rows = set()
    async with core.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in (await conn.execute(text(f'SELECT * FROM "{table.name}"'))).mappings():
                rows.add((table.name, json.dumps(dict(row), default=str, sort_keys=True)))
    return rows


async def test_anonymity_no_trace_of_the_asker_in_the_database(dcore, port):
    # anna is a known colleague beforehand: she has used the bot in a DM and a channel
    await run(dcore, ev.dm("the intranet migration and its planning", user="anna"))
    await run(dcore, ev.message("I'm working on the new rota", user="anna", channel="C1"))
    before = await snapshot(dcore)
    await run(
        dcore,
        ev.command(
            "ask anon Hoe meld ik een fout zonder iemand te beschuldigen?",
            user="anna",
            channel="D-anna",
            kind=ev.ConversationKind.DM,
        ),
    )
    card = next(r for r in port.sent() if r.dest.channel_id == "DURF")
    await run(
        dcore,
        ev.message(
            "Via het VIM-formulier, dat is anoniem.",
            user="bert",
            channel="DURF",
            thread_id=card.message_id,
            message_id="a1",
        ),
    )
    await run(
        dcore,
        ev.command(
            "ask reply 1 Dank je!", user="anna", channel="D-anna", kind=ev.ConversationKind.DM
        ),
    )
    await run(dcore, ev.click("ask.answered", "1:a1", user="anna", channel="D-anna"))
    await run(dcore, ev.click("ask.ack", "1", user="mona", channel="DURF"))
    new = await snapshot(dcore) - before
    needles = ["anna", "Anna de Vries", "anna@example.org", "D-anna"]
    needles += [hashlib.new(h, b"anna").hexdigest() for h in ("md5", "sha1", "sha256")]
    needles += [hashlib.sha256(f"{WS}\x1fanna".encode()).hexdigest()]
    leaks = [
        f"{table}: {row[:160]}"
        for table, row in new
        if any(n.lower() in row.lower() for n in needles)
    ]
    assert leaks == []
    assert any(table == "ask_question" for table, _ in new)  # the question itself is there


async def test_working_hours_skip_nights_and_weekends():
    friday_16 = datetime(2026, 1, 9, 15, 0, tzinfo=UTC)
    monday_12 = datetime(2026, 1, 12, 11, 0, tzinfo=UTC)
    assert working_hours(friday_16, monday_12, "Europe/Amsterdam") == pytest.approx(4.0)


async def test_one_digest_for_unacknowledged_questions_after_four_working_hours(dcore, port, clock):
    await run(dcore, ev.message("Vraag een", user="bert", channel="DURF", message_id="q1"))
    await run(dcore, ev.message("Vraag twee", user="carl", channel="DURF", message_id="q2"))
    clock.set(datetime(2026, 1, 12, 10, 30, tzinfo=UTC))  # Monday 11:30: 3.5 working hours
    assert (await run_nudges(dcore, clock.now()))["digests"] == 0
    clock.set(datetime(2026, 1, 12, 11, 5, tzinfo=UTC))  # Monday 12:05: past 4 working hours
    assert (await run_nudges(dcore, clock.now()))["digests"] == 1  # one DM to mona
    await dcore.delivery.drain()
    digest = port.sent()[-1]
    assert digest.dest.channel_id == "D-mona" and "Vraag een" in digest.text
    assert "Vraag twee" in digest.text
    clock.advance(hours=3)
    assert (await run_nudges(dcore, clock.now()))["digests"] == 0  # once per question


async def test_unanswered_questions_get_up_to_three_people_who_may_know(dcore, port, clock):
    async def finder(workspace_id, question_text, leave_out):
        return [p for p in ["bert", "erin", "fred", "gus", "hank"] if p not in leave_out]

    dcore.hooks.expert_finders.append(finder)
    await run(dcore, ev.command("me matching off", user="fred"))
    await run(dcore, ev.message("Wie kent Power BI?", user="bert", channel="DURF", message_id="q1"))
    clock.advance(hours=23)
    assert (await run_nudges(dcore, clock.now()))["suggestions"] == 0
    clock.advance(hours=2)
    assert (await run_nudges(dcore, clock.now()))["suggestions"] == 1
    await dcore.delivery.drain()
    hint = port.sent()[-1]
    assert hint.dest.thread_id == "q1"
    assert hint.message.mentioned_user_ids() == ("erin", "gus", "hank")
    assert (await run_nudges(dcore, clock.now()))["suggestions"] == 0


async def test_the_asker_marks_an_answer_with_a_check(dcore, port):
    await run(
        dcore, ev.message("Waar staat de sleutel?", user="bert", channel="DURF", message_id="q1")
    )
    await run(
        dcore,
        ev.message("In de kast.", user="carl", channel="DURF", thread_id="q1", message_id="a1"),
    )
    await run(
        dcore,
        ev.message(
            "",
            user="bert",
            channel="DURF",
            thread_id="q1",
            event_kind=EventKind.REACTION_ADDED,
            action=Action(action_id="reaction", value="white_check_mark", message_id="a1"),
        ),
    )
    [question] = await questions(dcore)
    assert question.answer_message_id == "a1" and question.answered_at is not None
    assert port.sent("react")[-1].message_id == "a1"


async def test_thanks_in_public_with_a_daily_limit(dcore, port):
    await run(dcore, ev.message("I'm working on the onboarding", user="bert", message_id="n1"))
    await run(
        dcore,
        ev.command(
            "thanks @carl for the checklist template", user="bert", channel="C1", thread_id="n1"
        ),
    )
    said = port.sent()[-1]
    assert "🙌 @bert thanks @carl:" in said.text and said.dest.thread_id == "n1"
    async with dcore.db.session() as s:
        thanks = (await s.exec(select(Thanks))).one()
    assert thanks.narration_id is not None
    await run(dcore, ev.command("thanks @bert for nothing", user="bert"))
    assert "keep thanks for others" in port.sent()[-1].text
    for i in range(9):
        await run(dcore, ev.command(f"bedankt @p{i} voor de hulp", user="bert"))
    await run(dcore, ev.command("thanks @zed for the coffee", user="bert"))
    assert "daily limit" in port.sent()[-1].text
    await run(dcore, ev.command("thanks for nothing", user="bert"))
    assert "Who and what for?" in port.sent()[-1].text


async def test_thanks_never_takes_a_broadcast_for_a_person(dcore, port):
    await run(dcore, ev.command("thanks @carl for telling @channel and @here", user="bert"))
    async with dcore.db.session() as s:
        receivers = list(await s.exec(select(Thanks.receiver_id)))
    assert receivers == ["carl"]
    await run(dcore, ev.command("thanks @everyone for the party", user="bert"))
    assert "Who and what for?" in port.sent()[-1].text


async def test_admin_hides_an_anonymous_question(dcore, port):
    await run(dcore, ev.command("ask anon a rude question", user="anna"))
    await run(dcore, ev.command("ask hide 1", user="carl"))
    assert "Only wolbot admins" in port.sent()[-1].text
    await run(dcore, ev.command("ask hide 1", user="alice"))
    update = port.sent("update")[-1]
    assert "verborgen door een beheerder" in update.text  # in the channel's language
    [question] = await questions(dcore)
    assert question.hidden


async def test_manager_ack_is_recorded_for_metrics(dcore, port):
    await run(dcore, ev.message("Vraag", user="bert", channel="DURF", message_id="q1"))
    await run(dcore, ev.click("ask.ack", "1", user="mona", channel="DURF"))
    async with dcore.db.session() as s:
        ack = (await s.exec(select(Acknowledgement))).one()
    assert ack.manager_id == "mona"


# QA defects (issue 16/17): a hidden question stays hidden and closed; replying as the asker
# says so, and only the asker may; the anonymous confirmation says answers come by DM.
HIDDEN_EN = [
    (
        "zoe",
        "/wol ask anon Why is my manager always late?",
        "I'll send you the answers in a direct message.",
    ),
    ("alice", "/wol ask hide 1", "Question #1 is hidden."),
    ("zoe", "/wol ask answered 1", "Question #1 was hidden by an admin, so it's closed"),
    (
        "zoe",
        "/wol ask reply 1 adding more detail",
        "Question #1 was hidden by an admin, so it's closed",
    ),
    (
        "bert",
        "/wol ask How do I book a meeting room for the team?",
        "Your question is in #DURF (#2).",
    ),
    (
        "bert",
        "/wol ask reply 2 more detail about the room",
        "Your reply is in the thread of question #2 in #DURF.",
    ),
    ("bert", "/wol ask reply 2", "What would you like to add? For example: /wol ask reply 2 …"),
    (
        "carl",
        "/wol ask reply 2 hello there, I know this one",
        "Only the person who asked question #2 can reply to it as the asker.",
    ),
    ("alice", "/wol ask hide 2", "Question #2 is hidden."),
]
HIDDEN_NL = [
    (
        "sanne",
        "/wol vraag anoniem Waarom is mijn leidinggevende altijd te laat?",
        "De antwoorden stuur ik je in een privébericht.",
    ),
    ("alice", "/wol vraag verberg 1", "Vraag #1 is verborgen."),
    ("sanne", "/wol vraag beantwoord 1", "Vraag #1 is verborgen door een beheerder"),
    (
        "sanne",
        "/wol vraag antwoord 1 nog wat meer uitleg",
        "Vraag #1 is verborgen door een beheerder",
    ),
    (
        "bram",
        "/wol vraag Hoe boek ik een vergaderruimte voor het team?",
        "Je vraag staat in #DURF (#2).",
    ),
    (
        "bram",
        "/wol vraag antwoord 2 nog wat meer uitleg over de ruimte",
        "Je reactie staat in de draad van vraag #2 in #DURF.",
    ),
    (
        "bram",
        "/wol vraag antwoord 2",
        "Wat wil je toevoegen? Bijvoorbeeld: /wol vraag antwoord 2 …",
    ),
    ("kees", "/wol vraag antwoord 2 hallo", "Alleen degene die vraag #2 stelde kan er"),
    # QA: the Dutch infinitive hides too, instead of posting "verbergen 2" as a question
    ("alice", "/wol vraag verbergen 2", "Vraag #2 is verborgen."),
]


@pytest.mark.parametrize(
    ("language", "table", "hidden", "closed"),
    [
        ("en", HIDDEN_EN, "This question was hidden by an admin.", "was hidden by an admin"),
        ("nl", HIDDEN_NL, "Deze vraag is verborgen door een beheerder.", "is verborgen door een"),
    ],
    ids=["en", "nl"],
)
async def test_a_hidden_question_stays_hidden_and_closed(
    make_core, port, clock, language, table, hidden, closed
):

    clock.set(FRIDAY_16)
    channels = {"DURF": {"kind": "durf-te-vragen", "anonymous": True, "language": language}}
    core = make_core(
        port, **{**DURF, "workspaces": {WS: {**DURF["workspaces"][WS], "channels": channels}}}
    )
    await core.start(deliver=False, schedule=False)
    await run_table(core, port, table)
    card = next(r for r in port.sent() if r.dest.channel_id == "DURF")
    asker = table[0][0]
    # the card's buttons, clicked after hiding, are refused and change nothing
    for user, action_id in ((asker, "ask.answered"), ("mona", "ask.ack"), ("mona", "ask.ack_note")):
        before = len(port.records)
        await run(core, ev.click(action_id, "1", user=user, channel="DURF"))
        did = port.records[before:]
        assert [(r.op, r.dest.ephemeral_user) for r in did] == [("send", user)], did
        assert closed in did[0].text
    updates = [r for r in port.sent("update") if r.message_id == card.message_id]
    assert [u.text for u in updates] == [hidden]
    in_thread = [r for r in port.sent() if r.dest.thread_id == card.message_id]
    assert in_thread == []  # no asker's reply, no acknowledgement
    [first, _] = await questions(core)
    assert first.hidden and first.answered_at is None and first.first_ack_at is None
    # every later rendering of the card keeps it hidden, for everyone
    for viewer in (None, (True, True), (False, False)):
        again = await current_card(core, first, for_viewer=viewer)
        assert again == OutboundMessage.text(hidden)
