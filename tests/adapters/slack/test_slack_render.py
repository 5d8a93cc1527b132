"""OutboundMessage / Form -> Block Kit (adapters/slack/render.py)."""

from __future__ import annotations

import json

import pytest

from adapters.slack.inbound import decode_form_meta, plain_text, to_inbound
from adapters.slack.render import (
    escape,
    fallback_text,
    render_errors,
    render_form,
    render_home,
    render_message,
)
from bot.messages import (
    Actions,
    Button,
    Context,
    Divider,
    Form,
    Link,
    Mention,
    Option,
    OutboundMessage,
    Quote,
    Section,
    Select,
    Strong,
    TextInput,
    fill,
)

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<http://evil.test|https://bank.test>",
    "<@U0ADMIN>",
    "<#C123|general>",
    "&lt;!channel&gt;",
    "a & b < c > d",
]


def all_text(rendered: dict) -> str:
    return json.dumps(rendered)


@pytest.mark.parametrize("text", HOSTILE)
def test_user_text_can_never_ping_or_disguise_a_link(text):
    message = OutboundMessage.of(
        Section(parts=("You said: ", text)),
        Context(parts=(text,)),
        Quote(text=text, author=Mention(user_id="U1")),
        Section(parts=(Strong(text=text),)),
    )
    rendered = render_message(message)
    for piece in [b["text"]["text"] for b in rendered["blocks"] if b["type"] == "section"] + [
        rendered["text"],
        rendered["blocks"][1]["elements"][0]["text"],
    ]:
        # no Slack control sequence can survive: every "<" the renderer emits is one we built
        stripped = piece.replace("<@U1>", "")
        assert "<" not in stripped and ">" not in stripped.replace("\n>", "").lstrip(">")
        assert "<!" not in piece
    # and the literal text reads back exactly as the person wrote it
    first = rendered["blocks"][0]["text"]["text"]
    assert plain_text(first) == f"You said: {text}"


def test_escape_only_three_characters():
    assert escape("*bold* _it_ `c` & < >") == "*bold* _it_ `c` &amp; &lt; &gt;"


def test_mentions_links_strong():
    message = OutboundMessage.text(
        *fill(
            "{person} shared {doc}",
            person=Mention(user_id="U123", name="Ann"),
            doc=Link(url="https://wiki.test/a?b=1&c=2", label="the <plan>"),
        ),
        " — ",
        Strong(text="important "),
    )
    rendered = render_message(message)
    text = rendered["blocks"][0]["text"]["text"]
    assert text == (
        "<@U123> shared <https://wiki.test/a?b=1&amp;c=2|the &lt;plan&gt;> — *important* "
    )
    assert (
        rendered["text"]
        == "<@U123> shared <https://wiki.test/a?b=1&amp;c=2|the &lt;plan&gt;> — important"
    )


def test_unsafe_link_scheme_becomes_text():
    message = OutboundMessage.text(Link(url="javascript:alert(1)", label="click"))
    assert render_message(message)["blocks"][0]["text"]["text"] == "click"


def test_link_url_cannot_break_out():
    message = OutboundMessage.text(Link(url="https://x.test/|<!channel>", label="doc"))
    text = render_message(message)["blocks"][0]["text"]["text"]
    assert text == "<https://x.test/%7C%3C!channel%3E|doc>"


def test_mention_with_non_slack_id_is_not_a_ping():
    message = OutboundMessage.text(Mention(user_id="!channel", name=None))
    assert render_message(message)["blocks"][0]["text"]["text"] == "@!channel"


def test_quote_block():
    message = OutboundMessage.of(Quote(text="line one\n\n<b>two</b>", author=Mention(user_id="U9")))
    text = render_message(message)["blocks"][0]["text"]["text"]
    assert text == "> line one\n>\n> &lt;b&gt;two&lt;/b&gt;\n— <@U9>"


def test_actions_buttons_and_selects():
    message = OutboundMessage.of(
        Divider(),
        Actions(
            elements=(
                Button(label="Helpful", action_id="narration:vote", value="1", style="primary"),
                Button(label="Not now", action_id="narration:vote", value="0"),
                Select(
                    action_id="pick", placeholder="Choose", options=(Option(label="A", value="a"),)
                ),
                Select(action_id="who", placeholder="Person", people=True),
            )
        ),
    )
    blocks = render_message(message)["blocks"]
    assert blocks[0] == {"type": "divider"}
    first, second, choice, person = blocks[1]["elements"]
    assert first == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Helpful", "emoji": True},
        "action_id": "narration:vote",
        "value": "1",
        "style": "primary",
    }
    assert second["action_id"] == "narration:vote#1"  # unique within the message
    assert choice["type"] == "static_select"
    assert choice["options"] == [
        {"text": {"type": "plain_text", "text": "A", "emoji": True}, "value": "a"}
    ]
    assert person["type"] == "users_select"
    # nothing readable to notify about: Slack still needs a non-empty fallback
    assert fallback_text(message) == " "


def test_long_section_is_split_under_slack_limit():
    text = ("word " * 1000) + "& end"
    blocks = render_message(OutboundMessage.text(text))["blocks"]
    assert len(blocks) == 2
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert blocks[-1]["text"]["text"].endswith("&amp; end")


def test_block_count_capped():
    message = OutboundMessage.of(*[Divider() for _ in range(80)])
    assert len(render_message(message)["blocks"]) == 50
    assert len(render_home(message)["blocks"]) == 80


def test_form_round_trip_through_a_submission(payload):
    form = Form(
        form_id="narrate",
        title="Narrate my work, please",
        submit_label="Share",
        intro=("What are you working on?",),
        fields=(
            TextInput(field_id="text", label="I'm working on…", multiline=True, max_length=500),
            TextInput(field_id="tags", label="Tags", optional=True, placeholder="e.g. <ai>"),
        ),
        private_metadata="n:42",
    )
    view = render_form(form, channel_id="C777", thread_id="1.2", conversation_kind="public")
    assert view["type"] == "modal" and view["callback_id"] == "narrate"
    assert len(view["title"]["text"]) <= 24
    assert view["blocks"][0]["type"] == "section"
    text_input = view["blocks"][1]
    assert text_input["block_id"] == "text"
    assert text_input["element"]["action_id"] == "text"
    assert text_input["element"]["multiline"] is True
    assert text_input["element"]["max_length"] == 500
    assert view["blocks"][2]["optional"] is True
    assert view["blocks"][2]["element"]["placeholder"]["text"] == "e.g. <ai>"  # plain_text
    assert decode_form_meta(view["private_metadata"]) == {
        "wolbot": 1,
        "m": "n:42",
        "c": "C777",
        "t": "1.2",
        "k": "public",
    }

    submission = payload("interactivity/view_submission.json")
    submission["view"].update(
        callback_id="narrate",
        private_metadata=view["private_metadata"],
        state={
            "values": {
                "text": {"text": {"type": "plain_text_input", "value": "Q3 report"}},
                "tags": {"tags": {"type": "plain_text_input", "value": None}},
            }
        },
    )
    event = to_inbound(submission)
    assert event.action.form_id == "narrate"
    assert event.action.value == "n:42"
    assert event.action.values == {"text": "Q3 report", "tags": ""}
    assert event.conversation.id == "C777"
    assert event.conversation.thread_id == "1.2"


def test_errors_ack_body():
    assert render_errors({"text": "Please write a few more words."}) == {
        "response_action": "errors",
        "errors": {"text": "Please write a few more words."},
    }


def test_select_without_options_is_left_out():
    message = OutboundMessage.of(
        Actions(elements=(Select(action_id="empty", placeholder="Nothing"),)),
        Actions(
            elements=(Select(action_id="e2", placeholder="x"), Button(label="OK", action_id="ok"))
        ),
    )
    blocks = render_message(message)["blocks"]
    assert len(blocks) == 1 and [e["action_id"] for e in blocks[0]["elements"]] == ["ok"]
