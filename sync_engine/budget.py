"""The Salesforce API budget: never spend past "Allocated to HubSpot" in any rolling 24 hours.

Connectors call :func:`budget_reserve` before each request. It writes the ledger row first
and then counts, so concurrent workers can only err on the safe side: two workers racing for
the last call may both see it taken and both stop, but never both spend it. Reservations must
be committed to be seen by other workers: don't call a connector inside ``transaction.atomic``.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import timedelta

from django.utils import timezone

from .errors import BudgetExhausted
from .models import ApiCall, Integration, System

BUDGET_WINDOW = timedelta(hours=24)
# The sync run whose calls this thread makes now (set by ``cycle.sync_cycle_run``): each
# ledger row names it, so a run counts its own calls, not those of runs overlapping it.
current_run: ContextVar[int | None] = ContextVar("current_run", default=None)

# Why a cycle paused the integration (its ``state_reason``): the cause only; the dashboard
# words it for people and adds what to do.
ALLOCATION_USED = "The Salesforce API allocation is used up."
ORG_LIMIT = "The Salesforce org reached its daily API limit, which stops every integration."
# HubSpot's own daily allowance for the account (a 429 with ``policyName: DAILY``), shared with
# the account's other apps; it resets at midnight in the account's time zone.
HUBSPOT_DAILY_LIMIT = "The HubSpot account reached its daily API limit."


def paused_because(integration: Integration, reason: str) -> bool:
    """Paused for ``reason`` (``ALLOCATION_USED``, ``ORG_LIMIT``); rows paused by an older
    version say more after it."""
    return integration.state == Integration.State.PAUSED and integration.state_reason.startswith(
        reason
    )


def budget_allocation(*, integration: Integration, system: str) -> int | None:
    """The cap for ``system``, or None when that side has no allocation of ours."""
    if system != System.SALESFORCE:
        return None
    return (
        Integration.objects.filter(pk=integration.pk)
        .values_list("salesforce_api_allocation", flat=True)
        .first()
    )


def budget_used(*, integration: Integration, system: str) -> int:
    since = timezone.now() - BUDGET_WINDOW
    return ApiCall.objects.filter(
        integration_id=integration.pk, system=system, called_at__gt=since
    ).count()


def budget_remaining(*, integration: Integration, system: str) -> int | None:
    allocation = budget_allocation(integration=integration, system=system)
    if allocation is None:
        return None
    return max(0, allocation - budget_used(integration=integration, system=system))


def budget_check(integration: Integration, system: str) -> None:
    """Raise :class:`BudgetExhausted` if no call of ``system`` may be made now."""
    allocation = budget_allocation(integration=integration, system=system)
    if allocation is None:
        return
    used = budget_used(integration=integration, system=system)
    if used >= allocation:
        raise BudgetExhausted(system=system, used=used, allocation=allocation)


def budget_reserve(*, integration: Integration, system: str, operation: str) -> ApiCall:
    """Record a call about to be made, or raise :class:`BudgetExhausted` without recording it.

    The returned row is completed by the caller once the request answers.
    """
    call = ApiCall.objects.create(
        integration_id=integration.pk, system=system, operation=operation, run_id=current_run.get()
    )
    allocation = budget_allocation(integration=integration, system=system)
    if allocation is None:
        return call
    # Count every row in the window, including ones stamped after ours: of any two racing
    # reservations, the one that counts last sees both rows, so the winners never exceed the
    # allocation (a loser deletes its row; at worst both lose and the caller retries later).
    used = ApiCall.objects.filter(
        integration_id=integration.pk,
        system=system,
        called_at__gt=call.called_at - BUDGET_WINDOW,
    ).count()
    if used > allocation:
        call.delete()
        raise BudgetExhausted(system=system, used=used - 1, allocation=allocation)
    return call
