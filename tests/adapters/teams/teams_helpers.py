"""Load the recorded Teams payloads copied from shared/fixtures/teams/ into ./data."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict[str, Any]:
    """`load("message_personal_2019")` reads data/activities/…; a name with ".json" reads data/."""
    path = DATA / name if name.endswith(".json") else DATA / "activities" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def activity(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded activity, deep-copied, with top-level keys replaced."""
    data = copy.deepcopy(load(name))
    data.update(changes)
    return data
