"""Calls sent on a helper thread while the engine goes on.

Two uses: a change read sends for its next page while the engine handles the current one,
and the 100-record chunks of one HubSpot batch read, update or upsert go out together
instead of one after another (:func:`sent_ahead`). The CRM (here the emulators, another
process) then works while the engine does, instead of in turn, and on a real network the
round trips overlap. Only calls that may be sent twice go ahead (reads, updates, upserts):
the budget is asked and the ledger row reserved on the calling thread before the request
leaves, so the allocation holds exactly as for any call.

If the call fails in any way, the caller makes it again itself, through the normal path
(retries, token refresh, typed errors): a helper thread only ever sends one request.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Generic, TypeVar

from ..errors import BudgetExhausted
from ..models import Integration
from .ledger import CallTimer, call_start, helper_thread_run

T = TypeVar("T")

HELPERS = 4  # calls in flight at once per process, beyond the caller's own
ENABLED = True  # ``bench/sync_contacts.py --no-read-ahead`` measures what it hides
_lock = threading.Lock()
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    """One small pool per process (a forked Celery worker makes its own)."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=HELPERS, thread_name_prefix="ahead"),
            )
        return _pool[1]


class CallAhead(Generic[T]):
    """``read()`` sent now on a helper thread; :meth:`result` is its answer, or ``read()``
    made again on the calling thread if the early one failed. :meth:`outcome` is the answer
    or the early call's failure, for callers that handle failures themselves."""

    def __init__(self, timer: CallTimer, read: Callable[[], T]) -> None:
        self.timer, self.read = timer, read
        timer.deferred = True
        self.future: Future = _executor().submit(helper_thread_run, timer, read)

    @classmethod
    def send(
        cls, read: Callable[[], T], *, integration: Integration, system: str, operation: str
    ) -> CallAhead[T] | None:
        """Send ``read`` ahead, or None when the budget has no call to spare for it now (the
        read is then made in turn, and meets the budget there)."""
        if not ENABLED:
            return None
        try:
            timer = call_start(integration=integration, system=system, operation=operation)
        except BudgetExhausted:
            return None
        return cls(timer, read)

    def result(self) -> T:
        try:
            return self.future.result()
        except Exception:  # noqa: BLE001 - any failure: the normal path reads it again
            self._settle()
            return self.read()
        finally:
            self._settle()

    def outcome(self) -> T:
        """The early call's answer, or its error raised (the ledger row is settled first)."""
        try:
            return self.future.result()
        finally:
            self._settle()

    def discard(self) -> None:
        """The chain stopped early: wait for the read and keep its ledger row honest."""
        self.future.exception()  # waits; the answer isn't needed
        self._settle()

    def _settle(self) -> None:
        if self.timer.deferred:
            self.timer.deferred = False
            if self.timer.used:
                if self.timer.call.status is None:
                    self.timer.finish(status=0)  # the request broke off
                else:
                    self.timer.save()
            else:
                self.timer.call.delete()  # nothing was sent after all


class SentAhead(Generic[T]):
    """The calls :func:`sent_ahead` sent, one per chunk; :meth:`take` hands one over."""

    def __init__(self, calls: list[CallAhead[T] | None]) -> None:
        self.calls = calls

    def take(self, n: int) -> CallAhead[T] | None:
        """Chunk ``n``'s call sent ahead (None: send it yourself). Yours to settle now."""
        call, self.calls[n] = self.calls[n], None
        return call


@contextmanager
def sent_ahead(
    chunks: list[list],
    fn: Callable[[list], T],
    *,
    integration: Integration,
    system: str,
    operation: str,
) -> Iterator[SentAhead[T]]:
    """``fn(chunk)`` for every chunk after the first, sent at once on helper threads, while
    the caller sends the first itself and takes the others in turn. Calls not taken when
    the block ends (an error stopped it) are waited for and their ledger rows settled."""
    sent = SentAhead(
        [None]
        + [
            CallAhead.send(
                lambda c=chunk: fn(c), integration=integration, system=system, operation=operation
            )
            for chunk in chunks[1:]
        ]
    )
    try:
        yield sent
    finally:
        for call in sent.calls:
            if call is not None:
                call.discard()
