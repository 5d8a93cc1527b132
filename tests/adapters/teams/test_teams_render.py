"""render.py: neutral messages → Adaptive Card 1.5 activities."""

from __future__ import annotations

import json

from adapters.teams.inbound import ACTION_KEY, SELECT_KEY, VALUE_KEY, parse_activity
from adapters.teams.render import (
    CARD_CONTENT_TYPE,
    escape_text,
    render_activity,
    render_card,
    render_dialog,
    render_form_activity,
    render_form_card,
    safe_url,
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


def _texts(card: dict) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return found


def test_activity_is_an_adaptive_card_with_summary() -> None:
    message = OutboundMessage.text("Thanks, noted: ", Strong(text="budget"))
    activity = render_activity(message)
    assert activity["type"] == "message"
    assert activity["summary"] == "Thanks, noted: budget"
    assert "text" not in activity  # Teams would show it above the card
    (attachment,) = activity["attachments"]
    assert attachment["contentType"] == CARD_CONTENT_TYPE
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    assert card["fallbackText"] == "Thanks, noted: budget"
    assert _texts(card) == ["Thanks, noted: **budget**"]


def test_user_text_cannot_inject_markup_or_mentions() -> None:
    evil = "<at>Boss</at> **bold** [x](javascript:alert(1)) <script>&"
    card = render_card(OutboundMessage.text(evil))
    (text,) = _texts(card)
    assert "<at>" not in text and "<script>" not in text
    assert "&lt;at&gt;Boss&lt;/at&gt;" in text
    assert "\\*\\*bold\\*\\*" in text
    assert "\\[x\\]\\(javascript:alert\\(1\\)\\)" in text
    assert text.endswith("&amp;")
    assert "entities" not in card["msteams"]


def test_line_start_markdown_is_escaped() -> None:
    assert escape_text("# title\n- item\n1. first\n> quote") == (
        "\\# title\n\\- item\n1\\. first\n&gt; quote"
    )


def test_mentions_become_entities() -> None:
    parts = fill(
        "{person} is working on something similar to {other}",
        person=Mention(user_id="29:anna", name="Anna [PM]"),
        other=Mention(user_id="29:bob", name="Bob"),
    )
    card = render_card(OutboundMessage.text(*parts))
    (text,) = _texts(card)
    assert text == "<at>Anna \\[PM\\]</at> is working on something similar to <at>Bob</at>"
    assert card["msteams"]["entities"] == [
        {
            "type": "mention",
            "text": "<at>Anna \\[PM\\]</at>",
            "mentioned": {"id": "29:anna", "name": "Anna [PM]"},
        },
        {"type": "mention", "text": "<at>Bob</at>", "mentioned": {"id": "29:bob", "name": "Bob"}},
    ]
    # every entity's text appears verbatim in the card, or Teams rejects the message
    for entity in card["msteams"]["entities"]:
        assert entity["text"] in json.dumps(card["body"], ensure_ascii=False).replace("\\\\", "\\")


def test_same_person_mentioned_twice_gets_one_entity() -> None:
    anna = Mention(user_id="29:anna", name="Anna")
    card = render_card(OutboundMessage.of(Section(parts=(anna,)), Context(parts=("by ", anna))))
    assert len(card["msteams"]["entities"]) == 1


def test_links_only_with_safe_schemes() -> None:
    card = render_card(
        OutboundMessage.text(
            Link(url="https://example.org/a b)", label="docs"),
            " ",
            Link(url="javascript:alert(1)", label="click"),
        )
    )
    (text,) = _texts(card)
    assert text == "[docs](https://example.org/a%20b%29) click"
    assert safe_url("mailto:x@example.org") == "mailto:x@example.org"
    assert safe_url("data:text/html,hi") is None


def test_blocks_quote_context_divider_buttons_select() -> None:
    message = OutboundMessage.of(
        Section(parts=("Anna wrote:",)),
        Quote(text="Ik ben bezig met *de* begroting", author=Mention(user_id="29:a", name="Anna")),
        Divider(),
        Context(parts=("2 people",)),
        Actions(
            elements=(
                Button(label="Help", action_id="help.offer", value="n1", style="primary"),
                Button(label="Nee", action_id="help.no", value="n1", style="danger"),
                Select(
                    action_id="pick",
                    placeholder="Choose",
                    options=(Option(label="A", value="a"), Option(label="B", value="b")),
                ),
            )
        ),
    )
    card = render_card(message)
    body = card["body"]
    assert [b["type"] for b in body] == [
        "TextBlock",
        "Container",
        "TextBlock",
        "Input.ChoiceSet",
        "ActionSet",
    ]
    quote = body[1]
    assert quote["items"][0]["text"] == "Ik ben bezig met \\*de\\* begroting"
    assert quote["items"][1]["text"] == "— <at>Anna</at>"
    assert body[2].get("separator") is True and body[2]["isSubtle"] is True
    choice = body[3]
    assert choice["id"] == "pick"
    assert choice["choices"] == [{"title": "A", "value": "a"}, {"title": "B", "value": "b"}]
    help_button, no_button, ok_button = body[4]["actions"]
    assert help_button["type"] == "Action.Execute"
    assert help_button["data"] == {ACTION_KEY: "help.offer", VALUE_KEY: "n1"}
    assert help_button["style"] == "positive"
    assert no_button["style"] == "destructive"
    assert ok_button["data"] == {ACTION_KEY: "pick", SELECT_KEY: "pick"}
    assert card["fallbackText"].startswith("Anna wrote:\n> Ik ben bezig met *de* begroting")


def test_people_select_uses_the_directory() -> None:
    card = render_card(
        OutboundMessage.of(
            Actions(elements=(Select(action_id="who", placeholder="Who?", people=True),))
        )
    )
    assert card["body"][0]["choices.data"]["dataset"] == "graph.microsoft.com/users"


def test_button_round_trip_through_inbound() -> None:
    """What a button carries comes back as the same action id and value."""
    card = render_card(
        OutboundMessage.of(Actions(elements=(Button(label="Ja", action_id="yes", value="9"),)))
    )
    button = card["body"][0]["actions"][0]
    invoke = {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": "f:1",
        "replyToId": "1:msg",
        "from": {"id": "29:u"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:dm", "conversationType": "personal", "tenantId": "t1"},
        "value": {
            "action": {"type": "Action.Execute", "verb": button["verb"], "data": button["data"]},
            "trigger": "manual",
        },
    }
    event = parse_activity(invoke)
    assert event is not None and event.action is not None
    assert (event.action.action_id, event.action.value, event.action.message_id) == (
        "yes",
        "9",
        "1:msg",
    )


def test_form_card() -> None:
    form = Form(
        form_id="ask",
        title="Durf te vragen",
        submit_label="Versturen",
        intro=("Your question ", Strong(text="stays anonymous")),
        fields=(
            TextInput(field_id="question", label="Vraag", multiline=True, max_length=500),
            TextInput(field_id="topic", label="Onderwerp", optional=True, initial="HR"),
        ),
        private_metadata="c1",
    )
    # posted in a chat: a card whose button opens the form as a dialog (task/fetch)
    activity = render_form_activity(form)
    launcher = activity["attachments"][0]["content"]
    assert activity["summary"] == "Durf te vragen"
    (launch,) = launcher["actions"]
    assert launch["type"] == "Action.Submit" and launch["data"]["msteams"] == {"type": "task/fetch"}
    assert Form.model_validate(launch["data"]["wolbot_dialog"]) == form
    # the dialog itself
    dialog = render_dialog(form)
    assert dialog["task"]["type"] == "continue" and dialog["task"]["value"]["title"] == form.title
    card = dialog["task"]["value"]["card"]["content"]
    inputs = [b for b in card["body"] if b["type"] == "Input.Text"]
    assert inputs[0] == {
        "type": "Input.Text",
        "id": "question",
        "label": "Vraag",
        "isMultiline": True,
        "isRequired": True,
        "maxLength": 500,
    }
    assert inputs[1]["value"] == "HR" and inputs[1]["isRequired"] is False
    (submit,) = card["actions"]
    assert submit["title"] == "Versturen"
    assert submit["type"] == "Action.Submit"  # in a dialog: task/submit
    assert {k: submit["data"][k] for k in ("wolbot_form", "wolbot_meta")} == {
        "wolbot_form": "ask",
        "wolbot_meta": "c1",
    }
    # shown again with what was typed and the error under its field
    again = render_form_card(form, values={"question": "<b>x</b>"}, errors={"question": "Te kort"})
    (typed,) = [b for b in again["body"] if b.get("id") == "question"]
    assert typed["value"] == "<b>x</b>"
    after = again["body"][again["body"].index(typed) + 1]
    assert after["text"] == "Te kort" and after["color"] == "Attention"


def test_long_summary_is_cut() -> None:
    activity = render_activity(OutboundMessage.text("x" * 500))
    assert len(activity["summary"]) == 200
    assert activity["summary"].endswith("…")
