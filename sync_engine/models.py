"""The integration, its two connections, the API-call ledger and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from .fields import EncryptedTextField
from .sync.rules import SyncRule

# Salesforce publishes no default for "Allocated to HubSpot". 10,000 calls per rolling 24 h is
# two thirds of a Developer Edition org's 15,000 and a tenth of the smallest Enterprise org's
# 100,000, so a fresh install can't starve an org's other integrations; admins raise it from
# the Sync health tab once they know their org's headroom.
DEFAULT_SALESFORCE_API_ALLOCATION = 10_000
# The largest row id (a 64-bit key, DEFAULT_AUTO_FIELD): a bigger number names no row, and
# the database refuses to compare with it.
MAX_ROW_ID = 2**63 - 1


def row_id(text: str) -> int | None:
    """An id typed into an address or a form, as a row id; None when it can't be one."""
    try:
        number = int(text)
    except (TypeError, ValueError):  # not a number, or more digits than int() takes
        return None
    return number if 0 < number <= MAX_ROW_ID else None


class System(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    HUBSPOT = "hubspot", "HubSpot"


class Integration(models.Model):
    """One HubSpot account connected to one Salesforce org."""

    class State(models.TextChoices):
        CONNECTED = "connected", "Connected"
        PAUSED = "paused", "Paused"
        SUSPENDED = "suspended", "Suspended"
        DISCONNECTED = "disconnected", "Disconnected"

    name = models.CharField(max_length=200, default="HubSpot ⇄ Salesforce")
    state = models.CharField(max_length=20, choices=State.choices, default=State.DISCONNECTED)
    state_reason = models.TextField(blank=True, default="")
    state_changed_at = models.DateTimeField(default=timezone.now)
    salesforce_api_allocation = models.PositiveIntegerField(
        "Allocated to HubSpot",
        default=DEFAULT_SALESFORCE_API_ALLOCATION,
        validators=[MinValueValidator(1)],
        help_text="Most Salesforce API calls the integration may make in any rolling 24 hours.",
    )
    salesforce_api_limit = models.PositiveIntegerField(
        "Limited by Salesforce",
        null=True,
        blank=True,
        help_text="The org's 24-hour API entitlement (DailyApiRequests.Max), read from Salesforce.",
    )
    salesforce_api_remaining = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="What Salesforce reported left for the whole org (DailyApiRequests.Remaining).",
    )
    limits_checked_at = models.DateTimeField(null=True, blank=True)
    # The admin's on/off switch for the whole sync (spec §2), apart from ``state``: PAUSED is the
    # allocation running out and clears itself; this stays off until someone turns it on.
    # While off no cycle runs; the cursors stay where they are, so turning it back on picks up
    # every change made meanwhile.
    sync_enabled = models.BooleanField(
        "Sync on",
        default=True,
        help_text="Off: no sync cycle runs for any object until it is turned back on.",
    )
    sync_changed_at = models.DateTimeField(null=True, blank=True)
    # The username at the time ("" for the system): shown in the header without a join.
    sync_changed_by = models.CharField(max_length=150, blank=True, default="")
    # When the people who asked (``SuspensionEmail``) were emailed about a suspension: one email
    # per suspension, not one per cycle (``sync_engine.notifications``).
    suspension_emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def sync_not_started(self) -> bool:
        """Connected for the first time and held there until an admin starts the sync (a
        first connect from the dashboard or ``manage.py connect``): off, and nobody has turned
        it on or off yet."""
        return not self.sync_enabled and self.sync_changed_at is None

    @property
    def is_connected(self) -> bool:
        return self.state == self.State.CONNECTED


class SalesforceConnection(models.Model):
    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="salesforce_connection"
    )
    instance_url = models.URLField(max_length=500)
    api_version = models.CharField(max_length=10, default="59.0")
    ca_bundle = models.TextField(
        blank=True,
        default="",
        help_text="PEM certificates to trust for this instance (self-signed or private CAs).",
    )
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True, default="")
    client_id = models.CharField(max_length=255, blank=True, default="")
    client_secret = EncryptedTextField(blank=True, default="")
    organization_id = models.CharField(max_length=18, blank=True, default="")
    user_id = models.CharField("Integration user id", max_length=18, blank=True, default="")
    user_name = models.CharField("Integration user", max_length=255, blank=True, default="")
    username = models.CharField(max_length=255, blank=True, default="")
    # Signed in at test.salesforce.com (or ``connect --sandbox``): *Connect to a new sandbox*
    # is offered for a sandbox only.
    sandbox = models.BooleanField(default=False)
    connected_at = models.DateTimeField(default=timezone.now)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.instance_url

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_id)


class HubSpotConnection(models.Model):
    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="hubspot_connection"
    )
    base_url = models.URLField(max_length=500, default="https://api.hubapi.com")
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(blank=True, default="")
    client_id = models.CharField(max_length=255, blank=True, default="")
    client_secret = EncryptedTextField(blank=True, default="")
    portal_id = models.CharField("HubSpot account id", max_length=32, blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    token_refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "HubSpot connection"  # not Django's "hub spot connection"

    def __str__(self) -> str:
        return self.base_url

    @property
    def can_refresh(self) -> bool:
        return bool(self.refresh_token and self.client_id)


class ApiCall(models.Model):
    """One HTTP request made to a CRM. Rows are written before the request goes out (so
    concurrent workers can't overspend the budget) and completed when it answers; a row whose
    ``status`` stays null was cut off by a crash and still counts."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="api_calls")
    system = models.CharField(max_length=20, choices=System.choices)
    operation = models.CharField(max_length=80)
    called_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="HTTP status; 0 for a network error; null while in flight."
    )
    records = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    # The sync run that made it (none: an import, a page's live read). Runs of other pairs or
    # workers overlap in time, so a run's calls are counted by this, not by its time window.
    # No constraint: runs and calls are pruned on their own (both after 30 days).
    run = models.ForeignKey(
        "SyncRun",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        indexes = [
            models.Index(fields=["integration", "system", "called_at"], name="apicall_window_idx"),
        ]
        ordering = ["-called_at"]

    def __str__(self) -> str:
        return f"{self.system} {self.operation} {self.status}"


class AuditEvent(models.Model):
    """Who changed what, and when. Written by every mutating service."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the system (workers, scheduled jobs, commands without a user).",
    )
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    action = models.CharField(max_length=80, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class SuspensionEmail(models.Model):
    """Someone who asked to be emailed when the integration is suspended (spec §4): a row
    while they want it. Sent to those who are integration admins at the time."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The language the dashboard spoke to them when they asked: the email's ("" for the default).
    language = models.CharField(max_length=10, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "user"], name="suspension_email_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.integration})"


# --- sync configuration ---------------------------------------------------------------------
class SyncObject(models.TextChoices):
    CONTACTS = "contacts", "Contacts"
    COMPANIES = "companies", "Companies"
    DEALS = "deals", "Deals"
    TICKETS = "tickets", "Tickets"
    ACTIVITIES = "activities", "Activities"


class ObjectSync(models.Model):
    """Whether one object pair syncs, and its settings (validated by ``object_settings``)."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="object_syncs"
    )
    object = models.CharField(max_length=40)
    enabled = models.BooleanField(default=True)
    options = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A lease, so two workers never sync the same pair at once and a killed worker's lock
    # expires by itself.
    lock_holder = models.CharField(max_length=64, blank=True, default="")
    lock_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "object"], name="objectsync_unique")
        ]

    def __str__(self) -> str:
        return f"{self.object} ({'on' if self.enabled else 'off'})"


class FieldMapping(models.Model):
    """A HubSpot property paired with a Salesforce field, and the rule that merges them.

    For contacts one mapping covers the lead field and the contact field with the same API
    name; ``salesforce_fields`` names the field per Salesforce object where they differ
    (HubSpot's ``city`` is ``City`` on a lead and ``MailingCity`` on a contact)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="mappings")
    object = models.CharField(max_length=40)
    hubspot_property = models.CharField(max_length=120)
    salesforce_field = models.CharField(max_length=120)
    salesforce_fields = models.JSONField(default=dict, blank=True)  # {"Lead": ..., "Contact": ...}
    rule = models.CharField(
        max_length=40, choices=SyncRule.choices(), default=SyncRule.PREFER_SALESFORCE_UNLESS_BLANK
    )
    is_default = models.BooleanField(default=False)
    hubspot_type = models.CharField(max_length=40, blank=True, default="")
    hubspot_field_type = models.CharField(max_length=40, blank=True, default="")
    salesforce_type = models.CharField(max_length=40, blank=True, default="")
    warning = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "hubspot_property"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "object", "hubspot_property"], name="mapping_hubspot_unique"
            ),
            models.UniqueConstraint(
                fields=["integration", "object", "salesforce_field"],
                name="mapping_salesforce_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hubspot_property} ⇄ {self.salesforce_field} ({self.rule})"

    def field_for(self, salesforce_object: str) -> str:
        return self.salesforce_fields.get(salesforce_object, self.salesforce_field)


class SchemaCache(models.Model):
    """The last HubSpot properties / Salesforce describe read for one object (refreshable)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    system = models.CharField(max_length=20, choices=System.choices)
    object = models.CharField(max_length=80)
    data = models.JSONField(default=list)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "system", "object"], name="schemacache_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.object} schema"


# --- sync state -----------------------------------------------------------------------------
class RecordLink(models.Model):
    """A HubSpot record paired with a Salesforce record, with the values both held after the
    last sync (the snapshot the merge compares against)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="links")
    object = models.CharField(max_length=40)
    hubspot_id = models.CharField(max_length=40)
    salesforce_id = models.CharField(max_length=18)
    salesforce_type = models.CharField(max_length=80)
    snapshot = models.JSONField(default=dict, blank=True)
    hubspot_modified_at = models.DateTimeField(null=True, blank=True)
    salesforce_modified_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "object", "hubspot_id"], name="link_hubspot_unique"
            ),
            models.UniqueConstraint(
                fields=["integration", "salesforce_id"], name="link_salesforce_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object} {self.hubspot_id} ⇄ {self.salesforce_type} {self.salesforce_id}"

    @classmethod
    def from_db(cls, db, field_names, values):
        link = super().from_db(db, field_names, values)
        # The ids as stored: a sync commit that keeps them writes only the snapshot and times.
        loaded = link.__dict__
        link.stored_keys = (
            loaded.get("hubspot_id"),
            loaded.get("salesforce_id"),
            loaded.get("salesforce_type"),
        )
        return link


class SyncCursor(models.Model):
    """How far one change stream has been read. ``position`` is the newest change time whose
    effects are committed; ``seen`` holds the ids (with their change time) read inside the
    overlap window, so re-reading that window doesn't redo their work."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="cursors")
    stream = models.CharField(max_length=80)  # "salesforce:Lead", "hubspot:contacts"...
    position = models.DateTimeField(null=True, blank=True)
    # Server time when the last complete read began: everything stamped well before it was
    # visible then, so the next read needn't go back further than this (minus the overlap).
    checked_at = models.DateTimeField(null=True, blank=True)
    # A Salesforce stream's: the ``latestDateCovered`` of the cycle's change probe (getUpdated
    # and getDeleted) before its last complete read. Salesforce holds that date back while a
    # transaction is open, so every change stamped earlier was in that read: the next probe
    # starts there rather than an overlap before ``checked_at``, and doesn't report the
    # writes it read already.
    probed_until = models.DateTimeField(null=True, blank=True)
    seen = models.JSONField(default=dict, blank=True)
    # A Salesforce stream's last query without its time condition ({"fields", "where",
    # "all"}): a cycle over every pair reads the changed streams' first pages up front,
    # five to a composite call, instead of one call per pair.
    query = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "stream"], name="cursor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.stream} at {self.position}"


class SyncError(models.Model):
    """One current (or resolved) failure of one record, of one error type."""

    class Direction(models.TextChoices):
        TO_SALESFORCE = "to_salesforce", "HubSpot → Salesforce"
        TO_HUBSPOT = "to_hubspot", "Salesforce → HubSpot"

    class EndedBecause(models.TextChoices):
        """Why a resolved error ended, for the record's history: blank when its record synced."""

        SYNCED = "", "The record synced"
        NOT_SYNCING = "not_syncing", "The record no longer syncs (its rules leave it alone)"
        DELETED = "deleted", "The record was deleted"
        GONE_FROM_HUBSPOT = "gone_from_hubspot", "Merged or deleted in HubSpot"
        RESYNCED = "resynced", "An admin resynced it"
        MERGED_IN_SALESFORCE = "merged_in_salesforce", "Its Salesforce record was merged away"
        PARTNER_NOT_SYNCING = "partner_not_syncing", "What it waited for no longer syncs"
        CONVERTED = "converted", "Its Salesforce lead was converted"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="errors")
    object = models.CharField(max_length=40)
    error_type = models.CharField(max_length=40, db_index=True)
    direction = models.CharField(max_length=20, choices=Direction.choices)
    record_key = models.CharField(max_length=80)  # "hubspot:123" or "salesforce:00Q…"
    hubspot_id = models.CharField(max_length=40, blank=True, default="")
    salesforce_id = models.CharField(max_length=18, blank=True, default="")
    salesforce_type = models.CharField(max_length=80, blank=True, default="")
    record_label = models.CharField(max_length=300, blank=True, default="")
    code = models.CharField(max_length=80, blank=True, default="")
    message = models.TextField(blank=True, default="")
    fields = models.JSONField(default=list, blank=True)
    # What was sent for those fields ({field: value}): the raw message rarely says.
    values = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=1)
    next_retry_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ended_because = models.CharField(
        max_length=30, blank=True, default="", choices=EndedBecause.choices
    )

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [
            # The Sync health cards and panels read only current errors, newest first.
            models.Index(
                fields=["integration", "error_type", "-last_seen_at"],
                condition=models.Q(resolved_at__isnull=True),
                name="syncerror_open_type_seen_idx",
            ),
            models.Index(
                fields=["integration", "-last_seen_at"],
                condition=models.Q(resolved_at__isnull=True),
                name="syncerror_open_seen_idx",
            ),
            models.Index(
                fields=["integration", "object", "record_key"], name="syncerror_record_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "object", "record_key", "error_type"],
                condition=models.Q(resolved_at__isnull=True),
                name="syncerror_current_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.error_type} {self.record_key}"

    def sent(self) -> list[tuple[str, object]]:
        """(field, value sent) for the fields the error names that a value was sent for."""
        return [(f, self.values[f]) for f in self.fields or [] if f in (self.values or {})]


class SyncRun(models.Model):
    """One sync cycle of one object pair: what it read, wrote, skipped and failed, and the calls
    it spent. The dashboard's progress and history read these."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        PAUSED = "paused", "Paused (API allocation)"
        FAILED = "failed", "Failed"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="runs")
    object = models.CharField(max_length=40)
    trigger = models.CharField(max_length=20, default="schedule")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    salesforce_calls = models.PositiveIntegerField(default=0)
    hubspot_calls = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["integration", "object", "status", "finished_at"],
                name="syncrun_last_success_idx",
            ),
            # A pair's latest runs: the schedule asks each tick, history pages page by them.
            models.Index(
                fields=["integration", "object", "-started_at"], name="syncrun_pair_latest_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object} run {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class ResyncRequest(models.Model):
    """An admin asked to sync one record again (the record's **Resync**), errors or not."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    object = models.CharField(max_length=40)
    record_key = models.CharField(max_length=80)  # "hubspot:<id>" or "salesforce:<id>"
    salesforce_type = models.CharField(max_length=80, blank=True, default="")
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "object", "record_key"], name="resync_request_unique"
            )
        ]

    def __str__(self) -> str:
        return f"resync {self.record_key}"


class LeasedJob(models.Model):
    """What every job a worker runs (an import, a list resync) has: who started it and when,
    and the lease of the worker running it (``job_lease_claim``). Each job has its own
    ``status`` and ``Status`` choices, with QUEUED and RUNNING among them."""

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A lease like the pairs' (host:pid:space:random), renewed at every committed batch/page.
    worker = models.CharField(max_length=64, blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class ImportJob(LeasedJob):
    """One import of a Salesforce object's existing records into HubSpot (spec §16): what it
    counted, read, created, updated, skipped (and why) and failed, the calls it spent, and the
    last Salesforce id whose batch is committed, so a restarted import resumes after it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="imports")
    object = models.CharField(max_length=40)  # "leads", "contacts", "accounts", "custom:1"…
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    method = models.CharField(max_length=10, blank=True, default="")  # "rest" or "bulk"
    total = models.PositiveIntegerField(null=True, blank=True)  # from a COUNT() query
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    skipped_reasons = models.JSONField(default=dict, blank=True)  # reason -> count
    failed = models.PositiveIntegerField(default=0)
    # Of created and updated: written without a value HubSpot refused (its error on Sync health).
    left_out = models.PositiveIntegerField(default=0)
    salesforce_calls = models.PositiveIntegerField(default=0)
    hubspot_calls = models.PositiveIntegerField(default=0)
    position = models.CharField(max_length=18, blank=True, default="")  # last Id committed
    # Which of the import's reads ``position`` is in: an import of a campaign's members reads
    # its contacts, then its leads (0 for an object's import, which reads one object).
    part = models.PositiveSmallIntegerField(default=0)
    # The name of what ``object`` names only by id ("campaign:701…"), read when it started.
    object_label = models.CharField(max_length=255, blank=True, default="")
    message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["integration", "object", "status"], name="importjob_object_idx")
        ]

    def __str__(self) -> str:
        return f"import {self.object} {self.status}"


class ListResyncJob(LeasedJob):
    """One *Resync a list* (spec §5.2): a HubSpot list's members, read 250 a call on a worker
    and queued as ``ResyncRequest``s. ``after`` is HubSpot's paging token of the first page not
    queued yet, committed with that page's requests, so a worker that dies resumes after it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="list_resyncs"
    )
    object = models.CharField(max_length=40)  # "contacts" or "companies"
    list_id = models.CharField(max_length=30)
    list_name = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    members = models.PositiveIntegerField(default=0)  # as HubSpot counts them
    queued = models.PositiveIntegerField(default=0)  # read and queued so far
    after = models.CharField(max_length=255, blank=True, default="")
    # Why it stopped (services' LIST_* and RECORD_* codes), and HubSpot's words for it.
    refused = models.CharField(max_length=40, blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A double-click, or two admins at once, can't read the same list twice.
            models.UniqueConstraint(
                fields=["integration", "object", "list_id"],
                condition=models.Q(status__in=["queued", "running"]),
                name="list_resync_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"list resync {self.object} {self.list_id} {self.status}"
