"""Issue 16, item 2: Dutch texts without English. A scan of every Dutch catalogue entry for
English command words and day names, every command example parsed in its own language, and
dialogue tables in both languages for each fixed case (examples, day names, dates, numbers,
plurals, `/wol privacy vergeet`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.app import build
from bot.i18n import LOCALES_DIR, Catalogues, _read_catalogue
from tests.conftest import CoreFactory, make_settings
from tests.core.test_dialogues import run_table
from tests.fakes import events as ev
from tests.fakes.chat import RecordingPort

WS = ev.WORKSPACE
# Words of English commands that have a Dutch form (the Dutch form is what Dutch texts show).
# Not "community": Dutch says community too (see test_dutch_says_community below).
ENGLISH_COMMAND_WORDS = {
    "me",
    "pause",
    "resume",
    "ask",
    "reply",
    "answered",
    "anon",
    "hide",
    "thanks",
    "thank",
    "forget",
    "export",
    "weekly",
    "stats",
    "grant",
    "revoke",
    "show",
    "set",
    "reset",
    "add",
    "remove",
    "list",
    "edit",
    "now",
    "close",
    "skip",
    "round",
    "roles",
    "language",
    "help",
    "matching",
    "share",
    "intros",
    "country",
    "on",
    "off",
    "working",
    "profile",
    "history",
    "capture",
    "config",
    "person",
    "channel",
    "narration",
    "dialogue",
    "manager",
    "admin",
    "glossary",
}
DAY_NAMES = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)\b", re.IGNORECASE)
COMMAND = re.compile(r"/wol((?: [^\s.,;:!?)\"“”]+)*)")


def _dutch_entries() -> list[tuple[str, str]]:
    found = []
    for message in _read_catalogue(LOCALES_DIR, "nl"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found += [(ids[0], s) for s in strings if s]
    return found


def _usage_msgids(core) -> set[str]:  # type: ignore[no-untyped-def]
    return {s.usage for s in core.commands.subcommands if s.usage}


def test_the_scanner_finds_what_it_looks_for() -> None:
    """The checks below, on texts that must fail them."""
    assert _english_words("Wijzig met /wol me pause 7.") == ["me", "pause"]
    assert _english_words("Typ /wol ik pauze 7, of /wol hulp.") == []
    assert _english_words("Met /wol instellingen zet language nl") == []
    assert DAY_NAMES.search("elke mon om 09:30") and not DAY_NAMES.search("ma, do en vr")


def _english_words(text: str) -> list[str]:
    words = []
    for match in COMMAND.finditer(text):
        tokens = match.group(1).lower().split()
        # a setting's key after "zet"/"herstel" is its name in app.yaml, not a command word
        words += [
            w
            for i, w in enumerate(tokens)
            if w in ENGLISH_COMMAND_WORDS and not (i and tokens[i - 1] in ("zet", "herstel"))
        ]
    return words


def test_no_dutch_entry_shows_english_commands_or_day_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    core = build(make_settings(f"sqlite:///{tmp_path / 'x.db'}"))
    usages = _usage_msgids(core)
    wrong = []
    for msgid, text in _dutch_entries():
        words = _english_words(text)
        if msgid in usages:  # "[taal|checkins|pauze …]": every alternative is a word
            words += [
                w for w in re.split(r"[\[\]|<>… ]+", text.lower()) if w in ENGLISH_COMMAND_WORDS
            ]
        if words or DAY_NAMES.search(text):
            wrong.append(f"{msgid!r} -> {text!r}: {words or DAY_NAMES.findall(text)}")
    assert wrong == []


def test_every_command_example_is_understood_in_its_own_language(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each `/wol …` msgid (an example shown to people) and its Dutch form reach the same
    subcommand, the Dutch one by its Dutch name."""
    core = build(make_settings(f"sqlite:///{tmp_path / 'x.db'}"))
    nl = Catalogues().get("nl")
    examples = [m for m, _ in _dutch_entries() if m.startswith("/wol")]
    assert len(examples) >= 30
    for msgid in examples:
        english = core.commands.parse(msgid.removeprefix("/wol"))
        dutch = core.commands.parse(nl.gettext(msgid).removeprefix("/wol"))
        assert english.sub is not None and english.sub is dutch.sub, msgid
        assert dutch.name in english.sub.names.get("nl", ()), (msgid, dutch.name)


NL = {"workspaces": {WS: {"language": "nl", "timezone": "Europe/Amsterdam", "admins": ["anouk"]}}}
EN = {"workspaces": {WS: {"language": "en", "timezone": "Europe/Amsterdam", "admins": ["anouk"]}}}

TABLE_NL = [
    ("bram", "/wol ik checkins ma,do,vr 09:30", "ma, do en vr om 09:30"),
    # QA: days as people write them; a range is every day in it, not only its first
    ("bram", "/wol ik checkins dinsdag en donderdag 14:30", "di en do om 14:30"),
    ("bram", "/wol ik checkins ma-vr 09:00", "ma, di, wo, do en vr om 09:00"),
    ("bram", "/wol ik checkins maandag t/m woensdag 09:00", "ma, di en wo om 09:00"),
    ("bram", "/wol ik checkins ma, do 09:30", "ma en do om 09:30"),
    ("bram", "/wol ik checkins vr-ma 09:00", "vr-ma is geen lijst van weekdagen"),
    ("bram", "/wol ik checkins ma,do,vr 09:30", "ma, do en vr om 09:30"),
    (
        "bram",
        "/wol ik",
        "Wijzig met bijvoorbeeld /wol ik checkins uit, /wol ik checkins ma,do "
        "09:30, /wol ik pauze 7, /wol ik suggesties uit.",
    ),
    ("bram", "/wol ik pauze 400", "Bijvoorbeeld /wol ik pauze 14"),
    ("bram", "/wol ik pauze 14", "Gepauzeerd tot 19 januari 2026"),
    ("bram", "/wol ik land XX", "bijvoorbeeld /wol ik land NL, of /wol ik land uit"),
    ("bram", "/wol bedankt", "/wol bedankt @anouk voor de inwerktips"),
    (
        "bram",
        "/wol privacy",
        "/wol privacy exporteer stuurt je alles als bestand; /wol privacy vergeet wist het.",
    ),
    ("bram", "/wol privacy vergeet", "Hiermee wis ik je"),
    (
        "anouk",
        "/wol instellingen rollen geef",
        "/wol instellingen rollen geef @persoon leidinggevende",
    ),
    ("anouk", "/wol instellingen zet", "/wol instellingen zet nudges.ack_hours 6"),
    ("anouk", "/wol instellingen zet bestaatniet 3", "/wol instellingen toon"),
    (
        "anouk",
        "/wol instellingen community toevoegen #team dialoog",
        "#team is nu een dialoog-community. Pas het aan met /wol instellingen community bewerk "
        "#team.",
    ),
    ("anouk", "/wol instellingen community lijst", "#team — dialoog"),
    (
        "anouk",
        "/wol instellingen community verwijder #nope",
        "#nope is geen community, dus er is niets veranderd. Bekijk ze allemaal met "
        "/wol instellingen community lijst.",
    ),
    ("anouk", "/wol ronde", "/wol instellingen community toevoegen #C1 dialoog"),
    ("anouk", "/wol vraag", "/wol instellingen community toevoegen #durf-te-vragen"),
    ("anouk", "/wol instellingen rollen geef @bram beheerder", "@bram is nu beheerder."),
    ("anouk", "/wol instellingen rollen lijst", "leidinggevende: nog niemand"),
    ("bram", "/wol taal fr", "Ik spreek Engels en Nederlands."),
    ("bram", "/wol ik cijfers", "Alleen jij ziet dit. Leidinggevenden zien alleen totalen"),
    ("bram", "/wol hepl", "Bedoelde je /wol hulp?"),
    (
        "anouk",
        "/wol instellingen community toevoegen #ask durf-te-vragen",
        "#ask is nu een durf-te-vragen-community",
    ),
]
TABLE_EN = [
    ("bram", "/wol me checkins mon,thu,fri 09:30", "Mon, Thu, and Fri at 09:30"),
    ("bram", "/wol me checkins tuesday and thursday 14:30", "Tue and Thu at 14:30"),
    ("bram", "/wol me checkins mon-fri 09:00", "Mon, Tue, Wed, Thu, and Fri at 09:00"),
    ("bram", "/wol me checkins monday to wednesday 09:00", "Mon, Tue, and Wed at 09:00"),
    ("bram", "/wol me checkins mon, thu 09:30", "Mon and Thu at 09:30"),
    ("bram", "/wol me checkins monkey 09:30", "monkey is not a list of weekdays"),
    ("bram", "/wol me checkins mon,thu,fri 09:30", "Mon, Thu, and Fri at 09:30"),
    (
        "bram",
        "/wol me",
        "Change with e.g. /wol me checkins off, /wol me checkins mon,thu 09:30, "
        "/wol me pause 7, /wol me matching off.",
    ),
    ("bram", "/wol me pause 400", "For example /wol me pause 14"),
    ("bram", "/wol me pause 14", "Paused until 19 January 2026"),
    ("bram", "/wol me country XX", "for example /wol me country NL, or /wol me country off"),
    ("bram", "/wol thanks", "/wol thanks @anouk for the onboarding tips"),
    (
        "bram",
        "/wol privacy",
        "/wol privacy export sends you all of it as a file; /wol privacy forget erases it.",
    ),
    ("bram", "/wol privacy forget", "This erases your"),
    ("anouk", "/wol config roles grant", "/wol config roles grant @person manager"),
    ("anouk", "/wol config set", "/wol config set nudges.ack_hours 6"),
    ("anouk", "/wol config set doesnotexist 3", "/wol config show"),
    (
        "anouk",
        "/wol config community add #team dialogue",
        "#team is now a dialogue community. Adjust it with /wol config community edit #team.",
    ),
    ("anouk", "/wol config community list", "#team — dialogue"),
    (
        "anouk",
        "/wol config community remove #nope",
        "#nope is not a community, so nothing changed. See them all with "
        "/wol config community list.",
    ),
    ("anouk", "/wol round", "/wol config community add #C1 dialogue"),
    ("anouk", "/wol ask", "/wol config community add #durf-te-vragen"),
    ("anouk", "/wol config roles grant @bram admin", "@bram is now admin."),
    ("anouk", "/wol config roles list", "manager: nobody yet"),
    ("bram", "/wol language fr", "I speak Dutch and English."),
    ("bram", "/wol me stats", "Only you see this. Managers see totals"),
    ("bram", "/wol hepl", "Did you mean /wol help?"),
    (
        "anouk",
        "/wol config community add #ask durf-te-vragen",
        "#ask is now a durf-te-vragen community",
    ),
]


@pytest.mark.parametrize(("settings", "table"), [(NL, TABLE_NL), (EN, TABLE_EN)], ids=["nl", "en"])
async def test_commands_days_and_dates_in_the_readers_language(
    make_core: CoreFactory, port: RecordingPort, clock, settings, table
) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    core = make_core(port, **settings)
    await core.start(deliver=False, schedule=False)
    await run_table(core, port, table)


@pytest.mark.parametrize(
    ("workspace", "said", "expected"),
    [
        ("en", "/wol privacy vergeet", "Hiermee wis ik je"),  # the Dutch word tells
        ("nl", "/wol privacy forget", "This erases your"),
    ],
)
async def test_a_keyword_tells_the_language_of_a_shared_command(
    make_core: CoreFactory, port: RecordingPort, workspace: str, said: str, expected: str
) -> None:
    core = make_core(port, workspaces={WS: {"language": workspace}})
    await core.start(deliver=False, schedule=False)
    await run_table(core, port, [("nieuw", said, expected)])


@pytest.mark.parametrize(
    ("lang", "one", "two"),
    [
        ("en", "Maybe @femke knows more about this?", "Maybe @femke and @bram know more"),
        ("nl", "Weet @femke hier misschien meer van?", "Weten @femke en @bram hier misschien"),
    ],
)
def test_plurals_agree_with_the_number_of_people(lang: str, one: str, two: str) -> None:
    from bot.features.ask_nudges import people_parts, suggest_text
    from bot.messages import OutboundMessage

    t = Catalogues().get(lang)
    for people, expected in ((["femke"], one), (["femke", "bram"], two)):
        text = OutboundMessage.text(
            *people_parts(suggest_text(t, len(people)), people, t.gettext(" and "))
        ).plain_text()
        assert text.startswith(expected), text


# QA: the Dutch role word is "leidinggevende" and a manager's acknowledgement is "waarderen"
# (the question card's button), in the figures and the dashboard too
@pytest.mark.parametrize(
    ("msgid", "expected"),
    [
        ("share of questions acknowledged", "aandeel vragen gewaardeerd door een leidinggevende"),
        ("Not yet acknowledged", "Nog niet gewaardeerd door een leidinggevende"),
        (
            "Only you see this. Managers see totals of groups of at least {n} people, "
            "never a person. "
            "Every level is valuable, reading too.",
            "Leidinggevenden zien alleen totalen",
        ),
    ],
)
def test_acknowledgement_words_in_dutch(msgid: str, expected: str) -> None:
    text = Catalogues().get("nl").gettext(msgid)
    assert expected in text and "manager" not in text.lower(), text


# QA: the Dutch texts said "gemeenschap" in the admin command and "community" in the figures
# and the dashboard, as if they were two things. Dutch workplaces say community (plural
# "community's", compounds written together: communitymanager, dialoogcommunity); the old
# word is still accepted as a command word (bot/features/admin.py VERBS), never shown.
def test_dutch_says_community() -> None:
    entries = _dutch_entries()
    old_word = [f"{m!r} -> {t!r}" for m, t in entries if "gemeenschap" in t.lower()]
    english_plural = [f"{m!r} -> {t!r}" for m, t in entries if "communities" in t.lower()]
    assert old_word == [] and english_plural == []
    assert sum("community" in t.lower() for _, t in entries) >= 40


ALIAS = [
    (
        "anouk",
        "/wol config gemeenschap toevoegen #team dialoog",
        "#team is nu een dialoog-community. Pas het aan met /wol instellingen community bewerk "
        "#team.",
    ),
    ("anouk", "/wol config gemeenschap lijst", "Community's:\n#team — dialoog"),
    ("anouk", "/wol instellingen gemeenschap verwijder #team", "#team is geen community meer."),
]


@pytest.mark.parametrize("settings", [NL, EN], ids=["nl", "en"])
async def test_the_old_dutch_word_still_works(
    make_core: CoreFactory, port: RecordingPort, settings
) -> None:  # type: ignore[no-untyped-def]
    """`gemeenschap` still reaches the community subcommand, and (a Dutch word) makes the
    answer Dutch in an English workspace too; the answer says community."""
    core = make_core(port, **settings)
    await core.start(deliver=False, schedule=False)
    await run_table(core, port, ALIAS)


@pytest.mark.parametrize("said", ["/wol instellingen", "/wol instellingen hulp", "/wol hulp"])
async def test_dutch_help_shows_community(
    make_core: CoreFactory, port: RecordingPort, said: str
) -> None:
    core = make_core(port, **NL)
    await core.start(deliver=False, schedule=False)
    shown = {
        "/wol instellingen": "/wol instellingen community toevoegen #kanaal "
        "[hardop-werken|dialoog|durf-te-vragen] — maak van een kanaal een community; ook: "
        "community lijst, community verwijder #kanaal, community bewerk #kanaal",
        "/wol hulp": "<toon|zet|herstel|community|vastleggen|rollen|woordenlijst|geschiedenis>",
    }
    await run_table(core, port, [("anouk", said, shown.get(said, shown["/wol instellingen"]))])
    assert "gemeenschap" not in "\n".join(r.text for r in port.records).lower()
