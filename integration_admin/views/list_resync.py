"""*Resync a list* on the Contacts and Companies tabs (spec §5.2: "resyncing a whole list or
segment"; §8.2: how a new mapping is backfilled): an admin picks a HubSpot list, is told how
many records sync again and about what that costs, confirms, and a worker reads its members
and queues them (a big list takes hundreds of HubSpot calls): the card polls how far it got."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from sync_engine.errors import ConnectorError
from sync_engine.imports import job_stalled
from sync_engine.models import MAX_ROW_ID, ListResyncJob
from sync_engine.selectors import (
    LIST_RESYNC_OBJECT_TYPES,
    hubspot_resync_lists,
    list_resync_job_get,
    list_resync_jobs_shown,
)
from sync_engine.services import list_resync_outcome, list_resync_preview, list_resync_request

from ..roles import admin_required
from ..sync_answers import (
    inclusion_list_chosen,
    list_resync_answer,
    list_resync_confirmation,
    list_resync_percent,
)
from .common import current_integration
from .imports import POLL_SECONDS
from .objects import settings_context, tab_of, tab_page

logger = logging.getLogger(__name__)


def _job_item(integration, job: ListResyncJob) -> dict:
    """One list resync as its card shows it; polled while a worker reads the list."""
    stalled = job_stalled(job)
    return {
        "job": job,
        "message": list_resync_answer(integration, list_resync_outcome(job)),
        "percent": list_resync_percent(job),
        "stalled": stalled,
        "polling": job.is_active and not stalled,
    }


def _card(request: HttpRequest, integration, object_name: str, extra: dict) -> HttpResponse:
    """The card (with htmx) or its tab with the card in it: the lists to pick from (one
    HubSpot call, kept a few minutes per search) and what ``extra`` says."""
    search = request.GET.get("q", "").strip()[:100]
    status = extra.pop("status", 200)
    context = {
        "object_name": object_name,
        "resync_loaded": True,
        "resync_search": search,
        "resync_lists": [],
        "resync_jobs": [
            _job_item(integration, job)
            for job in list_resync_jobs_shown(integration=integration, object_name=object_name)
        ],
        "poll_seconds": POLL_SECONDS,
        **extra,
    }
    if "resync_preview" not in extra:
        try:
            context["resync_lists"] = hubspot_resync_lists(
                integration=integration, object_name=object_name, search=search
            )
        except (ConnectorError, ValueError) as error:
            logger.warning("reading HubSpot lists failed: %s", error)
            context["resync_failure"] = str(getattr(error, "message", error))
    if request.htmx:
        return render(request, "integration_admin/objects/list_resync.html", context)
    tab = tab_of(object_name)
    context.update(
        {"active_tab": tab.slug, "tab": tab, **settings_context(request, integration, object_name)}
    )
    return tab_page(request, integration, object_name, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@admin_required
def list_resync(request: HttpRequest, object_name: str) -> HttpResponse:
    """GET: the card with HubSpot's lists of the pair's records (searched by ``q``) and its
    list resyncs. POST ``list_id``: the confirmation (one HubSpot call); with ``confirm``: the
    job that reads and queues the members on a worker (audit-logged), then the card shows
    its progress (the tab says it started, without htmx)."""
    if object_name not in LIST_RESYNC_OBJECT_TYPES:
        raise Http404
    integration = current_integration(request)
    if integration is None:
        raise Http404
    if request.method == "GET":
        return _card(request, integration, object_name, {})
    list_id = request.POST.get("list_id", "").strip()[:40]
    if not request.POST.get("confirm"):
        outcome = list_resync_preview(
            integration=integration, object_name=object_name, list_id=list_id
        )
        if outcome.ok:
            confirm = list_resync_confirmation(
                outcome, inclusion_list_chosen(integration, object_name)
            )
            return _card(
                request,
                integration,
                object_name,
                {"resync_preview": outcome, "resync_confirm": confirm},
            )
    else:
        outcome = list_resync_request(
            integration=integration, object_name=object_name, list_id=list_id, actor=request.user
        )
        if outcome.ok:  # the card shows the job, polled while it runs
            if request.htmx:
                return _card(request, integration, object_name, {})
            messages.success(request, list_resync_answer(integration, outcome))
            return redirect(reverse(object_name) + "#list-resync")
    extra = {"resync_error": list_resync_answer(integration, outcome)}
    extra["resync_selected"] = outcome.list_id
    # (htmx swaps in only a 2xx answer: the card says it was refused.)
    status = 200 if request.htmx else 400
    return _card(request, integration, object_name, {**extra, "status": status})


@login_required
@require_http_methods(["GET"])
@admin_required
def list_resync_job(request: HttpRequest, object_name: str, job_id: int) -> HttpResponse:
    """One list resync's line on the card (htmx polls it while a worker reads the list)."""
    integration = current_integration(request)
    found = integration is not None and job_id <= MAX_ROW_ID
    job = list_resync_job_get(integration=integration, job_id=job_id) if found else None
    if job is None or job.object != object_name:
        raise Http404
    context = {
        "object_name": object_name,
        "resync_jobs": [_job_item(integration, job)],
        "poll_seconds": POLL_SECONDS,
        "job_only": True,
    }
    return render(request, "integration_admin/objects/list_resync.html", context)
