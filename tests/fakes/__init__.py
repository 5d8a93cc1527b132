"""Local fakes of platform services (Slack Web API, Bot Connector) for tests and benchmarks."""
