"""HubSpot's API limits: a daily allowance and a rolling ten-second burst limit per token
(each token is its own app here), plus an account-wide 5-per-second limit for search, which is
exempt from the ten-second window. All windows run on the emulator clock, so a test can
advance time instead of sleeping."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field

from .timeutil import DAY_MS

TEN_SECONDS_MS = 10_000
SECOND_MS = 1_000


@dataclass
class RateConfig:
    daily: int = 650_000  # Professional tier
    per_ten_seconds: int = 190
    search_per_second: int = 5
    retry_after: int | None = None  # seconds; None sends no Retry-After header
    count_429: bool = False  # whether refused calls still use up the daily allowance


@dataclass
class _Bucket:
    day: int = -1
    daily_used: int = 0
    window: deque = field(default_factory=deque)


class RateLimiter:
    def __init__(self) -> None:
        self.config = RateConfig()
        self._buckets: dict[str, _Bucket] = {}
        self._search: deque = deque()

    def reset(self) -> None:
        self.config = RateConfig()
        self.clear_usage()

    def clear_usage(self) -> None:
        self._buckets.clear()
        self._search.clear()

    def configure(self, **settings: object) -> None:
        for key, value in settings.items():
            if not hasattr(self.config, key):
                raise ValueError(f"unknown budget setting {key!r}")
            if key == "retry_after":
                setattr(self.config, key, None if value is None else int(value))  # type: ignore[arg-type]
            elif key == "count_429":
                setattr(self.config, key, bool(value))
            else:
                setattr(self.config, key, int(value))  # type: ignore[arg-type]

    def _bucket(self, key: str, now_ms: int) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
        day = now_ms // DAY_MS  # the daily allowance resets at midnight UTC
        if bucket.day != day:
            bucket.day, bucket.daily_used = day, 0
        window = bucket.window
        while window and window[0] <= now_ms - TEN_SECONDS_MS:
            window.popleft()
        return bucket

    def admit(self, key: str, now_ms: int, *, search: bool) -> str | None:
        """Count one request; returns the exceeded policy's name instead if it must be refused."""
        config = self.config
        bucket = self._bucket(key, now_ms)
        policy = None
        if bucket.daily_used >= config.daily:
            policy = "DAILY"
        elif search:
            while self._search and self._search[0] <= now_ms - SECOND_MS:
                self._search.popleft()
            if len(self._search) >= config.search_per_second:
                policy = "SECONDLY"
        elif len(bucket.window) >= config.per_ten_seconds:
            policy = "TEN_SECONDLY_ROLLING"
        if policy is None or config.count_429:
            bucket.daily_used += 1
        if policy is None:
            if search:
                self._search.append(now_ms)
            else:
                bucket.window.append(now_ms)
        return policy

    def headers(
        self, key: str, now_ms: int, *, include_daily: bool, search: bool
    ) -> dict[str, str]:
        config = self.config
        bucket = self._bucket(key, now_ms)
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(TEN_SECONDS_MS),
            "X-HubSpot-RateLimit-Max": str(config.per_ten_seconds),
            "X-HubSpot-RateLimit-Remaining": str(
                max(0, config.per_ten_seconds - len(bucket.window))
            ),
        }
        if include_daily:  # private-app tokens see the daily pair; OAuth apps do not
            headers["X-HubSpot-RateLimit-Daily"] = str(config.daily)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, config.daily - bucket.daily_used)
            )
        if search:
            used = sum(1 for t in self._search if t > now_ms - SECOND_MS)
            headers["X-HubSpot-RateLimit-Secondly"] = str(config.search_per_second)
            headers["X-HubSpot-RateLimit-Secondly-Remaining"] = str(
                max(0, config.search_per_second - used)
            )
        return headers

    def state(self, now_ms: int) -> dict:
        usage = {}
        for key in list(self._buckets):
            bucket = self._bucket(key, now_ms)
            usage[key] = {"daily_used": bucket.daily_used, "ten_second_used": len(bucket.window)}
        return {
            **asdict(self.config),
            "usage": usage,
            "search_last_second": sum(1 for t in self._search if t > now_ms - SECOND_MS),
        }
