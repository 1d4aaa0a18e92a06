"""Where the SOGET bearer token comes from: a fixed value, or the OAuth2 client-credentials grant.

SOGET documents the exchange (docs/soget-api.md §1): a form-encoded POST of `client_id` and
`client_secret` to its token endpoint. The answer's shape is not documented; we read the standard
OAuth2 fields (`access_token`, `expires_in`) and send `grant_type=client_credentials` as standard
OpenID Connect endpoints require. The token is cached until shortly before it expires; one
refresh runs at a time however many calls need it; the client invalidates it after a 401.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bot.i18n.catalogue import FailureKind
from bot.soget.errors import SogetTokenError, SogetUnreachable

logger = logging.getLogger(__name__)

# Without `expires_in` we do not know the lifetime: renew often; a 401 renews sooner anyway.
DEFAULT_LIFETIME_SECONDS = 300.0
REFRESH_MARGIN_SECONDS = 60.0


class TokenProvider(Protocol):
    @property
    def refreshable(self) -> bool:
        """Whether `invalidate()` then `token()` can yield a different token."""
        ...

    async def token(self) -> SecretStr: ...

    def invalidate(self, token: SecretStr) -> None:
        """Forget `token` (the API refused it), unless a newer one replaced it already."""
        ...

    async def aclose(self) -> None: ...


class TokenObserver(Protocol):
    def observe_token_fetch(self, result: str) -> None: ...


class StaticToken:
    """SOGET_ACCESS_TOKEN: one fixed token, renewed by its owner outside the bot."""

    refreshable = False

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    async def token(self) -> SecretStr:
        return self._token

    def invalidate(self, token: SecretStr) -> None:
        pass

    async def aclose(self) -> None:
        pass


class _TokenAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(min_length=1)
    expires_in: float | None = Field(default=None, ge=0)


@dataclass(frozen=True, slots=True)
class _Cached:
    value: SecretStr
    refresh_at: float


class ClientCredentialsToken:
    """Obtains tokens from SOGET_TOKEN_URL with SOGET_CLIENT_ID / SOGET_CLIENT_SECRET."""

    refreshable = True

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        observer: TokenObserver | None = None,
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._clock = clock
        self._observer = observer
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def create(
        cls,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scope: str | None,
        connect_timeout: float,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        observer: TokenObserver | None = None,
    ) -> ClientCredentialsToken:
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={"Accept": "application/json", "User-Agent": "cancel-order-bot"},
            transport=transport,
        )
        return cls(
            http,
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            observer=observer,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def token(self) -> SecretStr:
        cached = self._cached
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.value
        async with self._lock:
            # Whoever held the lock before us may have just refreshed it.
            cached = self._cached
            if cached is not None and self._clock() < cached.refresh_at:
                return cached.value
            self._cached = await self._fetch()
            return self._cached.value

    def invalidate(self, token: SecretStr) -> None:
        cached = self._cached
        if cached is not None and cached.value.get_secret_value() == token.get_secret_value():
            self._cached = None

    async def _fetch(self) -> _Cached:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
        }
        if self._scope:
            form["scope"] = self._scope
        try:
            response = await self._http.post(self._token_url, data=form)
        except httpx.TransportError as exc:
            # Even a timeout here is harmless: no cancel was sent, so the call can be retried.
            self._observe("unreachable")
            raise SogetUnreachable(f"token endpoint ({type(exc).__name__})") from None
        if not response.is_success:
            self._observe("refused")
            kind = (
                FailureKind.SERVER_ERROR
                if response.status_code >= 500
                else FailureKind.GATEWAY_UNAUTHORIZED
            )
            raise SogetTokenError(
                response.status_code, f"HTTP {response.status_code}, no token issued", kind
            )
        try:
            answer = _TokenAnswer.model_validate(response.json())
        except (ValueError, ValidationError):
            self._observe("invalid")
            raise SogetTokenError(
                response.status_code,
                "an answer without a usable access_token",
                FailureKind.INVALID_BODY,
            ) from None
        lifetime = answer.expires_in if answer.expires_in is not None else DEFAULT_LIFETIME_SECONDS
        margin = min(REFRESH_MARGIN_SECONDS, lifetime / 2)
        self._observe("issued")
        logger.info("obtained a SOGET access token valid for %.0fs", lifetime)
        return _Cached(SecretStr(answer.access_token), self._clock() + lifetime - margin)

    def _observe(self, result: str) -> None:
        if self._observer is not None:
            self._observer.observe_token_fetch(result)


def token_provider_from(
    *,
    access_token: SecretStr | None,
    token_url: str | None,
    client_id: str | None,
    client_secret: SecretStr | None,
    scope: str | None,
    connect_timeout: float,
    timeout: float,
    observer: TokenObserver | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TokenProvider:
    """A fixed `access_token` when given, else the client-credentials grant with the trio."""
    if access_token is not None:
        return StaticToken(access_token)
    if token_url is None or client_id is None or client_secret is None:
        raise ValueError("neither SOGET_ACCESS_TOKEN nor the client credentials are set")
    return ClientCredentialsToken.create(
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
        connect_timeout=connect_timeout,
        timeout=timeout,
        transport=transport,
        observer=observer,
    )
