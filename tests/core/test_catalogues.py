"""Every user-facing msgid used in the code has an English and a Dutch entry."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.i18n import Catalogues

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("i18n_sync", ROOT / "scripts" / "i18n_sync.py")
assert spec and spec.loader
i18n_sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(i18n_sync)


def test_every_msgid_is_in_both_catalogues() -> None:
    used = i18n_sync.used_msgids()
    assert len(used) > 20
    for lang in ("en", "nl"):
        known = i18n_sync.catalogue_ids(lang)
        missing = [f"{m!r} ({used[m]})" for m in used if m not in known]
        assert missing == [], f"missing from {lang}: {missing}"


def test_every_dutch_entry_is_translated() -> None:
    used = i18n_sync.used_msgids()
    nl = i18n_sync.catalogue_ids("nl")
    untranslated = [m for m in used if m in nl and not nl[m].strip()]
    assert untranslated == []


def test_placeholders_survive_translation() -> None:
    import re

    nl = i18n_sync.catalogue_ids("nl")
    placeholder = re.compile(r"\{[a-z_]+\}")
    broken = [
        m
        for m, t in nl.items()
        if t and sorted(placeholder.findall(m)) != sorted(placeholder.findall(t))
    ]
    assert broken == []


def test_translator_falls_back_to_english_for_unknown_languages() -> None:
    catalogues = Catalogues()
    assert catalogues.get("nl-BE").gettext("Commands:") == "Commando's:"
    assert catalogues.get("fr").gettext("Commands:") == "Commands:"


def test_dutch_says_waarderen_for_a_managers_acknowledgement() -> None:
    """One Dutch word for a manager's acknowledgement of a durf-te-vragen question: the
    button says "Waarderen", so insight, dashboard and reports say "gewaardeerd" too (not
    "erkend" or "managerreactie")."""
    nl = Path(__file__).resolve().parents[2] / "bot" / "locales" / "nl" / "LC_MESSAGES"
    for po in sorted(nl.glob("*.po")):
        in_msgstr = False
        for line in po.read_text(encoding="utf-8").splitlines():
            if line.startswith(("msgid", "msgctxt", "#")) or not line.strip():
                in_msgstr = False
            elif line.startswith("msgstr"):
                in_msgstr = True
            if in_msgstr:
                text = line.lower()
                assert "erkend" not in text and "managerreactie" not in text, (po.name, line)
