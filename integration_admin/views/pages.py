"""Small pages: the home redirect, Discover features, the audit log and unbuilt tabs."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from sync_engine.selectors import audit_events_query

from ..audit import describe_event
from ..discover import FEATURES
from ..navigation import TABS_BY_SLUG
from ..status import ObjectNames
from .common import current_integration, page_number

AUDIT_PER_PAGE = 50


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("sync_health")


@login_required
def discover(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "integration_admin/discover.html",
        {"active_tab": "discover", "features": FEATURES},
    )


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who changed what and when, newest first (3 queries: count, page with actors, header)."""
    integration = current_integration(request)
    events = audit_events_query(integration=integration)
    page = Paginator(events, AUDIT_PER_PAGE).get_page(page_number(request.GET))
    names = ObjectNames(integration)
    return render(
        request,
        "integration_admin/audit.html",
        {"active_tab": "", "page": page, "rows": [describe_event(e, names) for e in page]},
    )


@login_required
def tab_placeholder(request: HttpRequest, tab: str) -> HttpResponse:
    if tab not in TABS_BY_SLUG:
        raise Http404
    return render(
        request,
        "integration_admin/tab_placeholder.html",
        {"active_tab": tab, "tab": TABS_BY_SLUG[tab]},
    )
