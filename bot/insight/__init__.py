"""Insight: who reads, reacts and creates (the 3C model), what came of it, as aggregates.

`record` is the one call features make; everything else reads the weekly counts back as
aggregates with a minimum group size, except `personal` (a person's own figures).
"""

from bot.insight.recording import record, week_of
from bot.insight.signals import CONSUME, CONTRIBUTE, CREATE, LEVELS, SIGNALS, level_of

__all__ = ["CONSUME", "CONTRIBUTE", "CREATE", "LEVELS", "SIGNALS", "level_of", "record", "week_of"]
