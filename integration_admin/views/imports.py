"""Import from Salesforce (spec §16): pick an object, start the import, watch its progress bar
(an htmx partial polled every second until the import ends) and read the summary.

One active campaign's members can be imported too (spec §17): the page loads Salesforce's
active campaigns once it is shown (``?campaigns=1``, one SOQL query, kept for a few minutes
so reloads don't spend the API allocation), so showing the page itself and its polls never
wait on Salesforce."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from sync_engine.errors import ConnectorError
from sync_engine.imports import (
    CAMPAIGNS_LISTED,
    PAIR_OFF,
    SKIP_REASONS,
    ImportRefused,
    active_campaigns,
    import_cancel,
    import_job_get,
    import_jobs_list,
    import_progress,
    import_resume,
    import_start,
    import_targets,
    job_stalled,
)
from sync_engine.models import ImportJob, row_id
from sync_engine.object_settings import CUSTOM_PREFIX

from ..labels import custom_labels, engine_message, job_label, target_label
from ..roles import admin_required, user_is_admin
from ..status import ObjectNames
from .common import current_integration, not_connected

logger = logging.getLogger(__name__)

TARGET_HELP = {
    "leads": gettext_lazy("Unconverted leads become HubSpot contacts, matched by email."),
    "contacts": gettext_lazy("Contacts become HubSpot contacts, matched by email."),
    "accounts": gettext_lazy("Accounts become companies. Needs company sync on."),
    "opportunities": gettext_lazy(
        "Opportunities become deals. Needs deal sync on; import accounts first."
    ),
    "cases": gettext_lazy("Cases become tickets. Needs ticket sync on."),
    "tasks": gettext_lazy("Tasks become activities on their contacts. Needs activity sync on."),
    "events": gettext_lazy(
        "Events become meetings on their contacts. Needs “Salesforce meetings (events)” on the "
        "Activities tab."
    ),
}
STATUS_LABELS = {
    ImportJob.Status.QUEUED: gettext_lazy("Import queued"),
    ImportJob.Status.RUNNING: gettext_lazy("Import running"),
    ImportJob.Status.SUCCEEDED: gettext_lazy("Import finished"),
    ImportJob.Status.FAILED: gettext_lazy("Import failed"),
    ImportJob.Status.CANCELLED: gettext_lazy("Import cancelled"),
}
POLL_SECONDS = 1


def history_context(integration, custom: dict[str, dict[str, str]]) -> dict:
    return {
        "jobs": [
            {
                "job": j,
                "label": job_label(j, custom),
                "status_label": STATUS_LABELS[j.status],
            }
            for j in import_jobs_list(integration=integration)
        ]
    }


def progress_context(
    request: HttpRequest, job: ImportJob, custom: dict[str, dict[str, str]] | None = None
) -> dict:
    """The progress card; ``custom`` is :func:`custom_labels`, read here only when the job
    imports a custom object (the card is polled every second)."""
    if custom is None:
        custom = custom_labels(job.integration) if job.object.startswith(CUSTOM_PREFIX) else {}
    progress = import_progress(job)
    label = job_label(job, custom)
    # Only a custom object's import names a pair by the integration's words.
    names = ObjectNames(job.integration) if job.object.startswith(CUSTOM_PREFIX) else None
    return {
        "job": job,
        "progress": progress,
        "label": label,
        "message": engine_message(job.message, names=names, label=label),
        "status_label": STATUS_LABELS.get(job.status, job.status),
        "reasons": [(SKIP_REASONS.get(k, k), v) for k, v in progress["reasons"]],
        "poll_seconds": POLL_SECONDS,
        "is_admin": user_is_admin(request.user),
        "stalled": job_stalled(job),
    }


def campaigns_context(integration, contacts_enabled: bool) -> dict:
    """The campaign choices: Salesforce's active campaigns (one SOQL query, or none while a
    recent read is kept), or why they couldn't be read."""
    campaigns, failure = [], ""
    try:
        campaigns = active_campaigns(integration=integration)
    except ConnectorError as error:
        logger.warning("reading Salesforce campaigns failed: %s", error)
        failure = str(getattr(error, "message", "") or error)
    return {
        "campaigns_loaded": True,
        "campaigns": campaigns[:CAMPAIGNS_LISTED],
        "campaigns_failure": failure,
        "campaigns_truncated": len(campaigns) > CAMPAIGNS_LISTED,
        "campaigns_limit": CAMPAIGNS_LISTED,
        "campaigns_pair_enabled": contacts_enabled,
        "campaigns_pair_off": PAIR_OFF["contacts"],
    }


@login_required
def imports_page(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, "")
    available = import_targets(integration=integration)
    contacts_enabled = next(t["pair_enabled"] for t in available if t["target"].pair == "contacts")
    selected = request.GET.get("object") or "leads"
    if request.GET.get("campaigns"):
        campaigns = campaigns_context(integration, contacts_enabled)
        if getattr(request, "htmx", False):  # the page's campaign choices, loaded once shown
            context = {**campaigns, "selected": selected}
            return render(request, "integration_admin/imports/campaigns.html", context)
    else:
        campaigns = {"campaigns_loaded": False}
    custom = custom_labels(integration)
    targets = [
        {
            "key": t["target"].key,
            "label": target_label(t["target"].key, custom),
            "help": TARGET_HELP.get(t["target"].key)
            or custom.get(t["target"].key, {}).get("help", ""),
            "pair_enabled": not t["off"],
            "pair_off": t["off"],  # why nothing would be imported
        }
        for t in available
    ]
    history = history_context(integration, custom)
    current = None
    job_id = row_id(request.GET.get("job", ""))
    if job_id is not None:
        current = import_job_get(integration=integration, job_id=job_id)
    if current is None:
        current = next((row["job"] for row in history["jobs"] if row["job"].is_active), None)
    context = {
        "active_tab": "",
        "targets": targets,
        **campaigns,
        **history,
        "selected": selected,
    }
    if current is not None:
        context.update(progress_context(request, current, custom))
    return render(request, "integration_admin/imports/page.html", context)


@login_required
def import_progress_partial(request: HttpRequest, job_id: int) -> HttpResponse:
    integration = current_integration(request)
    job = import_job_get(integration=integration, job_id=job_id) if integration else None
    if job is None:
        raise Http404
    if job.is_active:
        context = progress_context(request, job)
    else:  # the last poll: the history below shows the import's outcome too, and the flash
        # ("Import of … started.", "… resumed …") gives way to the card's own outcome
        context = {**progress_with_history(request, job), "flash_oob": True}
    return render(request, "integration_admin/imports/progress.html", context)


def progress_with_history(request: HttpRequest, job: ImportJob) -> dict:
    """The progress card with the history table swapped in beside it (out of band)."""
    custom = custom_labels(job.integration)
    context = progress_context(request, job, custom)
    context.update(history_context(job.integration, custom), history_oob=True)
    return context


def _answer(request: HttpRequest, job: ImportJob | None) -> HttpResponse:
    """htmx: the progress card (and the flash); otherwise back to the page."""
    if getattr(request, "htmx", False) and job is not None:
        context = {**progress_with_history(request, job), "flash_oob": True}
        return render(request, "integration_admin/imports/progress.html", context)
    url = reverse("imports")
    # The card is below the start form: the browser scrolls to it.
    return redirect(f"{url}?job={job.pk}#import-progress" if job is not None else url)


@login_required
@require_POST
@admin_required
def import_start_view(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        return redirect("imports")
    object_name = request.POST.get("object", "")
    try:
        job = import_start(integration=integration, object_name=object_name, actor=request.user)
    except ImportRefused as error:
        text = _("The import can't start: %(reason)s") % {"reason": engine_message(str(error))}
        if getattr(request, "htmx", False):
            response = render(
                request,
                "integration_admin/partials/flash.html",
                {"flash_messages": [("error", text)]},
            )
            response["HX-Retarget"] = "#flash"
            response["HX-Reswap"] = "innerHTML"
            return response
        messages.error(request, text)
        return redirect("imports")
    custom = custom_labels(integration) if job.object.startswith(CUSTOM_PREFIX) else {}
    messages.success(
        request, _("Import of %(object)s started.") % {"object": job_label(job, custom)}
    )
    return _answer(request, job)


@login_required
@require_POST
@admin_required
def import_cancel_view(request: HttpRequest, job_id: int) -> HttpResponse:
    integration = current_integration(request)
    job = import_job_get(integration=integration, job_id=job_id) if integration else None
    if job is None:
        raise Http404
    if import_cancel(job=job, actor=request.user):
        messages.info(request, _("Import cancelled. What it imported so far stays."))
    return _answer(request, job)


@login_required
@require_POST
@admin_required
def import_resume_view(request: HttpRequest, job_id: int) -> HttpResponse:
    integration = current_integration(request)
    job = import_job_get(integration=integration, job_id=job_id) if integration else None
    if job is None:
        raise Http404
    try:
        job = import_resume(job=job, actor=request.user)
        messages.success(request, _("Import resumed after the last record it imported."))
    except ImportRefused as error:
        messages.error(request, engine_message(str(error)))
    return _answer(request, job)
