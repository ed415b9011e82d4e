"""The Connection tab: the integration user and both connections, Connect / Reconnect
through Salesforce's OAuth authorization-code flow, the whole sync's on/off switch and
Disconnect."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sync_engine.errors import ConnectionCheckFailed
from sync_engine.fields import secret_decrypt, secret_encrypt
from sync_engine.models import Integration, System
from sync_engine.selectors import (
    audit_events_query,
    integration_hubspot_connection,
    integration_salesforce_connection,
    last_answered_at,
)
from sync_engine.services import (
    LOOPBACK_HOSTS,
    hubspot_host_allowed,
    integration_connect,
    integration_disconnect_and_stop_imports,
    integration_sync_set,
)

from ..oauth import OAuthError, authorization_finish, authorization_start, oauth_config
from ..roles import admin_required
from .common import current_integration, forget_integration
from .notifications import suspension_email_context

logger = logging.getLogger(__name__)


def _connections(request: HttpRequest):
    integration = current_integration(request)
    if integration is None:
        return None, None, None
    return (
        integration,
        integration_salesforce_connection(integration=integration),
        integration_hubspot_connection(integration=integration),
    )


def _page(request: HttpRequest, *, confirm_disconnect: bool = False) -> HttpResponse:
    integration, salesforce, hubspot = _connections(request)
    disconnected = None
    if (
        integration is not None
        and integration.state == Integration.State.DISCONNECTED
        and salesforce is None
        and hubspot is None
    ):
        # Disconnected on this page (not yet connected at all: no such event): who, when,
        # and which org and account, to connect the same ones again.
        disconnected = audit_events_query(
            integration=integration, action="integration.disconnected"
        ).first()
    return render(
        request,
        "integration_admin/connection.html",
        {
            "active_tab": "connection",
            "integration": integration,
            "salesforce": salesforce,
            "hubspot": hubspot,
            "salesforce_answered": salesforce
            and last_answered_at(integration=integration, system=System.SALESFORCE),
            "hubspot_answered": hubspot
            and last_answered_at(integration=integration, system=System.HUBSPOT),
            "disconnected": disconnected,
            "confirm_disconnect": confirm_disconnect and (salesforce or hubspot) is not None,
            "oauth_client_id": settings.SALESFORCE_OAUTH_CLIENT_ID,
            "oauth_default_client": settings.SALESFORCE_OAUTH_CLIENT_ID
            == "hubspot-salesforce-sync",
            "hubspot_api_url": settings.HUBSPOT_API_URL,
            "salesforce_login_fixed": bool(settings.SALESFORCE_LOGIN_URL),
            **suspension_email_context(request, integration),
        },
    )


@login_required
def connection(request: HttpRequest) -> HttpResponse:
    return _page(request)


@login_required
@require_POST
@admin_required
def sync_switch(request: HttpRequest) -> HttpResponse:
    """Turn the whole sync on (``sync=on``) or off (``sync=off``)."""
    choice = request.POST.get("sync", "")
    if choice not in ("on", "off"):
        return HttpResponseBadRequest("sync must be on or off")
    integration = current_integration(request)
    if integration is None:
        messages.error(request, _("Connect Salesforce and HubSpot first."))
        return redirect("connection")
    enabled = choice == "on"
    # Already so (a second click, or another admin was quicker): no message, the page says.
    if integration.sync_enabled != enabled:
        integration_sync_set(integration=integration, enabled=enabled, actor=request.user)
        forget_integration(request)
        if enabled:
            messages.success(
                request,
                _("Sync is on again: the next cycle picks up every change made while it was off."),
            )
        else:
            messages.success(request, _("Sync is off: nothing syncs until you turn it back on."))
    return redirect("connection")


@login_required
@require_http_methods(["GET", "POST"])
@admin_required
def disconnect(request: HttpRequest) -> HttpResponse:
    """GET: the Connection page asking to confirm. POST: delete both connections' tokens and
    stop syncing; settings, mappings, links and the audit log stay."""
    integration, salesforce, hubspot = _connections(request)
    if integration is None or (salesforce is None and hubspot is None):
        messages.info(request, _("The integration isn't connected."))
        return redirect("connection")
    if request.method == "GET":
        return _page(request, confirm_disconnect=True)
    disconnected = integration_disconnect_and_stop_imports(
        integration=integration, actor=request.user
    )
    stopped = disconnected.imports_stopped
    forget_integration(request)
    messages.success(
        request,
        _("Disconnected: the stored Salesforce and HubSpot tokens were deleted and nothing syncs."),
    )
    if stopped:
        messages.info(
            request,
            _("Imports stopped: %(count)s. Resume them on the Import page once connected again.")
            % {"count": stopped},
        )
    return redirect("connection")


def _hubspot_url_problem(url: str) -> str:
    """Why the token mustn't be sent to ``url`` ("" when it may): checked before the browser
    goes to Salesforce, so a typo isn't found only after signing in there."""
    try:
        address = urlsplit(url)
        address.port  # noqa: B018 - raises for a port out of range
    except ValueError:
        return _("%(url)s is not a valid URL.") % {"url": url}
    plain_here = address.scheme == "http" and address.hostname in LOOPBACK_HOSTS
    if not (address.scheme == "https" or plain_here) or not hubspot_host_allowed(
        address.hostname or ""
    ):
        return _(
            "%(url)s is not HubSpot's API: give https://api.hubapi.com (plain http:// only for "
            "a server on this machine, such as the emulator)."
        ) % {"url": url}
    return ""


@login_required
@require_POST
@admin_required
def salesforce_connect(request: HttpRequest) -> HttpResponse:
    """Start the OAuth flow: send the browser to Salesforce's authorize page."""
    integration, salesforce, hubspot = _connections(request)
    extra = {}
    token = request.POST.get("hubspot_token", "").strip()
    if hubspot is None or token:
        # First connect, or a new HubSpot token (the stored one was rejected, or rotated):
        # the HubSpot side comes from the form and waits in the session (the token
        # encrypted, as at rest anywhere) until Salesforce sends the browser back.
        url = (
            hubspot.base_url
            if hubspot is not None
            else request.POST.get("hubspot_url", "").strip() or settings.HUBSPOT_API_URL
        )
        if not token:
            messages.error(request, _("Enter the HubSpot access token first."))
            return redirect("connection")
        problem = _hubspot_url_problem(url)
        if problem:
            messages.error(request, problem)
            return redirect("connection")
        extra = {"hubspot_url": url, "hubspot_token": secret_encrypt(token)}
    config = oauth_config(
        redirect_uri=request.build_absolute_uri(reverse("salesforce_callback")),
        connection=salesforce,
        sandbox=request.POST.get("sandbox") == "on",
    )
    return redirect(authorization_start(request.session, config, extra=extra))


@login_required
@admin_required
def salesforce_callback(request: HttpRequest) -> HttpResponse:
    """Salesforce sent the browser back: swap the code for tokens, verify and store them."""
    integration, salesforce, hubspot = _connections(request)
    try:
        grant = authorization_finish(
            request.session,
            params=request.GET,
            client_id=settings.SALESFORCE_OAUTH_CLIENT_ID,
            client_secret=settings.SALESFORCE_OAUTH_CLIENT_SECRET,
        )
    except OAuthError as error:
        messages.error(request, _("Connecting Salesforce failed: %(error)s") % {"error": error})
        return redirect("connection")
    sealed = grant.extra.get("hubspot_token")
    if sealed:
        hubspot_args = {
            "hubspot_url": grant.extra.get("hubspot_url", settings.HUBSPOT_API_URL),
            "hubspot_token": secret_decrypt(sealed),
        }
    elif hubspot is not None:
        hubspot_args = {
            "hubspot_url": hubspot.base_url,
            "hubspot_token": hubspot.access_token,
            "hubspot_refresh_token": hubspot.refresh_token,
            "hubspot_client_id": hubspot.client_id,
            "hubspot_client_secret": hubspot.client_secret,
        }
    else:
        hubspot_args = {"hubspot_url": settings.HUBSPOT_API_URL, "hubspot_token": ""}
    try:
        integration = integration_connect(
            salesforce_url=grant.instance_url,
            salesforce_token=grant.access_token,
            salesforce_ca=grant.ca_pem,
            salesforce_refresh_token=grant.refresh_token,
            salesforce_client_id=settings.SALESFORCE_OAUTH_CLIENT_ID if grant.refresh_token else "",
            salesforce_client_secret=settings.SALESFORCE_OAUTH_CLIENT_SECRET,
            actor=request.user,
            **hubspot_args,
        )
    except ConnectionCheckFailed as error:
        messages.error(request, _("Connecting failed: %(error)s") % {"error": error})
        return redirect("connection")
    forget_integration(request)
    user = integration.salesforce_connection
    messages.success(
        request,
        _("Connected to Salesforce as %(user)s.")
        % {"user": user.user_name or user.username or user.user_id},
    )
    return redirect("connection")
