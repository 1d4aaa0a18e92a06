"""Which language to answer a Slack user in: their Slack locale, cached, else DEFAULT_LANGUAGE."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from bot.i18n.catalogue import Language, parse_language

logger = logging.getLogger(__name__)

LocaleFetcher = Callable[[str], Awaitable[str | None]]


class UserLanguages:
    """Resolves a user's language from `users.info` (include_locale), cached per user.

    Never raises: a failed look-up gives the default language and is not cached, so the next
    message tries again.
    """

    def __init__(
        self,
        fetch_locale: LocaleFetcher,
        *,
        default: Language = Language.EN,
        cache_seconds: float = 600.0,
        max_users: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch_locale
        self.default = default
        self._cache_seconds = cache_seconds
        self._max_users = max_users
        self._clock = clock
        self._cache: dict[str, tuple[float, Language]] = {}

    # -- for answers that must not wait on Slack (before an ack or a views.open) --
    def cached(self, user_id: str) -> Language:
        """The user's language if a look-up already found it, else the default: no call."""
        cached = self._cache.get(user_id)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        return self.default

    async def of(self, user_id: str) -> Language:
        cached = self._cache.get(user_id)
        if cached is not None and self._clock() - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            locale = await self._fetch(user_id)
        except Exception as exc:
            logger.warning(
                "could not read the Slack locale of %s (%s); answering in %s",
                user_id,
                type(exc).__name__,
                self.default.value,
            )
            return self.default
        language = parse_language(locale, self.default)
        if len(self._cache) >= self._max_users:
            # Drop the oldest entry: the cache only saves calls, it is never the truth.
            self._cache.pop(next(iter(self._cache)))
        self._cache.pop(user_id, None)
        self._cache[user_id] = (self._clock(), language)
        return language
