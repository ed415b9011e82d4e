"""What every view needs: the integration (read once per request) and small response helpers."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render

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


def page_number(params: QueryDict, name: str = "page") -> int:
    """The page asked for in a query or form (``params``), 1 for none or nonsense."""
    try:
        return max(1, int(params.get(name, "1")))
    except ValueError:
        return 1


def card_answer(
    request: HttpRequest, *, ok: bool, answer: str, typed: str, card: str, tab: str
) -> HttpResponse:
    """A "Sync a …" card's answer (``card``: its template under ``objects/`` and its context
    prefix). With htmx the card answers in place, keeping what was typed when it was refused;
    without, a message on the tab."""
    if request.htmx:
        return render(
            request,
            f"integration_admin/objects/{card}.html",
            {
                f"{card}_value": "" if ok else typed,
                f"{card}_done": answer if ok else "",
                f"{card}_error": "" if ok else answer,
            },
        )
    (messages.success if ok else messages.error)(request, answer)
    return redirect(tab)
