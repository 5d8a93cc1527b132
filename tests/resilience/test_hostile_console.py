"""Hostile input on the console adapter: arbitrary unicode lines, control characters, very long
lines, and `/wol` commands with garbage arguments, typed by an admin (so the deepest
command paths run), on SQLite and PostgreSQL. The bot answers every line without an
internal error (no "Sorry, something went wrong", no exception out of the core) and
afterwards still records a narration."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from adapters.console.inbound import ConsoleState, parse_line
from adapters.console.port import ConsolePort
from bot.store.tables import Narration
from tests.resilience.hostile_support import BOUNDED, NASTY, caller, nasty_text, run_property

SORRY = "Sorry, something went wrong on my side"
# Every subcommand (English and Dutch) with the words that lead deeper into it.
COMMANDS = [
    "",
    "help",
    "hulp",
    "working on",
    "bezig met",
    "language",
    "taal",
    "me",
    "ik",
    "me checkins",
    "me pause",
    "me country",
    "me stats",
    "me matching",
    "me share",
    "config",
    "instellingen",
    "config show",
    "config set",
    "config set language",
    "config set community.round_hours",
    "config reset",
    "config community add",
    "config community edit",
    "config capture",
    "config roles grant",
    "config roles revoke",
    "config roles list",
    "config history",
    "round",
    "round status",
    "round now",
    "round close",
    "round skip",
    "round pin",
    "round add",
    "round list",
    "ask",
    "ask anon",
    "ask reply",
    "ask answered",
    "ask hide",
    "thanks",
    "bedankt",
    "profile",
    "privacy",
    "privacy export",
    "stats",
    "stats weekly",
    "dashboard",
    "pause",
]
words = st.one_of(
    nasty_text,
    st.sampled_from(
        [
            "#general",
            "#dm",
            "@alice",
            "@root",
            "on",
            "off",
            "-1",
            "0",
            "a\x00b",
            "99999999999999999999",
            "²",
            "١٢",
            "9" * 5000,
            "nl",
            "en",
            "auto",
            "mon,thu",
            "25:99",
            "ZZ",
            "*",
        ]
    ),
)
lines = st.one_of(
    st.tuples(st.sampled_from(COMMANDS), st.lists(words, max_size=4)).map(
        lambda t: " ".join(["/wol", t[0], *t[1]])
    ),
    nasty_text,
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(NASTY).map(lambda s: "I'm working on " + s),
    st.integers(1, 20).map(lambda n: f"!{n}"),
    st.sampled_from([10_000, 200_000]).map(lambda n: "I'm working on " + "é" * n),
    st.text(st.characters(max_codepoint=0x1F), max_size=40),
    st.just("> " + "x" * 100),
)


async def test_the_console_answers_any_line_without_an_internal_error(
    make_core, database_url, tmp_path: Path
) -> None:
    out = io.StringIO()
    port = ConsolePort(out, files_dir=str(tmp_path / "exports"))
    core = make_core(port, workspaces={"console:local": {"admins": ["root"]}})
    await core.start(deliver=False)
    call = caller(asyncio.get_running_loop())
    state = ConsoleState(workspace="local", user="root", channel="general")

    async def say(line: str) -> str:
        nonlocal state
        start = out.tell()
        for part in line.split("\n") or [""]:
            state = replace(state, buttons=dict(port.buttons))
            event, state = parse_line(part + "\n", state)
            if event is not None:
                await core.handle(event)
        await core.delivery.drain()
        return out.getvalue()[start:]

    @settings(BOUNDED, max_examples=60)
    @example(line="/wol profile add a\x00b", speaker="")  # PostgreSQL refuses NUL in text
    @example(line="/wol round pin ²", speaker="")
    @given(line=lines, speaker=st.sampled_from(["", "@root ", "@alice ", "#dm ", "#private-x "]))
    def property_(line: str, speaker: str) -> None:
        answer = call(say(speaker + line))
        assert SORRY not in answer, (line[:200], answer[-500:])
        assert "Traceback" not in answer

    await run_property(property_)
    assert SORRY not in await say("@alice #general")
    answer = await say("I'm working on the console hostile input drill")
    assert "📝" in answer
    async with core.db.session() as s:
        stored = (await s.exec(select(Narration.text))).all()
    assert "I'm working on the console hostile input drill" in stored


BAD_NUMBERS = ["²", "١٢", "9" * 5000, "99999999999999999999", "-1", "#", "0x1f", "1e3"]


async def test_ids_in_commands_and_buttons_that_are_no_ids_get_a_plain_answer(
    make_core, port
) -> None:
    """Row ids come from commands (`/wol ask reply 3`) and button values: digits that int()
    refuses ("²"), 5,000 digits, or numbers beyond what the database holds are "unknown",
    never an internal error."""
    from tests.fakes import events as ev

    core = make_core(
        port,
        workspaces={
            ev.WORKSPACE: {
                "admins": ["root"],
                "managers": ["root"],
                "channels": {"CDURF": {"kind": "durf-te-vragen", "anonymous": True}},
            }
        },
    )
    await core.start(deliver=False)
    for bad in BAD_NUMBERS:
        for text in (
            f"ask reply {bad} hello",
            f"ask answered {bad}",
            f"ask hide {bad}",
            f"me pause {bad}",
            f"round pin {bad}",
            f"thanks @bob {bad}",
        ):
            await core.handle(ev.command(text, user="root"))
        for action_id in (
            "matching.connect",
            "matching.dismiss",
            "matching.done",
            "matching.someone",
            "matching.followup.yes",
            "ask.ack",
            "ask.ack_note",
            "ask.answered",
            f"matching.pick.{bad}",
        ):
            await core.handle(ev.click(action_id, bad, user="root"))
    await core.delivery.drain()
    answers = [r.text for r in port.sent()]
    assert answers and not [a for a in answers if SORRY in a]
