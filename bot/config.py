"""The bot's configuration: one pydantic-settings class, read once at start and passed down."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.i18n.catalogue import Language

DEFAULT_SOGET_API_URL = "https://soget-api-integration.azure-api.net/customer-orders/v1"
DEFAULT_ORDER_ID_PATTERN = r"CDE\d{10}"

# Slack ids: users (U…), Enterprise Grid users (W…), user groups (S…).
_APPROVER_ID = re.compile(r"[UWS][A-Z0-9]{2,}")
# Slack channel ids: public (C…) and private (G…, older ones) channels.
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
# A name for /metrics labels and log lines: letters, digits and . _ : - (bot-1, web-2a.eu).
_INSTANCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_CLIENT_CREDENTIALS = ("soget_token_url", "soget_client_id", "soget_client_secret")


DURATION_FORMATS = "seconds (86400), ISO 8601 (PT24H) or a number with s, m, h or d (30m, 24h, 2d)"
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SHORT_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])", re.IGNORECASE)
_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_ISO_DURATION = TypeAdapter(timedelta)


def parse_duration(value: object) -> object:
    """A duration as the README documents it: `86400`, `PT24H`, `30m`, `24h`, `2d`."""
    if not isinstance(value, str):
        return value  # a timedelta or a number of seconds, from code
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return timedelta(seconds=float(text))
    if short := _SHORT_DURATION.fullmatch(text):
        return timedelta(seconds=float(short[1]) * _DURATION_UNITS[short[2].lower()])
    if text[:1].upper() == "P":
        try:
            return _ISO_DURATION.validate_python(text.upper())
        except ValidationError:
            pass
    raise ValueError(f"not a duration: use {DURATION_FORMATS}")


# The values .env.example shows: copied as they are, they would fail later, at a user's command.
PLACEHOLDER_MESSAGE = "still the example value of .env.example: put the real one"
_PLACEHOLDER_IDS = frozenset({"U0123ABCD", "S0123ABCD", "C0123ABCD", "C0456EFGH"})


def _is_placeholder(value: str) -> bool:
    text = value.strip()
    if text == "..." or text.endswith("-..."):
        return True
    return any(part.strip() in _PLACEHOLDER_IDS for part in text.split(","))


def _check_http_url(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("must be an http(s) URL")
    return value


class Settings(BaseSettings):
    """Every setting comes from an environment variable of the same name (or `.env`)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr | None = None  # required in HTTP mode
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    # Before the SOGET settings: in sandbox mode their credentials are not needed.
    sandbox: bool = False
    soget_api_url: str = DEFAULT_SOGET_API_URL
    # Either a fixed SOGET_ACCESS_TOKEN, or the client-credentials trio to obtain tokens.
    soget_token_url: str | None = None
    soget_client_id: str | None = None
    soget_client_secret: SecretStr | None = None
    soget_scope: str | None = None
    soget_access_token: SecretStr | None = Field(default=None, validate_default=True)
    soget_api_key: SecretStr | None = Field(default=None, validate_default=True)
    soget_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    soget_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    soget_max_attempts: int = Field(default=3, ge=1, le=10)
    soget_retry_budget_seconds: float = Field(default=30.0, gt=0, le=600)
    # The order preview runs before the approval request is posted: short, and never retried.
    preview_timeout_seconds: float = Field(default=3.0, gt=0, le=10)
    # `/cancel-order container …` / `transport …`: every page of MouvONE's search, in all.
    search_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    default_language: Language = Language.EN  # when a user's Slack locale is unknown
    # The language of the messages everyone in a channel reads (the request message and its
    # thread): CHANNEL_LANGUAGES=C0123ABCD:fr,C0456EFGH:en; other channels: DEFAULT_LANGUAGE.
    channel_languages: Annotated[dict[str, Language], NoDecode] = Field(default_factory=dict)

    cancel_approvers: Annotated[tuple[str, ...], NoDecode]
    allow_self_approval: bool = False
    require_reason: bool = False  # `/cancel-order ORDER_ID` alone gets the usage reply
    # Distinct approvers needed before the cancel is sent; any one rejection ends the request.
    required_approvals: int = Field(default=1, ge=1, le=10)
    order_id_pattern: str = DEFAULT_ORDER_ID_PATTERN
    # Orders one `/cancel-order` may name (one request, one approval, each order sent once).
    max_orders_per_request: int = Field(default=20, ge=1, le=100)
    # DELETEs of one bulk request in flight at once, so MouvONE is not flooded.
    bulk_concurrency: int = Field(default=4, ge=1, le=20)
    # Seconds (86400), ISO 8601 (PT24H) or 30m / 24h / 2d (parse_duration).
    request_ttl: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    # One reminder in the thread, mentioning the approvers, for a request pending this long.
    remind_after: timedelta = Field(default=timedelta(hours=2), gt=timedelta(0))
    sweep_interval_seconds: float = Field(default=30.0, gt=0, le=3600)
    # After a cancel got no answer, the order is read once this much later to verify it.
    settle_after_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How long an instance's claim on a cancel in flight lasts unless renewed (every third of
    # it): after a crash, another instance (or the restart) takes the cancel over this late.
    lease_seconds: float = Field(default=30.0, ge=1, le=600)
    slack_retry_base_seconds: float = Field(default=2.0, gt=0, le=300)
    # SIGTERM: the most time the drain (finish or hand back the work in flight) may take.
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=600)
    # This process's name in /metrics, /healthz and the logs; default: host name + random id.
    instance_id: str | None = None

    database_path: Path = Path("data/cancel-order-bot.sqlite3")
    # postgresql://user:password@host:5432/db: PostgreSQL for several instances, instead of the
    # SQLite file of DATABASE_PATH. A secret (it holds the password).
    database_url: SecretStr | None = None
    database_pool_min_size: int = Field(default=1, ge=0, le=100)
    database_pool_max_size: int = Field(default=10, ge=1, le=100)
    host: str = "0.0.0.0"  # noqa: S104 - the HTTP mode serves Slack from outside the container
    port: int = Field(default=3000, ge=1, le=65535)
    # Socket Mode serves /healthz and /metrics on this port (unset: PORT; 0: not served).
    health_port: int | None = Field(default=None, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    approval_channel: str | None = None
    allowed_channels: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "soget_api_key",
        "soget_access_token",
        "soget_client_id",
        "soget_client_secret",
        "cancel_approvers",
        "approval_channel",
        "allowed_channels",
        mode="before",
    )
    @classmethod
    def _not_a_placeholder(cls, value: object) -> object:
        parts = value if isinstance(value, list | tuple) else [value]
        if any(isinstance(part, str) and _is_placeholder(part) for part in parts):
            raise ValueError(PLACEHOLDER_MESSAGE)
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        # The message never repeats the value: it holds the password.
        if urlsplit(value.get_secret_value().strip()).scheme not in ("postgresql", "postgres"):
            raise ValueError("must be a postgresql://user:password@host:5432/database URL")
        return value

    @field_validator("database_pool_max_size")
    @classmethod
    def _pool_sizes(cls, value: int, info: ValidationInfo) -> int:
        smallest = info.data.get("database_pool_min_size")
        if isinstance(smallest, int) and value < smallest:
            raise ValueError("must be at least DATABASE_POOL_MIN_SIZE")
        return value

    def database_location(self) -> str | Path:
        """The PostgreSQL URL when DATABASE_URL is set, else the SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path

    @field_validator("request_ttl", "remind_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value)

    @field_validator("slack_api_url", "soget_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _check_http_url(value)

    @field_validator("soget_token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_http_url(value)

    @field_validator("soget_access_token")
    @classmethod
    def _one_token_source(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("sandbox"):
            return value
        given = [name for name in _CLIENT_CREDENTIALS if info.data.get(name)]
        trio = "SOGET_TOKEN_URL, SOGET_CLIENT_ID and SOGET_CLIENT_SECRET"
        if value is not None and given:
            raise ValueError(f"set either SOGET_ACCESS_TOKEN or {trio}, not both")
        if value is None and not given:
            raise ValueError(f"is missing: set SOGET_ACCESS_TOKEN, or {trio} to obtain tokens")
        if value is None and len(given) < len(_CLIENT_CREDENTIALS):
            missing = [n.upper() for n in _CLIENT_CREDENTIALS if n not in given]
            raise ValueError(f"not set, and the client credentials lack {', '.join(missing)}")
        return value

    @field_validator("soget_api_key")
    @classmethod
    def _api_key_needed(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and not info.data.get("sandbox"):
            raise ValueError("is missing (the subscription key of SOGET's API portal)")
        return value

    @field_validator("approval_channel")
    @classmethod
    def _check_approval_channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.fullmatch(value.strip()):
            raise ValueError("not a Slack channel id (expected an id such as C0123ABCD)")
        return None if value is None else value.strip()

    @field_validator("allowed_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("allowed_channels")
    @classmethod
    def _check_channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [item for item in value if not _CHANNEL_ID.fullmatch(item)]
        if bad:
            raise ValueError(
                f"not Slack channel ids: {', '.join(bad)} (expected ids such as C0123ABCD)"
            )
        return tuple(dict.fromkeys(value))

    @field_validator("slack_api_url")
    @classmethod
    def _slack_trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names straight onto the base URL.
        return value if value.endswith("/") else value + "/"

    @field_validator("soget_api_url")
    @classmethod
    def _soget_no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("default_language", mode="before")
    @classmethod
    def _lower_language(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("channel_languages", mode="before")
    @classmethod
    def _parse_channel_languages(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        languages: dict[str, Language] = {}
        known = ", ".join(language.value for language in Language)
        for part in (item.strip() for item in value.split(",")):
            if not part:
                continue
            channel, separator, language = (text.strip() for text in part.partition(":"))
            if not separator or not _CHANNEL_ID.fullmatch(channel):
                raise ValueError(
                    f"expected channel:language pairs such as C0123ABCD:fr, not {part!r}"
                )
            try:
                languages[channel] = Language(language.lower())
            except ValueError:
                raise ValueError(
                    f"unknown language {language!r} for {channel} (the bot speaks {known})"
                ) from None
        return languages

    def channel_language(self, channel_id: str) -> Language:
        """The language of a channel's shared messages."""
        return self.channel_languages.get(channel_id, self.default_language)

    @field_validator("cancel_approvers", mode="before")
    @classmethod
    def _split_approvers(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cancel_approvers")
    @classmethod
    def _check_approvers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one approver (Slack user id U… or user group id S…)")
        bad = [str(i) for i, item in enumerate(value, 1) if not _APPROVER_ID.fullmatch(item)]
        if bad:
            # Positions, not values: a secret pasted into the wrong variable must not be echoed.
            raise ValueError(
                f"not Slack user or user group ids: entry {', '.join(bad)} of the list "
                "(expected ids such as U0123ABCD or S0123ABCD, not names)"
            )
        return tuple(dict.fromkeys(value))

    @field_validator("instance_id")
    @classmethod
    def _check_instance_id(cls, value: str | None) -> str | None:
        if value is not None and not _INSTANCE_ID.fullmatch(value.strip()):
            raise ValueError("use 1 to 64 letters, digits, '.', '_', ':' or '-' (such as bot-1)")
        return None if value is None else value.strip()

    @field_validator("order_id_pattern")
    @classmethod
    def _check_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def socket_health_port(self) -> int | None:
        """Where Socket Mode serves /healthz and /metrics, or None when it does not."""
        port = self.port if self.health_port is None else self.health_port
        return port or None

    @property
    def soget_uses_client_credentials(self) -> bool:
        return self.soget_access_token is None and self.soget_token_url is not None

    def compiled_order_id_pattern(self) -> re.Pattern[str]:
        # ASCII: `\d` must not match Arabic-Indic or fullwidth digits.
        return re.compile(self.order_id_pattern, re.IGNORECASE | re.ASCII)


def describe_settings_error(error: ValidationError) -> str:
    """A one-screen explanation naming each bad variable; never echoes a value (secrets)."""
    lines = ["The bot cannot start: its configuration is incomplete or wrong."]
    for item in error.errors(include_input=False, include_url=False):
        variable = str(item["loc"][0]).upper() if item["loc"] else "(configuration)"
        message = "is missing" if item["type"] == "missing" else str(item["msg"])
        message = message.removeprefix("Value error, ")
        lines.append(f"  - {variable}: {message}")
    lines.append(
        "Set these as environment variables (or in a .env file); README.md lists them all."
    )
    return "\n".join(lines)
