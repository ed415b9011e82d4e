"""Every request an emulator answered, kept so tests and benchmarks can count API calls."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LedgerEntry:
    at: str
    method: str
    path: str
    query: str
    token: str | None
    status: int
    latency_ms: float
    charged: int  # how many units of the daily API budget the call used


class RequestLedger:
    def __init__(self, maxlen: int = 200_000) -> None:
        self._entries: deque[LedgerEntry] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, entry: LedgerEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, *, since: int = 0) -> list[LedgerEntry]:
        with self._lock:
            return list(self._entries)[since:]

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def as_json(self, *, since: int = 0) -> list[dict]:
        return [asdict(e) for e in self.entries(since=since)]
