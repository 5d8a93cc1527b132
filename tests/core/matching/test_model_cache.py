"""The disk cache of files derived from the model (bot/matching/model_cache.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from bot.matching.model_cache import cached


def test_a_file_is_built_once_and_then_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WOLBOT_CACHE_DIR", str(tmp_path / "cache"))
    builds: list[Path] = []

    def build(path: Path) -> None:
        builds.append(path)
        path.write_bytes(b"graph")

    first = cached("g.onnx", build)
    assert first == tmp_path / "cache" / "g.onnx" and first.read_bytes() == b"graph"
    assert cached("g.onnx", build) == first and len(builds) == 1
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["g.onnx"]  # no leftovers


def test_a_failed_build_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WOLBOT_CACHE_DIR", str(tmp_path))

    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("child died")

    with pytest.raises(RuntimeError):
        cached("g.onnx", broken)
    assert list(tmp_path.iterdir()) == []


def test_without_a_writable_directory_nothing_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("WOLBOT_CACHE_DIR", str(blocker / "cache"))
    assert cached("g.onnx", lambda path: path.write_bytes(b"x")) is None


def test_the_e5_graph_comes_from_the_cache_the_second_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.matching.e5 import _onnx_session
    from bot.matching.e5_file import E5Weights

    monkeypatch.setenv("WOLBOT_CACHE_DIR", str(tmp_path))
    weights = E5Weights()
    x = np.random.default_rng(0).standard_normal((5, weights.H)).astype(np.float32)
    (built,) = _onnx_session(weights).run(None, {"x": x})
    assert [p.suffix for p in tmp_path.iterdir()] == [".onnx"]

    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("the graph was built again")

    monkeypatch.setattr(subprocess, "run", no_child)
    (again,) = _onnx_session(weights).run(None, {"x": x})
    np.testing.assert_array_equal(built, again)
