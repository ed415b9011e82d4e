"""Server-rendered pages. Every view needs a login."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from sync_engine.selectors import (
    integration_api_usage,
    integration_get_default,
    integration_hubspot_connection,
    integration_salesforce_connection,
)

from .navigation import TABS_BY_SLUG


def _connection_context() -> dict:
    integration = integration_get_default()
    if integration is None:
        return {"integration": None}
    return {
        "integration": integration,
        "salesforce": integration_salesforce_connection(integration=integration),
        "hubspot": integration_hubspot_connection(integration=integration),
        "usage": integration_api_usage(integration=integration),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The Connection tab: both connections, the integration user and API use."""
    context = {"active_tab": "connection", **_connection_context()}
    return render(request, "integration_admin/home.html", context)


@login_required
def api_usage_partial(request: HttpRequest) -> HttpResponse:
    """The API-use card alone, for htmx refreshes."""
    return render(request, "integration_admin/partials/api_usage.html", _connection_context())


@login_required
def tab_placeholder(request: HttpRequest, tab: str) -> HttpResponse:
    if tab not in TABS_BY_SLUG:
        raise Http404
    return render(
        request,
        "integration_admin/tab_placeholder.html",
        {"active_tab": tab, "tab": TABS_BY_SLUG[tab]},
    )
