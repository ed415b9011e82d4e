"""Shared bookkeeping for connectors: reserve a ledger row before a call, complete it after."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..budget import budget_reserve
from ..models import ApiCall, Integration


@dataclass
class CallTimer:
    """Measures one call and writes its outcome onto the reserved ledger row."""

    call: ApiCall
    started: float = field(default_factory=time.perf_counter)

    def finish(self, *, status: int, records: int = 0) -> None:
        self.call.status = status
        self.call.records = max(0, int(records))
        self.call.duration_ms = round((time.perf_counter() - self.started) * 1000)
        self.call.save(update_fields=["status", "records", "duration_ms"])


def call_start(*, integration: Integration, system: str, operation: str) -> CallTimer:
    """Ask the budget and reserve the ledger row (raises ``BudgetExhausted``)."""
    call = budget_reserve(integration=integration, system=system, operation=operation)
    return CallTimer(call=call)
