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
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from sync_engine.errors import ConnectorError
from sync_engine.models import MAX_ROW_ID, ListResyncJob
from sync_engine.selectors import (
    LIST_RESYNC_OBJECT_TYPES,
    hubspot_resync_lists,
    list_resync_job_get,
    list_resync_jobs_shown,
    list_resync_stalled,
    object_settings_get,
)
from sync_engine.services import (
    LIST_EMPTY,
    LIST_NOT_FOUND,
    LIST_OTHER_OBJECT,
    LIST_RESYNC_BROKE,
    LIST_RESYNC_MAX,
    LIST_RESYNC_RUNNING,
    LIST_TOO_LARGE,
    RECORD_PAIR_OFF,
    RECORD_UNAVAILABLE,
    ListResync,
    list_resync_outcome,
    list_resync_preview,
    list_resync_request,
)

from ..roles import admin_required
from ..sync_answers import waits_message
from ..templatetags.humanize_numbers import thousands
from .common import current_integration
from .imports import POLL_SECONDS
from .objects import _settings_context, _tab, _tab_page

logger = logging.getLogger(__name__)


def _list_name(outcome: ListResync) -> str:
    return outcome.name or outcome.list_id


def list_resync_confirmation(outcome: ListResync, inclusion_list: bool = False) -> str:
    """What the admin confirms: how many records sync again, what happens to them, and about
    what it costs in Salesforce calls."""
    values = {
        "count": thousands(outcome.members),
        "list": _list_name(outcome),
        "calls": thousands(outcome.salesforce_calls),
        "cycles": thousands(outcome.cycles),
    }
    if outcome.object_name == "companies":
        text = ngettext(
            "%(count)s company in %(list)s will be synced again: its mapped values are "
            "compared and written where the sync rules say, and it gets a Salesforce account "
            "if it has none.",
            "%(count)s companies in %(list)s will be synced again: their mapped values are "
            "compared and written where the sync rules say, and those without a Salesforce "
            "account get one.",
            outcome.members,
        )
    else:
        text = ngettext(
            "%(count)s contact in %(list)s will be synced again: its mapped values are "
            "compared and written where the sync rules say; if no Salesforce lead or contact "
            "has its email, the creation setting decides.",
            "%(count)s contacts in %(list)s will be synced again: their mapped values are "
            "compared and written where the sync rules say; for those whose email no "
            "Salesforce lead or contact has, the creation setting decides.",
            outcome.members,
        )
    cost = ngettext(
        "This costs about %(calls)s Salesforce calls, over %(cycles)s sync cycle.",
        "This costs about %(calls)s Salesforce calls, over %(cycles)s sync cycles.",
        outcome.cycles,
    )
    parts = [text % values, cost % values]
    if inclusion_list:
        parts.append(_("Contacts outside the inclusion list are skipped."))
    return " ".join(parts)


def list_resync_answer(integration, outcome: ListResync) -> str:
    """What *Resync a list* says of its job: waiting for a worker, how many it has queued so
    far, that its worker stopped, that all are queued; or why it queued nothing, or stopped."""
    name = _list_name(outcome)
    job = outcome.job
    if not outcome.ok:
        refused = _list_resync_refused(outcome, name)
        if job is not None and job.status == ListResyncJob.Status.FAILED and outcome.queued:
            kept = ngettext(
                "The %(count)s record queued before it stopped still syncs.",
                "The %(count)s records queued before it stopped still sync.",
                outcome.queued,
            ) % {"count": thousands(outcome.queued)}
            return f"{refused} {kept}"
        return refused
    values = {"count": thousands(outcome.queued), "total": thousands(outcome.members), "list": name}
    if job is not None and list_resync_stalled(job):
        return (
            _(
                "The worker reading %(list)s stopped answering after queueing %(count)s of "
                "%(total)s. Resume to go on after them."
            )
            % values
        )
    if job is not None and job.status == ListResyncJob.Status.QUEUED:
        return _("Waiting for a worker to read the members of %(list)s…") % values
    if job is not None and job.status == ListResyncJob.Status.RUNNING:
        return (
            ngettext(
                "Reading %(list)s: queued %(count)s of %(total)s company so far…",
                "Reading %(list)s: queued %(count)s of %(total)s companies so far…",
                outcome.members,
            )
            if outcome.object_name == "companies"
            else ngettext(
                "Reading %(list)s: queued %(count)s of %(total)s contact so far…",
                "Reading %(list)s: queued %(count)s of %(total)s contacts so far…",
                outcome.members,
            )
        ) % values
    queued = (
        ngettext(
            "Queued %(count)s company from %(list)s; it syncs over the next cycles.",
            "Queued %(count)s companies from %(list)s; they sync over the next cycles.",
            outcome.queued,
        )
        if outcome.object_name == "companies"
        else ngettext(
            "Queued %(count)s contact from %(list)s; it syncs over the next cycles.",
            "Queued %(count)s contacts from %(list)s; they sync over the next cycles.",
            outcome.queued,
        )
    ) % values
    waits = waits_message(integration, outcome.waits, outcome.object_name)
    return f"{queued} {waits}" if waits else queued


def _list_resync_refused(outcome: ListResync, name: str) -> str:
    """Why a list resync queued nothing, or stopped."""
    if outcome.refused == RECORD_UNAVAILABLE:
        return _("Couldn't reach HubSpot: %(error)s") % {"error": outcome.error}
    if outcome.refused == RECORD_PAIR_OFF:
        if outcome.object_name == "companies":
            return _("Turn company sync on first.")
        return _("Turn contact sync on first.")
    if outcome.refused == LIST_NOT_FOUND:
        return _("HubSpot has no list %(id)s.") % {"id": outcome.list_id}
    if outcome.refused == LIST_OTHER_OBJECT:
        if outcome.object_name == "companies":
            return _("HubSpot list %(list)s isn't a list of companies.") % {"list": name}
        return _("HubSpot list %(list)s isn't a contact list.") % {"list": name}
    if outcome.refused == LIST_EMPTY:
        return _("%(list)s has no members: there is nothing to resync.") % {"list": name}
    if outcome.refused == LIST_TOO_LARGE:
        return _(
            "%(list)s has %(count)s members, and a list resync takes at most %(max)s at once "
            "(as HubSpot's own bulk resync). Split it into smaller lists in HubSpot and resync "
            "each."
        ) % {
            "list": name,
            "count": thousands(outcome.members),
            "max": thousands(LIST_RESYNC_MAX),
        }
    if outcome.refused == LIST_RESYNC_RUNNING:
        return _(
            "%(list)s is already being resynced (%(count)s of %(total)s queued so far): wait "
            "for it to finish before resyncing it again."
        ) % {
            "list": name,
            "count": thousands(outcome.queued),
            "total": thousands(outcome.members),
        }
    if outcome.refused == LIST_RESYNC_BROKE:
        return _("The list resync stopped on an unexpected error: %(error)s") % {
            "error": outcome.error
        }
    raise ValueError(f"unknown refusal {outcome.refused!r}")


def list_resync_percent(job: ListResyncJob) -> int:
    """How far the card's bar is: members queued of HubSpot's count."""
    if job.status == ListResyncJob.Status.SUCCEEDED:
        return 100
    return min(100, job.queued * 100 // job.members) if job.members else 0


def _job_item(integration, job: ListResyncJob) -> dict:
    """One list resync as its card shows it; polled while a worker reads the list."""
    stalled = list_resync_stalled(job)
    return {
        "job": job,
        "message": list_resync_answer(integration, list_resync_outcome(job)),
        "percent": list_resync_percent(job),
        "stalled": stalled,
        "polling": job.is_active and not stalled,
    }


def inclusion_list_chosen(integration, object_name: str) -> bool:
    """Whether contacts outside an inclusion list are skipped (1 query)."""
    return object_name == "contacts" and bool(
        object_settings_get(integration=integration, object_name="contacts").inclusion_list_id
    )


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
    tab = _tab(object_name)
    context.update(
        {"active_tab": tab.slug, "tab": tab, **_settings_context(request, integration, object_name)}
    )
    return _tab_page(request, integration, object_name, context, status=status)


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
