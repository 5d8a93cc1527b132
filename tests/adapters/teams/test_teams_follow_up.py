"""The follow-up of an introduction in Teams (issue 20 item 2): "Did the introduction with …
help?" arrives in the narrator's personal chat three days later; "Yes" opens the "How did it
help?" dialog at once (task/fetch), in the narrator's language, as Slack opens its modal,
instead of answering with one more card whose button opens it."""

from __future__ import annotations

from sqlmodel import select

from adapters.teams.inbound import ACTION_KEY
from bot.store.tables.matching import Connection
from tests.adapters.teams.teams_helpers import activity
from tests.adapters.teams.test_teams_dialogs import inputs, submit_data
from tests.adapters.teams.test_teams_e2e import StartApp, start_app  # noqa: F401
from tests.adapters.teams.test_teams_group_intro import BOB, connect

NO_GRAPH = {"WOLBOT_TEAMS_DEV": "1", "WOLBOT_TEAMS_GROUP_CHATS": "0"}


async def test_yes_opens_the_how_did_it_help_dialog(start_app: StartApp) -> None:  # noqa: F811
    app = await start_app(NO_GRAPH)
    await connect(app)  # Bob (Dutch) asked to be introduced to Alice
    app.core.clock.advance(days=3, minutes=1)  # type: ignore[attr-defined]
    await app.deliver()
    (follow_up,) = [
        c
        for c in app.connector.of("send")
        if c.card and "Heb je iets gehad aan de kennismaking met" in c.card["fallbackText"]
    ]
    actions = [a for b in follow_up.card["body"] if b["type"] == "ActionSet" for a in b["actions"]]
    yes = next(a for a in actions if a["data"][ACTION_KEY] == "matching.followup.yes")
    assert yes["type"] == "Action.Submit" and yes["data"]["msteams"]["type"] == "task/fetch"

    fetch = activity("invoke_task_fetch_2019", id="f1", locale="nl-NL")
    fetch.update(
        conversation={
            "id": follow_up.conversation_id,
            "conversationType": "personal",
            "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        },
        value={"data": yes["data"], "context": {"theme": "default"}},
    )
    fetch["from"] = BOB
    sends_before = len(app.connector.of("send"))
    dialog = await (await app.post(app.connector.rewrite(fetch))).json()
    assert dialog["task"]["type"] == "continue"
    assert dialog["task"]["value"]["title"] == "Wat heeft het opgeleverd?"
    assert set(inputs(dialog)) == {"how"}

    submit = {
        **fetch,
        "id": "s1",
        "name": "task/submit",
        "value": {"data": {**submit_data(dialog), "how": "We delen nu één pipeline."}},
    }
    done = await app.post(app.connector.rewrite(submit))
    assert done.status == 200
    await app.deliver()
    async with app.core.db.session() as s:
        (row,) = (await s.exec(select(Connection))).all()
    assert (row.helped, row.how_it_helped) == ("yes", "We delen nu één pipeline.")
    assert len(app.connector.of("send")) == sends_before  # no card to open the form with
