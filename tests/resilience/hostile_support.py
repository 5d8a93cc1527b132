"""Shared pieces of the hostile-input tests: bounded hypothesis settings, strategies for
garbage (JSON of any shape, mutated recorded payloads, unicode-heavy text), and a way to
run a hypothesis test against a server that keeps running on the test's event loop.

Hypothesis runs synchronously, so the property is a plain function executed in a worker
thread (`run_property`); it sends each example to the live server with `call`, which
schedules the coroutine on the server's loop. The server thus lives across all examples,
like a real process, and the test checks afterwards that it still serves normally.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

T = TypeVar("T")

# Derandomised and database-less: the same examples on every run, so CI is reproducible and
# bounded in time; the health checks for slow examples do not apply to network round trips.
BOUNDED = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)

# Text that tends to break things: controls, NUL, surrogates' neighbours, RTL marks,
# combining characters, emoji with joiners, Slack/Teams markup, SQL, very long words.
NASTY = [
    "\x00",
    "\u202e",
    "\ufeff",
    "\u200d",
    "e\u0301\u0301\u0301",
    "👩‍👩‍👧‍👦",
    "𝕳𝖊𝖑𝖑𝖔",
    "<!channel>",
    "<!here|here>",
    "<@U123|boss>",
    "<http://evil.example|click>",
    "<at>Everyone</at>",
    "'); DROP TABLE narration;--",
    "%00%ff",
    "&amp;&lt;&gt;",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "\r\n\r\nHTTP/1.1 200 OK",
    "I'm working on ",
    "/wol ",
]
nasty_text = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=5), max_size=6).map("".join),
)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=12) | st.sampled_from(["type", "text", "id"]), children, max_size=4
        )
    ),
    max_leaves=16,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (dict keys / list indexes) into a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def replace_at(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = new
    return value


@st.composite
def mutated(draw: st.DrawFn, template: Any, *, max_changes: int = 3) -> Any:
    """A recorded payload with a few of its values (or whole subtrees) replaced by garbage of
    any type, or deleted: the shapes a buggy or hostile sender produces."""
    value = copy.deepcopy(template)
    for _ in range(draw(st.integers(min_value=1, max_value=max_changes))):
        candidates = paths(value)
        path = draw(st.sampled_from(candidates))
        if path and draw(st.booleans()) and isinstance(value, dict):
            parent = value
            try:
                for step in path[:-1]:
                    parent = parent[step]
                if isinstance(parent, dict):
                    parent.pop(path[-1], None)
                    continue
            except (KeyError, IndexError, TypeError):
                pass
        value = replace_at(value, path, draw(json_values))
    return value


def deep(depth: int, *, kind: str = "list") -> str:
    """JSON nested `depth` levels deep (json.loads gives up past ~1,000 levels)."""
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def run_property(test: Callable[[], None]) -> Coroutine[Any, Any, None]:
    """Run a hypothesis-decorated function in a worker thread, keeping the loop serving."""
    return asyncio.to_thread(test)


def caller(loop: asyncio.AbstractEventLoop, timeout: float = 60.0) -> Callable[[Any], Any]:
    """`call(coro)`: run a coroutine on the server's loop from the hypothesis thread."""

    def call(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    return call
