"""Which cycles are due: every minute by default, stretched so that the allocation lasts.

At the current pace (the typical Salesforce calls of the recent cycles of the pairs that are
on, summed: they run in one cycle), running a cycle every ``interval`` seconds spends
``86,400 / interval × calls`` per day. The interval is the smallest one that keeps that under
what the allocation has left in the rolling window.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from statistics import median

from django.db.models import F, Window
from django.db.models.functions import RowNumber
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
DAY = timedelta(seconds=DAY_SECONDS)


def typical_calls(*, integration: Integration, object_names: list[str]) -> float:
    """What a cycle over ``object_names`` costs in Salesforce calls: the sum of each pair's
    median over its last 20 cycles (0 before its first), in one query. Not the mean: the
    first sync's few costly cycles (a backfill) would make every cycle look costly for the
    next 20, and stretch the schedule of an idle integration for nothing; the calls already
    spent count anyway, in what the allocation has left. Paused cycles (the allocation or the
    org's limit reached) stopped short, most before their first call: counted, hours of a
    pause would make cycles look free, and the first ones after it use the allocation up."""
    recent = (
        SyncRun.objects.filter(
            integration=integration,
            object__in=object_names,
            finished_at__isnull=False,
            # Enough for 20 cycles at the longest interval; not every run there is, each tick.
            started_at__gte=timezone.now() - 2 * DAY,
        )
        .exclude(status=SyncRun.Status.PAUSED)
        .annotate(
            n=Window(RowNumber(), partition_by=[F("object")], order_by=F("started_at").desc())
        )
        .filter(n__lte=20)
        .values_list("object", "salesforce_calls")
    )
    by_pair: dict[str, list[int]] = {}
    for name, calls in recent:
        by_pair.setdefault(name, []).append(calls)
    return float(sum(median(calls) for calls in by_pair.values()))


def cycle_interval(
    *, integration: Integration, object_names: list[str], remaining: int | None = None
) -> timedelta:
    """How often a cycle over ``object_names`` (the integration's pairs that are on) may run.
    The pairs run in one cycle and share its change probe, so a cycle costs the sum of their
    typical calls; pacing each pair as if the allocation were its alone would spend it several
    times over. ``remaining``: the allocation left, when the caller has read it already."""
    calls = typical_calls(integration=integration, object_names=object_names)
    if remaining is None:
        remaining = budget_remaining(integration=integration, system=System.SALESFORCE)
    return interval_for(calls, remaining)


def interval_for(calls: float, remaining: int | None) -> timedelta:
    """The interval at which cycles of ``calls`` each leave ``remaining`` lasting a day."""
    if remaining is None:
        return BASE_INTERVAL
    if remaining <= 0:
        return MAX_INTERVAL
    seconds = DAY_SECONDS * (calls or 1) / remaining
    return min(MAX_INTERVAL, max(BASE_INTERVAL, timedelta(seconds=seconds)))


def whole_ticks(interval: timedelta) -> timedelta:
    """An interval rounded up to whole beat ticks, so the slack never brings a stretched cycle
    in before its interval."""
    return math.ceil(interval / BASE_INTERVAL) * BASE_INTERVAL


def still_due(*, integration: Integration, object_names: list[str], since: datetime) -> list[str]:
    """Those of ``object_names`` found due at ``since`` that still are: switched on, and no
    cycle of theirs started since and ended (2 queries). One still running is left to its
    lease: another worker's is skipped by it, and a killed one's is taken over (this
    message, redelivered)."""
    on = set(
        ObjectSync.objects.filter(
            integration=integration, object__in=object_names, enabled=True
        ).values_list("object", flat=True)
    )
    ran = set(
        SyncRun.objects.filter(
            integration=integration, object__in=object_names, started_at__gte=since
        )
        .exclude(status=SyncRun.Status.RUNNING)
        .values_list("object", flat=True)
    )
    return [name for name in object_names if name in on and name not in ran]


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
        interval = whole_ticks(
            cycle_interval(integration=integration, object_names=[r.object for r in rows])
        )
        for pair in rows:
            last = (
                SyncRun.objects.filter(integration=integration, object=pair.object)
                .order_by("-started_at")
                .first()
            )
            if last is None or last.started_at + interval - TICK_SLACK <= now:
                due.append((pair.integration_id, pair.object))
    return due
