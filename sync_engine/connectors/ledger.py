"""Shared bookkeeping for connectors: reserve a ledger row before a call, complete it after.

A read sent ahead on a helper thread (:mod:`.ahead`) makes its call on a row the calling
thread reserved for it, and leaves the row's outcome for that thread to save: the helper
never touches the database (its own connection couldn't see the caller's transaction, and
SQLite would lock them against each other)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ..budget import budget_reserve
from ..models import ApiCall, Integration

_helper = threading.local()  # .timer: the row reserved for this helper thread's one call


class AheadCallSpent(RuntimeError):
    """A read sent ahead tried a second request (e.g. a retry): only the first was reserved."""


@dataclass
class CallTimer:
    """Measures one call and writes its outcome onto the reserved ledger row."""

    call: ApiCall
    started: float = field(default_factory=time.perf_counter)
    deferred: bool = False  # made on a helper thread: the caller saves the outcome
    used: bool = False

    def finish(self, *, status: int, records: int = 0) -> None:
        self.call.status = status
        self.call.records = max(0, int(records))
        self.call.duration_ms = round((time.perf_counter() - self.started) * 1000)
        if not self.deferred:
            self.save()

    def save(self) -> None:
        self.call.save(update_fields=["operation", "status", "records", "duration_ms"])


def call_start(*, integration: Integration, system: str, operation: str) -> CallTimer:
    """Ask the budget and reserve the ledger row (raises ``BudgetExhausted``). On a helper
    thread, the row reserved for it instead (see :func:`on_helper_thread`)."""
    if on_helper_thread():
        timer = _helper.timer
        if timer is None or timer.used:
            raise AheadCallSpent(operation)
        timer.used, timer.started, timer.call.operation = True, time.perf_counter(), operation
        return timer
    call = budget_reserve(integration=integration, system=system, operation=operation)
    return CallTimer(call=call)


def on_helper_thread() -> bool:
    """Whether this thread is sending a read ahead: no database, no token refresh, and no
    response remembered as the connector's latest (the caller's thread owns those)."""
    return getattr(_helper, "active", False)


def helper_thread_run(timer: CallTimer, fn):
    """``fn()`` with ``timer`` as the one ledger row its request may use."""
    _helper.active, _helper.timer = True, timer
    try:
        return fn()
    finally:
        _helper.active, _helper.timer = False, None
