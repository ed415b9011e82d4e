"""Header actions: Sync now and Clear suspension."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sync_engine.models import Integration
from sync_engine.services import (
    SYNC_NOW_ALLOCATION_USED,
    SYNC_NOW_NOT_CONNECTED,
    SYNC_NOW_SUSPENDED,
    SYNC_NOW_SYNC_OFF,
    integration_set_state,
    integration_sync_now,
)

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


# Why Sync now started nothing, as the header's message says it.
REFUSED = {
    SYNC_NOW_SUSPENDED: (
        messages.error,
        gettext_lazy(
            "Syncing is suspended (see the status bar), so nothing can sync: mend its "
            "cause, then clear the suspension."
        ),
    ),
    SYNC_NOW_NOT_CONNECTED: (
        messages.error,
        gettext_lazy("The integration isn't connected, so nothing can sync."),
    ),
    SYNC_NOW_ALLOCATION_USED: (
        messages.info,
        gettext_lazy(
            "The API call allocation is still used up: syncing resumes as the 24-hour "
            "window frees calls, or at once when you raise the allocation on Sync health."
        ),
    ),
    SYNC_NOW_SYNC_OFF: (
        messages.error,
        gettext_lazy("Sync is off, so nothing syncs. Turn it back on on the Connection page."),
    ),
}


@login_required
@require_POST
@admin_required
def sync_now(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        say, text = REFUSED[SYNC_NOW_NOT_CONNECTED]
        say(request, str(text))
        return _back(request)
    started = integration_sync_now(integration=integration, actor=request.user)
    if started.refused:
        say, text = REFUSED[started.refused]
        say(request, str(text))
    elif not started.objects:
        messages.info(request, _("Every object's sync is switched off."))
    else:
        labels = object_labels(integration, started.objects)
        names = ", ".join(labels[o] for o in started.objects)
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
