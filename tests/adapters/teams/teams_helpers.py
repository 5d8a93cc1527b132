"""Load the recorded Teams activities copied from shared/fixtures/teams/."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def load(name: str) -> dict[str, Any]:
    path = DATA / name if name.endswith(".json") and "/" in name else DATA / "activities" / name
    if not path.suffix:
        path = path.with_suffix(".json")
    return json.loads(path.read_text(encoding="utf-8"))


def activity(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded activity, deep-copied, with top-level keys replaced."""
    data = copy.deepcopy(load(name))
    data.update(changes)
    return data
