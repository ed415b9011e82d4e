"""Resync errors (selected, all of a type, or one record's), make a HubSpot view of a type's
records, and the per-record view."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from sync_engine.error_types import ERROR_TYPES
from sync_engine.errors import ConnectorError
from sync_engine.models import SyncObject, row_id
from sync_engine.object_settings import CUSTOM_PREFIX
from sync_engine.selectors import (
    RECORD_QUERY_MAX,
    deal_outside_synced_pipelines,
    integration_hubspot_connection,
    integration_salesforce_connection,
    pairs_switched_on,
    record_history,
    records_find,
    sync_errors_pairs,
    sync_waits_because,
)
from sync_engine.services import (
    ErrorViews,
    record_resync_with_errors,
    sync_errors_create_view,
    sync_errors_request_resync,
)

from ..links import hubspot_list_url
from ..roles import admin_required
from ..status import object_labels
from ..sync_answers import waits_message
from ..templatetags.humanize_numbers import thousands
from .common import current_integration, error_type_param, not_connected
from .health import _panel_context


def _resync(request: HttpRequest, integration, **kwargs) -> int | None:
    """Queue the errors; the service starts a cycle once this transaction commits. The errors
    of pairs switched off are queued too, for those pairs' first cycle once on: said here, and
    left out of the count returned (those that sync now; None when none do)."""
    pairs = sync_errors_pairs(integration=integration, **kwargs)
    on = pairs_switched_on(integration=integration)
    off = {name: n for name, n in pairs.items() if name not in on}
    with transaction.atomic():
        count = sync_errors_request_resync(integration=integration, actor=request.user, **kwargs)
    if off and integration.sync_enabled:  # with sync off everything waits, as said then
        labels = object_labels(integration, off)
        for name, waiting in sorted(off.items(), key=lambda item: labels[item[0]]):
            messages.info(
                request,
                ngettext(
                    "%(count)s error of %(pair)s waits: that sync is off. It is retried once "
                    "it is on.",
                    "%(count)s errors of %(pair)s wait: that sync is off. They are retried "
                    "once it is on.",
                    waiting,
                )
                % {"count": thousands(waiting), "pair": labels[name]},
            )
        return max(0, count - sum(off.values())) or None
    return count


def _queued_message(request: HttpRequest, count: int, integration) -> None:
    waits = waits_message(integration, sync_waits_because(integration=integration))
    if count and waits:
        messages.info(request, waits)
    elif count:
        messages.success(
            request,
            ngettext(
                "%(count)s error queued for a resync; the next sync cycle starts now.",
                "%(count)s errors queued for a resync; the next sync cycle starts now.",
                count,
            )
            % {"count": thousands(count)},
        )
    else:
        messages.info(request, _("No current errors matched, so nothing was queued."))


def _ids(request: HttpRequest) -> list[int]:
    return [i for value in request.POST.getlist("ids") if (i := row_id(value)) is not None]


@login_required
@require_POST
@admin_required
def errors_resync(request: HttpRequest) -> HttpResponse:
    """Resync the selected errors (``ids``) or, with ``scope=all``, every error of the type."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    error_type = error_type_param(request.POST.get("error_type", ""))
    if request.POST.get("scope") == "all":
        # All the panel shows: of the type, as searched (what "Resync all N?" counted).
        search = (request.POST.get("q") or "").strip()[:200]
        count = _resync(request, integration, error_type=error_type, search=search)
    else:
        ids = _ids(request)
        if not ids:
            messages.warning(request, _("Select the errors to resync first."))
            count = None
        else:
            count = _resync(request, integration, error_ids=ids, error_type=error_type)
    if count is not None:
        _queued_message(request, count, integration)
    if not request.htmx:
        target = reverse("error_panel", args=[error_type]) if error_type else reverse("sync_health")
        return redirect(target)
    context = _panel_context(request, integration, error_type or "other")
    return render(request, "integration_admin/partials/error_panel.html", context)


def _views_messages(request: HttpRequest, made: ErrorViews) -> None:
    for view in made.views:
        messages.success(
            request,
            ngettext(
                "Created the HubSpot view “%(name)s” with %(count)s record.",
                "Created the HubSpot view “%(name)s” with %(count)s records.",
                view.records,
            )
            % {"name": view.name, "count": thousands(view.records)},
        )
    left_out = made.missing or made.not_in_hubspot or made.activities
    if not made.views:
        if left_out:
            messages.warning(request, _("No HubSpot view was created."))
        else:
            messages.info(
                request,
                _("No current errors of this type, so there was nothing to put in a view."),
            )
    if made.missing:
        messages.warning(
            request,
            ngettext(
                "%(count)s record is no longer in HubSpot, so the view leaves it out.",
                "%(count)s records are no longer in HubSpot, so the view leaves them out.",
                made.missing,
            )
            % {"count": thousands(made.missing)},
        )
    if made.not_in_hubspot:
        messages.warning(
            request,
            ngettext(
                "%(count)s record was left out: it isn't in HubSpot yet, as its Salesforce "
                "record hasn't synced.",
                "%(count)s records were left out: they aren't in HubSpot yet, as their "
                "Salesforce records haven't synced.",
                made.not_in_hubspot,
            )
            % {"count": thousands(made.not_in_hubspot)},
        )
    if made.activities:
        messages.warning(
            request,
            ngettext(
                "%(count)s activity was left out: HubSpot lists can't hold activities.",
                "%(count)s activities were left out: HubSpot lists can't hold activities.",
                made.activities,
            )
            % {"count": thousands(made.activities)},
        )


@login_required
@require_POST
@admin_required
def errors_create_view(request: HttpRequest, error_type: str) -> HttpResponse:
    """*Create view*: a HubSpot list per object type of the records that have a current error
    of the type, linked from the panel (htmx) and named in the messages."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    error_type = error_type_param(error_type) or ""
    if error_type not in ERROR_TYPES:
        raise Http404
    created_views = []
    try:
        made = sync_errors_create_view(
            integration=integration, error_type=error_type, actor=request.user
        )
    except ConnectorError as error:
        messages.error(
            request, _("HubSpot didn't create the view: %(error)s") % {"error": error.message}
        )
    else:
        _views_messages(request, made)
        connection = integration_hubspot_connection(integration=integration)
        created_views = [
            {
                "name": view.name,
                "records": view.records,
                "url": hubspot_list_url(connection, view.list_id),
            }
            for view in made.views
        ]
    if not request.htmx:
        search = (request.POST.get("q") or "").strip()[:200]
        address = reverse("error_panel", args=[error_type])
        return redirect(address + (f"?{urlencode({'q': search})}" if search else ""))
    context = _panel_context(request, integration, error_type)  # searched as it was
    context["created_views"] = created_views
    return render(request, "integration_admin/partials/error_panel.html", context)


def _object_or_404(object_name: str) -> str:
    if object_name not in SyncObject.values and not object_name.startswith(CUSTOM_PREFIX):
        raise Http404
    return object_name


@login_required
def record_detail(request: HttpRequest, object_name: str, record_key: str) -> HttpResponse:
    """One record: its link, its current errors (with Resync) and its past errors."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    history = record_history(
        integration=integration, object_name=_object_or_404(object_name), record_key=record_key
    )
    if history.link is None and not history.current and not history.resolved:
        raise Http404
    opted_out = (
        deal_outside_synced_pipelines(integration=integration, deal_id=history.link.hubspot_id)
        if object_name == "deals" and history.link is not None
        else None
    )
    return render(
        request,
        "integration_admin/record.html",
        {
            "active_tab": "sync-health",
            "history": history,
            "unsynced_pipeline": opted_out,
            "object_label": object_labels(integration, [object_name])[object_name],
            # Its pair switched off: nothing syncs for it, and a Resync waits for the pair.
            "pair_off": object_name not in pairs_switched_on(integration=integration),
            "salesforce": integration_salesforce_connection(integration=integration),
            "hubspot": integration_hubspot_connection(integration=integration),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
@admin_required
def record_resync(request: HttpRequest, object_name: str, record_key: str) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        raise Http404
    history = record_history(
        integration=integration, object_name=_object_or_404(object_name), record_key=record_key
    )
    if history.link is None and not history.current and not history.resolved:
        raise Http404  # as on the record's page: nothing synced or failed under that key
    outcome = record_resync_with_errors(
        integration=integration, history=history, actor=request.user
    )
    waits = waits_message(integration, outcome.waits, object_name)
    if waits:
        messages.info(request, waits)
    else:
        messages.success(request, _("This record syncs again now."))
    return redirect("record_detail", object_name=object_name, record_key=record_key)


@login_required
@require_safe
def record_find(request: HttpRequest) -> HttpResponse:
    """*Find a record* (from Sync health): an email address, a HubSpot record id or a
    Salesforce id. One match goes to its record's page; several are listed; none says so.
    Read-only, for viewers too, and from the database alone (no CRM calls)."""
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, "sync-health")
    # Past RECORD_QUERY_MAX a query is no email or id: it reads as one we can't search for.
    query = request.GET.get("q", "")[: RECORD_QUERY_MAX + 100].strip()
    search = records_find(integration=integration, query=query) if query else None
    if search is not None and len(search.matches) == 1:
        match = search.matches[0]
        return redirect("record_detail", object_name=match.object, record_key=match.record_key)
    if search is not None:
        labels = object_labels(integration, {match.object for match in search.matches})
        for match in search.matches:
            match.object_label = labels[match.object]
    return render(
        request,
        "integration_admin/record_find.html",
        {
            "active_tab": "sync-health",
            "query": search.query if search is not None else "",
            "search": search,
        },
    )
