"""onnxruntime, imported in one place with its telemetry switched off for the process.

Official onnxruntime builds (1.2x and later on Linux, macOS, Windows) carry Microsoft's 1DS
telemetry: an idle process tries `mobile.events.data.microsoft.com:443` a few seconds after
the first session and again every so often, and writes a device id and an event database
under `~/.cache/Microsoft/DeveloperTools/.onnxruntime/`. `disable_telemetry_events()` only
suppresses some events after the uploader already exists. `ORT_DISABLE_TELEMETRY=1`, set
before onnxruntime initialises, keeps the uploader, the events and the device id from being
created at all (onnxruntime's Privacy.md, "Disabling Telemetry"); that is what this module
does, and why nothing else in the bot may `import onnxruntime`
(tests/test_architecture.py). tests/e2e/test_no_outbound.py watches `wolbot serve` for it.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from types import ModuleType

log = logging.getLogger(__name__)

TELEMETRY_OFF = {"ORT_DISABLE_TELEMETRY": "1"}


def switch_off_telemetry() -> None:
    """Set the variables before onnxruntime is loaded (also inherited by child processes)."""
    os.environ.update(TELEMETRY_OFF)


def onnxruntime() -> ModuleType:
    """The onnxruntime module, its telemetry off for good."""
    already = "onnxruntime" in sys.modules
    switch_off_telemetry()
    ort = importlib.import_module("onnxruntime")  # typed as a module (it ships no types)
    if already:  # imported elsewhere first: the variable may have come too late
        log.warning("onnxruntime was imported before its telemetry was switched off")
    return ort
