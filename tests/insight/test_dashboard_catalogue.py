"""Every text of the dashboard's templates has an English and a Dutch entry (the catalogue
test in tests/core reads only Python files)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from jinja2.ext import babel_extract

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "adapters" / "dashboard" / "templates"
spec = importlib.util.spec_from_file_location("i18n_sync", ROOT / "scripts" / "i18n_sync.py")
assert spec and spec.loader
i18n_sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(i18n_sync)


def template_msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    for path in sorted(TEMPLATES.glob("*.html")):
        with path.open("rb") as fh:
            for lineno, _func, message, _comments in babel_extract(
                fh, ("_", "gettext", "ngettext"), [], options
            ):
                key = message if isinstance(message, str) else message[0]
                if key:
                    found.setdefault(key, f"{path.name}:{lineno}")
    return found


def test_every_template_text_is_in_both_catalogues() -> None:
    used = template_msgids()
    assert len(used) > 40
    for lang in ("en", "nl"):
        known = i18n_sync.catalogue_ids(lang)
        missing = [f"{m!r} ({where})" for m, where in used.items() if m not in known]
        assert missing == [], f"missing from {lang}: {missing}"
    nl = i18n_sync.catalogue_ids("nl")
    assert [m for m in used if not nl[m].strip()] == []
