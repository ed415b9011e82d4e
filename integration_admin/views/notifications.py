"""The Connection page's *Suspension emails* card: an integration admin asks to be emailed
when the integration is suspended (spec §4), or stops it. Each admin decides for themselves."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sync_engine.notifications import suspension_email_set, suspension_email_wanted

from ..roles import admin_required, user_is_admin
from .common import current_integration


def suspension_email_context(request: HttpRequest, integration) -> dict:
    """The card's state for the page and its htmx swap (1 query; none for viewers, who don't
    see the card)."""
    user = request.user
    if integration is None or not user_is_admin(user):
        return {}
    return {
        "suspension_email": {
            "wanted": suspension_email_wanted(integration=integration, user=user),
            "address": getattr(user, user.get_email_field_name(), "") or "",
        }
    }


@login_required
@require_POST
@admin_required
def suspension_email(request: HttpRequest) -> HttpResponse:
    """Email me when the integration is suspended (``suspension_email=on``), or stop (``off``).
    The button says which, so a second click or another tab leaves it as wanted."""
    choice = request.POST.get("suspension_email", "")
    if choice not in ("on", "off"):
        return HttpResponseBadRequest("suspension_email must be on or off")
    integration = current_integration(request)
    if integration is None:
        raise Http404
    wanted = choice == "on"
    suspension_email_set(
        integration=integration,
        user=request.user,
        wanted=wanted,
        language=translation.get_language() or "",  # the email speaks the page's language
    )
    context = suspension_email_context(request, integration)
    if not wanted:
        messages.success(request, _("You'll no longer get an email when syncing is suspended."))
    elif context["suspension_email"]["address"]:
        messages.success(
            request,
            _("You'll get an email at %(address)s when syncing is suspended.")
            % {"address": context["suspension_email"]["address"]},
        )
    else:
        messages.warning(
            request, _("Saved. No email can be sent until your login has an email address.")
        )
    if request.htmx:
        return render(request, "integration_admin/partials/suspension_email.html", context)
    return redirect(reverse("connection") + "#suspension-email")
