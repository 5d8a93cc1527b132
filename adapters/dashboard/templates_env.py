"""One Jinja2 environment per language, with filters that write values the language's way."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.i18n import Translator
from bot.insight import formats
from bot.insight.charts import period_label
from bot.insight.headline import LABELS as HEADLINE_LABELS
from bot.insight.outcomes import FIGURES
from bot.insight.render import figure_text, group_name, scope_name

TEMPLATES = Path(__file__).parent / "templates"


def environment(t: Translator) -> Environment:
    lang = t.lang
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(t.gettext, t.ngettext, newstyle=True)  # type: ignore[attr-defined]  # added by jinja2.ext.i18n at runtime
    env.globals.update(
        lang=lang,
        figure_names={k: t.gettext(v[0]) for k, v in FIGURES.items()},
        headline_names={k: t.gettext(v) for k, v in HEADLINE_LABELS.items()},
        scope_name=lambda report: scope_name(t, report),
    )
    env.filters.update(
        period=lambda key, period: period_label(key, period, lang),
        figure=lambda value, name: figure_text(t, name, value),
        group=lambda name: group_name(t, name),
        pct=lambda part, total: formats.share(part / total if total else 0, lang),
        num=lambda value: formats.number(value, lang),
        when=lambda dt, zone: formats.when(dt, ZoneInfo(zone), lang),
        setting=lambda value, kind: formats.setting_value(kind, value, t),
        age=lambda since, now: formats.age(since, now, t),
        change=lambda value: formats.change(value, lang),
    )
    return env
