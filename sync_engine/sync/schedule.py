"""Which cycles are due: every minute by default, stretched so that the allocation lasts.

At the current pace (the average Salesforce calls of the recent cycles of the pairs that are
on, summed: they run in one cycle), running a cycle every ``interval`` seconds spends
``86,400 / interval × calls`` per day. The interval is the smallest one that keeps that under
what the allocation has left in the rolling window.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.db.models import Avg
from django.utils import timezone

from ..budget import budget_remaining
from ..models import Integration, ObjectSync, SyncRun, System
from ..services import object_syncs_start
from .registry import pair_order

BASE_INTERVAL = timedelta(minutes=1)
MAX_INTERVAL = timedelta(hours=1)
# The beat ticks once a minute, but a pair starts when the pairs before it in its cycle are
# done, seconds after the tick: measured to the second, it would seem not yet due at the next
# tick and skip every other minute. A pair is due this much before its interval is up.
TICK_SLACK = BASE_INTERVAL / 2
DAY_SECONDS = 86_400


def average_calls(*, integration: Integration, object_name: str) -> float:
    """A pair's Salesforce calls per cycle over its last 20 cycles (0 before its first)."""
    recent = SyncRun.objects.filter(
        integration=integration, object=object_name, finished_at__isnull=False
    ).order_by("-started_at")[:20]
    average = SyncRun.objects.filter(pk__in=list(recent.values_list("pk", flat=True))).aggregate(
        avg=Avg("salesforce_calls")
    )["avg"]
    return float(average or 0)


def cycle_interval(*, integration: Integration, object_names: list[str]) -> timedelta:
    """How often a cycle over ``object_names`` (the integration's pairs that are on) may run.
    The pairs run in one cycle and share its change probe, so a cycle costs the sum of their
    averages; pacing each pair as if the allocation were its alone would spend it several
    times over."""
    calls = sum(average_calls(integration=integration, object_name=n) for n in object_names)
    remaining = budget_remaining(integration=integration, system=System.SALESFORCE)
    if remaining is None:
        return BASE_INTERVAL
    if remaining <= 0:
        return MAX_INTERVAL
    seconds = DAY_SECONDS * (calls or 1) / remaining
    return min(MAX_INTERVAL, max(BASE_INTERVAL, timedelta(seconds=seconds)))


def due_cycles() -> list[tuple[int, str]]:
    """The (integration, pair) cycles to start now. An integration whose sync an admin turned
    off, or that isn't connected (both connections stored), has none: its cursors wait, and
    its first cycle after turning sync back on reads every change made meanwhile."""
    now = timezone.now()
    due = []
    live = {
        "state__in": [Integration.State.CONNECTED, Integration.State.PAUSED],
        "sync_enabled": True,
        # A disconnect deletes the connections: a late state change by a cycle that was
        # running then mustn't bring the schedule back to an integration without them.
        "salesforce_connection__isnull": False,
        "hubspot_connection__isnull": False,
    }
    for integration in Integration.objects.filter(**live):
        object_syncs_start(integration=integration)  # connected before contacts had a row
    pairs = ObjectSync.objects.filter(
        enabled=True, **{f"integration__{key}": value for key, value in live.items()}
    ).select_related("integration")
    by_integration: dict[int, list[ObjectSync]] = {}
    for pair in sorted(pairs, key=lambda p: (p.integration_id, pair_order(p.object), p.object)):
        by_integration.setdefault(pair.integration_id, []).append(pair)
    for rows in by_integration.values():
        integration = rows[0].integration
        interval = cycle_interval(integration=integration, object_names=[r.object for r in rows])
        # Whole ticks, so the slack never brings a stretched cycle in before its interval.
        interval = math.ceil(interval / BASE_INTERVAL) * BASE_INTERVAL
        for pair in rows:
            last = (
                SyncRun.objects.filter(integration=integration, object=pair.object)
                .order_by("-started_at")
                .first()
            )
            if last is None or last.started_at + interval - TICK_SLACK <= now:
                due.append((pair.integration_id, pair.object))
    return due
