"""SOGET bearer tokens from the client-credentials grant, against a local token server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from bot.i18n.catalogue import FailureKind
from bot.slack.ids import ActionId
from bot.soget.client import NO_RETRY, SogetClient
from bot.soget.errors import SogetHttpError, SogetTokenError, SogetUnreachable
from bot.soget.tokens import ClientCredentialsToken, StaticToken, token_provider_from
from tests.conftest import APPROVER, SOGET_KEY, BotFactory, BotUnderTest
from tests.fakes.soget_api import FakeSoget
from tests.fakes.token_server import FakeTokenServer, TokenFailure

CLIENT_ID = "cancel-order-bot-client"
CLIENT_SECRET = "client-secret-0123456789abcdef"
ORDER = "CDE0000000051"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def token_server(fake_soget: FakeSoget) -> AsyncIterator[FakeTokenServer]:
    server = FakeTokenServer(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, on_issue=fake_soget.access_tokens.add
    )
    await server.start()
    yield server
    await server.stop()


def _provider(
    server: FakeTokenServer, clock: Clock | None = None, **kw: object
) -> ClientCredentialsToken:
    return ClientCredentialsToken(
        httpx.AsyncClient(timeout=5),
        token_url=server.token_url,
        client_id=str(kw.get("client_id", CLIENT_ID)),
        client_secret=SecretStr(str(kw.get("client_secret", CLIENT_SECRET))),
        scope=kw.get("scope"),  # type: ignore[arg-type]
        clock=clock or Clock(),
    )


async def test_token_is_requested_as_documented_and_cached(token_server: FakeTokenServer) -> None:
    provider = _provider(token_server, scope="customer-orders")

    first = await provider.token()
    second = await provider.token()

    assert first.get_secret_value() == second.get_secret_value() == "issued-token-1"
    [request] = token_server.requests
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert request.body == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": "customer-orders",
    }
    await provider.aclose()


async def test_token_is_renewed_shortly_before_it_expires(token_server: FakeTokenServer) -> None:
    clock = Clock()
    provider = _provider(token_server, clock)
    token_server.expires_in = 600

    await provider.token()
    clock.now += 600 - 61  # just before the 60 s margin: still the same token
    assert (await provider.token()).get_secret_value() == "issued-token-1"
    clock.now += 2  # inside the margin: renewed before it runs out
    assert (await provider.token()).get_secret_value() == "issued-token-2"
    await provider.aclose()


async def test_concurrent_callers_share_one_request(token_server: FakeTokenServer) -> None:
    provider = _provider(token_server)

    tokens = await asyncio.gather(*(provider.token() for _ in range(20)))

    assert {t.get_secret_value() for t in tokens} == {"issued-token-1"}
    assert len(token_server.requests) == 1
    await provider.aclose()


async def test_invalidate_forgets_only_the_refused_token(token_server: FakeTokenServer) -> None:
    provider = _provider(token_server)
    old = await provider.token()
    provider.invalidate(old)
    new = await provider.token()

    provider.invalidate(old)  # a late 401 for the old token must not drop the new one

    assert new.get_secret_value() == "issued-token-2"
    assert (await provider.token()).get_secret_value() == "issued-token-2"
    assert len(token_server.requests) == 2
    await provider.aclose()


async def test_wrong_client_secret_is_a_credentials_failure(token_server: FakeTokenServer) -> None:
    provider = _provider(token_server, client_secret="wrong-secret-value")

    with pytest.raises(SogetTokenError) as raised:
        await provider.token()

    assert raised.value.failure_kind is FailureKind.GATEWAY_UNAUTHORIZED
    assert raised.value.http_status == 401
    assert "wrong-secret-value" not in str(raised.value)
    await provider.aclose()


@pytest.mark.parametrize(
    ("body", "kind"),
    [('{"token_type": "Bearer"}', FailureKind.INVALID_BODY), ("<html>", FailureKind.INVALID_BODY)],
)
async def test_unreadable_token_answer(
    token_server: FakeTokenServer, body: str, kind: FailureKind
) -> None:
    token_server.fail_next(TokenFailure(status=200, body=body))
    provider = _provider(token_server)

    with pytest.raises(SogetTokenError) as raised:
        await provider.token()

    assert raised.value.failure_kind is kind
    await provider.aclose()


async def test_missing_expires_in_gives_a_short_default_lifetime(
    token_server: FakeTokenServer,
) -> None:
    clock = Clock()
    provider = _provider(token_server, clock)
    token_server.expires_in = None

    await provider.token()
    clock.now += 300  # the default lifetime: renewed by then
    assert (await provider.token()).get_secret_value() == "issued-token-2"
    await provider.aclose()


async def test_without_expires_in_the_token_is_kept_for_the_default_lifetime(
    token_server: FakeTokenServer,
) -> None:
    """No `expires_in`: cached for 300 s less the 60 s margin, neither forever nor never."""
    clock = Clock()
    provider = _provider(token_server, clock)
    token_server.expires_in = None

    assert (await provider.token()).get_secret_value() == "issued-token-1"
    assert (await provider.token()).get_secret_value() == "issued-token-1"
    clock.now += 239  # still inside 300 - 60: the cached token
    assert (await provider.token()).get_secret_value() == "issued-token-1"
    assert len(token_server.requests) == 1
    clock.now += 2  # past 240 s: renewed before the assumed lifetime runs out
    assert (await provider.token()).get_secret_value() == "issued-token-2"
    assert (await provider.token()).get_secret_value() == "issued-token-2"
    assert len(token_server.requests) == 2
    await provider.aclose()


async def test_unreachable_token_endpoint_means_nothing_was_sent(
    token_server: FakeTokenServer,
) -> None:
    provider = _provider(token_server)
    await token_server.stop()

    with pytest.raises(SogetUnreachable):
        await provider.token()
    await provider.aclose()


async def test_a_refused_token_is_renewed_once_and_the_call_resent(
    token_server: FakeTokenServer, fake_soget: FakeSoget
) -> None:
    fake_soget.add(ORDER)
    client = SogetClient.create(
        fake_soget.api_url,
        tokens=_provider(token_server),
        api_key=SecretStr(SOGET_KEY),
        connect_timeout=2,
        timeout=2,
        retry=NO_RETRY,
    )
    await client.get_order(ORDER)
    fake_soget.access_tokens.discard("issued-token-1")  # revoked, or expired early

    await client.cancel_order(ORDER)

    auth = [r.headers["Authorization"] for r in fake_soget.requests]
    assert auth == [
        "Bearer issued-token-1",
        "Bearer issued-token-1",  # refused with 401
        "Bearer issued-token-2",  # renewed once, resent once
    ]
    assert fake_soget.orders[ORDER].status == "Cancelled"
    await client.aclose()


async def test_a_401_with_a_fresh_token_is_not_retried_forever(
    token_server: FakeTokenServer, fake_soget: FakeSoget
) -> None:
    fake_soget.add(ORDER)
    client = SogetClient.create(
        fake_soget.api_url,
        tokens=_provider(token_server),
        api_key=SecretStr("not-the-subscription-key"),  # every call gets 401
        connect_timeout=2,
        timeout=2,
    )

    with pytest.raises(SogetHttpError) as raised:
        await client.cancel_order(ORDER)

    assert raised.value.failure_kind is FailureKind.GATEWAY_UNAUTHORIZED
    assert len(fake_soget.deletes(ORDER)) == 2
    assert len(token_server.issued) == 2
    await client.aclose()


async def test_a_fixed_token_is_never_renewed(fake_soget: FakeSoget) -> None:
    client = SogetClient.create(
        fake_soget.api_url,
        tokens=StaticToken(SecretStr("revoked-token")),
        api_key=SecretStr(SOGET_KEY),
        connect_timeout=2,
        timeout=2,
    )

    with pytest.raises(SogetHttpError):
        await client.cancel_order(ORDER)

    assert len(fake_soget.deletes(ORDER)) == 1
    await client.aclose()


@pytest.fixture
async def credentials_bot(bot_with: BotFactory, token_server: FakeTokenServer) -> BotUnderTest:
    return await bot_with(
        soget_access_token=None,
        soget_token_url=token_server.token_url,
        soget_client_id=CLIENT_ID,
        soget_client_secret=CLIENT_SECRET,
    )


async def test_the_bot_cancels_with_an_obtained_token(
    credentials_bot: BotUnderTest, token_server: FakeTokenServer
) -> None:
    bot = credentials_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    done = await bot.wait_status(request.id, "succeeded")
    assert done.status.value == "succeeded"
    [delete] = bot.soget.deletes(ORDER)
    assert delete.headers["Authorization"] == "Bearer issued-token-1"
    assert len(token_server.requests) == 1
    metrics = (await bot.http.get(bot.url + "/metrics")).text
    instance = bot.runtime.instance
    assert f'soget_token_fetches_total{{instance="{instance}",result="issued"}} 1.0' in metrics


async def test_the_settings_reach_the_token_endpoint(
    bot_with: BotFactory, token_server: FakeTokenServer
) -> None:
    """The app hands every token setting to the provider: id, secret and scope are sent."""
    bot = await bot_with(
        soget_access_token=None,
        soget_token_url=token_server.token_url,
        soget_client_id=CLIENT_ID,
        soget_client_secret=CLIENT_SECRET,
        soget_scope="customer-orders",
    )
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    await bot.wait_status(request.id, "succeeded")
    [token_request] = token_server.requests
    assert token_request.body["client_id"] == CLIENT_ID
    assert token_request.body["client_secret"] == CLIENT_SECRET
    assert token_request.body["scope"] == "customer-orders"


async def test_a_fixed_token_wins_and_some_credential_is_required() -> None:
    fixed = token_provider_from(
        access_token=SecretStr("fixed"),
        token_url="http://127.0.0.1:9/token",
        client_id=CLIENT_ID,
        client_secret=SecretStr(CLIENT_SECRET),
        scope=None,
        connect_timeout=1.0,
        timeout=1.0,
    )
    assert isinstance(fixed, StaticToken)
    assert (await fixed.token()).get_secret_value() == "fixed"
    with pytest.raises(ValueError, match="neither"):
        token_provider_from(
            access_token=None,
            token_url="http://127.0.0.1:9/token",
            client_id=CLIENT_ID,
            client_secret=None,
            scope=None,
            connect_timeout=1.0,
            timeout=1.0,
        )
