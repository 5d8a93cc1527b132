"""The console can answer the bot (issue 16, item 8): `> text` replies under the last message
of the conversation, the bot's posts included; button numbers stay valid for the session and
the next one (they are kept in the database); `!N @name` picks a person, `!N option` an option.
Whole sessions through `run_chat` on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

from adapters.console.inbound import ButtonRef, ConsoleState, parse_line
from adapters.console.runner import run_chat

WS = "console:local"
YAML = {
    "workspaces": {
        WS: {
            "admins": ["me"],
            "channels": {
                "rondetafel": {"kind": "dialogue", "language": "nl"},
                "roundtable": {"kind": "dialogue", "language": "en"},
            },
        }
    }
}


async def chat(make_core, script: str) -> str:
    core = make_core(**YAML)
    out = io.StringIO()
    await run_chat(core, io.StringIO(script), out)
    return out.getvalue()


ROUND_NL = """#rondetafel
/wol ronde nu
@ann
> We hebben de stand-up naar de middag verplaatst.
@bob
> Samenwerken met het datateam leerde me SQL.
@cem
> Een patiënt liet zien hoe onduidelijk onze brief was.
@me
/wol ronde sluit
"""
ROUND_EN = """#roundtable
/wol round now
@ann
> We moved the stand-up to the afternoon.
@bob
> Pairing with the data team taught me SQL.
@cem
> A patient showed me how confusing our letter was.
@me
/wol round close
"""


async def test_three_console_answers_to_a_round_question_close_with_one_summary_nl(
    make_core,
) -> None:
    printed = await chat(make_core, ROUND_NL)
    assert printed.count("Ronde afgesloten") == 1
    assert "3 collega's antwoordden." in printed
    assert "[#rondetafel] wolbot (in thread, also sent to the channel):" in printed


async def test_three_console_answers_to_a_round_question_close_with_one_summary_en(
    make_core,
) -> None:
    printed = await chat(make_core, ROUND_EN)
    assert printed.count("Round closed") == 1
    assert "3 colleagues answered." in printed


async def test_a_reply_to_an_anonymous_question_lands_under_it(make_core) -> None:
    yaml = {
        "workspaces": {
            WS: {
                "channels": {
                    "durf": {"kind": "durf-te-vragen", "anonymous": True, "language": "en"}
                }
            }
        }
    }
    core = make_core(**yaml)
    out = io.StringIO()
    await run_chat(
        core,
        io.StringIO(
            "@asker #dm\n/wol ask anon #durf How do I request care leave?\n"
            "@helper #durf\n> Ask HR for form 12, it takes a day.\n"
        ),
        out,
    )
    printed = out.getvalue()
    assert "How do I request care leave?" in printed
    # the answer was taken as a reply in the question's thread: relayed to the asker
    assert (
        "[dm asker] wolbot" in printed
        and "Ask HR for form 12" in printed.split("[dm asker] wolbot", 1)[1]
    )


def _narrations(n: int) -> str:
    return "".join(f"I'm working on topic number {i} of the migration\n" for i in range(n))


async def test_button_numbers_stay_valid_past_twenty_and_in_the_next_session(make_core) -> None:
    script = "@vera\n" + _narrations(3) + "/wol profile\n" * 8
    printed = await chat(make_core, script)
    numbers = [int(n) for n in re.findall(r"\[(\d+): Add\]", printed)]
    assert numbers == list(range(1, 25))  # 8 × 3 buttons, numbered once, never reused
    later = await chat(make_core, "@vera\n!23\n")
    assert "Added to your profile:" in later
    assert "[25:" not in later  # nothing new was numbered twice
    again = await chat(make_core, "@vera\n/wol profile\n")
    assert "[25: Add]" in again  # the next session goes on where the last stopped


def test_person_picker_and_options_are_usable() -> None:
    state = ConsoleState(
        workspace="local",
        user="carol",
        channel="general",
        buttons={
            7: ButtonRef("matching.pick.3", "", "b1", "general", "b0", "people"),
            8: ButtonRef(
                "lang",
                "",
                "b2",
                "general",
                "b2",
                "options",
                (("English", "en"), ("Nederlands", "nl")),
            ),
        },
    )
    event, _ = parse_line("!7 @dirk\n", state)
    assert event.action.action_id == "matching.pick.3" and event.action.value == "dirk"
    event, _ = parse_line("!8 nederlands\n", state)
    assert event.action.value == "nl"
    assert parse_line("!7\n", state)[0] is None  # a person is needed
    assert parse_line("!8 klingon\n", state)[0] is None
    assert parse_line("!9\n", state)[0] is None


def test_a_reply_follows_the_last_message_of_that_conversation() -> None:
    state = ConsoleState(
        workspace="local",
        user="ann",
        channel="general",
        last_message={"general": "b-question", "dm:ann": "b-checkin"},
    )
    event, state = parse_line("> my answer\n", state)
    assert event.conversation.thread_id == "b-question"
    event, state = parse_line("#dm > my week\n", state)
    assert event.conversation.thread_id == "b-checkin"
    own, state = parse_line("#general A message of my own\n", state)
    event, _ = parse_line("> to my own message\n", state)
    assert event.conversation.thread_id == own.message_id


async def test_numbered_buttons_are_purged_with_the_outbox(make_core, clock) -> None:
    from datetime import timedelta

    from sqlmodel import func, select

    from bot.features.privacy import purge_all
    from bot.store.tables.console import ConsoleButton

    await chat(make_core, "@vera\n" + _narrations(1) + "/wol profile\n")
    core = make_core(**YAML)
    await core.start(deliver=False, schedule=False)

    async def count() -> int:
        async with core.db.session() as s:
            return int((await s.exec(select(func.count()).select_from(ConsoleButton))).one())

    assert await count() == 1
    await purge_all(core, clock.now() + timedelta(days=29))
    assert await count() == 1
    await purge_all(core, clock.now() + timedelta(days=31))
    assert await count() == 0
    await core.stop()


async def test_the_erasure_confirmation_is_replaced_in_place(make_core) -> None:
    """`/wol privacy forget` then its buttons (QA): the confirmation is printed again as the
    result, without buttons; the old card's buttons clicked again say nothing is kept (nl,
    en); cancelling first erases nothing."""
    printed = await chat(
        make_core,
        "I'm working on the archive\n/wol privacy forget\n!1\n!1\n"
        "!2\n@nel\n/wol taal nl\n/wol privacy vergeet\n!4\n!3\n!3\n",
    )
    assert "Yes, erase my data" in printed and "Ja, wis mijn gegevens" in printed
    updated = [
        line.split(" (updated): ")[1] for line in printed.splitlines() if " (updated): " in line
    ]
    assert len(updated) == 6 and updated[0].startswith("Done: I erased")
    assert updated[1:4] == [
        "There was nothing left to erase: I keep nothing about you any more.",
        "Nothing to cancel: I keep nothing about you any more.",
        "Er is niets gewist.",
    ]
    assert updated[4].startswith("Klaar: ik heb")
    assert updated[5] == "Er viel niets meer te wissen: ik bewaar niets meer over je."


async def test_two_files_with_one_name_never_overwrite_each_other(tmp_path) -> None:
    """Two exports in the same second carry the same file name: the second is kept beside
    the first (`-2`), both readable by their owner only."""
    from adapters.console.port import ConsolePort
    from bot.messages import OutboundMessage
    from bot.ports import Destination

    out = io.StringIO()
    port = ConsolePort(out, files_dir=str(tmp_path / "exports"))
    dest = Destination(workspace_id="console:local", channel_id="dm:me")
    note = OutboundMessage.text("Your data")
    await port.send_file(dest, "wolbot-export-me-20261207T1200.json", b'{"a": 1}', note)
    await port.send_file(dest, "wolbot-export-me-20261207T1200.json", b'{"b": 2}', note)
    first = tmp_path / "exports" / "wolbot-export-me-20261207T1200.json"
    second = tmp_path / "exports" / "wolbot-export-me-20261207T1200-2.json"
    assert first.read_bytes() == b'{"a": 1}' and second.read_bytes() == b'{"b": 2}'
    assert {oct(p.stat().st_mode & 0o777) for p in (first, second)} == {"0o600"}
    assert f"sent a file: {second}" in out.getvalue()
