"""Question sets for dialogue rounds: loading and validating `prompts/<set>.<language>.yaml`.

Every set exists once per supported language, with the same item ids in the same order, so
answers to "the same question" can be compared over time and across languages. `check()` lists
every problem as ``file:line: message`` (line 0: the directory or the file as a whole);
`PromptLibrary.load()` raises `PromptError` with all of them. The schema is documented in
prompts/README.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.i18n import LANGUAGES

__all__ = [
    "ITEM_KEYS",
    "KINDS",
    "LANGUAGES",
    "MAX_TEXT",
    "PROMPTS_DIR",
    "SET_KEYS",
    "THEMES",
    "Prompt",
    "PromptError",
    "PromptLibrary",
    "PromptSet",
    "check",
    "default_directory",
]

_REPO_PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
PROMPTS_DIR: Path = Path(os.environ.get("WOLBOT_PROMPTS_DIR") or _REPO_PROMPTS)

KINDS: tuple[str, ...] = ("question", "statement")
THEMES: tuple[str, ...] = (
    "learning",  # what someone learned, how they learn, learning from mistakes
    "weekly",  # looking back on this week's work
    "collaboration",  # working across teams, departments and organisations
    "customer",  # customers, citizens, patients, students: the people the work is for
    "improvement",  # ideas to make the work simpler, faster or better
    "sharing",  # knowledge sharing and working out loud itself
    "asking",  # daring to ask, psychological safety, asking for help
    "wellbeing",  # energy, workload, pride, what keeps work good to do
)
MAX_TEXT = 500
MAX_TITLE = 100
ID_PATTERN = re.compile(r"^[a-z]+-\d{3}$")
SET_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")
FILE_PATTERN = re.compile(r"^(?P<set>[^.]+)\.(?P<language>[^.]+)\.yaml$")
# Mass mentions and raw platform markup never belong in a question: `<!channel>`, `<!here>`,
# `<@U123>` (Slack), `@channel`, `@here`, `@everyone` (typed mentions).
FORBIDDEN = re.compile(r"<[!@]|(?<![\w.])@(?:channel|here|everyone)\b", re.IGNORECASE)

SET_KEYS = ("set", "language", "title", "description", "items")
ITEM_KEYS = ("id", "kind", "theme", "text")
_STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    kind: str
    theme: str
    text: str
    language: str


@dataclass(frozen=True, slots=True)
class PromptSet:
    id: str
    language: str
    title: str
    description: str
    items: tuple[Prompt, ...]


class PromptError(Exception):
    """The question sets are invalid; the message has one ``file:line: message`` per line."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        super().__init__("\n".join(self.problems))


def default_directory() -> Path:
    """$WOLBOT_PROMPTS_DIR when set (read at call time), else the repository's prompts/."""
    override = os.environ.get("WOLBOT_PROMPTS_DIR")
    return Path(override) if override else PROMPTS_DIR


class PromptLibrary:
    """All question sets, by (set id, language). Build it with `PromptLibrary.load()`."""

    def __init__(self, sets: Mapping[tuple[str, str], PromptSet]) -> None:
        self._sets: dict[tuple[str, str], PromptSet] = dict(sets)
        self._prompts: dict[tuple[str, str, str], Prompt] = {
            (s.id, s.language, p.id): p for s in self._sets.values() for p in s.items
        }

    @classmethod
    def load(cls, directory: Path | None = None) -> PromptLibrary:
        problems, sets = _scan(Path(directory) if directory is not None else default_directory())
        if problems:
            raise PromptError(problems)
        return cls(sets)

    def get(self, set_id: str, language: str) -> PromptSet | None:
        return self._sets.get((set_id, language))

    def set_ids(self) -> list[str]:
        return sorted({set_id for set_id, _ in self._sets})

    def languages(self, set_id: str) -> list[str]:
        return sorted(language for sid, language in self._sets if sid == set_id)

    def prompt(self, set_id: str, language: str, prompt_id: str) -> Prompt | None:
        return self._prompts.get((set_id, language, prompt_id))

    def __len__(self) -> int:
        """Number of items over all sets and languages."""
        return len(self._prompts)


def check(directory: Path | None = None) -> list[str]:
    """Every problem in the question sets as ``file:line: message``; [] when they are valid."""
    problems, _ = _scan(Path(directory) if directory is not None else default_directory())
    return problems


# --- implementation ---------------------------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


@dataclass(slots=True)
class _Item:
    id: str
    kind: str
    theme: str
    text: str
    line: int


@dataclass(slots=True)
class _File:
    path: Path
    name: str  # for messages
    set_id: str  # from the file name
    language: str  # from the file name
    set_line: int = 1
    items_line: int = 1
    title: str = ""
    description: str = ""
    items: list[_Item] | None = None  # None when the items could not be read


class _Problems(list[tuple[str, int, str]]):
    def add(self, file: _File | str, line: int, message: str) -> None:
        name = file.name if isinstance(file, _File) else file
        self.append((name, line, message))

    def render(self) -> list[str]:
        """``file:line: message``, by file and line (stable: same-line problems keep order)."""
        ordered = sorted(self, key=lambda problem: (problem[0], problem[1]))
        return [f"{name}:{line}: {message}" for name, line, message in ordered]


def _scan(directory: Path) -> tuple[list[str], dict[tuple[str, str], PromptSet]]:
    problems = _Problems()
    where = _display(directory)
    if not directory.is_dir():
        problems.add(where, 0, "no such directory")
        return problems.render(), {}
    files: list[_File] = []
    for path in sorted(directory.iterdir()):
        if path.suffix == ".yml":
            problems.add(_display(path), 0, "rename to .yaml: only *.yaml files are read")
            continue
        if path.suffix != ".yaml" or not path.is_file():
            continue
        file = _parse(path, problems)
        if file is not None:
            files.append(file)
    if not files and not problems:
        problems.add(where, 0, "no question sets found (expected <set>.<language>.yaml files)")
    _check_library(files, problems)
    if problems:
        return problems.render(), {}
    sets = {
        (f.set_id, f.language): PromptSet(
            id=f.set_id,
            language=f.language,
            title=f.title,
            description=f.description,
            items=tuple(
                Prompt(id=i.id, kind=i.kind, theme=i.theme, text=i.text, language=f.language)
                for i in f.items or ()
            ),
        )
        for f in files
    }
    return [], sets


def _parse(path: Path, problems: _Problems) -> _File | None:
    """The file's contents; None only when the file name is unusable."""
    name = _display(path)
    match = FILE_PATTERN.match(path.name)
    if match is None:
        problems.add(name, 0, "file name must be <set>.<language>.yaml, e.g. general.nl.yaml")
        return None
    file = _File(path=path, name=name, set_id=match["set"], language=match["language"])
    if not SET_ID_PATTERN.match(file.set_id):
        problems.add(
            file, 0, f"set id {file.set_id!r} in the file name must match [a-z][a-z0-9_-]*"
        )
    if file.language not in LANGUAGES:
        problems.add(
            file,
            0,
            f"language {file.language!r} in the file name is not supported"
            f" (use one of: {', '.join(LANGUAGES)})",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.add(file, 0, f"not valid UTF-8 ({exc.reason} at byte {exc.start})")
        return file
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        column = f" (column {mark.column + 1})" if mark is not None else ""
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        problems.add(file, line, f"YAML syntax error: {what}{column}")
        return file
    except yaml.YAMLError as exc:
        problems.add(file, 0, f"YAML error: {exc}")
        return file
    if root is None:
        problems.add(file, 0, "the file is empty")
        return file
    if not isinstance(root, yaml.MappingNode):
        problems.add(file, _line(root), f"expected a mapping with the keys {', '.join(SET_KEYS)}")
        return file
    key_lines: dict[str, int] = {}
    fields = _mapping(file, root, SET_KEYS, "set", problems, key_lines)

    node = fields.get("set")
    if node is not None:
        file.set_line = _line(node)
        value = _string(file, node, "set", problems)
        if value is not None and value != file.set_id:
            problems.add(
                file, _line(node), f"set {value!r} does not match the file name ({file.set_id!r})"
            )
    node = fields.get("language")
    if node is not None:
        value = _string(file, node, "language", problems)
        if value is not None and value not in LANGUAGES:
            problems.add(
                file,
                _line(node),
                f"language {value!r} is not supported (use one of: {', '.join(LANGUAGES)})",
            )
        elif value is not None and value != file.language:
            problems.add(
                file,
                _line(node),
                f"language {value!r} does not match the file name ({file.language!r})",
            )
    node = fields.get("title")
    if node is not None:
        file.title = _text(file, node, "title", MAX_TITLE, problems) or ""
    node = fields.get("description")
    if node is not None:
        file.description = _text(file, node, "description", MAX_TEXT, problems) or ""
    node = fields.get("items")
    if node is not None:
        file.items_line = key_lines["items"]
        file.items = _items(file, node, problems)
    return file


def _mapping(
    file: _File,
    node: yaml.MappingNode,
    allowed: tuple[str, ...],
    what: str,
    problems: _Problems,
    key_lines: dict[str, int] | None = None,
) -> dict[str, yaml.Node]:
    """The mapping's values by key (and into key_lines the key's line); reports unknown,
    duplicate and missing keys."""
    found: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in allowed:
            shown = repr(key) if key is not None else "a non-text key"
            problems.add(
                file,
                _line(key_node),
                f"unknown key {shown} in the {what} (allowed: {', '.join(allowed)})",
            )
        elif key in found:
            problems.add(
                file,
                _line(key_node),
                f"duplicate key {key!r} (first on line {_line(found[key])})",
            )
        else:
            found[key] = value_node
            if key_lines is not None:
                key_lines[key] = _line(key_node)
    missing = [key for key in allowed if key not in found]
    if missing:
        problems.add(
            file,
            _line(node),
            f"missing {'key' if len(missing) == 1 else 'keys'} in the {what}: {', '.join(missing)}",
        )
    return found


def _string(file: _File, node: yaml.Node, key: str, problems: _Problems) -> str | None:
    if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
        problems.add(file, _line(node), f"{key} must be text (put it in quotes)")
        return None
    return str(node.value)


def _text(file: _File, node: yaml.Node, key: str, limit: int, problems: _Problems) -> str | None:
    value = _string(file, node, key, problems)
    if value is None:
        return None
    value = value.strip()
    if not value:
        problems.add(file, _line(node), f"{key} is empty")
        return None
    if len(value) > limit:
        problems.add(file, _line(node), f"{key} is {len(value)} characters long (at most {limit})")
    mention = FORBIDDEN.search(value)
    if mention is not None:
        problems.add(
            file,
            _line(node),
            f"{key} contains {mention.group(0)!r}: no mass mentions or raw platform markup",
        )
    return value


def _items(file: _File, node: yaml.Node, problems: _Problems) -> list[_Item] | None:
    if not isinstance(node, yaml.SequenceNode):
        problems.add(file, _line(node), "items must be a list")
        return None
    if not node.value:
        problems.add(file, _line(node), "items is empty: a set needs at least one item")
        return []
    items: list[_Item] = []
    seen: dict[str, int] = {}
    ok = True
    for entry in node.value:
        if not isinstance(entry, yaml.MappingNode):
            problems.add(file, _line(entry), f"an item must be a mapping ({', '.join(ITEM_KEYS)})")
            ok = False
            continue
        fields = _mapping(file, entry, ITEM_KEYS, "item", problems)
        values: dict[str, str | None] = {}
        for key in ("id", "kind", "theme"):
            values[key] = _string(file, fields[key], key, problems) if key in fields else None
        values["text"] = (
            _text(file, fields["text"], "text", MAX_TEXT, problems) if "text" in fields else None
        )
        item_id, kind, theme = values["id"], values["kind"], values["theme"]
        if item_id is not None:
            line = _line(fields["id"])
            if not ID_PATTERN.match(item_id):
                problems.add(
                    file,
                    line,
                    f"id {item_id!r} must be lower-case letters, a dash and three digits"
                    " (e.g. gen-001)",
                )
            elif item_id in seen:
                problems.add(
                    file, line, f"duplicate id {item_id!r} (first on line {seen[item_id]})"
                )
            else:
                seen[item_id] = line
        if kind is not None and kind not in KINDS:
            problems.add(
                file,
                _line(fields["kind"]),
                f"kind {kind!r} is not one of: {', '.join(KINDS)}",
            )
        if theme is not None and theme not in THEMES:
            problems.add(
                file,
                _line(fields["theme"]),
                f"theme {theme!r} is not one of: {', '.join(THEMES)}",
            )
        text = values["text"]
        if item_id is None or kind is None or theme is None or text is None:
            ok = False
            continue
        items.append(_Item(item_id, kind, theme, text, _line(entry)))
    return items if ok else None


def _normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _check_library(files: list[_File], problems: _Problems) -> None:
    by_set: dict[str, dict[str, _File]] = {}
    for file in files:
        if file.language in LANGUAGES:
            by_set.setdefault(file.set_id, {})[file.language] = file
    # Every set in every language, with the same ids in the same order.
    for set_id, versions in sorted(by_set.items()):
        present = [language for language in LANGUAGES if language in versions]
        reference = versions[present[0]]
        for language in LANGUAGES:
            if language not in versions:
                expected = f"{set_id}.{language}.yaml"
                problems.add(
                    reference,
                    reference.set_line,
                    f"set {set_id!r} has no {language!r} version (expected {expected})",
                )
        for language in present[1:]:
            _compare(reference, versions[language], problems)
    # Ids are unique per language over all sets, and no text is asked twice.
    for language in LANGUAGES:
        ids: dict[str, tuple[_File, int]] = {}
        texts: dict[str, tuple[_File, _Item]] = {}
        for file in files:
            if file.language != language:
                continue
            for item in file.items or ():
                if item.id in ids and ids[item.id][0] is not file:
                    other, line = ids[item.id]
                    problems.add(
                        file, item.line, f"id {item.id!r} is already used in {other.name}:{line}"
                    )
                ids.setdefault(item.id, (file, item.line))
                key = _normalised(item.text)
                if key in texts:
                    other, first = texts[key]
                    problems.add(
                        file,
                        item.line,
                        f"the text of {item.id!r} repeats {first.id!r} ({other.name}:{first.line})",
                    )
                else:
                    texts[key] = (file, item)


def _compare(reference: _File, other: _File, problems: _Problems) -> None:
    if reference.items is None or other.items is None:
        return
    ref = {item.id: item for item in reference.items}
    oth = {item.id: item for item in other.items}
    consistent = True
    for item in other.items:
        if item.id not in ref:
            consistent = False
            problems.add(other, item.line, f"id {item.id!r} is not in {reference.name}")
    for item in reference.items:
        if item.id not in oth:
            consistent = False
            problems.add(
                other,
                other.items_line,
                f"id {item.id!r} from {reference.name}:{item.line} is missing here",
            )
    if not consistent:
        return
    for position, (mine, theirs) in enumerate(zip(other.items, reference.items, strict=False), 1):
        if mine.id != theirs.id:
            problems.add(
                other,
                mine.line,
                f"item {position} is {mine.id!r} here but {theirs.id!r} in {reference.name}"
                " (keep the same order in every language)",
            )
            break
    for mine in other.items:
        theirs = ref[mine.id]
        for key in ("kind", "theme"):
            if getattr(mine, key) != getattr(theirs, key):
                problems.add(
                    other,
                    mine.line,
                    f"{key} of {mine.id!r} is {getattr(mine, key)!r} here but"
                    f" {getattr(theirs, key)!r} in {reference.name}",
                )
