"""Injection: text that tries to ping everybody (`<!channel>`, `<!here>`, `@channel`, `<@U…>`,
Teams `<at>`), to disguise a link (`<http://evil|https://bank>`, markdown, HTML) or that
looks like SQL is stored verbatim and shown harmless whenever the bot repeats it.

One property over the renderers (Slack Block Kit, Teams Adaptive Cards: any text in any
text-bearing element renders with no live control sequence and reads back as written),
then end to end through `wolbot serve` and the fake Slack Web API: narration, App Home,
matching suggestion and introduction, thanks, a durf-te-vragen question and the relay
of an answer to an anonymous asker. (tests/adapters/slack/test_slack_render.py checks a
fixed list on the Slack renderer; this generalises it to both platforms.)"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from adapters.slack.inbound import plain_text
from adapters.slack.render import fallback_text, render_home, render_message
from adapters.teams.render import render_activity
from bot.messages import Context, Link, Mention, OutboundMessage, Quote, Section, Strong
from bot.store.tables import Narration
from bot.store.tables.rhythms import DialogueRound
from tests.adapters.slack import conftest as slack_fixtures
from tests.adapters.slack.conftest import DATA
from tests.resilience.hostile_support import BOUNDED, NASTY

slack_api = slack_fixtures.slack_api
serve_slack = slack_fixtures.serve_slack

PINGS = ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S1>", "<@U0ADMIN>", "<@W0ADMIN>"]
hostile = st.one_of(
    st.lists(
        st.sampled_from(
            NASTY
            + PINGS
            + [
                "[x](http://evil)",
                "<b>hi</b>",
                "**",
                "\n# h",
                "\n1. x",
                "&lt;!channel&gt;",
                "<at>all</at>",
            ]
        )
        | st.text(max_size=6),
        min_size=1,
        max_size=8,
    ).map("".join),
    st.text(min_size=1, max_size=200),
)


def _slack_pieces(rendered: dict[str, Any]) -> list[str]:
    pieces = [rendered.get("text", "")]
    for block in rendered["blocks"]:
        if block.get("text"):
            pieces.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element, dict) and element.get("type") == "mrkdwn":
                pieces.append(element["text"])
    return pieces


def _teams_texts(card: Any) -> list[str]:
    found: list[str] = []
    if isinstance(card, dict):
        if card.get("type") == "TextBlock":
            found.append(card["text"])
        for value in card.values():
            found += _teams_texts(value)
    elif isinstance(card, list):
        for value in card:
            found += _teams_texts(value)
    return found


def _teams_literal(markdown: str) -> str:
    """What a person reads: the escapes of adapters/teams/render.escape_text undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown, flags=re.DOTALL))


@settings(BOUNDED, max_examples=150)
@given(text=hostile)
def test_no_text_renders_as_a_ping_a_link_or_markup_on_any_platform(text: str) -> None:
    message = OutboundMessage.of(
        Section(parts=("You said: ", text)),
        Section(parts=(Strong(text=text), " ", Link(url="https://ok.example", label=text))),
        Quote(text=text, author=Mention(user_id="U1", name="anouk")),
        Context(parts=(text, Mention(user_id="not a slack id", name=text))),
    )
    # Slack: the only "<" sequences are the ones the renderer built (the author mention and
    # the safe link); the literal text reads back exactly.
    for rendered in (render_message(message), render_home(message)):
        for piece in _slack_pieces(rendered):
            rest = piece.replace("<@U1>", "").replace("<https://ok.example", "")
            assert "<!" not in rest and "<@" not in rest and "<#" not in rest, piece
            assert "<http" not in rest and "<mailto" not in rest, piece
        first = rendered["blocks"][0]["text"]["text"]
        assert plain_text(first) == f"You said: {text}"
    assert "<!" not in fallback_text(message)
    # Teams: the only <at> tags are the mention entities; no HTML, no markdown link from the
    # text; what a person reads is the text itself.
    activity = render_activity(message)
    card = activity["attachments"][0]["content"]
    entities = {e["text"] for e in card.get("msteams", {}).get("entities", [])}
    texts = _teams_texts(card)
    for block_text in texts:
        rest = block_text
        for tag in entities:
            rest = rest.replace(tag, "")
        rest = rest.replace("[ok]", "")
        assert "<" not in rest and ">" not in rest.replace("&gt;", ""), block_text
        assert re.search(r"(?<!\\)\]\((?!https://ok\.example)", rest) is None, block_text
    assert _teams_literal(texts[0]) == f"You said: {text}"


# --- end to end through Slack ------------------------------------------------------------------

WS = "slack:T111"
SETTINGS = {
    "workspaces": {
        WS: {
            "admins": ["W111"],
            "managers": ["W333"],
            "channels": {
                "CDURF": {"kind": "durf-te-vragen", "anonymous": True},
                "CDIA": {"kind": "dialogue"},
            },
        }
    }
}
# What a person typed, and what Slack sends for it: "<" typed literally arrives escaped,
# a real @channel arrives as <!channel>, a pasted link as <url|label>.
TYPED = (
    "I'm working on the onboarding checklist for nurses <!channel> "
    "&lt;!here&gt; <http://evil.example|https://bank.example> <@U0ADMIN|boss> "
    "'); DROP TABLE narration;-- &lt;b&gt;bold&lt;/b&gt; &amp;"
)
STORED = (
    "I'm working on the onboarding checklist for nurses @channel <!here> "
    "https://bank.example (http://evil.example) @boss '); DROP TABLE narration;-- "
    "<b>bold</b> &"
)
FORBIDDEN = ["<!channel>", "<!here>", "<!everyone>", "<http://evil", "<@U0ADMIN>", "<b>"]


def message_event(
    text: str,
    *,
    user: str,
    event_id: str,
    ts: str,
    channel: str = "C111",
    channel_type: str = "channel",
    thread_ts: str | None = None,
) -> dict:
    body = json.loads((DATA / "events" / "event_callback_message.json").read_text())
    body["event_id"] = event_id
    body["event"].update(
        text=text, user=user, ts=ts, event_ts=ts, channel=channel, channel_type=channel_type
    )
    if thread_ts:
        body["event"]["thread_ts"] = thread_ts
    body["event"].pop("blocks", None)
    body["event"].pop("client_msg_id", None)
    return body


def command(slack_api: Any, text: str, hook: str, **fields: str) -> dict:
    body = dict(parse_qsl((DATA / "commands" / "slash_command.form-urlencoded.txt").read_text()))
    body.update(
        command="/wol",
        text=text,
        response_url=slack_api.response_url(hook),
        trigger_id=f"trigger-{hook}",
        **fields,
    )
    return body


def assert_harmless(slack_api: Any) -> None:
    """Nothing the bot sent to Slack can ping, disguise a link or carry HTML."""
    for call in slack_api.calls:
        sent = json.dumps(call.args, ensure_ascii=False)
        for bad in FORBIDDEN:
            assert bad not in sent, (call.method, bad, sent[:500])
        assert "link_names" not in call.args and call.args.get("parse") != "full"


async def test_hostile_text_is_stored_verbatim_and_repeated_harmlessly_on_slack(
    serve_slack, slack_api
) -> None:
    for user in ("W111", "W222", "W333"):
        slack_api.add_user(user, locale="en-US")
    core, slack = await serve_slack(**SETTINGS)

    # a narration, then a similar one by a colleague: the suggestion quotes the first
    assert (
        await slack.event(
            message_event(TYPED, user="W111", event_id="EvN1", ts="1700000001.000100")
        )
    )[0] == 200
    await slack.processed()
    async with core.db.session() as s:
        [first] = (await s.exec(select(Narration))).all()
    assert first.text == STORED
    similar = (
        "I'm working on the onboarding checklist for nurses @channel https://bank.example "
        "DROP TABLE narration"
    )
    await slack.event(message_event(similar, user="W222", event_id="EvN2", ts="1700000002.000100"))
    await slack.processed()
    await core.delivery.drain()
    async with core.db.session() as s:
        assert (await s.exec(select(func.count()).select_from(Narration))).one() == 2
    suggestion = next(
        c
        for c in slack_api.calls_to("chat.postMessage")
        if c.args.get("thread_ts") == "1700000002.000100"
    )
    text = json.dumps(suggestion.args, ensure_ascii=False)
    assert "'); DROP TABLE na" in text and "@channel &lt;!here&gt;" in text  # a snippet
    connect = next(
        e
        for b in suggestion.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("matching.connect")
    )

    # Connect me: the introduction quotes the narration (group DM)
    click = json.loads((DATA / "interactivity" / "block_actions.json").read_text())
    click["user"] = {"id": "W222", "username": "w", "name": "w", "team_id": "T111"}
    click["container"] = {
        "type": "message",
        "message_ts": suggestion.args.get("ts", "1"),
        "channel_id": "C111",
    }
    click["actions"][0].update(action_id=connect["action_id"], value=connect["value"])
    click["response_url"] = slack_api.response_url("connect")
    before = len(slack_api.calls)
    assert (await slack.interaction(click))[0] == 200
    await core.delivery.drain()
    await slack_api.settle(0.2)
    intros = [
        c
        for c in slack_api.calls[before:]
        if c.method == "chat.postMessage" and "DROP TABLE narration" in json.dumps(c.args)
    ]
    assert intros, (
        "the introduction quotes the narration",
        [(c.method, c.args) for c in slack_api.calls[before:]],
    )

    # thanks, with hostile text, in the channel
    await slack.command(
        command(
            slack_api,
            "thanks <@W222|wim> for <!channel> '); DROP TABLE "
            "narration;-- <http://evil.example|https://bank.example>",
            "t",
        )
    )
    # a durf-te-vragen question, anonymous, then an answer relayed to the asker by DM
    await slack.command(
        command(
            slack_api,
            "ask anon <!everyone> is &lt;b&gt;this&lt;/b&gt; safe? <@U0ADMIN|boss>",
            "ask",
            user_id="W222",
            user_name="asker",
            channel_id="D222",
            channel_name="directmessage",
        )
    )
    await core.delivery.drain()
    ts = await core.outbox.result_message_id("ask:slack:T111:1")
    assert ts
    await slack.event(
        message_event(
            "<!here> yes, see <http://evil.example|https://bank.example>",
            user="W333",
            event_id="EvA1",
            ts="1700000003.000100",
            channel="CDURF",
            thread_ts=ts,
        )
    )
    await slack.processed()
    # a dialogue round: a hostile answer, quoted in the summary when the round closes
    await slack.command(
        command(slack_api, "round now", "rn", channel_id="CDIA", channel_name="dialogue")
    )
    await core.delivery.drain()
    async with core.db.session() as s:
        [round_] = (await s.exec(select(DialogueRound))).all()
    round_ts = round_.message_id or await core.outbox.result_message_id(round_.posted_key)
    assert round_ts
    await slack.event(
        message_event(
            "<!channel> my answer '); DROP TABLE narration;-- "
            "<http://evil.example|https://bank.example>",
            user="W222",
            event_id="EvR1",
            ts="1700000004.000100",
            channel="CDIA",
            thread_ts=round_ts,
        )
    )
    await slack.processed()
    await slack.command(
        command(slack_api, "round close", "rc", channel_id="CDIA", channel_name="dialogue")
    )
    await core.delivery.drain()
    # App Home of the narrator lists the narration
    opened = json.loads(
        (DATA / "events" / "event_callback_app_home_opened_messages_tab.json").read_text()
    )
    opened.update(event_id="EvHome", enterprise_id=None, authorizations=[])
    opened["event"].update(tab="home", user="W111")
    await slack.event(opened)
    await slack.processed()
    await core.delivery.drain()
    await slack_api.settle(0.3)

    [home] = slack_api.calls_to("views.publish")
    assert "DROP TABLE narration" in json.dumps(home.args, ensure_ascii=False)
    posted = json.dumps(
        [c.args for c in slack_api.calls_to("chat.postMessage")], ensure_ascii=False
    )
    assert "is &lt;b&gt;this&lt;/b&gt; safe?" in posted  # the question card, literal
    summary = [
        c
        for c in slack_api.calls_to("chat.postMessage")
        if c.args["channel"] == "CDIA"
        and "@channel my answer '); DROP TABLE narration;--" in json.dumps(c.args)
    ]
    assert summary, "the round summary quotes the answer, literally"
    # the thanks, literal (the pasted link shown as label and address, never as a link)
    assert (
        "> for @channel '); DROP TABLE narration;-- https://bank.example (http://evil.example)"
    ) in posted
    relayed = [
        c
        for c in slack_api.calls_to("chat.postMessage")
        if c.args["channel"] == "W222" and "yes, see" in json.dumps(c.args)
    ]
    assert relayed, "the answer is relayed to the anonymous asker"
    assert_harmless(slack_api)
    async with core.db.session() as s:  # the SQL-looking text did nothing to the table
        assert (await s.exec(select(func.count()).select_from(Narration))).one() == 2
