"""`/wol stats` in Teams (issue 20 item 3): the figures as text, and the chart through the
file consent flow in the person's personal chat, in English and Dutch. Accepted, the PNG is
uploaded to the URL Teams gives and shown as a file; declined, nothing more comes: the
figures are already in the chat, and a caption without its chart says nothing."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from adapters.teams.files import CONSENT_CARD, FILE_INFO_CARD
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import (  # noqa: F401
    DEV_ENV,
    StartApp,
    TeamsApp,
    start_app,
)

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
WS = f"teams:{TENANT}"
ADMIN = activity("message_personal_2019")["from"]["id"]
PNG = b"\x89PNG\r\n\x1a\n"


def said(app: TeamsApp, text: str, id_: str, locale: str) -> dict[str, Any]:
    return app.connector.rewrite(
        activity("message_personal_2019", text=text, id=id_, locale=locale)
    )


def consent_of(call: Any) -> dict[str, Any] | None:
    found = [a for a in call.body.get("attachments") or () if a["contentType"] == CONSENT_CARD]
    return found[0] if found else None


async def answer_consent(
    app: TeamsApp, consent: dict[str, Any], action: str, *, id_: str, locale: str
) -> None:
    person = said(app, "-", "-", locale)
    body = activity("invoke_task_fetch_2019", id=id_, locale=locale)
    body["name"] = "fileConsent/invoke"
    body.update(
        conversation=person["conversation"],
        value={
            "type": "fileUpload",
            "action": action,
            "context": consent["content"]["acceptContext"],
            "uploadInfo": {
                "name": consent["name"],
                "fileType": "png",
                "uniqueId": f"u-{id_}",
                "uploadUrl": f"{app.connector.service_url}upload/{id_}",
                "contentUrl": f"https://contoso-my.sharepoint.com/{consent['name']}",
            },
        },
    )
    body["from"] = person["from"]
    assert (await app.post(app.connector.rewrite(body))).status == 200
    await app.deliver()


@pytest.mark.parametrize(
    ("locale", "command", "caption", "figures"),
    [
        (
            "en-US",
            "wol stats",
            "Chart: consume, contribute, create and outcomes.",
            "Participation in the whole workspace",
        ),
        (
            "nl-NL",
            "wol statistieken",
            "Grafiek: lezen, reageren, creëren en resultaten.",
            "Deelname in de hele werkruimte",
        ),
    ],
)
async def test_the_stats_chart_comes_through_file_consent(
    start_app: StartApp,  # noqa: F811
    locale: str,
    command: str,
    caption: str,
    figures: str,
) -> None:
    app = await start_app(workspaces={WS: {"admins": [ADMIN]}})
    for n, action in enumerate(("accept", "decline")):
        assert (await app.post(said(app, command, f"stats-{n}", locale))).status == 201
        await app.deliver()
        sends = app.connector.of("send")
        assert any(figures in (c.body.get("summary") or "") for c in sends)
        offers = [c for c in sends if consent_of(c)]
        assert len(offers) == n + 1
        offer = offers[-1]
        consent = consent_of(offer)
        assert consent is not None and consent["name"].endswith(".png")
        assert offer.body["summary"] == caption  # the caption is shown with the card
        assert consent["content"]["description"] == caption
        before = len(app.connector.calls)
        await answer_consent(app, consent, action, id_=f"consent-{n}", locale=locale)
        after = [c for c in app.connector.calls[before:] if 200 <= c.status < 300]
        if action == "accept":
            upload, shown = after
            assert upload.op == "upload" and upload.body.startswith(PNG)
            (info,) = shown.body["attachments"]
            assert info["contentType"] == FILE_INFO_CARD and info["name"] == consent["name"]
        else:
            # nothing repeats the caption of a chart that is not there
            assert after == [], [c.body for c in after]


def sent_in_order(app: TeamsApp) -> list[str]:
    """What reached the personal chat, in order: "consent" for a file consent card, else
    the message's summary (its text)."""
    return [
        "consent" if consent_of(c) else str(c.body.get("summary") or c.body.get("text") or "")
        for c in app.connector.of("send", "reply")
    ]


@pytest.mark.parametrize(
    ("locale", "command", "narration", "figures"),
    [
        (
            "en-US",
            "wol stats",
            "I'm working on the archive migration",
            "Participation in the whole workspace",
        ),
        (
            "nl-NL",
            "wol cijfers",
            "Ik ben bezig met de migratie van het archief",
            "Deelname in de hele werkruimte",
        ),
    ],
)
@pytest.mark.parametrize("hindrance", ["an earlier answer queued", "the figures rate limited"])
async def test_the_figures_come_before_the_offer_of_their_chart(
    start_app: StartApp,  # noqa: F811
    locale: str,
    command: str,
    narration: str,
    figures: str,
    hindrance: str,
) -> None:
    """The consent card for the chart is never the first thing the person sees: the
    figures it belongs to come first, also when they wait behind an earlier answer in the
    same personal chat or are refused once with a 429 (the chart went on meanwhile)."""
    app = await start_app(workspaces={WS: {"admins": [ADMIN]}})
    assert (await app.post(said(app, "hello", "hi", locale))).status == 201
    await app.deliver()
    app.connector.calls.clear()
    if hindrance == "an earlier answer queued":
        # the 📝 for this narration is queued for the personal chat before the figures
        await app.post(said(app, narration, "n1", locale))
    else:
        app.connector.fail("send", status=429, retry_after=0.2)
    assert (await app.post(said(app, command, "stats", locale))).status == 201
    await app.deliver()
    app.core.clock.advance(seconds=1)  # type: ignore[attr-defined]  # the FakeClock
    await asyncio.sleep(0.25)  # the conversation's pause after the 429 (monotonic time)
    await app.deliver()
    order = sent_in_order(app)
    assert "consent" in order, order
    first_figures = next(i for i, text in enumerate(order) if figures in text)
    assert first_figures < order.index("consent"), order


@pytest.mark.parametrize(
    ("locale", "command", "figures", "sent_by_dm"),
    [
        (
            "en-US",
            "wol stats",
            "Participation in the whole workspace",
            "I've sent you the chart in a direct message.",
        ),
        (
            "nl-NL",
            "wol cijfers",
            "Deelname in de hele werkruimte",
            "De grafiek staat in een privébericht voor je klaar.",
        ),
    ],
)
async def test_asked_in_a_channel_the_figures_also_come_first_in_the_personal_chat(
    start_app: StartApp,  # noqa: F811
    locale: str,
    command: str,
    figures: str,
    sent_by_dm: str,
) -> None:
    """Teams has no only-you messages: asked in a channel, the figures go to the personal
    chat as well, and the chart's consent card follows them there (here the figures are
    refused once with a 429 first). No note there that the chart was sent by DM: it is
    right there, after its figures."""
    channel = activity("message_channel_mention_2019")
    app = await start_app(workspaces={WS: {"admins": [channel["from"]["id"]]}})
    app.connector.fail("send", status=429, retry_after=0.2)
    body = activity(
        "message_channel_mention_2019",
        text=f"<at>My Combined</at> {command}",
        id="1571537160001",
        locale=locale,
    )
    assert (await app.post(app.connector.rewrite(body))).status == 201
    await app.deliver()
    app.core.clock.advance(seconds=1)  # type: ignore[attr-defined]  # the FakeClock
    await asyncio.sleep(0.25)
    await app.deliver()
    sends = app.connector.of("send")
    assert {c.conversation_id for c in sends} == set(app.connector.created)  # the 1:1 chat
    order = sent_in_order(app)
    first_figures = next(i for i, text in enumerate(order) if figures in text)
    assert first_figures < order.index("consent"), order
    assert not any(sent_by_dm in text for text in order), order


@pytest.mark.parametrize(
    ("language", "command", "sent", "note"),
    [
        (
            "en",
            "wol privacy export",
            "Here is everything I keep about you, as a JSON file.",
            "I'm sending your data to you in a direct message.",
        ),
        (
            "nl",
            "wol privacy exporteer",
            "Hier is alles wat ik over je bewaar, als JSON-bestand.",
            "Ik stuur je gegevens in een privébericht.",
        ),
        (
            "en",
            "wol dashboard",
            "Your sign-in link for the dashboard",
            "I've sent you a sign-in link in a direct message.",
        ),
        (
            "nl",
            "wol dashboard",
            "Je inloglink voor het dashboard",
            "Ik heb je een inloglink gestuurd in een privébericht.",
        ),
    ],
)
async def test_asked_in_a_channel_nothing_says_it_was_sent_to_the_personal_chat(
    start_app: StartApp,  # noqa: F811
    language: str,
    command: str,
    sent: str,
    note: str,
) -> None:
    """The export and the dashboard's sign-in link go to the personal chat, where the answer
    to a command typed in a channel lands too (Teams has no only-you messages): a note there
    that they were sent "in a direct message", beside them, would read oddly, so none comes
    (Slack keeps it: tests/adapters/slack/test_slack_features.py)."""
    channel = activity("message_channel_mention_2019")
    app = await start_app(
        env={
            **DEV_ENV,
            "WOLBOT_PUBLIC_URL": "https://bot.example.org",
            "WOLBOT_SECRET_KEY": "test-secret-key-0123456789",
        },
        workspaces={WS: {"admins": [channel["from"]["id"]], "language": language}},
    )
    body = activity(
        "message_channel_mention_2019", text=f"<at>My Combined</at> {command}", id="1571537160002"
    )
    assert (await app.post(app.connector.rewrite(body))).status == 201
    await app.deliver()
    sends = app.connector.of("send", "reply")
    assert {c.conversation_id for c in sends} == set(app.connector.created)  # the 1:1 chat
    shown = [json.dumps(c.body, ensure_ascii=False) for c in app.connector.calls]
    assert any(sent in text for text in shown), shown
    assert not any(note in text for text in shown), shown


@pytest.mark.parametrize(
    ("locale", "narration", "command", "ready"),
    [
        (
            "en-US",
            "I'm working on the archive migration",
            "wol privacy export",
            "Here is everything I keep about you, as a JSON file.",
        ),
        (
            "nl-NL",
            "Ik ben bezig met de migratie van het archief",
            "wol privacy exporteer",
            "Hier is alles wat ik over je bewaar, als JSON-bestand.",
        ),
    ],
)
async def test_the_privacy_export_keeps_its_order(
    start_app: StartApp,  # noqa: F811
    locale: str,
    narration: str,
    command: str,
    ready: str,
) -> None:
    """The other file behind a consent card: the export's own words come with its card (one
    activity, so the card never comes alone), also behind an earlier answer in the same chat;
    declined, those words again and then the JSON in its numbered parts, in order."""
    app = await start_app(workspaces={WS: {"admins": [ADMIN]}})
    await app.post(said(app, narration, "n1", locale))
    assert (await app.post(said(app, command, "x1", locale))).status == 201
    await app.deliver()
    (offer,) = [c for c in app.connector.of("send") if consent_of(c)]
    consent = consent_of(offer)
    assert consent is not None and consent["name"].endswith(".json")
    assert str(offer.body.get("summary") or "").startswith(ready)
    before = len(app.connector.of("send"))
    await answer_consent(app, consent, "decline", id_="d1", locale=locale)
    shown = app.connector.of("send")[before:]
    assert str(shown[0].body.get("summary") or "").startswith(ready), shown[0].body
    name = re.escape(consent["name"])
    labels = [re.search(rf"{name} \((\d+)/(\d+)\)", json.dumps(c.body)) for c in shown[1:]]
    assert labels and all(labels), [c.body for c in shown[1:]]
    parts = [(int(m.group(1)), int(m.group(2))) for m in labels if m]
    assert parts == [(n, len(parts)) for n in range(1, len(parts) + 1)], parts
    assert "migrati" in "".join(json.dumps(c.body) for c in shown[1:])


@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_a_failed_answer_to_the_consent_can_be_clicked_again(
    start_app: StartApp,  # noqa: F811
    action: str,
) -> None:
    """The Bot Connector failing once while the file (or its text) is shown: the export is
    not lost, the person's next click on the same card gives it."""
    app = await start_app(workspaces={WS: {"admins": [ADMIN]}})
    await app.post(said(app, "wol working on the archive migration", "n1", "en-US"))
    assert (await app.post(said(app, "wol privacy export", "x1", "en-US"))).status == 201
    await app.deliver()
    (offer,) = [c for c in app.connector.of("send") if consent_of(c)]
    consent = consent_of(offer)
    assert consent is not None
    app.connector.fail("send", status=503, times=1)
    person = said(app, "-", "-", "en-US")
    body = activity("invoke_task_fetch_2019", id="c1", locale="en-US")
    body["name"] = "fileConsent/invoke"
    body.update(
        conversation=person["conversation"],
        value={
            "type": "fileUpload",
            "action": action,
            "context": consent["content"]["acceptContext"],
            "uploadInfo": {
                "name": consent["name"],
                "fileType": "json",
                "uniqueId": "u1",
                "uploadUrl": f"{app.connector.service_url}upload/c1",
                "contentUrl": "https://contoso-my.sharepoint.com/x.json",
            },
        },
    )
    body["from"] = person["from"]
    first = await app.post(app.connector.rewrite(body))
    assert first.status >= 500  # Teams shows the click failed; the card stays clickable
    shown_before = len(app.connector.of("send"))
    await answer_consent(app, consent, action, id_="c2", locale="en-US")
    shown = app.connector.of("send")[shown_before:]
    assert shown
    everything = "".join(str(c.body) for c in shown)
    if action == "accept":
        assert FILE_INFO_CARD in everything
    else:
        assert "the archive migration" in everything
