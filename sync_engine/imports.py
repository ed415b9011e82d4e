"""Importing a Salesforce object's existing records into HubSpot (spec §16, issue #5).

An import reads every record of one Salesforce object (leads, contacts, accounts, …) and hands
them, a batch at a time, to the same code the object pair's sync cycle runs on Salesforce
changes (``ContactSync.handle_salesforce_people``, ``CompanySync.handle_salesforce_accounts``):
records are matched (link, then email or the pair's own rules), merged by the mappings' rules,
written to HubSpot in batches of 100 (upserts, so idempotent) and linked in ``RecordLink``. So an
imported record is a synced record: the next cycle treats it as linked, and re-running an import
never duplicates anything.

Reading costs few Salesforce calls: a ``COUNT()`` query first (the progress bar's total), then
REST SOQL pages of 2,000 rows for small objects, or a Bulk API 2.0 query job (create, poll,
result pages of up to 50,000 rows streamed to a temporary file) when that is cheaper. Both read
in ``Id`` order from the last committed ``Id``, so a crashed or stopped import resumes where it
stopped. Writes are the only writes: the pair's.

An import of one active campaign's members (``campaign:<Id>``, spec §16, §17) reads in two
parts, one after the other: the campaign's contacts, then its unconverted leads (semi-joins on
``CampaignMember``); the job keeps which part its position is in.

Reads and writes of ``ImportJob`` rows live here too (``# --- reads`` and ``# --- writes``).
"""

from __future__ import annotations

import csv
import logging
import math
import os
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings as django_settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .connectors.hubspot import HubSpotConnector
from .connectors.salesforce import SalesforceConnector
from .error_types import ERROR_TYPES
from .errors import (
    ApiLimitExceeded,
    AuthExpired,
    BadRequest,
    BudgetExhausted,
    ConnectorError,
    PermissionDenied,
)
from .models import (
    ApiCall,
    ImportJob,
    Integration,
    LeasedJob,
    ObjectSync,
    RecordLink,
    SyncError,
    SyncRun,
    System,
)
from .object_settings import CUSTOM_PREFIX, settings_for
from .selectors import cached_remote_read, pairs_switched_on
from .sync.activities import NOT_A_SERIES, PARENT_EVENTS

log = logging.getLogger(__name__)

REST_PAGE = 2_000  # rows per SOQL page
BULK_PAGE = 50_000  # rows per Bulk 2.0 results page (maxRecords)
BULK_THRESHOLD = 10_000  # more rows than this are read with a Bulk 2.0 query job
BATCH = 1_000  # records handed to the pair at once (it writes HubSpot in batches of 100)
LEASE = timedelta(minutes=5)
# Bulk job polls (each an API call) back off from 0.1 s to this: a job Salesforce queues for
# minutes costs a few dozen calls, not one every couple of seconds.
BULK_POLL_MAX_SECONDS = 30.0
PAIR_WAIT_SECONDS = 600  # how long an import waits for the pair's running cycle
# What only the import's end writes: a cancel made meanwhile keeps its own.
ENDING_FIELDS = {"status", "finished_at", "message"}

# What an import says (its ``message``) and why one can't start or resume, in English as they
# are stored: the dashboard shows them in the reader's language
# (``integration_admin.labels.ENGINE_MESSAGE_LABELS``), the parts in braces filled in.
PREPARING = "Salesforce is preparing the Bulk query; the records follow when it's ready."
WAITING_FOR_CYCLE = "Waiting for the running {pair} sync cycle to finish…"
WAITING_FOR_IMPORT = "Waiting for the running import of {target} to finish…"
CYCLE_TOO_LONG = (
    "The {pair} sync has been running for over ten minutes; resume the import when it finishes."
)
PAIR_TAKEN_OVER = (
    "Stopped: this import stalled for longer than its lease and another worker took over the "
    "{pair} sync; resume the import to continue where it stopped."
)
NOTHING_TO_IMPORT = "Nothing to import for {object!r}."
PAIR_UNSUPPORTED = (
    "Importing {label} needs the {pair} sync, which isn't available in this version yet."
)
PAIR_SWITCHED_OFF = (
    "The {pair} sync is switched off, so no record was imported. Turn it on on its tab, then "
    "import {label} again."
)
DEALS_WITHOUT_COMPANIES = (
    "Company sync is off, so the imported deals have no company association: turn company "
    "sync on and import accounts first."
)
BULK_JOB_ENDED = "Salesforce's Bulk query job {job} {state}: {reason}"  # failed or aborted
NO_REASON_GIVEN = "no reason given"
STOPPED_BY_BUDGET = (
    "{error} The import stopped after {records:,} records; resume it once the 24-hour window "
    "frees calls (or raise 'Allocated to HubSpot')."
)
STOPPED_BY_ORG_LIMIT = "Salesforce's org-wide API limit is reached ({error}); resume it later."
STOPPED_BY_HUBSPOT_LIMIT = (
    "HubSpot's daily API limit is reached ({error}); resume the import once it resets, at "
    "midnight in the HubSpot account's time zone."
)
STOPPED_BY_CREDENTIALS = "{system}: {error} Reconnect, then resume the import."
# HubSpot's 403 is a scope its app wasn't granted: reconnecting alone doesn't mend it (the
# cycles' ``HUBSPOT_ACCESS_DENIED``).
STOPPED_BY_HUBSPOT_SCOPES = (
    "HubSpot: {error} The HubSpot app the integration connects with lacks a scope it needs: "
    "add the scope to the app in HubSpot (for a private app: its Scopes tab), reconnect on the "
    "Connection tab if its token changed, then resume the import."
)
STOPPED_BY_ERROR = "{error} Resume the import to continue where it stopped."
STOPPED_BY_DEFECT = "Unexpected error: {kind}: {error}"
CAMPAIGN_MEMBERS = "Campaign members: {campaign}"  # a campaign import's label
NOT_CONNECTED = "The integration isn't connected."
SUSPENDED = (
    "Syncing is suspended (see the status bar), so nothing can sync: mend its cause, then "
    "clear the suspension."
)
UNKNOWN_OBJECT = "Unknown object to import: {object}"
ALREADY_RUNNING = "An import of {label} is already running."
ANOTHER_RUNNING = "Another import of this object is running."
ONLY_STOPPED_RESUME = "Only a failed, cancelled or stalled import can be resumed."
CAMPAIGN_UNREADABLE = "Salesforce campaign {campaign} couldn't be read: {error}"
NO_SUCH_CAMPAIGN = "Salesforce has no campaign {campaign}."
CAMPAIGN_INACTIVE = "The campaign {campaign} isn't active: only active campaigns can be imported."


class ImportRefused(Exception):
    """An import that can't start (unknown object, one already running, not connected)."""


class ImportFailed(ConnectorError):
    """The import itself can't go on (e.g. Salesforce failed the Bulk query job). ``final``:
    the message already says what to do, so it isn't told to resume after it."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message, system="salesforce")
        self.final = final


# --- what can be imported -------------------------------------------------------------------
@dataclass(frozen=True)
class ImportPart:
    """One read of an import: a Salesforce object's rows that meet ``where``, in ``Id`` order."""

    sobject: str
    where: str = ""
    archived: bool = False  # read with queryAll: archived activities too (``where`` drops deleted)


@dataclass(frozen=True)
class ImportTarget:
    key: str  # what the admin picks: "leads"
    sobject: str  # the Salesforce object: "Lead"
    pair: str  # the object pair that syncs it: "contacts"
    label: str
    where: str = ""  # a SOQL condition every read adds
    parts: tuple[ImportPart, ...] = ()  # several reads instead, one after the other
    archived: bool = False  # see ImportPart

    @property
    def reads(self) -> tuple[ImportPart, ...]:
        """What the import reads, in order (``ImportJob.part`` indexes it)."""
        return self.parts or (ImportPart(self.sobject, self.where, self.archived),)


STANDARD_TARGETS: dict[str, ImportTarget] = {
    t.key: t
    for t in (
        # Converted leads follow their contact; importing them would link a dead record.
        ImportTarget("leads", "Lead", "contacts", "Leads", "IsConverted = false"),
        ImportTarget("contacts", "Contact", "contacts", "Contacts"),
        ImportTarget("accounts", "Account", "companies", "Accounts"),
        ImportTarget("opportunities", "Opportunity", "deals", "Opportunities"),
        ImportTarget("cases", "Case", "tickets", "Cases"),
        # History: Salesforce archives activities over a year old, which only queryAll reads
        # (deleted ones too, hence IsDeleted). An invitee's copy of an event isn't a meeting,
        # nor is a recurring series' master (IsRecurrence): its occurrences are.
        ImportTarget(
            "tasks",
            "Task",
            "activities",
            "Tasks",
            f"IsDeleted = false AND {NOT_A_SERIES}",
            archived=True,
        ),
        ImportTarget(
            "events",
            "Event",
            "activities",
            "Events",
            f"IsDeleted = false AND {PARENT_EVENTS} AND {NOT_A_SERIES}",
            archived=True,
        ),
    )
}

# Settings that stop the sync creating HubSpot records for Salesforce ones: an import is the
# admin asking for exactly that, so it creates whatever they say (spec §6.1: "Salesforce records
# are not auto-created in HubSpot at install. They appear through an import").
CREATE_OVERRIDES = {
    "salesforce_create_update": "create_or_update",  # contacts
    "salesforce_creates": True,  # companies
    "salesforce_to_hubspot": "create_or_update",  # custom objects
}

SKIP_COUNTERS = {  # the pair's counters that mean "this record was left alone, because…"
    "unchanged": "already_in_sync",
    "own_writes_read_back": "already_in_sync",  # the sync wrote it last: in step
    "skipped_outside_list": "outside_inclusion_list",
    "leads_converted": "converted_lead",
    "skipped_create_disabled": "creation_off",
    "skipped_no_email": "no_email",
    "skipped_type_off": "activity_type_off",
    "skipped_own": "created_by_the_integration",
    "skipped_no_contact": "no_contact",  # no WhoId, and no WhatId of a synced record
    "skipped_unsynced_pipeline": "unsynced_pipeline",  # its deal opted out (spec §10)
}
# Errors about one value the pair left out of a record it wrote (the record is in HubSpot).
VALUE_HELD_BACK = {
    key for key, kind in ERROR_TYPES.items() if kind.category in ("Picklists", "Property values")
}
# A record the pair left alone without counting why (a path SKIP_COUNTERS doesn't know).
OTHER_REASON = "other"
# Why records were left alone, as the import page and the command name them.
SKIP_REASONS = {
    "no_email": gettext_lazy("No email address"),
    "duplicate_email": gettext_lazy("Email address of an earlier record"),
    "already_in_sync": gettext_lazy("Already synced and unchanged"),
    "outside_inclusion_list": gettext_lazy("Outside the inclusion list"),
    "pair_off": gettext_lazy("The object's sync is switched off"),
    "converted_lead": gettext_lazy("Converted lead"),
    "creation_off": gettext_lazy("Creation turned off"),
    "unsupported": gettext_lazy("The object's sync isn't available yet"),
    "activity_type_off": gettext_lazy("Activity type not synced"),
    "created_by_the_integration": gettext_lazy("Created by the integration"),
    "no_contact": gettext_lazy("Not on a lead, contact or synced record"),
    "unsynced_pipeline": gettext_lazy("Deal in a pipeline that isn't synced"),
    OTHER_REASON: gettext_lazy("Left alone by the sync"),
}


CAMPAIGN_PREFIX = "campaign:"
SALESFORCE_ID = re.compile(r"[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?")
CAMPAIGNS_LISTED = 200  # active campaigns the import page offers


def campaign_target(campaign_id: str, name: str = "") -> ImportTarget:
    """One campaign's members: its contacts, then its leads (converted ones follow their
    contact, as in the leads import). ``campaign_id`` must be a well-formed Salesforce id."""

    def members(field: str) -> str:
        return f"Id IN (SELECT {field} FROM CampaignMember WHERE CampaignId = '{campaign_id}')"  # noqa: S608

    return ImportTarget(
        f"{CAMPAIGN_PREFIX}{campaign_id}",
        "Campaign",
        "contacts",
        CAMPAIGN_MEMBERS.format(campaign=name or campaign_id),
        parts=(
            ImportPart("Contact", members("ContactId")),
            ImportPart("Lead", f"IsConverted = false AND {members('LeadId')}"),
        ),
    )


def import_target(
    *, integration: Integration, object_name: str, name: str = ""
) -> ImportTarget | None:
    """What ``object_name`` imports, or None. ``custom:<n>`` names a custom-object pair; its
    Salesforce object comes from the pair's settings. ``campaign:<Id>`` names a campaign's
    members (``name`` is the campaign's, for the label; whether it is active is checked by
    :func:`import_start`)."""
    if object_name in STANDARD_TARGETS:
        return STANDARD_TARGETS[object_name]
    if object_name.startswith(CAMPAIGN_PREFIX):
        campaign_id = object_name.removeprefix(CAMPAIGN_PREFIX)
        if not SALESFORCE_ID.fullmatch(campaign_id):
            return None
        return campaign_target(campaign_id, name)
    if object_name.startswith(CUSTOM_PREFIX):
        row = ObjectSync.objects.filter(integration=integration, object=object_name).first()
        if row is None:
            return None
        options = settings_for(object_name, row.options)
        sobject = getattr(options, "salesforce_object", "")
        if not sobject:
            return None
        return ImportTarget(object_name, sobject, object_name, sobject)
    return None


# --- reads ------------------------------------------------------------------------------------
def import_targets(*, integration: Integration) -> list[dict[str, Any]]:
    """Every object an admin can import, with whether its pair is switched on
    (``pairs_switched_on``, as an import's start decides)."""
    on = pairs_switched_on(integration=integration)
    targets = list(STANDARD_TARGETS.values())
    customs = ObjectSync.objects.filter(
        integration=integration, object__startswith=CUSTOM_PREFIX
    ).values_list("object", flat=True)
    for name in sorted(customs):
        target = import_target(integration=integration, object_name=name)
        if target is not None:
            targets.append(target)
    types_off = activity_types_off(integration=integration)
    return [
        {
            "target": t,
            "pair_enabled": t.pair in on,
            "off": nothing_imported_because(t, on=on, types_off=types_off),
        }
        for t in targets
    ]


def job_target(job: ImportJob) -> ImportTarget | None:
    return import_target(integration=job.integration, object_name=job.object, name=job.object_label)


def active_campaigns(*, integration: Integration) -> list[dict[str, str]]:
    """Salesforce's active campaigns, by name: ``[{"id", "name", "key"}]``, at most
    ``CAMPAIGNS_LISTED`` and one more when there are more (one SOQL query, counted in the
    ledger, then kept for ``REMOTE_READ_TTL``; a ``ConnectorError`` when Salesforce can't
    answer: the page says so, no retry, nothing kept)."""

    def read() -> list[dict[str, str]]:
        salesforce = SalesforceConnector(integration=integration)
        soql = (
            "SELECT Id, Name FROM Campaign WHERE IsActive = true "  # noqa: S608
            f"ORDER BY Name, Id LIMIT {CAMPAIGNS_LISTED + 1}"
        )
        records = salesforce.query(soql).get("records") or []
        return [
            {"id": r["Id"], "name": r.get("Name") or r["Id"], "key": f"{CAMPAIGN_PREFIX}{r['Id']}"}
            for r in records
        ]

    return cached_remote_read(integration, f"salesforce:campaigns:{CAMPAIGNS_LISTED}", read)


def import_jobs_list(*, integration: Integration, limit: int = 20) -> list[ImportJob]:
    return list(
        ImportJob.objects.filter(integration=integration)
        .select_related("started_by")
        .order_by("-created_at", "-id")[:limit]
    )


def import_job_get(*, integration: Integration, job_id: int) -> ImportJob | None:
    return (
        ImportJob.objects.filter(integration=integration, pk=job_id)
        .select_related("started_by")
        .first()
    )


def import_active(*, integration: Integration, object_name: str) -> ImportJob | None:
    return (
        ImportJob.objects.filter(
            integration=integration,
            object=object_name,
            status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
        )
        .order_by("-created_at")
        .first()
    )


def job_stalled(job: LeasedJob) -> bool:
    """Running, but its worker stopped renewing the lease (it died, or was killed): an import
    is resumed, a list resync goes on after the last page it queued."""
    return job.status == "running" and not job_lease_left(job)


def job_lease_left(job: LeasedJob) -> timedelta:
    """How long the worker holding a job's lease (an import's, or a list resync's) has before
    the job counts as stalled."""
    if job.heartbeat_at is None:
        return timedelta(0)
    return max(timedelta(0), job.heartbeat_at + LEASE - timezone.now())


def import_progress(job: ImportJob) -> dict[str, Any]:
    """What the progress bar and the summary show."""
    total = job.total or 0
    if job.status == ImportJob.Status.SUCCEEDED:
        percent = 100
    elif total:
        percent = min(100, math.floor(job.processed * 100 / total))
    else:
        percent = 0
    end = job.finished_at or timezone.now()
    seconds = (end - job.started_at).total_seconds() if job.started_at else 0.0
    return {
        "percent": percent,
        "total": total,
        "seconds": seconds,
        "rate": job.processed / seconds if seconds > 0 else 0.0,
        "reasons": sorted(
            ((k, v) for k, v in (job.skipped_reasons or {}).items() if v),
            key=lambda kv: (-kv[1], kv[0]),
        ),
    }


# --- writes -----------------------------------------------------------------------------------
def import_start(
    *,
    integration: Integration,
    object_name: str,
    actor: AbstractBaseUser | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Queue an import of one Salesforce object (audit-logged) and start it on a worker once
    the transaction commits. Refused while one of the same object is queued or running. A
    campaign (``campaign:<Id>``) is read first (one call): it must exist and be active."""
    from .tasks import run_import

    _refuse_unless_connected(integration)
    target = import_target(integration=integration, object_name=object_name)
    if target is None:
        raise ImportRefused(UNKNOWN_OBJECT.format(object=object_name))
    _refuse_while_pair_off(integration, target)
    calls = _CallCounter()
    name = ""
    if object_name.startswith(CAMPAIGN_PREFIX):
        campaign = _active_campaign(calls.salesforce_connector(integration), target)
        name = campaign.get("Name") or ""
        object_name = f"{CAMPAIGN_PREFIX}{campaign['Id']}"  # the 18-character id
        target = campaign_target(campaign["Id"], name)
    with transaction.atomic():
        Integration.objects.select_for_update().filter(pk=integration.pk).first()
        if import_active(integration=integration, object_name=object_name):
            raise ImportRefused(ALREADY_RUNNING.format(label=target.label))
        return job_create(
            ImportJob,
            integration=integration,
            actor=actor,
            action="import.started",
            details={"object": object_name, **({"name": name} if name else {})},
            job_key="import",
            task=run_import if enqueue else None,
            object=object_name,
            object_label=name[:255],
            salesforce_calls=calls.salesforce,
        )


# Why an import can't start while its pair is off (the Import page's badges say the same).
PAIR_OFF = {
    "contacts": gettext_lazy("Contact sync is off: nothing would be imported."),
    "companies": gettext_lazy("Company sync is off: turn it on first on the Companies tab."),
    "deals": gettext_lazy("Deal sync is off: turn it on first on the Deals tab."),
    "tickets": gettext_lazy("Ticket sync is off: turn it on first on the Tickets tab."),
    "activities": gettext_lazy("Activity sync is off: turn it on first on the Activities tab."),
}
CUSTOM_OFF = gettext_lazy("Custom object sync is off: turn it on first on the Custom objects tab.")


# An activities import whose every Salesforce type is off on the Activities tab would skip
# every record it reads (``activity_type_off``): the toggles that would let some through.
TYPES_OFF = {
    "tasks": (
        ("salesforce_tasks", "salesforce_calls", "salesforce_emails"),
        gettext_lazy(
            "Salesforce tasks, calls and emails are all off on the Activities tab: every task "
            "would be skipped. Turn one on first."
        ),
    ),
    "events": (
        ("salesforce_meetings",),
        gettext_lazy(
            "Salesforce meetings are off on the Activities tab: every event would be skipped. "
            "Turn them on first."
        ),
    ),
}


def activity_types_off(*, integration: Integration) -> dict[str, Any]:
    """The activities imports that would skip every record, and why (1 query)."""
    row = ObjectSync.objects.filter(integration=integration, object="activities").first()
    settings = settings_for("activities", row.options if row is not None else {})
    return {
        key: message
        for key, (toggles, message) in TYPES_OFF.items()
        if not any(getattr(settings, toggle, False) for toggle in toggles)
    }


def nothing_imported_because(target: ImportTarget, *, on: set[str], types_off: dict) -> Any:
    """Why an import of ``target`` would only read Salesforce to skip every record, or "":
    its pair is off (``on``: ``pairs_switched_on``), or each of its activity types is
    (``types_off``: ``activity_types_off``)."""
    if target.pair not in on:
        return PAIR_OFF.get(target.pair, CUSTOM_OFF)
    return types_off.get(target.key, "")


def _refuse_while_pair_off(integration: Integration, target: ImportTarget) -> None:
    """Refused up front, before any call, for what the Import page flags
    (``nothing_imported_because``)."""
    types_off = activity_types_off(integration=integration) if target.key in TYPES_OFF else {}
    on = pairs_switched_on(integration=integration)
    reason = nothing_imported_because(target, on=on, types_off=types_off)
    if reason:
        raise ImportRefused(reason)


def _active_campaign(salesforce: SalesforceConnector, target: ImportTarget) -> dict:
    """The campaign ``target`` imports the members of, read from Salesforce; refused unless
    it exists and is active (spec §17: only active campaigns can be imported). One call, no
    retry: whoever starts the import is waiting for the answer."""
    campaign_id = target.key.removeprefix(CAMPAIGN_PREFIX)
    soql = f"SELECT Id, Name, IsActive FROM Campaign WHERE Id = '{campaign_id}'"  # noqa: S608
    try:
        records = salesforce.query(soql).get("records") or []
    except ConnectorError as error:
        if not (isinstance(error, BadRequest) and error.code == "INVALID_QUERY_FILTER_OPERATOR"):
            reason = getattr(error, "message", None) or str(error)
            raise ImportRefused(
                CAMPAIGN_UNREADABLE.format(campaign=campaign_id, error=reason)
            ) from error
        records = []  # "invalid ID field": a well-formed id no record can have
    if not records:
        raise ImportRefused(NO_SUCH_CAMPAIGN.format(campaign=campaign_id))
    campaign = records[0]
    if not campaign.get("IsActive"):
        raise ImportRefused(CAMPAIGN_INACTIVE.format(campaign=campaign.get("Name") or campaign_id))
    return campaign


def import_cancel(*, job: ImportJob, actor: AbstractBaseUser | None = None) -> bool:
    """Stop a queued or running import after its current batch (what it did stays)."""
    from .services import audit_event_record

    stopped = ImportJob.objects.filter(
        pk=job.pk, status__in=(ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    if stopped:
        audit_event_record(
            action="import.cancelled",
            integration=job.integration,
            actor=actor,
            details={"object": job.object, "import": job.pk},
        )
        job.refresh_from_db()
    return bool(stopped)


def import_resumable(job: ImportJob) -> bool:
    """Failed, cancelled, or stalled (its worker died): it can go on after its position."""
    finished = (ImportJob.Status.FAILED, ImportJob.Status.CANCELLED)
    return job.status in finished or job_stalled(job)


def import_resume(
    *, job: ImportJob, actor: AbstractBaseUser | None = None, enqueue: bool = True
) -> ImportJob:
    """Continue a failed or cancelled import after the last record it committed (on a worker,
    or ``enqueue=False``: queued for the caller to run with :func:`import_run`)."""
    from .services import audit_event_record

    if not import_resumable(job):
        raise ImportRefused(ONLY_STOPPED_RESUME)
    _refuse_unless_connected(job.integration)
    target = job_target(job)
    if target is not None:
        _refuse_while_pair_off(job.integration, target)
    with transaction.atomic():
        # As import_start: one at a time decides under the integration's row lock.
        Integration.objects.select_for_update().filter(pk=job.integration_id).first()
        active = import_active(integration=job.integration, object_name=job.object)
        if active is not None and active.pk != job.pk:
            raise ImportRefused(ANOTHER_RUNNING)
        # Its clock (the seconds and records per second shown) counts the time it ran, not
        # the time it stood still: moved on by the pause since it ended (or its worker died).
        idle_since = job.finished_at or job.heartbeat_at
        started_at = job.started_at
        if started_at is not None and idle_since is not None:
            started_at += max(timedelta(0), timezone.now() - idle_since)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.QUEUED,
            started_at=started_at,
            finished_at=None,
            message="",
            worker="",
        )
        job.refresh_from_db()
        audit_event_record(
            action="import.resumed",
            integration=job.integration,
            actor=actor,
            details={"object": job.object, "import": job.pk, "after": job.position},
        )
        if enqueue:
            _enqueue(job)
    return job


def _refuse_unless_connected(integration: Integration) -> None:
    """Paused (the allocation or Salesforce's org limit used up) is still connected: every
    call asks the budget first, so the import runs once calls are free, or stops saying why.
    Suspended waits for the admin to mend its cause, as the cycles do."""
    integration.refresh_from_db(fields=["state"])
    if integration.state == Integration.State.SUSPENDED:
        raise ImportRefused(SUSPENDED)
    if integration.state not in (Integration.State.CONNECTED, Integration.State.PAUSED):
        raise ImportRefused(NOT_CONNECTED)


def _enqueue(job: ImportJob) -> None:
    from .tasks import run_import

    transaction.on_commit(lambda: run_import.delay(job.pk))


# --- running an import ------------------------------------------------------------------------
ProgressCallback = Callable[[ImportJob], None]


def import_run(
    *,
    job: ImportJob,
    progress: ProgressCallback | None = None,
    stop_after_batches: int | None = None,
) -> ImportJob:
    """Run (or resume) one import in this process. Returns at once if another worker holds a
    live lease on it. ``stop_after_batches`` stops early as a crash would (tests, benchmarks):
    the job stays *running* with its position, and the next run resumes after it."""
    from .sync.cycle import LeaseLost, lock_holder_new

    holder = lock_holder_new()
    if not job_lease_claim(job, holder):
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    runner = _Runner(job, holder, progress, stop_after_batches)
    try:
        runner.run()
    except BudgetExhausted as error:
        runner.fail(STOPPED_BY_BUDGET.format(error=error, records=job.processed))
    except ApiLimitExceeded as error:
        stopped = (
            STOPPED_BY_ORG_LIMIT if error.system == System.SALESFORCE else STOPPED_BY_HUBSPOT_LIMIT
        )
        runner.fail(stopped.format(error=error))
    except (AuthExpired, PermissionDenied) as error:
        if isinstance(error, PermissionDenied) and error.system == System.HUBSPOT:
            runner.fail(STOPPED_BY_HUBSPOT_SCOPES.format(error=error))
        else:
            runner.fail(STOPPED_BY_CREDENTIALS.format(system=error.system, error=error))
    except ImportFailed as error:
        runner.fail(error.message if error.final else STOPPED_BY_ERROR.format(error=error))
    except LeaseLost as error:
        # The batch in flight wasn't committed (the lease is checked inside its commit): a
        # resume reads it again, once the pair's lease is free.
        log.warning("import %s stopped: %s", job.pk, error)
        runner.fail(PAIR_TAKEN_OVER.format(pair=runner.pair_row.object))
    except ConnectorError as error:
        runner.fail(STOPPED_BY_ERROR.format(error=error))
    except Exception as error:  # a bug: the import says so instead of staying 'running'
        log.exception("import %s failed", job.pk)
        runner.fail(STOPPED_BY_DEFECT.format(kind=type(error).__name__, error=error))
    finally:
        runner.release()
    return job


_Job = TypeVar("_Job", bound=LeasedJob)


def job_create(
    model: type[_Job],
    *,
    integration: Integration,
    actor: AbstractBaseUser | None,
    action: str,
    details: dict[str, Any],
    job_key: str,
    task: Any = None,
    **fields: Any,
) -> _Job:
    """A worker job (an import, a list resync) made for ``actor`` (kept when signed in), its
    start audit-logged (``details``, and the job's id as ``job_key``), and ``task`` run on it
    once the caller's transaction commits (no task: the caller runs it)."""
    from .services import audit_event_record

    user = actor if getattr(actor, "is_authenticated", False) else None
    job = model.objects.create(integration=integration, started_by=user, **fields)
    audit_event_record(
        action=action, integration=integration, actor=actor, details={**details, job_key: job.pk}
    )
    if task is not None:
        transaction.on_commit(lambda: task.delay(job.pk))
    return job


def job_lease_claim(job: LeasedJob, holder: str) -> bool:
    """Take a worker job's lease (an import's, or a list resync's: the same fields): queued
    or running, and free, expired, or held by a worker that died on this host."""
    from .sync.cycle import _holder_is_dead

    model = type(job)
    now = timezone.now()
    active = model.objects.filter(pk=job.pk, status__in=(model.Status.QUEUED, model.Status.RUNNING))
    free = Q(worker="") | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - LEASE)
    fields = {"worker": holder, "heartbeat_at": now, "status": model.Status.RUNNING}
    if active.filter(free).update(**fields):
        return True
    current = active.values_list("worker", flat=True).first()
    if current and _holder_is_dead(current):
        log.warning(
            "%s %s: taking over from a worker that died (%s)", model.__name__, job.pk, current
        )
        return bool(active.filter(worker=current).update(**fields))
    return False


class _CallCounter:
    """Counts the HTTP calls this import's own connectors make (the ledger has them all, but
    can't tell them from a concurrent cycle's)."""

    def __init__(self) -> None:
        self.salesforce = 0
        self.hubspot = 0

    def salesforce_connector(self, integration: Integration) -> SalesforceConnector:
        connector = SalesforceConnector(integration=integration)
        connector.session.request = self._counting(connector.session.request, "salesforce")
        return connector

    def hubspot_connector(self, integration: Integration) -> HubSpotConnector:
        connector = HubSpotConnector(integration=integration)
        connector.call = self._counting(connector.call, "hubspot")
        return connector

    def _counting(self, fn, system: str):
        def counted(*args, **kwargs):
            try:
                result = fn(*args, **kwargs)
            except BudgetExhausted:
                raise  # refused before anything was sent
            except BaseException:
                setattr(self, system, getattr(self, system) + 1)
                raise
            setattr(self, system, getattr(self, system) + 1)
            return result

        return counted


class _Runner:
    def __init__(
        self,
        job: ImportJob,
        holder: str,
        progress: ProgressCallback | None,
        stop_after_batches: int | None,
    ) -> None:
        self.job = job
        self.holder = holder
        self.progress = progress
        self.stop_after = stop_after_batches
        self.integration = job.integration
        self.calls = _CallCounter()
        self.base_calls = (job.salesforce_calls, job.hubspot_calls)  # from earlier runs
        self.pair_row: ObjectSync | None = None
        self.pair_locked = False
        self.seen_emails: set[str] = set()
        self.stopped_early = False
        self.counts: Counter = Counter()  # the pair's live counters (set in pair_for)
        self.sync = None  # the pair's sync (set in pair_for)
        self.sobjects: list[str] = []  # the people objects a contacts import reads
        self.run_started = timezone.now()
        self._earlier_emails: dict[str, str] | None = None
        self.resumed = False  # set by run()
        # Its first batch is the one a stopped run had in flight (its writes may have landed
        # without their links): set by run(), cleared after that batch.
        self.in_flight = False

    # --- the lifecycle ------------------------------------------------------------------------
    def run(self) -> None:
        job = self.job
        # An earlier run of this job stopped (crash, failure, cancel) with a batch perhaps in
        # flight: its writes may have landed without being committed here.
        self.resumed = self.in_flight = job.started_at is not None
        if job.started_at is None:
            job.started_at = timezone.now()
            job.save(update_fields=["started_at"])
        target = job_target(job)
        if target is None:
            raise ImportFailed(NOTHING_TO_IMPORT.format(object=job.object), final=True)
        salesforce = self.calls.salesforce_connector(self.integration)
        if job.total is None:
            job.total = self.count(salesforce, target)
            job.method = "bulk" if job.total > BULK_THRESHOLD else "rest"
            self.save(["total", "method"])
        from .object_settings import PairRemoved
        from .services import object_sync_get_or_create

        try:
            self.pair_row = object_sync_get_or_create(
                integration=self.integration, object_name=target.pair
            )
        except PairRemoved:  # removed while the count ran
            raise ImportFailed(NOTHING_TO_IMPORT.format(object=job.object), final=True) from None
        if not self.pair_row.enabled:
            if job.processed:  # resumed: it stops as when the pair goes off while it runs
                raise pair_went_off()
            self.skip_all(target)
            return
        if not self.lock_pair(target):
            return  # cancelled while it waited
        sync, handle, fields_of = self.pair_for(target, salesforce)
        if sync is None:
            job.message = PAIR_UNSUPPORTED.format(label=target.label, pair=target.pair)
            self.skip_all(target, reason="unsupported")
            return
        batches = 0
        # The parts in order, from the one the position is in (a resume continues there).
        for index, part in enumerate(target.reads):
            if index < job.part:
                continue
            types = {
                name: info.get("type", "string")
                for name, info in sync.ctx.salesforce_fields.get(part.sobject, {}).items()
            }
            reader = self.read(salesforce, index, part, fields_of(part.sobject), types)
            for records in reader:
                if self.stopped():
                    return
                self.check_pair_still_on()
                self.import_batch(target, index, partial(handle, part.sobject), records)
                batches += 1
                if self.stop_after is not None and batches >= self.stop_after:
                    self.stopped_early = True
                    return
        if self.stopped():
            return
        job.status = ImportJob.Status.SUCCEEDED
        job.finished_at = timezone.now()
        if target.pair == "deals":
            companies = ObjectSync.objects.filter(
                integration=self.integration, object="companies"
            ).first()
            if companies is None or not companies.enabled:
                job.message = DEALS_WITHOUT_COMPANIES
        self.save(["status", "finished_at", "message"])

    def fail(self, message: str) -> None:
        job = self.job
        if ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CANCELLED).exists():
            return
        job.status = ImportJob.Status.FAILED
        job.finished_at = timezone.now()
        job.message = message
        self.save(["status", "finished_at", "message"])

    def release(self) -> None:
        from .sync.cycle import lock_release

        if self.pair_locked and self.pair_row is not None:
            lock_release(self.pair_row, self.holder)
        self.job.worker = ""
        self.save(["worker"])

    def save(self, update: list[str]) -> None:
        job = self.job
        job.salesforce_calls = self.base_calls[0] + self.calls.salesforce
        job.hubspot_calls = self.base_calls[1] + self.calls.hubspot
        job.heartbeat_at = timezone.now()
        values = {
            n: getattr(job, n)
            for n in {"salesforce_calls", "hubspot_calls", "heartbeat_at", *update}
        }
        # Only while this worker holds the import: one resumed after this worker went quiet
        # past its lease is the new worker's to count.
        mine = ImportJob.objects.filter(pk=job.pk, worker=self.holder)
        if not mine.exclude(status=ImportJob.Status.CANCELLED).update(**values):
            # Cancelled meanwhile from the dashboard: the cancel stays, and what the batch in
            # flight did still counts (its records are linked: a resume skips them).
            mine.update(**{n: v for n, v in values.items() if n not in ENDING_FIELDS})
        if self.progress is not None:
            self.progress(job)

    def stopped(self) -> bool:
        """Cancelled from the dashboard, or resumed on another worker after this one went quiet
        past its lease (the page offered *Resume*): either way this worker goes no further."""
        row = ImportJob.objects.filter(pk=self.job.pk).values_list("status", "worker").first()
        status, worker = row or ("", self.holder)
        if status == ImportJob.Status.CANCELLED:
            self.job.status = status
            return True
        return worker != self.holder

    def check_pair_still_on(self) -> None:
        """The pair switched off on its tab while the import runs: its writes stop here too
        (the import fails, resumable once the pair is on again)."""
        if not ObjectSync.objects.filter(pk=self.pair_row.pk, enabled=True).exists():
            raise pair_went_off()

    def lock_pair(self, target: ImportTarget) -> bool:
        """Hold the pair's lease while importing, so its cycles (which write the same links)
        wait for the import instead of racing it. False when cancelled while waiting."""
        from .sync.cycle import lock_acquire

        deadline = time.monotonic() + PAIR_WAIT_SECONDS
        while not lock_acquire(self.pair_row, self.holder):
            if self.stopped():
                return False
            other = self.pair_importer()
            if other is not None:
                # Another import of the pair (leads while contacts, say) can run for hours:
                # wait for it as long as its worker is alive, not a cycle's ten minutes.
                deadline = time.monotonic() + PAIR_WAIT_SECONDS
                other_target = job_target(other)
                label = other_target.label if other_target else other.object
                self.job.message = WAITING_FOR_IMPORT.format(target=label)
            elif time.monotonic() > deadline:
                raise ImportFailed(CYCLE_TOO_LONG.format(pair=target.pair), final=True)
            else:
                self.job.message = WAITING_FOR_CYCLE.format(pair=target.pair)
            self.save(["message"])
            time.sleep(2)
        self.pair_locked = True
        if self.job.message:
            self.job.message = ""
            self.save(["message"])
        return True

    def pair_importer(self) -> ImportJob | None:
        """The live import holding the pair's lease, if an import holds it."""
        holder = (
            ObjectSync.objects.filter(pk=self.pair_row.pk)
            .values_list("lock_holder", flat=True)
            .first()
        )
        if not holder:
            return None
        other = ImportJob.objects.filter(
            integration=self.integration, worker=holder, status=ImportJob.Status.RUNNING
        ).first()
        return None if other is None or job_stalled(other) else other

    def preparing(self) -> bool:
        """Salesforce is still running the Bulk query: keep the leases alive and say so (a
        big object can take minutes). False when the admin cancelled meanwhile."""
        self.heartbeat()
        if self.stopped():
            return False
        if self.job.message != PREPARING:
            self.job.message = PREPARING
            self.save(["message"])
        return True

    def heartbeat(self) -> None:
        """Renew the import's lease and the pair's. Run inside each of the pair's commits
        too: raises ``LeaseLost`` when the import stalled past the pair's lease and another
        worker (a cycle, another import) took the pair over, so this batch isn't committed
        and the import writes no more beside it."""
        from .sync.cycle import lock_keep

        if self.pair_locked and self.pair_row is not None:
            lock_keep(self.pair_row, self.holder)
        ImportJob.objects.filter(pk=self.job.pk, worker=self.holder).update(
            heartbeat_at=timezone.now()
        )

    def skip_all(self, target: ImportTarget, reason: str = "pair_off") -> None:
        """The pair is off: nothing is created (spec §9, §10: turn the sync on first)."""
        job = self.job
        left = max(0, (job.total or 0) - job.processed)
        reasons = Counter(job.skipped_reasons or {})
        reasons[reason] += left
        job.processed += left
        job.skipped += left
        job.skipped_reasons = dict(reasons)
        job.status = ImportJob.Status.SUCCEEDED
        job.finished_at = timezone.now()
        if reason == "pair_off":
            job.message = PAIR_SWITCHED_OFF.format(pair=target.pair, label=target.label)
        self.save(["processed", "skipped", "skipped_reasons", "status", "finished_at", "message"])

    # --- the pair -----------------------------------------------------------------------------
    def pair_for(self, target: ImportTarget, salesforce: SalesforceConnector):
        """The pair's sync on a context whose connectors count for this import; its batch
        handler ``handle(sobject, records)`` and Salesforce field list ``fields_of(sobject)``
        for the objects ``target`` reads (None when the pair can't)."""
        from .sync.context import CycleContext
        from .sync.registry import pair_class

        try:
            cls = pair_class(target.pair)
        except (ImportError, KeyError):
            return None, None, None
        run = SyncRun(integration=self.integration, object=target.pair, trigger="import")
        # A first use reads both schemas with the context's own connectors: counted from the
        # ledger around it.
        before = self.ledger_counts()
        ctx = CycleContext.build(integration=self.integration, object_name=target.pair, run=run)
        after = self.ledger_counts()
        self.calls.salesforce += after[System.SALESFORCE] - before[System.SALESFORCE]
        self.calls.hubspot += after[System.HUBSPOT] - before[System.HUBSPOT]
        ctx.salesforce = salesforce
        ctx.hubspot = self.calls.hubspot_connector(self.integration)
        ctx.heartbeat = self.heartbeat
        ctx.retry_allowed = False
        known = {f.name for f in fields(ctx.settings)}
        overrides = {k: v for k, v in CREATE_OVERRIDES.items() if k in known}
        if overrides:
            ctx.settings = replace(ctx.settings, **overrides)
        sync = cls(ctx)
        self.sync, self.counts = sync, ctx.counts
        # Each pair's Salesforce → HubSpot half of a cycle, fed records instead of changes
        # (no cursor: nothing is marked as read).
        if target.pair == "contacts":
            self.sobjects = [part.sobject for part in target.reads]
            self.prime_hubspot_emails(sync)
            handle = lambda sobject, records: sync.handle_salesforce_people(sobject, records, None)  # noqa: E731
            return sync, handle, sync.salesforce_fields
        if target.pair == "companies":
            handle = lambda _, records: sync.handle_salesforce_accounts(records, None)  # noqa: E731
            return sync, handle, lambda _: sync.account_fields()
        if target.pair == "deals" and hasattr(sync, "handle_salesforce_opportunities"):
            if hasattr(sync, "pipelines"):
                sync.pipelines.ensure()  # what its cycle does first
            handle = lambda _, records: sync.handle_salesforce_opportunities(records, None)  # noqa: E731
            return sync, handle, lambda _: sync.opportunity_fields()
        if target.pair == "tickets" and hasattr(sync, "handle_cases"):
            handle = lambda _, records: sync.handle_cases(records, None)  # noqa: E731
            return sync, handle, lambda _: sync.case_fields()
        if target.pair == "activities" and hasattr(sync, "handle_salesforce"):
            if self.resumed:
                # Resumed: the batch in flight when it stopped may have made its engagements
                # (a cycle since may have cleared the pair's own marker); the first batch
                # looks for them before creating.
                sync.recover.setdefault("hubspot", timezone.now().isoformat())

            def handle(sobject: str, records: list[dict]) -> None:
                # Forced: turning a type on never backfills; the import is how history comes.
                sync.handle_salesforce(sobject, records, None, force=True)
                sync.recover.pop("hubspot", None)  # only the first batch can have been lost

            return sync, handle, sync.fields_of
        if target.pair.startswith(CUSTOM_PREFIX) and hasattr(sync, "record_fields"):
            if not getattr(sync, "configured", True):
                return None, None, None
            if hasattr(sync, "ensure_key_property"):
                sync.ensure_key_property()  # what its cycle does first
            handle = lambda _, records: sync.handle_salesforce(records, None)  # noqa: E731
            return sync, handle, lambda _: sync.record_fields()
        return None, None, None

    def prime_hubspot_emails(self, sync) -> None:
        """When HubSpot has fewer contacts than are left to import, read every HubSpot email
        once (100 per call) instead of looking each batch up by email (100 per call): people
        HubSpot doesn't have are then upserted straight away, as a first cycle does."""
        from .sync.changes import with_retries

        left = max(0, (self.job.total or 0) - self.job.processed)
        linked = RecordLink.objects.filter(
            integration=self.integration, object="contacts", salesforce_type__in=self.sobjects
        ).count()
        unlinked = max(0, left - linked)  # linked people need no lookup by email at all
        if unlinked <= 200:
            return
        hubspot = sync.ctx.hubspot
        found = with_retries(lambda: hubspot.search(object_type="contacts", limit=1))
        total = int(getattr(found, "total", 0) or 0)
        if math.ceil(total / 100) + 1 >= math.ceil(unlinked / 100):
            return
        emails: set[str] = set()
        for page in hubspot.objects_pages(object_type="contacts", limit=100, properties=["email"]):
            emails.update(
                (o.properties.get("email") or "").strip().lower() for o in page.results or []
            )
            # A big portal takes minutes to read: the import and the pair stay leased meanwhile.
            self.heartbeat()
        sync.hubspot_emails = emails
        sync.hubspot_emails_complete = True

    def people_handed(self, records: list[dict], skipped: Counter) -> list[dict]:
        """The people of a batch that go to the pair; the others are counted in ``skipped``.
        A person already linked always goes (it has its HubSpot contact). Another is skipped
        without an email, or when its email belongs to someone else (duplicate emails
        collapse into one contact, spec §16): a person linked before this run (its link's
        snapshot holds the email: the sync would otherwise move the link back and forth), or
        one read earlier in this run (the oldest, by id, keeps it)."""
        linked = set(
            RecordLink.objects.filter(
                integration=self.integration, salesforce_id__in=[r["Id"] for r in records]
            ).values_list("salesforce_id", flat=True)
        )
        handed = []
        for record in records:
            email = (record.get("Email") or "").strip().lower()
            if record["Id"] not in linked:
                if not email:
                    skipped["no_email"] += 1
                    continue
                keeper = self.earlier_link_emails().get(email, record["Id"])
                if email in self.seen_emails or keeper != record["Id"]:
                    skipped["duplicate_email"] += 1
                    continue
            if email:
                self.seen_emails.add(email)
            handed.append(record)
        return handed

    def earlier_link_emails(self) -> dict[str, str]:
        """email -> Salesforce id of the contact links that existed when this run started
        (read once, lazily)."""
        if self._earlier_emails is None:
            from django.db.models.fields.json import KeyTextTransform
            from django.db.models.functions import Lower

            rows = (
                RecordLink.objects.filter(
                    integration=self.integration,
                    object="contacts",
                    created_at__lt=self.run_started,
                )
                .annotate(email=Lower(KeyTextTransform("email", "snapshot")))
                .exclude(email__isnull=True)
                .exclude(email="")
                .values_list("email", "salesforce_id")
            )
            self._earlier_emails = dict(rows.iterator(chunk_size=5000))
        return self._earlier_emails

    def ledger_counts(self) -> dict[str, int]:
        rows = ApiCall.objects.filter(integration=self.integration).values("system")
        return {
            system: rows.filter(system=system).count()
            for system in (System.SALESFORCE, System.HUBSPOT)
        }

    def import_batch(self, target: ImportTarget, part: int, handle, records: list[dict]) -> None:
        """One batch of the target's read ``part``: pre-skips (no email, duplicate email), the
        pair's sync, the counts and the position (its part with it), committed together."""
        job = self.job
        skipped: Counter = Counter()
        handed = self.people_handed(records, skipped) if target.pair == "contacts" else records
        created = updated = failed = left_out = 0
        if handed:
            sobject = target.reads[part].sobject
            outcomes = self.pair_outcomes(handle, handed, sobject)
            created, updated, failed, left_out, left = outcomes
            skipped.update(left)
        self.in_flight = False
        reasons = Counter(job.skipped_reasons or {})
        reasons.update(skipped)
        job.processed += len(records)
        # Records made in Salesforce since the COUNT() are read too (their ids come last).
        job.total = max(job.total or 0, job.processed)
        job.created += created
        job.updated += updated
        job.failed += failed
        job.left_out += left_out
        job.skipped += sum(skipped.values())
        job.skipped_reasons = dict(reasons)
        job.position = max(r["Id"] for r in records)
        job.part = part
        self.save(
            [
                "total",
                "processed",
                "created",
                "updated",
                "failed",
                "left_out",
                "skipped",
                "skipped_reasons",
                "position",
                "part",
            ]
        )

    def pair_outcomes(
        self, handle, handed: list[dict], sobject: str
    ) -> tuple[int, int, int, int, Counter]:
        """Hand ``handed`` (records of ``sobject``) to the pair and put each record in exactly
        one outcome, by its id: failed (a sync error recorded for it now, but one about a value
        left out of its write), created or updated (its link made, or its link's values moved,
        now), else skipped. Returns (created, updated, failed, of the created and updated those
        written without a value, skip reasons); the reasons add up to the skipped records."""
        self.retire_deleted_in_hubspot(sobject, handed)
        ids = [r["Id"] for r in handed]
        links = RecordLink.objects.filter(integration=self.integration, salesforce_id__in=ids)
        before = {
            i: (h, s) for i, h, s in links.values_list("salesforce_id", "hubspot_id", "snapshot")
        }
        counts = self.pair_counts()
        counted = Counter(counts)
        started = timezone.now()
        handle(handed)
        delta = Counter(counts)
        delta.subtract(counted)
        errors = list(
            SyncError.objects.filter(
                integration=self.integration,
                salesforce_id__in=ids,
                resolved_at__isnull=True,
                last_seen_at__gte=started,
            ).values_list("salesforce_id", "error_type")
        )
        after = {
            i: (h, s) for i, h, s in links.values_list("salesforce_id", "hubspot_id", "snapshot")
        }
        new = {i for i in after if i not in before}
        # A link written again with the same values is a record in step (an activity's
        # forced resync), not an update.
        moved = {i for i in after if i in before and after[i] != before[i]}
        # A record written without one value (a picklist option HubSpot refused) is in HubSpot:
        # created or updated, its error on Sync health. Any other error fails it.
        written = new | moved
        failed = {i for i, kind in errors if i not in written or kind not in VALUE_HELD_BACK}
        skipped = len(set(ids) - failed - new - moved)
        # Linked to another HubSpot record now: made again, its own deleted in HubSpot (or
        # moved to the record that one was merged into: no create).
        rehomed = {i for i in moved if after[i][0] != before[i][0]}
        # The pairs count HubSpot creates, not which records made them: creates of records
        # that then failed (say, a deal waiting for its account) are taken off.
        made = max(0, delta["created_in_hubspot"] - len((new | rehomed) & failed))
        linked_now = (new | rehomed) - failed
        if self.in_flight and len(linked_now) > made:
            # The batch a stopped run had in flight: what it created in HubSpot, its links not
            # stored, the pair has just found and linked. Those were made by this import.
            made = max(made, self.made_during_import({after[i][0] for i in linked_now}))
        created = min(len(linked_now), made)
        updated = len(new - failed) + len(moved - failed) - created
        left_out = len({i for i, _ in errors} - failed)
        return created, updated, len(failed), left_out, skip_reasons(delta, skipped)

    def pair_counts(self) -> Counter:
        return self.counts

    def made_during_import(self, hubspot_ids: set[str]) -> int:
        """How many of these HubSpot records were created since the import started (one
        batch read per 100)."""
        from .sync.pair import hubspot_batch_read

        if self.sync.object_name == "activities":
            return 0  # its own recovery finds the engagements a stopped run made
        found = hubspot_batch_read(
            self.sync.ctx.hubspot,
            object_type=self.sync.hubspot_object_type,
            ids=sorted(hubspot_ids),
            properties=[],
        )
        return sum(1 for o in found.results if o.created_at and o.created_at >= self.job.created_at)

    def retire_deleted_in_hubspot(self, sobject: str, records: list[dict]) -> None:
        """An import brings every record over, also one deleted in HubSpot since it was
        linked (spec §16). The pair reads the HubSpot side of linked records that changed,
        not of those it leaves alone as unchanged: these are looked up here (one batch read
        per 100 of a HubSpot type, no Salesforce call), and the links of the ones deleted in
        HubSpot are retired, so the pair creates them again as it does new records (counted
        as created). One merged into another HubSpot record keeps its link."""
        sync = self.sync
        links = RecordLink.objects.filter(
            integration=self.integration,
            object=sync.object_name,
            salesforce_id__in=[r["Id"] for r in records],
        )
        by_id = {link.salesforce_id: link for link in links}
        looked_up: dict[str, dict[str, RecordLink]] = defaultdict(dict)  # type -> id -> link
        for record in records:
            link = by_id.get(record["Id"])
            if link is not None and self.left_unchanged(sobject, record, link):
                object_type, hubspot_id = self.hubspot_record(link)
                looked_up[object_type][hubspot_id] = link
        gone = [
            of_id[hubspot_id]
            for object_type, of_id in looked_up.items()
            for hubspot_id in sync.deleted_in_hubspot(object_type, set(of_id), merged_too=False)
        ]
        if gone:
            RecordLink.objects.filter(pk__in=[link.pk for link in gone]).delete()

    def left_unchanged(self, sobject: str, record: dict, link: RecordLink) -> bool:
        """Whether the pair may leave this linked record alone without reading HubSpot: its
        Salesforce values unchanged, by the pair's own comparison."""
        sync = self.sync
        if sync.object_name == "activities":
            # A copy of a HubSpot activity stays HubSpot's; the others the pair compares
            # without a read.
            return link.snapshot.get("__origin") == "salesforce"
        unchanged = getattr(sync, "salesforce_unchanged", None)
        if unchanged is None:  # (tickets: compared without a read too)
            return True
        if sync.object_name == "contacts":
            return unchanged(sobject, record, link)
        return unchanged(record, link)

    def hubspot_record(self, link: RecordLink) -> tuple[str, str]:
        """(HubSpot object type, id) of a link's HubSpot record (an activity's link names
        its engagement "<type>:<id>")."""
        if self.sync.object_name == "activities":
            object_type, _, hubspot_id = link.hubspot_id.partition(":")
            return object_type, hubspot_id
        return self.sync.hubspot_object_type, link.hubspot_id

    # --- reading Salesforce -------------------------------------------------------------------
    def where(self, index: int, part: ImportPart) -> str:
        """Part ``index``'s condition; the part the position is in continues after it."""
        conditions = [part.where] if part.where else []
        if self.job.position and index == self.job.part:
            conditions.append(f"Id > '{self.job.position}'")
        return f" WHERE {' AND '.join(conditions)}" if conditions else ""

    def count(self, salesforce: SalesforceConnector, target: ImportTarget) -> int:
        """What is left to read: one ``COUNT()`` query, or one composite call holding each
        part's."""
        from .sync.changes import composite_query, with_retries

        parts = [(i, part) for i, part in enumerate(target.reads) if i >= self.job.part]
        soqls = [
            f"SELECT COUNT() FROM {part.sobject}{self.where(index, part)}"  # noqa: S608
            for index, part in parts
        ]
        archived = any(part.archived for _, part in parts)  # (activities: one part)
        if len(soqls) == 1:
            page = with_retries(lambda: salesforce.query(soqls[0], include_deleted=archived))
            return int(page.get("totalSize") or 0)
        pages = composite_query(salesforce, soqls, include_deleted=archived)
        return sum(int(page.get("totalSize") or 0) for page in pages)

    def read(
        self,
        salesforce: SalesforceConnector,
        index: int,
        part: ImportPart,
        read_fields: list[str],
        types: dict[str, str],
    ) -> Iterator[list[dict]]:
        soql = (
            f"SELECT {', '.join(read_fields)} FROM {part.sobject}"  # noqa: S608
            f"{self.where(index, part)} ORDER BY Id"
        )
        if self.job.method == "bulk":
            rows = bulk_query_rows(
                salesforce,
                part.sobject,
                soql,
                types,
                waiting=self.preparing,
                all_rows=part.archived,
            )
        elif part.archived:
            rows = rest_query_rows(salesforce, soql, include_deleted=True)
        else:
            rows = rest_query_rows(salesforce, soql)
        batch: list[dict] = []
        for row in rows:
            if self.job.message == PREPARING:
                self.job.message = ""
                self.save(["message"])
            batch.append(row)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def skip_reasons(delta: Counter, skipped: int) -> Counter:
    """Why the pair left ``skipped`` records alone, from what its counters moved by (they
    carry no ids): exactly ``skipped`` reasons, so each skipped record has one."""
    reasons: Counter = Counter()
    for counter, reason in SKIP_COUNTERS.items():
        if delta[counter] > 0:
            reasons[reason] += delta[counter]
    extra = sum(reasons.values()) - skipped
    if extra:
        log.warning(
            "import: the pair counted %+d skip reasons for its %d skipped records: %s",
            extra,
            skipped,
            dict(delta),
        )
    while extra > 0:  # a record counted as skipped that still synced or failed
        reason, count = reasons.most_common(1)[0]
        cut = min(count, extra)
        reasons[reason] -= cut
        extra -= cut
    if extra < 0:
        reasons[OTHER_REASON] -= extra
    return +reasons


def rest_query_rows(
    salesforce: SalesforceConnector, soql: str, *, include_deleted: bool = False
) -> Iterator[dict]:
    """Rows of a SOQL query (``queryAll`` with ``include_deleted``), 2,000 per call, one page
    in memory at a time."""
    from .sync.changes import salesforce_pages, with_retries

    first = with_retries(lambda: salesforce.query(soql, include_deleted=include_deleted))
    for records in salesforce_pages(salesforce, first):
        yield from records


def bulk_query_rows(
    salesforce: SalesforceConnector,
    sobject: str,
    soql: str,
    types: dict[str, str],
    *,
    page_size: int | None = None,
    waiting: Callable[[], bool] | None = None,
    all_rows: bool = False,
) -> Iterator[dict]:
    """Rows of a Bulk API 2.0 query job: create (1 call), poll until complete (1 call when it
    is quick), then result pages of ``page_size`` rows (1 call each, ``Sforce-Locator``),
    each streamed to a temporary file and read row by row. Rows come typed like REST's.
    ``waiting`` is called after each poll that finds the job still running; when it returns
    False no row is read. ``all_rows``: a ``queryAll`` job (deleted and archived rows too)."""
    from simple_salesforce.bulk2 import Operation

    from .sync.changes import with_retries

    page_size = page_size or BULK_PAGE
    operation = Operation.query_all if all_rows else Operation.query

    def bulk(sf):
        return getattr(sf.bulk2, sobject)._client

    created = salesforce.call(
        lambda sf: bulk(sf).create_job(operation, soql), operation="bulk2.query"
    )
    job_id = created["id"]
    delay = 0.1
    while True:
        info = with_retries(
            lambda: salesforce.call(lambda sf: bulk(sf).get_job(job_id, True), operation="bulk2")
        )
        state = info.get("state")
        if state == "JobComplete":
            break
        if state in ("Failed", "Aborted"):
            reason = info.get("errorMessage") or NO_REASON_GIVEN
            raise ImportFailed(
                BULK_JOB_ENDED.format(job=job_id, state=state.lower(), reason=reason)
            )
        if waiting is not None and not waiting():
            abort_bulk_query(salesforce, lambda sf: bulk(sf).abort_job(job_id, True))
            return
        time.sleep(delay)
        delay = min(BULK_POLL_MAX_SECONDS, delay * 2)
    folder = Path(django_settings.VAR_DIR) / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    locator = ""
    with tempfile.TemporaryDirectory(dir=folder, prefix="import-") as tmp:
        while True:
            result = with_retries(
                lambda loc=locator: salesforce.call(
                    lambda sf: bulk(sf).download_job_data(tmp, job_id, loc, page_size),
                    operation="bulk2.results",
                )
            )
            path = result["file"]
            try:
                with open(path, newline="", encoding="utf-8") as handle:
                    for row in csv.DictReader(handle):
                        yield _typed(row, sobject, types)
            finally:
                os.remove(path)
            locator = result.get("locator") or ""
            if not locator:
                return


def pair_went_off() -> ImportFailed:
    """What stops an import whose pair was switched off after it started (resumable)."""
    from .sync.cycle import OBJECT_SYNC_OFF

    return ImportFailed(OBJECT_SYNC_OFF)


def abort_bulk_query(salesforce: SalesforceConnector, abort: Callable) -> None:
    """Stop a Bulk query job nobody will read (one call): an import cancelled while Salesforce
    still runs it. A job that finished meanwhile can't be aborted, and needn't be."""
    try:
        salesforce.call(abort, operation="bulk2.abort")
    except ConnectorError as error:
        log.info("import: the Bulk query job was not aborted (%s)", error)


NUMBERS = {"double": float, "currency": float, "percent": float, "int": int, "long": int}


def _typed(row: dict[str, str], sobject: str, types: dict[str, str]) -> dict[str, Any]:
    """A Bulk CSV row as the REST API would render it: empty is null, booleans and numbers
    typed, datetimes ``…+0000``."""
    record: dict[str, Any] = {"attributes": {"type": sobject}}
    for name, value in row.items():
        kind = types.get(name, "string")
        if value == "":
            record[name] = None
        elif kind == "boolean":
            record[name] = value.lower() == "true"
        elif kind in NUMBERS:
            try:
                record[name] = NUMBERS[kind](value)
            except ValueError:
                record[name] = float(value)
        elif kind == "datetime" and value.endswith("Z"):
            record[name] = value[:-1] + "+0000"
        else:
            record[name] = value
    return record
