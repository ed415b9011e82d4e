"""Reads for the dashboard, the API and the engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone

from .models import (
    ApiCall,
    AuditEvent,
    HubSpotConnection,
    Integration,
    SalesforceConnection,
    System,
)

DAY = timedelta(hours=24)


def integration_get_default() -> Integration | None:
    """The installation's integration, with both connections loaded, or None before connect."""
    return (
        Integration.objects.select_related("salesforce_connection", "hubspot_connection")
        .order_by("id")
        .first()
    )


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
