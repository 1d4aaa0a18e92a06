"""A fake OAuth2 token endpoint (client-credentials grant), as SOGET documents its exchange."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.server import FakeServer

TOKEN_PATH = "/soget-connect/v1/openid-connect/token"


@dataclass
class TokenFailure:
    status: int
    body: str = '{"error": "server_error"}'


class FakeTokenServer(FakeServer):
    """Issues `issued-token-N` to the right client; `on_issue` tells the API fake to accept it."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        on_issue: Callable[[str], None] | None = None,
        expires_in: float | None = 3600,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.on_issue = on_issue
        self.expires_in = expires_in
        self.issued: list[str] = []
        self._numbers = itertools.count(1)
        self._failures: list[TokenFailure] = []

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def routes(self) -> list[web.RouteDef]:
        return [web.post(TOKEN_PATH, self._token)]

    def fail_next(self, *failures: TokenFailure) -> None:
        self._failures.extend(failures)

    async def _token(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        if self._failures:
            failure = self._failures.pop(0)
            return web.Response(
                status=failure.status, text=failure.body, content_type="application/json"
            )
        form = recorded.body
        if not recorded.headers.get("Content-Type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return web.json_response({"error": "invalid_request"}, status=400)
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"issued-token-{next(self._numbers)}"
        self.issued.append(token)
        if self.on_issue is not None:
            self.on_issue(token)
        answer: dict[str, object] = {"access_token": token, "token_type": "Bearer"}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        return web.json_response(answer)
