"""The Sync health tab: API call use (with the allocation form, chart and forecast), the error
cards and their detail panel, the error export and the recent runs."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from sync_engine.error_types import ERROR_TYPES
from sync_engine.selectors import (
    RUN_OUTCOMES,
    api_calls_hourly,
    api_usage_forecast,
    error_view_possible,
    hubspot_list_names,
    inclusion_lists_missing,
    integration_api_usage,
    integration_hubspot_connection,
    integration_salesforce_connection,
    recent_runs_limit,
    sync_cadence,
    sync_error_cards,
    sync_errors_page,
    sync_errors_query,
    sync_run_pairs,
    sync_runs_page,
)
from sync_engine.services import integration_update_allocation
from sync_engine.sync.registry import is_pair

from ..charts import calls_chart
from ..exports import errors_csv_rows
from ..forms import AllocationForm, setting_value
from ..labels import RUN_FILTER_LABELS, engine_message, error_text
from ..roles import admin_required, user_is_admin
from ..status import object_labels
from ..templatetags.humanize_numbers import thousands
from .common import (
    current_integration,
    error_type_param,
    forget_integration,
    not_connected,
    page_number,
)

ERRORS_PER_PAGE = 25
UNCHANGED = gettext_lazy("Unchanged: that is the allocation already.")
# The runs card opens on about the last cycles (one row per pair that is on, per cycle);
# "Show older cycles" then adds this many runs at a time.
RECENT_CYCLES = 3
OLDER_RUNS_PER_PAGE = 50


def _usage_context(integration, form: AllocationForm | None = None) -> dict:
    """The API call use panel (the cadence takes one query: the allocation left is read here)."""
    usage = integration_api_usage(integration=integration)
    hourly = api_calls_hourly(integration=integration)
    cadence = sync_cadence(integration=integration, remaining=usage.remaining)
    return {
        "usage": usage,
        "chart": calls_chart(
            hourly, allocation=usage.allocation, totals=(usage.used, usage.hubspot_used)
        ),
        # At the pace the schedule keeps, so the forecast and the cadence tell one story.
        "forecast": api_usage_forecast(
            allocation=usage.allocation, used=usage.used, hourly=hourly, cadence=cadence
        ),
        "cadence": cadence,
        "allocation_form": form
        or AllocationForm(
            initial={"allocation": usage.allocation}, limit=integration.salesforce_api_limit
        ),
    }


def _panel_context(request: HttpRequest, integration, error_type: str) -> dict:
    """The right-hand panel of one error type (4 queries; a 5th names a custom object switched
    off)."""
    search = (request.GET.get("q") or request.POST.get("q") or "").strip()[:200]
    page = sync_errors_page(
        integration=integration,
        error_type=error_type,
        search=search,
        # After a Resync, the page it was asked from (its form says which).
        page=page_number(request.GET if request.method == "GET" else request.POST),
        per_page=ERRORS_PER_PAGE,
    )
    now = timezone.now()
    # Errors of a pair switched off wait for it: no cycle retries them, so they aren't shown
    # as queued (nor watched for ever), but as waiting for their pair.
    off = {row.error.object for row in page.rows if row.pair_off}
    labels = object_labels(integration, off) if off else {}
    for row in page.rows:
        row.pair_label = labels.get(row.error.object, "")
    # Create view (admins): a HubSpot list can't hold activities, so not for a type only
    # they have (the panel says why).
    view_possible = (
        error_view_possible(integration=integration, error_type=error_type)
        if user_is_admin(request.user)
        else None
    )
    return {
        "pending": any(
            row.error.next_retry_at and row.error.next_retry_at <= now and not row.pair_off
            for row in page.rows
        ),
        "panel_type": error_type,
        "panel_text": error_text(error_type),
        "view_possible": bool(view_possible),
        "view_activities_only": view_possible is False,
        "errors_page": page,
        "search": search,
        "salesforce": integration_salesforce_connection(integration=integration),
        "hubspot": integration_hubspot_connection(integration=integration),
        "now": now,
    }


def _runs_filters(request: HttpRequest) -> tuple[str, str, int | None]:
    """The run history's ``?object=`` (a pair), ``?status=`` (``RUN_OUTCOMES``) and
    ``?before=`` (the last run shown); anything else reads as "no filter"."""
    object_name = request.GET.get("object", "")[:60]
    outcome = request.GET.get("status", "")
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError:
        before = None
    return (
        object_name if is_pair(object_name) else "",
        outcome if outcome in RUN_OUTCOMES else "",
        before if before and before > 0 else None,
    )


def _runs_context(request: HttpRequest, integration, *, rows_only: bool = False) -> dict:
    """The runs card: the newest runs (about the last cycles, as ever) or those older than
    ``?before=``, of the filtered pair and status, and the next page's address (2 queries, a
    3rd for custom objects' names; the rows alone 1 fewer)."""
    object_name, outcome, before = _runs_filters(request)
    pairs = {} if rows_only else sync_run_pairs(integration=integration)
    if before is None and not rows_only:
        limit = recent_runs_limit(sum(pairs.values()), RECENT_CYCLES)
    else:
        limit = OLDER_RUNS_PER_PAGE
    page = sync_runs_page(
        integration=integration,
        object_name=object_name or None,
        outcome=outcome or None,
        before=before,
        limit=limit,
    )
    labels = object_labels(integration, set(pairs) | {run.object for run in page.runs})
    for run in page.runs:
        run.label = labels[run.object]
        run.note = engine_message(run.message)
    filters = {key: value for key, value in (("object", object_name), ("status", outcome)) if value}
    older = urlencode({**filters, "before": page.oldest_id}) if page.has_older else ""
    return {
        "runs": page.runs,
        "runs_page": page,
        "runs_object": object_name,
        "runs_status": outcome,
        "runs_filtered": bool(filters),
        "runs_before": before,
        "runs_newest_query": urlencode(filters),
        "runs_older_query": older,
        "run_objects": [(name, labels[name]) for name in pairs],
        "run_statuses": [(key, str(RUN_FILTER_LABELS[key])) for key in RUN_OUTCOMES],
    }


def _missing_list_names(integration) -> dict[str, str]:
    """The inclusion lists contacts and companies are held for, gone from HubSpot while still
    chosen, by the names noted when they were chosen (1 query, a 2nd then), else "". The runs
    say it too."""
    missing = inclusion_lists_missing(integration=integration)
    names = hubspot_list_names(integration=integration, list_ids=missing.values())

    def name(object_name: str) -> str:
        list_id = missing.get(object_name)
        return setting_value(object_name, "inclusion_list_id", list_id, names) if list_id else ""

    return {"missing_list": name("contacts"), "missing_company_list": name("companies")}


def _page_context(request: HttpRequest, integration, form: AllocationForm | None = None) -> dict:
    """The whole tab (``form``: the allocation form as posted, with its errors)."""
    return {
        "active_tab": "sync-health",
        "integration": integration,
        **_missing_list_names(integration),
        "cards": sync_error_cards(integration=integration),
        **_runs_context(request, integration),
        **_usage_context(integration, form),
    }


@login_required
def sync_health(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, "sync-health")
    return render(
        request, "integration_admin/sync_health.html", _page_context(request, integration)
    )


@login_required
def api_usage_partial(request: HttpRequest) -> HttpResponse:
    """The API call use panel alone, for its periodic htmx refresh."""
    integration = current_integration(request)
    if integration is None:
        return HttpResponse("")
    return render(request, "integration_admin/partials/api_usage.html", _usage_context(integration))


@login_required
def error_cards_partial(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        return HttpResponse("")
    return render(
        request,
        "integration_admin/partials/error_cards.html",
        {"cards": sync_error_cards(integration=integration)},
    )


@login_required
@require_GET
@vary_on_headers("HX-Request")
def runs_partial(request: HttpRequest) -> HttpResponse:
    """The run history for htmx, read-only: the whole card for the filter (target
    ``sync-runs``), else the next rows for "Show older cycles". A plain request (no JavaScript,
    or Back) goes to the tab, which reads the same filters."""
    if not request.htmx or request.htmx.history_restore_request:
        query = request.GET.urlencode()
        return redirect(reverse("sync_health") + (f"?{query}" if query else "") + "#sync-runs")
    integration = current_integration(request)
    if integration is None:
        return HttpResponse("")
    if request.htmx.target == "sync-runs":
        name, context = "runs", _runs_context(request, integration)
    else:
        name, context = "run_rows", _runs_context(request, integration, rows_only=True)
    response = render(request, f"integration_admin/partials/{name}.html", context)
    patch_cache_control(response, no_store=True)  # never a page for history to restore
    if name == "runs":
        # The filter shows in the address bar (the page's own, its other parameters kept),
        # so a reload or a shared link shows the same cycles.
        response["HX-Replace-Url"] = _with_runs_filters(
            request.htmx.current_url or reverse("sync_health"), context["runs_newest_query"]
        )
    return response


def _with_runs_filters(url: str, filters: str) -> str:
    """``url`` with the run history's filters (``object``, ``status``) set to ``filters``."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("object", "status", "before")]
    query = urlencode(kept + parse_qsl(filters))
    return urlunsplit(("", "", parts.path, query, "sync-runs"))


@login_required
@require_POST
@admin_required
def allocation_update(request: HttpRequest) -> HttpResponse:
    integration = current_integration(request)
    if integration is None:
        raise Http404
    form = AllocationForm(request.POST, limit=integration.salesforce_api_limit)
    saved = None
    if form.is_valid():
        previous, previous_state = integration.salesforce_api_allocation, integration.state
        integration = integration_update_allocation(
            integration=integration, allocation=form.cleaned_data["allocation"], actor=request.user
        )
        forget_integration(request)
        saved = (previous, integration.salesforce_api_allocation)
        if not request.htmx:
            if saved[0] == saved[1]:
                messages.info(request, UNCHANGED)
            else:
                messages.success(
                    request,
                    _("Allocated to HubSpot changed from %(old)s to %(new)s calls.")
                    % {"old": thousands(saved[0]), "new": thousands(saved[1])},
                )
            return redirect("sync_health")
        form = None
    if not request.htmx:
        context = _page_context(request, integration, form)
        return render(request, "integration_admin/sync_health.html", context, status=400)
    context = {**_usage_context(integration, form), "saved": saved}
    # Raising the allocation can end a pause: the header says so at once.
    context["status_changed"] = saved is not None and integration.state != previous_state
    return render(request, "integration_admin/partials/api_usage.html", context)


@login_required
@vary_on_headers("HX-Request")  # the panel alone, or the page: Back must not get the panel
def error_panel(request: HttpRequest, error_type: str) -> HttpResponse:
    """The detail panel of one error type. htmx gets the panel (or just its table, for search
    and paging); a plain request gets the whole tab with the panel open."""
    integration = current_integration(request)
    if integration is None:
        return not_connected(request, "sync-health")
    if (
        error_type not in ERROR_TYPES
        and not sync_errors_query(integration=integration, error_type=error_type).exists()
    ):
        raise Http404  # a mistyped address, not a type whose errors are all fixed
    context = _panel_context(request, integration, error_type)
    # Back to a panel's address asks htmx to restore the whole page: it gets the whole page.
    partial = request.htmx and not request.htmx.history_restore_request
    if partial:
        name = "error_list" if request.htmx.target == "error-list" else "error_panel"
        response = render(request, f"integration_admin/partials/{name}.html", context)
        patch_cache_control(response, no_store=True)  # never a page for history to restore
        if name == "error_list":
            # The search and page show in the address (a reload or Back keeps them; an
            # emptied search leaves no "?q=").
            query = urlencode({k: v for k, v in request.GET.items() if v})
            response["HX-Replace-Url"] = request.path + (f"?{query}" if query else "")
        return response
    context.update(_page_context(request, integration))
    return render(request, "integration_admin/sync_health.html", context)


@login_required
def errors_export(request: HttpRequest) -> StreamingHttpResponse:
    """Current errors as CSV (all types, or ``?type=``, narrowed by ``?q=``), streamed."""
    integration = current_integration(request)
    if integration is None:
        raise Http404
    error_type = error_type_param(request.GET.get("type", ""))
    errors = sync_errors_query(
        integration=integration, error_type=error_type, search=request.GET.get("q", "")[:200]
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    name = f"sync-errors-{error_type or 'all'}-{stamp}.csv"
    response = StreamingHttpResponse(
        errors_csv_rows(integration, errors.iterator(chunk_size=2000)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
