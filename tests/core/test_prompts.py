"""Question sets: the shipped prompts are valid; broken files give file:line messages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.prompts import (
    KINDS,
    PROMPTS_DIR,
    SET_KEYS,
    THEMES,
    Prompt,
    PromptError,
    PromptLibrary,
    PromptSet,
    check,
)

ROOT = Path(__file__).resolve().parents[2]

EN = """\
set: demo
language: en
title: "Demo"
description: "A small set for tests."
items:
  - id: dem-001
    kind: question
    theme: learning
    text: "What did you learn this week that a colleague should know?"
  - id: dem-002
    kind: statement
    theme: sharing
    text: "Sharing unfinished work saves everyone time."
  - id: dem-003
    kind: question
    theme: customer
    text: "What did a patient tell you recently that stuck with you?"
"""

NL = """\
set: demo
language: nl
title: "Demo"
description: "Een kleine set voor tests."
items:
  - id: dem-001
    kind: question
    theme: learning
    text: "Wat heb je deze week geleerd waar een collega iets aan heeft?"
  - id: dem-002
    kind: statement
    theme: sharing
    text: "Onaf werk delen scheelt iedereen tijd."
  - id: dem-003
    kind: question
    theme: customer
    text: "Wat zei een patiënt onlangs tegen je dat je is bijgebleven?"
"""


def write(directory: Path, en: str | None = EN, nl: str | None = NL, name: str = "demo") -> Path:
    if en is not None:
        (directory / f"{name}.en.yaml").write_text(en, encoding="utf-8")
    if nl is not None:
        (directory / f"{name}.nl.yaml").write_text(nl, encoding="utf-8")
    return directory


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing needle."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[occurrence - 1]


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


# --- the shipped question sets ----------------------------------------------------------------


def test_shipped_prompts_pass_check_and_load() -> None:
    assert PROMPTS_DIR == ROOT / "prompts" or "WOLBOT_PROMPTS_DIR" in os.environ
    assert check(ROOT / "prompts") == []
    library = PromptLibrary.load(ROOT / "prompts")
    assert len(library.set_ids()) >= 5
    for set_id in ("general", "learning", "collaboration", "customer", "improvement"):
        assert set_id in library.set_ids()


def test_each_language_has_at_least_48_items_of_both_kinds() -> None:
    library = PromptLibrary.load(ROOT / "prompts")
    for language in ("en", "nl"):
        items = [
            item
            for set_id in library.set_ids()
            for item in library.get(set_id, language).items  # type: ignore[union-attr]
        ]
        assert len(items) >= 48, (language, len(items))
        kinds = Counter(item.kind for item in items)
        assert kinds["question"] >= 24 and kinds["statement"] >= 12, kinds
        themes = {item.theme for item in items}
        assert {"learning", "weekly", "collaboration", "customer", "improvement"} <= themes
        assert all(item.language == language for item in items)


def test_every_set_has_both_languages_with_identical_ids() -> None:
    library = PromptLibrary.load(ROOT / "prompts")
    for set_id in library.set_ids():
        assert library.languages(set_id) == ["en", "nl"]
        en, nl = library.get(set_id, "en"), library.get(set_id, "nl")
        assert en is not None and nl is not None
        assert [p.id for p in en.items] == [p.id for p in nl.items]
        assert [(p.kind, p.theme) for p in en.items] == [(p.kind, p.theme) for p in nl.items]
        assert en.title != nl.title  # really written in both languages
        assert all(a.text != b.text for a, b in zip(en.items, nl.items, strict=True))


def test_shipped_texts_are_open_and_unique() -> None:
    library = PromptLibrary.load(ROOT / "prompts")
    for language in ("en", "nl"):
        texts = [
            item.text
            for set_id in library.set_ids()
            for item in library.get(set_id, language).items  # type: ignore[union-attr]
        ]
        assert len(texts) == len(set(texts))
        for text in texts:
            assert 20 <= len(text) <= 500
    # An English question never starts like a yes/no question.
    closed = ("Do ", "Does ", "Did ", "Is ", "Are ", "Can ", "Have ", "Has ", "Would ", "Should ")
    for set_id in library.set_ids():
        for item in library.get(set_id, "en").items:  # type: ignore[union-attr]
            if item.kind == "question":
                assert not item.text.startswith(closed), item.id


def test_library_lookups() -> None:
    library = PromptLibrary.load(ROOT / "prompts")
    general = library.get("general", "nl")
    assert isinstance(general, PromptSet)
    assert (general.id, general.language) == ("general", "nl")
    assert general.items[0].id == "gen-001"
    prompt = library.prompt("general", "en", "gen-003")
    assert isinstance(prompt, Prompt)
    assert (prompt.kind, prompt.language) == ("statement", "en")
    assert prompt.kind in KINDS and prompt.theme in THEMES
    assert library.get("general", "de") is None
    assert library.get("nope", "en") is None
    assert library.prompt("general", "en", "gen-999") is None
    assert library.languages("nope") == []


def test_directory_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path)
    monkeypatch.setenv("WOLBOT_PROMPTS_DIR", str(tmp_path))
    assert check() == []
    library = PromptLibrary.load()
    assert library.set_ids() == ["demo"]
    assert [p.id for p in library.get("demo", "en").items] == [  # type: ignore[union-attr]
        "dem-001",
        "dem-002",
        "dem-003",
    ]


# --- broken files -----------------------------------------------------------------------------


def test_valid_demo_directory(tmp_path: Path) -> None:
    assert check(write(tmp_path)) == []


def test_bad_yaml_reports_the_line(tmp_path: Path) -> None:
    broken = NL.replace('    text: "Onaf werk', '    text: Onaf: "werk')
    write(tmp_path, nl=broken)
    problem = only(check(tmp_path))
    assert problem.startswith(f"{tmp_path / 'demo.nl.yaml'}:{line_of(broken, 'Onaf')}: ")
    assert "YAML syntax error" in problem


def test_unclosed_quote_is_a_syntax_error_with_a_line(tmp_path: Path) -> None:
    broken = EN.replace('text: "Sharing unfinished work saves everyone time."', 'text: "Sharing')
    write(tmp_path, en=broken)
    problems = check(tmp_path)
    assert len(problems) == 1
    name, line, message = problems[0].split(":", 2)
    assert name == str(tmp_path / "demo.en.yaml")
    assert int(line) >= line_of(broken, 'text: "Sharing')
    assert "YAML syntax error" in message


def test_unknown_key(tmp_path: Path) -> None:
    broken = EN.replace("    theme: sharing\n", "    theme: sharing\n    author: me\n")
    write(tmp_path, en=broken)
    assert only(check(tmp_path)) == (
        f"{tmp_path / 'demo.en.yaml'}:{line_of(broken, 'author')}: unknown key 'author'"
        " in the item (allowed: id, kind, theme, text)"
    )


def test_unknown_top_level_key_and_missing_keys(tmp_path: Path) -> None:
    broken = EN.replace('title: "Demo"\n', 'titel: "Demo"\n')
    write(tmp_path, en=broken)
    problems = check(tmp_path)
    path = tmp_path / "demo.en.yaml"
    assert problems == [
        f"{path}:1: missing key in the set: title",
        f"{path}:3: unknown key 'titel' in the set (allowed: {', '.join(SET_KEYS)})",
    ]


def test_duplicate_id(tmp_path: Path) -> None:
    broken = EN.replace("id: dem-003", "id: dem-001")
    write(tmp_path, en=broken)
    problems = check(tmp_path)
    path = tmp_path / "demo.en.yaml"
    first, second = line_of(broken, "dem-001"), line_of(broken, "dem-001", 2)
    assert f"{path}:{second}: duplicate id 'dem-001' (first on line {first})" in problems


def test_ids_differ_between_languages(tmp_path: Path) -> None:
    broken = NL.replace("id: dem-002", "id: dem-004")
    write(tmp_path, nl=broken)
    path = tmp_path / "demo.nl.yaml"
    en = tmp_path / "demo.en.yaml"
    assert check(tmp_path) == [
        f"{path}:{line_of(broken, 'items:')}: id 'dem-002' from {en}:{line_of(EN, 'dem-002')}"
        " is missing here",
        f"{path}:{line_of(broken, 'dem-004')}: id 'dem-004' is not in {en}",
    ]


def test_order_differs_between_languages(tmp_path: Path) -> None:
    head, first, second, third = NL.split("  - id: ")
    swapped = "  - id: ".join([head, first, third, second])
    write(tmp_path, nl=swapped)
    problem = only(check(tmp_path))
    assert problem == (
        f"{tmp_path / 'demo.nl.yaml'}:{line_of(swapped, 'dem-003')}: item 2 is 'dem-003' here"
        f" but 'dem-002' in {tmp_path / 'demo.en.yaml'} (keep the same order in every language)"
    )


def test_kind_differs_between_languages(tmp_path: Path) -> None:
    broken = NL.replace("kind: statement", "kind: question")
    write(tmp_path, nl=broken)
    assert only(check(tmp_path)).endswith(
        f"kind of 'dem-002' is 'question' here but 'statement' in {tmp_path / 'demo.en.yaml'}"
    )


def test_wrong_language_in_file_name(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "demo.nl.yaml").rename(tmp_path / "demo.de.yaml")
    problems = check(tmp_path)
    de = tmp_path / "demo.de.yaml"
    assert f"{de}:0: language 'de' in the file name is not supported (use one of: en, nl)" in (
        problems
    )
    assert f"{de}:2: language 'nl' does not match the file name ('de')" in problems
    assert (
        f"{tmp_path / 'demo.en.yaml'}:1: set 'demo' has no 'nl' version (expected demo.nl.yaml)"
        in problems
    )


def test_language_in_file_does_not_match_file_name(tmp_path: Path) -> None:
    write(tmp_path, nl=NL.replace("language: nl", "language: en"))
    assert only(check(tmp_path)) == (
        f"{tmp_path / 'demo.nl.yaml'}:2: language 'en' does not match the file name ('nl')"
    )


def test_set_id_does_not_match_file_name(tmp_path: Path) -> None:
    write(tmp_path, nl=NL.replace("set: demo", "set: general"))
    assert only(check(tmp_path)) == (
        f"{tmp_path / 'demo.nl.yaml'}:1: set 'general' does not match the file name ('demo')"
    )


@pytest.mark.parametrize(
    ("mention", "reported"),
    [
        ("<!channel>", "<!"),
        ("<!here>", "<!"),
        ("<@U12345>", "<@"),
        ("@here", "@here"),
        ("@Channel", "@Channel"),
        ("@everyone", "@everyone"),
    ],
)
def test_mass_mentions_and_markup_in_texts(tmp_path: Path, mention: str, reported: str) -> None:
    broken = EN.replace("a colleague should know?", f"a colleague should know? {mention}")
    write(tmp_path, en=broken)
    assert only(check(tmp_path)) == (
        f"{tmp_path / 'demo.en.yaml'}:{line_of(broken, mention)}: text contains"
        f" {reported!r}: no mass mentions or raw platform markup"
    )


def test_mentions_in_title_are_rejected_too(tmp_path: Path) -> None:
    write(tmp_path, nl=NL.replace('title: "Demo"', 'title: "Demo @here"'))
    assert only(check(tmp_path)) == (
        f"{tmp_path / 'demo.nl.yaml'}:3: title contains '@here':"
        " no mass mentions or raw platform markup"
    )


def test_email_addresses_are_not_mentions(tmp_path: Path) -> None:
    fine = EN.replace("a colleague should know?", "a colleague should know? (ask desk@here.nl)")
    write(tmp_path, en=fine)
    assert check(tmp_path) == []


def test_missing_language_version(tmp_path: Path) -> None:
    write(tmp_path, nl=None)
    assert check(tmp_path) == [
        f"{tmp_path / 'demo.en.yaml'}:1: set 'demo' has no 'nl' version (expected demo.nl.yaml)"
    ]


def test_bad_values(tmp_path: Path) -> None:
    broken = (
        EN.replace("id: dem-002", "id: Dem-2")
        .replace("kind: statement", "kind: poll")
        .replace("theme: customer", "theme: weather")
        .replace('"Sharing unfinished work saves everyone time."', '"   "')
    )
    write(tmp_path, en=broken)
    path = tmp_path / "demo.en.yaml"
    blank = 'text: "   "'
    assert check(tmp_path) == [
        f"{path}:{line_of(broken, 'Dem-2')}: id 'Dem-2' must be lower-case letters, a dash"
        " and three digits (e.g. gen-001)",
        f"{path}:{line_of(broken, 'poll')}: kind 'poll' is not one of: question, statement",
        f"{path}:{line_of(broken, blank)}: text is empty",
        f"{path}:{line_of(broken, 'weather')}: theme 'weather' is not one of: " + ", ".join(THEMES),
    ]


def test_too_long_text_and_non_text_values(tmp_path: Path) -> None:
    long_text = "Why " + "very " * 110 + "long?"
    broken = EN.replace('"Sharing unfinished work saves everyone time."', f'"{long_text}"')
    broken = broken.replace("kind: question\n    theme: customer", "kind: 3\n    theme: customer")
    write(tmp_path, en=broken)
    path = tmp_path / "demo.en.yaml"
    problems = check(tmp_path)
    assert f"{path}:{line_of(broken, 'very very')}: text is {len(long_text)} characters long" in (
        " ".join(problems)
    )
    assert f"{path}:{line_of(broken, 'kind: 3')}: kind must be text (put it in quotes)" in problems


def test_the_same_text_twice_in_a_language(tmp_path: Path) -> None:
    write(tmp_path)
    other_en = EN.replace("set: demo", "set: other").replace("dem-00", "oth-00")
    other_nl = NL.replace("set: demo", "set: other").replace("dem-00", "oth-00")
    other_nl = other_nl.replace("Wat ", "Wat precies ").replace("iedereen", "ons")
    write(tmp_path, en=other_en, nl=other_nl, name="other")
    problems = check(tmp_path)
    assert len(problems) == 3
    assert all("other.en.yaml" in p and "repeats" in p for p in problems)
    assert problems[0] == (
        f"{tmp_path / 'other.en.yaml'}:{line_of(other_en, 'oth-001')}: the text of 'oth-001'"
        f" repeats 'dem-001' ({tmp_path / 'demo.en.yaml'}:{line_of(EN, 'dem-001')})"
    )


def test_an_id_is_used_once_per_language(tmp_path: Path) -> None:
    write(tmp_path)
    other_en = EN.replace("set: demo", "set: other").replace("week", "month")
    other_en = other_en.replace("everyone", "us all").replace("a patient", "a resident")
    other_nl = NL.replace("set: demo", "set: other").replace("week", "maand")
    other_nl = other_nl.replace("iedereen", "ons").replace("een patiënt", "een inwoner")
    write(tmp_path, en=other_en, nl=other_nl, name="other")
    problems = check(tmp_path)
    assert len(problems) == 6
    assert problems[0] == (
        f"{tmp_path / 'other.en.yaml'}:{line_of(other_en, 'dem-001')}: id 'dem-001' is already"
        f" used in {tmp_path / 'demo.en.yaml'}:{line_of(EN, 'dem-001')}"
    )


def test_empty_and_misnamed_files(tmp_path: Path) -> None:
    write(tmp_path)
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    (tmp_path / "extra.en.yml").write_text("set: extra\n")
    (tmp_path / "blank.en.yaml").write_text("\n")
    (tmp_path / "blank.nl.yaml").write_text("- just\n- a list\n")
    assert sorted(check(tmp_path)) == sorted(
        [
            f"{tmp_path / 'notes.yaml'}:0: file name must be <set>.<language>.yaml,"
            " e.g. general.nl.yaml",
            f"{tmp_path / 'extra.en.yml'}:0: rename to .yaml: only *.yaml files are read",
            f"{tmp_path / 'blank.en.yaml'}:0: the file is empty",
            f"{tmp_path / 'blank.nl.yaml'}:1: expected a mapping with the keys"
            " set, language, title, description, items",
        ]
    )


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    assert only(check(tmp_path)).endswith(
        ":0: no question sets found (expected <set>.<language>.yaml files)"
    )
    assert only(check(tmp_path / "missing")) == f"{tmp_path / 'missing'}:0: no such directory"


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    write(tmp_path, en=EN.replace("kind: statement", "kind: poll"), nl=None)
    with pytest.raises(PromptError) as caught:
        PromptLibrary.load(tmp_path)
    assert caught.value.problems == check(tmp_path)
    assert len(caught.value.problems) == 2
    assert str(caught.value) == "\n".join(caught.value.problems)
    assert f"{tmp_path / 'demo.en.yaml'}:" in str(caught.value)


def test_paths_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, nl=None)
    monkeypatch.chdir(tmp_path.parent)
    assert check(Path(tmp_path.name)) == [
        f"{Path(tmp_path.name) / 'demo.en.yaml'}:1: set 'demo' has no 'nl' version"
        " (expected demo.nl.yaml)"
    ]


# --- the command line -------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "WOLBOT_PROMPTS_DIR"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "prompts", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_check_ok_on_shipped_prompts() -> None:
    result = run_cli()
    assert result.returncode == 0, result.stdout + result.stderr
    library = PromptLibrary.load(ROOT / "prompts")
    sets = len(library.set_ids())
    assert result.stdout.strip() == f"{sets} sets, 2 languages, {len(library)} questions: OK"


def test_cli_check_fails_with_the_message_on_a_broken_directory(tmp_path: Path) -> None:
    write(tmp_path, en=EN.replace("theme: learning", "theme: <!channel>"), nl=None)
    result = run_cli("--dir", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines == check(tmp_path)
    en = tmp_path / "demo.en.yaml"
    assert lines == [
        f"{en}:1: set 'demo' has no 'nl' version (expected demo.nl.yaml)",
        f"{en}:{line_of(EN, 'theme: learning')}: theme '<!channel>' is not one of: "
        + ", ".join(THEMES),
    ]


def test_set_ids_in_file_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        en=EN.replace("set: demo", "set: durf-te-vragen"),
        nl=NL.replace("set: demo", "set: durf-te-vragen"),
        name="durf-te-vragen",
    )
    assert check(tmp_path) == []
    assert PromptLibrary.load(tmp_path).set_ids() == ["durf-te-vragen"]
    bad = tmp_path / "bad"
    bad.mkdir()
    write(bad, en=EN.replace("set: demo", "set: Demo"), nl=None, name="Demo")
    problems = check(bad)
    assert (
        f"{bad / 'Demo.en.yaml'}:0: set id 'Demo' in the file name must match [a-z][a-z0-9_-]*"
        in (problems)
    )
