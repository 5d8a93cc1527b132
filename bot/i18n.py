"""Translations: gettext catalogues per language, loaded from `bot/locales/<lang>/LC_MESSAGES/*.po`.

msgids are the English source text. Every `.po` file of a language is merged into one
catalogue, so each feature area keeps its own file. The catalogues are compiled in memory
at start-up (no build step), and a missing translation falls back to English.
"""

from __future__ import annotations

import gettext
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)
# The languages the bot speaks: a catalogue each (bot/locales/<lang>/).
LANGUAGES: tuple[str, ...] = ("en", "nl")
LOCALES_DIR = Path(__file__).parent / "locales"


def N_(msgid: str) -> str:
    """Mark a string for extraction without translating it yet (translated where it is shown)."""
    return msgid


@dataclass(frozen=True)
class CommandExample:
    """A `/wol` command shown to a person, in their language's words: the msgid is the English
    command ("/wol me pause 14"), its translation the Dutch one ("/wol ik pauze 14"); `values`
    fill `{name}` placeholders. For errors raised before the reader's language is at hand
    (`UserError` values); `bot.features.commands.example` renders one at once."""

    msgid: str
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, msgid: str, **values: str | int) -> CommandExample:
        return cls(msgid, tuple((k, str(v)) for k, v in values.items()))

    def render(self, t: Translator) -> str:
        text = t.gettext(self.msgid)
        for name, value in self.values:
            text = text.replace("{" + name + "}", value)
        return text


class Translator:
    def __init__(self, lang: str, translations: gettext.NullTranslations) -> None:
        self.lang = lang
        self._t = translations

    def gettext(self, msgid: str) -> str:
        return self._t.gettext(msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    __call__ = gettext


class Catalogues:
    """All languages' translators; build once per process and share."""

    def __init__(self, directory: Path = LOCALES_DIR, languages: Iterable[str] = LANGUAGES) -> None:
        self.languages = tuple(languages)
        self._by_lang = {lang: Translator(lang, _load(directory, lang)) for lang in self.languages}

    def get(self, lang: str | None) -> Translator:
        return self._by_lang.get(normalise_language(lang) or "en") or self._by_lang["en"]

    def msgids(self, lang: str) -> set[str]:
        cat = _read_catalogue(LOCALES_DIR, lang)
        return {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}


def normalise_language(value: str | None) -> str | None:
    """'nl-NL', 'nl_BE', 'NL' -> 'nl'; unsupported languages -> None."""
    if not value:
        return None
    code = value.replace("_", "-").split("-")[0].strip().lower()
    return code if code in LANGUAGES else None


def _read_catalogue(directory: Path, lang: str) -> Catalog:
    merged = Catalog(locale=lang, domain="wolbot")
    folder = directory / lang / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as fh:
            part = read_po(fh, locale=lang)
        for message in part:
            if message.id:
                merged[message.id] = message
    return merged


def _load(directory: Path, lang: str) -> gettext.NullTranslations:
    catalogue = _read_catalogue(directory, lang)
    buf = io.BytesIO()
    write_mo(buf, catalogue, use_fuzzy=False)
    buf.seek(0)
    translations = gettext.GNUTranslations(buf)
    log.debug("loaded %d %s messages", len(catalogue), lang)
    return translations
