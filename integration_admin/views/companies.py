"""The Companies tab's own action: sync one HubSpot company now (spec §9: the company record's
Sync creates its Salesforce account even when the automatic rules don't)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sync_engine.services import object_sync_get_or_create, record_resync

from ..roles import admin_required
from .common import current_integration


@login_required
@require_POST
@admin_required
def company_sync(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        raise Http404
    company_id = request.POST.get("company_id", "").strip()
    if not company_id.isdigit() or len(company_id) > 30:
        messages.error(request, _("Enter the HubSpot company's record id (digits only)."))
    elif not object_sync_get_or_create(integration=integration, object_name="companies").enabled:
        messages.error(request, _("Turn company sync on first."))
    else:
        with transaction.atomic():
            record_resync(
                integration=integration,
                object_name="companies",
                record_key=f"hubspot:{company_id}",
                actor=request.user,
            )
        messages.success(
            request,
            _("Company %(id)s syncs now; its Salesforce account is created if it has none.")
            % {"id": company_id},
        )
    return redirect("companies")
