"""Building botbuilder's `CloudAdapter` from wolbot's settings.

Authentication follows the Azure Bot resource: `MICROSOFT_APP_ID`,
`MICROSOFT_APP_PASSWORD`, `MICROSOFT_APP_TYPE` (MultiTenant, SingleTenant,
UserAssignedMSI) and `MICROSOFT_APP_TENANT_ID`. Without an app id the SDK accepts
unauthenticated requests: only allowed with `WOLBOT_TEAMS_DEV=1` on a loopback host.

`WOLBOT_TEAMS_OPENID_METADATA_URL` and `WOLBOT_TEAMS_TOKEN_ISSUER` override where
inbound tokens' signing keys come from and who may issue them (sovereign clouds, and
tests with a locally generated key).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import requests
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

log = logging.getLogger(__name__)

DEV_FLAG = "WOLBOT_TEAMS_DEV"
METADATA_REFRESH_SECONDS = 20 * 3600  # the SDK refreshes itself, blocking, after 24 hours


@dataclass(frozen=True)
class TeamsAuthConfig:
    """Attribute names as botbuilder's configuration classes read them."""

    APP_ID: str = ""
    APP_PASSWORD: str = field(default="", repr=False)  # a secret: never in logs
    APP_TYPE: str = "MultiTenant"
    APP_TENANTID: str = ""
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None

    # botbuilder switches to "parameterized" authentication as soon as one of these is set,
    # and then needs all of them: they get the public cloud's values.
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    OAUTH_URL: str | None = None
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str | None = None
    CALLER_ID: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TeamsAuthConfig:
        app_type = env.get("MICROSOFT_APP_TYPE", "") or "MultiTenant"
        tenant = env.get("MICROSOFT_APP_TENANT_ID", "")
        metadata = env.get("WOLBOT_TEAMS_OPENID_METADATA_URL") or None
        issuer = env.get("WOLBOT_TEAMS_TOKEN_ISSUER") or None
        base = cls(
            APP_ID=env.get("MICROSOFT_APP_ID", ""),
            APP_PASSWORD=env.get("MICROSOFT_APP_PASSWORD", ""),
            APP_TYPE=app_type,
            APP_TENANTID=tenant,
        )
        if not (metadata or issuer):
            return base
        login_tenant = (
            tenant
            if app_type.lower() == "singletenant" and tenant
            else AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
        )
        return replace(
            base,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=metadata
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=issuer
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            TO_CHANNEL_FROM_BOT_LOGIN_URL=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
            + login_tenant,
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            OAUTH_URL=AuthenticationConstants.OAUTH_URL,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=(
                AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
            ),
            CALLER_ID=CallerIdConstants.public_azure_channel,
        )

    @property
    def metadata_url(self) -> str:
        return (
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        )


def dev_mode(env: Mapping[str, str]) -> bool:
    return env.get(DEV_FLAG, "").strip().lower() in ("1", "true", "yes")


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_adapter(config: TeamsAuthConfig) -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


async def refresh_signing_keys(config: TeamsAuthConfig) -> None:
    """Fetch the OpenID signing keys in a thread, ahead of the SDK.

    botbuilder downloads them with blocking `requests` inside the request handler once
    a day; keeping its cache fresh from a thread keeps the event loop free.
    """
    metadata = JwtTokenExtractor.get_open_id_metadata(config.metadata_url)
    await asyncio.to_thread(_refresh_sync, metadata)


def _refresh_sync(metadata: Any) -> None:  # botbuilder's _OpenIdMetadata (no types)
    from datetime import datetime

    url = metadata.url
    response = requests.get(url, timeout=15)
    response.raise_for_status()
    keys = requests.get(response.json()["jwks_uri"], timeout=15)
    keys.raise_for_status()
    metadata.keys = keys.json()["keys"]
    metadata.last_updated = datetime.now()  # the SDK's naive clock


async def keep_signing_keys_fresh(config: TeamsAuthConfig) -> None:
    """Background task for `attach`: refresh now, then well before the SDK would."""
    while True:
        try:
            await refresh_signing_keys(config)
        except Exception as exc:  # a failed refresh leaves the SDK's own refresh in place
            log.warning("could not refresh Bot Framework signing keys: %s", exc)
            await asyncio.sleep(60)
            continue
        await asyncio.sleep(METADATA_REFRESH_SECONDS)
