"""Reads for the dashboard, the API and the engine."""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime, timedelta
from functools import cache as functools_cache
from functools import cached_property
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.models import Count, Exists, Func, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Concat, Substr, TruncHour
from django.utils import timezone

from .models import (
    ApiCall,
    AuditEvent,
    FieldMapping,
    HubSpotConnection,
    Integration,
    ListResyncJob,
    ObjectSync,
    RecordLink,
    ResyncRequest,
    SalesforceConnection,
    SchemaCache,
    SyncError,
    SyncObject,
    SyncRun,
    System,
)
from .object_settings import CUSTOM_PREFIX, SETTINGS_CLASSES, starts_enabled
from .sync.rules import SyncRule
from .sync.values import default_mappings

DAY = timedelta(hours=24)


def integration_get_default() -> Integration | None:
    """The installation's integration, with both connections loaded, or None before connect."""
    return (
        Integration.objects.select_related("salesforce_connection", "hubspot_connection")
        .order_by("id")
        .first()
    )


def resync_pending(*, integration: Integration, object_name: str) -> bool:
    """Whether an admin's Resync of the pair still waits for a cycle: a record asked for,
    or an error made due (two queries at most)."""
    if ResyncRequest.objects.filter(integration=integration, object=object_name).exists():
        return True
    return SyncError.objects.filter(
        integration=integration,
        object=object_name,
        resolved_at__isnull=True,
        next_retry_at__lte=timezone.now(),
    ).exists()


def integration_salesforce_connection(*, integration: Integration) -> SalesforceConnection | None:
    try:
        return integration.salesforce_connection
    except SalesforceConnection.DoesNotExist:
        return None


def integration_hubspot_connection(*, integration: Integration) -> HubSpotConnection | None:
    try:
        return integration.hubspot_connection
    except HubSpotConnection.DoesNotExist:
        return None


def last_answered_at(*, integration: Integration, system: str) -> datetime | None:
    """When the CRM last answered a call of the integration's with success (the ledger; a
    connection check counts too): what says the connection works, minute by minute."""
    call = (
        ApiCall.objects.filter(
            integration=integration, system=system, status__gte=200, status__lt=300
        )
        .order_by("-called_at")
        .values_list("called_at", flat=True)
        .first()
    )
    verified = [
        connection.last_verified_at
        for connection in (
            integration_salesforce_connection(integration=integration)
            if system == System.SALESFORCE
            else integration_hubspot_connection(integration=integration),
        )
        if connection is not None and connection.last_verified_at
    ]
    return max([*verified, *([call] if call else [])], default=None)


# --- live reads ---------------------------------------------------------------------------
# Pages that show what Salesforce or HubSpot holds (campaigns, lists, ticket pipelines) read it
# live; every Salesforce call spends "Allocated to HubSpot". So a read is kept for a few
# minutes (Django's cache), for everyone: reloading a page, by anyone, costs no second call.
# Changes made through the dashboard forget the entries they make stale.
log = logging.getLogger(__name__)

REMOTE_READ_TTL = 300  # seconds
_NOT_CACHED = object()
T = TypeVar("T")


def _remote_read_key(integration: Integration, key: str) -> str:
    """The cache key of one live read: the integration (ids repeat after a delete, so also
    when it was made), when each side was connected (a reconnect may be another org or
    account), and ``key`` (what is read, with its arguments), digested to a safe key."""
    connected = [
        connection.connected_at.isoformat() if connection else "-"
        for connection in (
            integration_salesforce_connection(integration=integration),
            integration_hubspot_connection(integration=integration),
        )
    ]
    made = integration.created_at.isoformat() if integration.created_at else "-"
    digest = hashlib.sha256("\n".join([made, *connected, key]).encode()).hexdigest()
    return f"remote-read:{integration.pk}:{digest}"


def cached_remote_read(
    integration: Integration,
    key: str,
    fetch: Callable[[], T],
    ttl: int = REMOTE_READ_TTL,
    keep: Callable[[T], bool] | None = None,
) -> T:
    """What ``fetch()`` (a read of Salesforce or HubSpot) returned for ``key`` within the last
    ``ttl`` seconds, else ``fetch()``'s answer, kept (unless ``keep`` says the answer is
    incomplete). A read that fails (``ConnectorError``, or anything else it raises) is not
    kept: the next load asks again."""
    cache_key = _remote_read_key(integration, key)
    found = cache.get(cache_key, _NOT_CACHED)
    if found is not _NOT_CACHED:
        return found
    value = fetch()
    if keep is None or keep(value):
        cache.set(cache_key, value, ttl)
    return value


def remote_read_forget(integration: Integration, *keys: str) -> None:
    """Drop kept live reads (after a change through the dashboard made them stale)."""
    cache.delete_many([_remote_read_key(integration, key) for key in keys])


def api_calls_used(
    *,
    integration: Integration,
    system: str = System.SALESFORCE,
    since: datetime | None = None,
    window: timedelta = DAY,
) -> int:
    """Calls made to ``system`` since ``since`` (default: the rolling ``window`` up to now)."""
    since = since or timezone.now() - window
    return ApiCall.objects.filter(
        integration_id=integration.pk, system=system, called_at__gt=since
    ).count()


def api_calls_per_hour(
    *, integration: Integration, system: str = System.SALESFORCE, hours: int = 24
) -> list[tuple[datetime, int]]:
    """``(hour start, calls)`` for each of the last ``hours`` hours, oldest first, with zeros."""
    now = timezone.now()
    current = now.replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    rows = (
        ApiCall.objects.filter(integration_id=integration.pk, system=system, called_at__gte=first)
        .annotate(hour=TruncHour("called_at"))
        .values("hour")
        .annotate(calls=Count("id"))
    )
    counts = {row["hour"]: row["calls"] for row in rows}
    return [
        (first + timedelta(hours=i), counts.get(first + timedelta(hours=i), 0))
        for i in range(hours)
    ]


def api_calls_by_operation(
    *, integration: Integration, system: str = System.SALESFORCE, window: timedelta = DAY
) -> list[dict]:
    """``[{"operation", "calls", "records"}]`` over the window, most-used first."""
    from django.db.models import Sum

    since = timezone.now() - window
    return list(
        ApiCall.objects.filter(integration_id=integration.pk, system=system, called_at__gt=since)
        .values("operation")
        .annotate(calls=Count("id"), records=Sum("records"))
        .order_by("-calls", "operation")
    )


@dataclass(frozen=True)
class ApiUsage:
    """The Sync health "API call use" panel."""

    used: int  # Salesforce calls in the last 24 h
    allocation: int  # "Allocated to HubSpot"
    limit: int | None  # "Limited by Salesforce"
    org_remaining: int | None
    limits_checked_at: datetime | None
    hubspot_used: int

    @property
    def remaining(self) -> int:
        return max(0, self.allocation - self.used)

    @property
    def percent_used(self) -> int:
        return min(100, round(100 * self.used / self.allocation)) if self.allocation else 100


def integration_api_usage(*, integration: Integration) -> ApiUsage:
    return ApiUsage(
        used=api_calls_used(integration=integration, system=System.SALESFORCE),
        allocation=integration.salesforce_api_allocation,
        limit=integration.salesforce_api_limit,
        org_remaining=integration.salesforce_api_remaining,
        limits_checked_at=integration.limits_checked_at,
        hubspot_used=api_calls_used(integration=integration, system=System.HUBSPOT),
    )


def audit_events_list(
    *, integration: Integration | None = None, limit: int = 50
) -> list[AuditEvent]:
    events = AuditEvent.objects.select_related("actor")
    if integration is not None:
        events = events.filter(integration=integration)
    return list(events[:limit])


# --- dashboard ------------------------------------------------------------------------------
# Each selector below runs a fixed number of queries whatever the data size; the docstrings say
# how many. Pages compose them, so each page's query count is constant too.


def object_last_synced(*, integration: Integration) -> dict[str, datetime]:
    """``{object: finish time of its last successful run}`` (1 query). A custom pair removed
    since isn't among them: its runs stay in the history, under its own number."""
    custom_pairs = ObjectSync.objects.filter(
        integration_id=integration.pk, object__startswith=CUSTOM_PREFIX
    ).values("object")
    rows = (
        SyncRun.objects.filter(integration_id=integration.pk, status=SyncRun.Status.SUCCEEDED)
        .filter(~Q(object__startswith=CUSTOM_PREFIX) | Q(object__in=custom_pairs))
        .values("object")
        .annotate(last=Max("finished_at"))
        .order_by()
    )
    return {row["object"]: row["last"] for row in rows if row["last"] is not None}


def sync_runs_list(
    *, integration: Integration, object_name: str | None = None, limit: int = 20
) -> list[SyncRun]:
    """The newest runs first (1 query)."""
    runs = SyncRun.objects.filter(integration_id=integration.pk)
    if object_name:
        runs = runs.filter(object=object_name)
    return list(runs.order_by("-started_at", "-id")[:limit])


def recent_runs_limit(pairs_on: int, cycles: int = 3) -> int:
    """How many runs make about the last ``cycles`` cycles: one per pair that is on, per cycle,
    and at least 10."""
    return max(10, cycles * pairs_on)


def sync_run_pairs(*, integration: Integration) -> dict[str, bool]:
    """``{pair: switched on}`` for every pair runs can be of: the standard pairs in the cycle's
    order (counted on only once their row says so), then the custom pairs (1 query)."""
    from .sync.registry import PAIR_CLASSES

    rows = dict(
        ObjectSync.objects.filter(integration_id=integration.pk).values_list("object", "enabled")
    )
    pairs = {name: bool(rows.get(name)) for name in PAIR_CLASSES}
    custom = sorted((n for n in rows if n.startswith(CUSTOM_PREFIX)), key=lambda n: (len(n), n))
    pairs.update((name, bool(rows[name])) for name in custom)
    return pairs


# A run "with errors" failed records (the engine counts them in ``counts["failed"]`` and copies
# that to ``error_count``), whatever its status: a succeeded cycle can have failed records.
RUN_OUTCOMES = ("errors", "succeeded", "succeeded_with_errors", "failed", "paused", "running")


def _run_had_errors() -> Q:
    return Q(error_count__gt=0) | Q(counts__failed__gt=0)


def _run_clean() -> Q:
    """No failed records (spelled out: a NOT over the missing "failed" key would be NULL)."""
    return Q(error_count=0) & (Q(counts__failed__isnull=True) | Q(counts__failed__lte=0))


def sync_runs_filtered(
    *, integration: Integration, object_name: str | None = None, outcome: str | None = None
):
    """Runs, newest first, of one pair and of one outcome (``RUN_OUTCOMES``): "errors" is any
    run that failed records; "succeeded" only the clean successes."""
    runs = SyncRun.objects.filter(integration_id=integration.pk)
    if object_name:
        runs = runs.filter(object=object_name)
    if outcome == "errors":
        runs = runs.filter(_run_had_errors())
    elif outcome == "succeeded":
        runs = runs.filter(_run_clean(), status=SyncRun.Status.SUCCEEDED)
    elif outcome == "succeeded_with_errors":
        runs = runs.filter(_run_had_errors(), status=SyncRun.Status.SUCCEEDED)
    elif outcome:
        runs = runs.filter(status=outcome)
    return runs.order_by("-started_at", "-id")


@dataclass(frozen=True)
class RunsPage:
    """A run history page, newest first; ``has_older`` says whether runs older than its last
    one match too (the next page starts after ``runs[-1]``)."""

    runs: list[SyncRun]
    has_older: bool

    @property
    def oldest_id(self) -> int | None:
        return self.runs[-1].pk if self.runs else None


def sync_runs_page(
    *,
    integration: Integration,
    object_name: str | None = None,
    outcome: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> RunsPage:
    """Up to ``limit`` runs, newest first, older than run ``before`` when given (1 query).

    Paged by the last run shown rather than by offset: runs keep arriving every few minutes,
    and an offset would then show some runs twice."""
    runs = sync_runs_filtered(integration=integration, object_name=object_name, outcome=outcome)
    if before is not None:
        pivot_run = SyncRun.objects.filter(integration_id=integration.pk, pk=before)
        pivot = Subquery(pivot_run.order_by().values("started_at")[:1])
        runs = runs.filter(Q(started_at__lt=pivot) | Q(started_at=pivot, id__lt=before))
    chunk = list(runs[: limit + 1])
    return RunsPage(runs=chunk[:limit], has_older=len(chunk) > limit)


def sync_runs_query(*, integration: Integration, object_name: str | None = None, status=None):
    """Runs as a queryset, newest first, for paged API listings."""
    runs = SyncRun.objects.filter(integration_id=integration.pk)
    if object_name:
        runs = runs.filter(object=object_name)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-started_at", "-id")


@dataclass(frozen=True)
class HourBucket:
    start: datetime
    end: datetime
    salesforce: int
    hubspot: int


@dataclass(frozen=True)
class HourlyCalls:
    """Calls per clock hour over the last 24 hours, and the pace of the last 60 minutes.

    ``buckets`` are the 24 clock hours up to now (the last one runs until now); ``tail`` counts
    the Salesforce calls of the rolling window that fall before the first bucket (they leave the
    window first, which the forecast needs)."""

    buckets: list[HourBucket]
    tail: int
    tail_start: datetime
    salesforce_last_hour: int
    now: datetime


class _HourIndex(Func):
    """Whole hours from ``origin`` (epoch seconds) to a timestamp column, computed natively
    (Django's TruncHour runs a Python function per row on SQLite)."""

    output_field = IntegerField()

    def __init__(self, expression, origin: int) -> None:
        super().__init__(expression, Value(origin))

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        origin, origin_params = compiler.compile(self.source_expressions[1])
        sql = f"((CAST(strftime('%%s', {column}) AS INTEGER) - {origin}) / 3600)"
        return sql, (*params, *origin_params)

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        origin, origin_params = compiler.compile(self.source_expressions[1])
        sql = f"CAST(FLOOR((EXTRACT(EPOCH FROM {column}) - {origin}) / 3600) AS INTEGER)"
        return sql, (*params, *origin_params)


def api_calls_hourly(*, integration: Integration, now: datetime | None = None) -> HourlyCalls:
    """Calls per clock hour and system over the rolling 24 hours (2 queries: one grouped by
    hour on the ledger's window index, one count of the last 60 minutes)."""
    now = now or timezone.now()
    current = now.replace(minute=0, second=0, microsecond=0)
    starts = [current - timedelta(hours=23 - i) for i in range(24)]
    window_start = now - DAY
    # Hour 0 is the sliver of the window before the first clock hour; 1..24 are the buckets.
    origin = int((starts[0] - timedelta(hours=1)).timestamp())
    rows = (
        ApiCall.objects.filter(integration_id=integration.pk, called_at__gt=window_start)
        .annotate(hour=_HourIndex("called_at", origin))
        .values("system", "hour")
        .annotate(calls=Count("id"))
        .order_by()
    )
    counts = {(row["system"], row["hour"]): row["calls"] for row in rows}
    buckets = [
        HourBucket(
            start=start,
            end=min(start + timedelta(hours=1), now),
            salesforce=counts.get((System.SALESFORCE, i + 1), 0),
            hubspot=counts.get((System.HUBSPOT, i + 1), 0),
        )
        for i, start in enumerate(starts)
    ]
    last_hour = ApiCall.objects.filter(
        integration_id=integration.pk,
        system=System.SALESFORCE,
        called_at__gt=now - timedelta(hours=1),
    ).count()
    return HourlyCalls(
        buckets=buckets,
        tail=counts.get((System.SALESFORCE, 0), 0),
        tail_start=window_start,
        salesforce_last_hour=last_hour,
        now=now,
    )


@dataclass(frozen=True)
class Cadence:
    """How often the cycle runs now (``sync.schedule``): every ``minutes``, 1 or more while
    the allocation wouldn't last at one a minute, at about ``calls`` Salesforce calls a cycle
    (the schedule's estimate, which decides the stretch: the pairs' typical cycles, summed)."""

    minutes: int
    calls: float

    @property
    def stretched(self) -> bool:
        return self.minutes > 1

    @property
    def calls_per_cycle(self) -> int:
        """The estimate in whole calls, at least the 1 the schedule counts an idle cycle."""
        return max(1, math.ceil(self.calls))

    @property
    def calls_per_hour(self) -> float:
        """What the cycles spend an hour at this cadence."""
        return (self.calls or 1) * 60 / self.minutes


@dataclass(frozen=True)
class Forecast:
    """When "Allocated to HubSpot" runs out if calls keep coming at the last hour's pace.

    ``state``: "reached" (no calls left now), "runs_out" (at ``at``), "enough" (the window frees
    calls faster than the pace uses them) or "idle" (no calls in the last hour). ``paced``: the
    last hour's pace would run it out, but the cycles are slowed down to last: the forecast is
    at their slower pace."""

    state: str
    pace_per_hour: int
    at: datetime | None = None
    paced: bool = False


def api_usage_forecast(
    *,
    allocation: int,
    used: int,
    hourly: HourlyCalls,
    cadence: Cadence | None = None,
    step: timedelta = timedelta(minutes=5),
) -> Forecast:
    """Walk forward in ``step``s for 24 hours: calls made at the current pace are added, and
    past calls leave the rolling window as they turn 24 hours old (spread evenly over their
    hour). The first moment the window holds ``allocation`` calls is when it runs out. While
    ``cadence`` is stretched, the cycles spend at most its pace from now on (the last hour may
    hold cycles at the old one, or a Sync now). No query.
    """
    pace = hourly.salesforce_last_hour
    if used >= allocation:
        return Forecast("reached", pace, hourly.now)
    if pace <= 0:
        return Forecast("idle", 0)
    spans = [(hourly.tail_start, hourly.buckets[0].start, hourly.tail)] + [
        (b.start, b.start + timedelta(hours=1), b.salesforce) for b in hourly.buckets
    ]

    def runs_out_at(rate: float) -> datetime | None:
        elapsed = step
        while elapsed <= DAY:
            moment = hourly.now + elapsed
            horizon = moment - DAY  # calls before this have left the window
            expired = 0.0
            for start, end, count in spans:
                if not count or horizon <= start:
                    continue
                if horizon >= end:
                    expired += count
                else:
                    expired += count * (horizon - start) / (end - start)
            if used - expired + rate * (elapsed / timedelta(hours=1)) >= allocation:
                return moment
            elapsed += step
        return None

    at, paced = runs_out_at(pace), False
    slowed = cadence.calls_per_hour if cadence is not None and cadence.stretched else pace
    if at is not None and slowed < pace:
        at, paced = runs_out_at(slowed), True
    return Forecast("runs_out" if at else "enough", pace, at, paced)


def sync_cadence(*, integration: Integration, remaining: int | None = None) -> Cadence:
    """How often the cycle runs now and what the schedule reckons a cycle costs (one query
    with ``remaining``, the allocation left, when the caller has read it)."""
    from .budget import budget_remaining
    from .sync.schedule import interval_for, typical_calls, whole_ticks

    pairs = ObjectSync.objects.filter(integration=integration, enabled=True).values("object")
    calls = typical_calls(integration=integration, object_names=pairs)  # pairs: a subquery
    if remaining is None:
        remaining = budget_remaining(integration=integration, system=System.SALESFORCE)
    every = whole_ticks(interval_for(calls, remaining))  # as ``due_cycles`` schedules it
    return Cadence(minutes=round(every / timedelta(minutes=1)), calls=calls)


# --- sync errors ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ErrorCard:
    """One Sync health card: an error type with its current errors and impacted records."""

    error_type: str
    category: str
    title: str
    explanation: str
    fix: str
    errors: int
    records: int


def shown_errors(errors):
    """Of these current errors, those Sync health shows: a transient one (a locked row, a
    blip) only once a retry of it failed too. Recorded and retried from its first failure
    all the same; one that passes on the next cycle never makes a card."""
    from .error_types import ERROR_TYPES

    transient = sorted(key for key, kind in ERROR_TYPES.items() if kind.transient)
    return errors.exclude(error_type__in=transient, attempts__lt=2)


def pair_object_refusals(*, integration: Integration, object_name: str) -> list[SyncError]:
    """The pair's open *Object permission* errors of a whole Salesforce object (the user
    can't use it at all), which hold the pair back (see ``sync.cycle``); 1 query."""
    from .error_types import OBJECT_KEY

    return list(
        SyncError.objects.filter(
            integration_id=integration.pk,
            object=object_name,
            error_type="object_permission",
            record_key__startswith=OBJECT_KEY,
            resolved_at__isnull=True,
        )
    )


def object_check_asked(*, integration: Integration, object_name: str) -> bool:
    """Whether an admin asked for the pair's object access to be checked now (the Resync of
    an ``object:`` error's record); 1 query."""
    from .error_types import OBJECT_KEY

    return ResyncRequest.objects.filter(
        integration_id=integration.pk, object=object_name, record_key__startswith=OBJECT_KEY
    ).exists()


def sync_error_cards(*, integration: Integration) -> list[ErrorCard]:
    """One card per error type that has current errors, most errors first (1 query).

    A record has at most one current error of each type under its key (the
    ``syncerror_current_unique`` constraint: a repeat failure bumps the same row), but a
    synced pair failing both ways has one on each side: going to Salesforce under its
    HubSpot key, going to HubSpot under its Salesforce key (``PairSync.record_error``).
    So the impacted records are the current errors less those under a Salesforce key whose
    link's HubSpot key has one of the type too; a plain grouped count with that condition
    checked for Salesforce-keyed errors alone (a ``COUNT(DISTINCT)`` over 100,000 open
    errors cost ~100 ms on SQLite)."""
    from .error_types import ERROR_TYPES

    current = SyncError.objects.filter(integration_id=integration.pk, resolved_at__isnull=True)
    partner_key = (
        RecordLink.objects.filter(
            integration_id=integration.pk,
            object=OuterRef(OuterRef("object")),
            salesforce_id=Substr(OuterRef(OuterRef("record_key")), len("salesforce:") + 1),
        )
        .annotate(key=Concat(Value("hubspot:"), "hubspot_id"))
        .values("key")[:1]
    )
    partner_error = shown_errors(
        current.filter(
            object=OuterRef("object"),
            error_type=OuterRef("error_type"),
            record_key=Subquery(partner_key),
        )
    )
    twice = Q(record_key__startswith="salesforce:") & Q(Exists(partner_error))
    rows = (
        shown_errors(current)
        .values("error_type")
        .annotate(errors=Count("id"), twice=Count("id", filter=twice))
        .order_by()
    )
    cards = []
    for row in rows:
        kind = ERROR_TYPES.get(row["error_type"]) or ERROR_TYPES["other"]
        cards.append(
            ErrorCard(
                error_type=row["error_type"],
                category=kind.category,
                title=kind.title,
                explanation=kind.explanation,
                fix=kind.fix,
                errors=row["errors"],
                records=row["errors"] - row["twice"],
            )
        )
    return sorted(cards, key=lambda c: (-c.errors, c.title))


def sync_errors_query(
    *,
    integration: Integration,
    error_type: str | None = None,
    object_name: str | None = None,
    search: str = "",
    current: bool = True,
    record_key: str | None = None,
):
    """Current (those Sync health shows: ``shown_errors``) or resolved errors, filtered,
    newest first, as a queryset."""
    errors = SyncError.objects.filter(integration_id=integration.pk, resolved_at__isnull=current)
    if current:
        errors = shown_errors(errors)
    if error_type:
        errors = errors.filter(error_type=error_type)
    if object_name:
        errors = errors.filter(object=object_name)
    if record_key:
        errors = errors.filter(record_key=record_key)
    search = (search or "").strip()
    if search:
        # A Salesforce id as people copy it: 15 characters (Classic, reports) or 18.
        ids = salesforce_id_forms(search) if "salesforce" in record_query_kinds(search) else set()
        errors = errors.filter(
            Q(record_label__icontains=search)
            | Q(hubspot_id=search)
            | Q(salesforce_id__in=ids | {search})
            | Q(message__icontains=search)
            | Q(code__iexact=search)
        )
    return errors.order_by("-last_seen_at", "-id")


def resync_errors_query(
    *,
    integration: Integration,
    error_ids: list[int] | None = None,
    error_type: str | None = None,
    search: str = "",
):
    """The current errors a Resync queues: the given ids, or those of the type (those
    ``search`` finds). A *Merged in Salesforce* error's Resync syncs its record as a new one
    (recreating what a rep merged away): only when the admin names that error or its type."""
    errors = sync_errors_query(integration=integration, error_type=error_type, search=search)
    if error_ids is not None:
        return errors.filter(pk__in=error_ids)
    if error_type is None:
        return errors.exclude(error_type="merged_in_salesforce")
    return errors


def sync_errors_pairs(
    *,
    integration: Integration,
    error_ids: list[int] | None = None,
    error_type: str | None = None,
    search: str = "",
) -> dict[str, int]:
    """``{pair: errors a Resync queues}`` (``resync_errors_query``; 1 query)."""
    errors = resync_errors_query(
        integration=integration, error_ids=error_ids, error_type=error_type, search=search
    )
    return dict(
        errors.order_by().values("object").annotate(n=Count("id")).values_list("object", "n")
    )


def pairs_switched_on(*, integration: Integration) -> set[str]:
    """The pairs switched on; a standard pair without its row yet counts as its default (1
    query)."""
    rows = dict(
        ObjectSync.objects.filter(integration_id=integration.pk).values_list("object", "enabled")
    )
    on = {name for name, enabled in rows.items() if enabled}
    return on | {n for n in SETTINGS_CLASSES if n not in rows and starts_enabled(n)}


def pairs_to_sync(*, integration: Integration) -> list[str]:
    """The pairs switched on, custom objects included (after the standard ones, as a cycle
    runs them; 1 query): what *Sync now* syncs."""
    on = pairs_switched_on(integration=integration)
    standard = [name for name in SETTINGS_CLASSES if name in on]
    return standard + sorted(on - set(standard), key=lambda name: (len(name), name))


# Why a sync queued by hand doesn't run at once (``sync_waits_because``).
WAITS_SYNC_OFF = "sync_off"
WAITS_NOT_CONNECTED = "not_connected"
WAITS_ON_HOLD = "on_hold"  # paused or suspended
WAITS_PAIR_OFF = "pair_off"


def sync_waits_because(*, integration: Integration, object_name: str = "") -> str:
    """Why a resync queued now won't run at once (one of the ``WAITS_*`` codes, the pair
    switched off only when ``object_name`` is given: 1 query then); "" when it runs now."""
    if not integration.sync_enabled:
        return WAITS_SYNC_OFF
    if integration.state == Integration.State.DISCONNECTED:
        return WAITS_NOT_CONNECTED
    if integration.state in (Integration.State.PAUSED, Integration.State.SUSPENDED):
        return WAITS_ON_HOLD
    if object_name and object_name not in pairs_switched_on(integration=integration):
        return WAITS_PAIR_OFF
    return ""


PERSON_TYPES = ("Contact", "Lead")


def hubspot_objects(*, integration: Integration, object_names) -> dict[str, str]:
    """The HubSpot object each pair's records are: the standard pairs' own names, a custom
    pair's object type id ("2-1000001"); 1 query when custom pairs are among them."""
    names = set(object_names)
    found = {name: name for name in names if not name.startswith(CUSTOM_PREFIX)}
    customs = names - set(found)
    if customs:
        for name, options in ObjectSync.objects.filter(
            integration_id=integration.pk, object__in=customs
        ).values_list("object", "options"):
            found[name] = (options or {}).get("hubspot_object") or ""
    return found


def record_hubspot_object(object_name: str, salesforce_type: str, objects: dict[str, str]) -> str:
    """The HubSpot object a pair's record is: a person even in another pair's errors (the
    company sync's contact associations), else the pair's object."""
    if salesforce_type in PERSON_TYPES and not object_name.startswith(CUSTOM_PREFIX):
        return "contacts"
    return objects.get(object_name, object_name)


@dataclass
class ErrorRow:
    """An error with the record link it belongs to (for links into both systems)."""

    error: SyncError
    link: RecordLink | None
    hubspot_objects: dict[str, str] = dataclass_field(default_factory=dict)
    pair_off: bool = False  # its pair is switched off: the error waits for it to be on
    pair_label: str = ""  # that pair's name for people, when a page says so

    @property
    def hubspot_object(self) -> str:
        """The HubSpot object of ``hubspot_id``, for the link to it."""
        return record_hubspot_object(self.error.object, self.salesforce_type, self.hubspot_objects)

    @property
    def hubspot_id(self) -> str:
        return self.error.hubspot_id or (self.link.hubspot_id if self.link else "")

    @property
    def salesforce_id(self) -> str:
        return self.error.salesforce_id or (self.link.salesforce_id if self.link else "")

    @property
    def salesforce_type(self) -> str:
        return self.error.salesforce_type or (self.link.salesforce_type if self.link else "")


@dataclass
class ErrorPage:
    rows: list[ErrorRow]
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def sync_errors_page(
    *,
    integration: Integration,
    error_type: str | None = None,
    object_name: str | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = 25,
) -> ErrorPage:
    """One page of current errors with their record links (3 queries: count, page, links)."""
    errors = sync_errors_query(
        integration=integration, error_type=error_type, object_name=object_name, search=search
    )
    total = errors.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    # Whether each error's pair is switched on, read with the page (no row: its default).
    switched = ObjectSync.objects.filter(integration_id=integration.pk, object=OuterRef("object"))
    errors = errors.annotate(pair_enabled=Subquery(switched.values("enabled")[:1]))
    chunk = list(errors[(page - 1) * per_page : page * per_page])
    links = record_links_for_errors(integration=integration, errors=chunk)
    objects = hubspot_objects(integration=integration, object_names={e.object for e in chunk})
    return ErrorPage(
        rows=[
            ErrorRow(
                error=e,
                link=links.get(e.pk),
                hubspot_objects=objects,
                pair_off=not (
                    starts_enabled(e.object) if e.pair_enabled is None else e.pair_enabled
                ),
            )
            for e in chunk
        ],
        total=total,
        page=page,
        pages=pages,
        per_page=per_page,
    )


def record_links_for_errors(
    *, integration: Integration, errors: list[SyncError]
) -> dict[int, RecordLink]:
    """``{error id: its record's link}`` for a page of errors (1 query on the links' unique
    indexes, 0 when the page is empty)."""
    by_hubspot: dict[tuple[str, str], list[int]] = {}
    by_salesforce: dict[str, list[int]] = {}
    for e in errors:
        # An engagement's key names its type ("hubspot:calls:123"), as its link's id does.
        keyed = e.record_key.partition(":")[2] if e.record_key.startswith("hubspot:") else ""
        for hubspot_id in dict.fromkeys(i for i in (e.hubspot_id, keyed) if i):
            by_hubspot.setdefault((e.object, hubspot_id), []).append(e.pk)
        if e.salesforce_id:
            by_salesforce.setdefault(e.salesforce_id, []).append(e.pk)
    if not by_hubspot and not by_salesforce:
        return {}
    condition = Q()
    for object_name in {o for o, _ in by_hubspot}:
        ids = [h for o, h in by_hubspot if o == object_name]
        condition |= Q(object=object_name, hubspot_id__in=ids)
    if by_salesforce:
        condition |= Q(salesforce_id__in=list(by_salesforce))
    # The ids and type an error row borrows (and the object to match): an export reads a
    # link for each of 100,000 errors, and its times and snapshot cost to load.
    links = RecordLink.objects.filter(condition, integration_id=integration.pk).only(
        "object", "hubspot_id", "salesforce_id", "salesforce_type"
    )
    found: dict[int, RecordLink] = {}
    for link in links:
        for pk in [
            *by_hubspot.get((link.object, link.hubspot_id), []),
            *by_salesforce.get(link.salesforce_id, []),
        ]:
            found.setdefault(pk, link)
    return found


@dataclass
class RecordHistory:
    """One record as the per-record view shows it."""

    object: str
    record_key: str
    link: RecordLink | None
    current: list[SyncError]
    resolved: list[SyncError]
    hubspot_object: str = ""  # the HubSpot object of the link's record, for the link to it
    synced_label: str = ""  # its name as last synced (the link's snapshot)

    @property
    def label(self) -> str:
        for error in self.current + self.resolved:
            if error.record_label:
                return error.record_label
        return self.synced_label or self.record_key

    @property
    def key_system(self) -> str:
        """The system its key names the record in: "hubspot" or "salesforce"."""
        return self.record_key.partition(":")[0]

    @property
    def key_id(self) -> str:
        """The record's id in that system ("calls:123" for an engagement)."""
        return self.record_key.partition(":")[2]

    @property
    def salesforce_type(self) -> str:
        """The Salesforce object its errors name: a record not synced yet has no link to say."""
        errors = self.current + self.resolved
        return next((e.salesforce_type for e in errors if e.salesforce_type), "")

    @property
    def stopped_syncing(self) -> SyncError | None:
        """The ended error that says the record no longer syncs (the pair's rules leave it
        alone, or it is gone), when it is the record's latest and the record hasn't synced
        since; None otherwise. From what is loaded: no query."""
        if self.current or not self.resolved:
            return None
        latest = max(self.resolved, key=lambda e: (e.resolved_at, e.pk))
        if latest.ended_because not in STOPPED_SYNCING:
            return None
        synced = self.link.last_synced_at if self.link is not None else None
        return latest if synced is None or synced < latest.resolved_at else None


# Why an error ended that leaves its record not syncing at all.
STOPPED_SYNCING = (
    SyncError.EndedBecause.NOT_SYNCING,
    SyncError.EndedBecause.DELETED,
    SyncError.EndedBecause.GONE_FROM_HUBSPOT,
    SyncError.EndedBecause.MERGED_IN_SALESFORCE,
    SyncError.EndedBecause.CONVERTED,
)


# Snapshot values that name a record, by pair (the first one set wins).
NAME_PROPERTIES = ("name", "dealname", "subject", "hs_task_subject", "email")


def _synced_label(snapshot: dict) -> str:
    person = " ".join(p for p in (snapshot.get("firstname"), snapshot.get("lastname")) if p)
    named = next((str(snapshot[p]) for p in NAME_PROPERTIES if snapshot.get(p)), "")
    # A custom object's properties are its own: the first "…name" one (project_name, say).
    custom = next(
        (str(v) for k, v in snapshot.items() if k.endswith("name") and v and k[:2] != "__"), ""
    )
    return person or named or custom


def _hubspot_key_object(integration: Integration, object_name: str, record_key: str) -> str:
    """The pair whose links hold a HubSpot key's record: the company sync keeps its errors
    about a contact (its account) under the contact's id, a contact pair's record (HubSpot's
    ids of two objects may be the same number)."""
    if object_name == SyncObject.CONTACTS or object_name.startswith(CUSTOM_PREFIX):
        return object_name
    person = SyncError.objects.filter(
        integration_id=integration.pk,
        object=object_name,
        record_key=record_key,
        salesforce_type__in=PERSON_TYPES,
    ).exists()
    return SyncObject.CONTACTS if person else object_name


def record_history(
    *, integration: Integration, object_name: str, record_key: str, limit: int = 100
) -> RecordHistory:
    """The record's link and its errors, current and past, both under its HubSpot and its
    Salesforce key (2 queries; 3 for a HubSpot key of a pair other than contacts)."""
    system, _, record_id = record_key.partition(":")
    link_query = RecordLink.objects.filter(integration_id=integration.pk)
    key_object = object_name
    if system == System.HUBSPOT:
        key_object = _hubspot_key_object(integration, object_name, record_key)
        link = link_query.filter(object=key_object, hubspot_id=record_id).first()
    else:
        link = link_query.filter(salesforce_id=record_id).first()
    keys = {record_key}
    if link is not None:
        keys |= {f"hubspot:{link.hubspot_id}", f"salesforce:{link.salesforce_id}"}
    errors = list(
        SyncError.objects.filter(
            integration_id=integration.pk, object=object_name, record_key__in=keys
        ).order_by("-last_seen_at", "-id")[:limit]
    )
    # The link may be another pair's (a contact, for the company sync's association errors).
    linked_object = link.object if link is not None else key_object
    objects = hubspot_objects(integration=integration, object_names={linked_object})
    return RecordHistory(
        object=object_name,
        record_key=record_key,
        link=link,
        current=[e for e in errors if e.resolved_at is None],
        resolved=[e for e in errors if e.resolved_at is not None],
        hubspot_object=objects.get(linked_object, linked_object),
        synced_label=_synced_label(link.snapshot or {}) if link is not None else "",
    )


# --- settings, mappings, schema ---------------------------------------------------------------
def object_sync_get(*, integration: Integration, object_name: str) -> ObjectSync | None:
    return ObjectSync.objects.filter(integration_id=integration.pk, object=object_name).first()


def object_settings_get(*, integration: Integration, object_name: str) -> Any:
    """A pair's settings as stored (its defaults before it has a row), without creating one
    (1 query)."""
    from .object_settings import settings_for

    row = object_sync_get(integration=integration, object_name=object_name)
    return settings_for(object_name, row.options if row else None)


def mappings_list(*, integration: Integration, object_name: str | None = None) -> list:
    """Defaults first, then by HubSpot property (1 query)."""
    mappings = FieldMapping.objects.filter(integration_id=integration.pk)
    if object_name:
        mappings = mappings.filter(object=object_name)
    return list(mappings.order_by("-is_default", "hubspot_property"))


def mappings_query(*, integration: Integration, object_name: str | None = None):
    mappings = FieldMapping.objects.filter(integration_id=integration.pk)
    if object_name:
        mappings = mappings.filter(object=object_name)
    return mappings.order_by("object", "-is_default", "hubspot_property")


def mapping_get(*, integration: Integration, mapping_id: int) -> FieldMapping | None:
    return FieldMapping.objects.filter(integration_id=integration.pk, pk=mapping_id).first()


# Salesforce fields no mapping syncs meaningfully, left out of the editor's pickers (spec §8):
# the record id (the integration keeps it as the link property), delete and merge bookkeeping
# (IsDeleted is false on every record that syncs; deletes follow the delete rules), the system
# change stamp (it moves with every internal update, the integration's own writes too), the
# audit user ids (raw user ids, not owners: owners sync through the owner mapping) and the
# integration user's own view dates. Other read-only fields (CreatedDate, a formula) stay: they
# map "Always use Salesforce" (§8.2).
SALESFORCE_SYSTEM_FIELDS = frozenset(
    {
        "Id",
        "IsDeleted",
        "MasterRecordId",
        "SystemModstamp",
        "CreatedById",
        "LastModifiedById",
        "LastViewedDate",
        "LastReferencedDate",
    }
)
# HubSpot's own bookkeeping, read-only: lists of its user, team and owner ids, merged records,
# creation keys, the record's lock. HubSpot takes no value for them and theirs mean nothing in
# Salesforce. Other read-only properties (the record id, counts, dates) stay: they may flow
# HubSpot → Salesforce.
HUBSPOT_INTERNAL_PROPERTIES = frozenset(
    {
        "hs_all_owner_ids",
        "hs_all_team_ids",
        "hs_all_accessible_team_ids",
        "hs_user_ids_of_all_owners",
        "hs_user_ids_of_all_notification_followers",
        "hs_user_ids_of_all_notification_unfollowers",
        "hs_shared_team_ids",
        "hs_shared_user_ids",
        "hs_created_by_user_id",
        "hs_updated_by_user_id",
        "hs_object_source_user_id",
        "hs_merged_object_ids",
        "hs_calculated_merged_vids",
        "hs_all_contact_vids",
        "hs_unique_creation_key",
        "hs_pinned_engagement_id",
        "hs_read_only",
    }
)


def hubspot_internal_property(prop: dict) -> bool:
    """Whether a HubSpot property (as the schema cache holds it) is its own bookkeeping."""
    return bool(prop.get("readOnly")) and prop["name"] in HUBSPOT_INTERNAL_PROPERTIES


@functools_cache
def engine_key_properties(object_name: str) -> frozenset[str]:
    """The HubSpot properties the engine itself writes to link records (the Salesforce ids)
    or to upsert new ones (the unique ``salesforce_*_sync`` keys): a user's value there could
    break the link, so they aren't mapped, unless one of ``object_name``'s default mappings
    uses one (the defaults the engine manages itself, ``integration_managed``, are not
    mappings)."""
    from .sync import activities, companies, contacts, custom_objects, deals, tickets

    keys = {
        *contacts.LINK_PROPERTY.values(),
        contacts.CAMPAIGNS_PROPERTY,  # written from Salesforce's campaign members only
        companies.LINK_PROPERTY,
        companies.KEY_PROPERTY,
        deals.LINK_PROPERTY,
        deals.KEY_PROPERTY,
        tickets.KEY_PROPERTY,
        custom_objects.KEY_PROPERTY,
        activities.KEY_PROPERTY,
    }
    mapped = {
        d["hubspot"]
        for d in default_mappings(object_name)
        if d["default_rule"] != "integration_managed"
    }
    return frozenset(keys - mapped)


@functools_cache
def engine_managed_properties(object_name: str) -> dict[str, str]:
    """The HubSpot properties the engine sets itself from a Salesforce field that aren't
    keys (the deal's pipeline, from the opportunity's record type): property -> that field.
    Mapped as well, a field's values would land where HubSpot takes only its pipelines' ids,
    and those ids in Salesforce, so they aren't mapped."""
    keys = engine_key_properties(object_name)
    return {
        d["hubspot"]: d["salesforce"]
        for d in default_mappings(object_name)
        if d["default_rule"] == "integration_managed" and d["hubspot"] not in keys
    }


@dataclass(frozen=True)
class TypeMismatch:
    """The types a stored mapping's property and field meet as now that one of them changed
    (HubSpot's "type (fieldType)", Salesforce's describe type): ones §8.1 doesn't let map,
    so values fail on each record, or change meaning (text read as a checkbox), on the way.
    ``changed``: the side whose type changed, "hubspot", "salesforce" or "both"."""

    hubspot_type: str
    salesforce_type: str
    changed: str


def mapping_type_mismatch(
    mapping: FieldMapping, prop: dict | None, salesforce_types: dict[str, str]
) -> TypeMismatch | None:
    """Whether ``mapping`` no longer maps types §8.1 allows, though it did as stored: its
    HubSpot property (``prop``, as the schema cache holds it) or its field (``salesforce_types``:
    Salesforce object -> the type of the mapping's field there) changed type since (an admin
    made a Text field a Number). Only mappings that keep the types they were checked with
    (custom ones): defaults pair standard fields and properties, whose types can't change,
    and some the engine converts itself (a ranges dropdown and a number). A property or
    field gone is ``never_syncs``'s, not this."""
    from .sync.values import is_compatible

    was_hs = (mapping.hubspot_type, mapping.hubspot_field_type)
    was_sf = mapping.salesforce_type
    if prop is None or mapping.rule == SyncRule.DONT_SYNC or not (all(was_hs) and was_sf):
        return None
    if not is_compatible(hs_type=was_hs[0], hs_field_type=was_hs[1], sf_type=was_sf):
        return None  # stored unchecked: no change to tell of
    now_hs = (prop.get("type") or "", prop.get("fieldType") or "")
    for sf_type in salesforce_types.values():
        if not (all(now_hs) and sf_type):
            continue  # a schema without types (an old cache) tells of no change
        if is_compatible(hs_type=now_hs[0], hs_field_type=now_hs[1], sf_type=sf_type):
            continue
        changed = {"hubspot"} if was_hs != now_hs else set()
        changed |= {"salesforce"} if was_sf != sf_type else set()
        return TypeMismatch(
            hubspot_type=f"{now_hs[0]} ({now_hs[1]})",
            salesforce_type=sf_type,
            changed=changed.pop() if len(changed) == 1 else "both",
        )
    return None


@dataclass(frozen=True)
class SchemaOptions:
    """What the mapping editor's pickers offer: HubSpot properties and Salesforce fields."""

    hubspot: list[dict]
    salesforce: list[dict]  # fields of all the pair's Salesforce objects, by name
    fetched_at: datetime | None
    complete: bool = True  # every schema the pair needs has been read
    object_name: str = ""
    # Salesforce object -> its fields read-only for the integration user. Lead and Contact
    # may differ, and ``salesforce`` shows each shared field once.
    read_only_on: dict[str, frozenset[str]] = dataclass_field(default_factory=dict)
    # Salesforce object -> field name -> its type there (Lead's and Contact's may differ).
    types_on: dict[str, dict[str, str]] = dataclass_field(default_factory=dict)

    @cached_property
    def hubspot_names(self) -> frozenset[str]:
        return frozenset(p["name"] for p in self.hubspot)

    @property
    def hubspot_labels(self) -> dict[str, str]:
        """HubSpot property name -> its label (what people see in HubSpot)."""
        return {p["name"]: p.get("label") or p["name"] for p in self.hubspot}

    @property
    def salesforce_labels(self) -> dict[str, str]:
        """Salesforce field name -> its label ("Lead ID / Contact ID" where they differ)."""
        return {f["name"]: f.get("label") or f["name"] for f in self.salesforce}

    @cached_property
    def read_only_fields(self) -> frozenset[str]:
        """Salesforce fields that take no writes (formula or not updateable) on any of the
        pair's objects: their mappings may only use Salesforce's value (spec §8.2)."""
        return frozenset().union(*self.read_only_on.values())

    @cached_property
    def read_only_properties(self) -> frozenset[str]:
        """HubSpot properties that take no writes (HubSpot computes them): their mappings may
        only carry them to Salesforce."""
        return frozenset(p["name"] for p in self.hubspot if p.get("readOnly"))

    def never_syncs(self, mapping: FieldMapping) -> str:
        """Why a stored mapping can't move a value either way, "" when it can: "hubspot" (a
        read-only HubSpot property with a rule that only writes HubSpot), "both" (read-only on
        both sides), "missing" (HubSpot no longer has the property: the cycle leaves the
        mapping out), "salesforce_missing" (likewise: Salesforce no longer has the field, or
        hides it from the integration user); or HubSpot's way: "salesforce" (a Salesforce
        field read-only for the integration user with a rule that writes it: each such edit
        is a sync error). Mappings
        stored before these were refused, or before the field became read-only, show it."""
        if mapping.rule == SyncRule.DONT_SYNC:
            return ""
        if self.complete and self.hubspot and mapping.hubspot_property not in self.hubspot_names:
            return "missing"
        if self.salesforce_missing(mapping):
            return "salesforce_missing"
        if mapping.hubspot_property not in self.read_only_properties:
            # (A custom pair keeps Salesforce's value instead: its mapping says so itself.)
            writes_salesforce = mapping.rule != SyncRule.ALWAYS_USE_SALESFORCE
            custom = self.object_name.startswith(CUSTOM_PREFIX)
            return (
                "salesforce"
                if self.read_only_somewhere(mapping) and writes_salesforce and not custom
                else ""
            )
        if mapping.salesforce_field in self.read_only_fields:
            return "both"
        return "hubspot" if mapping.rule == SyncRule.ALWAYS_USE_SALESFORCE else ""

    def mismatched_types(self, mapping: FieldMapping) -> TypeMismatch | None:
        """The types a stored mapping now meets as, when a type changed since it was made to
        ones that can't map (``mapping_type_mismatch``), on the fields the mapping uses."""
        if not self.complete:
            return None
        prop = next((p for p in self.hubspot if p["name"] == mapping.hubspot_property), None)
        types = {
            sobject: fields[mapping.field_for(sobject)]
            for sobject, fields in self.types_on.items()
            if (not mapping.salesforce_fields or sobject in mapping.salesforce_fields)
            and mapping.field_for(sobject) in fields
        }
        return mapping_type_mismatch(mapping, prop, types)

    def salesforce_missing(self, mapping: FieldMapping) -> bool:
        """Whether none of the pair's Salesforce objects the mapping writes has its field any
        more (deleted, or hidden from the integration user): the cycle leaves it out."""
        if not self.complete or not self.read_only_on:
            return False
        present = {f["name"]: f.get("objects") or () for f in self.salesforce}
        objects = [
            o
            for o in self.read_only_on
            if not mapping.salesforce_fields or o in mapping.salesforce_fields
        ]
        return bool(objects) and not any(
            sobject in present.get(mapping.field_for(sobject), ()) for sobject in objects
        )

    def read_only_somewhere(self, mapping: FieldMapping) -> bool:
        """Whether the field the mapping writes on any of the pair's Salesforce objects (a
        lead's or a contact's, by the record linked) is read-only there."""
        # (With per-object fields, an object they leave out isn't written: see mapped_field.)
        return any(
            mapping.field_for(sobject) in names
            for sobject, names in self.read_only_on.items()
            if not mapping.salesforce_fields or sobject in mapping.salesforce_fields
        )

    @cached_property
    def choices(self) -> tuple[list[dict], list[dict]]:
        """(HubSpot properties, Salesforce fields) the Add-a-mapping pickers offer: not the
        system ones above nor the engine's own keys, and only what the compatibility matrix
        (§8.1) lets map to something on the other side (not user properties, calculations,
        compound addresses)."""
        from .sync.values import is_compatible

        fields = [f for f in self.salesforce if f["name"] not in SALESFORCE_SYSTEM_FIELDS]
        keys = engine_key_properties(self.object_name) | set(
            engine_managed_properties(self.object_name)
        )
        properties = [
            p for p in self.hubspot if not hubspot_internal_property(p) and p["name"] not in keys
        ]
        hs_types = {(p["type"], p["fieldType"]) for p in properties}
        sf_types = {f["type"] for f in fields}
        compatible = {
            (hs, sf)
            for hs in hs_types
            for sf in sf_types
            if is_compatible(hs_type=hs[0], hs_field_type=hs[1], sf_type=sf)
        }
        hs_ok = {hs for hs, _ in compatible}
        sf_ok = {sf for _, sf in compatible}
        return (
            [p for p in properties if (p["type"], p["fieldType"]) in hs_ok],
            [f for f in fields if f["type"] in sf_ok],
        )

    @property
    def hubspot_choices(self) -> list[dict]:
        return self.choices[0]

    @property
    def salesforce_choices(self) -> list[dict]:
        return self.choices[1]

    @property
    def is_empty(self) -> bool:
        return not self.hubspot and not self.salesforce


def schema_options(
    *, integration: Integration, object_name: str, salesforce_objects: tuple[str, ...]
) -> SchemaOptions:
    """The cached schemas of an object pair (1 query). Salesforce fields present on several
    objects (Lead and Contact) appear once, with the objects that have them, and each
    object's label where they differ ("Lead ID / Contact ID")."""
    from .sync.values import read_only_field

    rows = SchemaCache.objects.filter(integration_id=integration.pk).filter(
        Q(system=System.HUBSPOT, object=object_name)
        | Q(system=System.SALESFORCE, object__in=salesforce_objects)
    )
    hubspot: list[dict] = []
    salesforce: dict[str, dict] = {}
    fetched = []
    read = set()
    read_only_on: dict[str, frozenset[str]] = {}
    types_on: dict[str, dict[str, str]] = {}
    order = {name: n for n, name in enumerate(salesforce_objects)}
    for row in sorted(rows, key=lambda r: order.get(r.object, -1)):
        fetched.append(row.fetched_at)
        read.add((row.system, row.object))
        if row.system == System.HUBSPOT:
            hubspot = sorted(row.data, key=lambda p: (p.get("label") or p["name"]).lower())
            continue
        read_only_on[row.object] = frozenset(f["name"] for f in row.data if read_only_field(f))
        types_on[row.object] = {f["name"]: f.get("type", "") for f in row.data}
        for field in row.data:
            entry = salesforce.setdefault(field["name"], {**field, "objects": [], "labels": []})
            entry["objects"].append(row.object)
            label = field.get("label") or field["name"]
            if label not in entry["labels"]:
                entry["labels"].append(label)
    for entry in salesforce.values():
        entry["label"] = " / ".join(entry.pop("labels"))
    return SchemaOptions(
        hubspot=hubspot,
        salesforce=sorted(salesforce.values(), key=lambda f: (f.get("label") or f["name"]).lower()),
        fetched_at=min(fetched) if fetched else None,
        object_name=object_name,
        read_only_on=read_only_on,
        types_on=types_on,
        complete={(System.HUBSPOT, object_name)}
        | {(System.SALESFORCE, o) for o in salesforce_objects}
        <= read,
    )


def amounts_converted(
    *, integration: Integration, schema: SchemaOptions, mappings: list[FieldMapping]
) -> tuple[frozenset[int], str]:
    """Of a pair's ``mappings`` (all of them), the pks of those whose amounts the engine
    converts between each record's currency and HubSpot's company currency, as
    ``PairSync.amounts_converted`` decides it from the same cached schemas; and that currency
    ("" when not known). Nothing in a single-currency org. One query, no API call."""
    from .services import HUBSPOT_ACCOUNT
    from .sync.currencies import amounts_convert
    from .sync.registry import pair_class

    converts = pair_class(schema.object_name).converts_amounts
    on = [
        sobject
        for sobject, types in schema.types_on.items()
        if amounts_convert(
            converts=converts, fields=types, mapped=(m.field_for(sobject) for m in mappings)
        )
    ]
    converted = frozenset(
        m.pk
        for m in mappings
        if any(schema.types_on[sobject].get(m.field_for(sobject)) == "currency" for sobject in on)
    )
    if not converted:
        return converted, ""
    account = SchemaCache.objects.filter(
        integration=integration, system=System.HUBSPOT, object=HUBSPOT_ACCOUNT
    ).first()
    return converted, str((account.data if account else {}).get("companyCurrency") or "")


def pair_schema_options(*, integration: Integration, object_name: str) -> SchemaOptions:
    """A pair's cached schemas as its mapping table shows them (``schema_options`` of its
    Salesforce objects; a custom object's, ``custom:<n>``, from its settings: 1 query more)."""
    from .services import SALESFORCE_OBJECTS

    if object_name.startswith(CUSTOM_PREFIX):
        settings = object_settings_get(integration=integration, object_name=object_name)
        sobjects: tuple[str, ...] = (settings.salesforce_object,)
    else:
        sobjects = tuple(SALESFORCE_OBJECTS.get(object_name, ()))
    return schema_options(
        integration=integration, object_name=object_name, salesforce_objects=sobjects
    )


def hubspot_active_lists(
    *, integration: Integration, search: str = "", limit: int = 100, object_name: str = "contacts"
) -> list[dict]:
    """HubSpot's active (DYNAMIC) lists of the pair's records (contacts, or companies: what
    its inclusion list may be), read through the connector (1 HubSpot call, counted in the
    ledger, then kept for ``REMOTE_READ_TTL`` per search): ``[{"id", "name", "size"}]``
    sorted by name."""
    type_id = LIST_RESYNC_OBJECT_TYPES[object_name]
    key = "hubspot:lists" if type_id == "0-1" else f"hubspot:lists:{type_id}"
    return cached_remote_read(
        integration,
        f"{key}:{limit}:{search}",
        lambda: _hubspot_active_lists_read(integration, search, limit, object_type_id=type_id),
    )


# The HubSpot object whose lists a pair's *Resync a list* takes (its object type id).
LIST_RESYNC_OBJECT_TYPES = {"contacts": "0-1", "companies": "0-2"}


def hubspot_resync_lists(
    *, integration: Integration, object_name: str, search: str = "", limit: int = 100
) -> list[dict]:
    """The HubSpot lists of the pair's records that *Resync a list* offers: active and static
    alike (a segment made for a backfill is often static), as ``hubspot_active_lists`` reads
    them (1 HubSpot call, then kept per search): ``[{"id", "name", "size"}]`` by name."""
    type_id = LIST_RESYNC_OBJECT_TYPES[object_name]
    return cached_remote_read(
        integration,
        f"hubspot:resync-lists:{type_id}:{limit}:{search}",
        lambda: _hubspot_active_lists_read(
            integration, search, limit, processing_types=None, object_type_id=type_id
        ),
    )


def hubspot_list_get(*, integration: Integration, list_id: str) -> dict | None:
    """One HubSpot list: ``{"id", "name", "object_type_id", "size", "processing_type"}``, or
    None when HubSpot has no such list (1 HubSpot call; ``ConnectorError`` when it can't be
    asked)."""
    from .connectors.hubspot import HubSpotConnector
    from .errors import BadRequest, NotFound

    try:
        found = HubSpotConnector(integration=integration).list_get(list_id=list_id)
    except (NotFound, BadRequest):  # HubSpot answers 400 for an id that is no number
        return None
    hubspot_list = getattr(found, "list", None)
    if hubspot_list is None:
        return None
    size = getattr(hubspot_list, "size", None)
    return {
        "id": str(hubspot_list.list_id),
        "name": str(hubspot_list.name or ""),
        "object_type_id": str(getattr(hubspot_list, "object_type_id", "") or ""),
        "size": int(size) if size not in (None, "") else None,
        "processing_type": str(getattr(hubspot_list, "processing_type", "") or ""),
    }


def hubspot_list_member_pages(
    *, integration: Integration, list_id: str, after: str = ""
) -> Iterator[tuple[list[str], str]]:
    """A HubSpot list's record ids, a page of 250 a HubSpot call, from paging token ``after``
    (``""``: the first page): each page's ids with the token of the page after it (``""``
    after the last), so a reader that stops can go on from there."""
    from .connectors.hubspot import HubSpotConnector
    from .sync.changes import LIST_PAGE, with_retries

    hubspot = HubSpotConnector(integration=integration)
    while True:
        page = with_retries(
            lambda a=after or None: hubspot.list_memberships_page(
                list_id=list_id, after=a, limit=LIST_PAGE
            )
        )
        ids = [str(m.record_id) for m in page.results or []]
        after = page.paging.next.after if page.paging and page.paging.next else ""
        yield ids, after or ""
        if not after:
            return


def list_resync_job_get(*, integration: Integration, job_id: int) -> ListResyncJob | None:
    return (
        ListResyncJob.objects.filter(integration=integration, pk=job_id)
        .select_related("integration", "started_by")
        .first()
    )


def list_resync_active(
    *, integration: Integration, object_name: str, list_id: str
) -> ListResyncJob | None:
    """The list's resync queued or running, if any (at most one: ``list_resync_one_active``)."""
    return (
        ListResyncJob.objects.filter(
            integration=integration,
            object=object_name,
            list_id=list_id,
            status__in=(ListResyncJob.Status.QUEUED, ListResyncJob.Status.RUNNING),
        )
        .select_related("integration")
        .first()
    )


# A finished list resync stays on its card this long: time to read how it ended.
LIST_RESYNC_SHOWN_FOR = timedelta(days=1)


def list_resync_jobs_shown(
    *, integration: Integration, object_name: str, limit: int = 3
) -> list[ListResyncJob]:
    """The pair's list resyncs the card shows, newest first: those still queued or running,
    and those started in the last day."""
    recent = Q(created_at__gte=timezone.now() - LIST_RESYNC_SHOWN_FOR)
    active = Q(status__in=(ListResyncJob.Status.QUEUED, ListResyncJob.Status.RUNNING))
    return list(
        ListResyncJob.objects.filter(integration=integration, object=object_name)
        .filter(recent | active)
        .select_related("integration")[:limit]
    )


def is_contact_list(hubspot_list: Any) -> bool:
    """Whether a HubSpot list (from the lists API) holds contacts: what can limit which
    contacts sync. Shared by the list picker and the settings check."""
    return str(getattr(hubspot_list, "object_type_id", "0-1") or "0-1") in ("0-1", "contacts")


def is_list_of(hubspot_list: Any, object_type_id: str) -> bool:
    """Whether a HubSpot list holds records of ``object_type_id`` ("0-1" contacts, "0-2"
    companies): what can limit which of them sync (the settings check)."""
    if object_type_id == "0-1":
        return is_contact_list(hubspot_list)
    return str(getattr(hubspot_list, "object_type_id", "") or "") == object_type_id


def _hubspot_active_lists_read(
    integration: Integration,
    search: str,
    limit: int,
    processing_types: tuple[str, ...] | None = ("DYNAMIC",),
    object_type_id: str = "0-1",
) -> list[dict]:
    """HubSpot's lists of ``processing_types`` (None: every kind) holding records of
    ``object_type_id`` (1 HubSpot call)."""
    from hubspot.crm.lists import ListSearchRequest

    from .connectors.hubspot import HubSpotConnector

    connector = HubSpotConnector(integration=integration)
    request = ListSearchRequest(
        query=search or None,
        processing_types=list(processing_types) if processing_types else None,
        count=limit,
        offset=0,
        additional_properties=["hs_list_size"],
    )
    response = connector.call("crm.lists.lists_api", "do_search", request, operation="lists.search")
    found = []
    for item in getattr(response, "lists", None) or []:
        if object_type_id == "0-1" and not is_contact_list(item):
            continue
        if object_type_id != "0-1" and str(getattr(item, "object_type_id", "")) != object_type_id:
            continue
        extra = getattr(item, "additional_properties", None) or {}
        size = extra.get("hs_list_size") if isinstance(extra, dict) else None
        found.append(
            {
                "id": str(item.list_id),
                "name": item.name,
                "size": int(size) if size not in (None, "") else None,
            }
        )
    return sorted(found, key=lambda lst: lst["name"].lower())


# The audit details of a settings change that swapped HubSpot lists: their names, by id, as
# HubSpot gave them when the change was saved (see ``object_settings_update``).
LIST_NAMES = "list_names"


def inclusion_list_missing(
    *, integration: Integration, object_name: str = "contacts"
) -> str | None:
    """The id of the pair's inclusion list (contacts', or companies') that HubSpot no longer
    has, while it is still the one chosen: the pair's last cycle to get through found it gone
    (its run says so). None otherwise; choosing another list, or none, ends it at once (1
    query; no HubSpot call)."""
    return inclusion_lists_missing(integration=integration, object_names=(object_name,)).get(
        object_name
    )


LISTED_PAIRS = ("contacts", "companies")  # the pairs with an inclusion list


def inclusion_lists_missing(
    *, integration: Integration, object_names=LISTED_PAIRS
) -> dict[str, str]:
    """``inclusion_list_missing`` for each of these pairs at once: the pairs whose chosen list
    HubSpot no longer has, with its id (1 query, whatever the pairs)."""
    from .sync.changes import list_missing_id
    from .sync.companies import company_list_missing_id

    last_run = sync_runs_query(integration=integration, status="succeeded").filter(
        object=OuterRef("object")
    )
    rows = (
        ObjectSync.objects.filter(integration_id=integration.pk, object__in=object_names)
        .annotate(message=Subquery(last_run.values("message")[:1]))
        .values_list("object", "options__inclusion_list_id", "message")
    )
    found = {}
    for object_name, chosen, message in rows:
        # Each tab's run says it in its own words.
        said = company_list_missing_id if object_name == "companies" else list_missing_id
        missing = said(message) if message is not None else None
        if missing and missing == str(chosen or ""):
            found[object_name] = missing
    return found


def hubspot_list_names(*, integration: Integration, list_ids) -> dict[str, str]:
    """The names the audit log noted for these HubSpot lists when they were chosen or left,
    newest first (1 query, the database only: no HubSpot call on a page render)."""
    wanted = {str(i) for i in list_ids if i}
    names: dict[str, str] = {}
    if not wanted:
        return names
    noted = (
        AuditEvent.objects.filter(
            integration_id=integration.pk,
            action="settings.updated",
            details__has_key=LIST_NAMES,
        )
        .order_by("-at", "-id")
        .values_list("details", flat=True)[:200]
    )
    for details in noted:
        found = details.get(LIST_NAMES)
        if not isinstance(found, dict):
            continue
        for list_id in wanted - names.keys():
            if found.get(list_id):
                names[list_id] = str(found[list_id])
        if names.keys() >= wanted:
            break
    return names


def hubspot_contact_find(*, integration: Integration, key: str) -> dict | None:
    """A HubSpot contact by its record id or its email address: ``{"id", "email", "label"}``
    (the label as sync errors name people), or None when HubSpot has no such contact (one
    HubSpot call; a ``ConnectorError`` when HubSpot can't be asked)."""
    from .connectors.hubspot import HubSpotConnector
    from .errors import BadRequest, NotFound
    from .sync.pair import Pair

    by_email = "@" in key
    try:
        found = HubSpotConnector(integration=integration).batch_read(
            object_type="contacts",
            ids=[key.lower() if by_email else key],
            properties=["email", "firstname", "lastname"],
            id_property="email" if by_email else None,
        )
    except (NotFound, BadRequest):
        return None
    for contact in found.results or []:
        return {
            "id": str(contact.id),
            "email": (contact.properties or {}).get("email") or "",
            "label": Pair("", None, contact).label,
        }
    return None


def hubspot_record_in_list(
    *, integration: Integration, object_type_id: str, record_id: str, list_id: str
) -> bool:
    """Whether a HubSpot record of ``object_type_id`` ("0-1" contacts, "0-2" companies) is in
    the list ``list_id`` now (one HubSpot call: the lists the record is in)."""
    from .connectors.hubspot import HubSpotConnector

    response = HubSpotConnector(integration=integration).call(
        "crm.lists.memberships_api",
        "get_lists",
        object_type_id,
        record_id,
        operation="lists.memberships.record",
    )
    return any(str(m.list_id) == str(list_id) for m in getattr(response, "results", None) or [])


# --- audit ----------------------------------------------------------------------------------
def audit_events_query(*, integration: Integration | None = None, action: str | None = None):
    """Newest first, with the actor joined."""
    events = AuditEvent.objects.select_related("actor")
    if integration is not None:
        events = events.filter(Q(integration_id=integration.pk) | Q(integration__isnull=True))
    if action:
        events = events.filter(action__startswith=action)
    return events.order_by("-at", "-id")


# --- deals
def deal_pipelines(*, integration: Integration) -> list[dict]:
    """The HubSpot pipelines deal sync keeps in step with Salesforce's record types: label,
    HubSpot id, record type id ("" for the default pipeline) and stage count (1 query)."""
    from .sync.pipelines import synced_pipelines

    return synced_pipelines(integration)


def deal_outside_synced_pipelines(*, integration: Integration, deal_id: str) -> str | None:
    """The HubSpot pipeline (its label) a linked deal sits in when that pipeline doesn't sync
    with Salesforce: the deal opted out of the sync (spec §10). None while its pipeline syncs,
    before deal pipelines are set up, or when HubSpot can't say (two HubSpot calls, kept for
    ``REMOTE_READ_TTL``)."""
    from .connectors.hubspot import HubSpotConnector
    from .errors import ConnectorError
    from .sync.pipelines import synced_pipeline_ids

    synced = synced_pipeline_ids(integration)
    if not synced:
        return None

    def fetch() -> str:
        hubspot = HubSpotConnector(integration=integration)
        deal = hubspot.object_get(object_type="deals", object_id=deal_id, properties=["pipeline"])
        pipeline = str((deal.properties or {}).get("pipeline") or "")
        if not pipeline or pipeline in synced:
            return ""
        labels = {p.id: p.label for p in hubspot.pipelines_get_all(object_type="deals")}
        return labels.get(pipeline) or pipeline

    try:
        outside = cached_remote_read(integration, f"deal-pipeline:{deal_id}", fetch)
    except ConnectorError:
        return None
    return outside or None


# --- tickets
# The Tickets wizard's live reads (steps 4 and 5 and the stage table), kept for
# ``REMOTE_READ_TTL``; the keys a change forgets.
TICKET_CASE_PROCESSES = "tickets:case-processes"


def ticket_case_processes(*, integration: Integration) -> list[dict[str, str]]:
    """The case processes a ticket pipeline is chosen for: ``master`` and every active Case
    record type (one Salesforce query, kept for ``REMOTE_READ_TTL``)."""
    from .connectors.salesforce import SalesforceConnector
    from .sync.tickets import case_processes

    return cached_remote_read(
        integration,
        TICKET_CASE_PROCESSES,
        lambda: case_processes(SalesforceConnector(integration=integration)),
    )


def hubspot_company_name(*, integration: Integration, company_id: str) -> str | None:
    """A HubSpot company's name ("" when it has none), or None when HubSpot has no company of
    that id (one HubSpot call)."""
    from .connectors.hubspot import HubSpotConnector
    from .errors import BadRequest, NotFound

    try:
        found = HubSpotConnector(integration=integration).batch_read(
            object_type="companies", ids=[company_id], properties=["name"]
        )
    except (NotFound, BadRequest):
        return None
    for company in found.results or []:
        return (company.properties or {}).get("name") or ""
    return None


def _ticket_settings(integration: Integration):
    return object_settings_get(integration=integration, object_name="tickets")


def ticket_hubspot_pipelines_key(*, integration: Integration) -> str:
    """The key HubSpot's ticket pipelines are kept under (1 query): it names the pipelines the
    stored table uses, so a pipeline the engine creates (and stores) is read afresh."""
    used = sorted(
        {str(e.get("pipeline") or "") for e in _ticket_settings(integration).pipelines.values()}
    )
    return "tickets:hubspot-pipelines:" + ",".join(used)


def ticket_hubspot_pipelines(*, integration: Integration) -> list[dict]:
    """HubSpot's ticket pipelines with their stages (one HubSpot call, kept for
    ``REMOTE_READ_TTL``)."""
    from .connectors.hubspot import HubSpotConnector
    from .sync.tickets import hubspot_pipelines

    return cached_remote_read(
        integration,
        ticket_hubspot_pipelines_key(integration=integration),
        lambda: hubspot_pipelines(HubSpotConnector(integration=integration)),
    )


def ticket_case_statuses(*, integration: Integration) -> list[str]:
    """Case.Status values from the cached describe (read from Salesforce once when nothing is
    cached yet)."""
    from .sync.tickets import case_statuses

    return case_statuses(integration)


# The people a first cycle reads in Salesforce (converted leads stay out of the sync).
PREVIEW_COUNTS = (
    "SELECT COUNT() FROM Lead WHERE IsConverted = false",
    "SELECT COUNT() FROM Contact",
)


def first_sync_preview(*, integration: Integration) -> dict:
    """What the first cycle of a sync not started yet will read and make, for the admin about
    to start it: Salesforce's leads (not converted) and contacts (one composite call),
    HubSpot's contacts and, with an inclusion list, its name and size (one HubSpot call
    each), with the contact settings that decide what gets created and the other pairs
    switched on. Kept ``REMOTE_READ_TTL`` per inclusion list; a count that couldn't be read
    is None (and the preview isn't kept)."""
    from .connectors.hubspot import HubSpotConnector
    from .connectors.salesforce import SalesforceConnector
    from .errors import ConnectorError
    from .sync.changes import query_answer, query_subrequest

    settings = object_settings_get(integration=integration, object_name="contacts")
    list_id = str(settings.inclusion_list_id or "")

    def read() -> dict:
        # Asked once each, not retried: the page waits for them.
        out: dict[str, Any] = {"leads": None, "contacts": None, "hubspot_contacts": None}
        try:
            salesforce = SalesforceConnector(integration=integration)
            version = salesforce.connection.api_version
            answers = salesforce.composite(
                [
                    query_subrequest(version, soql, f"q{n}", include_deleted=False)
                    for n, soql in enumerate(PREVIEW_COUNTS)
                ]
            )["compositeResponse"]
            leads, contacts = (query_answer(a) for a in answers)
            out["leads"] = int(leads.get("totalSize") or 0)
            out["contacts"] = int(contacts.get("totalSize") or 0)
        except ConnectorError as error:
            log.warning("first sync preview: counting Salesforce people failed: %s", error)
        try:
            hubspot = HubSpotConnector(integration=integration)
            page = hubspot.search(object_type="contacts", limit=1)
            out["hubspot_contacts"] = int(page.total or 0)
            if list_id:
                out["list"] = hubspot_list_get(integration=integration, list_id=list_id)
        except ConnectorError as error:
            log.warning("first sync preview: counting HubSpot contacts failed: %s", error)
        return out

    preview = cached_remote_read(
        integration,
        f"first-sync:preview:{list_id}",
        read,
        keep=lambda p: None not in (p["leads"], p["hubspot_contacts"]),
    )
    return {
        **preview,
        "list_id": list_id,
        "settings": settings,
        "others_on": sorted(pairs_switched_on(integration=integration) - {"contacts"}),
    }


def ticket_sync_preview(*, integration: Integration) -> dict:
    """What the first ticket cycle will do (one composite Salesforce call, one HubSpot
    search), kept for ``REMOTE_READ_TTL`` per association choice (a preview whose HubSpot
    count failed is not kept)."""
    from .connectors.hubspot import HubSpotConnector
    from .connectors.salesforce import SalesforceConnector
    from .sync.tickets import sync_preview

    settings = _ticket_settings(integration)
    key = (
        f"tickets:preview:{int(settings.sync_account_association)}"
        f"{int(settings.sync_contact_association)}"
    )
    return cached_remote_read(
        integration,
        key,
        lambda: sync_preview(
            integration,
            SalesforceConnector(integration=integration),
            HubSpotConnector(integration=integration),
            settings,
        ),
        # HubSpot didn't answer its count: ask again next time.
        keep=lambda preview: preview.get("hubspot_tickets") is not None,
    )


# --- custom objects
def custom_objects_list(*, integration: Integration) -> list[dict]:
    """The synced custom objects, in the order they were added: ``object`` (``custom:<n>``),
    ``number``, ``enabled``, ``settings`` and their ``mappings`` count (2 queries)."""
    from .object_settings import CUSTOM_PREFIX, settings_for

    rows = ObjectSync.objects.filter(integration=integration, object__startswith=CUSTOM_PREFIX)
    counts = dict(
        FieldMapping.objects.filter(integration=integration, object__startswith=CUSTOM_PREFIX)
        .values("object")
        .annotate(n=Count("id"))
        .values_list("object", "n")
    )
    found = []
    for row in rows:
        number = row.object[len(CUSTOM_PREFIX) :]
        if not number.isdigit():
            continue
        found.append(
            {
                "object": row.object,
                "number": int(number),
                "enabled": row.enabled,
                "settings": settings_for(row.object, row.options),
                "mappings": counts.get(row.object, 0),
            }
        )
    return sorted(found, key=lambda r: r["number"])


VIEW_ERRORS_CHUNK = 1000  # errors read (with their record links) at a time
NOT_IN_LISTS = "activities"  # engagements: a HubSpot list can't hold them


def error_view_possible(*, integration: Integration, error_type: str) -> bool | None:
    """Whether a *Create view* of the type has records to list: True when some of its current
    errors aren't activities', False when all are, None when it has none (1 query)."""
    errors = sync_errors_query(integration=integration, error_type=error_type)
    listable = errors.exclude(object=NOT_IN_LISTS)
    # The newest error, if any, carrying whether any error isn't an activity's.
    found = errors.annotate(listable=Exists(listable)).values_list("listable", flat=True)
    return found.first()


@dataclass
class ErrorViewRecords:
    """The records a *Create view* of an error type lists, and those no list can hold."""

    groups: dict[str, list[str]]  # HubSpot object type id -> HubSpot ids (each once)
    not_in_hubspot: int = 0  # records without a HubSpot id yet (Salesforce-only so far)
    activities: int = 0  # engagements: a list can't hold them


def error_view_records(*, integration: Integration, error_type: str) -> ErrorViewRecords:
    """The HubSpot records with a current error of the type, by HubSpot object type (errors
    read 1,000 at a time with their record links)."""
    from .services import HUBSPOT_OBJECT_TYPE_IDS

    by_name = {name: type_id for type_id, name in HUBSPOT_OBJECT_TYPE_IDS.items()}
    errors = sync_errors_query(integration=integration, error_type=error_type)
    names = set(errors.order_by().values_list("object", flat=True).distinct())
    objects = hubspot_objects(integration=integration, object_names=names)
    result = ErrorViewRecords(groups={})
    groups: dict[str, dict[str, None]] = {}

    def place(chunk: list[SyncError]) -> None:
        links = record_links_for_errors(integration=integration, errors=chunk)
        for error in chunk:
            if error.object == NOT_IN_LISTS:
                result.activities += 1
                continue
            row = ErrorRow(error=error, link=links.get(error.pk), hubspot_objects=objects)
            hubspot_object, hubspot_id = row.hubspot_object, row.hubspot_id
            type_id = by_name.get(hubspot_object) or (
                hubspot_object if re.fullmatch(r"2-\d+", hubspot_object or "") else ""
            )
            if not type_id or not hubspot_id:
                result.not_in_hubspot += 1
                continue
            groups.setdefault(type_id, {})[hubspot_id] = None

    chunk: list[SyncError] = []
    for error in errors.iterator(chunk_size=VIEW_ERRORS_CHUNK):
        chunk.append(error)
        if len(chunk) == VIEW_ERRORS_CHUNK:
            place(chunk)
            chunk = []
    if chunk:
        place(chunk)
    result.groups = {type_id: list(ids) for type_id, ids in groups.items()}
    return result


# --- finding a record (Sync health: "Find a record") ------------------------------------------
RECORD_QUERY_MAX = 254  # the longest email address; a longer query can't be one of ours
# Loose on purpose: the records an admin most needs to find are those whose email is broken
# ("a@@b.example"); anything with an "@" and no spaces is looked up as an email.
_EMAIL = re.compile(r"[^\s]*@[^\s]*")
_SALESFORCE_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_SALESFORCE_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id_suffix(core: str) -> str:
    """The 3 characters an 18-character Salesforce id adds to its 15-character core: each
    tells which of 5 of the core's characters are capitals (so the id survives a lost case)."""
    return "".join(
        _SALESFORCE_SUFFIX[
            sum(1 << i for i, char in enumerate(core[start : start + 5]) if "A" <= char <= "Z")
        ]
        for start in (0, 5, 10)
    )


def salesforce_id_forms(value: str) -> set[str]:
    """The ids a typed Salesforce id stands for: its 15- and 18-character forms (the ids are
    case-sensitive), and for an 18-character id whose case was lost (a spreadsheet, say), those
    of the core its suffix restores."""
    cores = {value[:15]}
    suffix = value[15:18].upper()
    if len(value) == 18 and all(char in _SALESFORCE_SUFFIX for char in suffix):
        flags = [_SALESFORCE_SUFFIX.index(char) for char in suffix]
        cores.add(
            "".join(
                char.upper() if flags[i // 5] >> (i % 5) & 1 else char.lower()
                for i, char in enumerate(value[:15])
            )
        )
    return {value} | {form for core in cores for form in (core, core + salesforce_id_suffix(core))}


def record_query_kinds(query: str) -> tuple[str, ...]:
    """What a "Find a record" query can be: ``email``, ``hubspot`` (a record id: digits) and/or
    ``salesforce`` (15 or 18 letters and digits; an all-digit one may be either id); none for
    anything else."""
    if not query or len(query) > RECORD_QUERY_MAX:
        return ()
    if "@" in query:
        return ("email",) if _EMAIL.fullmatch(query) else ()
    kinds = []
    if query.isascii() and query.isdigit() and len(query) <= 30:
        kinds.append("hubspot")
    if _SALESFORCE_ID.fullmatch(query):
        kinds.append("salesforce")
    return tuple(kinds)


@dataclass
class RecordMatch:
    """One record a search found: where its page is, its name and ids, whether it is linked
    and how many current errors it has."""

    object: str
    record_key: str  # with ``object``, the record page's address
    label: str = ""
    hubspot_id: str = ""
    salesforce_id: str = ""
    salesforce_type: str = ""
    linked: bool = False
    current_errors: int = 0


@dataclass
class RecordSearch:
    query: str
    kinds: tuple[str, ...]  # how the query was read; empty: not an email or an id
    matches: list[RecordMatch]
    more: bool = False  # more records matched than the limit

    @property
    def understood(self) -> bool:
        return bool(self.kinds)


def records_find(*, integration: Integration, query: str, limit: int = 20) -> RecordSearch:
    """The synced records (links) and the records with sync errors (current or past) that an
    email address, a HubSpot record id or a Salesforce id names, links first; a record's errors
    count with its link (2 queries, none when the query is neither; the database only)."""
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Lower

    from .sync.activities import KINDS as ACTIVITY_KINDS

    query = (query or "").strip()
    kinds = record_query_kinds(query)
    if not kinds:
        return RecordSearch(query=query[:RECORD_QUERY_MAX], kinds=(), matches=[])
    link_condition, error_condition = Q(), Q()
    if "email" in kinds:
        email = query.lower()
        link_condition |= Q(object=SyncObject.CONTACTS, found_email=email)
        # A person's error names them "Name <email>", or by the email alone.
        error_condition |= Q(record_label__iexact=query) | Q(record_label__iendswith=f"<{query}>")
    if "hubspot" in kinds:
        # An engagement's link and error key name its type too ("calls:77").
        ids = [query, *(f"{kind}:{query}" for kind in ACTIVITY_KINDS)]
        link_condition |= Q(hubspot_id__in=ids)
        error_condition |= Q(record_key__in=[f"hubspot:{i}" for i in ids]) | Q(hubspot_id=query)
    if "salesforce" in kinds:
        forms = sorted(salesforce_id_forms(query))
        link_condition |= Q(salesforce_id__in=forms)
        error_condition |= Q(record_key__in=[f"salesforce:{f}" for f in forms]) | Q(
            salesforce_id__in=forms
        )
    links_query = RecordLink.objects.filter(integration_id=integration.pk)
    if "email" in kinds:
        links_query = links_query.annotate(found_email=Lower(KeyTextTransform("email", "snapshot")))
    links = list(links_query.filter(link_condition).order_by("-last_synced_at", "-id")[: limit + 1])
    groups = list(
        SyncError.objects.filter(error_condition, integration_id=integration.pk)
        .values("object", "record_key")
        .annotate(
            current=Count("id", filter=Q(resolved_at__isnull=True)),
            label=Max("record_label"),
            error_hubspot_id=Max("hubspot_id"),
            error_salesforce_id=Max("salesforce_id"),
            error_salesforce_type=Max("salesforce_type"),
            seen=Max("last_seen_at"),
        )
        .order_by("-seen", "object", "record_key")[: limit + 1]
    )
    matches: list[RecordMatch] = []
    by_key: dict[tuple[str, str], RecordMatch] = {}
    for link in links[:limit]:
        match = RecordMatch(
            object=link.object,
            record_key=f"hubspot:{link.hubspot_id}",
            label=_synced_label(link.snapshot or {}),
            hubspot_id=link.hubspot_id,
            salesforce_id=link.salesforce_id,
            salesforce_type=link.salesforce_type,
            linked=True,
        )
        matches.append(match)
        by_key[(link.object, f"hubspot:{link.hubspot_id}")] = match
        by_key[(link.object, f"salesforce:{link.salesforce_id}")] = match
    for group in groups[:limit]:
        match = by_key.get((group["object"], group["record_key"]))
        if match is None:
            match = RecordMatch(
                object=group["object"],
                record_key=group["record_key"],
                hubspot_id=group["error_hubspot_id"],
                salesforce_id=group["error_salesforce_id"],
                salesforce_type=group["error_salesforce_type"],
            )
            matches.append(match)
            by_key[(group["object"], group["record_key"])] = match
        match.current_errors += group["current"]
        # The record page's name: an error's label first, then the name it synced under.
        match.label = group["label"] or match.label
    for match in matches:
        match.label = match.label or match.record_key
    more = len(links) > limit or len(groups) > limit or len(matches) > limit
    return RecordSearch(query=query, kinds=kinds, matches=matches[:limit], more=more)
