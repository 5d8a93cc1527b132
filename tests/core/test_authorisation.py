"""Every interaction authorised in one place (issue 17 item 3): a click, pick or form submit by
someone who may not use it changes nothing, is logged, and gets a short refusal.

The property runs over every action id of the product (the buttons and forms the features
render), each with the values a real button carries, pressed by the wrong person: no row
of any table other than the delivery and bookkeeping tables changes, and the only thing
sent is a refusal to the clicker. The reproduction: a forged ephemeral "Add" (profile-topic
suggestion) naming another person's narration no longer copies it into one's profile."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import SQLModel, select
from sqlmodel import select as select_

from bot.authorisation import NOT_FOR_YOU, Who
from bot.events import Action, EventKind, InboundEvent
from bot.router import action
from bot.store.tables import Narration
from bot.store.tables.asks import Question
from bot.store.tables.matching import Connection, MatchSuggestion, ProfileTopic
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort
from tests.resilience.hostile_support import BOUNDED, caller, run_property

WS = ev.WORKSPACE
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["adam"],
            "managers": ["mara"],
            "channels": {"CDURF": {"kind": "durf-te-vragen", "anonymous": True}},
        }
    }
}
# Written by deliveries and bookkeeping around any event, whoever sends it; everything
# else is what a click could change on somebody's behalf.
BOOKKEEPING = {
    "outboxitem",
    "processedevent",
    "participation_count",
    "contribution",
    "conversationreference",
    "person",
    "channel",
    "workspace",
    "inbox",
    "match_vector",
    "scheduled_occurrence",
    "teams_member",
    "limit_use",
}  # platform rate caps counted per conversation (outgoing refusals)


class On:
    """Events as `platform` delivers them to the core (the check is the core's, the same
    for every platform; each platform's own payloads are in the adapter tests)."""

    def __init__(self, platform: str) -> None:
        self.platform = platform

    def __call__(self, event: InboundEvent) -> InboundEvent:
        return replace(event, platform=self.platform)


async def _world(core: Any, on: On) -> dict[str, str]:
    """Things the buttons name: narrations (public and private), a suggestion, an
    introduction, a durf-te-vragen question. Returns the values the real buttons carry."""
    await core.handle(
        on(
            ev.message(
                "I'm working on the onboarding checklist for new nurses",
                user="anouk",
                message_id="m-anouk",
            )
        )
    )
    await core.handle(
        on(
            ev.message(
                "I'm working on the budget for the private ward",
                user="pia",
                channel="CPRIV",
                kind=ev.ConversationKind.PRIVATE,
                message_id="m-pia",
            )
        )
    )
    await core.handle(
        on(ev.command("ask Is there a plan for the new rota?", user="asker", channel="CDURF"))
    )
    await core.delivery.drain()
    now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    async with core.db.session() as s:
        anouk = (await s.exec(select(Narration).where(Narration.author_id == "anouk"))).one()
        pia = (await s.exec(select(Narration).where(Narration.author_id == "pia"))).one()
        question = (await s.exec(select(Question))).one()
        suggestion = MatchSuggestion(
            workspace_id=WS,
            narration_id=anouk.id or 0,
            narrator_id="anouk",
            person_id="bram",
            reason="similar",
            item_ref="n:1",
            score=0.9,
            created_at=now,
        )
        connection = Connection(
            workspace_id=WS,
            narration_id=anouk.id,
            narrator_id="anouk",
            person_id="bram",
            suggested_by="bot",
            created_at=now,
        )
        s.add(suggestion)
        s.add(connection)
        await s.commit()
        await s.refresh(suggestion)
        await s.refresh(connection)
    return {
        "anouk_narration": str(anouk.id),
        "pia_narration": str(pia.id),
        "question": str(question.id),
        "suggestion": str(suggestion.id),
        "connection": str(connection.id),
    }


def _buttons(
    ids: dict[str, str], anouk: str = "anouk", forger: str = "mallory"
) -> list[tuple[EventKind, str, str, dict[str, str]]]:
    """Every button and form of the product: (kind, action id, value, form values), with the
    values the real buttons carry for anouk's narration, suggestion and introduction, pia's
    private narration and the asker's question."""
    click, submit = EventKind.ACTION, EventKind.FORM_SUBMIT
    return [
        (click, "matching.connect", ids["suggestion"], {}),
        (click, "matching.dismiss", ids["suggestion"], {}),
        (click, "matching.done", ids["pia_narration"], {}),
        (click, "matching.someone", ids["pia_narration"], {}),
        (click, f"matching.pick.{ids['pia_narration']}", forger, {}),
        (click, f"matching.pick.{ids['pia_narration']}", "zed", {}),
        (click, "matching.followup.yes", ids["connection"], {}),
        (click, "matching.followup.somewhat", ids["connection"], {}),
        (click, "matching.followup.no", ids["connection"], {}),
        (submit, "matching.how", ids["connection"], {"how": "it did not"}),
        (click, "matching.topic.add", ids["anouk_narration"], {}),
        (click, "checkin.off", anouk, {}),
        (click, "checkin.skip", anouk, {}),
        (click, "checkin.narrate", anouk, {}),
        (submit, "checkin.narrate_form", anouk, {"text": "I'm working on the forged rota plan"}),
        (click, "privacy.forget.confirm", anouk, {}),
        (click, "privacy.forget.cancel", anouk, {}),
        (click, "ask.ack", ids["question"], {}),
        (click, "ask.ack_note", ids["question"], {}),
        (submit, "ask.ack_form", ids["question"], {"note": "well done"}),
        (click, "ask.answered", ids["question"], {}),
        (click, "ask.answered", f"{ids['question']}:m-x", {}),
        (submit, "config.community", "C1", {"kind": "dialogue", "theme": "forged"}),
        (click, "who.connect.topic:bram:1", json.dumps({"a": anouk, "t": "rota", "l": "en"}), {}),
        (click, "who.ask", json.dumps({"a": anouk, "t": "rota", "l": "en"}), {}),
        (click, "no.such.button", "1", {}),
    ]


def _forged(
    on: On,
    kind: EventKind,
    action_id: str,
    value: str,
    values: dict[str, str],
    user: str,
    n: int,
    channel: str = "C1",
) -> InboundEvent:
    event = ev.click(action_id, value, user=user, channel=channel, message_id=f"M-forged-{n}")
    if kind is EventKind.FORM_SUBMIT:
        event = replace(
            event,
            kind=kind,
            action=Action(action_id=action_id, value=value, values=values, form_id=action_id),
        )
    return on(event)


async def snapshot(core: Any) -> dict[str, list[tuple[Any, ...]]]:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with core.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            result = await s.exec(text(f'SELECT * FROM "{table.name}"'))  # type: ignore[call-overload]
            rows[table.name] = sorted((tuple(r) for r in result.all()), key=repr)
    return rows


@pytest.fixture(params=["slack", "teams", "console"])
async def world(request, make_core, port: RecordingPort):  # type: ignore[no-untyped-def]
    port.platform = request.param
    core = make_core(port, **SETTINGS)
    await core.start(deliver=False)
    on = On(request.param)
    return core, await _world(core, on), on


async def test_a_forged_add_does_not_copy_anothers_narration_into_ones_profile(
    world, port: RecordingPort, caplog: pytest.LogCaptureFixture
) -> None:
    core, ids, on = world
    caplog.set_level(logging.WARNING, logger="bot.authorisation")
    before = len(port.records)
    await core.handle(on(ev.click("matching.topic.add", ids["anouk_narration"], user="mallory")))
    await core.delivery.drain()
    async with core.db.session() as s:
        assert (await s.exec(select(ProfileTopic))).all() == []
    [refusal] = port.records[before:]
    assert refusal.dest is not None and refusal.dest.ephemeral_user == "mallory"
    assert refusal.text == NOT_FOR_YOU
    assert "refused matching.topic.add" in caplog.text
    # the narrator herself may add it: the topic is taken from her narration, not the button
    await core.handle(on(ev.click("matching.topic.add", ids["anouk_narration"], user="anouk")))
    await core.delivery.drain()
    async with core.db.session() as s:
        [(who, topic)] = (await s.exec(select(ProfileTopic.user_id, ProfileTopic.topic))).all()
    assert who == "anouk" and "onboarding checklist" in topic


async def test_the_refusal_is_in_the_clickers_language(world, port: RecordingPort) -> None:
    core, ids, on = world
    await core.handle(on(ev.command("taal nl", user="mallory")))
    await core.delivery.drain()
    before = len(port.records)
    await core.handle(on(ev.click("matching.topic.add", ids["anouk_narration"], user="mallory")))
    await core.delivery.drain()
    assert [r.text for r in port.records[before:]] == [
        "Deze knop is niet voor jou bedoeld, dus ik heb alles gelaten zoals het was."
    ]


async def test_every_button_pressed_by_the_wrong_person_changes_nothing(
    world, port: RecordingPort
) -> None:
    core, ids, on = world
    buttons = _buttons(ids)
    call = caller(asyncio.get_running_loop())
    counter = iter(range(10**6))

    @settings(BOUNDED, max_examples=60)
    @given(
        button=st.sampled_from(buttons),
        user=st.sampled_from(["mallory", "zed", "bram"]),
        # a forged click may claim any conversation but a private one the forger is in
        channel=st.sampled_from(["C1", "CDURF", "D-mallory"]),
        replays=st.integers(min_value=1, max_value=2),
    )
    def prop(
        button: tuple[EventKind, str, str, dict[str, str]], user: str, channel: str, replays: int
    ) -> None:
        kind, action_id, value, values = button
        if user == "bram" and not action_id.startswith(
            ("matching.connect", "matching.dismiss", "matching.followup", "matching.how")
        ):
            user = "mallory"  # bram is the wrong person only for anouk's suggestion/intro
        before_rows = call(snapshot(core))
        before = len(port.records)
        for _ in range(replays):
            call(
                core.handle(
                    _forged(on, kind, action_id, value, values, user, next(counter), channel)
                )
            )
        call(core.delivery.drain())
        assert call(snapshot(core)) == before_rows, (action_id, user)
        for record in port.records[before:]:
            assert record.op == "send" and record.dest is not None, record
            assert record.dest.ephemeral_user == user, (action_id, record.text)

    await run_property(prop)


async def test_every_interaction_route_says_who_may_use_it(world) -> None:
    core, ids, on = world
    for kind, action_id, value, values in _buttons(ids):
        event = _forged(on, kind, action_id, value, values, "mallory", 0)
        routes = [r for r in core.router._routes if r.matcher(event) not in (None, False)]
        for route in routes:
            assert isinstance(route.who, Who), (action_id, route.name)


async def test_a_route_without_a_rule_is_refused(
    world, port: RecordingPort, caplog: pytest.LogCaptureFixture
) -> None:
    core, _, on = world
    ran: list[str] = []

    async def handler(event: InboundEvent, ctx: Any) -> None:
        ran.append(event.user.user_id)

    core.router.add(action("test.unruled"), handler, name="test.unruled")
    caplog.set_level(logging.ERROR, logger="bot.authorisation")
    await core.handle(on(ev.click("test.unruled", "x", user="adam")))
    await core.delivery.drain()
    assert ran == []
    assert "declares no rule" in caplog.text


async def test_a_forged_console_click_is_refused(make_core, port: RecordingPort) -> None:
    """The console's own parser: `!1` on a button list that names anouk's narration."""
    from adapters.console.inbound import ButtonRef, ConsoleState, parse_line

    port.platform = "console"
    core = make_core(port)
    await core.start(deliver=False)
    state = ConsoleState(workspace="local", user="me", channel="general")
    event, state = parse_line("@anouk I'm working on the onboarding checklist for nurses", state)
    assert event is not None
    await core.handle(event)
    await core.delivery.drain()
    async with core.db.session() as s:
        story = (await s.exec(select(Narration))).one()
    forged = replace(
        state, buttons={1: ButtonRef("matching.topic.add", str(story.id), "m1", "general", None)}
    )
    before = len(port.records)
    for line in ("@mallory !1", "@mallory !1"):  # forged, then replayed
        event, forged = parse_line(line, forged)
        assert event is not None and event.user.user_id == "mallory"
        await core.handle(event)
    await core.delivery.drain()
    async with core.db.session() as s:
        assert (await s.exec(select(ProfileTopic))).all() == []
    assert [r.text for r in port.records[before:]] == [NOT_FOR_YOU, NOT_FOR_YOU]


async def test_a_picker_is_bound_to_the_person_it_was_shown_to(world, port: RecordingPort) -> None:
    """The person picker of "I know someone" carries a keyed tag of the person it was shown
    to: they may pick from wherever the platform showed it (Teams: their personal chat, also
    for a private channel's narration); the same id replayed by someone else is refused."""
    core, ids, on = world
    await core.handle(
        on(ev.click("matching.someone", ids["pia_narration"], user="bram", channel="CPRIV"))
    )
    await core.delivery.drain()
    picker = port.records[-1].message
    assert picker is not None
    [select] = [e for b in picker.blocks if getattr(b, "elements", None) for e in b.elements]
    assert select.action_id.startswith(f"matching.pick.{ids['pia_narration']}~")
    before = await snapshot(core)
    await core.handle(on(ev.click(select.action_id, "carla", user="mallory", channel="D-mallory")))
    await core.delivery.drain()
    assert await snapshot(core) == before  # replayed by another person: refused
    await core.handle(on(ev.click(select.action_id, "carla", user="bram", channel="D-bram")))
    await core.delivery.drain()
    async with core.db.session() as s:
        made = (
            await s.exec(
                select_(
                    Connection.narrator_id, Connection.person_id, Connection.suggested_by
                ).where(Connection.person_id == "carla")
            )
        ).all()
    assert made == [("pia", "carla", "bram")]
