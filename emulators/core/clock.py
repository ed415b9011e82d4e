"""An injectable clock: real time plus an offset, or frozen at an instant."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def freeze(self, at: datetime | None = None) -> datetime:
        current = self.now()
        with self._lock:
            self._frozen_at = at or current
        return self.now()

    def unfreeze(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - datetime.now(UTC)
                self._frozen_at = None
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)
            self._frozen_at = None

    def describe(self) -> dict:
        return {
            "now": self.now().isoformat(),
            "frozen": self._frozen_at is not None,
            "offsetSeconds": self._offset.total_seconds(),
        }
