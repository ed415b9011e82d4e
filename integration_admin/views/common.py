"""What every view needs: the integration (read once per request) and small response helpers."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sync_engine.models import Integration
from sync_engine.selectors import integration_get_default

_CACHE = "_integration_admin_integration"


def current_integration(request: HttpRequest) -> Integration | None:
    """The installation's integration with both connections (1 query, once per request)."""
    if not hasattr(request, _CACHE):
        setattr(request, _CACHE, integration_get_default())
    return getattr(request, _CACHE)


def forget_integration(request: HttpRequest) -> None:
    """After a change to the integration, read it again on next use."""
    if hasattr(request, _CACHE):
        delattr(request, _CACHE)


def error_type_param(value: str) -> str | None:
    """An error type named in a query or form: a slug, or None for "every type"."""
    return re.sub(r"[^a-z0-9_]", "", value)[:40] or None


def not_connected(request: HttpRequest, active_tab: str) -> HttpResponse:
    return render(request, "integration_admin/not_connected.html", {"active_tab": active_tab})


def page_number(request: HttpRequest, name: str = "page") -> int:
    try:
        return max(1, int(request.GET.get(name, "1")))
    except ValueError:
        return 1
