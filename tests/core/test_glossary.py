"""The organisation glossary (issue 15 item 2): `/wol config glossary …` by admins in English
and Dutch, refused for members, every change audited; app.yaml's `glossary:` listed,
read-only and checked by `wolbot config check` with the key named."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.config import load_settings
from bot.errors import ConfigError
from bot.matching.glossary import Glossary
from bot.store.tables.admin import AuditEntry
from bot.store.tables.glossary import GlossaryTerm
from tests.core.test_dialogues import run_table
from tests.fakes import events as ev

WS = ev.WORKSPACE
LONG_TERM = "x" * 61
LONG_MEANING = "z" * 301

TABLE_EN = [
    (
        "anouk",
        "/wol config glossary",
        "The glossary is empty. Teach me a term with /wol config glossary add HiX = electronic "
        "patient record.",
    ),
    (
        "anouk",
        "/wol config glossary add HiX = electronic patient record (EPD)",
        "HiX is in the glossary now: electronic patient record (EPD). When I match work, I read "
        "HiX this way, in earlier narrations too.",
    ),
    (
        "anouk",
        "/wol config glossary add P&O = personnel and organisation",
        "P&O is in the glossary now",
    ),
    ("anouk", "/wol config glossary", "Glossary: the organisation's own words"),
    ("anouk", "/wol config glossary list", "HiX = electronic patient record (EPD)"),
    ("anouk", "/wol config glossary", "P&O = personnel and organisation"),
    (
        "anouk",
        "/wol config glossary add hix = something else",
        "HiX is already in the glossary: electronic patient record (EPD). To change it, remove it "
        "first with /wol config glossary remove HiX.",
    ),
    (
        "anouk",
        "/wol config glossary add Zwaluw",
        "Write the term, an equals sign and what it means, for example: /wol config glossary add "
        "HiX = electronic patient record",
    ),
    ("anouk", "/wol config glossary frobnicate", "Write the term, an equals sign"),
    (
        "anouk",
        "/wol config glossary add Zwaluw =   ",
        "What does Zwaluw mean? Write it after the equals sign, for example:",
    ),
    (
        "anouk",
        "/wol config glossary add = the new HR system",
        "A term needs at least one letter or digit",
    ),
    ("anouk", f"/wol config glossary add {LONG_TERM} = y", "A term has at most 60 characters"),
    (
        "anouk",
        f"/wol config glossary add Zwaluw = {LONG_MEANING}",
        "The meaning of Zwaluw has at most 300 characters (now 301).",
    ),
    (
        "anouk",
        "/wol config glossary remove Kolibrie",
        "Kolibrie is not in the glossary, so nothing changed. See the list with "
        "/wol config glossary.",
    ),
    ("anouk", "/wol config glossary remove hix", "HiX is no longer in the glossary."),
    ("anouk", "/wol config glossary remove", "A term needs at least one letter or digit"),
    ("anouk", "/wol config history", "glossary.remove HiX electronic patient record (EPD) →"),
    (
        "bram",
        "/wol config glossary add MT = management team",
        "Only wolbot admins can use /wol config.",
    ),
    ("anouk", "/wol config glossary", "P&O = personnel and organisation"),
]
TABLE_NL = [
    (
        "anouk",
        "/wol instellingen woordenlijst",
        "De woordenlijst is leeg. Leer me een term met /wol instellingen woordenlijst toevoegen "
        "HiX = elektronisch patiëntendossier.",
    ),
    (
        "anouk",
        "/wol instellingen woordenlijst toevoegen HiX = elektronisch patiëntendossier",
        "HiX staat nu in de woordenlijst: elektronisch patiëntendossier. Als ik vergelijkbaar werk "
        'zoek, lees ik HiX zo, ook in eerdere "bezig met"-berichten.',
    ),
    (
        "anouk",
        "/wol instellingen woordenlijst toevoegen het MT = managementteam",
        "het MT staat nu in de woordenlijst",
    ),
    ("anouk", "/wol instellingen woordenlijst lijst", "HiX = elektronisch patiëntendossier"),
    ("anouk", "/wol instellingen woordenlijst", "Woordenlijst: de eigen woorden van de"),
    (
        "anouk",
        "/wol instellingen woordenlijst toevoegen HIX = iets anders",
        "HiX staat al in de woordenlijst: elektronisch patiëntendossier. Wil je het veranderen, "
        "verwijder het dan eerst met /wol instellingen woordenlijst verwijder HiX.",
    ),
    (
        "anouk",
        "/wol instellingen woordenlijst toevoegen Zwaluw",
        "Schrijf de term, een isgelijkteken en wat het betekent, bijvoorbeeld: /wol instellingen "
        "woordenlijst toevoegen HiX = elektronisch patiëntendossier",
    ),
    (
        "anouk",
        "/wol instellingen woordenlijst toevoegen Zwaluw =",
        "Wat betekent Zwaluw? Zet het achter het isgelijkteken",
    ),
    (
        "anouk",
        f"/wol instellingen woordenlijst toevoegen {LONG_TERM} = y",
        "Een term heeft hoogstens 60 tekens",
    ),
    (
        "anouk",
        f"/wol instellingen woordenlijst toevoegen Zwaluw = {LONG_MEANING}",
        "De betekenis van Zwaluw heeft hoogstens 300 tekens (nu 301).",
    ),
    (
        "anouk",
        "/wol instellingen woordenlijst verwijder Kolibrie",
        "Kolibrie staat niet in de woordenlijst, dus er is niets veranderd. Bekijk de lijst met "
        "/wol instellingen woordenlijst.",
    ),
    ("anouk", "/wol config woordenlijst verwijder hix", "HiX staat niet meer in de woordenlijst."),
    ("anouk", "/wol instellingen geschiedenis", "glossary.add het MT"),
    (
        "bram",
        "/wol instellingen woordenlijst toevoegen P&O = personeelszaken",
        "Alleen wolbot-beheerders kunnen /wol instellingen gebruiken.",
    ),
    ("anouk", "/wol instellingen woordenlijst", "het MT = managementteam"),
]


@pytest.fixture
async def glossary_core(make_core, port):
    core = make_core(port, workspaces={WS: {"admins": ["anouk"], "language": "en"}})
    await core.start(deliver=False)
    return core


@pytest.mark.parametrize("table", [TABLE_EN, TABLE_NL], ids=["en", "nl"])
async def test_glossary_commands(glossary_core, port, table) -> None:
    await run_table(glossary_core, port, table)
    # the member's attempt changed nothing
    async with glossary_core.db.session() as s:
        rows = list(await s.exec(select(GlossaryTerm)))
        audit = list(await s.exec(select(AuditEntry).order_by(AuditEntry.id)))
    assert [r.term for r in rows] == (["P&O"] if table is TABLE_EN else ["het MT"])
    assert all(r.added_by == "anouk" and r.added_at is not None for r in rows)
    assert [(a.action, a.target, a.actor_id) for a in audit] == [
        ("glossary.add", "HiX", "anouk"),
        ("glossary.add", "P&O" if table is TABLE_EN else "het MT", "anouk"),
        ("glossary.remove", "HiX", "anouk"),
    ]


YAML_GLOSSARY = {"HiX": "elektronisch patiëntendossier", "Zwaluw": "the new HR system"}


async def test_app_yaml_glossary_is_listed_read_only_and_counts_as_a_duplicate(
    make_core, port
) -> None:
    core = make_core(
        port, workspaces={WS: {"admins": ["anouk"], "language": "en", "glossary": YAML_GLOSSARY}}
    )
    await core.start(deliver=False)
    await run_table(
        core,
        port,
        [
            ("anouk", "/wol config glossary", "Zwaluw = the new HR system  (app.yaml)"),
            (
                "anouk",
                "/wol config glossary add zwaluw = a bird",
                "Zwaluw is already in the glossary: the new HR system. It comes from app.yaml: "
                f"change it there (workspaces.{WS}.glossary.Zwaluw). Nothing changed.",
            ),
            (
                "anouk",
                "/wol instellingen woordenlijst toevoegen HIX = iets anders",
                "HiX staat al in de woordenlijst: elektronisch patiëntendossier. Het komt uit "
                f"app.yaml: verander het daar (workspaces.{WS}.glossary.HiX). "
                "Er is niets veranderd.",
            ),
            (
                "anouk",
                "/wol config glossary remove Zwaluw",
                f"Zwaluw is in the glossary of app.yaml: remove it there "
                f"(workspaces.{WS}.glossary.Zwaluw). Nothing changed.",
            ),
            (
                "anouk",
                "/wol instellingen woordenlijst verwijder HiX",
                "HiX staat in de woordenlijst van app.yaml: verwijder het daar",
            ),
            ("anouk", "/wol config glossary add MT = management team", "MT is in the glossary now"),
        ],
    )
    assert await core.glossary.pairs(WS) == [
        ("HiX", "elektronisch patiëntendossier"),
        ("MT", "management team"),
        ("Zwaluw", "the new HR system"),
    ]


@pytest.mark.parametrize(
    ("glossary", "expected"),
    [
        (
            {"HiX": ""},
            f"workspaces.{WS}.glossary: 'HiX': the meaning is empty (expected term: what it means",
        ),
        ({"x" * 61: "y"}, "A term has at most 60 characters"),
        ({"HiX": "z" * 301}, "The meaning of HiX has at most 300 characters (now 301)"),
        ({"HiX": "EPD", "hix": "the EPD"}, "'hix': the same term as 'HiX'"),
        ({"???": "what"}, "'???': a term needs at least one letter or digit"),
    ],
)
def test_config_check_names_the_glossary_key(tmp_path, glossary, expected) -> None:
    import yaml

    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump({"workspaces": {WS: {"glossary": glossary}}}), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    text = str(err.value)
    assert f"workspaces.{WS}.glossary" in text
    assert expected.split(".glossary: ")[-1] in text


def test_config_check_accepts_a_good_glossary(tmp_path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        f'workspaces:\n  "{WS}":\n    glossary:\n      HiX: "  elektronisch '
        f'patiëntendossier "\n      "het MT": managementteam\n',
        encoding="utf-8",
    )
    settings = load_settings(path, env={})
    assert settings.workspace(WS).glossary == {
        "HiX": "elektronisch patiëntendossier",
        "het MT": "managementteam",
    }


def test_terms_match_whole_words_case_and_diacritics_insensitively() -> None:
    g = Glossary(
        [
            ("HiX", "elektronisch patiëntendossier (EPD), electronic patient record"),
            ("het MT", "managementteam"),
            ("MT", "management team"),
            ("P&O", "personeel en organisatie"),
            ("café", "de kantine"),
        ]
    )
    assert g.found("de HiX-rapportage over heropnames") == ["hix"]
    assert g.found("HIX koppeling") == ["hix"]
    assert g.found("HiXa en MTB, of HMT") == []  # never inside another word
    assert g.found("voorstel voor het\n MT") == ["het mt"]  # the longer phrase wins
    assert g.found("MT-overleg") == ["mt"]
    assert g.found("overleg met P&O") == ["p&o"]
    assert g.found("de cafe-inrichting") == g.found("het CAFÉ") == ["cafe"]
    assert g.expand("overleg met P&O") == "overleg met P&O (personeel en organisatie)"
    assert g.expand("het managementteam en het MT") == "het managementteam en het MT"
    assert g.expand("gewoon werk") == "gewoon werk"
    # a text naming the meaning gets the term as a signal token (the lexical hook)
    assert g.tokens("a report from the Electronic Patiënt Record") == {"hix"}
    assert g.tokens("de HiX-rapportage") == {"hix"}
    assert not Glossary().found("HiX")
