"""The Connection tab: the integration user and both connections, Connect / Reconnect
through Salesforce's OAuth authorization-code flow, *Connect a different user* and *Connect
to a new sandbox* (spec §1, §2), the whole sync's on/off switch and Disconnect."""

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

from sync_engine.errors import ConnectionCheckFailed, ConnectorError
from sync_engine.fields import secret_decrypt, secret_encrypt
from sync_engine.models import Integration, System
from sync_engine.selectors import (
    audit_events_query,
    first_sync_preview,
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
    integration_user_access_gaps,
    salesforce_sign_in_identity,
)

from ..oauth import (
    Grant,
    OAuthError,
    authorization_finish,
    authorization_start,
    is_sandbox,
    oauth_config,
)
from ..roles import admin_required, user_is_admin
from ..status import object_labels
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


# A sign-in to a new sandbox waiting for the admin's confirmation (tokens encrypted).
SANDBOX_PENDING = "salesforce_sandbox_pending"


def _connected_to_sandbox(salesforce) -> bool:
    """Whether the connected org is a sandbox: noted when it was connected (signed in at
    test.salesforce.com, or ``manage.py connect --sandbox``), or a sandbox's host."""
    if salesforce is None:
        return False
    return salesforce.sandbox or is_sandbox(login_url="", instance_url=salesforce.instance_url)


def _sandbox_confirmation(request: HttpRequest, integration, salesforce) -> dict | None:
    """What the confirmation step names: the old and new org, the new user, and what goes."""
    pending = request.session.get(SANDBOX_PENDING)
    if not pending or integration is None:
        return None
    return {
        "old_org": salesforce.organization_id if salesforce else "",
        "new_org": pending["org"],
        "user": pending["user"],
        "instance_url": pending["instance_url"],
        "links": integration.links.count(),
        # Every current error, as the switch ends them (Sync health leaves some out).
        "errors": integration.errors.filter(resolved_at__isnull=True).count(),
    }


def _page(
    request: HttpRequest, *, confirm_disconnect: bool = False, confirm_sandbox: bool = False
) -> HttpResponse:
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
            "confirm_sandbox": confirm_sandbox
            and _sandbox_confirmation(request, integration, salesforce),
            # For the admins' actions.
            "salesforce_sandbox": user_is_admin(request.user) and _connected_to_sandbox(salesforce),
            "oauth_client_id": settings.SALESFORCE_OAUTH_CLIENT_ID,
            "oauth_default_client": settings.SALESFORCE_OAUTH_CLIENT_ID
            == "hubspot-salesforce-sync",
            "hubspot_api_url": settings.HUBSPOT_API_URL,
            "salesforce_login_fixed": bool(settings.SALESFORCE_LOGIN_URL),
            "first_sync": _first_sync(integration, salesforce, hubspot),
            **suspension_email_context(request, integration),
        },
    )


def _first_sync(integration, salesforce, hubspot) -> dict | None:
    """What the first cycle will do, while a connected sync waits to be started (a few API
    calls, kept a few minutes)."""
    if integration is None or salesforce is None or hubspot is None:
        return None
    if not integration.sync_not_started or integration.state != Integration.State.CONNECTED:
        return None
    preview = first_sync_preview(integration=integration)
    labels = object_labels(integration, preview["others_on"])
    return {**preview, "others_on": [labels[name] for name in preview["others_on"]]}


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
        return _connect_first(request)
    enabled = choice == "on"
    # Already so (a second click, or another admin was quicker): no message, the page says.
    if integration.sync_enabled != enabled:
        first = integration.sync_not_started
        integration_sync_set(integration=integration, enabled=enabled, actor=request.user)
        forget_integration(request)
        if enabled and first:
            messages.success(
                request,
                _("Sync started: the first cycle runs within a minute. Follow it on Sync health."),
            )
        elif enabled:
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
    action = grant.extra.get("action", "")
    if action == "sandbox":
        return _sandbox_signed_in(request, grant, integration, salesforce, hubspot)
    sealed = grant.extra.get("hubspot_token")
    if sealed:
        hubspot_args = {
            "hubspot_url": grant.extra.get("hubspot_url", settings.HUBSPOT_API_URL),
            "hubspot_token": secret_decrypt(sealed),
        }
    elif hubspot is not None:
        hubspot_args = _stored_hubspot(hubspot)
    else:
        hubspot_args = {"hubspot_url": settings.HUBSPOT_API_URL, "hubspot_token": ""}
    # Signed in where the connection lives (Reconnect, a different user): still the sandbox
    # it was, if it was one.
    sandbox = grant.sandbox or (
        salesforce is not None
        and grant.login_url == salesforce.instance_url.rstrip("/")
        and _connected_to_sandbox(salesforce)
    )
    before = salesforce.user_id if salesforce is not None else ""
    try:
        integration = integration_connect(
            **_grant_args(grant),
            actor=request.user,
            salesforce_sandbox=sandbox,
            same_org=action == "user",
            hold_first_sync=True,
            **hubspot_args,
        )
    except ConnectionCheckFailed as error:
        messages.error(request, _("Connecting failed: %(error)s") % {"error": error})
        return redirect("connection")
    forget_integration(request)
    user = integration.salesforce_connection
    name = _user_text(user)
    if action != "user":
        messages.success(request, _("Connected to Salesforce as %(user)s.") % {"user": name})
        if integration.sync_not_started:
            messages.info(
                request,
                _("Sync hasn't started: review what will sync, then press Start syncing below."),
            )
        return redirect("connection")
    if before and before == user.user_id:
        messages.info(
            request,
            _(
                "You signed in as %(user)s, who already is the integration user: the integration "
                "user is unchanged (its tokens were renewed). To change it, sign in to Salesforce "
                "as the other user."
            )
            % {"user": name},
        )
    else:
        messages.success(request, _("The integration user is now %(user)s.") % {"user": name})
    _access_warning(request, integration)
    return redirect("connection")


def _connect_first(request: HttpRequest) -> HttpResponse:
    """Back to the page: the action needs both systems connected."""
    messages.error(request, _("Connect Salesforce and HubSpot first."))
    return redirect("connection")


def _user_text(connection) -> str:
    return connection.user_name or connection.username or connection.user_id


def _stored_hubspot(hubspot) -> dict:
    """The stored HubSpot connection, as ``integration_connect`` takes it again."""
    return {
        "hubspot_url": hubspot.base_url,
        "hubspot_token": hubspot.access_token,
        "hubspot_refresh_token": hubspot.refresh_token,
        "hubspot_client_id": hubspot.client_id,
        "hubspot_client_secret": hubspot.client_secret,
    }


def _grant_args(grant) -> dict:
    """A Salesforce sign-in's tokens, as ``integration_connect`` takes them."""
    return {
        "salesforce_url": grant.instance_url,
        "salesforce_token": grant.access_token,
        "salesforce_ca": grant.ca_pem,
        "salesforce_refresh_token": grant.refresh_token,
        "salesforce_client_id": settings.SALESFORCE_OAUTH_CLIENT_ID if grant.refresh_token else "",
        "salesforce_client_secret": settings.SALESFORCE_OAUTH_CLIENT_SECRET,
    }


def _access_warning(request: HttpRequest, integration) -> None:
    """Warn when the (new) integration user can't read, create or edit a synced object (one
    describeGlobal): that object's sync would stop with an *Object permission* error."""
    try:
        gaps = integration_user_access_gaps(integration=integration)
    except ConnectorError as error:
        messages.warning(
            request,
            _("Couldn't check what the integration user may do in Salesforce: %(error)s")
            % {"error": error},
        )
        return
    if not gaps:
        return
    words = {"read": _("read"), "create": _("create"), "edit": _("edit")}
    lacking = "; ".join(
        f"{gap.sobject} ({', '.join(str(words[what]) for what in gap.lacks)})" for gap in gaps
    )
    messages.warning(
        request,
        _(
            "The integration user lacks permissions the sync needs: %(objects)s. Until it has "
            "them, those objects don't sync (an Object permission error on Sync health says "
            "so). Give it Read, Create and Edit (HubSpot asks Modify All) on them in "
            "Salesforce, or connect a user with permissions equal to or greater than the "
            "previous one's."
        )
        % {"objects": lacking},
    )


@login_required
@require_POST
@admin_required
def salesforce_user(request: HttpRequest) -> HttpResponse:
    """*Connect a different user*: sign in to the connected org as another Salesforce user,
    who becomes the integration user (the callback refuses another org)."""
    integration, salesforce, hubspot = _connections(request)
    if salesforce is None or hubspot is None:
        return _connect_first(request)
    config = oauth_config(
        redirect_uri=request.build_absolute_uri(reverse("salesforce_callback")),
        connection=salesforce,
    )
    return redirect(authorization_start(request.session, config, extra={"action": "user"}))


@login_required
@require_POST
@admin_required
def salesforce_sandbox(request: HttpRequest) -> HttpResponse:
    """*Connect to a new sandbox*: sign in to a refreshed (or another) sandbox at
    test.salesforce.com; the switch waits for a confirmation (``salesforce_sandbox_confirm``)."""
    integration, salesforce, hubspot = _connections(request)
    if salesforce is None or hubspot is None:
        return _connect_first(request)
    if not _connected_to_sandbox(salesforce):
        messages.error(
            request,
            _(
                "The integration is connected to a production Salesforce org: Connect to a new "
                "sandbox is for an integration connected to a sandbox."
            ),
        )
        return redirect("connection")
    config = oauth_config(
        redirect_uri=request.build_absolute_uri(reverse("salesforce_callback")), sandbox=True
    )
    return redirect(authorization_start(request.session, config, extra={"action": "sandbox"}))


def _sandbox_signed_in(request: HttpRequest, grant, integration, salesforce, hubspot):
    """Back from the sandbox's sign-in: refuse a production org; the same org is a plain
    reconnect; another one waits, its tokens encrypted in the session, for the admin to
    confirm what the switch removes."""
    request.session.pop(SANDBOX_PENDING, None)
    if salesforce is None or hubspot is None:
        return _connect_first(request)
    if not grant.sandbox:
        messages.error(
            request,
            _(
                "%(url)s is not a Salesforce sandbox: Connect to a new sandbox takes a sandbox "
                "only. Nothing changed."
            )
            % {"url": grant.instance_url},
        )
        return redirect("connection")
    try:
        who = salesforce_sign_in_identity(
            integration=integration,
            salesforce_url=grant.instance_url,
            salesforce_token=grant.access_token,
            salesforce_ca=grant.ca_pem,
        )
    except ConnectionCheckFailed as error:
        messages.error(request, _("Connecting failed: %(error)s") % {"error": error})
        return redirect("connection")
    org = str(who.get("organization_id") or "")
    if org and org == salesforce.organization_id:
        return _sandbox_connect(request, grant, hubspot, same=True)
    request.session[SANDBOX_PENDING] = {
        "instance_url": grant.instance_url,
        "access_token": secret_encrypt(grant.access_token),
        "refresh_token": secret_encrypt(grant.refresh_token) if grant.refresh_token else "",
        "ca_pem": grant.ca_pem,
        "login_url": grant.login_url,
        "org": org,
        "user": str(who.get("name") or who.get("preferred_username") or who.get("user_id", "")),
    }
    return redirect("salesforce_sandbox_confirm")


def _sandbox_connect(request: HttpRequest, grant, hubspot, *, same: bool = False):
    try:
        integration = integration_connect(
            **_grant_args(grant),
            actor=request.user,
            salesforce_sandbox=True,
            new_sandbox=True,
            **_stored_hubspot(hubspot),
        )
    except ConnectionCheckFailed as error:
        messages.error(request, _("Connecting failed: %(error)s") % {"error": error})
        return redirect("connection")
    forget_integration(request)
    user = integration.salesforce_connection
    if same:
        messages.info(
            request,
            _(
                "That is the sandbox the integration is connected to (org %(org)s): signed in "
                "again as %(user)s, nothing was reset."
            )
            % {"org": user.organization_id, "user": _user_text(user)},
        )
        return redirect("connection")
    messages.success(
        request,
        _(
            "Connected to the new sandbox (org %(org)s) as %(user)s. The links to the old "
            "sandbox's records were removed: the next cycles match contacts again by email, "
            "companies through their contacts, custom object records by their external id, and "
            "records the new sandbox kept with the same ids by those ids. Where its "
            "opportunities and cases (and custom object records without an external id) have "
            "new ids, they come to HubSpot as new deals, tickets and records, beside the old "
            "ones."
        )
        % {"org": user.organization_id, "user": _user_text(user)},
    )
    _access_warning(request, integration)
    return redirect("connection")


@login_required
@require_http_methods(["GET", "POST"])
@admin_required
def salesforce_sandbox_confirm(request: HttpRequest) -> HttpResponse:
    """GET: the Connection page asking to confirm the switch to the new sandbox. POST
    ``confirm=yes``: switch (reset what pointed at the old org, audit-logged); anything else
    cancels (the sign-in is dropped, nothing changes)."""
    integration, salesforce, hubspot = _connections(request)
    pending = request.session.get(SANDBOX_PENDING)
    if not pending or salesforce is None or hubspot is None:
        request.session.pop(SANDBOX_PENDING, None)
        messages.info(
            request, _("No sandbox sign-in is waiting: start with Connect to a new sandbox.")
        )
        return redirect("connection")
    if request.method == "GET":
        return _page(request, confirm_sandbox=True)
    request.session.pop(SANDBOX_PENDING)
    if request.POST.get("confirm") != "yes":
        messages.info(request, _("Nothing changed: the integration stays connected as it was."))
        return redirect("connection")
    grant = Grant(
        access_token=secret_decrypt(pending["access_token"]),
        refresh_token=secret_decrypt(pending["refresh_token"]) if pending["refresh_token"] else "",
        instance_url=pending["instance_url"],
        ca_pem=pending["ca_pem"],
        extra={},
        login_url=pending["login_url"],
    )
    return _sandbox_connect(request, grant, hubspot)
