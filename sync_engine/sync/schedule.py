"""Which cycles are due: every minute by default, stretched so that the allocation lasts.

At the current pace (the average Salesforce calls of the recent cycles of a pair), running a
cycle every ``interval`` seconds spends ``86,400 / interval × calls`` per day. The interval is
the smallest one that keeps that under what the allocation has left in the rolling window.
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


def cycle_interval(*, integration: Integration, object_name: str) -> timedelta:
    recent = SyncRun.objects.filter(
        integration=integration, object=object_name, finished_at__isnull=False
    ).order_by("-started_at")[:20]
    calls = (
        SyncRun.objects.filter(pk__in=list(recent.values_list("pk", flat=True))).aggregate(
            avg=Avg("salesforce_calls")
        )["avg"]
        or 1
    )
    remaining = budget_remaining(integration=integration, system=System.SALESFORCE)
    if remaining is None:
        return BASE_INTERVAL
    if remaining <= 0:
        return MAX_INTERVAL
    seconds = DAY_SECONDS * calls / remaining
    return min(MAX_INTERVAL, max(BASE_INTERVAL, timedelta(seconds=seconds)))


def due_cycles() -> list[tuple[int, str]]:
    now = timezone.now()
    due = []
    live = [Integration.State.CONNECTED, Integration.State.PAUSED]
    for integration in Integration.objects.filter(state__in=live):
        object_syncs_start(integration=integration)  # connected before contacts had a row
    pairs = ObjectSync.objects.filter(enabled=True, integration__state__in=live).select_related(
        "integration"
    )
    for pair in sorted(pairs, key=lambda p: (p.integration_id, pair_order(p.object), p.object)):
        last = (
            SyncRun.objects.filter(integration=pair.integration, object=pair.object)
            .order_by("-started_at")
            .first()
        )
        interval = cycle_interval(integration=pair.integration, object_name=pair.object)
        # Whole ticks, so the slack never brings a stretched cycle in before its interval.
        interval = math.ceil(interval / BASE_INTERVAL) * BASE_INTERVAL
        if last is None or last.started_at + interval - TICK_SLACK <= now:
            due.append((pair.integration_id, pair.object))
    return due
