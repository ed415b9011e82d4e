"""The Sync health tab: API call use (with the allocation form, chart and forecast), the error
cards and their detail panel, the error export and the recent runs."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from sync_engine.selectors import (
    api_calls_hourly,
    api_usage_forecast,
    integration_api_usage,
    sync_error_cards,
    sync_errors_page,
    sync_errors_query,
    sync_runs_recent,
)
from sync_engine.services import integration_update_allocation

from ..charts import calls_chart
from ..exports import errors_csv_rows
from ..forms import AllocationForm
from ..labels import error_text
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


def _usage_context(integration, form: AllocationForm | None = None) -> dict:
    """The API call use panel (3 queries)."""
    usage = integration_api_usage(integration=integration)
    hourly = api_calls_hourly(integration=integration)
    return {
        "usage": usage,
        "chart": calls_chart(hourly, allocation=usage.allocation),
        "forecast": api_usage_forecast(allocation=usage.allocation, used=usage.used, hourly=hourly),
        "allocation_form": form
        or AllocationForm(
            initial={"allocation": usage.allocation}, limit=integration.salesforce_api_limit
        ),
    }


def _panel_context(request: HttpRequest, integration, error_type: str) -> dict:
    """The right-hand panel of one error type (4 queries)."""
    search = (request.GET.get("q") or request.POST.get("q") or "").strip()[:200]
    page = sync_errors_page(
        integration=integration,
        error_type=error_type,
        search=search,
        page=page_number(request),
        per_page=ERRORS_PER_PAGE,
    )
    now = timezone.now()
    return {
        "pending": any(
            row.error.next_retry_at and row.error.next_retry_at <= now for row in page.rows
        ),
        "panel_type": error_type,
        "panel_text": error_text(error_type),
        # Create view (admins): a HubSpot list can't hold activities, so not for a type only
        # they have.
        "view_possible": user_is_admin(request.user)
        and sync_errors_query(integration=integration, error_type=error_type)
        .exclude(object="activities")
        .exists(),
        "errors_page": page,
        "search": search,
        "salesforce": integration.salesforce_connection,
        "hubspot": integration.hubspot_connection,
        "now": now,
    }


def _labelled(integration, runs: list) -> list:
    labels = object_labels(integration, {run.object for run in runs})
    for run in runs:
        run.label = labels[run.object]
    return runs


def _page_context(request: HttpRequest, integration) -> dict:
    return {
        "active_tab": "sync-health",
        "integration": integration,
        "cards": sync_error_cards(integration=integration),
        "runs": _labelled(integration, sync_runs_recent(integration=integration)),
        **_usage_context(integration),
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
            messages.success(
                request,
                _("Allocated to HubSpot changed from %(old)s to %(new)s calls.")
                % {"old": thousands(saved[0]), "new": thousands(saved[1])},
            )
            return redirect("sync_health")
        form = None
    if not request.htmx:
        context = _page_context(request, integration)
        context.update(_usage_context(integration, form))
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
    context = _panel_context(request, integration, error_type)
    # Back to a panel's address asks htmx to restore the whole page: it gets the whole page.
    partial = request.htmx and not request.htmx.history_restore_request
    if partial:
        name = "error_list" if request.htmx.target == "error-list" else "error_panel"
        response = render(request, f"integration_admin/partials/{name}.html", context)
        patch_cache_control(response, no_store=True)  # never a page for history to restore
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
