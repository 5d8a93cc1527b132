"""wolbot: working out loud in Slack, Microsoft Teams and the console."""

__version__ = "0.1.0"
