"""Check or update the gettext catalogues against the msgids used in the code.

    python scripts/i18n_sync.py          # report msgids missing from a catalogue
    python scripts/i18n_sync.py --add AREA  # append missing msgids to AREA.po (en and nl),
                                            # nl entries marked fuzzy for a translator

msgids are the English text, marked in code with N_() (or gettext/ngettext calls).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "bot" / "locales"
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}


def used_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in ("bot", "adapters"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for lineno, msg, _c, _ctx in extract_from_file("python", str(path), keywords=KEYWORDS):
                key = msg if isinstance(msg, str) else msg[0]
                found.setdefault(key, f"{path.relative_to(ROOT)}:{lineno}")
    return found


def catalogue_ids(lang: str) -> dict[str, str]:
    ids: dict[str, str] = {}
    for po in sorted((LOCALES / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for m in read_po(fh, locale=lang):
                if m.id:
                    key = m.id if isinstance(m.id, str) else m.id[0]
                    text = m.string if isinstance(m.string, str) else (m.string or [""])[0]
                    ids[key] = text or ""
    return ids


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--add", metavar="AREA")
    args = ap.parse_args()
    used = used_msgids()
    missing = {lang: [m for m in used if m not in catalogue_ids(lang)] for lang in ("en", "nl")}
    if args.add:
        for lang, ids in missing.items():
            path = LOCALES / lang / "LC_MESSAGES" / f"{args.add}.po"
            cat = Catalog(locale=lang)
            if path.exists():
                with path.open("rb") as fh:
                    cat = read_po(fh, locale=lang)
            for m in ids:
                cat.add(
                    m,
                    "",
                    locations=[(used[m].split(":")[0], int(used[m].split(":")[1]))],
                    flags=("fuzzy",) if lang == "nl" else (),
                )
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_po(fh, cat, width=100, omit_header=False, sort_output=False)
        return 0
    bad = False
    for lang, ids in missing.items():
        for m in ids:
            bad = True
            print(f"{lang}: missing {m!r} ({used[m]})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
