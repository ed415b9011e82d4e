"""The Companies tab's own action: sync one HubSpot company now (spec §9: the company record's
Sync creates its Salesforce account even when the automatic rules don't)."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sync_engine.errors import ConnectorError
from sync_engine.selectors import hubspot_company_name
from sync_engine.services import object_sync_get_or_create

from ..roles import admin_required
from .common import card_answer, current_integration, queue_record_sync, record_id_from

# A company's address in HubSpot: ``…/record/0-2/<id>`` (or the older ``…/company/<id>``).
COMPANY_ADDRESS = re.compile(r"/(?:record/0-2|company)/(\d{1,30})/?(?:[?#].*)?$")


def company_id_from(text: str) -> str | None:
    return record_id_from(text, COMPANY_ADDRESS)


@login_required
@require_POST
@admin_required
def company_sync(request: HttpRequest) -> HttpResponse:
    """Queue one company's sync."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    typed = request.POST.get("company_id", "")[:300]
    ok, answer = _company_sync(request, integration, typed)
    return card_answer(
        request, ok=ok, answer=answer, typed=typed, card="company_sync", tab="companies"
    )


def _company_sync(request: HttpRequest, integration, typed: str) -> tuple[bool, str]:
    """(queued, what to tell the admin)."""
    company_id = company_id_from(typed)
    if company_id is None:
        return False, _("Enter the HubSpot company's record id, or paste its address from HubSpot.")
    if not object_sync_get_or_create(integration=integration, object_name="companies").enabled:
        return False, _("Turn company sync on first.")
    return _queue(request, integration, company_id)


def _queue(request: HttpRequest, integration, company_id: str) -> tuple[bool, str]:
    """Queue the company's sync once HubSpot says it exists (a typo must not look queued)."""
    try:
        name = hubspot_company_name(integration=integration, company_id=company_id)
    except ConnectorError as error:
        return False, _("Couldn't reach HubSpot: %(error)s") % {"error": error}
    if name is None:
        return False, _("HubSpot has no company %(id)s.") % {"id": company_id}
    return queue_record_sync(
        request,
        integration,
        "companies",
        company_id,
        _("Company %(id)s syncs now; its Salesforce account is created if it has none.")
        % {"id": f"{name} ({company_id})" if name else company_id},
    )
