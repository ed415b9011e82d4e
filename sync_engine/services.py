"""Writes. Every function that changes settings or state also records an audit event."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext

from .budget import ALLOCATION_USED, budget_remaining, paused_because
from .error_types import OBJECT_KEY
from .errors import ConnectionCheckFailed, ConnectorError, RemoteError, TransientError
from .fields import secret_rotate
from .models import (
    ApiCall,
    AuditEvent,
    FieldMapping,
    HubSpotConnection,
    ImportJob,
    Integration,
    ListResyncJob,
    ObjectSync,
    RecordLink,
    ResyncRequest,
    SalesforceConnection,
    SchemaCache,
    SyncCursor,
    SyncError,
    SyncRun,
    System,
)
from .object_settings import (
    CUSTOM_PREFIX,
    MAX_CUSTOM_OBJECTS,
    SETTINGS_CLASSES,
    UNMAPPED_PAIRS,
    CustomObjectSettings,
    PairRemoved,
    SettingsError,
    settings_as_dict,
    settings_class,
    settings_for,
    settings_validate,
    starts_enabled,
)
from .sync.geo import address_picklist_describe
from .sync.registry import PAIR_CLASSES, pair_class
from .sync.rules import SyncRule
from .sync.values import (
    CURRENCY_FIELD,
    HUBSPOT_CURRENCY,
    default_mappings,
    is_compatible,
    read_only_field,
)

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .selectors import RecordHistory


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


def sync_runs_prune(*, older_than: timedelta = timedelta(days=30)) -> int:
    """Forget runs past the ledger's window: a pair cycling every minute adds 1,440 a day.
    Each pair's last successful run stays (the status bar's "synced … ago"), and so do
    runs still running."""
    last_success = (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED)
        .values("integration", "object")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    deleted, _ = (
        SyncRun.objects.filter(started_at__lt=timezone.now() - older_than)
        .exclude(status=SyncRun.Status.RUNNING)
        .exclude(pk__in=list(last_success))
        .delete()
    )
    return deleted


# --- the integration ----------------------------------------------------------------------
# The HubSpot account's details the engine keeps, with the schemas: ``{"timeZone": "…",
# "companyCurrency": "…"}`` (an IANA name and an ISO 4217 code, "" when HubSpot didn't say),
# read when connecting and again once a day (``hubspot_account_details``). Activity dates use
# the zone; a deal without a currency is in the company currency.
HUBSPOT_ACCOUNT = "account-info"
HUBSPOT_ACCOUNT_MAX_AGE = timedelta(days=1)
# A multi-currency Salesforce org's currencies and rates (``salesforce_currency_rates``): kept
# with the describes, read again daily and by *Refresh properties and fields*.
SALESFORCE_CURRENCIES = "currency-rates"
CURRENCIES_MAX_AGE = timedelta(days=1)
CURRENCIES_RETRY = timedelta(minutes=20)  # a failed read, tried again
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")  # where plain http can't be overheard


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
    another_account: bool = False,
    salesforce_sandbox: bool = False,
    same_org: bool = False,
    new_sandbox: bool = False,
    hold_first_sync: bool = False,
) -> Integration:
    """Verify both connections with one cheap call each, then store them and mark the
    integration connected. Raises :class:`ConnectionCheckFailed` naming the failing side;
    nothing is stored then. So does a Salesforce org or HubSpot account other than the one
    the integration's links were made with (``connected_before``), unless
    ``another_account``: the links would pair records of different systems.

    ``salesforce_sandbox``: the org is a sandbox (the connection's ``sandbox``, noted in the
    audit event too: *Connect to a new sandbox* is offered for sandboxes only). ``same_org``
    (*Connect a different user*): refuse any org but the one connected, links or not.
    ``new_sandbox`` (*Connect to a new sandbox*): another Salesforce org is taken, and when it
    is one, what pointed at the old org's records is reset first (``_salesforce_org_forget``).
    A new integration user of the same org is audit-logged (``integration.user_changed``).

    ``hold_first_sync``: a first connection (nothing synced yet) leaves the sync off, not
    started (``Integration.sync_not_started``), until an admin has reviewed the settings and
    starts it: the first cycle syncs the records both CRMs already hold, under the settings it
    finds."""
    from .connectors.hubspot import HubSpotConnector
    from .connectors.salesforce import SalesforceConnector

    if not salesforce_url.lower().startswith("https://"):
        raise ConnectionCheckFailed(
            f"{salesforce_url} is not an https:// URL",
            system=System.SALESFORCE,
            hint="Salesforce is only reachable over TLS: pass https://… (and --salesforce-ca "
            "for a self-signed certificate)",
        )
    hubspot_address = urlsplit(hubspot_url)
    if not (
        hubspot_address.scheme == "https"
        or (hubspot_address.scheme == "http" and hubspot_address.hostname in LOOPBACK_HOSTS)
    ):
        raise ConnectionCheckFailed(
            f"{hubspot_url} is not an https:// URL",
            system=System.HUBSPOT,
            hint="the token must not travel in clear text: pass https://api.hubapi.com (plain "
            "http:// only for a server on this machine, such as the emulator)",
        )
    if not hubspot_host_allowed(hubspot_address.hostname or ""):
        raise ConnectionCheckFailed(
            f"{hubspot_url} is not HubSpot's API",
            system=System.HUBSPOT,
            hint="pass https://api.hubapi.com (another host only when the HUBSPOT_API_URL "
            "setting names it, e.g. a proxy)",
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
        sandbox=salesforce_sandbox,
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
        failed = _check_failed(System.SALESFORCE, salesforce.instance_url, error)
        raise _secrets_blanked(failed, salesforce_token, salesforce_refresh_token) from error
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
        failed = _check_failed(System.HUBSPOT, hubspot.base_url, error)
        raise _secrets_blanked(failed, hubspot_token, hubspot_refresh_token) from error
    account: dict = {}
    with contextlib.suppress(RemoteError):  # optional: the account id is shown, the time
        account = hs.account_details()  # zone dates activities (UTC when unknown)
    hubspot.portal_id = str(account.get("portalId", ""))[:32]
    hubspot.last_verified_at = timezone.now()
    org = salesforce.organization_id
    before_org = connected_before(integration)[0]
    if same_org and org and before_org and org != before_org:
        raise ConnectionCheckFailed(
            f"you signed in to org {org}, not to org {before_org}, which the integration is "
            "connected to",
            system=System.SALESFORCE,
            hint="sign in as a user of the connected org; for a refreshed or new sandbox use "
            "Connect to a new sandbox",
        )
    if not another_account:
        # A new sandbox is another org by design: only the HubSpot account must stay.
        _refuse_another_account(integration, "" if new_sandbox else org, hubspot.portal_id)
    org_changed = new_sandbox and not (org and org == before_org)
    if org_changed:
        try:
            released = _salesforce_org_keys_release(integration, salesforce=sf, hubspot=hs)
        except ConnectorError as error:
            raise ConnectionCheckFailed(
                f"the switch stopped before it began ({error.message})",
                system=error.system,
                hint="nothing was reset: the integration stays on the sandbox it was; start "
                "Connect to a new sandbox again",
            ) from error

    with transaction.atomic():
        previous = SalesforceConnection.objects.filter(integration=integration).first()
        forgotten = _salesforce_org_forget(integration, actor=actor) if org_changed else None
        if forgotten is not None:
            forgotten["company_keys_emptied"] = released.pop("companies", 0)
            if released:  # custom objects' records
                forgotten["record_keys_emptied"] = sum(released.values())
        SalesforceConnection.objects.filter(integration=integration).delete()
        HubSpotConnection.objects.filter(integration=integration).delete()
        salesforce.save()
        hubspot.save()
        SchemaCache.objects.update_or_create(
            integration=integration,
            system=System.HUBSPOT,
            object=HUBSPOT_ACCOUNT,
            defaults={
                "data": _account_kept(account),
                "fetched_at": timezone.now(),
            },
        )
        integration.refresh_from_db()
        held = hold_first_sync and _first_connection(integration, previous)
        if held:
            integration.sync_enabled, integration.sync_changed_at = False, None
            integration.sync_changed_by = ""
            integration.save(
                update_fields=["sync_enabled", "sync_changed_at", "sync_changed_by", "updated_at"]
            )
        previous_state = integration.state
        _state_write(integration, Integration.State.CONNECTED, "")
        object_syncs_start(integration=integration)
        if forgotten is not None:
            audit_event_record(
                action="integration.sandbox_changed",
                integration=integration,
                actor=actor,
                details={
                    "from": before_org,
                    "to": org,
                    "salesforce_url": salesforce.instance_url,
                    "salesforce_user": _salesforce_user_text(salesforce),
                    **forgotten,
                },
            )
        elif (
            previous is not None
            and previous.user_id
            and salesforce.user_id
            and previous.user_id != salesforce.user_id
        ):
            audit_event_record(
                action="integration.user_changed",
                integration=integration,
                actor=actor,
                details={
                    "from": _salesforce_user_text(previous),
                    "to": _salesforce_user_text(salesforce),
                    "salesforce_org": org,
                },
            )
        audit_event_record(
            action="integration.connected",
            integration=integration,
            actor=actor,
            details={
                "previous_state": previous_state,
                "salesforce_url": salesforce.instance_url,
                "salesforce_user": salesforce.username or salesforce.user_id,
                "salesforce_org": org,
                **({"salesforce_sandbox": True} if salesforce_sandbox else {}),
                "hubspot_url": hubspot.base_url,
                "salesforce_refresh": salesforce.can_refresh,
                "hubspot_refresh": hubspot.can_refresh,
                **({"sync_waits_for_start": True} if held else {}),
            },
        )
    return integration


def _first_connection(integration: Integration, previous: SalesforceConnection | None) -> bool:
    """Nothing was ever connected or synced: no connection before this one (stored, or in the
    audit log after a disconnect), no cycle run, no record linked. A reconnect, or a connect
    after a disconnect, keeps the switch as it was."""
    return (
        previous is None
        and not AuditEvent.objects.filter(
            integration=integration,
            action__in=["integration.connected", "integration.disconnected"],
        ).exists()
        and not SyncRun.objects.filter(integration=integration).exists()
        and not RecordLink.objects.filter(integration=integration).exists()
    )


def _salesforce_user_text(connection: SalesforceConnection) -> str:
    """The integration user as the audit log names it: "Name (username)"."""
    name, username = connection.user_name, connection.username
    if name and username:
        return f"{name} ({username})"
    return name or username or connection.user_id


def _salesforce_org_keys_release(
    integration: Integration, *, salesforce: Any, hubspot: Any
) -> dict[str, int]:
    """Before a new sandbox's switch forgets the links: a linked company names its account in
    its key (and *Salesforce Account ID*), and a company whose key names another account is
    nobody's partner (``PairSync.hubspot_partners_named``), so every company would be made
    again beside itself once its account, now with another id, syncs. The key is emptied on
    the linked companies whose account the new org lacks (a copy keeps the ids: those find
    their company again by them): 1,500 ids a Salesforce call, 100 companies a HubSpot one.
    A custom pair's HubSpot records keep their Salesforce record's id in
    ``salesforce_record_id_sync`` the same way: emptied alike, so they match again by the
    external id's value. Outside the switch's transaction, before it: a switch that dies here
    has reset nothing, and the next one empties the keys again. Returns how many were
    emptied, by pair (the pairs with links only)."""
    from .sync import companies, custom_objects

    schema = SchemaCache.objects.filter(
        integration=integration, system=System.HUBSPOT, object="companies"
    ).first()
    writable = {
        p.get("name")
        for p in (schema.data if schema else [])
        if isinstance(p, dict) and not p.get("readOnly")
    }
    # HubSpot's own Salesforce Account ID is read as a key too, where the sync writes it.
    pairs = {
        "companies": (
            "Account",
            "companies",
            {companies.KEY_PROPERTY: ""}
            | ({companies.LINK_PROPERTY: ""} if companies.LINK_PROPERTY in writable else {}),
        )
    }
    for row in ObjectSync.objects.filter(
        integration=integration, object__startswith=CUSTOM_PREFIX
    ).order_by("pk"):
        custom = settings_for(row.object, row.options)
        if custom.salesforce_object and custom.hubspot_object:
            pairs[row.object] = (
                custom.salesforce_object,
                custom.hubspot_object,
                {custom_objects.KEY_PROPERTY: ""},
            )
    return {
        name: _salesforce_keys_empty(
            integration, name, *pair, salesforce=salesforce, hubspot=hubspot
        )
        for name, pair in pairs.items()
        if RecordLink.objects.filter(integration=integration, object=name).exists()
    }


def _salesforce_keys_empty(
    integration: Integration,
    pair: str,
    sobject: str,
    hubspot_type: str,
    props: dict[str, str],
    *,
    salesforce: Any,
    hubspot: Any,
) -> int:
    """Empty ``props`` on the pair's linked HubSpot records whose Salesforce record the new
    org lacks; how many."""
    from .sync.changes import salesforce_by_ids, with_retries

    links = dict(
        RecordLink.objects.filter(integration=integration, object=pair).values_list(
            "salesforce_id", "hubspot_id"
        )
    )
    kept = {r["Id"] for r in salesforce_by_ids(salesforce, sobject, ["Id"], sorted(links))}
    gone = sorted(h for s, h in links.items() if s not in kept)
    for start in range(0, len(gone), 100):
        chunk = [{"id": h, "properties": props} for h in gone[start : start + 100]]
        # A record deleted in HubSpot meanwhile is only reported (207): none to empty.
        with_retries(lambda c=chunk: hubspot.batch_update(object_type=hubspot_type, inputs=c))
    return len(gone)


def _salesforce_org_forget(
    integration: Integration, *, actor: AbstractBaseUser | None = None
) -> dict[str, int]:
    """Another Salesforce org (a refreshed or new sandbox) replaces the connected one: its
    record ids mean nothing there. The links (and their snapshots) go, every cursor (the
    next cycle starts over as the first did: records match again by email and ids), the
    pending Resyncs and the current errors (ended: their records no longer sync), and the
    imports running against the old org stop. Settings, mappings and the history stay.
    Returns the counts, for the audit log."""
    from .imports import import_cancel

    active = ImportJob.objects.filter(
        integration=integration, status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    )
    stopped = sum(import_cancel(job=job, actor=actor) for job in active)
    errors = list(
        SyncError.objects.filter(integration=integration, resolved_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    ResyncRequest.objects.filter(integration=integration).delete()
    return {
        "links_removed": RecordLink.objects.filter(integration=integration).delete()[0],
        "cursors_reset": SyncCursor.objects.filter(integration=integration).delete()[0],
        "errors_ended": sync_errors_end(integration=integration, error_ids=errors),
        "imports_stopped": stopped,
    }


@dataclass(frozen=True)
class ObjectAccessGap:
    """A Salesforce object the sync uses that the integration user can't fully use."""

    sobject: str
    lacks: tuple[str, ...]  # of "read", "create", "edit"


def synced_salesforce_objects(*, integration: Integration) -> list[str]:
    """The Salesforce objects of the pairs that are on (custom pairs' too), in pair order."""
    names: list[str] = []
    for row in ObjectSync.objects.filter(integration=integration, enabled=True).order_by("pk"):
        if row.object.startswith(CUSTOM_PREFIX):
            sobject = (row.options or {}).get("salesforce_object")
            names += [sobject] if sobject else []
        else:
            names += SALESFORCE_OBJECTS.get(row.object, ())
    return list(dict.fromkeys(names))


def integration_user_access_gaps(*, integration: Integration) -> list[ObjectAccessGap]:
    """What the Salesforce integration user lacks on the synced objects (spec §1: Read, Create
    and Edit on each; HubSpot asks Modify All): one describeGlobal, whose flags are that
    user's (an object it can't read isn't listed at all). Raises ``ConnectorError``."""
    from .connectors.salesforce import SalesforceConnector

    needed = synced_salesforce_objects(integration=integration)
    if not needed:
        return []
    described = SalesforceConnector(integration=integration).describe() or {}
    listed = {o.get("name"): o for o in described.get("sobjects", [])}
    gaps = []
    for sobject in needed:
        entry = listed.get(sobject) or {}
        flags = (("read", "queryable"), ("create", "createable"), ("edit", "updateable"))
        lacks = tuple(
            what for what, flag in flags if not entry.get(flag) or not entry.get("queryable")
        )
        if lacks:
            gaps.append(ObjectAccessGap(sobject=sobject, lacks=lacks))
    return gaps


def salesforce_sign_in_identity(
    *, integration: Integration, salesforce_url: str, salesforce_token: str, salesforce_ca: str = ""
) -> dict:
    """Who a Salesforce sign-in is, before it is stored (one userinfo call): ``user_id``,
    ``organization_id``, ``name``, ``preferred_username``. Raises
    :class:`ConnectionCheckFailed`."""
    from .connectors.salesforce import SalesforceConnector

    unsaved = SalesforceConnection(
        integration=integration,
        instance_url=salesforce_url.rstrip("/"),
        ca_bundle=salesforce_ca,
        access_token=salesforce_token,
    )
    try:
        return SalesforceConnector(integration=integration, connection=unsaved).userinfo()
    except (ConnectorError, ValueError) as error:
        failed = _check_failed(System.SALESFORCE, unsaved.instance_url, error)
        raise _secrets_blanked(failed, salesforce_token) from error


def connected_before(integration: Integration) -> tuple[str, str]:
    """The Salesforce org id and HubSpot account id the integration is, or was last,
    connected to ("" when unknown): the stored connections, else the last disconnect's
    audit event."""
    from .selectors import audit_events_query

    # Read from the database: the connections being made are already the integration's
    # in memory (a one-to-one sets its reverse side), and must not answer for the stored.
    salesforce = SalesforceConnection.objects.filter(integration=integration).first()
    hubspot = HubSpotConnection.objects.filter(integration=integration).first()
    org = salesforce.organization_id if salesforce else ""
    portal = hubspot.portal_id if hubspot else ""
    if not (org and portal):
        last = audit_events_query(
            integration=integration, action="integration.disconnected"
        ).first()
        details = (last.details or {}) if last else {}
        org = org or str(details.get("salesforce_org") or "")
        portal = portal or str(details.get("hubspot_account") or "")
    return org, portal


def _refuse_another_account(integration: Integration, org: str, portal: str) -> None:
    """Refuse an org or account other than the one the links were made with (both ids known
    on each side; nothing to refuse before the first link)."""
    if not RecordLink.objects.filter(integration=integration).exists():
        return
    before_org, before_portal = connected_before(integration)
    for system, label, noun, now, before, advice in (
        (System.SALESFORCE, "Salesforce", "org", org, before_org, "sign in to the org"),
        (System.HUBSPOT, "HubSpot", "account", portal, before_portal, "use a token of the account"),
    ):
        if now and before and now != before:
            raise ConnectionCheckFailed(
                f"{label} {noun} {now} is not {noun} {before}, whose records the integration's "
                "links point at",
                system=system,
                hint=f"{advice} the integration synced with; for another {noun}, start from a "
                "fresh installation (manage.py connect --another-account takes it anyway)",
            )


def hubspot_host_allowed(host: str) -> bool:
    """HubSpot's API hosts, this machine (the emulator) and the operator's HUBSPOT_API_URL:
    the token is sent to it and its answer is shown, so an admin can't aim the server at
    another address on its network."""
    host = host.lower().rstrip(".")
    configured = (urlsplit(settings.HUBSPOT_API_URL).hostname or "").lower()
    return bool(host) and (
        host in LOOPBACK_HOSTS
        or host == configured
        or host == "hubapi.com"
        or host.endswith(".hubapi.com")
    )


def _secrets_blanked(failed: ConnectionCheckFailed, *tokens: str) -> ConnectionCheckFailed:
    """The failure with any token the remote answer echoed blanked out: it is shown on the
    page and printed by ``connect``."""
    text = failed.message
    for token in tokens:
        if token and len(token) >= 8:
            text = text.replace(token, "…")
    failed.message = re.sub(r"(?i)\b(bearer|oauth)\s+[^\s\"',;]+", r"\1 …", text)
    return failed


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
    if paused_because(integration, ALLOCATION_USED) and budget_remaining(
        integration=integration, system=System.SALESFORCE
    ):
        # Raised past what the window holds: the next cycle may spend again, so the header
        # stops saying "used up" now rather than after that cycle.
        integration = integration_set_state(
            integration=integration, state=Integration.State.CONNECTED, actor=actor
        )
    return integration


def _state_write(integration: Integration, state: str, reason: str) -> None:
    """Set and save the integration's state, its reason and when it changed."""
    integration.state, integration.state_reason = state, reason
    integration.state_changed_at = timezone.now()
    integration.save(update_fields=["state", "state_reason", "state_changed_at", "updated_at"])


def integration_set_state(
    *,
    integration: Integration,
    state: str,
    reason: str = "",
    actor: AbstractBaseUser | None = None,
) -> Integration:
    """Pause, resume, suspend or disconnect the integration. A disconnected one stays so: only
    connecting (``integration_connect``) brings it back, not a cycle that was still running
    when the admin disconnected and then pauses or suspends."""
    if state not in Integration.State.values:
        raise ValueError(f"unknown state {state!r}")
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        previous = integration.state
        if previous == state and integration.state_reason == reason:
            return integration
        if previous == Integration.State.DISCONNECTED:
            return integration
        _state_write(integration, state, reason)
        audit_event_record(
            action="integration.state_changed",
            integration=integration,
            actor=actor,
            details={"from": previous, "to": state, "reason": reason},
        )
    return integration


def integration_sync_set(
    *, integration: Integration, enabled: bool, actor: AbstractBaseUser | None = None
) -> Integration:
    """Turn the whole sync on or off (spec §2's global toggle). Off: the schedule starts no
    cycle, and a cycle asked for by hand or by a resync refuses to run; a cycle already
    running finishes. Nothing else changes: the cursors stay put, so turning sync back on
    reads every change made meanwhile on both sides."""
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        if integration.sync_enabled == enabled:
            return integration
        integration.sync_enabled = enabled
        integration.sync_changed_at = timezone.now()
        user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
        integration.sync_changed_by = user.get_username()[:150] if user is not None else ""
        integration.save(
            update_fields=["sync_enabled", "sync_changed_at", "sync_changed_by", "updated_at"]
        )
        audit_event_record(
            action="integration.sync_turned_on" if enabled else "integration.sync_turned_off",
            integration=integration,
            actor=actor,
        )
    return integration


# The reason a disconnected integration shows (the header translates it).
DISCONNECTED_BY_ADMIN = "Disconnected on the Connection page; the stored tokens were deleted."


def integration_disconnect(
    *, integration: Integration, actor: AbstractBaseUser | None = None
) -> Integration:
    """End the connection: delete both stored connections (tokens, refresh tokens and client
    secrets with them) and mark the integration disconnected, so no cycle runs. Settings,
    mappings, links, cursors, errors and the audit log stay: connecting the same org and
    account again (``integration_connect``) continues where the sync left off. What was
    connected is kept in the audit event, to compare with a later connect."""
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk)
        salesforce = SalesforceConnection.objects.filter(integration=integration).first()
        hubspot = HubSpotConnection.objects.filter(integration=integration).first()
        details: dict[str, Any] = {"previous_state": integration.state}
        if salesforce is not None:
            details["salesforce_url"] = salesforce.instance_url
            details["salesforce_user"] = salesforce.username or salesforce.user_id
            details["salesforce_org"] = salesforce.organization_id
        if hubspot is not None:
            details["hubspot_url"] = hubspot.base_url
            details["hubspot_account"] = hubspot.portal_id
        SalesforceConnection.objects.filter(integration=integration).delete()
        HubSpotConnection.objects.filter(integration=integration).delete()
        _state_write(integration, Integration.State.DISCONNECTED, DISCONNECTED_BY_ADMIN)
        audit_event_record(
            action="integration.disconnected",
            integration=integration,
            actor=actor,
            details=details,
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

    Returns ``(user, password, created)``; a password is generated when none is given. A
    given one must pass AUTH_PASSWORD_VALIDATORS, as it would on a password form: raises
    Django's ``ValidationError`` (nothing saved) otherwise."""
    from django.contrib.auth.password_validation import validate_password

    user_model = get_user_model()
    if password:
        # The user as it would be, for validators that compare it with the username.
        candidate = user_model.objects.filter(username=username).first()
        validate_password(password, candidate or user_model(username=username))
    password = password or secrets.token_urlsafe(12)
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


# --- object settings ----------------------------------------------------------------------
# Salesforce objects behind each HubSpot object pair.
SALESFORCE_OBJECTS = {
    "contacts": ("Lead", "Contact"),
    "companies": ("Account",),
    "deals": ("Opportunity",),
    "tickets": ("Case",),
    "activities": ("Task", "Event"),
}


def object_sync_get_or_create(*, integration: Integration, object_name: str) -> ObjectSync:
    """A pair's row, made with its defaults the first time. Custom pairs' rows are made only
    by the wizard (``custom_object_create``): a removed one raises ``PairRemoved``, rather
    than coming back as an empty row."""
    if object_name.startswith(CUSTOM_PREFIX):
        row = ObjectSync.objects.filter(integration=integration, object=object_name).first()
        if row is None:
            raise PairRemoved(object_name)
        return row
    row, created = ObjectSync.objects.get_or_create(
        integration=integration,
        object=object_name,
        defaults={"enabled": starts_enabled(object_name)},
    )
    if created and object_name in SETTINGS_CLASSES:
        mappings_ensure_defaults(integration=integration, object_name=object_name)
    return row


def object_syncs_start(*, integration: Integration) -> None:
    """The rows of the pairs that start switched on (contacts), with their default mappings:
    the schedule and ``sync_now`` run the pairs whose rows say they're on, so a connected
    integration syncs people before anyone opens a tab."""
    for object_name in PAIR_CLASSES:
        if starts_enabled(object_name):
            object_sync_get_or_create(integration=integration, object_name=object_name)


def object_settings_update(
    *,
    integration: Integration,
    object_name: str,
    changes: dict[str, Any],
    enabled: bool | None = None,
    actor: AbstractBaseUser | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Validate and save a partial settings change; returns {name: (old, new)} of what changed.
    Raises ``SettingsError`` with per-field messages and saves nothing when any value is bad.

    A newly chosen HubSpot list (the contacts' inclusion list) is checked with HubSpot first
    (one call), so a list that doesn't exist is refused here, not by every later cycle."""
    cleaned = settings_validate(object_name, changes)
    list_names = _hubspot_lists_check(
        integration=integration, object_name=object_name, cleaned=cleaned
    )
    with transaction.atomic():
        row = object_sync_get_or_create(integration=integration, object_name=object_name)
        row = ObjectSync.objects.select_for_update().get(pk=row.pk)
        current = settings_as_dict(settings_for(object_name, row.options))
        diff = {k: (current[k], v) for k, v in cleaned.items() if current[k] != v}
        if (
            object_name == "tickets"
            and enabled
            and not row.enabled
            and not {**current, **cleaned}.get("setup_complete")
        ):
            # Its wizard sets the pipelines up; the switch (tab or API) waits for it.
            raise SettingsError({"enabled": "Finish the Tickets wizard first."})
        if enabled is not None and enabled != row.enabled:
            diff["enabled"] = (row.enabled, enabled)
            row.enabled = enabled
        if object_name.startswith(CUSTOM_PREFIX) and "salesforce_to_hubspot" in diff:
            _custom_object_creates_check(
                integration=integration, object_name=object_name, settings={**current, **cleaned}
            )
        if diff:
            # Settings that remember when they changed (activities: when a type was turned on).
            stamp = getattr(settings_class(object_name), "stamp_changes", None)
            stamps = stamp(current, diff, timezone.now()) if stamp else {}
            row.options = {**current, **cleaned, **stamps}
            row.save()
            details = {
                "object": object_name,
                "changes": {k: {"from": old, "to": new} for k, (old, new) in diff.items()},
            }
            if list_names:
                # So the audit log names the lists without asking HubSpot on every render.
                from .selectors import LIST_NAMES

                details[LIST_NAMES] = list_names
            audit_event_record(
                action="settings.updated", integration=integration, actor=actor, details=details
            )
    if "salesforce_state_country" in diff:
        _address_fields_refresh(integration=integration)
    return diff


def _address_fields_refresh(*, integration: Integration) -> None:
    """Read the describes of the pairs with addresses again (as Refresh does, every call in
    the ledger) when the state and country picklist setting changes: the org has usually just
    turned its picklists on or changed them, and a describe read before lacks the code fields
    and which countries have states (spec §12). Describes never read are read by the first
    cycle; when Salesforce can't answer now, the stored ones are forgotten so the next cycle
    reads them."""
    from .sync.pair import GEO_OBJECTS

    stored = set(
        SchemaCache.objects.filter(integration=integration, system=System.SALESFORCE).values_list(
            "object", flat=True
        )
    )
    for object_name, sobjects in GEO_OBJECTS.items():
        if not stored & set(sobjects):
            continue
        try:
            schema_refresh(integration=integration, object_name=object_name)
        except ConnectorError:
            SchemaCache.objects.filter(
                integration=integration, system=System.SALESFORCE, object__in=sobjects
            ).delete()


def _hubspot_lists_check(
    *, integration: Integration, object_name: str, cleaned: dict
) -> dict[str, str]:
    """Ask HubSpot about each HubSpot list id the change sets to a new list (one call each,
    none when the id stays or is cleared): it must be an active contact list. Raises
    ``SettingsError`` naming the setting otherwise, or when HubSpot can't be asked.

    Returns the names of the lists the change swaps, new and replaced, by id (for the audit
    log): a replaced list's as noted when it was chosen, else asked once (none if it's gone)."""
    settings = [
        n for n in getattr(settings_class(object_name), "HUBSPOT_LIST_IDS", ()) if n in cleaned
    ]
    if not settings:
        return {}
    from .connectors.hubspot import HubSpotConnector
    from .selectors import hubspot_list_names, object_settings_get

    current = settings_as_dict(
        object_settings_get(integration=integration, object_name=object_name)
    )
    changing = [name for name in settings if cleaned[name] != current.get(name)]
    names: dict[str, str] = {}
    object_type = getattr(settings_class(object_name), "HUBSPOT_LIST_OBJECT_TYPE", "0-1")
    errors = {
        name: message
        for name in changing
        if cleaned[name]
        and (message := _hubspot_list_problem(integration, cleaned[name], names, object_type))
    }
    if errors:
        raise SettingsError(errors)
    replaced = {str(current[name]) for name in changing if current.get(name)} - names.keys()
    if replaced:
        names |= hubspot_list_names(integration=integration, list_ids=replaced)
    for list_id in sorted(replaced - names.keys()):
        with contextlib.suppress(ConnectorError):
            found = HubSpotConnector(integration=integration).list_get(list_id=list_id)
            if getattr(getattr(found, "list", None), "name", None):
                names[list_id] = str(found.list.name)
    return names


def _hubspot_list_problem(
    integration: Integration,
    list_id: str,
    names: dict[str, str] | None = None,
    object_type: str = "0-1",
) -> str:
    """Why HubSpot's list ``list_id`` can't limit which records of ``object_type`` (contacts,
    "0-1"; companies, "0-2") sync ("" when it can; then its name goes in ``names``)."""
    from .connectors.hubspot import HubSpotConnector
    from .errors import NotFound
    from .selectors import is_list_of

    companies = object_type == "0-2"
    try:
        response = HubSpotConnector(integration=integration).list_get(list_id=list_id)
    except NotFound:
        if companies:
            return gettext(
                "HubSpot has no list %(id)s. Pick one of its active company lists, or none "
                "to sync all companies."
            ) % {"id": list_id}
        return gettext(
            "HubSpot has no list %(id)s. Pick one of its active contact lists, or none to "
            "sync all contacts."
        ) % {"id": list_id}
    except ConnectorError as error:
        return gettext(
            "HubSpot couldn't be asked whether list %(id)s exists, so nothing was saved. "
            "Try again. (%(error)s)"
        ) % {"id": list_id, "error": error}
    found = getattr(response, "list", None)
    if not is_list_of(found, object_type):
        if companies:
            return gettext("HubSpot list %(id)s isn't a company list.") % {"id": list_id}
        return gettext("HubSpot list %(id)s isn't a contact list.") % {"id": list_id}
    if getattr(found, "processing_type", None) != "DYNAMIC":
        return gettext(
            "HubSpot list %(id)s is a static list. Only active lists can limit what syncs."
        ) % {"id": list_id}
    if names is not None and getattr(found, "name", None):
        names[list_id] = str(found.name)
    return ""


# --- field mappings -----------------------------------------------------------------------
def mappings_ensure_defaults(*, integration: Integration, object_name: str) -> int:
    """Create HubSpot's default mappings for an object pair (they can't be deleted later)."""
    existing = set(
        FieldMapping.objects.filter(integration=integration, object=object_name).values_list(
            "hubspot_property", flat=True
        )
    )
    new = []
    for default in default_mappings(object_name):
        rule = default["default_rule"]
        if (
            not default["hubspot"]
            or rule == "integration_managed"
            or default["hubspot"] in existing
        ):
            continue  # link keys (Salesforce ids) are written by the engine itself, not mapped
        by_object = default.get("salesforce_by_object", {})
        new.append(
            FieldMapping(
                integration=integration,
                object=object_name,
                hubspot_property=default["hubspot"],
                salesforce_field=default["salesforce"],
                salesforce_fields={
                    o: by_object.get(o, default["salesforce"])
                    for o in default["salesforce_objects"]
                },
                rule=rule,
                is_default=True,
                salesforce_type=default.get("salesforce_type", ""),
            )
        )
    FieldMapping.objects.bulk_create(new, ignore_conflicts=True)
    made = len(new)
    if object_name == "deals":  # (schemas read before the pair's row was made)
        made += deal_currency_mapping_ensure(integration=integration)
    return made


def deal_currency_mapping_ensure(*, integration: Integration) -> bool:
    """Map the deal's currency to the opportunity's once both schemas show one (a
    multi-currency Salesforce org), as a default mapping with the amount's rule, so an amount
    never lands in another currency. True when it was made (here, or by a read at the same
    moment)."""
    prop, field_name = HUBSPOT_CURRENCY, CURRENCY_FIELD
    cached = {
        (row.system, row.object): row.data
        for row in SchemaCache.objects.filter(
            integration=integration,
            object__in=["deals", "Opportunity"],
        )
    }
    fields = {f["name"] for f in cached.get((System.SALESFORCE, "Opportunity"), [])}
    properties = {p["name"] for p in cached.get((System.HUBSPOT, "deals"), [])}
    if field_name not in fields or prop not in properties:
        return False
    mappings = FieldMapping.objects.filter(integration=integration, object="deals")
    if mappings.filter(Q(hubspot_property=prop) | Q(salesforce_field=field_name)).exists():
        return False  # made before, or an admin mapped either side already: theirs stays
    amount = mappings.filter(hubspot_property="amount").first()
    rule = amount.rule if amount is not None and amount.rule != SyncRule.DONT_SYNC else None
    made = FieldMapping(
        integration=integration,
        object="deals",
        hubspot_property=prop,
        salesforce_field=field_name,
        salesforce_fields={"Opportunity": field_name},
        rule=rule or SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
        is_default=True,
        salesforce_type="picklist",
    )
    # (A schema read elsewhere may make it at the same moment: one of them stands.)
    return bool(FieldMapping.objects.bulk_create([made], ignore_conflicts=True))


def hubspot_account_details(*, integration: Integration) -> dict:
    """The HubSpot account's details the engine keeps, read again when a day old (one call):
    a connection made before they were kept, one whose read failed when connecting, or an
    account whose time zone changed since, dates activities right from then on. A failed
    read keeps what was known and is tried again the next day."""
    from .connectors.hubspot import HubSpotConnector

    return _kept_read(
        integration,
        System.HUBSPOT,
        HUBSPOT_ACCOUNT,
        lambda: _account_kept(HubSpotConnector(integration=integration).account_details()),
        unknown={"timeZone": ""},
        max_age=HUBSPOT_ACCOUNT_MAX_AGE,
    )


def salesforce_currency_rates(*, integration: Integration, fresh: bool = False) -> dict:
    """A multi-currency org's currencies as the engine keeps them (``CurrencyType``: one
    query), read again when a day old or ``fresh``: ``{"rates": {code: rate}, "places":
    {code: decimals}, "active": [codes], "corporate": code}``, rates as text against the
    corporate currency. Salesforce converts every amount but an opportunity's by these rates;
    the engine, amounts it moves between a record's currency and HubSpot's company currency.
    A failed read keeps what was known ({} when nothing was) and is tried again in 20 minutes,
    as a record's error is: the amounts it holds back wait no longer than their retries."""
    from .connectors.salesforce import SalesforceConnector

    def read() -> dict:
        records = SalesforceConnector(integration=integration).query_all(
            "SELECT IsoCode, ConversionRate, DecimalPlaces, IsActive, IsCorporate FROM CurrencyType"
        )
        return {
            "rates": {r["IsoCode"]: str(r["ConversionRate"]) for r in records},
            "places": {r["IsoCode"]: int(r.get("DecimalPlaces") or 0) for r in records},
            "active": sorted(r["IsoCode"] for r in records if r.get("IsActive")),
            "corporate": next((r["IsoCode"] for r in records if r.get("IsCorporate")), ""),
        }

    return _kept_read(
        integration,
        System.SALESFORCE,
        SALESFORCE_CURRENCIES,
        read,
        unknown={},
        max_age=CURRENCIES_MAX_AGE,
        retry_after=CURRENCIES_RETRY,
        fresh=fresh,
    )


def _kept_read(
    integration: Integration,
    system: str,
    name: str,
    read: Callable[[], dict],
    *,
    unknown: dict,
    max_age: timedelta,
    retry_after: timedelta | None = None,
    fresh: bool = False,
) -> dict:
    """What the engine keeps of one remote read, with the schemas (row ``name``): the kept
    answer while under ``max_age`` (unless ``fresh``), else ``read()`` again. A failed read
    keeps what was known (``unknown`` when nothing was) and is due again after
    ``retry_after`` (default: ``max_age``)."""
    row = SchemaCache.objects.filter(integration=integration, system=system, object=name).first()
    now = timezone.now()
    if row is not None and not fresh and row.fetched_at > now - max_age:
        return row.data
    try:
        data, fetched_at = read(), now
    except RemoteError:
        data = dict(row.data) if row is not None else unknown
        fetched_at = now - max_age + (retry_after or max_age)
    _schema_store(integration, system, name, data, fetched_at=fetched_at)
    return data


def _account_kept(account: dict) -> dict:
    """What the engine keeps of ``GET /account-info/v3/details``."""
    return {
        "timeZone": str(account.get("timeZone") or ""),
        "companyCurrency": str(account.get("companyCurrency") or ""),
    }


def schema_refresh(*, integration: Integration, object_name: str) -> None:
    """Read HubSpot's properties and Salesforce's describe for an object pair into the cache
    the mapping editor and its validation use (one HubSpot call, one per Salesforce object)."""
    from .connectors.hubspot import HubSpotConnector
    from .connectors.salesforce import SalesforceConnector

    if object_name.startswith(CUSTOM_PREFIX):
        custom_object_schema_refresh(integration=integration, object_name=object_name)
        return
    # Activities span five HubSpot engagement types and have no mappings: no properties.
    properties = (
        []
        if object_name in UNMAPPED_PAIRS
        else HubSpotConnector(integration=integration).properties_get_all(object_type=object_name)
    )
    hs_data = [
        {
            "name": p.name,
            "label": p.label,
            "type": p.type,
            "fieldType": p.field_type,
            "readOnly": bool(
                getattr(p, "modification_metadata", None)
                and p.modification_metadata.read_only_value
            ),
            "options": [{"label": o.label, "value": o.value} for o in (p.options or [])],
        }
        for p in properties
    ]
    salesforce = SalesforceConnector(integration=integration)
    described: dict[str, list] = {}
    for sobject in SALESFORCE_OBJECTS[object_name]:
        describe = salesforce.describe_object(sobject)
        by_name = {f["name"]: f for f in describe["fields"]}
        sf_data = [
            {
                "name": f["name"],
                "label": f["label"],
                "type": f["type"],
                "length": f.get("length"),
                "scale": f.get("scale"),
                "createable": f.get("createable", False),
                "updateable": f.get("updateable", False),
                "calculated": f.get("calculated", False),
                "picklistValues": [
                    v["value"] for v in f.get("picklistValues") or [] if v.get("active")
                ],
                "default": _describe_default(f),
                # The org's countries and which states each has (spec §12).
                **address_picklist_describe(f, by_name),
            }
            for f in describe["fields"]
        ]
        described[sobject] = sf_data
    # Stored only once every read answered: a half-stored schema (HubSpot's without
    # Salesforce's, say, when the allocation ran out) would be taken for a whole one.
    with transaction.atomic():
        _schema_store(integration, System.HUBSPOT, object_name, hs_data)
        for sobject, sf_data in described.items():
            _schema_store(integration, System.SALESFORCE, sobject, sf_data)
        if object_name == "deals":
            deal_currency_mapping_ensure(integration=integration)


def schema_refresh_by_admin(
    *, integration: Integration, object_name: str, actor: AbstractBaseUser | None
) -> None:
    """An admin's *Refresh properties and fields* (the object tabs, a custom object's page,
    the API): ``schema_refresh``, audit-logged once it answered. The engine's own reads (a
    tab's first visit, a cycle) aren't admins' actions and log nothing."""
    schema_refresh(integration=integration, object_name=object_name)
    details: dict[str, Any] = {"object": object_name}
    sobjects = list(SALESFORCE_OBJECTS.get(object_name, ()))
    if object_name.startswith(CUSTOM_PREFIX):  # its entry keeps naming it once it is gone
        row = ObjectSync.objects.get(integration=integration, object=object_name)
        pair_settings = settings_for(object_name, row.options)
        details["hubspot_label"] = pair_settings.hubspot_label
        sobjects = [pair_settings.salesforce_object]
    if pair_class(object_name).converts_amounts and any(
        CURRENCY_FIELD in _schema(integration, System.SALESFORCE, sobject) for sobject in sobjects
    ):  # a multi-currency org's amounts convert: an admin's new rates apply from now
        salesforce_currency_rates(integration=integration, fresh=True)
    audit_event_record(
        action="schema.refreshed", integration=integration, actor=actor, details=details
    )


def schema_first_read(*, integration: Integration, object_name: str) -> str:
    """Read a pair's schemas the first time its mapping editor is shown, when they never were:
    the read Refresh makes (``schema_refresh``, every call in the ledger). Returns "" once they
    are read, else why they couldn't be; that answer is kept for ``REMOTE_READ_TTL``, so
    reloading meanwhile neither spends calls nor waits on a side that is down (Refresh asks at
    once; a reconnect asks afresh)."""
    from .selectors import cached_remote_read

    def read() -> str:
        needed = {(System.HUBSPOT, object_name)} | {
            (System.SALESFORCE, sobject) for sobject in SALESFORCE_OBJECTS.get(object_name, ())
        }
        stored = set(
            SchemaCache.objects.filter(integration=integration).values_list("system", "object")
        )
        if needed <= stored:  # read meanwhile (another tab, a sync cycle)
            return ""
        try:
            schema_refresh(integration=integration, object_name=object_name)
        except ConnectorError as error:
            return str(error)
        return ""

    return cached_remote_read(integration, f"schema-first-read:{object_name}", read, keep=bool)


def _describe_default(field: dict):
    """What Salesforce fills in on create when a field is left out (a picklist's default
    value, or the field's defaultValue)."""
    for value in field.get("picklistValues") or []:
        if value.get("defaultValue") and value.get("active", True):
            return value["value"]
    return field.get("defaultValue")


def _schema_store(
    integration: Integration,
    system: str,
    object_name: str,
    data: list | dict,
    *,
    fetched_at: datetime | None = None,
) -> None:
    SchemaCache.objects.update_or_create(
        integration=integration,
        system=system,
        object=object_name,
        defaults={"data": data, "fetched_at": fetched_at or timezone.now()},
    )


def _schema(integration: Integration, system: str, object_name: str) -> dict[str, dict]:
    row = SchemaCache.objects.filter(
        integration=integration, system=system, object=object_name
    ).first()
    return {f["name"]: f for f in (row.data if row else [])}


EMAIL_RULES = (SyncRule.PREFER_SALESFORCE_UNLESS_BLANK, SyncRule.TWO_WAY)
OWNER_PROPERTY = "hubspot_owner_id"


# The mapping editor's refusals, by template: the words stay English (the REST API answers
# with them), and the dashboard shows each in the reader's language, its parts filled in
# (``integration_admin.labels.ENGINE_MESSAGE_LABELS``).
MAPPING_RULE_UNKNOWN = "unknown sync rule"
MAPPING_NO_PROPERTY = "HubSpot has no {pair} property '{property}'"
MAPPING_HUBSPOT_USER = "HubSpot user properties can't be mapped"
MAPPING_HUBSPOT_BOOKKEEPING = "{property} is HubSpot's own bookkeeping: it can't be mapped"
MAPPING_ENGINE_KEY = (
    "{property} is the integration's own key: it links the records, so it can't be mapped"
)
MAPPING_ENGINE_MANAGED = (
    "{property} is set by the integration itself from {field}: it can't be mapped"
)
MAPPING_SYSTEM_FIELD = "{field} is a Salesforce system field: it can't be mapped"
MAPPING_NO_FIELD = "{sobject} has no field '{field}'"
MAPPING_NO_FIELD_EITHER = "{sobject} or {other} has no field '{field}'"
# ``hubspot_type`` is "type (fieldType)", as HubSpot's API names it; the dashboard says it as
# HubSpot's property editor does ("Dropdown select"), and a Salesforce type as Setup does.
MAPPING_INCOMPATIBLE = (
    "A HubSpot {hubspot_type} property can't map to a Salesforce {salesforce_type} field"
)
MAPPING_INCOMPATIBLE_ON = MAPPING_INCOMPATIBLE + ": {sobject}'s {field} is one"
MAPPING_TAKEN = "'{name}' is already mapped"
MAPPINGS_LOCKED = "Turn {pair} sync on before changing its mappings"
MAPPING_DEFAULT_KEPT = "Default mappings can't be deleted"
TICKET_PROPERTY_NEEDED = "HubSpot needs {property} on every ticket: it always syncs"
EMAIL_RULES_REFUSED = (
    "Email syncs only with 'Prefer Salesforce unless blank' or 'Two-way', so an invalid "
    "address can't get stuck"
)
OWNER_RULES_REFUSED = "The owner always syncs both ways"

RULES_REFUSED = {  # why a mapping_rules property can't have another rule
    "email": EMAIL_RULES_REFUSED,
    OWNER_PROPERTY: OWNER_RULES_REFUSED,
}


# A read-only (or formula) Salesforce field takes no writes (spec §8.2).
READ_ONLY_RULES = (SyncRule.ALWAYS_USE_SALESFORCE, SyncRule.DONT_SYNC)
READ_ONLY_REFUSED = (
    "Read-only in Salesforce: only 'Always use Salesforce' or 'Don't sync' can work, writes "
    "to it fail"
)


# A read-only HubSpot property (HubSpot computes it) takes no writes either: only the rules
# that write Salesforce from HubSpot (rules.py) move it. Both sides read-only: nothing can.
HUBSPOT_READ_ONLY_RULES = (
    SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
    SyncRule.TWO_WAY,
    SyncRule.DONT_SYNC,
)
HUBSPOT_READ_ONLY_REFUSED = (
    "Read-only in HubSpot: only 'Prefer Salesforce unless blank', 'Two-way' or 'Don't sync' "
    "can work, its value can only flow to Salesforce"
)
BOTH_READ_ONLY_REFUSED = "Read-only in both HubSpot and Salesforce: this pair can never sync"


def mapping_rules(
    hubspot_property: str, *, salesforce_read_only: bool = False, hubspot_read_only: bool = False
) -> tuple[str, ...]:
    """The sync rules a mapping of ``hubspot_property`` may have (email: two; the owner:
    two-way only; a read-only Salesforce field: Salesforce's value or nothing; a read-only
    HubSpot property: those that write Salesforce, or nothing; both: nothing; the rest:
    all)."""
    if hubspot_property == "email":
        return tuple(EMAIL_RULES)
    if hubspot_property == OWNER_PROPERTY:
        return (SyncRule.TWO_WAY,)
    rules = tuple(SyncRule)
    if salesforce_read_only:
        rules = tuple(r for r in rules if r in READ_ONLY_RULES)
    if hubspot_read_only:
        rules = tuple(r for r in rules if r in HUBSPOT_READ_ONLY_RULES)
    return rules


def _rule_refused(hubspot_property: str, *, salesforce_read_only: bool, hubspot_read_only: bool):
    """Why ``mapping_rules`` leaves a rule out."""
    if hubspot_property in RULES_REFUSED:
        return RULES_REFUSED[hubspot_property]
    if salesforce_read_only and hubspot_read_only:
        return BOTH_READ_ONLY_REFUSED
    return HUBSPOT_READ_ONLY_REFUSED if hubspot_read_only else READ_ONLY_REFUSED


def _hubspot_unmappable(prop: dict, object_name: str) -> str:
    """Why a HubSpot property can't be mapped whatever its counterpart, "" when it can: what
    the editor's picker leaves out (selectors), typed by hand or through the API."""
    from .selectors import (
        engine_key_properties,
        engine_managed_properties,
        hubspot_internal_property,
    )

    name = prop["name"]
    if prop["fieldType"] == "hubspot_user":
        return MAPPING_HUBSPOT_USER
    if hubspot_internal_property(prop):
        return MAPPING_HUBSPOT_BOOKKEEPING.format(property=name)
    if name in engine_key_properties(object_name):
        return MAPPING_ENGINE_KEY.format(property=name)
    if field := engine_managed_properties(object_name).get(name):
        return MAPPING_ENGINE_MANAGED.format(property=name, field=field)
    return ""


def mapping_validate(
    *,
    integration: Integration,
    object_name: str,
    hubspot_property: str,
    salesforce_field: str,
    rule: str = SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
    refresh_schema: bool = True,
) -> dict[str, Any]:
    """Check a new mapping against the cached schemas and the compatibility matrix (§8.1).
    Returns what to store; raises ``SettingsError`` with the message the editor shows inline.

    With nothing cached yet the schemas are read first (3 calls), unless ``refresh_schema`` is
    False (a check anyone may make): then ``SettingsError`` on ``schema`` says so."""
    from .selectors import SALESFORCE_SYSTEM_FIELDS

    if rule not in SyncRule.__members__.values():
        raise SettingsError({"rule": MAPPING_RULE_UNKNOWN})
    # Defaults first, so a custom mapping can never take a default's property or field.
    object_sync_get_or_create(integration=integration, object_name=object_name)
    if not SchemaCache.objects.filter(integration=integration, object=object_name).exists():
        if not refresh_schema:
            raise SettingsError(
                {"schema": "Properties and fields not read yet: an admin refreshes them first"}
            )
        schema_refresh(integration=integration, object_name=object_name)
    prop = _schema(integration, System.HUBSPOT, object_name).get(hubspot_property)
    if prop is None:
        raise SettingsError(
            {
                "hubspot_property": MAPPING_NO_PROPERTY.format(
                    pair=object_name, property=hubspot_property
                )
            }
        )
    if refused := _hubspot_unmappable(prop, object_name):
        raise SettingsError({"hubspot_property": refused})
    if salesforce_field in SALESFORCE_SYSTEM_FIELDS:  # the picker's, typed by hand
        refused = MAPPING_SYSTEM_FIELD.format(field=salesforce_field)
        raise SettingsError({"salesforce_field": refused})
    fields = {}
    for sobject in SALESFORCE_OBJECTS[object_name]:
        field = _schema(integration, System.SALESFORCE, sobject).get(salesforce_field)
        if field is not None:
            fields[sobject] = field
    if not fields:
        *some, last = SALESFORCE_OBJECTS[object_name]
        refused = (
            MAPPING_NO_FIELD_EITHER.format(
                sobject=" or ".join(some), other=last, field=salesforce_field
            )
            if some
            else MAPPING_NO_FIELD.format(sobject=last, field=salesforce_field)
        )
        raise SettingsError({"salesforce_field": refused})
    # Lead and Contact may each have the field, as different types: both must fit (§8.1).
    types = {sobject: field["type"] for sobject, field in fields.items()}
    for sobject, sf_type in types.items():
        if is_compatible(hs_type=prop["type"], hs_field_type=prop["fieldType"], sf_type=sf_type):
            continue
        parts = {
            "hubspot_type": f"{prop['type']} ({prop['fieldType']})",
            "salesforce_type": sf_type,
        }
        refused = (  # which object's field doesn't fit, when Lead's and Contact's differ
            MAPPING_INCOMPATIBLE_ON.format(**parts, sobject=sobject, field=salesforce_field)
            if len(set(types.values())) > 1
            else MAPPING_INCOMPATIBLE.format(**parts)
        )
        raise SettingsError({"salesforce_field": refused})
    sf_type = next(iter(types.values()))
    taken = FieldMapping.objects.filter(integration=integration, object=object_name)
    if taken.filter(hubspot_property=hubspot_property).exists():
        raise SettingsError({"hubspot_property": MAPPING_TAKEN.format(name=hubspot_property)})
    if taken.filter(salesforce_field=salesforce_field).exists():
        raise SettingsError({"salesforce_field": MAPPING_TAKEN.format(name=salesforce_field)})
    salesforce_read_only = any(read_only_field(f) for f in fields.values())
    hubspot_read_only = bool(prop.get("readOnly"))
    if salesforce_read_only and hubspot_read_only:
        raise SettingsError({"salesforce_field": BOTH_READ_ONLY_REFUSED})
    if salesforce_read_only and rule not in READ_ONLY_RULES:
        raise SettingsError({"salesforce_field": READ_ONLY_REFUSED})  # shown by the field
    if hubspot_read_only and rule not in HUBSPOT_READ_ONLY_RULES:
        raise SettingsError({"hubspot_property": HUBSPOT_READ_ONLY_REFUSED})
    return {
        "salesforce_fields": {o: salesforce_field for o in fields},
        "salesforce_type": sf_type,
        "hubspot_type": prop["type"],
        "hubspot_field_type": prop["fieldType"],
    }


def mappings_editable_check(*, integration: Integration, object_name: str) -> None:
    """Company mappings are editable only while company sync is on (spec §9)."""
    if starts_enabled(object_name):
        return
    row = ObjectSync.objects.filter(integration=integration, object=object_name).first()
    # A pair set up through a wizard (tickets) takes mapping changes while its wizard is open.
    if row is not None and not getattr(settings_for(object_name, row.options), "setup_complete", 1):
        return
    if row is None or not row.enabled:
        raise SettingsError({"mapping": MAPPINGS_LOCKED.format(pair=object_name)})


def mapping_create(
    *,
    integration: Integration,
    object_name: str,
    hubspot_property: str,
    salesforce_field: str,
    rule: str = SyncRule.PREFER_SALESFORCE_UNLESS_BLANK,
    actor: AbstractBaseUser | None = None,
) -> FieldMapping:
    mappings_editable_check(integration=integration, object_name=object_name)
    checked = mapping_validate(
        integration=integration,
        object_name=object_name,
        hubspot_property=hubspot_property,
        salesforce_field=salesforce_field,
        rule=rule,
    )
    with transaction.atomic():
        mapping = FieldMapping.objects.create(
            integration=integration,
            object=object_name,
            hubspot_property=hubspot_property,
            salesforce_field=salesforce_field,
            rule=rule,
            **checked,
        )
        # What a former mapping of the property last synced is no baseline for this field.
        _snapshots_forget(integration=integration, object_name=object_name, prop=hubspot_property)
    audit_event_record(
        action="mapping.created",
        integration=integration,
        actor=actor,
        details={
            "object": object_name,
            "hubspot": hubspot_property,
            "salesforce": salesforce_field,
            "rule": rule,
        },
    )
    return mapping


def mapping_update_rule(
    *, mapping: FieldMapping, rule: str, actor: AbstractBaseUser | None = None
) -> FieldMapping:
    mappings_editable_check(integration=mapping.integration, object_name=mapping.object)
    if rule not in SyncRule.__members__.values():
        raise SettingsError({"rule": MAPPING_RULE_UNKNOWN})
    read_only = {
        "salesforce_read_only": any(
            read_only_field(field)
            for sobject in SALESFORCE_OBJECTS.get(mapping.object, ())
            if (
                field := _schema(mapping.integration, System.SALESFORCE, sobject).get(
                    mapping.field_for(sobject)
                )
            )
        ),
        "hubspot_read_only": bool(
            _schema(mapping.integration, System.HUBSPOT, mapping.object)
            .get(mapping.hubspot_property, {})
            .get("readOnly")
        ),
    }
    if rule not in mapping_rules(mapping.hubspot_property, **read_only):
        raise SettingsError({"rule": _rule_refused(mapping.hubspot_property, **read_only)})
    if rule == SyncRule.DONT_SYNC and mapping.rule != SyncRule.DONT_SYNC:
        _mapping_still_needed_check(mapping, key="rule")
    old = mapping.rule
    if old != rule:
        mapping.rule = rule
        mapping.save(update_fields=["rule", "updated_at"])
        audit_event_record(
            action="mapping.rule_changed",
            integration=mapping.integration,
            actor=actor,
            details={
                "object": mapping.object,
                "hubspot": mapping.hubspot_property,
                "from": old,
                "to": rule,
            },
        )
    return mapping


def mapping_delete(*, mapping: FieldMapping, actor: AbstractBaseUser | None = None) -> None:
    mappings_editable_check(integration=mapping.integration, object_name=mapping.object)
    if mapping.is_default:
        raise SettingsError({"mapping": MAPPING_DEFAULT_KEPT})
    if mapping.rule != SyncRule.DONT_SYNC:
        _mapping_still_needed_check(mapping, key="mapping")
    with transaction.atomic():  # the entry only with the delete it records
        audit_event_record(
            action="mapping.deleted",
            integration=mapping.integration,
            actor=actor,
            details={
                "object": mapping.object,
                "hubspot": mapping.hubspot_property,
                "salesforce": mapping.salesforce_field,
                "rule": mapping.rule,
            },
        )
        mapping.delete()
        _snapshots_forget(
            integration=mapping.integration,
            object_name=mapping.object,
            prop=mapping.hubspot_property,
        )


def _snapshots_forget(*, integration: Integration, object_name: str, prop: str) -> None:
    """Drop ``prop`` from the pair's link snapshots (the values last synced). Kept, the value
    of a mapping deleted would be the baseline of the next mapping of that property, to
    another field: that field, blank or different, would read as changed in Salesforce and
    overwrite, or clear, HubSpot's value at the record's next sync (§8.2: not retroactive)."""
    from django.db import connections, router
    from django.db.models.expressions import RawSQL

    links = RecordLink.objects.filter(
        integration=integration, object=object_name, snapshot__has_key=prop
    )
    vendor = connections[router.db_for_write(RecordLink)].vendor
    if vendor == "postgresql":
        links.update(snapshot=RawSQL("snapshot - %s", (prop,)))
    elif vendor == "sqlite":
        links.update(snapshot=RawSQL("json_remove(snapshot, %s)", (f'$."{prop}"',)))
    else:
        changed = []
        for link in links.only("pk", "snapshot").iterator(chunk_size=1000):
            link.snapshot.pop(prop, None)
            changed.append(link)
        RecordLink.objects.bulk_update(changed, ["snapshot"], batch_size=500)


# --- sync errors --------------------------------------------------------------------------
RETRY_EVERY = timedelta(minutes=20)
RETRY_ATTEMPTS = 10  # then the nightly queue (spec §3.3)
QUICK_ATTEMPTS = 10  # a transient error's first tries, on the next cycles


def _next_retry(attempts: int, now, error_type: str = ""):
    if error_type == "transient":
        # A locked row or a blip: the next cycles first; then, as any error, every 20
        # minutes, so a lock held for ten minutes isn't parked until the night.
        if attempts < QUICK_ATTEMPTS:
            return now
        attempts -= QUICK_ATTEMPTS
    if attempts < RETRY_ATTEMPTS:
        return now + RETRY_EVERY
    tomorrow = (now + timedelta(days=1)).date()
    return datetime.combine(tomorrow, time.min, tzinfo=UTC)  # the nightly queue


def sync_error_record(
    *,
    integration: Integration,
    object_name: str,
    error_type: str,
    direction: str,
    hubspot_id: str = "",
    salesforce_id: str = "",
    salesforce_type: str = "",
    record_label: str = "",
    code: str = "",
    message: str = "",
    fields: list[str] | None = None,
    values: dict[str, Any] | None = None,
    record_key: str | None = None,
) -> SyncError:
    """Open (or bump) the current error of this type for one record, scheduling its retry.
    ``record_key`` ("hubspot:<id>" or "salesforce:<id>") names the record the error belongs
    to; by default the HubSpot record when there is one."""
    record_key = record_key or (
        f"hubspot:{hubspot_id}" if hubspot_id else f"salesforce:{salesforce_id}"
    )
    now = timezone.now()
    with transaction.atomic():
        current = (
            SyncError.objects.select_for_update()
            .filter(
                integration=integration,
                object=object_name,
                record_key=record_key,
                error_type=error_type,
                resolved_at__isnull=True,
            )
            .first()
        )
        if current is None:
            current = SyncError.objects.create(
                integration=integration,
                object=object_name,
                error_type=error_type,
                direction=direction,
                record_key=record_key,
                hubspot_id=hubspot_id,
                salesforce_id=salesforce_id,
                salesforce_type=salesforce_type,
                record_label=record_label[:300],
                code=code,
                message=message,
                fields=fields or [],
                values=values or {},
                first_seen_at=now,
                last_seen_at=now,
                attempts=1,
                next_retry_at=_next_retry(1, now, error_type),
            )
        else:
            current.attempts += 1
            current.last_seen_at = now
            current.message, current.code, current.fields = message, code, fields or []
            current.values = values or {}
            current.salesforce_id = salesforce_id or current.salesforce_id
            current.hubspot_id = hubspot_id or current.hubspot_id
            current.record_label = (record_label or current.record_label)[:300]
            current.next_retry_at = _next_retry(current.attempts, now, error_type)
            current.save()
        # The record's other open errors (it now fails another way, say) are retried with
        # this one: left due, they would send the record round again every cycle.
        SyncError.objects.filter(
            integration=integration,
            object=object_name,
            record_key=record_key,
            resolved_at__isnull=True,
            next_retry_at__lt=current.next_retry_at,
        ).exclude(pk=current.pk).update(next_retry_at=current.next_retry_at)
        return current


def pair_object_refused(
    *,
    integration: Integration,
    object_name: str,
    sobject: str,
    code: str,
    message: str,
    direction: str = SyncError.Direction.TO_HUBSPOT,
) -> SyncError:
    """The integration user may not use Salesforce's ``sobject`` at all: one *Object
    permission* error for the pair (key ``object:<sobject>``), which holds the pair back until
    its check, every ``RETRY_EVERY`` for as long as it lasts (one call), finds access again
    (``pair_object_access_back``); never parked until the night."""
    error = sync_error_record(
        integration=integration,
        object_name=object_name,
        error_type="object_permission",
        direction=direction,
        salesforce_type=sobject,
        record_label=sobject,
        code=code,
        message=message,
        record_key=f"{OBJECT_KEY}{sobject}",
    )
    error.next_retry_at = timezone.now() + RETRY_EVERY
    SyncError.objects.filter(pk=error.pk).update(next_retry_at=error.next_retry_at)
    return error


def pair_object_access_back(
    *, integration: Integration, object_name: str, sobjects: list[str]
) -> int:
    """The pair's check found these objects usable again: their *Object permission* errors
    end, and Resyncs asked for them are served (the pair itself never sees those keys)."""
    keys = [f"{OBJECT_KEY}{sobject}" for sobject in sobjects]
    ResyncRequest.objects.filter(
        integration=integration, object=object_name, record_key__startswith=OBJECT_KEY
    ).delete()
    return sync_errors_resolve(integration=integration, object_name=object_name, record_keys=keys)


def sync_errors_resolve(
    *,
    integration: Integration,
    object_name: str,
    record_keys: list[str],
    except_types: tuple[str, ...] = (),
    ended_because: str = SyncError.EndedBecause.SYNCED,
) -> int:
    """A record synced: its current errors clear themselves, except ``except_types`` (errors
    the pair ends by its own check, such as waiting for a partner record). Another
    ``ended_because`` says why they end otherwise (the record was deleted, say)."""
    if not record_keys:
        return 0
    resolved = 0
    now = timezone.now()
    for chunk in _chunked(record_keys, 500):
        query = SyncError.objects.filter(
            integration=integration,
            object=object_name,
            record_key__in=chunk,
            resolved_at__isnull=True,
        ).exclude(error_type__in=except_types)
        resolved += query.update(resolved_at=now, next_retry_at=None, ended_because=ended_because)
    return resolved


def sync_errors_end(
    *,
    integration: Integration,
    error_ids: list[int],
    ended_because: str = SyncError.EndedBecause.NOT_SYNCING,
) -> int:
    """End these current errors (their record no longer syncs, so nothing is left to fix):
    kept in its history, which says so (or why else, ``ended_because``)."""
    ended = 0
    for chunk in _chunked(sorted(error_ids), 500):
        ended += SyncError.objects.filter(
            integration=integration, pk__in=chunk, resolved_at__isnull=True
        ).update(
            resolved_at=timezone.now(),
            next_retry_at=None,
            ended_because=ended_because,
        )
    return ended


def sync_errors_retry_later(*, integration: Integration, error_ids: list[int]) -> int:
    """A retry of these current errors changed nothing (neither resolved nor recorded them
    again): it counts as an attempt, and each waits for its next retry on the usual backoff
    instead of staying due. A record's errors go at the latest of their times, as when one
    is recorded (the record is retried as a whole)."""
    if not error_ids:
        return 0
    now = timezone.now()
    errors: list[SyncError] = []
    with transaction.atomic():
        for chunk in _chunked(sorted(error_ids), 500):
            errors += SyncError.objects.select_for_update().filter(
                integration=integration, pk__in=chunk, resolved_at__isnull=True
            )
        latest: dict[tuple[str, str], datetime] = {}
        for error in errors:
            error.attempts += 1
            error.next_retry_at = _next_retry(error.attempts, now, error.error_type)
            record = (error.object, error.record_key)
            latest[record] = max(latest.get(record, error.next_retry_at), error.next_retry_at)
        for error in errors:
            error.next_retry_at = latest[(error.object, error.record_key)]
        SyncError.objects.bulk_update(errors, ["attempts", "next_retry_at"], batch_size=500)
    return len(errors)


def sync_errors_request_resync(
    *,
    integration: Integration,
    error_ids: list[int] | None = None,
    error_type: str | None = None,
    search: str = "",
    actor: AbstractBaseUser | None = None,
) -> int:
    """Queue current errors for a retry on the next cycle (all of a type, those a panel's
    ``search`` finds, or the given ids), and start that cycle now."""
    from .selectors import pairs_switched_on, resync_errors_query
    from .tasks import sync_object

    query = resync_errors_query(
        integration=integration, error_ids=error_ids, error_type=error_type, search=search
    )
    objects = sorted(query.order_by().values_list("object", flat=True).distinct())
    count = query.update(next_retry_at=timezone.now() - timedelta(seconds=1))
    audit_event_record(
        action="errors.resync_requested",
        integration=integration,
        actor=actor,
        details={
            "count": count,
            "error_type": error_type,
            **({"search": search} if search else {}),
            "ids": error_ids[:100] if error_ids else None,
        },
    )
    # A pair switched off runs no cycle: its errors stay queued for its first one once on.
    on = pairs_switched_on(integration=integration)
    for object_name in [name for name in objects if name in on]:
        transaction.on_commit(
            lambda o=object_name: sync_object.delay(
                integration_id=integration.pk, object_name=o, trigger="resync"
            )
        )
    return count


# A HubSpot list's name is unique among its object type's lists: a second view made the same
# minute gets " (2)", and so on.
VIEW_NAME_ATTEMPTS = 5


@dataclass
class CreatedView:
    """A MANUAL HubSpot list of one object type's records that have a type of error."""

    list_id: str
    name: str
    object_type_id: str  # "0-1", "2-1000001"…
    hubspot_object: str  # "contacts", or a custom object's type id
    records: int  # added to the list
    missing: int = 0  # HubSpot ids HubSpot no longer has (deleted since the error)


@dataclass
class ErrorViews:
    """What :func:`sync_errors_create_view` made, and the errors it had to leave out."""

    views: list[CreatedView] = dataclass_field(default_factory=list)
    not_in_hubspot: int = 0  # records without a HubSpot id yet (Salesforce-only so far)
    activities: int = 0  # engagements: a list can't hold them

    @property
    def records(self) -> int:
        return sum(view.records for view in self.views)

    @property
    def missing(self) -> int:
        return sum(view.missing for view in self.views)


def _view_list_create(connector: Any, *, name: str, object_type_id: str) -> Any:
    """Create the list, numbering the name when the object type already has a list so named."""
    from .errors import BadRequest

    for attempt in range(1, VIEW_NAME_ATTEMPTS + 1):
        candidate = name if attempt == 1 else f"{name} ({attempt})"
        try:
            return connector.list_create(name=candidate, object_type_id=object_type_id)
        except BadRequest as refused:
            if attempt == VIEW_NAME_ATTEMPTS:
                raise
            # Refused for its name (a list has it), or for something else: that refusal stands.
            try:
                connector.list_get_by_name(name=candidate, object_type_id=object_type_id)
            except ConnectorError:
                raise refused from None
    raise AssertionError("unreachable")


def sync_errors_create_view(
    *, integration: Integration, error_type: str, actor: AbstractBaseUser | None = None
) -> ErrorViews:
    """The *Create view* of an error type (spec §3.2): one MANUAL HubSpot list per HubSpot
    object type, holding the records that have a current error of the type, for people to
    edit them in bulk in HubSpot. Left out, and counted: records HubSpot doesn't have yet
    (their Salesforce record hasn't synced) and activities (a list can't hold engagements).

    Calls HubSpot (1 create per list, 1 add per 500 records); a failure raises the
    connector's error, after audit-logging the lists already made."""
    from .connectors.hubspot import HubSpotConnector
    from .error_types import ERROR_TYPES
    from .selectors import error_view_records

    result = ErrorViews()
    affected = error_view_records(integration=integration, error_type=error_type)
    result.not_in_hubspot, result.activities = affected.not_in_hubspot, affected.activities
    groups = affected.groups
    if not groups:
        return result
    title = (ERROR_TYPES.get(error_type) or ERROR_TYPES["other"]).title
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    name = f"Salesforce sync errors: {title} ({stamp})"
    connector = HubSpotConnector(integration=integration)

    def audit(**extra: Any) -> None:
        audit_event_record(
            action="errors.view_created",
            integration=integration,
            actor=actor,
            details={
                "error_type": error_type,
                "lists": [view.list_id for view in result.views],
                "records": result.records,
                **extra,
            },
        )

    # Standard objects first, in HubSpot's order (contacts, companies, deals, tickets).
    for type_id in sorted(groups, key=lambda t: (not t.startswith("0-"), t)):
        ids = groups[type_id]
        try:
            created = _view_list_create(connector, name=name, object_type_id=type_id)
            view = CreatedView(
                list_id=str(created.list_id),
                name=str(created.name or name),
                object_type_id=type_id,
                hubspot_object=HUBSPOT_OBJECT_TYPE_IDS.get(type_id, type_id),
                records=0,
            )
            result.views.append(view)
            added = connector.list_add_members(list_id=view.list_id, record_ids=ids)
        except ConnectorError as error:
            if result.views:  # made before the failure, and left in HubSpot
                audit(failed=error.message)
            raise
        view.missing = len(added["missing"])
        view.records = len(ids) - view.missing
    audit()
    return result


@transaction.atomic
def record_resync(
    *,
    integration: Integration,
    object_name: str,
    record_key: str,
    salesforce_type: str = "",
    actor: AbstractBaseUser | None = None,
) -> ResyncRequest:
    """Sync one record again on the next cycle, whatever its state (also when it has no
    error: e.g. to push values a new mapping didn't backfill), and start that cycle now."""
    # (An ``object:<Salesforce object>`` key asks the pair to check its access at once.)
    if not record_key.startswith(("hubspot:", "salesforce:", OBJECT_KEY)):
        raise SettingsError({"record": "expected hubspot:<id> or salesforce:<id>"})
    request, _ = ResyncRequest.objects.update_or_create(
        integration=integration,
        object=object_name,
        record_key=record_key,
        defaults={"salesforce_type": salesforce_type, "requested_at": timezone.now()},
    )
    audit_event_record(
        action="record.resync_requested",
        integration=integration,
        actor=actor,
        details={"object": object_name, "record": record_key},
    )
    from .selectors import pairs_switched_on
    from .tasks import sync_object

    if object_name in pairs_switched_on(integration=integration):  # else its first cycle once on
        transaction.on_commit(
            lambda: sync_object.delay(
                integration_id=integration.pk, object_name=object_name, trigger="resync"
            )
        )
    return request


# --- asked for by hand: Sync now, one record's sync, Disconnect -------------------------------
# The pages and the API call these and word the outcome each their own way (the engine only
# says what happened, by code).

# Why *Sync now* started no cycle (``SyncStarted.refused``).
SYNC_NOW_SUSPENDED = "suspended"
SYNC_NOW_NOT_CONNECTED = "not_connected"
SYNC_NOW_ALLOCATION_USED = "allocation_used"  # paused, and the allocation still used up
SYNC_NOW_SYNC_OFF = "sync_off"


@dataclass(frozen=True)
class SyncStarted:
    """What *Sync now* did: the pairs its cycle syncs (none when every pair is off), or why it
    started none (``refused``: a ``SYNC_NOW_*`` code)."""

    objects: list[str] = dataclass_field(default_factory=list)
    refused: str = ""

    @property
    def ok(self) -> bool:
        return not self.refused


def _sync_now_refused(integration: Integration) -> str:
    state = integration.state
    if state == Integration.State.SUSPENDED:
        return SYNC_NOW_SUSPENDED
    if state not in (Integration.State.CONNECTED, Integration.State.PAUSED):
        return SYNC_NOW_NOT_CONNECTED
    # Paused with calls freed up meanwhile: the cycle looks again, and ends the pause.
    if state == Integration.State.PAUSED:
        remaining = budget_remaining(integration=integration, system=System.SALESFORCE)
        if remaining is not None and remaining <= 0:
            return SYNC_NOW_ALLOCATION_USED
    if not integration.sync_enabled:
        return SYNC_NOW_SYNC_OFF
    return ""


def integration_sync_now(
    *, integration: Integration, actor: AbstractBaseUser | None = None
) -> SyncStarted:
    """*Sync now*: one cycle over every pair switched on, started on a worker once the
    transaction commits (in dependency order, sharing one change probe). Audit-logged.
    Refused while suspended, not connected, paused with the allocation used up, or with the
    whole sync off."""
    from .selectors import pairs_to_sync
    from .tasks import sync_pairs

    refused = _sync_now_refused(integration)
    if refused:
        return SyncStarted(refused=refused)
    objects = pairs_to_sync(integration=integration)
    with transaction.atomic():
        transaction.on_commit(
            lambda: sync_pairs.delay(
                integration_id=integration.pk, object_names=list(objects), trigger="manual"
            )
        )
        if objects:
            audit_event_record(
                action="sync.requested",
                integration=integration,
                actor=actor,
                details={"objects": objects, "trigger": "manual"},
            )
    return SyncStarted(objects=objects)


# Why one record's sync wasn't queued (``RecordSyncRequest.refused``).
RECORD_UNREADABLE = "unreadable"  # what was typed is no record id, HubSpot address or email
RECORD_PAIR_OFF = "pair_off"
RECORD_NOT_FOUND = "not_found"  # HubSpot has no such record
RECORD_NO_EMAIL = "no_email"  # a contact without one can't be matched
RECORD_LIST_MISSING = "list_missing"  # the inclusion list is gone from HubSpot
RECORD_NOT_IN_LIST = "not_in_list"  # the inclusion list keeps it out
RECORD_UNAVAILABLE = "unavailable"  # HubSpot couldn't be asked: try again later

# A record's address in HubSpot: ``…/record/0-1/<id>`` (or the older ``…/contact/<id>``).
CONTACT_ADDRESS = re.compile(r"/(?:record/0-1|contact)/(\d{1,30})/?(?:[?#].*)?$")
COMPANY_ADDRESS = re.compile(r"/(?:record/0-2|company)/(\d{1,30})/?(?:[?#].*)?$")


@dataclass(frozen=True)
class RecordSyncRequest:
    """What asking one record to sync again did (its page's *Resync*, a tab's *Sync a …*):
    queued, or why not (``refused``: a ``RECORD_*`` code, with what it names)."""

    object_name: str
    record_key: str = ""  # hubspot:<id> or salesforce:<id>, once known
    name: str = ""  # its name in HubSpot, when HubSpot was asked
    refused: str = ""
    asked: str = ""  # the email address or record id read from what was typed
    list_id: str = ""  # the inclusion list, for RECORD_LIST_MISSING / RECORD_NOT_IN_LIST
    error: str = ""  # why HubSpot couldn't be asked, for RECORD_UNAVAILABLE
    errors_queued: int = 0  # its current errors, queued for a retry with it
    waits: str = ""  # why the queued sync doesn't run at once (``sync_waits_because``)

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def unavailable(self) -> bool:
        """Refused only because HubSpot couldn't be reached (an outage, not bad input)."""
        return self.refused == RECORD_UNAVAILABLE

    @property
    def record_id(self) -> str:
        return self.record_key.partition(":")[2]


def _record_id_from(text: str, address: re.Pattern) -> str | None:
    """The record id an admin typed, or read from the record's HubSpot ``address`` (a pattern
    whose group is the id) they pasted."""
    text = text.strip()
    if text.isdigit() and len(text) <= 30:
        return text
    found = address.search(text)
    return found.group(1) if found else None


def _record_sync_queue(
    integration: Integration,
    object_name: str,
    record_id: str,
    name: str,
    actor: AbstractBaseUser | None,
) -> RecordSyncRequest:
    """Queue HubSpot record ``record_id`` for the next cycle (started once stored)."""
    from .selectors import sync_waits_because

    record_key = f"hubspot:{record_id}"
    record_resync(
        integration=integration, object_name=object_name, record_key=record_key, actor=actor
    )
    return RecordSyncRequest(
        object_name=object_name,
        record_key=record_key,
        name=name,
        waits=sync_waits_because(integration=integration, object_name=object_name),
    )


def record_resync_with_errors(
    *, integration: Integration, history: RecordHistory, actor: AbstractBaseUser | None = None
) -> RecordSyncRequest:
    """A record's *Resync* (``history``: the record as ``record_history`` read it): the whole
    record syncs again on the next cycle, started now, errors or not (e.g. values a new
    mapping didn't backfill), its current errors queued for a retry with it. Audit-logged."""
    from .selectors import sync_waits_because

    ids = [error.pk for error in history.current]
    with transaction.atomic():
        if ids:
            sync_errors_request_resync(integration=integration, actor=actor, error_ids=ids)
        record_resync(
            integration=integration,
            object_name=history.object,
            record_key=history.record_key,
            salesforce_type=history.link.salesforce_type if history.link else "",
            actor=actor,
        )
    return RecordSyncRequest(
        object_name=history.object,
        record_key=history.record_key,
        errors_queued=len(ids),
        waits=sync_waits_because(integration=integration, object_name=history.object),
    )


def contact_sync_request(
    *, integration: Integration, contact: str, actor: AbstractBaseUser | None = None
) -> RecordSyncRequest:
    """*Sync a contact*: one HubSpot contact (``contact``: its email address or record id,
    or its HubSpot address, as typed or pasted) syncs on the next cycle whatever its modified
    date, e.g. one skipped while it was outside the inclusion list, which no change query sees
    again until it changes. HubSpot is asked first (one call, two with an inclusion list), so
    a typo or a contact the list keeps out isn't queued. Audit-logged."""
    from .selectors import hubspot_contact_find, record_query_kinds

    contact = contact.strip()
    if "@" in contact:
        key = contact if record_query_kinds(contact) == ("email",) else None
    else:
        key = _record_id_from(contact, CONTACT_ADDRESS)
    return _hubspot_record_sync_request(
        integration,
        "contacts",
        key,
        lambda asked: hubspot_contact_find(integration=integration, key=asked),
        actor,
    )


def company_sync_request(
    *, integration: Integration, company: str, actor: AbstractBaseUser | None = None
) -> RecordSyncRequest:
    """*Sync a company* (spec §9: the company record's Sync creates its Salesforce account
    even when the automatic rules don't): one HubSpot company (``company``: its record id or
    HubSpot address, as typed or pasted) syncs on the next cycle, once HubSpot says it exists
    (one call, two with a company inclusion list: a typo, or a company the list keeps out,
    must not look queued). Audit-logged."""
    from .selectors import hubspot_company_name

    def find(company_id: str) -> dict | None:
        name = hubspot_company_name(integration=integration, company_id=company_id)
        return None if name is None else {"id": company_id, "label": name}

    key = _record_id_from(company, COMPANY_ADDRESS)
    return _hubspot_record_sync_request(integration, "companies", key, find, actor)


def _hubspot_record_sync_request(
    integration: Integration,
    object_name: str,
    key: str | None,
    find: Callable[[str], dict | None],
    actor: AbstractBaseUser | None,
) -> RecordSyncRequest:
    """*Sync a contact* or *Sync a company* once what was typed is read (``key``: the record's
    id, or a contact's email address; None when unreadable): refused while the pair is off,
    when HubSpot has no such record (``find``: its ``{"id", "label"}``, and a contact's
    ``email``), when a contact has no email address, or when the pair's inclusion list is gone
    or keeps it out (one HubSpot call, two with an inclusion list); queued otherwise."""
    from .selectors import LIST_RESYNC_OBJECT_TYPES, hubspot_record_in_list, inclusion_list_missing

    def refused(reason: str, **what: str) -> RecordSyncRequest:
        return RecordSyncRequest(object_name=object_name, refused=reason, **what)

    if key is None:
        return refused(RECORD_UNREADABLE)
    row = object_sync_get_or_create(integration=integration, object_name=object_name)
    if not row.enabled:
        return refused(RECORD_PAIR_OFF)
    list_id = settings_for(object_name, row.options).inclusion_list_id
    try:
        found = find(key)
        if found is None:
            return refused(RECORD_NOT_FOUND, asked=key)
        who = {"record_key": f"hubspot:{found['id']}", "name": found["label"]}
        if object_name == "contacts" and not found["email"]:
            return refused(RECORD_NO_EMAIL, **who)
        # A list HubSpot no longer has (the last cycle found it gone) isn't asked about; a
        # record outside the list would be skipped by the cycle.
        if list_id and str(list_id) == inclusion_list_missing(
            integration=integration, object_name=object_name
        ):
            return refused(RECORD_LIST_MISSING, list_id=str(list_id), **who)
        if list_id and not hubspot_record_in_list(
            integration=integration,
            object_type_id=LIST_RESYNC_OBJECT_TYPES[object_name],
            record_id=found["id"],
            list_id=list_id,
        ):
            return refused(RECORD_NOT_IN_LIST, list_id=str(list_id), **who)
    except ConnectorError as error:
        return refused(RECORD_UNAVAILABLE, asked=key, error=str(error))
    return _record_sync_queue(integration, object_name, found["id"], found["label"], actor)


# --- Resync a list (spec §5.2 "resyncing a whole list or segment", §8.2: the way to backfill
# a new mapping into Salesforce) ----------------------------------------------------------------
# The most records one list resync queues: HubSpot's own bulk resync takes at most 200,000
# (spec §4 item 10, §18). A larger list is refused whole, never cut short silently.
LIST_RESYNC_MAX = 200_000
# The Salesforce objects a list resync's pair reads and writes: contacts' leads and contacts;
# companies' accounts, and their contacts' ``AccountId``. The cost of a cycle's share (up to
# ``RETRY_BATCH`` records) is bounded per object: its partners read by id and by email (or
# name), 200 values a query and five queries to a composite call; then its updates and its
# creates, each ``SALESFORCE_COLLECTION`` records (five collections of 200) a call.
LIST_RESYNC_SALESFORCE_OBJECTS = {
    "contacts": ("Lead", "Contact"),
    "companies": ("Account", "Contact"),
}
LIST_RESYNC_QUERY_SIZE = 200
# Why a list resync queued nothing, or stopped (``ListResync.refused``), besides
# RECORD_PAIR_OFF and RECORD_UNAVAILABLE.
LIST_NOT_FOUND = "list_not_found"
LIST_OTHER_OBJECT = "list_other_object"  # e.g. a company list for the Contacts tab
LIST_TOO_LARGE = "list_too_large"
LIST_EMPTY = "list_empty"
LIST_RESYNC_RUNNING = "list_resync_running"  # the same list's resync is queued or running
LIST_RESYNC_BROKE = "list_resync_broke"  # an unexpected error stopped it (``error``: which)
LIST_RESYNC_DISCONNECTED = "list_resync_disconnected"  # *Disconnect* stopped it


@dataclass(frozen=True)
class ListResync:
    """What *Resync a list* found (its confirmation), what its job has queued so far
    (``job``), or why nothing is, or no more is, queued (``refused``: a code above, with
    ``error`` for RECORD_UNAVAILABLE and LIST_RESYNC_BROKE)."""

    object_name: str
    list_id: str
    name: str = ""
    members: int = 0  # as HubSpot counts them
    queued: int = 0
    refused: str = ""
    error: str = ""
    waits: str = ""  # why the queued syncs don't run at once (``sync_waits_because``)
    job: ListResyncJob | None = None

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def salesforce_calls(self) -> int:
        """What syncing the members costs in Salesforce calls at most, over ``cycles`` cycles
        (each cycle's share read and written in batches: ``_list_resync_cycle_calls``)."""
        from .sync.pair import RETRY_BATCH

        full, rest = divmod(self.members, RETRY_BATCH)
        calls = full * _list_resync_cycle_calls(self.object_name, RETRY_BATCH)
        return calls + _list_resync_cycle_calls(self.object_name, rest)

    @property
    def cycles(self) -> int:
        """The cycles the members take: each serves a pair's queued resyncs in turn."""
        from .sync.pair import RETRY_BATCH

        return max(1, -(-self.members // RETRY_BATCH))


def _list_resync_cycle_calls(object_name: str, records: int) -> int:
    """The most Salesforce calls a cycle spends on ``records`` resynced members: per object
    (``LIST_RESYNC_SALESFORCE_OBJECTS``) two reads (by id, by email or name) of 200 values a
    query, five queries to a composite call, then updates and creates of
    ``SALESFORCE_COLLECTION`` a call."""
    from .sync.changes import COMPOSITE_QUERIES
    from .sync.contacts import CAMPAIGN_LOOKUP
    from .sync.pair import SALESFORCE_COLLECTION

    if not records:
        return 0
    objects = len(LIST_RESYNC_SALESFORCE_OBJECTS.get(object_name, ()))
    queries = 2 * objects * -(-records // LIST_RESYNC_QUERY_SIZE)
    writes = 2 * objects * -(-records // SALESFORCE_COLLECTION)
    # People the cycle links (made in Salesforce) get their campaigns looked up too.
    campaigns = -(-records // CAMPAIGN_LOOKUP) if object_name == "contacts" else 0
    return -(-queries // COMPOSITE_QUERIES) + writes + campaigns


def list_resync_outcome(job: ListResyncJob) -> ListResync:
    """A list resync's job as *Resync a list* tells it: what it has queued so far, and once it
    succeeded why those syncs wait, if they do (1 query then)."""
    from .selectors import sync_waits_because

    waits = ""
    if job.status == ListResyncJob.Status.SUCCEEDED:
        waits = sync_waits_because(integration=job.integration, object_name=job.object)
    return ListResync(
        object_name=job.object,
        list_id=job.list_id,
        name=job.list_name,
        members=job.members,
        queued=job.queued,
        refused=job.refused,
        error=job.error,
        waits=waits,
        job=job,
    )


def _list_resync_check(integration: Integration, object_name: str, list_id: str) -> ListResync:
    """HubSpot's list ``list_id`` as *Resync a list* takes it (one HubSpot call): its name and
    size, or why it can't be resynced."""
    from .selectors import LIST_RESYNC_OBJECT_TYPES, hubspot_list_get

    def refused(reason: str, **what: Any) -> ListResync:
        return ListResync(object_name=object_name, list_id=list_id, refused=reason, **what)

    if object_name not in LIST_RESYNC_OBJECT_TYPES:
        raise SettingsError({"object": "only contacts and companies are resynced by list"})
    list_id = str(list_id).strip()
    if not list_id.isdigit() or len(list_id) > 30:
        return refused(LIST_NOT_FOUND)
    if not object_sync_get_or_create(integration=integration, object_name=object_name).enabled:
        return refused(RECORD_PAIR_OFF)
    try:
        found = hubspot_list_get(integration=integration, list_id=list_id)
    except ConnectorError as error:
        return refused(RECORD_UNAVAILABLE, error=str(error))
    if found is None:
        return refused(LIST_NOT_FOUND)
    what = {"name": found["name"], "members": found["size"] or 0}
    wanted = LIST_RESYNC_OBJECT_TYPES[object_name]
    if found["object_type_id"] not in (wanted, "contacts" if wanted == "0-1" else wanted):
        return refused(LIST_OTHER_OBJECT, **what)
    if what["members"] > LIST_RESYNC_MAX:
        return refused(LIST_TOO_LARGE, **what)
    if found["size"] == 0:
        return refused(LIST_EMPTY, **what)
    return ListResync(object_name=object_name, list_id=list_id, **what)


def _list_resync_running(
    integration: Integration, object_name: str, list_id: str
) -> tuple[ListResyncJob | None, ListResync | None]:
    """The list's resync still queued or running, and the refusal it makes of another (None
    when its worker died: a confirm takes it up again). No HubSpot call."""
    from .imports import job_stalled
    from .selectors import list_resync_active

    active = list_resync_active(integration=integration, object_name=object_name, list_id=list_id)
    if active is None or job_stalled(active):
        return active, None
    running = list_resync_outcome(active)
    return active, ListResync(**{**running.__dict__, "refused": LIST_RESYNC_RUNNING})


def list_resync_preview(*, integration: Integration, object_name: str, list_id: str) -> ListResync:
    """*Resync a list*'s confirmation: the list's name and size, and about what syncing its
    members again costs in Salesforce calls, or why it can't be resynced (one HubSpot call, none
    while the list's resync runs; nothing is queued)."""
    _, running = _list_resync_running(integration, object_name, str(list_id).strip())
    return running or _list_resync_check(integration, object_name, list_id)


def list_resync_request(
    *,
    integration: Integration,
    object_name: str,
    list_id: str,
    actor: AbstractBaseUser | None = None,
    enqueue: bool = True,
) -> ListResync:
    """*Resync a list*, confirmed: every member of HubSpot list ``list_id`` (contacts or
    companies) syncs again, whatever its state, as each record's own *Resync* would (queued
    ``ResyncRequest``s, which the pair serves ``RETRY_BATCH`` a cycle). Only what is cheap
    happens here (one HubSpot call: the list's name and size; a list over ``LIST_RESYNC_MAX``
    is refused whole): a worker reads the members (``list_resync_run``) once the transaction
    commits, or the caller does with ``enqueue=False``. Refused while the same list's resync
    is queued or running (``LIST_RESYNC_RUNNING``); one whose worker died goes on after the
    last page it queued. Audit-logged once, when the job is made."""
    from .imports import job_create
    from .tasks import run_list_resync

    list_id = str(list_id).strip()
    active, running = _list_resync_running(integration, object_name, list_id)
    if running:
        return running
    if active is not None:  # stalled: its worker died
        ListResyncJob.objects.filter(pk=active.pk, status=ListResyncJob.Status.RUNNING).update(
            status=ListResyncJob.Status.QUEUED, worker=""
        )
        active.refresh_from_db()
        if enqueue:
            transaction.on_commit(lambda: run_list_resync.delay(active.pk))
        return list_resync_outcome(active)
    checked = _list_resync_check(integration, object_name, list_id)
    if not checked.ok:
        return checked
    try:
        with transaction.atomic():
            job = job_create(
                ListResyncJob,
                integration=integration,
                actor=actor,
                action="records.list_resync_requested",
                details={
                    "object": object_name,
                    "list_id": checked.list_id,
                    "list": checked.name,
                    "records": checked.members,
                },
                job_key="job",
                task=run_list_resync if enqueue else None,
                object=object_name,
                list_id=checked.list_id,
                list_name=checked.name[:255],
                members=checked.members,
            )
    except IntegrityError:  # another confirm of the list made its job first (a double-click)
        return _list_resync_running(integration, object_name, list_id)[1] or checked
    return list_resync_outcome(job)


def list_resync_run(*, job: ListResyncJob, stop_after_pages: int | None = None) -> ListResyncJob:
    """A list resync's worker part: HubSpot's count once more (the list may have gone, or grown
    past the cap, since the confirmation), then its members from the job's position, 250 a
    HubSpot call, each page's ``ResyncRequest``s committed with the position after it, so a
    worker that dies leaves a job the next one goes on with (a request is one per record:
    reading a page again queues nothing twice). The pair's first cycle starts once all are
    queued. Returns at once when another worker holds a live lease on it;
    ``stop_after_pages`` stops early as a crash would (tests): the job stays *running*."""
    from .errors import NotFound
    from .selectors import hubspot_list_member_pages
    from .sync.cycle import lock_holder_new

    holder = lock_holder_new()
    if not _list_resync_claim(job, holder):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    try:
        if not job.after and not job.queued:
            checked = _list_resync_check(job.integration, job.object, job.list_id)
            if not checked.ok:
                members = checked.members or job.members
                return _list_resync_end(
                    job, holder, refused=checked.refused, error=checked.error, members=members
                )
            job.list_name, job.members = checked.name[:255], checked.members
            job.save(update_fields=["list_name", "members"])
        pages = hubspot_list_member_pages(
            integration=job.integration, list_id=job.list_id, after=job.after
        )
        for read, (ids, after) in enumerate(pages, start=1):
            if job.queued + len(ids) > LIST_RESYNC_MAX:  # it grew past the cap as it was read
                members = max(job.members, job.queued + len(ids))
                return _list_resync_end(job, holder, refused=LIST_TOO_LARGE, members=members)
            if not _list_resync_page_commit(job, holder, ids, after):
                job.refresh_from_db()  # another worker took it over
                return job
            if after and stop_after_pages is not None and read >= stop_after_pages:
                return job
        if not job.queued:
            return _list_resync_end(job, holder, refused=LIST_EMPTY)
        return _list_resync_end(job, holder)
    except NotFound:  # deleted since the confirmation
        return _list_resync_end(job, holder, refused=LIST_NOT_FOUND)
    except ConnectorError as error:
        return _list_resync_end(job, holder, refused=RECORD_UNAVAILABLE, error=str(error))
    except Exception as error:  # a bug: the card says so instead of "running" for ever
        logger.exception("list resync %s failed", job.pk)
        broke = f"{type(error).__name__}: {error}"
        return _list_resync_end(job, holder, refused=LIST_RESYNC_BROKE, error=broke)


def _list_resync_claim(job: ListResyncJob, holder: str) -> bool:
    """Take the job's lease as an import's is taken (``job_lease_claim``); its clock starts
    with the first worker."""
    from .imports import job_lease_claim

    claimed = job_lease_claim(job, holder)
    if claimed:
        ListResyncJob.objects.filter(pk=job.pk, started_at__isnull=True).update(
            started_at=timezone.now()
        )
    return claimed


def _list_resync_page_commit(job: ListResyncJob, holder: str, ids: list[str], after: str) -> bool:
    """One page of members queued, with the position after it; False (nothing queued) when
    this worker lost the job's lease."""
    now = timezone.now()
    with transaction.atomic():
        mine = ListResyncJob.objects.filter(
            pk=job.pk, worker=holder, status=ListResyncJob.Status.RUNNING
        )
        if not mine.update(after=after, queued=F("queued") + len(ids), heartbeat_at=now):
            return False
        ResyncRequest.objects.bulk_create(
            [
                ResyncRequest(
                    integration_id=job.integration_id,
                    object=job.object,
                    record_key=f"hubspot:{record_id}",
                    requested_at=now,
                )
                for record_id in dict.fromkeys(ids)
            ],
            update_conflicts=True,
            unique_fields=["integration", "object", "record_key"],
            update_fields=["requested_at"],
        )
    job.after, job.queued, job.heartbeat_at = after, job.queued + len(ids), now
    return True


def _list_resync_end(
    job: ListResyncJob, holder: str, *, refused: str = "", error: str = "", **fields: Any
) -> ListResyncJob:
    """The job ended: succeeded, or failed saying why. The members it queued start the
    pair's cycle now (as a record's own Resync does) when the pair is on."""
    from .selectors import pairs_switched_on
    from .tasks import sync_object

    status = ListResyncJob.Status.FAILED if refused else ListResyncJob.Status.SUCCEEDED
    ListResyncJob.objects.filter(pk=job.pk, worker=holder).update(
        status=status,
        refused=refused,
        error=error[:2000],
        finished_at=timezone.now(),
        worker="",
        **fields,
    )
    job.refresh_from_db()
    integration = job.integration
    if job.queued and job.object in pairs_switched_on(integration=integration):
        transaction.on_commit(
            lambda: sync_object.delay(
                integration_id=integration.pk, object_name=job.object, trigger="resync"
            )
        )
    return job


@dataclass(frozen=True)
class Disconnected:
    """What *Disconnect* did: the integration, disconnected, and the imports it stopped."""

    integration: Integration
    imports_stopped: int  # queued or running imports stopped after their current batch
    list_resyncs_stopped: int = 0  # list resyncs queued or running, stopped after their page


def integration_disconnect_and_stop_imports(
    *, integration: Integration, actor: AbstractBaseUser | None = None
) -> Disconnected:
    """*Disconnect* (``integration_disconnect``), and stop the imports and list resyncs queued
    or running: their workers hold the tokens in memory and would go on calling both CRMs, so
    an import stops after its current batch (resumable once connected again) and a list
    resync after its current page (what it queued syncs once connected again; a new confirm
    reads the list again). Audit-logged."""
    from .imports import import_cancel

    integration = integration_disconnect(integration=integration, actor=actor)
    active = ImportJob.objects.filter(
        integration=integration, status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    )
    stopped = sum(import_cancel(job=job, actor=actor) for job in active)
    return Disconnected(
        integration=integration,
        imports_stopped=stopped,
        list_resyncs_stopped=list_resyncs_stop(
            integration=integration, refused=LIST_RESYNC_DISCONNECTED
        ),
    )


def list_resyncs_stop(*, integration: Integration, refused: str) -> int:
    """End the integration's list resyncs queued or running, saying why (``refused``): a
    worker reading one loses its lease, so it queues no page after its current one
    (``_list_resync_page_commit``) and doesn't end it as succeeded (``_list_resync_end``)."""
    return ListResyncJob.objects.filter(
        integration=integration,
        status__in=(ListResyncJob.Status.QUEUED, ListResyncJob.Status.RUNNING),
    ).update(
        status=ListResyncJob.Status.FAILED,
        refused=refused,
        finished_at=timezone.now(),
        worker="",
    )


def _chunked(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- custom objects -----------------------------------------------------------------------
# Salesforce objects the standard pairs sync (a Salesforce record links to one HubSpot record
# only) and system objects: not offered for custom-object sync.
CUSTOM_OBJECT_EXCLUDED = frozenset(
    {
        "Lead",
        "Contact",
        "Account",
        "Opportunity",
        "OpportunityContactRole",
        "Case",
        "Task",
        "Event",
        "User",
        "RecordType",
    }
)
CUSTOM_OBJECT_SYSTEM_FIELDS = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "LastActivityDate",
        "LastViewedDate",
        "LastReferencedDate",
        "OwnerId",
        "MasterRecordId",
    }
)
CUSTOM_OBJECT_KEY_PROPERTY = "salesforce_record_id_sync"  # the engine's own upsert key
# HubSpot object -> the Salesforce object a lookup must point to, to stand for it.
CUSTOM_OBJECT_ASSOCIATIONS = {
    "contacts": "Contact",
    "companies": "Account",
    "deals": "Opportunity",
    "tickets": "Case",
}


def _custom_salesforce_field(f: dict) -> dict:
    """A describe field as ``schema_refresh`` caches it, plus what custom objects need
    (lookups' targets, external ids)."""
    return {
        "name": f["name"],
        "label": f["label"],
        "type": f["type"],
        "length": f.get("length"),
        "scale": f.get("scale"),
        "createable": f.get("createable", False),
        "updateable": f.get("updateable", False),
        "calculated": f.get("calculated", False),
        "picklistValues": [v["value"] for v in f.get("picklistValues") or [] if v.get("active")],
        "referenceTo": list(f.get("referenceTo") or []),
        "externalId": bool(f.get("externalId")),
        "unique": bool(f.get("unique")),
        "caseSensitive": bool(f.get("caseSensitive")),
        # Needed to create a record: createable, not nillable, not defaulted on create.
        "required": bool(
            f.get("createable") and not f.get("nillable", True) and not f.get("defaultedOnCreate")
        ),
    }


def _custom_hubspot_property(p: Any, required: frozenset[str] = frozenset()) -> dict:
    """A property as ``schema_refresh`` caches it, plus whether the custom object's schema
    requires it to create a record (its ``requiredProperties``)."""
    return {
        "name": p.name,
        "label": p.label,
        "type": p.type,
        "fieldType": p.field_type,
        "readOnly": bool(
            getattr(p, "modification_metadata", None) and p.modification_metadata.read_only_value
        ),
        "options": [{"label": o.label, "value": o.value} for o in (p.options or [])],
        "required": p.name in required,
    }


def custom_object_choices(*, integration: Integration) -> dict[str, list[dict]]:
    """What the wizard's first step offers (one call each side): Salesforce objects that are
    queryable and updateable (custom or standard, not those the standard pairs sync) and the
    HubSpot account's custom objects."""
    from .connectors.hubspot import HubSpotConnector
    from .connectors.salesforce import SalesforceConnector

    describe = SalesforceConnector(integration=integration).describe()
    salesforce = sorted(
        (
            {"name": o["name"], "label": o.get("label") or o["name"], "custom": o.get("custom")}
            for o in describe.get("sobjects", [])
            if o.get("queryable")
            and o.get("updateable")
            and o["name"] not in CUSTOM_OBJECT_EXCLUDED
        ),
        key=lambda o: (not o["custom"], str(o["label"]).lower()),
    )
    hubspot = []
    for schema in HubSpotConnector(integration=integration).schemas_get_all():
        labels = getattr(schema, "labels", None)
        hubspot.append(
            {
                "id": schema.object_type_id,
                "name": schema.name,
                "label": getattr(labels, "plural", None)
                or getattr(labels, "singular", None)
                or schema.name,
            }
        )
    return {"salesforce": salesforce, "hubspot": sorted(hubspot, key=lambda o: o["label"])}


def custom_object_schemas_read(
    *, integration: Integration, salesforce_object: str, hubspot_object: str
) -> tuple[list[dict], list[dict]]:
    """The Salesforce object's fields and the HubSpot object's properties, each marked
    ``required`` when HubSpot needs it to create a record (three calls: the describe, the
    properties and the custom object's schema, ``custom_object_hubspot_schema``)."""
    from .connectors.hubspot import HubSpotConnector
    from .connectors.salesforce import SalesforceConnector

    describe = SalesforceConnector(integration=integration).describe_object(salesforce_object)
    properties = HubSpotConnector(integration=integration).properties_get_all(
        object_type=hubspot_object
    )
    schema = custom_object_hubspot_schema(integration=integration, hubspot_object=hubspot_object)
    required = frozenset(schema["required"])
    return (
        [_custom_salesforce_field(f) for f in describe["fields"]],
        [_custom_hubspot_property(p, required) for p in properties],
    )


def custom_object_schema_refresh(*, integration: Integration, object_name: str) -> None:
    """``schema_refresh`` for a ``custom:<n>`` pair: the HubSpot custom object's properties
    are cached under the pair's name, the Salesforce describe under the object's name."""
    row = ObjectSync.objects.get(integration=integration, object=object_name)
    settings = settings_for(object_name, row.options)
    fields, properties = custom_object_schemas_read(
        integration=integration,
        salesforce_object=settings.salesforce_object,
        hubspot_object=settings.hubspot_object,
    )
    _schema_store(integration, System.SALESFORCE, settings.salesforce_object, fields)
    _schema_store(integration, System.HUBSPOT, object_name, properties)


def custom_object_mappable(
    salesforce_fields: list[dict], hubspot_properties: list[dict]
) -> tuple[list[dict], list[dict]]:
    """The fields and properties the wizard offers: never lookups (they sync as
    associations), system fields, read-only or user properties, or the sync key."""
    fields = [
        f
        for f in salesforce_fields
        if f["type"] not in ("reference", "id") and f["name"] not in CUSTOM_OBJECT_SYSTEM_FIELDS
    ]
    properties = [
        p
        for p in hubspot_properties
        if not p.get("readOnly")
        and p.get("fieldType") != "hubspot_user"
        and p["name"] != CUSTOM_OBJECT_KEY_PROPERTY
        and p["name"] != OWNER_PROPERTY
        and not p["name"].startswith("hs_")
    ]
    return fields, properties


def _match_key(text: str) -> str:
    """``Start_Date__c``, "Start Date" and ``start_date`` all read ``startdate``."""
    return "".join(c for c in text.casefold().removesuffix("__c") if c.isalnum())


def custom_object_suggested_mappings(
    fields: list[dict], properties: list[dict], *, required: list[str] = ()
) -> dict[str, str]:
    """The pairs the wizard proposes before the admin picks, ``{field: property}``: a field
    and a property whose label or name read the same (case, spaces and ``__c`` aside) and
    whose types are compatible, each property once; then the record's ``Name`` for a
    required property still unmatched (usually the primary display property, e.g. *Project
    name*), so the first sync can create records."""
    suggested: dict[str, str] = {}
    used: set[str] = set()

    def fits(field: dict, prop: dict) -> bool:
        return prop["name"] not in used and is_compatible(
            hs_type=prop["type"], hs_field_type=prop["fieldType"], sf_type=field["type"]
        )

    for field in fields:
        keys = {_match_key(field["name"]), _match_key(field.get("label") or "")} - {""}
        for prop in properties:
            names = {_match_key(prop["name"]), _match_key(prop.get("label") or "")}
            if keys & names and fits(field, prop):
                suggested[field["name"]] = prop["name"]
                used.add(prop["name"])
                break
    name_field = next((f for f in fields if f["name"] == "Name"), None)
    if name_field is not None and "Name" not in suggested:
        by_name = {p["name"]: p for p in properties}
        for prop_name in required:
            prop = by_name.get(prop_name)
            if prop is not None and fits(name_field, prop):
                suggested["Name"] = prop_name
                break
    return suggested


def custom_object_suggested_associations(
    lookups: dict[str, list[dict]], associated: list[str]
) -> dict[str, str]:
    """``{hubspot object: lookup field}`` where the Salesforce object has exactly one lookup
    to the object's partner and the HubSpot object has an association with it."""
    return {
        hs_object: fields[0]["name"]
        for hs_object, fields in lookups.items()
        if len(fields) == 1 and hs_object in associated
    }


def custom_object_lookups(salesforce_fields: list[dict]) -> dict[str, list[dict]]:
    """HubSpot object -> the object's lookup fields that can stand for its associations."""
    return {
        hs_object: [
            f
            for f in salesforce_fields
            if f["type"] == "reference"
            and target in (f.get("referenceTo") or [])
            and f["name"] not in CUSTOM_OBJECT_SYSTEM_FIELDS
        ]
        for hs_object, target in CUSTOM_OBJECT_ASSOCIATIONS.items()
    }


def custom_object_required_missing(
    *, hubspot_properties: list[dict], mappings: dict[str, str], settings: dict[str, Any]
) -> list[dict]:
    """The properties HubSpot requires to create a record (``required``, as
    :func:`custom_object_schemas_read` marks them) that no Salesforce field fills, when the
    pair's settings let Salesforce records create HubSpot records; ``[]`` otherwise."""
    creates = settings.get("salesforce_to_hubspot", CustomObjectSettings.salesforce_to_hubspot)
    if creates != "create_or_update":
        return []
    mapped = {prop for prop in mappings.values() if prop}
    return [p for p in hubspot_properties if p.get("required") and p["name"] not in mapped]


# The custom object wizard's refusals of its mappings at Finish (the dashboard words them for
# people, see ``integration_admin.labels``), and the warning stored with a read-only field's.
CUSTOM_OBJECT_NOT_MAPPABLE = "'{field}' can't be mapped (lookups sync as associations)"
CUSTOM_OBJECT_NO_PROPERTY = "HubSpot has no property '{property}' that can be mapped"
CUSTOM_OBJECT_ALREADY_MAPPED = "'{property}' is already mapped to {field}"
CUSTOM_OBJECT_REQUIRED = (
    "HubSpot requires {names} to create a record: map a Salesforce field to it, or set "
    "salesforce_to_hubspot to 'nothing' (Salesforce records then don't create HubSpot records)"
)
CUSTOM_OBJECT_READ_ONLY = "Read-only in Salesforce: it syncs to HubSpot only"


def _required_message(missing: list[dict]) -> str:
    names = ", ".join(f"{p.get('label') or p['name']} ({p['name']})" for p in missing)
    return CUSTOM_OBJECT_REQUIRED.format(names=names)


def custom_object_mappings_check(
    *,
    salesforce_fields: list[dict],
    hubspot_properties: list[dict],
    mappings: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> list[dict]:
    """Check ``{salesforce field: hubspot property}`` against the compatibility matrix
    (§8.1); returns what to store or raises ``SettingsError`` keyed by Salesforce field.
    With the pair's ``settings``, also that every property HubSpot requires to create a
    record is mapped when Salesforce records create HubSpot records (key ``required``)."""
    fields, properties = custom_object_mappable(salesforce_fields, hubspot_properties)
    fields_by_name = {f["name"]: f for f in fields}
    props_by_name = {p["name"]: p for p in properties}
    errors: dict[str, str] = {}
    cleaned: list[dict] = []
    used: dict[str, str] = {}
    for field_name, prop_name in mappings.items():
        if not prop_name:
            continue
        field = fields_by_name.get(field_name)
        prop = props_by_name.get(prop_name)
        if field is None:
            errors[field_name] = CUSTOM_OBJECT_NOT_MAPPABLE.format(field=field_name)
        elif prop is None:
            errors[field_name] = CUSTOM_OBJECT_NO_PROPERTY.format(property=prop_name)
        elif not is_compatible(
            hs_type=prop["type"], hs_field_type=prop["fieldType"], sf_type=field["type"]
        ):
            # The mapping editor's words: the wizard's page names the types as it does.
            errors[field_name] = MAPPING_INCOMPATIBLE.format(
                hubspot_type=f"{prop['type']} ({prop['fieldType']})", salesforce_type=field["type"]
            )
        elif prop_name in used:
            message = CUSTOM_OBJECT_ALREADY_MAPPED.format(property=prop_name, field=used[prop_name])
            errors[field_name] = message
        else:
            used[prop_name] = field_name
            cleaned.append(
                {
                    "hubspot_property": prop_name,
                    "salesforce_field": field_name,
                    "salesforce_type": field["type"],
                    "hubspot_type": prop["type"],
                    "hubspot_field_type": prop["fieldType"],
                    "warning": (
                        CUSTOM_OBJECT_READ_ONLY
                        if field.get("calculated") or not field.get("updateable")
                        else ""
                    ),
                }
            )
    if settings is not None and (
        missing := custom_object_required_missing(
            hubspot_properties=hubspot_properties, mappings=mappings, settings=settings
        )
    ):
        errors["required"] = _required_message(missing)
    if errors:
        raise SettingsError(errors)
    return cleaned


def _custom_object_creates_check(
    *,
    integration: Integration,
    object_name: str,
    settings: dict[str, Any],
    without: int | None = None,
    key: str = "salesforce_to_hubspot",
) -> None:
    """A custom pair's settings or mappings changed outside the wizard (the settings and
    mappings API, the mapping editor): refuse letting Salesforce records create HubSpot
    records while a property HubSpot requires is mapped from no field that syncs (mappings
    set to *Don't sync* don't count; ``without``: a mapping about to go). The cached schema
    says which are required; a cache from before it did says nothing."""
    mappings = dict(
        FieldMapping.objects.filter(integration=integration, object=object_name)
        .exclude(rule=SyncRule.DONT_SYNC)
        .exclude(pk=without)
        .values_list("salesforce_field", "hubspot_property")
    )
    missing = custom_object_required_missing(
        hubspot_properties=list(_schema(integration, System.HUBSPOT, object_name).values()),
        mappings=mappings,
        settings=settings,
    )
    if missing:
        raise SettingsError({key: _required_message(missing)})


# Ticket properties HubSpot needs on every ticket: default mappings that always sync.
TICKET_REQUIRED_PROPERTIES = ("subject", "hs_pipeline", "hs_pipeline_stage")


def _mapping_still_needed_check(mapping: FieldMapping, *, key: str) -> None:
    """Refuse leaving a property HubSpot needs to create a record with no mapping that syncs
    it (the mapping set to *Don't sync*, or deleted): a required ticket property, or a
    property a custom object requires while Salesforce records create its records."""
    if mapping.object == "tickets" and mapping.hubspot_property in TICKET_REQUIRED_PROPERTIES:
        raise SettingsError({key: TICKET_PROPERTY_NEEDED.format(property=mapping.hubspot_property)})
    if mapping.object.startswith(CUSTOM_PREFIX):
        from .selectors import object_settings_get

        settings = object_settings_get(integration=mapping.integration, object_name=mapping.object)
        _custom_object_creates_check(
            integration=mapping.integration,
            object_name=mapping.object,
            settings=settings_as_dict(settings),
            without=mapping.pk,
            key=key,
        )


# Another pairing of the object was made while this wizard was open (spelled out in
# ``integration_admin.labels.ENGINE_MESSAGE_LABELS``): said where the admin can act on it.
CUSTOM_OBJECT_SALESFORCE_SYNCED = (
    "Salesforce's {object} already syncs with HubSpot's {pair}: leave without saving, and "
    "change that sync with its “Edit sync” on the Custom objects tab"
)
CUSTOM_OBJECT_HUBSPOT_SYNCED = (
    "HubSpot's {pair} already syncs with Salesforce's {object}: leave without saving, and "
    "change that sync with its “Edit sync” on the Custom objects tab"
)
# The wizard's other refusals at Finish (also spelled out there). ``{pair}``: the HubSpot
# object an association is with (contacts, companies, deals, tickets), said by its tab's name.
CUSTOM_OBJECT_UNPICKED = "Pick a Salesforce object and a HubSpot custom object"
CUSTOM_OBJECT_OWN_TAB = "This object syncs through its own tab"
CUSTOM_OBJECT_NOT_A_LOOKUP = "'{field}' can't stand for {pair}"


def _custom_object_check(
    *,
    integration: Integration,
    object_name: str,
    settings: dict[str, Any],
    salesforce_fields: list[dict],
) -> dict[str, Any]:
    cleaned = settings_validate(object_name, settings)
    if not cleaned.get("salesforce_object") or not cleaned.get("hubspot_object"):
        raise SettingsError({"objects": CUSTOM_OBJECT_UNPICKED})
    if cleaned["salesforce_object"] in CUSTOM_OBJECT_EXCLUDED:
        raise SettingsError({"salesforce_object": CUSTOM_OBJECT_OWN_TAB})
    for other in ObjectSync.objects.filter(
        integration=integration, object__startswith=CUSTOM_PREFIX
    ).exclude(object=object_name):
        theirs = settings_for(other.object, other.options)
        names = {
            "pair": other.object,
            "object": theirs.salesforce_label or theirs.salesforce_object,
        }
        if theirs.salesforce_object == cleaned["salesforce_object"]:
            message = CUSTOM_OBJECT_SALESFORCE_SYNCED.format(**names)
            raise SettingsError({"salesforce_object": message})
        if theirs.hubspot_object == cleaned["hubspot_object"]:
            message = CUSTOM_OBJECT_HUBSPOT_SYNCED.format(**names)
            raise SettingsError({"hubspot_object": message})
    lookups = custom_object_lookups(salesforce_fields)
    associations = {}
    for hs_object, field_name in (cleaned.get("associations") or {}).items():
        if not field_name:
            continue
        if field_name not in {f["name"] for f in lookups.get(hs_object, [])}:
            message = CUSTOM_OBJECT_NOT_A_LOOKUP.format(field=field_name, pair=hs_object)
            raise SettingsError({"associations": message})
        associations[hs_object] = field_name
    cleaned["associations"] = associations
    return cleaned


def _custom_object_store(
    *,
    integration: Integration,
    object_name: str,
    salesforce_object: str,
    mappings: list[dict],
    salesforce_fields: list[dict],
    hubspot_properties: list[dict],
) -> None:
    FieldMapping.objects.filter(integration=integration, object=object_name).exclude(
        hubspot_property__in=[m["hubspot_property"] for m in mappings]
    ).delete()
    current = {
        m.hubspot_property: m
        for m in FieldMapping.objects.filter(integration=integration, object=object_name)
    }
    for mapping in mappings:
        existing = current.get(mapping["hubspot_property"])
        if existing is not None and existing.salesforce_field != mapping["salesforce_field"]:
            existing.delete()
            existing = None
        if existing is None:
            FieldMapping.objects.filter(
                integration=integration,
                object=object_name,
                salesforce_field=mapping["salesforce_field"],
            ).delete()
            FieldMapping.objects.create(
                integration=integration,
                object=object_name,
                salesforce_fields={salesforce_object: mapping["salesforce_field"]},
                rule=SyncRule.TWO_WAY,  # the pair's settings decide directions and conflicts
                **mapping,
            )
    _schema_store(integration, System.SALESFORCE, salesforce_object, salesforce_fields)
    _schema_store(integration, System.HUBSPOT, object_name, hubspot_properties)


def custom_object_create(
    *,
    integration: Integration,
    settings: dict[str, Any],
    mappings: dict[str, str],
    salesforce_fields: list[dict],
    hubspot_properties: list[dict],
    actor: AbstractBaseUser | None = None,
) -> ObjectSync:
    """Finish the wizard: a new ``custom:<n>`` pair, switched on, with its mappings. At most
    ``MAX_CUSTOM_OBJECTS`` per integration (spec §15)."""
    checked = custom_object_mappings_check(
        salesforce_fields=salesforce_fields,
        hubspot_properties=hubspot_properties,
        mappings=mappings,
        settings=settings,
    )
    with transaction.atomic():
        Integration.objects.select_for_update().filter(pk=integration.pk).first()
        names = list(
            ObjectSync.objects.filter(
                integration=integration, object__startswith=CUSTOM_PREFIX
            ).values_list("object", flat=True)
        )
        if len(names) >= MAX_CUSTOM_OBJECTS:
            raise SettingsError(
                {
                    "custom_object": f"Up to {MAX_CUSTOM_OBJECTS} custom objects can sync; "
                    "remove one before adding another"
                }
            )
        taken = _custom_numbers_used(integration, names)
        object_name = f"{CUSTOM_PREFIX}{max(taken, default=0) + 1}"
        cleaned = _custom_object_check(
            integration=integration,
            object_name=object_name,
            settings=settings,
            salesforce_fields=salesforce_fields,
        )
        options = settings_as_dict(settings_for(object_name, cleaned))
        row = ObjectSync.objects.create(
            integration=integration, object=object_name, enabled=True, options=options
        )
        _custom_object_store(
            integration=integration,
            object_name=object_name,
            salesforce_object=cleaned["salesforce_object"],
            mappings=checked,
            salesforce_fields=salesforce_fields,
            hubspot_properties=hubspot_properties,
        )
        audit_event_record(
            action="custom_object.created",
            integration=integration,
            actor=actor,
            details={
                "object": object_name,
                "salesforce": cleaned["salesforce_object"],
                "hubspot": cleaned["hubspot_object"],
                # What people call them (the ids above are what the API does).
                "salesforce_label": cleaned.get("salesforce_label") or "",
                "hubspot_label": cleaned.get("hubspot_label") or "",
                "mappings": {m["salesforce_field"]: m["hubspot_property"] for m in checked},
                # The rules and associations it was set up with, as an edit's changes read.
                "changes": {
                    name: {"from": None, "to": options[name]}
                    for name in (*CustomObjectSettings.CHOICES, "associations")
                    if options.get(name) not in (None, "", {})
                },
            },
        )
    return row


def custom_object_update(
    *,
    integration: Integration,
    object_name: str,
    settings: dict[str, Any],
    mappings: dict[str, str],
    salesforce_fields: list[dict],
    hubspot_properties: list[dict],
    actor: AbstractBaseUser | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Save an edited custom-object pair (its objects stay); returns what changed."""
    checked = custom_object_mappings_check(
        salesforce_fields=salesforce_fields,
        hubspot_properties=hubspot_properties,
        mappings=mappings,
        settings=settings,
    )
    with transaction.atomic():
        row = ObjectSync.objects.select_for_update().get(
            integration=integration, object=object_name
        )
        current = settings_as_dict(settings_for(object_name, row.options))
        settings = {
            **settings,
            "salesforce_object": current["salesforce_object"],
            "hubspot_object": current["hubspot_object"],
        }
        cleaned = _custom_object_check(
            integration=integration,
            object_name=object_name,
            settings=settings,
            salesforce_fields=salesforce_fields,
        )
        diff = {k: (current[k], v) for k, v in cleaned.items() if current.get(k) != v}
        before = dict(
            FieldMapping.objects.filter(integration=integration, object=object_name).values_list(
                "salesforce_field", "hubspot_property"
            )
        )
        after = {m["salesforce_field"]: m["hubspot_property"] for m in checked}
        if before != after:
            diff["mappings"] = (before, after)
        row.options = {**current, **cleaned}
        row.save()
        _custom_object_store(
            integration=integration,
            object_name=object_name,
            salesforce_object=cleaned["salesforce_object"],
            mappings=checked,
            salesforce_fields=salesforce_fields,
            hubspot_properties=hubspot_properties,
        )
        if diff:
            audit_event_record(
                action="custom_object.updated",
                integration=integration,
                actor=actor,
                details={
                    "object": object_name,
                    "changes": {k: {"from": old, "to": new} for k, (old, new) in diff.items()},
                },
            )
    return diff


def _custom_numbers_used(integration: Integration, names: list[str]) -> list[int]:
    """The numbers of these custom pairs and of those removed since (by their runs and audit
    entries, 2 queries): never given again, or a new pair would take over the old one's sync
    history and audit entries."""
    from .models import SyncRun

    names = [
        *names,
        *SyncRun.objects.filter(integration=integration, object__startswith=CUSTOM_PREFIX)
        .values_list("object", flat=True)
        .distinct(),
        *AuditEvent.objects.filter(
            integration=integration, action__startswith="custom_object."
        ).values_list("details__object", flat=True),
    ]
    return [
        int(name[len(CUSTOM_PREFIX) :])
        for name in names
        if isinstance(name, str)
        and name.startswith(CUSTOM_PREFIX)
        and name[len(CUSTOM_PREFIX) :].isdigit()
    ]


def custom_object_delete(
    *, integration: Integration, object_name: str, actor: AbstractBaseUser | None = None
) -> None:
    """Stop syncing a custom object and forget its links, cursors, mappings and errors
    (records stay in both CRMs)."""
    from .models import RecordLink, SyncCursor

    if not object_name.startswith(CUSTOM_PREFIX):
        raise SettingsError({"object": "not a custom object"})
    with transaction.atomic():
        row = ObjectSync.objects.select_for_update().get(
            integration=integration, object=object_name
        )
        settings = settings_for(object_name, row.options)
        RecordLink.objects.filter(integration=integration, object=object_name).delete()
        # Its streams end with its name; rows of its own (``<name>:own-writes``) begin with it.
        SyncCursor.objects.filter(
            Q(stream__endswith=f":{object_name}") | Q(stream__startswith=f"{object_name}:"),
            integration=integration,
        ).delete()
        FieldMapping.objects.filter(integration=integration, object=object_name).delete()
        SyncError.objects.filter(integration=integration, object=object_name).delete()
        ResyncRequest.objects.filter(integration=integration, object=object_name).delete()
        SchemaCache.objects.filter(
            integration=integration, system=System.HUBSPOT, object=object_name
        ).delete()
        row.delete()
        audit_event_record(
            action="custom_object.deleted",
            integration=integration,
            actor=actor,
            details={
                "object": object_name,
                "salesforce": settings.salesforce_object,
                "hubspot": settings.hubspot_object,
                # Its entries keep naming it once it is gone (its number isn't given again).
                "salesforce_label": settings.salesforce_label,
                "hubspot_label": settings.hubspot_label,
            },
        )


HUBSPOT_OBJECT_TYPE_IDS = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets"}


def custom_object_hubspot_schema(*, integration: Integration, hubspot_object: str) -> dict:
    """What the wizard needs of the HubSpot custom object's schema (one call): the standard
    objects (``contacts``, ``companies``, ``deals``, ``tickets``) it has an association
    definition with, and its required properties."""
    from .connectors.hubspot import HubSpotConnector

    for schema in HubSpotConnector(integration=integration).schemas_get_all():
        if schema.object_type_id == hubspot_object:
            associated = {
                HUBSPOT_OBJECT_TYPE_IDS[a.to_object_type_id]
                for a in getattr(schema, "associations", None) or []
                if a.to_object_type_id in HUBSPOT_OBJECT_TYPE_IDS
            }
            required = list(getattr(schema, "required_properties", None) or [])
            return {"associations": sorted(associated), "required": required}
    return {"associations": [], "required": []}


# --- tickets ------------------------------------------------------------------------------
def sync_errors_resolve_type(
    *,
    integration: Integration,
    object_name: str,
    error_type: str,
    record_keys: list[str],
    ended_because: str = SyncError.EndedBecause.SYNCED,
) -> int:
    """Clear one type of current error for some records (e.g. a ticket's *Waiting for
    contact* once its contact is associated, while it still waits for its account).
    ``ended_because`` says why, when not because the record synced."""
    resolved = 0
    for chunk in _chunked(record_keys, 500):
        resolved += SyncError.objects.filter(
            integration=integration,
            object=object_name,
            error_type=error_type,
            record_key__in=chunk,
            resolved_at__isnull=True,
        ).update(resolved_at=timezone.now(), next_retry_at=None, ended_because=ended_because)
    return resolved


def sync_errors_end_types(
    *, integration: Integration, object_name: str, error_types: list[str]
) -> int:
    """End every current error of these types of a pair (waits that can never end: their
    association switched off, or its object's sync). One update."""
    if not error_types:
        return 0
    return SyncError.objects.filter(
        integration=integration,
        object=object_name,
        error_type__in=error_types,
        resolved_at__isnull=True,
    ).update(
        resolved_at=timezone.now(),
        next_retry_at=None,
        ended_because=SyncError.EndedBecause.PARTNER_NOT_SYNCING,
    )


def ticket_pipelines_save(
    *, integration: Integration, pipelines: dict, actor: AbstractBaseUser | None = None
) -> dict:
    """The wizard's step 4: one HubSpot ticket pipeline per case process (``"pipeline": ""``
    asks the engine to create one from the case statuses). Audit-logged as a settings change."""
    from .selectors import remote_read_forget, ticket_hubspot_pipelines_key

    used: dict[str, str] = {}
    for process, entry in pipelines.items():
        pipeline = entry.get("pipeline") or ""
        if pipeline and pipeline in used:
            name = entry.get("label") or process
            message = gettext("%(process)s and %(other)s can't share a ticket pipeline") % {
                "process": name,
                "other": used[pipeline],
            }
            raise SettingsError({"pipelines": message})
        if pipeline:
            used[pipeline] = entry.get("label") or process
    before = ticket_hubspot_pipelines_key(integration=integration)
    changed = object_settings_update(
        integration=integration,
        object_name="tickets",
        changes={"pipelines": pipelines},
        actor=actor,
    )
    # The wizard reads HubSpot's pipelines afresh after a save (kept under the stored table).
    remote_read_forget(integration, before, ticket_hubspot_pipelines_key(integration=integration))
    return changed


def ticket_setup_finish(*, integration: Integration, actor: AbstractBaseUser | None = None) -> dict:
    """The wizard's last step: setup is complete and ticket sync is on. Refused until the
    pipelines step has been saved (a skipped step would leave the engine to pick them)."""
    row = ObjectSync.objects.filter(integration=integration, object="tickets").first()
    if not (row and settings_for("tickets", row.options).pipelines):
        raise SettingsError(
            {"pipelines": "Choose a ticket pipeline for each case process (step 4) first."}
        )
    return object_settings_update(
        integration=integration,
        object_name="tickets",
        changes={"setup_complete": True},
        enabled=True,
        actor=actor,
    )
