"""A disk cache for files derived from model weights: the e5 encoder's ONNX graph and the
statistics of its reference narrations. Building them takes a few seconds of CPU at every
start (`wolbot chat`, `wolbot run-due`, each replica); read from here, a fraction of one.

Where: `WOLBOT_CACHE_DIR`, else `$XDG_CACHE_HOME/wolbot`, else `~/.cache/wolbot`. Files are
written to a temporary name and renamed, so concurrent processes never read half a file;
their names carry everything they are derived from, so a new model version or engine
change never reads an old file. Without a writable directory nothing is cached.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def cache_dir() -> Path | None:
    configured = os.environ.get("WOLBOT_CACHE_DIR")
    if configured:
        base = Path(configured)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "wolbot"
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return base if os.access(base, os.W_OK) else None


def cached(name: str, build: Callable[[Path], None]) -> Path | None:
    """The cache's file `name`, made by `build(path)` the first time. None when there is
    no writable cache directory or the build could not be stored (the caller builds into
    a temporary place of its own)."""
    base = cache_dir()
    if base is None:
        return None
    path = base / name
    if path.is_file():
        return path
    fd, tmp = tempfile.mkstemp(dir=base, prefix=f".{name}.", suffix=".tmp")
    os.close(fd)
    try:
        build(Path(tmp))
        os.replace(tmp, path)
    except OSError as exc:
        log.info("model cache: could not store %s (%s)", name, exc)
        return None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
