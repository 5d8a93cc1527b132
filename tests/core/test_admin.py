"""`/wol config` by admins; refused for members; precedence, reset, roles and history."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from bot.store.tables import Narration
from bot.store.tables.admin import AuditEntry, RoleGrant, SettingOverride
from tests.fakes import events as ev

WS = ev.WORKSPACE
YAML = {
    "workspaces": {
        WS: {
            "admins": ["alice"],
            "language": "en",
            "checkins": {"time": "09:00"},
            "channels": {"C9": {"language": "nl"}},
        }
    }
}


@pytest.fixture
async def admin_core(make_core, port):
    core = make_core(port, **YAML)
    await core.start(deliver=False)
    return core


async def say(core, port, text: str, user: str = "alice", channel: str = "C1") -> str:
    before = len(port.records)
    await core.handle(ev.command(text, user=user, channel=channel))
    await core.delivery.drain()
    return "\n".join(r.text for r in port.records[before:])


async def count(core, model) -> int:
    async with core.db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


ADMIN_COMMANDS = [
    ("config", "Configure wolbot (admins only)"),
    ("config show", "checkins.time = 09:00  (app.yaml)"),
    ("config show #C9", "language = nl  (app.yaml, this channel)"),
    ("config set nudges.ack_hours 6", "nudges.ack_hours is now 6 (was 4)"),
    ("config set language nl #C7", "language is now nl (was en) in #C7"),
    ("config reset language #C7", "language is back to en (was nl) in #C7"),
    ("config community add #C2 dialogue", "#C2 is now a dialogue community"),
    ("config community list", "#C2 — dialogue"),
    ("config set community.rhythm 0 10 * * tue #C2", "community.rhythm is now 0 10 * * tue"),
    ("config community remove #C2", "#C2 is no longer a community."),
    ("config capture off #C3", "narrations.capture is now off (was on) in #C3"),
    ("config roles grant @bob manager", "@bob is now manager."),
    ("config roles list", "manager: @bob (granted)"),
    ("config roles revoke @bob manager", "@bob is no longer manager."),
    ("config history", "config.set nudges.ack_hours 4 → 6"),
]


@pytest.mark.parametrize(
    ("command", "expected"), ADMIN_COMMANDS, ids=[c for c, _ in ADMIN_COMMANDS]
)
async def test_each_config_subcommand_by_an_admin(admin_core, port, command, expected) -> None:
    for earlier, _ in ADMIN_COMMANDS[: ADMIN_COMMANDS.index((command, expected))]:
        await say(admin_core, port, earlier)
    assert expected in await say(admin_core, port, command)


@pytest.mark.parametrize("command", [c for c, _ in ADMIN_COMMANDS])
async def test_members_are_refused_and_nothing_changes(admin_core, port, command) -> None:
    answer = await say(admin_core, port, command, user="bob")
    assert "Only wolbot admins can use /wol config" in answer
    assert "listed in the bot's configuration" in answer  # says who can
    for model in (SettingOverride, AuditEntry, RoleGrant):
        assert await count(admin_core, model) == 0


async def test_bad_values_get_a_clear_answer(admin_core, port) -> None:
    assert "needs a number between 0.5 and 240" in await say(
        admin_core, port, "config set nudges.ack_hours soon"
    )
    assert "not a schedule I can read" in await say(
        admin_core, port, "config set community.rhythm every tuesday #C2"
    )
    assert "There is no setting called colour" in await say(
        admin_core, port, "config set colour blue"
    )
    assert "applies to the whole workspace" in await say(
        admin_core, port, "config set retention.days 30 #C1"
    )
    assert "is set for a channel" in await say(admin_core, port, "config set community.theme x")
    assert "nope is not a question set I know. Choose one of: collaboration, customer," in (
        await say(admin_core, port, "config set community.question_set nope #C2")
    )
    assert "XX is not a country code" in await say(admin_core, port, "config set country XX")
    assert await count(admin_core, SettingOverride) == 0


async def test_the_checks_app_yaml_shares_answer_in_dutch(admin_core, port) -> None:
    await say(admin_core, port, "taal nl")
    assert "nope is geen vragenset die ik ken. Kies uit: collaboration, customer," in (
        await say(admin_core, port, "instellingen zet community.question_set nope #C2")
    )
    assert "XX is geen landcode" in await say(admin_core, port, "instellingen zet country XX")
    assert "learning" in await say(
        admin_core, port, "instellingen zet community.question_set learning #C2"
    )
    assert await count(admin_core, SettingOverride) == 1


async def test_precedence_and_reset(admin_core, port) -> None:
    config = admin_core.config
    assert (await config.get(WS, "retention.days")).source == "built-in default"
    assert (await config.get(WS, "checkins.time")).value == "09:00"  # app.yaml
    await say(admin_core, port, "config set checkins.time 08:30")
    resolved = await config.get(WS, "checkins.time")
    assert (resolved.value, resolved.source) == ("08:30", "admin override")
    await say(admin_core, port, "config reset checkins.time")
    resolved = await config.get(WS, "checkins.time")
    assert (resolved.value, resolved.source) == ("09:00", "app.yaml")
    # a channel's own value beats the workspace's
    await say(admin_core, port, "config set language nl")
    assert await admin_core.channel_language(WS, "C1") == "nl"
    await say(admin_core, port, "config set language en #C1")
    assert await admin_core.channel_language(WS, "C1") == "en"
    assert await admin_core.channel_language(WS, "C5") == "nl"


async def test_overrides_and_roles_survive_a_restart(make_core, port) -> None:
    first = make_core(port, **YAML)
    await say(first, port, "config set retention.days 90")
    await say(first, port, "config roles grant @carol admin")
    await first.stop()
    second = make_core(port, **YAML)
    assert await second.config.value(WS, "retention.days") == 90
    # carol's granted admin role works in the new process
    assert "Settings for" in await say(second, port, "config show", user="carol")


async def test_capture_off_stops_recording_in_that_channel(admin_core, port) -> None:
    await say(admin_core, port, "config capture off #C3")
    await admin_core.handle(ev.message("I'm working on the budget", channel="C3"))
    await admin_core.handle(ev.message("I'm working on the budget", channel="C4"))
    assert await count(admin_core, Narration) == 1


async def test_history_records_who_and_old_to_new(admin_core, port) -> None:
    await say(admin_core, port, "config set nudges.answer_hours 12")
    await say(admin_core, port, "config roles grant @dave manager")
    async with admin_core.db.session() as s:
        entries = list(await s.exec(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.actor_id, e.action, e.target, e.old, e.new) for e in entries] == [
        ("alice", "config.set", "nudges.answer_hours", 24.0, 12.0),
        ("alice", "role.grant", "dave manager", None, "manager"),
    ]
    history = await say(admin_core, port, "config geschiedenis")
    assert "role.grant dave manager" in history and "@alice" in history


async def test_admin_cannot_drop_own_admin_role(admin_core, port) -> None:
    await say(admin_core, port, "config roles grant @erin admin")
    assert "can't take away your own admin role" in await say(
        admin_core, port, "config roles revoke @erin admin", user="erin"
    )


async def test_dutch_verbs_and_answers(admin_core, port) -> None:
    await say(admin_core, port, "taal nl")
    answer = await say(admin_core, port, "instellingen zet nudges.ack_hours 2")
    assert "nudges.ack_hours is nu 2 (was 4)." in answer


# QA: on/off settings are shown in the admin's language ("aan"/"uit" in Dutch, as typed)
ON_OFF = {
    "en": [
        ("config set defaults.checkins on", "defaults.checkins is now on (was off)."),
        ("config set narrations.capture off #C2", "narrations.capture is now off (was on) in #C2."),
        ("config show", "defaults.checkins = on  (admin override)"),
    ],
    "nl": [
        ("instellingen zet defaults.checkins aan", "defaults.checkins is nu aan (was uit)."),
        (
            "instellingen zet narrations.capture uit #C2",
            "narrations.capture is nu uit (was aan) in #C2.",
        ),
        ("instellingen toon", "defaults.checkins = aan  (ingesteld door beheerder)"),
    ],
}


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_on_off_values_are_in_the_admins_language(admin_core, port, lang) -> None:
    await say(admin_core, port, f"language {lang}")
    for said, expected in ON_OFF[lang]:
        answer = await say(admin_core, port, said)
        assert expected in answer, f"{said!r}: {answer!r}"
        if lang == "nl":
            assert " on " not in answer and " off " not in answer and "(was o" not in answer


# QA: setting a value an admin override already holds changes nothing and is not audited
SAME_AGAIN = {
    "en": (
        "config set nudges.ack_hours 6",
        "config capture off #C2",
        "nudges.ack_hours is already 6.",
        "narrations.capture is already off in #C2.",
    ),
    "nl": (
        "instellingen zet nudges.ack_hours 6",
        "instellingen vastleggen uit #C2",
        "nudges.ack_hours staat al op 6.",
        "narrations.capture staat al op uit in #C2.",
    ),
}


@pytest.mark.parametrize("lang", ["en", "nl"])
async def test_setting_the_same_value_again_changes_nothing(admin_core, port, lang) -> None:
    set_hours, capture_off, same_hours, same_capture = SAME_AGAIN[lang]
    await say(admin_core, port, f"language {lang}")
    assert "(was 4)" in await say(admin_core, port, set_hours)
    assert "(was " in await say(admin_core, port, capture_off)
    assert same_hours in await say(admin_core, port, set_hours)
    assert same_capture in await say(admin_core, port, capture_off)
    assert await count(admin_core, AuditEntry) == 2
    await say(admin_core, port, "config community add #C3 dialogue")
    await say(admin_core, port, "config community add #C3 dialogue")
    assert await count(admin_core, AuditEntry) == 3


@pytest.mark.parametrize(
    ("lang", "off", "on", "expected"),
    [
        (
            "en",
            "config capture off #C2",
            "config capture #C2",
            "narrations.capture is now on (was off) in #C2.",
        ),
        (
            "nl",
            "instellingen vastleggen uit #C2",
            "instellingen vastleggen #C2",
            "narrations.capture is nu aan (was uit) in #C2.",
        ),
    ],
)
async def test_capture_with_only_a_channel_turns_that_channel_on(
    admin_core, port, lang, off, on, expected
) -> None:
    await say(admin_core, port, f"language {lang}")
    await say(admin_core, port, off)
    assert expected in await say(admin_core, port, on)
    assert await admin_core.config.value(WS, "narrations.capture", "C2") is True


@pytest.mark.parametrize(
    ("lang", "said", "expected"),
    [
        ("en", "config frobnicate", "I don't know the command /wol config frobnicate."),
        ("nl", "instellingen onzin", "Het commando /wol instellingen onzin ken ik niet."),
    ],
)
async def test_an_unknown_config_verb_is_named_before_the_overview(
    admin_core, port, lang, said, expected
) -> None:
    await say(admin_core, port, f"language {lang}")
    answer = await say(admin_core, port, said)
    assert answer.startswith(expected), answer
    assert ("Configure wolbot" if lang == "en" else "wolbot instellen") in answer


async def test_community_form_validates_field_by_field(admin_core, port) -> None:
    await say(admin_core, port, "config community edit #C2")
    form = port.sent("form")[-1].form
    assert form is not None and form.private_metadata == "C2"
    submit = ev.message(
        "",
        user="alice",
        channel="C2",
        event_kind=ev.EventKind.FORM_SUBMIT,
        action=ev.Action(
            action_id="config.community",
            value="C2",
            values={
                "community.kind": "dialogue",
                "community.rhythm": "whenever",
                "timezone": "Mars/Base",
            },
        ),
    )
    ctx = await admin_core.handle(submit)
    assert set(ctx.form_errors) == {"community.rhythm", "timezone"}
    assert await count(admin_core, SettingOverride) == 0
    fixed = ev.message(
        "",
        user="alice",
        channel="C2",
        event_kind=ev.EventKind.FORM_SUBMIT,
        action=ev.Action(
            action_id="config.community",
            value="C2",
            values={"community.kind": "dialogue", "community.rhythm": "0 9 * * mon"},
        ),
    )
    ctx = await admin_core.handle(fixed)
    assert ctx.form_errors == {}
    assert await admin_core.config.value(WS, "community.rhythm", "C2") == "0 9 * * mon"
