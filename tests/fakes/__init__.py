"""Local fakes of the platforms wolbot talks to (Slack Web API, Bot Connector, ...)."""
