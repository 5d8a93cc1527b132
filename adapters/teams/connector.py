"""Bot Connector responses as the delivery worker understands them, and the SDK's
retries switched off (the outbox retries; retrying inside the SDK could post twice)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from botframework.connector.aio import ConnectorClient
from msrest.exceptions import HttpOperationError

from bot.ports import DeliveryError

RETRY_STATUSES = {412, 429, 502, 503, 504}
PERMANENT_STATUSES = {400, 401, 403, 404, 405, 410, 413}
DEFAULT_RETRY_AFTER = 1.0
REQUEST_TIMEOUT = 30


def delivery_error(exc: HttpOperationError) -> DeliveryError:
    """Map a Bot Connector error response to what the delivery worker understands."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    reason = f"Bot Connector answered {status}: {_error_message(exc)}"
    if status in RETRY_STATUSES:
        headers = getattr(response, "headers", None) or {}
        return DeliveryError(reason, retry_after=retry_after_seconds(headers))
    if status in PERMANENT_STATUSES:
        return DeliveryError(reason, permanent=True)
    return DeliveryError(reason)


def retry_after_seconds(headers: Mapping[str, str]) -> float:
    value = None
    for key, raw in headers.items():
        if key.lower() == "retry-after":
            value = raw
            break
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error_message(exc: HttpOperationError) -> str:
    error = getattr(exc, "error", None)
    inner = getattr(error, "error", None)
    message = getattr(inner, "message", None)
    if message:
        return str(message)[:200]
    response = exc.response
    text = getattr(response, "text", None)
    try:
        body = text() if callable(text) else text
    except Exception:  # the body is only for the log line
        body = None
    return (str(body) if body else str(getattr(response, "reason", "") or ""))[:200]


def no_sdk_retries(client: ConnectorClient) -> None:
    """The outbox retries with back-off and the worker spaces requests: no SDK retries."""
    policy = client.config.retry_policy.policy
    policy.total = 0
    policy.connect = 0
    policy.read = 0
    policy.status_forcelist = frozenset()
    client.config.connection.timeout = REQUEST_TIMEOUT
