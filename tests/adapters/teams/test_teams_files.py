"""`/wol stats` in Teams (issue 20 item 3): the figures as text, and the chart through the
file consent flow in the person's personal chat, in English and Dutch. Accepted, the PNG is
uploaded to the URL Teams gives and shown as a file; declined, nothing more comes: the
figures are already in the chat, and a caption without its chart says nothing."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.teams.files import CONSENT_CARD, FILE_INFO_CARD
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_e2e import StartApp, TeamsApp, start_app  # noqa: F401

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
