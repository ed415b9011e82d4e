"""The Companies tab's own action: sync one HubSpot company now (spec §9: the company record's
Sync creates its Salesforce account even when the automatic rules don't)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from sync_engine.services import company_sync_request

from ..roles import admin_required
from ..sync_answers import record_sync_answer
from .common import card_answer, current_integration


@login_required
@require_POST
@admin_required
def company_sync(request: HttpRequest) -> HttpResponse:
    """Queue one company's sync."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    typed = request.POST.get("company_id", "")[:300]
    outcome = company_sync_request(integration=integration, company=typed, actor=request.user)
    return card_answer(
        request,
        ok=outcome.ok,
        answer=record_sync_answer(integration, outcome),
        typed=typed,
        card="company_sync",
        tab="companies",
    )
