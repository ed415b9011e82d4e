"""Writes. Every function that changes settings or state also records an audit event."""

from __future__ import annotations

import contextlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from .errors import ConnectionCheckFailed, ConnectorError, RemoteError, TransientError
from .fields import secret_rotate
from .models import (
    ApiCall,
    AuditEvent,
    HubSpotConnection,
    Integration,
    SalesforceConnection,
    System,
)


# --- audit and ledger ---------------------------------------------------------------------
def audit_event_record(
    *,
    action: str,
    integration: Integration | None = None,
    actor: AbstractBaseUser | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record who did what. ``actor`` None means the system (a worker, a schedule, a command)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action, integration=integration, actor=actor, details=details or {}
    )


def api_call_record(
    *,
    integration: Integration,
    system: str,
    operation: str,
    status: int,
    records: int = 0,
    duration_ms: int = 0,
    called_at=None,
) -> ApiCall:
    """Write a finished call to the ledger (connectors reserve and complete rows themselves;
    this is for calls made some other way, and for tests and imports)."""
    return ApiCall.objects.create(
        integration=integration,
        system=system,
        operation=operation,
        status=status,
        records=records,
        duration_ms=duration_ms,
        called_at=called_at or timezone.now(),
    )


def api_calls_prune(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Forget ledger rows past the longest window any page shows."""
    deleted, _ = ApiCall.objects.filter(called_at__lt=timezone.now() - older_than).delete()
    return deleted


# --- the integration ----------------------------------------------------------------------
def integration_get_or_create(*, actor: AbstractBaseUser | None = None) -> Integration:
    """The installation's integration (one HubSpot account ⇄ one Salesforce org)."""
    with transaction.atomic():
        integration = Integration.objects.select_for_update().order_by("id").first()
        if integration is None:
            integration = Integration.objects.create()
            audit_event_record(action="integration.created", integration=integration, actor=actor)
    return integration


def integration_connect(
    *,
    salesforce_url: str,
    salesforce_token: str,
    hubspot_url: str,
    hubspot_token: str,
    salesforce_ca: str = "",
    salesforce_refresh_token: str = "",
    salesforce_client_id: str = "",
    salesforce_client_secret: str = "",
    hubspot_refresh_token: str = "",
    hubspot_client_id: str = "",
    hubspot_client_secret: str = "",
    actor: AbstractBaseUser | None = None,
) -> Integration:
    """Verify both connections with one cheap call each, then store them and mark the
    integration connected. Raises :class:`ConnectionCheckFailed` naming the failing side;
    nothing is stored then."""
    from .connectors.hubspot import HubSpotConnector
    from .connectors.salesforce import SalesforceConnector

    if not salesforce_url.lower().startswith("https://"):
        raise ConnectionCheckFailed(
            f"{salesforce_url} is not an https:// URL",
            system=System.SALESFORCE,
            hint="Salesforce is only reachable over TLS: pass https://… (and --salesforce-ca "
            "for a self-signed certificate)",
        )
    integration = integration_get_or_create(actor=actor)
    now = timezone.now()
    salesforce = SalesforceConnection(
        integration=integration,
        instance_url=salesforce_url.rstrip("/"),
        ca_bundle=salesforce_ca,
        access_token=salesforce_token,
        refresh_token=salesforce_refresh_token,
        client_id=salesforce_client_id,
        client_secret=salesforce_client_secret,
        connected_at=now,
    )
    hubspot = HubSpotConnection(
        integration=integration,
        base_url=hubspot_url.rstrip("/"),
        access_token=hubspot_token,
        refresh_token=hubspot_refresh_token,
        client_id=hubspot_client_id,
        client_secret=hubspot_client_secret,
        connected_at=now,
    )

    sf = SalesforceConnector(integration=integration, connection=salesforce)
    try:
        sf.limits()
    except (ConnectorError, ValueError) as error:
        raise _check_failed(System.SALESFORCE, salesforce.instance_url, error) from error
    try:
        info = sf.userinfo()
    except RemoteError:
        info = {}  # optional: not every server offers userinfo
    salesforce.user_id = str(info.get("user_id", ""))[:18]
    salesforce.organization_id = str(info.get("organization_id", ""))[:18]
    salesforce.user_name = str(info.get("name", ""))[:255]
    salesforce.username = str(info.get("preferred_username", ""))[:255]
    salesforce.last_verified_at = timezone.now()

    hs = HubSpotConnector(integration=integration, connection=hubspot)
    try:
        hs.owners_page(limit=1)
    except (ConnectorError, ValueError) as error:
        raise _check_failed(System.HUBSPOT, hubspot.base_url, error) from error
    with contextlib.suppress(RemoteError):  # optional: the account id is only shown
        hubspot.portal_id = str(hs.account_details().get("portalId", ""))[:32]
    hubspot.last_verified_at = timezone.now()

    with transaction.atomic():
        SalesforceConnection.objects.filter(integration=integration).delete()
        HubSpotConnection.objects.filter(integration=integration).delete()
        salesforce.save()
        hubspot.save()
        integration.refresh_from_db()
        previous = integration.state
        integration.state = Integration.State.CONNECTED
        integration.state_reason = ""
        integration.state_changed_at = timezone.now()
        integration.save(update_fields=["state", "state_reason", "state_changed_at", "updated_at"])
        audit_event_record(
            action="integration.connected",
            integration=integration,
            actor=actor,
            details={
                "previous_state": previous,
                "salesforce_url": salesforce.instance_url,
                "salesforce_user": salesforce.username or salesforce.user_id,
                "hubspot_url": hubspot.base_url,
                "salesforce_refresh": salesforce.can_refresh,
                "hubspot_refresh": hubspot.can_refresh,
            },
        )
    return integration


def _check_failed(system: str, url: str, error: Exception) -> ConnectionCheckFailed:
    side = "Salesforce" if system == System.SALESFORCE else "HubSpot"
    flag = "--salesforce" if system == System.SALESFORCE else "--hubspot"
    if isinstance(error, TransientError) and error.status == 0:
        detail = error.message
        if "SSL" in error.code or "certificate" in detail.lower() or "TLS" in detail:
            return ConnectionCheckFailed(
                f"the TLS certificate of {url} is not trusted ({detail})",
                system=system,
                hint=f"pass the server's CA bundle with {flag}-ca FILE (PEM)",
            )
        return ConnectionCheckFailed(
            f"could not reach {url} ({detail})",
            system=system,
            hint=f"check {flag}-url and that the server is running and reachable",
        )
    if isinstance(error, RemoteError):
        code = f" {error.code}" if error.code else ""
        what = f"{url} answered {error.status}{code}: {error.message}"
        if error.status == 401:
            hint = f"the access token was rejected; get a fresh one and pass it with {flag}-token"
        elif error.status == 403:
            hint = (
                f"the {side} user lacks permissions (Salesforce: 'API Enabled' and 'View Setup and "
                "Configuration'; HubSpot: the crm.objects.owners.read scope)"
            )
        elif error.status == 404:
            hint = f"{flag}-url should be the API base URL of the {side} instance"
        elif error.status >= 500 or error.status == 429:
            hint = f"{side} is failing or rate limiting right now; try again in a few minutes"
        else:
            hint = f"check {flag}-url and {flag}-token"
        return ConnectionCheckFailed(what, system=system, hint=hint)
    if isinstance(error, ConnectorError):
        return ConnectionCheckFailed(error.message, system=system, hint="")
    return ConnectionCheckFailed(
        f"{url} did not answer like {side} ({error})",
        system=system,
        hint=f"check that {flag}-url points at {side}'s API",
    )


def integration_refresh_limits(*, integration: Integration) -> dict:
    """Read the org's limits from Salesforce ("Limited by Salesforce"). Costs one call."""
    from .connectors.salesforce import SalesforceConnector

    connector = SalesforceConnector(integration=integration)
    limits = connector.limits()
    SalesforceConnection.objects.filter(pk=connector.connection.pk).update(
        last_verified_at=timezone.now()
    )
    return limits


def integration_update_allocation(
    *, integration: Integration, allocation: int, actor: AbstractBaseUser | None = None
) -> Integration:
    """Change "Allocated to HubSpot"."""
    if allocation < 1:
        raise ValueError("the allocation must be at least 1 call")
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        previous = integration.salesforce_api_allocation
        if previous == allocation:
            return integration
        integration.salesforce_api_allocation = allocation
        integration.save(update_fields=["salesforce_api_allocation", "updated_at"])
        audit_event_record(
            action="integration.allocation_changed",
            integration=integration,
            actor=actor,
            details={"from": previous, "to": allocation},
        )
    return integration


def integration_set_state(
    *,
    integration: Integration,
    state: str,
    reason: str = "",
    actor: AbstractBaseUser | None = None,
) -> Integration:
    """Pause, resume, suspend or disconnect the integration."""
    if state not in Integration.State.values:
        raise ValueError(f"unknown state {state!r}")
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        previous = integration.state
        if previous == state and integration.state_reason == reason:
            return integration
        integration.state = state
        integration.state_reason = reason
        integration.state_changed_at = timezone.now()
        integration.save(update_fields=["state", "state_reason", "state_changed_at", "updated_at"])
        audit_event_record(
            action="integration.state_changed",
            integration=integration,
            actor=actor,
            details={"from": previous, "to": state, "reason": reason},
        )
    return integration


def connections_reencrypt() -> int:
    """Re-encrypt every stored secret with the newest FIELD_ENCRYPTION_KEY (key rotation)."""
    from django.db import connection

    count = 0
    for model in (SalesforceConnection, HubSpotConnection):
        table = model._meta.db_table
        columns = [
            f.column
            for f in model._meta.concrete_fields
            if f.get_internal_type() == "TextField" and type(f).__name__ == "EncryptedTextField"
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}")  # noqa: S608
            for row in cursor.fetchall():
                pk, values = row[0], row[1:]
                rotated = [secret_rotate(v) if v else v for v in values]
                assignments = ", ".join(f"{c} = %s" for c in columns)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
                    [*rotated, pk],
                )
                count += 1
    audit_event_record(action="secrets.reencrypted", details={"rows": count})
    return count


# --- people -------------------------------------------------------------------------------
def admin_user_ensure(
    *, username: str = "admin", password: str | None = None
) -> tuple[Any, str, bool]:
    """Create the admin (staff and superuser) or reset its password.

    Returns ``(user, password, created)``; a password is generated when none is given."""
    password = password or secrets.token_urlsafe(12)
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_superuser = True
        user.is_active = True
        user.set_password(password)
        user.save()
        audit_event_record(
            action="admin.created" if created else "admin.password_reset",
            details={"username": username},
        )
    return user, password, created
