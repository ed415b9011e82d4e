"""Header actions: Sync now and Clear suspension."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sync_engine.budget import budget_remaining
from sync_engine.models import Integration, System
from sync_engine.object_settings import SETTINGS_CLASSES
from sync_engine.selectors import pairs_switched_on
from sync_engine.services import audit_event_record, integration_set_state
from sync_engine.tasks import sync_pairs

from ..roles import admin_required
from ..status import object_labels
from .common import current_integration, forget_integration

logger = logging.getLogger(__name__)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)


def syncable_objects(integration: Integration) -> list[str]:
    """The pairs switched on, custom objects included (after the standard ones, as a cycle
    runs them; 1 query)."""
    on = pairs_switched_on(integration=integration)
    standard = [name for name in SETTINGS_CLASSES if name in on]
    return standard + sorted(on - set(standard), key=lambda name: (len(name), name))


def enqueue_sync(*, integration: Integration, objects: list[str], trigger: str = "manual") -> None:
    """Start one cycle over the objects on a worker (in dependency order, sharing one change
    probe), once the transaction commits."""
    transaction.on_commit(
        lambda: sync_pairs.delay(
            integration_id=integration.pk, object_names=list(objects), trigger=trigger
        )
    )


@login_required
@require_POST
@admin_required
def sync_now(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is not None and integration.state == Integration.State.SUSPENDED:
        messages.error(
            request,
            _(
                "Syncing is suspended (see the status bar), so nothing can sync: mend its "
                "cause, then clear the suspension."
            ),
        )
        return _back(request)
    # Paused: the cycle looks again, and ends the pause if calls freed up.
    can_sync = (Integration.State.CONNECTED, Integration.State.PAUSED)
    if integration is None or integration.state not in can_sync:
        messages.error(request, _("The integration isn't connected, so nothing can sync."))
        return _back(request)
    remaining = budget_remaining(integration=integration, system=System.SALESFORCE)
    if integration.state == Integration.State.PAUSED and remaining is not None and remaining <= 0:
        messages.info(
            request,
            _(
                "The API call allocation is still used up: syncing resumes as the 24-hour "
                "window frees calls, or at once when you raise the allocation on Sync health."
            ),
        )
        return _back(request)
    if not integration.sync_enabled:
        messages.error(
            request, _("Sync is off, so nothing syncs. Turn it back on on the Connection page.")
        )
        return _back(request)
    objects = syncable_objects(integration)
    with transaction.atomic():
        enqueue_sync(integration=integration, objects=objects)
        if objects:
            audit_event_record(
                action="sync.requested",
                integration=integration,
                actor=request.user,
                details={"objects": objects, "trigger": "manual"},
            )
    if not objects:
        messages.info(request, _("Every object's sync is switched off."))
    else:
        labels = object_labels(integration, objects)
        names = ", ".join(labels[o] for o in objects)
        messages.success(request, _("Sync started for %(objects)s.") % {"objects": names})
    return _back(request)


@login_required
@require_POST
@admin_required
def clear_suspension(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is not None and integration.state == Integration.State.SUSPENDED:
        integration_set_state(
            integration=integration, state=Integration.State.CONNECTED, actor=request.user
        )
        forget_integration(request)
        messages.success(request, _("Suspension cleared: syncing resumes on the next cycle."))
    return _back(request)
