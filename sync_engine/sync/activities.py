"""HubSpot activities ⇄ Salesforce tasks and events (spec §13).

Two streams, each switched on per type on the Activities tab (tasks with both on sync two
ways):

* **HubSpot → Salesforce** (timeline sync): calls, emails, meetings, notes and tasks become
  Salesforce **Tasks** on the lead or contact their HubSpot contact is linked to (the contact
  pair's links): ``Subject`` names the type and title ("Call: Intro call", "Note: first words
  of the body"), ``Status`` is *Completed* (HubSpot tasks keep their own status),
  ``ActivityDate`` is the activity's date (``hs_timestamp``), ``WhoId`` the lead or contact,
  ``Description`` the body (HTML made plain text; plain text as it is), ``OwnerId`` the owner
  of that lead or contact as the contact pair last synced it (the integration user when that's
  unknown, a queue or an inactive user). The activity's own HubSpot owner isn't synced. Emails
  sync when sent by the rep (``hs_email_direction`` *EMAIL*), never received or forwarded ones.
  A call's duration and direction go too (``CallDurationInSeconds``, ``CallType``), when the
  org shows the integration user those fields; a value Salesforce refuses is left out of the
  Task with an error of its own (see ``without_refused_call_values``).
* **Salesforce → HubSpot**: Tasks (by ``TaskSubtype``: *Call* → call, *Email* → email, others
  → task) and Events (→ meeting) become engagements associated with the linked HubSpot contact
  (subject/title, description/body, due date or start/timestamp, status; a call's duration
  and type, seconds as milliseconds, *Internal* as no direction); a task's *Assigned To*
  becomes its HubSpot owner when that user has one (matched by email, spec §11).
* **Dates are days in the HubSpot account's time zone** (``timeZone`` of the account details,
  stored when connecting; UTC when unknown): an evening call in New York is a Task on that
  day, and a Task due on 4 March becomes ``hs_timestamp`` midnight of 4 March in New York (an
  all-day Event, kept by Salesforce at midnight UTC, a meeting over its days in New York).

Rules:

* **No backfill.** The moment each toggle (and the pair's switch) is turned on is stored in the
  settings (``turned_on_at``); only activities created or modified after it sync. The import
  covers history.
* **Updates flow from the origin.** The system an activity was created in is its system of
  record: its later edits update the copy, and deletes delete nothing. Edits made to the copy
  are not sent back, except for tasks when both task toggles are on (HubSpot tasks →
  Salesforce and Salesforce tasks → HubSpot, spec §13's two-way task sync): then an edit to
  a task's copy (subject, description/body, due date, status) updates its origin. A HubSpot
  activity moved to another synced contact moves its Task there at its next edit; a
  Salesforce activity given another Name or Related To moves its engagement to that person
  or record. Nothing echoes: each link remembers its origin and holds the values both sides
  were last in step on (for a write sent back, the values the origin gives once written), so
  a side that holds them writes nothing; an edit made on both sides between two cycles keeps
  HubSpot's value (HubSpot changes are read first). A copy is never read as a new activity
  (linked Tasks, Tasks carrying ``HubSpot_Id__c``, and engagements carrying
  ``salesforce_activity_id`` are ours; without ``HubSpot_Id__c``, an unlinked Task is taken
  for ours by its look only while a create may be unlinked, see ``ActivitySync.ours``).
* **Idempotent creates.** Engagements carry ``salesforce_activity_id`` (a property the cycle
  creates once per engagement type); Tasks carry ``HubSpot_Id__c`` when the org has that
  external id on Task. Creates are never retried blindly. Before any create a pending-create
  marker is stored; a cycle that starts with the marker still set (the previous one died
  between a create and its commit) first looks for the copies that landed — engagements by
  ``salesforce_activity_id``, Tasks by ``HubSpot_Id__c`` or else the Tasks the integration
  user created for the same lead or contact with the same subject and date — and links them
  instead of creating again. Creates made by reading changes are read again by the next
  cycle; those made by a retry (a waiting activity whose contact has synced, an admin's
  Resync) only by the next cycle's retries. A cycle that can't run them all (retries stop at
  75% of the allocation) keeps such a marker for the next cycle that can.
* **The inclusion list.** Contacts outside the contact inclusion list sync in neither
  direction (spec §6.5), and neither do their activities: new ones aren't copied, and edits
  to ones copied earlier stay where they were made (counted as ``skipped_outside_list``)
  until the contact enters the list: then they sync (spec §5.2), and still nothing new is
  copied (see ``catch_up_entrants``). An activity with several contacts goes on one that is
  in the list.
* **Contacts not linked yet.** An activity whose contact (or lead) hasn't synced gets a
  *Waiting for contact to sync* error and is retried with the other errors; it syncs once the
  contact has. An activity with no contact at all (or a Salesforce activity without ``WhoId``)
  is skipped: there is no one to put it on. Once its type is turned off, its retry ends the
  error: it no longer syncs.

Everything is batched: HubSpot change reads per type on ``hs_lastmodifieddate`` (search, 200
per page), Salesforce change reads on ``SystemModstamp`` for Task and Event in one composite
call, Tasks written 200 per sObject Collections call, engagements 100 per batch create with
their contact association inline. One bad record fails alone into a typed error.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags

from .. import services
from ..errors import BadRequest, Conflict, NotFound, PermissionDenied, RemoteError
from ..models import (
    ObjectSync,
    RecordLink,
    SyncCursor,
    SyncError,
)
from .changes import (
    Cursor,
    SoqlStream,
    Version,
    composite_query,
    http_date,
    hubspot_changes,
    ids_queries,
    list_missing_message,
    parse_time,
    salesforce_pages,
    soql_datetime,
    soql_string,
    with_retries,
)
from .context import CycleContext
from .pair import (
    LINK_FIELDS,
    RETRY_BATCH,
    SALESFORCE_COLLECTION,
    VALUE_REFUSALS,
    PairSync,
    association_input,
    dissociation_input,
    each_chunk_retried,
    hubspot_associations_read,
    hubspot_version,
    list_joins_once,
    list_members_once,
    salesforce_version,
    sole_fits,
    split_until_alone,
)
from .values import zone_named

log = logging.getLogger(__name__)

OBJECT = "activities"
WAITING = "waiting_for_contact"  # an activity whose lead or contact hasn't synced yet
MODIFIED = "hs_lastmodifieddate"
KEY_PROPERTY = "salesforce_activity_id"  # on engagements we create: the Task or Event id
EXTERNAL_ID = "HubSpot_Id__c"  # on Task, when the org has it: the engagement we copied
INTENT_STREAM = "activities:pending-creates"
# The contacts' inclusion list as this pair last read its joins (see catch_up_entrants). Pairs
# may run apart, so the contact pair's state can't be this one; a cycle's read from the same
# state is shared (``list_joins_once``).
ENTRANTS_STREAM = "activities:list-entrants"
# In the pending-create marker: some of its creates were made by retries (see ActivitySync.run).
RETRIED_MARK = "retried"
# On the link of a two-way task whose copy found its origin deleted (see ``retire_gone``).
ORIGIN_GONE = "__origin_gone"
# On the link of an activity whose copy is being moved, noted before the write (``note_sent``)
# and gone with the commit: a cycle that died in between left the copy on the noted person
# (or record) or where it was, and the next one takes it off whichever it isn't meant on.
WHO_SENT = "__who_sent"  # a Task's WhoId (HubSpot activities)
MOVE_SENT = "__move_sent"  # an engagement's {"contact": id, "related": "pair:id"}
SENT_MARK = "sent"  # in the marker: the Tasks being created, as (WhoId, Subject, ActivityDate)
# A write to these found its record deleted (in the recycle bin, or never there).
DELETED_IN_SALESFORCE = ("ENTITY_IS_DELETED", "NOT_FOUND")
EVENT_PREFIX = "00U"  # Event ids; Task ids start with 00T
SUBJECT_MAX = 255
NOTE_WORDS = 8
DESCRIPTION_MAX = 32000
# The legacy engagements change feed tells, in one call, which engagement types changed (see
# ``ActivitySync.engagements_changed``): its v1 types, as the v3 object types polled.
FEED_TYPES = {
    "CALL": "calls",
    "EMAIL": "emails",
    "INCOMING_EMAIL": "emails",
    "FORWARDED_EMAIL": "emails",
    "MEETING": "meetings",
    "NOTE": "notes",
    "TASK": "tasks",
}
FEED_PAGE = 1000  # the most HubSpot gives in one answer
FEED_PAGES = 3  # past that many pages of changes, the searches read them as cheaply
# When HubSpot last refused the feed (its ``checked_at``; why in ``query``): the searches run
# alone for ``FEED_REST`` before the feed is tried again.
FEED_STREAM = "activities:engagements-feed"
FEED_REST = timedelta(days=1)


@dataclass(frozen=True)
class Kind:
    """One HubSpot engagement type and how it looks as a Salesforce Task (and back)."""

    name: str  # HubSpot object type, e.g. "calls"
    label: str  # the Subject prefix, e.g. "Call"
    title: str | None  # HubSpot title property
    body: str  # HubSpot body property
    to_contact: int  # HUBSPOT_DEFINED association type id, engagement → contact
    subtype: str  # TaskSubtype of the Tasks we create
    task_type: str | None  # Task.Type of the Tasks we create
    group: str  # HubSpot property group for our key property
    extra: tuple[str, ...] = ()


KINDS: dict[str, Kind] = {
    "calls": Kind(
        "calls",
        "Call",
        "hs_call_title",
        "hs_call_body",
        194,
        "Call",
        "Call",
        "call",
        ("hs_call_duration", "hs_call_direction"),
    ),
    "emails": Kind(
        "emails",
        "Email",
        "hs_email_subject",
        "hs_email_text",
        198,
        "Email",
        "Email",
        "email",
        ("hs_email_html", "hs_email_direction"),
    ),
    "meetings": Kind(
        "meetings",
        "Meeting",
        "hs_meeting_title",
        "hs_meeting_body",
        200,
        "Task",
        "Meeting",
        "meeting",
        ("hs_meeting_start_time",),
    ),
    "notes": Kind("notes", "Note", None, "hs_note_body", 202, "Task", None, "note"),
    "tasks": Kind(
        "tasks",
        "Task",
        "hs_task_subject",
        "hs_task_body",
        204,
        "Task",
        None,
        "task",
        ("hs_task_status",),
    ),
}
# A Task's or Event's "Related To" (WhatId) by id prefix -> the pair whose links name its
# HubSpot record, and the engagement → that record association type ids (HUBSPOT_DEFINED).
RELATED_PAIRS = {"001": "companies", "006": "deals", "500": "tickets"}
RELATED_TYPES = {
    "companies": {"calls": 182, "emails": 186, "meetings": 188, "notes": 190, "tasks": 192},
    "deals": {"calls": 206, "emails": 210, "meetings": 212, "notes": 214, "tasks": 216},
    "tickets": {"calls": 220, "emails": 224, "meetings": 226, "notes": 228, "tasks": 230},
}
# The subjects of the Tasks we create start with one of these.
OUR_PREFIXES = tuple(f"{kind.label}: " for kind in KINDS.values())
# HubSpot task status ⇄ Salesforce Task status.
TASK_STATUS_TO_SALESFORCE = {
    "NOT_STARTED": "Not Started",
    "IN_PROGRESS": "In Progress",
    "WAITING": "Waiting on someone else",
    "COMPLETED": "Completed",
    "DEFERRED": "Deferred",
}
TASK_STATUS_TO_HUBSPOT = {v: k for k, v in TASK_STATUS_TO_SALESFORCE.items()}
# A call's duration and direction (HubSpot property ⇄ Task field): milliseconds ⇄ seconds,
# INBOUND/OUTBOUND ⇄ Inbound/Outbound (HubSpot has no direction for an Internal call). Only
# when the org shows the integration user the Task field; see ``unknown_keys`` for links
# synced before (or while the org hid the field).
CALL_FIELDS = {"hs_call_duration": "CallDurationInSeconds", "hs_call_direction": "CallType"}
CALL_KEYS = frozenset(CALL_FIELDS) | frozenset(CALL_FIELDS.values())
DIRECTION_TO_SALESFORCE = {"INBOUND": "Inbound", "OUTBOUND": "Outbound"}
DIRECTION_TO_HUBSPOT = {v: k for k, v in DIRECTION_TO_SALESFORCE.items()}
# Two-way task sync: the fields an edit to a task's copy sends back to its origin (HubSpot
# task property ⇄ Salesforce Task field).
TWO_WAY_FIELDS = {
    "hs_task_subject": "Subject",
    "hs_task_body": "Description",
    "hs_timestamp": "ActivityDate",
    "hs_task_status": "Status",
}
TASK_FIELDS = [
    "Id",
    "WhoId",
    "WhatId",
    "Subject",
    "Description",
    "ActivityDate",
    "Status",
    "IsClosed",
    "TaskSubtype",
    "OwnerId",
    "CreatedById",
    "CreatedDate",
    "SystemModstamp",
    "IsRecurrence",
]
# Salesforce gives each invitee of a group event a child copy of it (IsChild = true, owned by
# the invitee): one meeting in HubSpot is made of the parent event alone.
PARENT_EVENTS = "IsChild = false"
# A recurring series is kept as its pattern (the master, IsRecurrence = true, on the first
# occurrence's date) beside one record per occurrence: the occurrences are the activities.
NOT_A_SERIES = "IsRecurrence = false"
EVENT_FIELDS = [
    "Id",
    "WhoId",
    "WhatId",
    "Subject",
    "Description",
    "StartDateTime",
    "EndDateTime",
    "ActivityDateTime",
    "ActivityDate",
    "IsAllDayEvent",
    "EndDate",
    "CreatedById",
    "CreatedDate",
    "SystemModstamp",
    "IsRecurrence",
    "IsChild",
]


# Emails a rep didn't send (spec §13 syncs "sales email sends"): replies and forwarded mail.
RECEIVED_EMAIL = ("INCOMING_EMAIL", "FORWARDED_EMAIL")
# The tags of the HTML HubSpot's editor writes. A body with none is plain text (e.g. a
# Salesforce Description copied as it is), whose "<Enter>" or spacing must survive.
HTML_TAG = re.compile(
    r"(?i)</?(?:p|br|div|span|b|strong|i|em|u|s|strike|a|ul|ol|li|h[1-6]|blockquote|pre|"
    r"code|table|thead|tbody|tr|td|th|img|hr|font|sub|sup|html|head|body|title|style|script|"
    r"center)(?:\s[^<>]*)?/?>"
)
# What a mail client's HTML holds that isn't read: its head (title, style sheet), scripts and
# comments.
HTML_UNREAD = re.compile(r"(?is)<(head|style|script|title)\b[^>]*>.*?</\1\s*>|<!--.*?-->")
# Tags that end a line (a paragraph, a heading, a table row), and a table cell's end.
HTML_LINE_END = re.compile(
    r"(?i)<br\s*/?>|<hr\b[^>]*>|</(?:p|div|li|tr|table|h[1-6]|blockquote|pre|ul|ol)\s*>"
)
HTML_CELL_END = re.compile(r"(?i)</t[dh]\s*>")


# --- values -------------------------------------------------------------------------------
def plain_text(value: str | None) -> str:
    """HubSpot bodies are HTML; Salesforce descriptions are plain text. A body without HTML
    tags is plain text already, and is kept as it is."""
    if not value:
        return ""
    if not HTML_TAG.search(value):
        return value
    text = HTML_UNREAD.sub("", value)
    text = HTML_CELL_END.sub(" ", HTML_LINE_END.sub("\n", text))
    text = html.unescape(strip_tags(text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def first_words(text: str, count: int = NOTE_WORDS) -> str:
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def number_of(value: Any) -> float | None:
    """A HubSpot number property's value ("125000", "125000.0"), or None when blank."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def to_ms(moment: datetime | None) -> str:
    return str(round(moment.timestamp() * 1000)) if moment else ""


def day_of(moment: datetime | None, zone: tzinfo = UTC) -> str:
    """The date of ``moment`` in the HubSpot account's time zone (a Task's ActivityDate)."""
    return moment.astimezone(zone).date().isoformat() if moment else ""


def midnight(day: str | None, zone: tzinfo = UTC) -> datetime | None:
    """The start of ``day`` in the HubSpot account's time zone, so HubSpot shows that date."""
    if not day:
        return None
    return datetime.fromisoformat(str(day)[:10]).replace(tzinfo=zone)


def _category(error: Any) -> str:
    """A HubSpot batch error's category, or the code of an error raised for a whole batch."""
    return error.code if isinstance(error, RemoteError) else getattr(error, "category", "") or ""


def hubspot_key(kind: str, hubspot_id: Any) -> str:
    """How an engagement is named in links and error keys: its type and id."""
    return f"{kind}:{hubspot_id}"


def task_kind(record: dict) -> str:
    subtype = record.get("TaskSubtype") or ""
    if subtype == "Call":
        return "calls"
    if subtype in ("Email", "ListEmail"):
        return "emails"
    return "tasks"


@dataclass
class Item:
    """One activity on its way to the other system."""

    kind: Kind
    source: Any  # HubSpot object or Salesforce record
    values: dict[str, Any]  # comparable values for the copy (a call's duration: an int)
    link: RecordLink | None = None
    target: str = ""  # WhoId (to Salesforce) or HubSpot contact id (to HubSpot)
    created_id: str = ""  # the copy's id, once written or found
    failed: bool = False
    stamp: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hubspot_id(self) -> str:
        return str(self.source.id) if hasattr(self.source, "id") else ""

    @property
    def salesforce_id(self) -> str:
        return self.source["Id"] if isinstance(self.source, dict) else ""


TASK_STREAM = "salesforce:Task:activities"
EVENT_STREAM = "salesforce:Event:activities"


class ActivitySync(PairSync):
    object_name = OBJECT
    modified_property = MODIFIED
    salesforce_streams = (TASK_STREAM, EVENT_STREAM)
    converts_amounts = False  # activities have no mapped fields

    def __init__(self, ctx: CycleContext) -> None:
        super().__init__(ctx)
        self.row = ObjectSync.objects.get(integration=ctx.integration, object=OBJECT)
        connection = getattr(ctx.integration, "salesforce_connection", None)
        self.user_id = getattr(connection, "user_id", "") or ""
        self.external_id = (
            EXTERNAL_ID if EXTERNAL_ID in ctx.salesforce_fields.get("Task", {}) else None
        )
        # The call fields the org shows on Task (read), and those the user may also write:
        # one hidden (field-level security) is left out, never failing the record.
        task = ctx.salesforce_fields.get("Task", {})
        self.call_read = [f for f in CALL_FIELDS.values() if f in task]
        self.call_write = [
            f
            for f in self.call_read
            if task[f].get("createable", True) and task[f].get("updateable", True)
        ]
        self.intent = SyncCursor.objects.get_or_create(
            integration=ctx.integration, stream=INTENT_STREAM
        )[0]
        # Pending creates left by a cycle that died: this cycle looks for their copies first.
        self.recover = dict(self.intent.seen or {})
        self.retrying = False  # inside retry_errored: its creates are marked as retries
        # Dates (a Task's ActivityDate ⇄ an engagement's hs_timestamp) are days in the
        # HubSpot account's time zone.
        account = services.hubspot_account_details(integration=ctx.integration)
        self.zone = zone_named(account.get("timeZone"))
        self._members: set[str] | None = None  # the contacts' inclusion list, once read
        self.list_missing = False  # that list is gone from HubSpot: nobody is in it

    def on(self, toggle: str) -> bool:
        return bool(getattr(self.settings, toggle, False))

    def tasks_two_way(self, kind: Kind) -> bool:
        """Tasks synced in both directions sync two ways (spec §13): an edit to a task's copy
        goes back to its origin. Other kinds, and tasks synced one way, stay one-way."""
        return kind.name == "tasks" and self.on("hubspot_tasks") and self.on("salesforce_tasks")

    def copy_link(self, kind: Kind, link: RecordLink, origin: str) -> bool:
        """Whether ``link`` pairs a task whose origin is ``origin`` with its copy, and edits
        to that copy go back (two-way task sync)."""
        return (
            self.tasks_two_way(kind)
            and link.snapshot.get("__origin") == origin
            and link.snapshot.get("__type") == kind.name
        )

    def outside_list(self, contacts: list[str]) -> bool:
        """Whether an activity on these HubSpot contacts is kept from syncing: a contact
        inclusion list is chosen and none of them is in it. Contacts outside it sync in
        neither direction (spec §6.5), their activities neither. The list is read once a
        cycle, only when asked; one gone from HubSpot has no members (as for contacts)."""
        list_id = self.contact_settings.inclusion_list_id
        contacts = [c for c in contacts if c]
        if not list_id or not contacts:
            return False
        if self._members is None:
            self._members = list_members_once(self.ctx, list_id)  # shared with the other pairs
            if self._members is None:
                self.list_gone(list_id)
        return not any(c in self._members for c in contacts)

    def list_gone(self, list_id: Any) -> None:
        log.warning("activities: contact inclusion list %s no longer exists", list_id)
        self._members, self.list_missing = set(), True
        self.ctx.run.message = list_missing_message(list_id)

    def kept_out(self, item: Item) -> None:
        self.skipped("outside_list", self.error_key(item), held=self.list_missing)

    # --- the cycle ------------------------------------------------------------------------
    def run(self) -> None:
        if any(self.on(f"hubspot_{k}") for k in KINDS):
            self.sync_hubspot_changes()
        if any(self.on(f"salesforce_{k}") for k in ("tasks", "calls", "emails", "meetings")):
            self.sync_salesforce_changes()
        self.catch_up_entrants()
        retried_all = self.retry_errored() if self.ctx.retry_allowed else False
        # Every create of this cycle is committed; the marker goes, unless the cycle that died
        # made creates in its retries and this one didn't run them all: those activities are
        # read again only by a retry, which must still look for their copies first.
        keep = self.recover if RETRIED_MARK in self.recover and not retried_all else {}
        if (self.intent.seen or {}) != keep:
            self.intent.seen = keep
            self.intent.save(update_fields=["seen", "updated_at"])

    def catch_up_entrants(self) -> None:
        """Contacts that entered the inclusion list since the last cycle: the edits made to
        their synced activities while they were outside (kept out, see ``outside_list``) sync
        now, as the contacts themselves do on entry (spec §5.2). Activities never synced stay
        as they are: entering the list backfills nothing (spec §13). One HubSpot call a cycle
        for an unchanged list, only with a list chosen and a type on (see
        ``hubspot_list_joins``); the first read of a list finds no entrants."""
        list_id = self.contact_settings.inclusion_list_id
        if not list_id:
            # Chosen again later, the list starts afresh, as for contacts.
            SyncCursor.objects.filter(
                integration=self.ctx.integration, stream=ENTRANTS_STREAM
            ).delete()
            return
        kinds = [
            kind
            for kind in KINDS.values()
            if self.on(f"hubspot_{kind.name}") or self.on(f"salesforce_{kind.name}")
        ]
        if not kinds or self.list_missing:
            return
        row, _ = SyncCursor.objects.get_or_create(
            integration=self.ctx.integration, stream=ENTRANTS_STREAM
        )
        state = row.seen if row.seen.get("list") == str(list_id) else {}
        joins = list_joins_once(self.ctx, list_id, state)  # one read for the contact sync too
        if joins is None:
            self.list_gone(list_id)  # the state stays: it is the list's, should it come back
            return
        entrants, state = joins
        entrants = list(dict.fromkeys(entrants))
        if entrants:
            self.counts["list_entrants"] += len(entrants)
            self.sync_synced_activities_of(kinds, entrants)
        if state != row.seen:  # saved once they synced: a crash reads them again
            row.seen = state
            row.save(update_fields=["seen", "updated_at"])

    def sync_synced_activities_of(self, kinds: list[Kind], contacts: list[str]) -> None:
        """The synced activities of these HubSpot contacts (one association read per type and
        1,000 contacts, then their links), read again on the side each syncs from and handled
        as changes: one in step writes nothing. HubSpot first, as in a cycle, so an edit made
        on both sides keeps HubSpot's value. The activities' own dates still count: one last
        edited before its type was turned on stays as it is."""
        hubspot_side: dict[str, set[str]] = defaultdict(set)  # kind -> engagement ids
        salesforce_side: dict[str, set[str]] = defaultdict(set)  # sobject -> ids
        for kind in kinds:
            found = self.associated("contacts", kind.name, contacts)
            keys = {hubspot_key(kind.name, e) for ids in found.values() for e in ids}
            if not keys:
                continue
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration, object=OBJECT, hubspot_id__in=keys
            ):
                origin = link.snapshot.get("__origin")
                if link.snapshot.get(ORIGIN_GONE):
                    continue  # a copy whose origin was deleted: it syncs no more
                engagement_id = link.hubspot_id.split(":", 1)[1]
                if (origin == "hubspot" and self.on(f"hubspot_{kind.name}")) or self.copy_link(
                    kind, link, "salesforce"
                ):
                    hubspot_side[kind.name].add(engagement_id)
                if (origin == "salesforce" and self.on(f"salesforce_{kind.name}")) or (
                    link.salesforce_type == "Task" and self.copy_link(kind, link, "hubspot")
                ):
                    salesforce_side[link.salesforce_type or "Task"].add(link.salesforce_id)
        for kind_name, ids in hubspot_side.items():
            objects = self.read_engagements(KINDS[kind_name], ids)
            self.counts["read_hubspot"] += len(objects)
            if objects:
                self.handle_hubspot(KINDS[kind_name], objects, None)
        for sobject, ids in salesforce_side.items():
            records = self.salesforce_reread(sobject, sorted(ids))
            self.counts["read_salesforce"] += len(records)
            if records:
                self.handle_salesforce(sobject, records, None)

    def read_engagements(self, kind: Kind, ids: set[str]) -> list[Any]:
        """These engagements read again (100 per call); those gone end their errors."""
        return self.hubspot_reread(
            ids,
            lambda i: (
                with_retries(
                    lambda: self.ctx.hubspot.batch_read(
                        object_type=kind.name, ids=i, properties=self.hubspot_properties_for(kind)
                    )
                ).results
            ),
            prefix=f"hubspot:{kind.name}",
        )

    def turned_on(self, toggle: str) -> datetime:
        """When ``toggle`` (and the pair) was last turned on; activities older than that are
        history, which the import covers. Without a stamp (settings saved before stamps
        existed), the settings' last save is the conservative answer."""
        stamps = getattr(self.settings, "turned_on_at", None) or {}
        moments = [parse_time(stamps.get(toggle)) or self.row.updated_at]
        if stamps.get("enabled"):
            moments.append(parse_time(stamps["enabled"]))
        return max(m for m in moments if m is not None)

    def mark_intent(self, side: str, sent: dict[str, list[str]] | None = None) -> None:
        """Store the pending-create marker before creating; ``sent``: what the Tasks about to
        be created are found by (see ``find_lost_tasks_by_content``)."""
        marker = dict(self.intent.seen or {})
        now = timezone.now().isoformat()
        marker.setdefault(side, now)
        if sent:
            # This batch's only: the batches before it in this cycle are committed (linked).
            marker[SENT_MARK] = sent
        if self.retrying:
            marker.setdefault(RETRIED_MARK, now)
        if marker != (self.intent.seen or {}):
            self.intent.seen = marker
            self.intent.save(update_fields=["seen", "updated_at"])

    # --- HubSpot → Salesforce -------------------------------------------------------------
    def hubspot_properties_for(self, kind: Kind) -> list[str]:
        props = [MODIFIED, "hs_timestamp", "hs_createdate", kind.body, KEY_PROPERTY, *kind.extra]
        if kind.title:
            props.append(kind.title)
        return props

    def sync_hubspot_changes(self) -> None:
        reads = []
        for kind in KINDS.values():
            toggle = f"hubspot_{kind.name}"
            if not self.on(toggle):
                continue
            cursor = Cursor.load(self.ctx.integration, f"hubspot:{kind.name}:activities")
            start = self.turned_on(toggle)
            reads.append((kind, cursor, max(t for t in (cursor.since, start) if t is not None)))
        fed = self.engagements_changed(reads)
        for kind, cursor, since in reads:
            if fed is not None and kind.name not in fed[0]:
                cursor.mark_checked(fed[1])  # nothing of this type changed: no search
                continue
            read_started = None
            for page in hubspot_changes(
                self.ctx.hubspot,
                object_type=kind.name,
                modified_property=MODIFIED,
                since=since,
                properties=self.hubspot_properties_for(kind),
                limit=10**9,
            ):
                read_started = read_started or http_date(self.ctx.hubspot.server_date)
                self.counts["read_hubspot"] += len(page)
                self.handle_hubspot(kind, page, cursor)
            cursor.mark_checked(read_started or http_date(self.ctx.hubspot.server_date))

    def engagements_changed(
        self, reads: list[tuple[Kind, Cursor, datetime]]
    ) -> tuple[set[str], datetime | None] | None:
        """Which of the polled types have changes to read, from one page or a few of the
        engagements change feed, and the server time it answered at; a type it doesn't name
        needs no search this cycle. A change its cursor already handled (re-read inside the
        overlap) isn't one. None when the searches should run as before: fewer than
        two types polled (a search costs no more), more changes than ``FEED_PAGES`` pages, or
        a feed HubSpot refused (left alone for a day, see ``FEED_STREAM``)."""
        if len(reads) < 2:
            return None
        refusal = SyncCursor.objects.filter(
            integration=self.ctx.integration, stream=FEED_STREAM
        ).first()
        if (
            refusal is not None
            and refusal.checked_at
            and refusal.checked_at > (timezone.now() - FEED_REST)
        ):
            return None
        since = {kind.name: round(at.timestamp() * 1000) for kind, _, at in reads}
        cursors = {kind.name: cursor for kind, cursor, _ in reads}
        after, changed, answered = str(min(since.values()) - 1), set(), None
        try:
            for _ in range(FEED_PAGES):
                page = with_retries(
                    lambda a=after: self.ctx.hubspot.engagements_modified_after(
                        after=a, limit=FEED_PAGE
                    )
                )
                answered = answered or http_date(self.ctx.hubspot.server_date)
                results = page.get("results") if isinstance(page, dict) else None
                if not isinstance(results, list):
                    return None  # not the answer this reads: never taken for "no changes"
                for result in results:
                    engagement = (result or {}).get("engagement") or {}
                    name = FEED_TYPES.get(str(engagement.get("type")))
                    stamp = engagement.get("lastUpdated")
                    if name is not None and not isinstance(stamp, int):
                        return None
                    if name not in since or stamp < since[name]:
                        continue
                    moment = datetime.fromtimestamp(stamp // 1000, UTC)
                    moment = moment.replace(microsecond=stamp % 1000 * 1000)  # as the search's
                    key = cursors[name].row.seen.get(str(engagement.get("id")), "")
                    if not key.startswith(f"{moment.isoformat()}|"):
                        changed.add(name)
                if not page.get("hasMore"):
                    break
                after = str(page.get("after") or "")
                if not after:
                    return None
            else:
                return None  # more changes than the searches would cost to read
        except (PermissionDenied, NotFound, BadRequest) as error:
            SyncCursor.objects.update_or_create(
                integration=self.ctx.integration,
                stream=FEED_STREAM,
                defaults={"checked_at": timezone.now(), "query": {"refused": str(error)[:500]}},
            )
            log.warning("the engagements change feed was refused, searching instead: %s", error)
            return None
        return changed, answered

    def task_values(self, kind: Kind, obj: Any) -> dict[str, Any]:
        """The Task fields a HubSpot activity sets (and its copy is compared on)."""
        props = obj.properties or {}
        body = plain_text(props.get(kind.body))
        if kind.name == "emails" and not body:
            body = plain_text(props.get("hs_email_html"))
        if kind.title:
            title = " ".join((props.get(kind.title) or "").split()) or "(no title)"
        else:
            title = first_words(body) or "(empty)"
        status = "Completed"
        if kind.name == "tasks":
            status = TASK_STATUS_TO_SALESFORCE.get(props.get("hs_task_status") or "", "Completed")
        when = parse_time(props.get("hs_timestamp")) or parse_time(props.get("hs_createdate"))
        values: dict[str, Any] = {
            "Subject": f"{kind.label}: {title}"[:SUBJECT_MAX],
            "Description": body[:DESCRIPTION_MAX],
            "ActivityDate": day_of(when, self.zone),
            "Status": status,
        }
        if kind.name == "calls":
            if "CallDurationInSeconds" in self.call_write:
                ms = number_of(props.get("hs_call_duration"))
                values["CallDurationInSeconds"] = "" if ms is None else round(ms / 1000)
            if "CallType" in self.call_write:
                direction = props.get("hs_call_direction") or ""
                values["CallType"] = DIRECTION_TO_SALESFORCE.get(direction, "")
        return values

    def handle_hubspot(
        self, kind: Kind, objects: list[Any], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            objects, cursor, force=force, version=lambda o: hubspot_version(o, MODIFIED)
        )
        start = self.turned_on(f"hubspot_{kind.name}")
        start = start.replace(microsecond=start.microsecond // 1000 * 1000)  # HubSpot: ms
        two_way = self.tasks_two_way(kind)
        candidates = []
        for obj in fresh:
            props = obj.properties or {}
            key = f"hubspot:{hubspot_key(kind.name, obj.id)}"
            if props.get(KEY_PROPERTY) and not two_way:
                self.skipped("own", key)  # our copy of a Salesforce activity
                continue
            if kind.name == "emails" and props.get("hs_email_direction") in RECEIVED_EMAIL:
                self.skipped("type_off", key)  # the toggle is for emails the rep sent
                continue
            modified = parse_time(props.get(MODIFIED))
            if not force and modified is not None and modified < start:
                self.skipped("before_turned_on", key)
                continue
            candidates.append(obj)
        links = self.links_by("hubspot_id", [hubspot_key(kind.name, o.id) for o in candidates])
        updates: list[Item] = []
        new: list[Item] = []
        settled: list[Item] = []
        back: list[Item] = []
        linked: list[Item] = []
        revived: list[RecordLink] = []
        for obj in candidates:
            link = links.get(hubspot_key(kind.name, obj.id))
            if link is not None and link.snapshot.get(ORIGIN_GONE):
                if link.snapshot.get("__origin") != "hubspot":
                    self.skipped("own", f"hubspot:{link.hubspot_id}")  # a copy, see retire_gone
                    continue
                revived.append(link)  # the HubSpot task restored: its copy is its copy again
            if link is not None and self.copy_link(kind, link, "salesforce"):
                item = self.copy_edit_to_salesforce(kind, obj, link)
                if self.outside_list([link.snapshot.get("__contact")]):
                    self.kept_out(item)
                elif item.extra["write"]:
                    back.append(item)
                else:
                    self.in_step(item, link.salesforce_id, settled, force=force)
                continue
            item = Item(kind, obj, self.task_values(kind, obj))
            item.stamp = parse_time((obj.properties or {}).get(MODIFIED))
            item.link = link
            if item.link is None and (obj.properties or {}).get(KEY_PROPERTY):
                self.skipped("own", self.error_key(item))  # our copy; its link isn't stored yet
            elif item.link is None:
                new.append(item)
            elif item.link.snapshot.get("__origin") != "hubspot":
                self.skipped("own", self.error_key(item))
            else:
                linked.append(item)
        self.origins_back(revived)
        self.moved_for(linked)
        for item in linked:
            unknown = self.unknown_keys(
                item, item.link.hubspot_modified_at, moved="who" in item.extra, blank=None
            )
            if item.extra.get("outside"):
                self.kept_out(item)
            elif "who" not in item.extra and all(
                item.link.snapshot.get(k) == v for k, v in item.values.items() if k not in unknown
            ):
                self.in_step(item, item.link.salesforce_id, settled, force=force)
            else:
                updates.append(item)
        self.update_tasks(updates)
        self.write_back_to_salesforce(back)
        copy_again = self.retire_gone(updates)
        self.retire_gone(back)
        new = self.who_for(new + copy_again)
        self.create_tasks(new)
        self.commit_items([*updates, *back, *new, *settled], "hubspot", cursor, handled)
        self.copies_read_again(kind, revived, "Task")

    @staticmethod
    def unknown_keys(item: Item, last: datetime | None, *, moved: bool, blank: Any) -> set[str]:
        """A call's duration and direction that the link's snapshot lacks (synced before calls
        carried them, or while the org hid the field) are unknown, not blank: compared and
        written only with an edit of the origin, so that re-reading old links unedited (a
        Resync, a contact entering the list) doesn't rewrite them all at once. An edit is
        another value that changed, a move, or a modified date later than the one the link
        last synced (``last``; Salesforce's is whole seconds). Until then they stay out of the
        compare, the write and the snapshot (``extra["unknown"]``). ``blank``: what the
        snapshot's missing values count as otherwise."""
        snapshot = item.link.snapshot
        keys = {k for k in item.values if k in CALL_KEYS and k not in snapshot}
        if not keys or moved or item.stamp is None or last is None or item.stamp > last:
            return set()
        if any(snapshot.get(k, blank) != v for k, v in item.values.items() if k not in keys):
            return set()
        item.extra["unknown"] = keys
        return keys

    def copy_edit_to_salesforce(self, kind: Kind, obj: Any, link: RecordLink) -> Item:
        """A HubSpot edit to the copy of a Salesforce task (two-way task sync): the Task
        fields to write (``extra["write"]``): those changed in HubSpot since the snapshot, whose
        value, as the Task would then give it back, differs from it; and those values, for the
        snapshot (``extra["back"]``), so that reading the written Task finds nothing to do (no
        echo). A field HubSpot still holds as last synced isn't sent: the body holds the
        Description as it was, which converting could only spoil."""
        props = obj.properties or {}
        sent = {
            "Subject": (props.get("hs_task_subject") or "")[:SUBJECT_MAX],
            "Description": plain_text(props.get("hs_task_body"))[:DESCRIPTION_MAX],
            "ActivityDate": day_of(parse_time(props.get("hs_timestamp")), self.zone),
            "Status": TASK_STATUS_TO_SALESFORCE.get(props.get("hs_task_status") or "", ""),
        }
        held = self.engagement_values(kind, "Task", sent)
        current = {p: props.get(p) or "" for p in TWO_WAY_FIELDS}
        # The snapshot holds the date as written (milliseconds); HubSpot reads it back as ISO.
        # (A Task without a due date has its created date there: unchanged, it sends none.)
        current["hs_timestamp"] = to_ms(parse_time(props.get("hs_timestamp")))
        item = Item(kind, obj, current, link=link)
        item.stamp = parse_time(props.get(MODIFIED))
        item.extra["write"], item.extra["back"] = {}, {}
        for prop, name in TWO_WAY_FIELDS.items():
            last = link.snapshot.get(prop)
            if current[prop] == last or held[prop] == last:
                continue
            if not sent[name] and name in ("ActivityDate", "Status"):
                continue  # no date, or a status Salesforce doesn't have: nothing to send
            item.extra["write"][name] = sent[name] or None
            item.extra["back"][prop] = held[prop]
        return item

    def write_back_to_salesforce(self, items: list[Item]) -> None:
        """HubSpot edits to the copies of Salesforce tasks: their Tasks follow (collections
        of 200)."""
        if not items:
            return
        self.send_task_updates(
            items, [{"Id": i.link.salesforce_id, **i.extra["write"]} for i in items]
        )

    def who_for(self, items: list[Item]) -> list[Item]:
        """The linked lead or contact of each new HubSpot activity (its associated contacts,
        the lowest id that is linked), and its owner (``extra["owner"]``, see ``owner_of``).
        Unlinked contacts: a waiting error."""
        if not items:
            return []
        kind = items[0].kind
        people = self.people_of(items)
        ready = []
        for item in items:
            contacts, linked = people[item.hubspot_id]
            inside = [p for p in linked if not self.outside_list([p.hubspot_id])]
            # Contacts meant to sync (in the list, or there's none) that haven't yet. One
            # outside the list isn't meant to: its activity is skipped as it is, not waiting.
            known = {p.hubspot_id for p in linked}
            due = [c for c in contacts if c not in known and not self.outside_list([c])]
            if not contacts:
                self.skipped("no_contact", self.error_key(item))
            elif not inside and due:
                self.waiting(
                    item,
                    "to_salesforce",
                    f"HubSpot contact {due[0]} hasn't synced to Salesforce yet; the "
                    f"{kind.label.lower()} syncs once it has. A contact without an email, or "
                    "outside the inclusion list, never syncs.",
                    waits_on={"contacts": due},
                )
            elif not inside:
                self.kept_out(item)
            else:
                item.target = inside[0].salesforce_id
                item.extra["owner"] = self.owner_of(inside[0])
                ready.append(item)
        return ready

    def people_of(self, items: list[Item]) -> dict[str, tuple[list[str], list[RecordLink]]]:
        """Each HubSpot activity's associated contacts (lowest id first), and the contact
        pair's links of those that are linked (one association read per 1,000, one query)."""
        people = self.associated(items[0].kind.name, "contacts", [i.hubspot_id for i in items])
        links = {
            link.hubspot_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object="contacts",
                hubspot_id__in={c for cs in people.values() for c in cs},
            )
        }
        out = {}
        for item in items:
            contacts = people.get(item.hubspot_id, [])
            out[item.hubspot_id] = (contacts, [links[c] for c in contacts if c in links])
        return out

    def moved_for(self, items: list[Item]) -> None:
        """Synced HubSpot activities, edited: the lead or contact their Task belongs on now
        (``extra["who"]``) when they were moved to another synced contact since. HubSpot, their
        origin, says whom they are on; one moved to no synced contact stays where it is, and
        so does one still on the person its Task is on (another of its contacts syncing later
        isn't a move)."""
        if not items:
            return
        people = self.people_of(items)
        for item in items:
            _, linked = people[item.hubspot_id]
            inside = [p for p in linked if not self.outside_list([p.hubspot_id])]
            if linked and not inside:
                item.extra["outside"] = True
                continue
            on = item.link.snapshot.get("WhoId")
            sent = item.link.snapshot.get(WHO_SENT)  # a move cut short: the Task is on either
            persons = {person.salesforce_id for person in linked}
            if linked and on not in persons:
                meant = {person.salesforce_id for person in inside}
                item.extra["who"] = sent if sent in meant else inside[0].salesforce_id
            elif linked and sent is not None and sent != on:
                item.extra["who"] = on  # back where it is meant, wherever the Task is

    def owner_of(self, person: RecordLink) -> str:
        """The owner a Task on this lead or contact gets (spec §13: the record's owner): its
        owner as the contact pair last synced it (no call per record; the user directory is
        read once a cycle). "" leaves Salesforce to make the integration user the owner: when
        the owner is unknown, a queue (which can't own a Task), or an inactive user."""
        owner = person.snapshot.get("__salesforce_owner") or ""
        if not owner.startswith("005") or owner == self.user_id:
            return ""
        return owner if self.owners.salesforce_user_active(owner) else ""

    def associated(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, list[str]]:
        if not ids:
            return {}
        result = hubspot_associations_read(self.ctx.hubspot, from_type, to_type, ids)
        out: dict[str, list[str]] = {}
        for entry in result.results:
            out[str(entry._from.id)] = sorted(
                {str(t.to_object_id) for t in entry.to or []}, key=lambda c: (len(c), c)
            )
        return out

    def update_tasks(self, items: list[Item]) -> None:
        """Activities edited in HubSpot: their Task copies follow (collections of 200). A
        Task about to move to another person has it noted first (``WHO_SENT``)."""
        if not items:
            return
        self.note_sent([(i.link, i.extra["who"]) for i in items if "who" in i.extra], WHO_SENT)
        records = [
            {
                "Id": i.link.salesforce_id,
                # A blank as a clear; a call lasting 0 seconds lasts 0 seconds.
                **{
                    k: (None if v == "" else v)
                    for k, v in i.values.items()
                    if i.link.snapshot.get(k) != v and k not in i.extra.get("unknown", ())
                },
                **({"WhoId": i.extra["who"]} if "who" in i.extra else {}),
            }
            for i in items
        ]
        self.send_task_updates(items, records)

    def send_task_updates(self, items: list[Item], records: list[dict]) -> None:
        """Update the linked Tasks (``records``, one per item; collections of 200), each
        failing alone."""

        def send(chunk: list[dict]) -> list[dict]:
            return each_chunk_retried(
                lambda c: self.ctx.salesforce.collections_update(sobject="Task", records=c),
                chunk,
                SALESFORCE_COLLECTION,
            )

        results = self.without_refused_call_values(items, records, send(records), send)
        for item, result in zip(items, results, strict=True):
            if result.get("success"):
                item.created_id = item.link.salesforce_id
                self.counts["updated_in_salesforce"] += 1
            elif (result.get("errors") or [{}])[0].get("statusCode") in DELETED_IN_SALESFORCE:
                item.failed = item.extra["gone"] = True  # see retire_gone
            else:
                item.failed = True
                self.salesforce_failure(item, result)

    def without_refused_call_values(
        self, items: list[Item], records: list[dict], results: list[dict], send
    ) -> list[dict]:
        """Tasks Salesforce refused for a call's duration or direction alone (a duration too
        long for the field, a call type the org's picklist lacks) are sent again without it
        (``send``, one call for them all), as the pairs do (``VALUE_REFUSALS``): the Task
        syncs, and the refusal stays a typed error on the activity (``extra["held_back"]``)
        whose value stays unsynced in the snapshot, so its retry sends it again. A refusal of
        anything else, or of nothing but those values, fails the Task whole, as before."""
        again: list[tuple[int, dict]] = []
        for index, (item, record, result) in enumerate(zip(items, records, results, strict=True)):
            errors = [] if result.get("success") else result.get("errors") or []
            named = {n for e in errors for n in e.get("fields") or ()}
            others = set(record) - named - {"Id", "attributes"}
            if (
                not errors
                or any(e.get("statusCode") not in VALUE_REFUSALS for e in errors)
                or not named
                or not named <= set(record) & set(CALL_FIELDS.values())
                or not others
            ):
                continue
            fields = sorted(named)
            error_type = self.salesforce_failure(
                item, result, fields=fields, values={f: record[f] for f in fields}
            )
            item.extra["held_back"] = (fields, error_type)
            again.append((index, {k: v for k, v in record.items() if k not in named}))
        if not again:
            return results
        results = list(results)
        for (index, _), result in zip(again, send([r for _, r in again]), strict=True):
            results[index] = result
        return results

    def retire_gone(self, items: list[Item]) -> list[Item]:
        """Items whose write found the other side deleted: their links are retired and their
        errors cleared. An origin's edit then copies it again, as a new copy (the way a kept
        contact's edit recreates it); returned, taken out of ``items``' commit. A copy whose
        origin was deleted keeps its values and syncs no more (deletes delete nothing)."""
        gone = [i for i in items if i.extra.get("gone")]
        if not gone:
            return []
        links = [i.link for i in gone]
        # A copy whose origin was deleted keeps its link, marked (``ORIGIN_GONE``): without
        # HubSpot_Id__c nothing else tells a Task copy from a Task someone logged (see
        # ``ours``), and an origin restored (from the recycle bin, or in HubSpot) finds its
        # copy through it instead of being copied a second time (``origins_back``).
        kept = [i.link for i in gone if "back" in i.extra]
        for link in kept:
            link.snapshot = {**link.snapshot, ORIGIN_GONE: True}
        RecordLink.objects.bulk_update(kept, ["snapshot"])
        RecordLink.objects.filter(pk__in=[link.pk for link in links if link not in kept]).delete()
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=OBJECT,
            record_keys=[f"{side}:{link.hubspot_id if side == 'hubspot' else link.salesforce_id}"
                         for link in links for side in ("hubspot", "salesforce")],
            ended_because=SyncError.EndedBecause.DELETED,
        )  # fmt: skip
        self.counts["links_retired_other_side_deleted"] += len(gone)
        items[:] = [i for i in items if not i.extra.get("gone")]
        copy_again = [i for i in gone if "back" not in i.extra]  # the others stay failed
        for item in copy_again:
            item.link, item.failed, item.created_id = None, False, ""
        return copy_again

    def task_record(self, item: Item) -> dict[str, Any]:
        record = {k: v for k, v in item.values.items() if v != ""}
        record["WhoId"] = item.target
        if item.extra.get("owner"):
            record["OwnerId"] = item.extra["owner"]
        record["TaskSubtype"] = item.kind.subtype
        if item.kind.task_type:
            record["Type"] = item.kind.task_type
        return record

    def create_tasks(self, items: list[Item]) -> None:
        """New Tasks, 200 per call. Never retried (the write may have landed): the
        pending-create marker makes the next cycle look for them first. (Not upserts by
        ``HubSpot_Id__c`` either: an upsert that finds its Task can't carry ``TaskSubtype``,
        which Salesforce sets only on create.)"""
        if not items:
            return
        if "salesforce" in self.recover:
            known = {id(i) for i in items if i.created_id}
            self.find_lost_tasks(items)
            self.update_found_copies([i for i in items if i.created_id and id(i) not in known])
        todo = [i for i in items if not i.created_id]
        if not todo:
            return
        # Without HubSpot_Id__c a lost Task is found by its content: kept as sent, since the
        # activity may be edited before the next cycle looks.
        sent = {
            hubspot_key(i.kind.name, i.hubspot_id): [
                i.target, i.values["Subject"], i.values["ActivityDate"]
            ]
            for i in todo
        } if not self.external_id else None  # fmt: skip
        self.mark_intent("salesforce", sent)
        records = [self.task_record(i) for i in todo]
        if self.external_id:
            for item, record in zip(todo, records, strict=True):
                record[self.external_id] = hubspot_key(item.kind.name, item.hubspot_id)
        results = self.without_refused_call_values(
            todo,
            records,
            self.ctx.salesforce.collections_create(sobject="Task", records=records),
            # Not a blind retry: Salesforce refused these, so none of them landed.
            lambda again: self.ctx.salesforce.collections_create(sobject="Task", records=again),
        )
        for item, result in zip(todo, results, strict=True):
            if result.get("success"):
                item.created_id = result["id"]
                self.counts["created_in_salesforce"] += 1
            else:
                item.failed = True
                self.salesforce_failure(item, result)

    def find_lost_tasks(self, items: list[Item]) -> None:
        """After a cycle died between creating Tasks and storing their links: the unlinked
        Tasks carrying these activities' ``HubSpot_Id__c`` (when the org has it), else the
        unlinked Tasks the integration user created since then for the same lead or contact
        with the same subject and date, are those copies."""
        if self.external_id:
            wanted = {hubspot_key(i.kind.name, i.hubspot_id): i for i in items}
            keys = sorted(wanted)
            soqls = [
                f"SELECT Id, {self.external_id} FROM Task WHERE {self.external_id} IN "  # noqa: S608
                f"({', '.join(soql_string(k) for k in keys[s : s + 200])})"
                for s in range(0, len(keys), 200)
            ]
            for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False):
                for batch in salesforce_pages(self.ctx.salesforce, page):
                    for record in batch:
                        item = wanted.get(record.get(self.external_id) or "")
                        if item is not None and not item.created_id:
                            item.created_id = record["Id"]
                            self.counts["matched"] += 1
            return
        self.find_lost_tasks_by_content(items)

    def find_lost_tasks_by_content(self, items: list[Item]) -> None:
        """After a cycle died between creating Tasks and storing their links: unlinked Tasks
        the integration user created since then, for the same lead or contact with the same
        subject and date, are those copies."""
        since = parse_time(self.recover["salesforce"])
        sent = self.recover.get(SENT_MARK) or {}
        keys = {
            id(i): tuple(
                sent.get(hubspot_key(i.kind.name, i.hubspot_id))
                or (i.target, i.values["Subject"], i.values["ActivityDate"])  # marked before
            )
            for i in items
        }
        whos = sorted({key[0] for key in keys.values() if key[0]})
        if not self.user_id or not whos or since is None:
            return
        since -= timedelta(minutes=5)
        soqls = ids_queries(
            "Task",
            ["Id", "WhoId", "Subject", "ActivityDate"],
            whos,
            key="WhoId",
            where=f"CreatedById = {soql_string(self.user_id)} "
            f"AND CreatedDate >= {soql_datetime(since)}",
            size=200,
        )
        found: dict[tuple, list[str]] = defaultdict(list)
        records = []
        for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False):
            for batch in salesforce_pages(self.ctx.salesforce, page):
                records.extend(batch)
        linked = set(
            RecordLink.objects.filter(
                integration=self.ctx.integration, salesforce_id__in=[r["Id"] for r in records]
            ).values_list("salesforce_id", flat=True)
        )
        left = {r["Id"]: r for r in sorted(records, key=lambda r: r["Id"]) if r["Id"] not in linked}
        for record in left.values():
            key = (record.get("WhoId"), record.get("Subject"), record.get("ActivityDate") or "")
            found[key].append(record["Id"])
        missing = []
        for item in items:
            key = keys[id(item)]
            if found.get(key):
                item.created_id = found[key].pop(0)
                left.pop(item.created_id)
                self.counts["matched"] += 1
            elif hubspot_key(item.kind.name, item.hubspot_id) in sent:
                missing.append(item)
        # A Task whose subject a rep changed before this cycle: the one left for the person
        # and date it was sent with, when only one activity sent there is missing (two
        # alike, and neither is guessed: each is created again).
        taken = sole_fits(
            {
                id(item): [
                    r["Id"]
                    for r in left.values()
                    if (r.get("WhoId"), r.get("ActivityDate") or "")
                    == (keys[id(item)][0], keys[id(item)][2])
                ]
                for item in missing
            }
        )
        for item in missing:
            if id(item) in taken:
                item.created_id = taken[id(item)]
                self.counts["matched"] += 1

    def update_found_copies(self, items: list[Item]) -> None:
        """Copies found after a crash hold what was sent then; the origin may have been edited
        (or, a HubSpot activity, put on another person) since, unseen: each gets every value
        it has now, blanks too (one write per 200 Tasks or 100 engagements, only after a
        crash). One whose update fails is linked as it is, so its error's retry updates it
        rather than copy it again; one deleted since is copied again. (A Salesforce activity
        put on another person or record in between keeps its engagement where it was.)"""
        for item in items:
            if item.salesforce_id:  # an engagement
                hs_key, sf_id = hubspot_key(item.kind.name, item.created_id), item.salesforce_id
            else:  # a Task, put on the activity's person
                hs_key, sf_id = hubspot_key(item.kind.name, item.hubspot_id), item.created_id
                item.extra["who"] = item.target
            item.link = RecordLink(
                integration=self.ctx.integration,
                object=OBJECT,
                hubspot_id=hs_key,
                salesforce_id=sf_id,
                salesforce_type=item.extra.get("sobject", "Task"),
                # No values held: update_tasks writes each (a blank as a clear).
                snapshot={
                    "__origin": "salesforce" if item.salesforce_id else "hubspot",
                    "__type": item.kind.name,
                },
            )
        self.update_tasks([i for i in items if not i.salesforce_id])
        by_kind: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            if item.salesforce_id:
                by_kind[item.kind.name].append(item)
        for kind_name, group in by_kind.items():
            inputs = [{"id": i.created_id, "properties": dict(i.values)} for i in group]
            self.send_engagement_updates(kind_name, group, inputs)
        for item in items:
            if item.extra.pop("gone", False):  # deleted since it was made: made again
                item.failed, item.created_id, item.link = False, "", None
            elif item.failed:
                item.link.save()

    # --- Salesforce → HubSpot -------------------------------------------------------------
    def sync_salesforce_changes(self) -> None:
        streams = []
        task_kinds = [k for k in ("tasks", "calls", "emails") if self.on(f"salesforce_{k}")]
        if task_kinds:
            start = min(self.turned_on(f"salesforce_{k}") for k in task_kinds)
            streams.append(
                SoqlStream(
                    "Task",
                    self.task_fields(),
                    Cursor.load(self.ctx.integration, TASK_STREAM),
                    where=f"SystemModstamp >= {soql_datetime(start)} AND {NOT_A_SERIES}",
                )
            )
        if self.on("salesforce_meetings"):
            start = self.turned_on("salesforce_meetings")
            streams.append(
                SoqlStream(
                    "Event",
                    EVENT_FIELDS,
                    Cursor.load(self.ctx.integration, EVENT_STREAM),
                    # An invitee's copy of a group event (IsChild) is the same meeting.
                    where=f"SystemModstamp >= {soql_datetime(start)} AND {PARENT_EVENTS} "
                    f"AND {NOT_A_SERIES}",
                )
            )
        for stream, records in self.salesforce_stream_pages(streams, include_deleted=False):
            self.counts["read_salesforce"] += len(records)
            self.handle_salesforce(stream.sobject, records, stream.cursor)

    def task_fields(self) -> list[str]:
        return TASK_FIELDS + self.call_read + ([self.external_id] if self.external_id else [])

    def fields_of(self, sobject: str) -> list[str]:
        """The fields read of a Salesforce ``Task`` or ``Event``."""
        return self.task_fields() if sobject == "Task" else EVENT_FIELDS

    def engagement_values(self, kind: Kind, sobject: str, record: dict) -> dict[str, str]:
        """The HubSpot properties a Salesforce Task or Event sets (compared on, too)."""
        subject = record.get("Subject") or ""
        body = record.get("Description") or ""
        closed = bool(record.get("IsClosed")) or record.get("Status") == "Completed"
        if sobject == "Event":
            start = parse_time(record.get("StartDateTime") or record.get("ActivityDateTime"))
            end = parse_time(record.get("EndDateTime"))
            if record.get("IsAllDayEvent") or not start:
                # Salesforce keeps an all-day event at midnight UTC (the evening before, west
                # of Greenwich): it runs from the start of its first day to the end of its
                # last, in the HubSpot account's time zone.
                start = midnight(record.get("ActivityDate"), self.zone)
                last = midnight(record.get("EndDate") or record.get("ActivityDate"), self.zone)
                end = last + timedelta(days=1) if last else end
            when = start or parse_time(record.get("CreatedDate"))
            return {
                "hs_meeting_title": subject,
                "hs_meeting_body": body,
                "hs_timestamp": to_ms(when),
                "hs_meeting_start_time": to_ms(start),
                "hs_meeting_end_time": to_ms(end),
            }
        when = midnight(record.get("ActivityDate"), self.zone) or parse_time(
            record.get("CreatedDate")
        )
        if kind.name == "calls":
            values = {
                "hs_call_title": subject,
                "hs_call_body": body,
                "hs_timestamp": to_ms(when),
                "hs_call_status": "COMPLETED" if closed else "",
            }
            if "CallDurationInSeconds" in self.call_read:
                seconds = number_of(record.get("CallDurationInSeconds"))
                values["hs_call_duration"] = "" if seconds is None else str(round(seconds * 1000))
            if "CallType" in self.call_read:
                call_type = record.get("CallType") or ""
                values["hs_call_direction"] = DIRECTION_TO_HUBSPOT.get(call_type, "")
            return values
        if kind.name == "emails":
            return {
                "hs_email_subject": subject,
                "hs_email_text": body,
                "hs_timestamp": to_ms(when),
                "hs_email_direction": "EMAIL",
                "hs_email_status": "SENT" if closed else "",
            }
        return {
            "hs_task_subject": subject,
            "hs_task_body": body,
            "hs_timestamp": to_ms(when),
            "hs_task_status": TASK_STATUS_TO_HUBSPOT.get(
                record.get("Status") or "", "COMPLETED" if closed else "NOT_STARTED"
            ),
            # Assigned To (spec §13), when that user has a HubSpot owner (same email).
            "hubspot_owner_id": self.owners.hubspot_owner_for(record.get("OwnerId")),
        }

    def ours(self, record: dict) -> bool:
        """An unlinked Task we created from a HubSpot activity: its link wasn't stored (a
        cycle died between the create and the commit). With ``HubSpot_Id__c`` it carries our
        key. Without, only while such a create may be unlinked (a pending-create marker) does
        the look of one decide: made by the integration user since the marker, with one of
        our subject prefixes ("Call: …"). Otherwise every copy we made is linked, and a Task
        the integration user logs by hand ("Email: …" from Salesforce's email logging, say)
        is the user's own, and syncs."""
        if self.external_id:
            return bool(record.get(self.external_id))
        since = parse_time(self.recover.get("salesforce"))
        created = parse_time(record.get("CreatedDate"))
        return (
            since is not None
            and bool(self.user_id)
            and record.get("CreatedById") == self.user_id
            and (created is None or created >= since - timedelta(minutes=5))
            and (record.get("Subject") or "").startswith(OUR_PREFIXES)
        )

    def handle_salesforce(
        self, sobject: str, records: list[dict], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            records, cursor, force=force, version=salesforce_version
        )
        links = self.links_by("salesforce_id", [r["Id"] for r in fresh])
        contacts_of = self.task_people(links.values())
        updates: list[Item] = []
        new: list[Item] = []
        settled: list[Item] = []
        back: list[Item] = []
        turned_off: list[str] = []
        linked: list[Item] = []
        revived: list[RecordLink] = []
        for record in fresh:
            key = f"salesforce:{record['Id']}"
            if record.get("IsRecurrence"):
                # A series' master, read by id (a retry, a Resync, a list entrant's activities;
                # change reads leave it out): its occurrences are the activities. One an older
                # version linked keeps its engagement as it is.
                self.skipped("series", key)
                continue
            if record.get("IsChild"):
                # An invitee's copy of a group event, read by id as above: its parent is the
                # meeting.
                self.skipped("invitee_copy", key)
                continue
            kind = KINDS["meetings"] if sobject == "Event" else KINDS[task_kind(record)]
            toggle = f"salesforce_{kind.name}"
            if not self.on(toggle):
                self.skipped("type_off", key)
                turned_off.append(record["Id"])
                continue
            stamp = parse_time(record.get("SystemModstamp"))
            start = self.turned_on(toggle).replace(microsecond=0)  # Salesforce: whole seconds
            if not force and stamp is not None and stamp < start:
                self.skipped("before_turned_on", key)
                continue
            link = links.get(record["Id"])
            if link is None and sobject == "Task" and self.ours(record):  # (no Event is ours)
                self.skipped("own", key)
                continue
            if link is not None and link.snapshot.get(ORIGIN_GONE):
                if link.snapshot.get("__origin") != "salesforce":
                    self.skipped("own", key)  # a copy whose HubSpot task was deleted
                    continue
                revived.append(link)  # the Task restored: its copy is its copy again
            if link is not None and sobject == "Task" and self.copy_link(kind, link, "hubspot"):
                item = self.copy_edit_to_hubspot(kind, record, link, stamp)
                if self.outside_list([contacts_of.get(link.snapshot.get("WhoId") or "")]):
                    self.kept_out(item)
                elif item.extra["write"]:
                    back.append(item)
                else:
                    self.in_step(item, link.hubspot_id.split(":", 1)[1], settled, force=force)
                continue
            if link is not None and link.snapshot.get("__origin") != "salesforce":
                self.skipped("own", key)
                continue
            # Only now: the values may need the owner directory (read once a cycle).
            item = Item(kind, record, self.engagement_values(kind, sobject, record), stamp=stamp)
            item.extra["sobject"] = sobject
            item.link = link
            if link is None:
                new.append(item)
            else:
                linked.append(item)
        self.origins_back(revived)
        self.moved_in_salesforce(linked)
        for item in linked:
            unknown = self.unknown_keys(
                item, item.link.salesforce_modified_at, moved="moves" in item.extra, blank=""
            )
            if self.outside_list([item.target or item.link.snapshot.get("__contact")]):
                self.kept_out(item)
            elif "moves" not in item.extra and all(
                item.link.snapshot.get(k, "") == v
                for k, v in item.values.items()
                if k not in unknown
            ):
                self.in_step(item, item.link.hubspot_id.split(":", 1)[1], settled, force=force)
            else:
                updates.append(item)
        if force and turned_off:
            self.type_turned_off("salesforce", turned_off)
        self.update_engagements(updates)
        self.move_engagements(updates)
        self.write_back_to_hubspot(back)
        copy_again = self.retire_gone(updates)
        self.retire_gone(back)
        new = self.contact_for(new + copy_again)
        self.create_engagements(new)
        self.commit_items([*updates, *back, *new, *settled], "salesforce", cursor, handled)
        self.copies_read_again(KINDS["tasks"], revived, "")

    def in_step(self, item: Item, partner_id: str, settled: list[Item], *, force: bool) -> None:
        """An activity already in step with its copy (``partner_id``): counted unchanged; a
        retry or resync of it (``force``) is settled, so its errors clear."""
        self.counts["unchanged"] += 1
        if force:
            item.created_id = partner_id
            settled.append(item)

    @staticmethod
    def origins_back(links: list[RecordLink]) -> None:
        """Two-way tasks whose origin was deleted, read again: restored (from Salesforce's
        recycle bin, or in HubSpot, both of which keep the id). Their links lose the mark
        (``retire_gone``) and sync again, at once (so a crash before the batch's commit
        reads them as linked), instead of the origin being copied a second time or its copy
        skipped for good."""
        if not links:
            return
        for link in links:
            link.snapshot = {k: v for k, v in link.snapshot.items() if k != ORIGIN_GONE}
        RecordLink.objects.bulk_update(links, ["snapshot"])

    def copies_read_again(self, kind: Kind, links: list[RecordLink], sobject: str) -> None:
        """The copies of restored origins (``origins_back``), read again once the origins'
        own edits are committed: what was edited on a copy while its origin was deleted
        stayed there, and goes back to the origin now (one read per 100 engagements, or per
        composite call of Tasks). ``sobject``: the copies' (Tasks), or "" for engagements."""
        origin = "hubspot" if sobject else "salesforce"
        links = [link for link in links if self.copy_link(kind, link, origin)]
        if not links:
            return
        if sobject:
            records = self.salesforce_reread(sobject, sorted(link.salesforce_id for link in links))
            self.counts["read_salesforce"] += len(records)
            if records:
                self.handle_salesforce(sobject, records, None)
            return
        ids = {link.hubspot_id.split(":", 1)[1] for link in links}
        objects = self.read_engagements(kind, ids)
        self.counts["read_hubspot"] += len(objects)
        if objects:
            self.handle_hubspot(kind, objects, None)

    def task_people(self, links) -> dict[str, str]:
        """With an inclusion list: the HubSpot contact of the lead or contact each Task copy
        of a HubSpot activity is on (one query); without one, none is needed."""
        if not self.contact_settings.inclusion_list_id:
            return {}
        whos = {w for link in links if (w := link.snapshot.get("WhoId"))}
        return dict(
            RecordLink.objects.filter(
                integration=self.ctx.integration, object="contacts", salesforce_id__in=whos
            ).values_list("salesforce_id", "hubspot_id")
        )

    def moved_in_salesforce(self, items: list[Item]) -> None:
        """Synced Salesforce activities, edited: the HubSpot contact their ``WhoId`` (Name) is
        linked to now (``target``) and the record their ``WhatId`` (Related To) is
        (``extra["related"]``), and, where either isn't what their engagement was put on
        (``__contact`` and ``__related`` in the link's snapshot), ``extra["moves"]``: ``(object
        type, id)`` it leaves ("" when it was on none) and ``(object type, id, association
        type id)`` it goes onto. One query each; a person or record not synced (yet) leaves it
        where it is. (A lead converted into its contact is the same HubSpot contact: no move.)"""
        self.related_for(items)
        whos = {i.source.get("WhoId") for i in items if i.source.get("WhoId")}
        contacts = dict(
            RecordLink.objects.filter(
                integration=self.ctx.integration, object="contacts", salesforce_id__in=whos
            ).values_list("salesforce_id", "hubspot_id")
        )
        for item in items:
            moves = []
            # A move a cycle that died left uncommitted: the engagement may be on either.
            sent = item.link.snapshot.get(MOVE_SENT) or {}
            now_on = contacts.get(item.source.get("WhoId") or "")
            was_on = item.link.snapshot.get("__contact") or ""
            if now_on:
                item.target = now_on
                off = [c for c in dict.fromkeys((was_on, sent.get("contact") or "")) if c]
                off = [("contacts", c) for c in off if c != now_on]
                if now_on != was_on or off:
                    moves.append((off, ("contacts", now_on, item.kind.to_contact)))
            if "related" in item.extra:
                pair_name, now_related = item.extra["related"]
                was = (item.link.snapshot.get("__related") or "").partition(":")[::2]
                noted = (sent.get("related") or "").partition(":")[::2]
                off = [r for r in dict.fromkeys((was, noted)) if r[1]]
                off = [r for r in off if r != (pair_name, now_related)]
                if was != (pair_name, now_related) or off:
                    type_id = RELATED_TYPES[pair_name][item.kind.name]
                    moves.append((off, (pair_name, now_related, type_id)))
            if moves:
                item.extra["moves"] = moves

    def move_engagements(self, items: list[Item]) -> None:
        """Engagements whose Salesforce activity moved to another person or record: onto the
        new HubSpot contact or record, then off the old one (one create and one archive call
        per 100 of a type). One deleted in HubSpot meanwhile is copied again (``gone``, see
        ``retire_gone``), as when an edit is written to it."""
        moving = {i.link.hubspot_id: i for i in items if "moves" in i.extra and not i.failed}
        onto: dict[tuple[str, str], list[dict]] = defaultdict(list)
        off: dict[tuple[str, str], list[dict]] = defaultdict(list)
        notes = []
        for item in moving.values():
            engagement = item.link.hubspot_id.split(":", 1)[1]
            note = {}
            for froms, (to_type, to_id, type_id) in item.extra["moves"]:
                onto[(item.kind.name, to_type)].append(
                    association_input(engagement, to_id, type_id)
                )
                for from_type, from_id in froms:
                    off[(item.kind.name, from_type)].append(
                        dissociation_input(engagement, [from_id])
                    )
                if to_type == "contacts":
                    note["contact"] = to_id
                else:
                    note["related"] = f"{to_type}:{to_id}"
            notes.append((item.link, {**(item.link.snapshot.get(MOVE_SENT) or {}), **note}))
        # Before the writes: a cycle that dies after them and before the commit leaves the
        # next one to take the engagement off the person or record it was moved onto, should
        # it be meant elsewhere by then (``moved_in_salesforce``).
        self.note_sent(notes, MOVE_SENT)
        refused: dict[str, dict[str, Any]] = defaultdict(dict)  # kind -> engagement -> error
        for (kind_name, to_type), inputs in onto.items():
            for entry, error in self.hubspot_associate(kind_name, to_type, inputs):
                refused[kind_name].setdefault(str(entry["from"]["id"]), error)
        failed = {hubspot_key(k, i) for k, errors in refused.items() for i in errors}
        for kind_name, errors in refused.items():
            gone = self.deleted_in_hubspot(kind_name, set(errors))
            for engagement_id, error in errors.items():
                item = moving[hubspot_key(kind_name, engagement_id)]
                item.failed = True
                if engagement_id in gone:
                    item.extra["gone"] = True
                else:
                    self.hubspot_failure(item, error)
        for (kind_name, from_type), inputs in off.items():
            inputs = [i for i in inputs if hubspot_key(kind_name, i["from"]["id"]) not in failed]
            self.hubspot_dissociate(kind_name, from_type, inputs)
        if len(moving) > len(failed):
            self.counts["moved_in_hubspot"] += len(moving) - len(failed)

    def copy_edit_to_hubspot(
        self, kind: Kind, record: dict, link: RecordLink, stamp: datetime | None
    ) -> Item:
        """A Salesforce edit to the copy of a HubSpot task (two-way task sync): the task
        properties to write (``extra["write"]``): those whose value, as the HubSpot task would
        then give it back, differs from the link's snapshot; and those values, for the
        snapshot (``extra["back"]``), so that reading the written task finds nothing to do (no
        echo). Our "Task: " prefix isn't part of the HubSpot subject."""
        status = record.get("Status") or ""
        closed = bool(record.get("IsClosed")) or status == "Completed"
        sent = {
            "hs_task_subject": (record.get("Subject") or "").removeprefix(f"{kind.label}: "),
            "hs_task_body": record.get("Description") or "",
            "hs_timestamp": to_ms(midnight(record.get("ActivityDate"), self.zone)),
            "hs_task_status": TASK_STATUS_TO_HUBSPOT.get(
                status, "COMPLETED" if closed else "NOT_STARTED"
            ),
        }
        held = self.task_values(kind, SimpleNamespace(properties=sent))
        current = {name: record.get(name) or "" for name in TWO_WAY_FIELDS.values()}
        item = Item(kind, record, current, link=link, stamp=stamp)
        item.extra["sobject"] = "Task"
        item.extra["write"], item.extra["back"] = {}, {}
        for prop, name in TWO_WAY_FIELDS.items():
            last = link.snapshot.get(name)
            if current[name] == last or held[name] == last:  # not changed in Salesforce
                continue
            if not sent[prop] and prop == "hs_timestamp":
                continue  # a HubSpot task always has a date
            item.extra["write"][prop] = sent[prop]
            item.extra["back"][name] = held[name]
        return item

    def write_back_to_hubspot(self, items: list[Item]) -> None:
        """Salesforce edits to the copies of HubSpot tasks: the tasks follow (batches of
        100)."""
        if not items:
            return
        inputs = [
            {"id": i.link.hubspot_id.split(":", 1)[1], "properties": i.extra["write"]}
            for i in items
        ]
        self.send_engagement_updates("tasks", items, inputs)

    def contact_for(self, items: list[Item]) -> list[Item]:
        """The linked HubSpot contact of each new Salesforce activity's ``WhoId``, and the
        HubSpot record its ``WhatId`` ("Related To": an account, opportunity or case) is linked
        to, in ``extra["related"]``. An activity related to a synced record but to no person
        goes on that record alone."""
        self.related_for(items)
        links = {
            link.salesforce_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object="contacts",
                salesforce_id__in=[i.source.get("WhoId") for i in items if i.source.get("WhoId")],
            )
        }
        ready = []
        for item in items:
            who = item.source.get("WhoId")
            if not who and item.extra.get("related"):
                ready.append(item)
            elif not who:
                self.skipped("no_contact", self.error_key(item))
            elif who not in links:
                self.waiting(
                    item,
                    "to_hubspot",
                    f"Salesforce lead or contact {who} hasn't synced to HubSpot yet; the "
                    f"{item.extra['sobject'].lower()} syncs once it has. A person without an "
                    "email never syncs.",
                    waits_on={"WhoId": who},
                )
            elif self.outside_list([links[who].hubspot_id]):
                self.kept_out(item)
            else:
                item.target = links[who].hubspot_id
                ready.append(item)
        return ready

    def related_for(self, items: list[Item]) -> None:
        """``extra["related"] = (pair, HubSpot id)`` for the items whose ``WhatId`` names a
        synced account, opportunity or case (one query)."""
        whats = {w for i in items if (w := i.source.get("WhatId") or "")[:3] in RELATED_PAIRS}
        found = {
            link.salesforce_id: (link.object, link.hubspot_id)
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object__in=set(RELATED_PAIRS.values()),
                salesforce_id__in=whats,
            ).only("object", "salesforce_id", "hubspot_id")
        }
        for item in items:
            related = found.get(item.source.get("WhatId") or "")
            if related is not None:
                item.extra["related"] = related

    def update_engagements(self, items: list[Item]) -> None:
        by_kind: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            by_kind[item.kind.name].append(item)
        for kind_name, group in by_kind.items():
            inputs = [
                {
                    "id": i.link.hubspot_id.split(":", 1)[1],
                    # A value older links don't hold (e.g. the owner) was never written: "".
                    "properties": {
                        k: v
                        for k, v in i.values.items()
                        if i.link.snapshot.get(k, "") != v and k not in i.extra.get("unknown", ())
                    },
                }
                for i in group
            ]
            for item, entry in zip(group, inputs, strict=True):
                if not entry["properties"]:  # only moved to another person (move_engagements)
                    item.created_id = entry["id"]
            sent = [(i, e) for i, e in zip(group, inputs, strict=True) if e["properties"]]
            if sent:
                self.send_engagement_updates(kind_name, [i for i, _ in sent], [e for _, e in sent])

    def send_engagement_updates(self, kind_name: str, items: list[Item], inputs: list[dict]):
        """Update the linked engagements (``inputs``, one per item; batches of 100), each
        failing alone."""
        _, failed = self.engagement_batch(kind_name, "update", inputs, key=lambda x: x["id"])
        for item, entry in zip(items, inputs, strict=True):
            if entry["id"] in failed and _category(failed[entry["id"]]) == "OBJECT_NOT_FOUND":
                item.failed = item.extra["gone"] = True  # see retire_gone
            elif entry["id"] in failed:
                item.failed = True
                self.hubspot_failure(item, failed[entry["id"]])
            else:
                item.created_id = entry["id"]
                self.counts["updated_in_hubspot"] += 1

    def ensure_key_property(self, kind: Kind) -> None:
        """The property our engagements carry the Salesforce id in (one call per type, once)."""
        self.hubspot_key_property(
            object_type=kind.name,
            name=KEY_PROPERTY,
            label="Salesforce activity id (sync key)",
            group=f"{kind.group}information",
            description="Written by the Salesforce integration: the Salesforce Task or Event "
            "this activity was copied from. Don't edit.",
            unique=False,
            cache_as=f"{kind.name}.{KEY_PROPERTY}",
        )

    def create_engagements(self, items: list[Item]) -> None:
        by_kind: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            by_kind[item.kind.name].append(item)
        for kind_name, group in by_kind.items():
            kind = KINDS[kind_name]
            self.ensure_key_property(kind)
            if "hubspot" in self.recover:
                known = {id(i) for i in group if i.created_id}
                self.find_lost_engagements(kind, group)
                self.update_found_copies([i for i in group if i.created_id and id(i) not in known])
            todo = [i for i in group if not i.created_id]
            if not todo:
                continue
            self.mark_intent("hubspot")
            refused = self.engagements_sent(kind, todo)
            # A related record deleted in HubSpot (its pair retires the link only when it
            # notices) fails the whole create: the activity goes on its person without it.
            again = []
            for item in self.related_gone([i for i in todo if i.salesforce_id in refused]):
                del refused[item.salesforce_id]
                if item.target:
                    again.append(item)
                else:
                    item.failed = True
                    self.skipped("no_contact", self.error_key(item))
            if again:
                refused.update(self.engagements_sent(kind, again))
            for item in todo:
                if item.salesforce_id in refused:
                    item.failed = True
                    self.hubspot_failure(item, refused[item.salesforce_id])

    def engagements_sent(self, kind: Kind, items: list[Item]) -> dict[str, Any]:
        """Create the engagements of ``items`` (batches of 100); HubSpot's refusal of each one
        not created, by its Salesforce id."""
        inputs = [
            {
                "properties": {
                    **{k: v for k, v in i.values.items() if v},
                    KEY_PROPERTY: i.salesforce_id,
                },
                "associations": self.associations_of(kind, i),
            }
            for i in items
        ]
        results, failed = self.engagement_batch(
            kind.name, "create", inputs, key=lambda x: x["properties"][KEY_PROPERTY]
        )
        by_source = {(o.properties or {}).get(KEY_PROPERTY): str(o.id) for o in results}
        refused = {}
        for item in items:
            created = by_source.get(item.salesforce_id)
            if created:
                item.created_id = created
                self.counts["created_in_hubspot"] += 1
            else:
                refused[item.salesforce_id] = failed.get(item.salesforce_id)
        return refused

    def related_gone(self, items: list[Item]) -> list[Item]:
        """Of these refused activities, those whose related record was deleted in HubSpot
        (one read per 100 of a type, only after a refusal): its link is retired and the
        activity's ``extra["related"]`` dropped."""
        by_pair: dict[str, set[str]] = defaultdict(set)
        for item in items:
            if item.extra.get("related"):
                by_pair[item.extra["related"][0]].add(item.extra["related"][1])
        gone = {
            (pair_name, hubspot_id)
            for pair_name, ids in by_pair.items()
            for hubspot_id in self.deleted_in_hubspot(pair_name, ids, merged_too=False)
        }
        dropped = [i for i in items if i.extra.get("related") in gone]
        for item in dropped:
            del item.extra["related"]
        return dropped

    @staticmethod
    def associations_of(kind: Kind, item: Item) -> list[dict]:
        """A new engagement's associations: its contact, and what it is related to."""
        targets = [(item.target, kind.to_contact)] if item.target else []
        if item.extra.get("related"):
            pair_name, hubspot_id = item.extra["related"]
            targets.append((hubspot_id, RELATED_TYPES[pair_name][kind.name]))
        return [
            {
                "to": {"id": to},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
            }
            for to, type_id in targets
        ]

    def find_lost_engagements(self, kind: Kind, items: list[Item]) -> None:
        """After a cycle died between creating engagements and storing their links: the
        engagements carrying these Salesforce ids are those copies (one search per 100)."""
        wanted = {i.salesforce_id: i for i in items}
        ids = sorted(wanted)
        for start in range(0, len(ids), 100):
            page = with_retries(
                lambda s=start: self.ctx.hubspot.search(
                    object_type=kind.name,
                    filter_groups=[
                        {
                            "filters": [
                                {
                                    "propertyName": KEY_PROPERTY,
                                    "operator": "IN",
                                    "values": ids[s : s + 100],
                                }
                            ]
                        }
                    ],
                    properties=[KEY_PROPERTY],
                    limit=200,
                )
            )
            for obj in page.results or []:
                item = wanted.get((obj.properties or {}).get(KEY_PROPERTY))
                if item is not None and not item.created_id:
                    item.created_id = str(obj.id)
                    self.counts["matched"] += 1

    def engagement_batch(
        self, object_type: str, action: str, inputs: list[dict], *, key
    ) -> tuple[list, dict]:
        """Batch writes of 100 where one bad input never blocks the others (a batch HubSpot
        rejects as a whole is split until the bad inputs stand alone). Creates aren't retried
        after a transient failure: the pending-create marker finds what landed."""
        results: list = []
        failures: dict[str, Any] = {}
        write = getattr(self.ctx.hubspot, f"batch_{action}")

        def call(chunk: list[dict]):
            if action == "create":
                return write(object_type=object_type, inputs=chunk)
            return with_retries(lambda: write(object_type=object_type, inputs=chunk))

        def send(chunk: list[dict]) -> None:
            try:
                result = call(chunk)
            except (BadRequest, Conflict) as error:
                split_until_alone(chunk, error, send, lambda i, e: failures.update({key(i): e}))
                return
            results.extend(result.results)
            failures.update(self.hubspot_failures(result, [key(i) for i in chunk]))

        for start in range(0, len(inputs), 100):
            send(inputs[start : start + 100])
        return results, failures

    # --- errors ---------------------------------------------------------------------------
    def error_key(self, item: Item) -> str:
        if item.salesforce_id:
            return f"salesforce:{item.salesforce_id}"
        return f"hubspot:{hubspot_key(item.kind.name, item.hubspot_id)}"

    def label(self, item: Item) -> str:
        if item.salesforce_id:
            return f"{item.extra.get('sobject', 'Task')}: {item.source.get('Subject') or ''}"
        return item.values.get("Subject") or item.values.get("hs_task_subject", "")

    def record(
        self,
        item: Item,
        direction: str,
        error_type: str,
        code: str,
        message: str,
        values: dict[str, Any] | None = None,
        fields: list[str] | None = None,
    ):
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type=error_type,
            direction=direction,
            record_key=self.error_key(item),
            hubspot_id=item.hubspot_id,
            salesforce_id=item.salesforce_id,
            salesforce_type=item.extra.get("sobject", "Task"),
            record_label=self.label(item),
            code=code,
            message=message,
            values=values,
            fields=fields,
        )
        self.counts["failed"] += 1

    def waiting(self, item: Item, direction: str, message: str, waits_on: dict) -> None:
        """``waits_on``: the person the activity waits for (the Salesforce ``WhoId``, or the
        HubSpot ``contacts`` it is associated with), kept with the error (naming no field, it
        isn't shown as sent) and looked for every cycle (``wake_waits``)."""
        item.failed = True
        self.record(item, direction, WAITING, "WAITING_FOR_CONTACT", message, values=waits_on)
        self.counts["waiting_for_contact"] += 1

    def salesforce_failure(
        self,
        item: Item,
        result: dict,
        fields: list[str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> str:
        """Record Salesforce's refusal of ``item``; returns its error type."""
        from ..error_types import classify

        first = (result.get("errors") or [{}])[0]
        code = first.get("statusCode", "")
        kind = classify(system="salesforce", status=400, code=code, message=first.get("message"))
        message = first.get("message", "")
        self.record(item, "to_salesforce", kind.key, code, message, values=values, fields=fields)
        return kind.key

    def hubspot_failure(self, item: Item, error: Any) -> None:
        from ..error_types import classify

        if isinstance(error, RemoteError):
            category, message, status = error.code, error.message, error.status
        elif error is not None:
            category = getattr(error, "category", "") or ""
            message = getattr(error, "message", "") or ""
            status = 409 if category == "CONFLICT" else 400
        else:
            category, message, status = "", "HubSpot did not return this activity", 400
        if category == "CONFLICT":
            kind_key = "other"  # not an email clash: activities have no unique values
        else:
            kind_key = classify(system="hubspot", status=status, code=category, message=message).key
        self.record(item, "to_hubspot", kind_key, category, message)

    # --- commit ---------------------------------------------------------------------------
    def commit_items(
        self, items: list[Item], origin: str, cursor: Cursor | None, handled: list[Version]
    ) -> None:
        """Links (with the values the copy now holds), resolved errors and the cursor, in one
        transaction."""
        now = timezone.now()
        synced: list[str] = []
        held: dict[str, list[str]] = defaultdict(list)  # error type -> keys it stays open on
        created: list[RecordLink] = []
        updated: list[RecordLink] = []
        with transaction.atomic():
            # The lease first, in the same transaction (as ``PairSync.commit``): a cycle
            # another worker took over stops here and commits nothing.
            self.ctx.heartbeat()
            for item in items:
                if item.failed or not item.created_id:
                    continue
                if "back" in item.extra:  # a copy's edit, sent back to the task's origin
                    link = item.link
                    link.snapshot = {**link.snapshot, **item.extra["back"]}
                    link.last_synced_at = now
                    if origin == "hubspot":
                        link.hubspot_modified_at = item.stamp
                    else:
                        link.salesforce_modified_at = item.stamp
                    updated.append(link)
                    synced += [f"hubspot:{link.hubspot_id}", f"salesforce:{link.salesforce_id}"]
                    continue
                unknown = item.extra.get("unknown", ())
                snapshot = {k: v for k, v in item.values.items() if k not in unknown}
                snapshot.update({"__origin": origin, "__type": item.kind.name})
                if "held_back" in item.extra:
                    # Refused values the Task doesn't hold: unsynced, so their retry sends them.
                    snapshot.update(dict.fromkeys(item.extra["held_back"][0]))
                if origin == "hubspot":
                    # The lead or contact the Task is on (see moved_for).
                    who = item.extra.get("who") or item.target
                    who = who or (item.link.snapshot.get("WhoId") if item.link else "")
                    if who:
                        snapshot["WhoId"] = who
                    hs_key = hubspot_key(item.kind.name, item.hubspot_id)
                    sf_id, sobject = item.created_id, "Task"
                else:
                    hs_key = hubspot_key(item.kind.name, item.created_id)
                    sf_id, sobject = item.salesforce_id, item.extra.get("sobject", "Task")
                    # The HubSpot contact the engagement is on (see moved_in_salesforce).
                    on = item.target or (item.link.snapshot.get("__contact") if item.link else "")
                    if on:
                        snapshot["__contact"] = on
                    # The record it is related to (see moved_in_salesforce).
                    related = ":".join(item.extra.get("related") or ())
                    related = related or (item.link.snapshot.get("__related") if item.link else "")
                    if related:
                        snapshot["__related"] = related
                link = item.link or RecordLink(integration=self.ctx.integration, object=OBJECT)
                (updated if link.pk else created).append(link)
                link.hubspot_id, link.salesforce_id, link.salesforce_type = hs_key, sf_id, sobject
                link.snapshot = snapshot
                link.last_synced_at = now
                if origin == "hubspot":
                    link.hubspot_modified_at = item.stamp
                else:
                    link.salesforce_modified_at = item.stamp
                keys = [f"hubspot:{hs_key}", f"salesforce:{sf_id}"]
                if "held_back" in item.extra:
                    held[item.extra["held_back"][1]] += keys  # that error stays open
                else:
                    synced += keys
            RecordLink.objects.bulk_create(created, batch_size=500)
            RecordLink.objects.bulk_update(updated, LINK_FIELDS, batch_size=500)
            self.counts["linked"] += len(created)
            services.sync_errors_resolve(
                integration=self.ctx.integration, object_name=OBJECT, record_keys=synced
            )
            for error_type, keys in held.items():
                services.sync_errors_resolve(
                    integration=self.ctx.integration,
                    object_name=OBJECT,
                    record_keys=keys,
                    except_types=(error_type,),
                )
            if cursor is not None:
                cursor.advance(handled)

    # --- retries --------------------------------------------------------------------------
    def retry_errored(self) -> bool:
        """Activities whose errors are due (e.g. waiting for their contact), and activities an
        admin asked to sync: read again and handled as if just changed. Returns whether every one
        due was (none left over past ``RETRY_BATCH``)."""
        self.wake_waits()
        due, requests = self.due_for_retry()
        complete = len(requests) < RETRY_BATCH and len(due) - len(requests) < RETRY_BATCH
        if not due:
            return complete
        self.retrying = True
        hubspot: dict[str, set[str]] = defaultdict(set)
        salesforce: dict[str, set[str]] = defaultdict(set)
        for key, sobject in due:
            side, _, rest = key.partition(":")
            if side == "hubspot" and ":" in rest:
                kind_name, _, hs_id = rest.partition(":")
                if kind_name in KINDS:
                    hubspot[kind_name].add(hs_id)
            elif side == "salesforce" and rest:
                event = sobject == "Event" or rest.startswith(EVENT_PREFIX)
                salesforce["Event" if event else "Task"].add(rest)
        for kind_name, ids in hubspot.items():
            kind = KINDS[kind_name]
            if not self.on(f"hubspot_{kind_name}"):
                self.type_turned_off(f"hubspot:{kind_name}", ids)
                continue
            objects = self.read_engagements(kind, ids)
            self.handle_hubspot(kind, objects, None, force=True)
        for sobject, ids in salesforce.items():
            records = self.salesforce_reread(sobject, sorted(ids))
            self.resolve_vanished("salesforce", ids, [r["Id"] for r in records])
            self.handle_salesforce(sobject, records, None, force=True)
        self.retrying = False
        self.retries_done(requests, len(due))
        return complete

    def salesforce_reread(self, sobject: str, ids: list[str]) -> list[dict]:
        """The Tasks or Events a retry asked for, read again with ``queryAll``: Salesforce
        archives closed activities over a year old, which ``query`` leaves out, and an
        archived one is still there to sync (not deleted). Deleted ones are left out."""
        soqls = ids_queries(sobject, self.fields_of(sobject), ids, where="IsDeleted = false")
        pages = composite_query(self.ctx.salesforce, soqls, include_deleted=True)
        return [
            r
            for page in pages
            for batch in salesforce_pages(self.ctx.salesforce, page)
            for r in batch
        ]

    def wake_waits(self) -> None:
        """Waiting activities whose lead or contact has synced since they were last tried
        are due now, not at their 20-minute (later nightly) retry: a database look each
        cycle (two queries per 2,000 waits), no calls. A person synced again since (e.g. a
        lead converted) counts too; an activity still waiting after its retry isn't woken
        again until its person syncs."""
        now = timezone.now()
        waiting = SyncError.objects.filter(
            integration=self.ctx.integration,
            object=OBJECT,
            error_type=WAITING,
            resolved_at__isnull=True,
            next_retry_at__gt=now,
        ).order_by("pk")
        after = 0
        while True:
            waits = list(
                waiting.filter(pk__gt=after).values_list("pk", "values", "last_seen_at")[
                    :RETRY_BATCH
                ]
            )
            if not waits:
                return
            after = waits[-1][0]
            woken = self.waits_whose_person_synced(waits)
            if woken:
                SyncError.objects.filter(pk__in=woken).update(next_retry_at=now)

    def waits_whose_person_synced(self, waits: list[tuple[int, dict, datetime]]) -> list[int]:
        """Of (error, its values, when last seen), those whose person's contact link synced
        since (one query)."""
        hubspot_people = {c for _, v, _ in waits for c in (v or {}).get("contacts") or ()}
        salesforce_people = {w for _, v, _ in waits if (w := (v or {}).get("WhoId"))}
        if not hubspot_people and not salesforce_people:
            return []
        synced: dict[tuple[str, str], datetime] = {}
        for hubspot_id, salesforce_id, at in RecordLink.objects.filter(
            Q(hubspot_id__in=hubspot_people) | Q(salesforce_id__in=salesforce_people),
            integration=self.ctx.integration,
            object="contacts",
            last_synced_at__gt=min(seen for _, _, seen in waits),
        ).values_list("hubspot_id", "salesforce_id", "last_synced_at"):
            synced[("contacts", hubspot_id)] = synced[("WhoId", salesforce_id)] = at

        def person_synced_since(values: dict, seen: datetime) -> bool:
            people = [("contacts", c) for c in values.get("contacts") or ()]
            people += [("WhoId", values["WhoId"])] if values.get("WhoId") else []
            return any(synced.get(p, seen) > seen for p in people)

        return [pk for pk, values, seen in waits if person_synced_since(values or {}, seen)]

    def type_turned_off(self, prefix: str, ids) -> None:
        """Activities retried after their type was turned off: they no longer sync (and a
        later turn-on doesn't backfill them), so their errors end rather than wait for ever."""
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=OBJECT,
            record_keys=[f"{prefix}:{i}" for i in sorted(ids)],
            ended_because=SyncError.EndedBecause.NOT_SYNCING,
        )
