"""One key hierarchy and its rotation (issue 17, item 5): Slack OAuth tokens and anonymous
askers' contacts and hashes are re-made with a new WOLBOT_SECRET_KEY while the bot runs with
the new key and the previous one, and everything keeps working during and after.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import select

from adapters.slack.oauth import DbInstallationStore, unseal
from bot.events import ConversationKind
from bot.ports import DeliveryError, PersonInfo
from bot.secrets import ANON_ASKER, ANON_CONTACT, SLACK_TOKENS, Keyring
from bot.store.engine import Database
from bot.store.secret_rotation import rotate
from bot.store.tables.asks import Question
from bot.store.tables.slack import SlackInstallation
from tests.fakes import events as ev

OLD, NEW = "the-old-root-key-0123456789", "the-new-root-key-9876543210"
WS = ev.WORKSPACE
DURF = {
    "workspaces": {
        WS: {
            "timezone": "UTC",
            "channels": {"DURF": {"kind": "durf-te-vragen", "anonymous": True, "language": "en"}},
        }
    }
}


def keys(root: str, previous: str | None = None, **extra: str) -> dict:
    env = {"WOLBOT_SECRET_KEY": root, **extra}
    if previous:
        env["WOLBOT_SECRET_KEY_PREVIOUS"] = previous
    return {**DURF, "env": env}


def legacy_sealed(client_secret: str, token: str) -> str:
    """A token as the Slack adapter encrypted it before the one hierarchy (its own key)."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"wolbot-slack-tokens", info=b"bot-token"
    ).derive(client_secret.encode())
    return Fernet(base64.urlsafe_b64encode(key)).encrypt(token.encode()).decode()


async def install(core, workspace: str, token: str) -> None:
    async with core.db.session() as s:
        s.add(
            SlackInstallation(
                workspace_id=workspace,
                team_id=workspace.split(":")[1],
                bot_token=token,
                installed_at=datetime.now(UTC),
            )
        )
        await s.commit()


async def bot_token(core, workspace: str) -> str:
    store = DbInstallationStore(core.db, core.keyring)
    return unseal(store.keyring, (await store.row(workspace)).bot_token)


async def run(core, event) -> None:
    await core.handle(event)
    await core.delivery.drain()


def ask(text: str) -> object:
    return ev.command(text, user="anna", channel="D-anna", kind=ConversationKind.DM)


async def answer(core, port, text: str) -> str:
    card = next(r for r in port.sent() if r.dest.channel_id == "DURF" and "#1" in r.text)
    await run(core, ev.message(text, user="bert", channel="DURF", thread_id=card.message_id))
    return port.sent()[-1].text if port.sent()[-1].dest.channel_id == "D-anna" else ""


async def test_rotation_keeps_the_bot_working_during_and_after(make_core, port) -> None:
    port.people["anna"] = PersonInfo("anna", "Anna")
    before = make_core(port, **keys(OLD))
    await before.start(deliver=False, schedule=False)
    await run(before, ask("ask anon How do I report a mistake?"))
    await install(before, "slack:T0NEW", before.keyring.encrypt(SLACK_TOKENS, "xoxb-new"))
    await install(before, "slack:T0OLD", legacy_sealed("client-secret", "xoxb-legacy"))

    # every replica restarted with the new key, the old one accepted for reading
    during = make_core(port, **keys(NEW, OLD, SLACK_CLIENT_SECRET="client-secret"))
    await during.start(deliver=False, schedule=False)
    # relayed: the old contact opens with the previous key
    assert "Use the form." in await answer(during, port, "Use the form.")
    await run(during, ask("ask reply 1 Thanks!"))  # the old hash still recognises the asker
    assert any("Thanks!" in r.text for r in port.sent() if r.dest.channel_id == "DURF")
    await run(during, ask("ask anon A second question?"))  # written with the new key

    # the rotation, while the bot handles an answer and a new question at the same time
    rotated, *_ = await asyncio.gather(
        rotate(during.db, during.keyring),
        answer(during, port, "Or ask your manager."),
        run(during, ask("ask anon A third question?")),
    )
    assert rotated.unreadable == 0
    assert rotated.counts["slack_installation"]["rotated"] == 2
    assert sum(rotated.counts["ask_question"].values()) >= 2
    assert await bot_token(during, "slack:T0OLD") == "xoxb-legacy"

    # the previous key and the legacy Slack secret removed: everything still opens
    after = make_core(port, **keys(NEW))
    await after.start(deliver=False, schedule=False)
    assert await bot_token(after, "slack:T0NEW") == "xoxb-new"
    assert await bot_token(after, "slack:T0OLD") == "xoxb-legacy"
    assert "Ask HR." in await answer(after, port, "Ask HR.")
    await run(after, ask("ask answered 1"))
    assert "Marked as answered" in port.sent()[-1].text
    await run(after, ask("ask anon A fourth one?"))  # three today under both keys: the limit
    assert "that's the limit" in port.sent()[-1].text
    async with after.db.session() as s:
        questions = list(await s.exec(select(Question).order_by(Question.id)))
    assert len(questions) == 3
    for q in questions:
        assert after.keyring.is_current(ANON_CONTACT, q.anon_contact or "")
        assert q.anon_ref == Keyring(NEW).mac(ANON_ASKER, WS, "anna")
    # and the old key alone opens nothing any more
    with pytest.raises(DeliveryError):
        unseal(Keyring(OLD), (await _row(after, "slack:T0NEW")).bot_token)
    assert Keyring(OLD).decrypt(ANON_CONTACT, questions[0].anon_contact or "") is None


async def _row(core, workspace: str) -> SlackInstallation:
    async with core.db.session() as s:
        return await s.get(SlackInstallation, workspace)


async def test_a_second_run_changes_nothing_and_unreadable_rows_are_reported(
    make_core, port
) -> None:
    core = make_core(port, **keys(OLD))
    await core.start(deliver=False, schedule=False)
    await run(core, ask("ask anon Is this safe?"))
    await install(
        core,
        "slack:T0LOST",
        Keyring("a-key-nobody-has-any-more").encrypt(SLACK_TOKENS, "xoxb-lost"),
    )
    keyring = Keyring(NEW, (OLD,))
    first = await rotate(core.db, keyring)
    assert first.counts["ask_question"] == {"rotated": 1, "current": 0, "unreadable": 0}
    assert first.counts["slack_installation"]["unreadable"] == 1 and first.unreadable == 1
    again = await rotate(core.db, keyring)
    assert again.counts["ask_question"] == {"rotated": 0, "current": 1, "unreadable": 0}


def test_wolbot_secrets_rotate_on_the_command_line(sqlite_url: str, tmp_path: Path) -> None:
    async def seed() -> None:
        db = Database(sqlite_url)
        try:
            async with db.session() as s:
                s.add(
                    Question(
                        workspace_id=WS,
                        channel_id="DURF",
                        text="q",
                        language="en",
                        anon_ref=Keyring(OLD).mac(ANON_ASKER, WS, "anna"),
                        anon_contact=Keyring(OLD).encrypt(ANON_CONTACT, "anna"),
                        created_at=datetime.now(UTC),
                    )
                )
                await s.commit()
        finally:
            await db.dispose()

    asyncio.run(seed())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WOLBOT_", "SLACK_"))}
    env.update(
        WOLBOT_DATABASE_URL=sqlite_url,
        WOLBOT_SECRET_KEY=NEW,
        WOLBOT_SECRET_KEY_PREVIOUS=OLD,
        WOLBOT_AUTO_MIGRATE="0",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "secrets", "rotate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "ask_question: 1 re-encrypted, 0 already current, 0 unreadable" in done.stdout
    assert NEW not in done.stdout + done.stderr and OLD not in done.stdout + done.stderr

    async def check() -> Question:
        db = Database(sqlite_url)
        try:
            async with db.session() as s:
                return (await s.exec(select(Question))).one()
        finally:
            await db.dispose()

    question = asyncio.run(check())
    assert Keyring(NEW).decrypt(ANON_CONTACT, question.anon_contact or "") == "anna"
    assert question.anon_ref == Keyring(NEW).mac(ANON_ASKER, WS, "anna")
