"""What every object pair's sync shares: the pair being merged, owners, batched HubSpot
writes that isolate bad inputs, typed sync errors, and the commit of links, snapshots, errors
and cursors in one transaction. ``contacts.py`` (and each further pair) adds its own matching
and reading on top."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from operator import attrgetter
from types import SimpleNamespace
from typing import Any, TypeVar

from django.db import connections, models, router, transaction
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Length
from django.utils import timezone

from .. import services
from ..connectors.ahead import CallAhead, sent_ahead
from ..connectors.hubspot.connector import ASSOCIATION_BATCH_READ_SIZE, BatchResult
from ..connectors.salesforce.connector import COLLECTION_WRITE_SIZE, COLLECTIONS_PER_COMPOSITE
from ..error_types import classify
from ..errors import (
    BadRequest,
    Conflict,
    ConnectorError,
    NotFound,
    RateLimited,
    RemoteError,
    TransientError,
    error_context,
)
from ..models import RecordLink, ResyncRequest, SchemaCache, SyncCursor, SyncError, System
from ..selectors import object_settings_get
from . import geo
from .changes import (
    Cursor,
    SoqlStream,
    Version,
    all_records,
    composite_query,
    first_then,
    http_date,
    hubspot_changes,
    hubspot_list_joins,
    hubspot_list_members,
    ids_queries,
    last_response_date,
    parse_time,
    salesforce_by_ids,
    salesforce_pages,
    soql_datetime,
    soql_string,
    stream_first_pages,
    with_retries,
)
from .context import CycleContext
from .currencies import AmountNotConvertible, Rates, amounts_convert, unit_fraction
from .owners import OwnerDirectory
from .rules import Decision, Side, SyncRule, latest_wins, merge_field, two_way_conflict
from .values import (
    CURRENCY_FIELD,
    HUBSPOT_CURRENCY,
    MULTI_SELECT,
    ValueConversionError,
    choices_sorted,
    compared_type,
    hubspot_datetime,
    is_day,
    normalize,
    option_lookup,
    to_salesforce,
)

OWNER_PROPERTY = "hubspot_owner_id"
# Why a multi-currency org's amount can't be converted (``amount_not_convertible``).
RATES_UNREAD = "Salesforce's currencies couldn't be read"
AMOUNT_RATES_UNREAD = (
    "{field}: Salesforce's currencies (CurrencyType) couldn't be read, so the amount can't be "
    "converted between the record's currency and HubSpot's company currency. They are read "
    "again 20 minutes later, or at once by Refresh properties and fields on the object's tab; "
    "the amount then syncs with its next change or resync. If it keeps failing, check that "
    "the integration user may query CurrencyType."
)
AMOUNT_NO_RATE = (
    "{field}: the record's amounts are in {own} and HubSpot's company currency is {hubspot}, "
    "but {error}. Add the currency in Salesforce under Setup > Company Information > "
    "Currencies (it may stay inactive), then refresh the object's properties and fields; the "
    "amount syncs with its next change or resync."
)
RETRY_BATCH = 2000  # records retried per cycle at most
HUBSPOT_BATCH = 100  # records per HubSpot batch call
MERGED_IDS = "hs_merged_object_ids"  # on a record: the ids merged into it ("1;2")


def merge_survivors(objects: Iterable[Any]) -> dict[str, Any]:
    """HubSpot records merged into these, by the merged-away id: the survivor, whose
    ``hs_merged_object_ids`` names them. (Read by id, a merged-away record answers as its
    survivor, under the survivor's id.)"""
    return {
        old: obj
        for obj in objects
        for old in ((obj.properties or {}).get(MERGED_IDS) or "").split(";")
        if old
    }


# Salesforce keeps deleted records restorable this long (its recycle bin); the links of those
# whose HubSpot record stayed are remembered as long, the newest few thousand of them.
RECYCLE_BIN_KEEPS = timedelta(days=15)
DELETED_LINKS_KEPT = 5000
# The code of a new Salesforce record's error whose id another record's HubSpot partner holds
# in its sync key (``upsert_claims_undone``).
KEY_IN_USE = "SYNC_KEY_IN_USE"
# Stamps and the Date header are read apart (the header has whole seconds only).
OWN_WRITE_SLACK = timedelta(seconds=2)
# How far a lost create's CreatedDate may be from its note (``intents``): the create goes right
# after the note, and Salesforce's clock may run apart from ours.
LOST_CREATE_CLOCKS = timedelta(minutes=10)
# On a HubSpot record kept after its Salesforce record was merged into one that syncs with
# another HubSpot record (``apply_salesforce_deletes``).
MERGED_IN_SALESFORCE = "merged_in_salesforce"
# A pair's HubSpot records in a sentence ("HubSpot contact 12"); custom objects: "record".
HUBSPOT_NOUNS = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "tickets": "ticket",
}
# Records per Salesforce write call: five sObject Collections of 200 in one composite request.
SALESFORCE_COLLECTION = COLLECTION_WRITE_SIZE * COLLECTIONS_PER_COMPOSITE
# Salesforce refuses a whole record for one field's value with these: the record's other
# values are sent again without it, so one value (a picklist value Salesforce lacks, text
# longer than its field) doesn't hold back the rest; its typed error stays (spec §4).
VALUE_REFUSALS = frozenset(
    {
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "STRING_TOO_LONG",
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        "NUMBER_OUTSIDE_VALID_RANGE",
    }
)
# What Salesforce answers an update of a record it no longer has (in the recycle bin, or gone
# from it too), when the error names no field (one that does is about a lookup's target).
RECORD_GONE = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})
T = TypeVar("T")
# When a link's sides changed and when it synced: written by every commit, read by none of
# the merges, so the hot paths load links without them (``.defer(*LINK_MOMENTS)``).
LINK_MOMENTS = ("hubspot_modified_at", "salesforce_modified_at", "last_synced_at", "created_at")
LINK_KEYS = ["hubspot_id", "salesforce_id", "salesforce_type"]
LINK_VALUES = ["snapshot", "hubspot_modified_at", "salesforce_modified_at", "last_synced_at"]
LINK_FIELDS = LINK_KEYS + LINK_VALUES
# HubSpot's own Country and State/Region properties (spec §12) and the pairs that have them,
# with their Salesforce objects: converted to the org's State and Country/Territory picklists.
GEO_PROPERTIES = ("country", "state")
GEO_OBJECTS = {"contacts": ("Lead", "Contact"), "companies": ("Account",)}


@dataclass
class Pair:
    """One HubSpot record and one Salesforce record being merged in this batch."""

    sobject: str
    salesforce: dict | None
    hubspot: Any | None  # the client's object (``.id``, ``.properties``)
    link: RecordLink | None = None
    hs_history: dict[str, datetime] = field(default_factory=dict)
    to_hubspot: dict[str, str] = field(default_factory=dict)
    to_salesforce: dict[str, Any] = field(default_factory=dict)
    same: dict[str, str] = field(default_factory=dict)  # snapshot values already equal
    snap_hubspot: dict[str, str] = field(default_factory=dict)  # snapshot if HubSpot write lands
    snap_salesforce: dict[str, str] = field(default_factory=dict)
    hubspot_failed: bool = False
    salesforce_failed: bool = False
    # Mapped fields whose HubSpot edit Salesforce won't take (not updateable for the user).
    not_writable: list[str] = field(default_factory=list)
    # Error types that stay open although the pair synced: something it holds back (a value
    # or association not written, a wait) is still what they are about, and their retry
    # tries it again. The record's other errors end as usual. ``record_error`` adds each
    # type it records; errors recorded through ``services`` directly are added by hand.
    kept_errors: set[str] = field(default_factory=set)
    merged: bool = False  # decisions are up to date (merging is idempotent, but not free)
    owner_reset: bool = False
    needs_history: bool = False

    @property
    def hs_props(self) -> dict:
        return (self.hubspot.properties or {}) if self.hubspot is not None else {}

    def clear_decisions(self) -> None:
        """Forget what an earlier merge of this pair decided: merging is idempotent."""
        self.to_hubspot, self.to_salesforce = {}, {}
        self.same, self.snap_hubspot, self.snap_salesforce = {}, {}, {}
        self.needs_history = self.owner_reset = False

    @property
    def hubspot_id(self) -> str | None:
        return str(self.hubspot.id) if self.hubspot is not None else None

    @property
    def salesforce_id(self) -> str | None:
        return self.salesforce["Id"] if self.salesforce else None

    @property
    def label(self) -> str:
        props, sf = self.hs_props, self.salesforce or {}
        name = " ".join(
            x
            for x in (
                props.get("firstname") or sf.get("FirstName"),
                props.get("lastname") or sf.get("LastName"),
            )
            if x
        )
        name = name or props.get("name") or props.get("dealname") or sf.get("Name") or ""
        email = props.get("email") or sf.get("Email") or ""
        return f"{name} <{email}>" if name and email else name or email


@dataclass(frozen=True)
class Failure:
    """One error Salesforce gave for a record, before it is recorded (``failures_record``)."""

    error_type: str
    code: str
    message: str
    fields: list[str]
    values: dict[str, Any]

    def said(self, known: dict[str, dict]) -> str:
        """Its message naming its fields (Salesforce's names them by label, mostly), among
        others (``known``: the object's described fields)."""
        names = [*self.fields, *((known.get(n) or {}).get("label") for n in self.fields)]
        if not self.fields or any(n and n in self.message for n in names):
            return self.message
        return f"{', '.join(self.fields)}: {self.message}"

    @property
    def record_gone(self) -> bool:
        """Salesforce refused the record as one it doesn't have (see ``RECORD_GONE``)."""
        return self.code in RECORD_GONE and not self.fields


class PairSync:
    """Base of one object pair's sync. Subclasses set ``object_name`` (the HubSpot object type),
    ``modified_property`` and read, match and merge their records."""

    object_name = ""
    modified_property = "hs_lastmodifieddate"
    # Error types a record's sync doesn't end: the pair ends them by its own check (e.g. a
    # wait for a partner record, looked at every cycle), so an unrelated write can't hide one.
    errors_ended_by_own_check: tuple[str, ...] = ()
    # The Salesforce change streams the pair reads (cursor names "salesforce:<object>[:…]"),
    # known before it runs, so a cycle over several pairs probes and prefetches them first.
    salesforce_streams: tuple[str, ...] = ()
    # Whether the pair notes its Salesforce creates without an external id before sending
    # them (``salesforce_creates_intended``): lost creates are then looked for only among
    # those, never among records someone else made as the integration user.
    notes_create_intents = False
    # Whether a Salesforce record deleted with its HubSpot record kept, then restored from the
    # recycle bin, syncs as the old pair again (``deleted_links_kept``, ``links_restored``).
    relinks_restored = False
    # Whether amounts in a multi-currency org are converted to HubSpot's company currency
    # (``amounts_converted``); deals keep theirs in the deal's currency instead. Read by the
    # mapping table and *Refresh properties and fields* too.
    converts_amounts = True

    @classmethod
    def stream_names(cls, object_name: str, options: dict | None) -> tuple[str, ...]:
        return cls.salesforce_streams

    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        # One directory for the whole cycle over every pair (read at most once a cycle).
        probe = getattr(ctx, "probe", None)
        if probe is not None and probe.owners is None:
            probe.owners = OwnerDirectory(ctx.salesforce, ctx.hubspot)
        self.owners = (
            probe.owners if probe is not None else OwnerDirectory(ctx.salesforce, ctx.hubspot)
        )
        self.two_way = [m.hubspot_property for m in ctx.mappings if m.rule == SyncRule.TWO_WAY]
        self._intents: SyncCursor | None = None
        self._contact_settings: Any = None
        self._geo_fields: dict[tuple[str, str], str | None] = {}
        self._picklists: dict[str, geo.Picklists] = {}
        self._account_zone: str | None = None
        # Record keys the pair's rules left alone since the retries began (``skipped``), and
        # the errors those retries took up: (key, attempts, next retry, due) when taken.
        self.not_syncing: set[str] = set()
        # Of those, the ones whose history says more than "no longer syncs" (a lead
        # converted, say): key -> ``SyncError.EndedBecause``.
        self.stopped_because: dict[str, str] = {}
        self._held_companies: set[str] | None = None  # ``company_held_after_merge``
        self._paused_flagged: set[str] = set()  # flag rows ``flag_paused`` wrote this cycle
        self._retried: dict[int, tuple[str, int, datetime | None, bool]] = {}
        self.asked: set[str] = set()  # record keys an admin asked to sync (``retries_taken``)
        # Records this run wrote ("hubspot:<id>", "salesforce:<id>"): read back unchanged by
        # a later read of the run, they are counted as such, not as "unchanged" records.
        self.written: set[str] = set()
        # Of those, the ones read back; and the keys of earlier runs' writes read this run
        # (see ``writes_remembered``).
        self._written_read: set[str] = set()
        self._earlier_read: set[str] = set()
        self._earlier_writes: SyncCursor | None = None
        # The association sweep's slice this cycle (link pks) and its cursor row, moved on
        # once the slice is compared (``sweep_slice_start``, ``sweep_slice_done``).
        self._sweep: list[int] = []
        self._sweep_cursor: SyncCursor | None = None
        self._amounts_converted: dict[str, bool] = {}  # sobject -> ``amounts_converted``

    @property
    def counts(self):
        return self.ctx.counts

    def unchanged_read(self, record_key: str, stamp: Any = None) -> None:
        """A linked record read whose mapped values are what the link holds: the run's own
        write read back (``written``), or, given the read's ``stamp`` (its modified time as
        read), an earlier run's not read back then (``writes_remembered``); or a record
        whose change moves no mapped value."""
        own = record_key in self.written
        if own:
            self._written_read.add(record_key)
        if stamp is not None and record_key in self.earlier_writes.seen:
            self._earlier_read.add(record_key)
            noted = parse_time(self.earlier_writes.seen[record_key])
            read = parse_time(stamp)
            # Stamped by then: nobody touched the record after our write.
            own = own or bool(noted and read and read <= noted + OWN_WRITE_SLACK)
        self.counts["own_writes_read_back" if own else "unchanged"] += 1

    @property
    def earlier_writes(self) -> SyncCursor:
        """Earlier runs' writes no read has come back to yet: ``seen`` maps each record key
        to the time of its run's last answer from that side (read once a run, when asked)."""
        if self._earlier_writes is None:
            self._earlier_writes = SyncCursor.objects.get_or_create(
                integration=self.ctx.integration, stream=f"{self.object_name}:own-writes"
            )[0]
        return self._earlier_writes

    def writes_remembered(self) -> None:
        """At the end of a run: its writes no later read of it came back to (a pair reading
        HubSpot before Salesforce reads its HubSpot writes next run), with the time of the
        run's last answer from that side, so the next run's first read of each counts as our
        own write (``unchanged_read``). One row update a run at most; kept a day."""
        clocks = {
            "hubspot": http_date(self.ctx.hubspot.server_date),
            "salesforce": last_response_date(self.ctx.salesforce),
        }
        kept: dict[str, str] = {}
        if self._earlier_writes is not None or self.written:
            for key, noted in self.earlier_writes.seen.items():
                at = clocks.get(key.partition(":")[0])
                if key in self._earlier_read:
                    continue
                if at is None or parse_time(noted) >= at - timedelta(days=1):
                    kept[key] = noted
        for key in self.written - self._written_read:
            at = clocks.get(key.partition(":")[0])
            if at is not None:
                kept[key] = at.isoformat()
        row = self._earlier_writes
        if row is not None and kept != row.seen:
            row.seen = kept
            row.save(update_fields=["seen", "updated_at"])

    def skipped(self, reason: str, *record_keys: str, held: bool = False) -> None:
        """One record the pair's rules leave alone (outside the inclusion list, creation off,
        a pipeline that doesn't sync…), named by its error keys (``hubspot:<id>``,
        ``salesforce:<id>``) and counted as ``skipped_<reason>``. Retried, its errors end:
        nothing is left to fix (``retries_done``). ``held``: left alone only until the admin
        mends a setting (an inclusion list gone from HubSpot): its errors stay."""
        self.counts[f"skipped_{reason}"] += 1
        if not held:
            self.not_syncing.update(record_keys)

    def merge(self, pair: Pair) -> None:
        raise NotImplementedError

    def repoint_hubspot(self, link: RecordLink, survivor_id: str) -> bool:
        """A HubSpot merge: the link follows the surviving contact unless it has one; then
        the link goes (False), and the survivor stays its own partner's: never the partner
        of this link's Salesforce record."""
        if RecordLink.objects.filter(
            integration=self.ctx.integration, object=self.object_name, hubspot_id=survivor_id
        ).exists():
            link.delete()
            link.pk = None
            return False
        link.hubspot_id = survivor_id
        link.save(update_fields=["hubspot_id"])
        self.counts["links_repointed"] += 1
        return True

    def follow_hubspot_merges(self, objects: list[Any]) -> None:
        """Records merged in HubSpot (``hs_merged_object_ids`` on the survivor): the links of
        the merged-away ones follow the survivor (``repoint_hubspot``)."""
        survivors = {old: str(obj.id) for old, obj in merge_survivors(objects).items()}
        for link in self.links_by("hubspot_id", survivors).values():
            self.repoint_hubspot(link, survivors[link.hubspot_id])

    # --- links and partners (shared by the pairs that keep one link per record) -----------
    def links_by(self, side: str, ids) -> dict[str, RecordLink]:
        """This pair's links of ``ids``, keyed by ``side`` ("hubspot_id" or "salesforce_id")."""
        ids = list(ids)
        if not ids:
            return {}
        return {
            getattr(link, side): link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object=self.object_name,
                **{f"{side}__in": ids},
            )
        }

    def contact_links(self, hubspot_ids: Iterable[str]) -> dict[str, RecordLink]:
        """The contact pair's links of these HubSpot contacts synced as Salesforce contacts
        (only those have an account, or roles), by HubSpot id."""
        return {
            link.hubspot_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object="contacts",
                salesforce_type="Contact",
                hubspot_id__in=hubspot_ids,
            )
        }

    def split_salesforce_changes(
        self, records: list[dict], sobject: str, *, creates: bool, force: bool = False, make=None
    ) -> tuple[list[Pair], list[dict]]:
        """Live changed Salesforce records as (pairs of the linked ones whose mapped values
        moved, the unlinked ones to match or create from). ``creates``: whether unlinked
        records may create in HubSpot (the others are counted as skipped). ``make`` builds a
        pair (the pair class, by default)."""
        make = make or Pair
        links = self.links_by("salesforce_id", [r["Id"] for r in records])
        restored = self.links_restored([r for r in records if r["Id"] not in links])
        links.update(restored)
        pairs: list[Pair] = []
        unlinked: list[dict] = []
        for record in records:
            link = links.get(record["Id"])
            if link is not None:
                unchanged = record["Id"] not in restored and self.salesforce_unchanged(record, link)
                if not force and unchanged:
                    self.unchanged_read(f"salesforce:{record['Id']}", record.get("SystemModstamp"))
                    continue
                pairs.append(make(sobject, record, None, link))
            elif creates:
                unlinked.append(record)
            else:
                self.skipped("create_disabled", f"salesforce:{record['Id']}")
        return pairs, unlinked

    # --- records restored from Salesforce's recycle bin ------------------------------------
    @property
    def deleted_links_stream(self) -> str:
        return f"{self.object_name}:deleted-links"

    def deleted_links_kept(self, links: list[RecordLink]) -> None:
        """Links that go because their Salesforce record was deleted while its HubSpot record
        stays (a delete setting of *Do nothing*): remembered, snapshot and all, for as long as
        Salesforce can restore the record (the newest ``DELETED_LINKS_KEPT``), so a restore
        syncs as the old pair again (``links_restored``) instead of a first sync, whose
        Salesforce values would overwrite what was edited in HubSpot meanwhile."""
        if not links or not self.relinks_restored:
            return
        row, _ = SyncCursor.objects.get_or_create(
            integration=self.ctx.integration, stream=self.deleted_links_stream
        )
        now = timezone.now()
        since = (now - RECYCLE_BIN_KEEPS).isoformat()
        kept = {sf: entry for sf, entry in (row.seen or {}).items() if entry.get("at", "") >= since}
        for link in links:
            kept[link.salesforce_id] = {
                "hs": link.hubspot_id,
                "type": link.salesforce_type,
                "snapshot": link.snapshot,
                "synced": link.last_synced_at.isoformat() if link.last_synced_at else None,
                "at": now.isoformat(),
            }
        newest = sorted(kept.items(), key=lambda item: item[1]["at"])[-DELETED_LINKS_KEPT:]
        row.seen = dict(newest)
        row.save(update_fields=["seen", "updated_at"])

    def links_restored(self, records: list[dict]) -> dict[str, RecordLink]:
        """Of these unlinked Salesforce records, those deleted with their HubSpot record kept
        and now restored (``deleted_links_kept``): linked again to that record with the old
        snapshot, by Salesforce id. Not when the HubSpot record syncs with another record
        now. Two reads, one insert, one update of the cursor row."""
        if not records or not self.relinks_restored:
            return {}
        row = SyncCursor.objects.filter(
            integration=self.ctx.integration, stream=self.deleted_links_stream
        ).first()
        remembered = (row.seen or {}) if row else {}
        back = {r["Id"]: remembered[r["Id"]] for r in records if r["Id"] in remembered}
        if not back:
            return {}
        taken = set(self.links_by("hubspot_id", {entry["hs"] for entry in back.values()}))
        restored: dict[str, RecordLink] = {}
        for salesforce_id, entry in back.items():
            if entry["hs"] not in taken:
                taken.add(entry["hs"])
                synced = entry.get("synced")
                restored[salesforce_id] = RecordLink(
                    integration=self.ctx.integration,
                    object=self.object_name,
                    hubspot_id=entry["hs"],
                    salesforce_id=salesforce_id,
                    salesforce_type=entry["type"],
                    snapshot=entry["snapshot"],
                    last_synced_at=datetime.fromisoformat(synced) if synced else timezone.now(),
                )
        rows_insert(RecordLink, list(restored.values()))  # one insert for a mass undelete
        row.seen = {sf: entry for sf, entry in remembered.items() if sf not in back}
        row.save(update_fields=["seen", "updated_at"])
        return restored

    def split_hubspot_changes(
        self, objects: list[Any], sobject: str, *, force: bool = False, make=None
    ) -> tuple[list[Pair], list[Any]]:
        """Changed HubSpot records as (pairs of the linked ones whose mapped values moved, the
        unlinked ones to match or create from)."""
        make = make or Pair
        links = self.links_by("hubspot_id", [str(o.id) for o in objects])
        pairs: list[Pair] = []
        unlinked: list[Any] = []
        for obj in objects:
            link = links.get(str(obj.id))
            if link is not None:
                if not force and self.hubspot_unchanged(obj, link):
                    stamp = (obj.properties or {}).get(self.modified_property)
                    self.unchanged_read(f"hubspot:{obj.id}", stamp)
                    continue
                pairs.append(make(sobject, None, obj, link))
            else:
                unlinked.append(obj)
        return pairs, unlinked

    def fields_to_read(self, sobject: str, system: list[str], *extra: str | None) -> list[str]:
        """The ``sobject`` fields a pair reads: its ``system`` fields the org has (``Id``
        always), then ``extra`` and every mapped field, each once and in that order (the
        order is part of the stream's stored query, see ``SyncCursor.query``)."""
        known = self.ctx.salesforce_fields.get(sobject, {})
        fields = [f for f in system if f in known or f == "Id"]
        mapped = [self.ctx.mapped_field(m, sobject) for m in self.ctx.mappings]
        if any(name and self.is_converted_amount(sobject, name) for name in mapped):
            extra = (*extra, CURRENCY_FIELD)  # the currency its amounts are in
        for name in (*extra, *mapped):
            if name and name not in fields:
                fields.append(name)
        return fields

    def hubspot_read(
        self, ids: list[str], *, properties: list[str] | None = None, history: bool = True
    ) -> dict[str, Any]:
        """This pair's HubSpot records by id, with ``properties`` (``hubspot_properties`` by
        default) and, with ``history``, the history of the two-way ones (100 per call, each
        call retried alone)."""
        if not ids:
            return {}
        result = hubspot_batch_read(
            self.ctx.hubspot,
            object_type=self.hubspot_object_type,
            ids=ids,
            properties=properties or self.hubspot_properties,
            properties_with_history=(self.two_way or None) if history else None,
        )
        return {str(o.id): o for o in result.results}

    def load_hubspot_partners(self, pairs: list[Pair]) -> dict[str, str]:
        """The HubSpot side of linked pairs whose Salesforce side changed. A record deleted
        in HubSpot retires its link (HubSpot deletes never delete in Salesforce): those, as
        Salesforce id -> the deleted HubSpot id (see ``hubspot_deletes_stand``). One merged
        into another record reads as that record, under its own id: the link follows it
        (``repoint_hubspot``), unless it has a partner of its own; then the link goes as
        after a delete, and the survivor stays its own partner's (the pair must read
        ``MERGED_IDS`` for this)."""
        gone: dict[str, str] = {}
        if not pairs:
            return gone
        objects = self.hubspot_read([p.link.hubspot_id for p in pairs])
        survivors = merge_survivors(objects.values())
        for pair in pairs:
            obj = objects.get(pair.link.hubspot_id)
            survivor = survivors.get(pair.link.hubspot_id) if obj is None else None
            if survivor is not None and self.repoint_hubspot(pair.link, str(survivor.id)):
                obj = survivor
            if obj is None:
                gone[pair.salesforce_id or ""] = pair.link.hubspot_id
                if pair.link.pk is not None:  # (one merged into a synced record is gone)
                    pair.link.delete()
                    self.counts["links_removed"] += 1
                pair.link = None
            else:
                pair.hubspot = obj
                pair.hs_history = self.history_of(obj)
        return gone

    def hubspot_deletes_stand(self, gone: dict[str, str], *, force: bool) -> set[str]:
        """Linked Salesforce records whose HubSpot record was deleted (``gone``: Salesforce
        id -> that HubSpot id, their links retired). A change of the record creates it again
        (Salesforce creates sync); handled again without one (``force``: the retry of an
        error, the check of a wait) it doesn't, unless an admin asked for the record (a
        Resync): the delete stands, and the pair's errors end (``gone_from_hubspot``), as
        what they would put in step is gone. The Salesforce ids whose delete stands."""
        if not force:
            return set()
        stand = {sf: hs for sf, hs in gone.items() if f"salesforce:{sf}" not in self.asked}
        self.hubspot_gone_errors_end(stand)
        return set(stand)

    def hubspot_gone_errors_end(self, gone: dict[str, str]) -> None:
        """The errors of linked pairs whose HubSpot record was deleted (``gone``: Salesforce
        id -> that HubSpot id) end (``gone_from_hubspot``): what they would put in step is
        gone (a write to the record, a wait for its partner's partner)."""
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=self.object_name,
            record_keys=[
                key for sf, hs in gone.items() for key in (f"salesforce:{sf}", f"hubspot:{hs}")
            ],
            ended_because=SyncError.EndedBecause.GONE_FROM_HUBSPOT,
        )

    # --- creates whose link was never stored (orgs without a HubSpot id field) -------------
    @property
    def intents(self) -> SyncCursor:
        """The pair's Salesforce creates sent but not yet committed: ``seen`` maps each
        HubSpot record's id to what its Salesforce record was created with: ``{"sobject",
        "name": its Name (none for an auto-number one), "values": {field: value} (every other
        value sent), "at": when}`` (a note from before names were kept with the values is the
        Name alone)."""
        if self._intents is None:
            stream = f"{self.object_name}:salesforce-creates-sent"
            self._intents = SyncCursor.objects.get_or_create(
                integration=self.ctx.integration, stream=stream
            )[0]
        return self._intents

    def salesforce_creates_intended(self, pairs: list[Pair]) -> None:
        """Noted (and committed) before Salesforce creates without an external id are sent:
        if the answer or the commit is lost, the next cycle knows which HubSpot records it
        was creating for, by name, and links what landed instead of creating again."""
        intents = self.intents
        at = timezone.now().isoformat()
        noted = {}
        for p in pairs:
            values = self.sent_values(p.sobject, p.to_salesforce)
            name = str(values.pop("Name", None) or "")
            noted[p.hubspot_id] = {"sobject": p.sobject, "values": values, "at": at}
            if name:
                noted[p.hubspot_id]["name"] = name
        intents.seen = {**(intents.seen or {}), **noted}
        intents.save(update_fields=["seen", "updated_at"])

    def sent_values(self, sobject: str, values: dict) -> dict[str, str]:
        """A create's values in the form they are compared in (``created_as``)."""
        return {name: self.compared(sobject, name, value) for name, value in values.items()}

    def compared(self, sobject: str, name: str, value: Any) -> str:
        sf_type = self.ctx.field_type(sobject, name)
        try:
            text = normalize(value, sf_type)
        except ValueConversionError:
            return str(value)
        # Salesforce keeps a multi-select's choices in its own order, not as they were sent.
        return self.in_one_order(sf_type, text)

    @staticmethod
    def in_one_order(kind: str, value: str | None) -> str | None:
        """A value, or the snapshot's, as it compares: a multi-select's choices in one order
        (``choices_sorted``), so either side holding them in another is no change."""
        return choices_sorted(value) if kind == MULTI_SELECT else value

    @staticmethod
    def same_value(kind: str, one: str | None, other: str | None) -> bool:
        """``in_one_order`` of both equal, checked as cheaply as a plain comparison for all but
        a multi-select's unequal texts (a cycle compares every mapped field of every record)."""
        return one == other or (
            kind == MULTI_SELECT and choices_sorted(one) == choices_sorted(other)
        )

    def created_as(self, intent: str | dict, record: dict) -> bool:
        """Whether ``record`` is what a noted create (``intents``) made: the same Name, or,
        created without one, every value sent the same."""
        if isinstance(intent, str):
            return bool(intent) and (record.get("Name") or "") == intent
        if intent.get("name"):
            return (record.get("Name") or "") == intent["name"]
        return self.created_with_values(intent, record)

    def created_with_values(self, intent: dict, record: dict) -> bool:
        """Every value a noted create sent but its Name, as ``record`` holds it."""
        sobject = intent.get("sobject", "")
        return all(
            self.compared(sobject, name, record.get(name)) == value
            for name, value in (intent.get("values") or {}).items()
        )

    def lost_creates_matched(
        self, intents: dict[str, str | dict], records: list[dict]
    ) -> dict[str, dict]:
        """Which of ``records`` (unlinked, made by the integration user) each noted create
        (HubSpot id -> intent, in the order to match them) made: by the Name it was created
        with or, made without one, every value sent. A named one renamed since (by a rep,
        before the next cycle) is then the record made within minutes of its note with every
        other value sent, when only that record fits only that note: two such creates alike,
        and neither is guessed (each is created again, as before)."""
        left = sorted(records, key=lambda r: (r.get("CreatedDate") or "", r["Id"]))
        matched: dict[str, dict] = {}
        for hubspot_id, intent in intents.items():
            record = next((r for r in left if self.created_as(intent, r)), None)
            if record is not None:
                matched[hubspot_id] = record
                left.remove(record)
        matched |= sole_fits(
            {
                hubspot_id: [r for r in left if self.renamed_since(intent, r)]
                for hubspot_id, intent in intents.items()
                if hubspot_id not in matched and isinstance(intent, dict) and intent.get("name")
            }
        )
        return matched

    def renamed_since(self, intent: dict, record: dict) -> bool:
        """Whether ``record`` may be a noted named create renamed since: made within
        ``LOST_CREATE_CLOCKS`` of the note, every other value sent the same."""
        at, created = parse_time(intent.get("at")), parse_time(record.get("CreatedDate"))
        if at is None or created is None or abs(created - at) > LOST_CREATE_CLOCKS:
            return False
        return self.created_with_values(intent, record)

    def creates_settled(self, pairs: list[Pair]) -> None:
        """Inside the commit: the intents of pairs now linked, or whose create Salesforce
        refused, are done."""
        if self._intents is None or not self._intents.seen:
            return
        done = {
            p.hubspot_id
            for p in pairs
            if p.salesforce_failed or (p.hubspot is not None and p.salesforce is not None)
        }
        if done & set(self._intents.seen):
            self._intents.seen = {h: n for h, n in self._intents.seen.items() if h not in done}
            self._intents.save(update_fields=["seen", "updated_at"])

    def hubspot_partners_named(
        self,
        records: list[dict],
        wanted: dict[str, str],
        *,
        external_id: str | None,
        name_property: str,
        key: str,
    ) -> dict[str, Any]:
        """Unlinked Salesforce records' HubSpot partners (Salesforce id -> HubSpot record):
        the record ``wanted`` names (Salesforce id -> HubSpot id), and, without an
        ``external_id``, our own lost create (``hubspot_lost_creates``). A HubSpot record
        linked already, or whose sync ``key`` names another Salesforce record (another
        portal's id, say), is nobody's partner here."""
        objects = self.hubspot_read(sorted(set(wanted.values())))
        if not external_id:
            ours = [r for r in records if r["Id"] not in wanted and self.created_by_us(r)]
            objects.update(
                self.hubspot_lost_creates(ours, wanted, name_property=name_property, key=key)
            )
        linked = self.links_by("hubspot_id", list(objects))
        partners = {}
        for record in records:
            obj = objects.get(wanted.get(record["Id"], ""))
            if obj is None or str(obj.id) in linked:
                continue
            named = (obj.properties or {}).get(key)
            if named and named != record["Id"]:
                continue
            partners[record["Id"]] = obj
        return partners

    def hubspot_lost_creates(
        self, records: list[dict], wanted: dict[str, str], *, name_property: str | None, key: str
    ) -> dict[str, Any]:
        """Salesforce records the integration user created in the last day that have no link
        are creates from a HubSpot record whose link was never stored (a crash, a lost
        answer). Without an external id naming it, the unlinked HubSpot record without a sync
        key (``key``) it was created from is the one: where the pair notes its intents, the
        noted record it was created for, by name or, created without one, by every value sent
        (a batch read, and no call without one); else the record of that name, by a search.
        Records anyone else made are never matched by name. Fills ``wanted`` (Salesforce id ->
        HubSpot id) and returns the HubSpot records found."""
        names = sorted({r.get("Name") for r in records if r.get("Name")})
        if self.notes_create_intents:
            pending = {
                h: i
                for h, i in (self.intents.seen or {}).items()
                if isinstance(i, dict) or i in names
            }
            if not records or not pending:
                return {}
            results = list(self.hubspot_read(sorted(pending)).values())
        elif names and name_property:
            in_names = {"propertyName": name_property, "operator": "IN", "values": names[:100]}
            page = with_retries(
                lambda: self.ctx.hubspot.search(
                    object_type=self.hubspot_object_type,
                    filter_groups=[{"filters": [in_names]}],
                    properties=self.hubspot_properties,
                    limit=200,
                )
            )
            results = page.results or []
            pending = {str(o.id): (o.properties or {}).get(name_property) or "" for o in results}
        else:
            return {}
        linked = set(self.links_by("hubspot_id", [str(o.id) for o in results]))
        candidates = {
            str(obj.id): obj
            for obj in sorted(results, key=lambda o: int(o.id))
            if str(obj.id) not in linked and not (obj.properties or {}).get(key)
        }
        matched = self.lost_creates_matched({h: pending[h] for h in candidates}, records)
        for hubspot_id, record in matched.items():
            wanted[record["Id"]] = hubspot_id
        return {hubspot_id: candidates[hubspot_id] for hubspot_id in matched}

    def read_back_created(self, created: list[Pair], sobject: str) -> None:
        """Values Salesforce sets itself when it creates a record (mapped fields a create
        can't write, like ``CreatedDate``) go to HubSpot with this batch's writes instead of
        a cycle later: one read of the new records (1,500 per composite call). Pairs that
        map no such field cost nothing; a failed read leaves them to the next cycle."""
        computed = [
            (mapping, name)
            for mapping in self.ctx.mappings
            if (name := self.ctx.mapped_field(mapping, sobject))
            and mapping.hubspot_property != OWNER_PROPERTY
            and SyncRule(mapping.rule) != SyncRule.DONT_SYNC
            and name in self.ctx.salesforce_fields.get(sobject, {})
            and not self.ctx.writable(sobject, name, create=True)
        ]
        created = [p for p in created if p.salesforce is not None and p.hubspot is not None]
        if not computed or not created:
            return
        read = ["Id", *dict.fromkeys(name for _, name in computed)]
        if any(self.is_converted_amount(sobject, name) for _, name in computed):
            read.append(CURRENCY_FIELD)  # the currency Salesforce gave the new record
        try:
            records = salesforce_by_ids(
                self.ctx.salesforce, sobject, read, [p.salesforce_id for p in created]
            )
        except ConnectorError:  # the creates stand; their commit mustn't wait on this read
            return
        found = {r["Id"]: r for r in records}
        for pair in created:
            record = found.get(pair.salesforce_id)
            if record is None:
                continue
            pair.salesforce.update({name: record.get(name) for name in read[1:]})
            for mapping, name in computed:
                self.merge_mapped(pair, mapping, name, snapshot=None, sf_time=None, creating=False)

    def salesforce_lost_creates(
        self, pairs: list[Pair], *, sobject: str, fields: list[str], name_property: str | None
    ) -> None:
        """Before creating from HubSpot records, without an external id to upsert by: an
        unlinked Salesforce record the integration user created in the last day with the
        HubSpot record's name is one whose create landed but whose link was never stored. It
        is linked instead of created again. Where the pair notes its intents, only records
        with one are looked for (no call otherwise), among the integration user's creates
        since the first of them (``lost_creates_matched``: by the name they were created with,
        or every value sent)."""
        user = getattr(self.ctx.integration.salesforce_connection, "user_id", "")
        if self.notes_create_intents:
            pending = self.intents.seen or {}
            pairs = [p for p in pairs if p.hubspot_id in pending]
            created_as = {p.hubspot_id: pending[p.hubspot_id] for p in pairs}
        elif name_property:
            created_as = {p.hubspot_id: p.hs_props.get(name_property) or "" for p in pairs}
        else:
            return
        names = sorted({i for i in created_as.values() if isinstance(i, str) and i})
        noted = [i for i in created_as.values() if isinstance(i, dict)]
        if not user or not (names or noted):
            return
        day_ago = timezone.now() - timedelta(days=1)
        by_user = f"CreatedById = {soql_string(user)}"
        soqls = ids_queries(
            sobject,
            fields,
            names,
            key="Name",
            where=f"{by_user} AND CreatedDate >= {soql_datetime(day_ago)}",
            size=200,
        )
        if noted:
            # Salesforce's clock may run behind ours: a few minutes before the first intent.
            first = min(parse_time(i.get("at")) or day_ago for i in noted)
            since = max(day_ago, first - LOST_CREATE_CLOCKS)
            sent = {name for i in noted for name in i.get("values") or {}}
            named = ["Name"] if "Name" in self.ctx.salesforce_fields.get(sobject, {}) else []
            read = dict.fromkeys([*fields, *named, "CreatedDate", *sorted(sent)])
            soqls.append(
                f"SELECT {', '.join(read)} "  # noqa: S608
                f"FROM {sobject} WHERE {by_user} AND CreatedDate >= {soql_datetime(since)} "
                "ORDER BY CreatedDate, Id"
            )
        found: dict[str, dict] = {}
        for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False):
            for records in salesforce_pages(self.ctx.salesforce, page):
                found.update((r["Id"], r) for r in records)
        linked = set(
            RecordLink.objects.filter(
                integration=self.ctx.integration, salesforce_id__in=list(found)
            ).values_list("salesforce_id", flat=True)
        )
        unlinked = [r for r in found.values() if r["Id"] not in linked]
        matched = self.lost_creates_matched(
            {p.hubspot_id: created_as.get(p.hubspot_id) or "" for p in pairs}, unlinked
        )
        for pair in pairs:
            if pair.hubspot_id in matched:
                pair.salesforce = matched[pair.hubspot_id]
                self.counts["matched"] += 1

    # --- reading changes (shared by every pair) -------------------------------------------
    def salesforce_stream_pages(
        self, streams: list[SoqlStream], *, include_deleted: bool
    ) -> Iterator[tuple[SoqlStream, list[dict]]]:
        """Every page of the streams' changes, stream by stream. A stream is marked read (as
        of the server time its read began) only after the caller has handled its last page,
        so a crash never marks unhandled changes read."""
        first_pages, read_started = stream_first_pages(
            self.ctx, streams, include_deleted=include_deleted
        )
        for stream, first_page in zip(streams, first_pages, strict=True):
            for records in salesforce_pages(self.ctx.salesforce, first_page):
                yield stream, records
            stream.cursor.mark_checked(read_started)

    def created_by_us(self, record: dict) -> bool:
        """Created by the integration user in the last day: a create of ours whose link may
        never have been stored (the answer or the commit was lost)."""
        user = getattr(self.ctx.integration.salesforce_connection, "user_id", "")
        created = parse_time(record.get("CreatedDate"))
        return bool(
            user
            and record.get("CreatedById") == user
            and created is not None
            and created >= timezone.now() - timedelta(days=1)
        )

    def fresh_versions(
        self, items: list, cursor: Cursor | None, *, force: bool, version
    ) -> tuple[list, list[Version]]:
        """``(items not handled yet, every item's Version)``; ``version(item)`` builds one.
        Items read again in the overlap, already handled, count as unchanged: the run's
        details say what became of every record read."""
        handled: list[Version] = []
        fresh = []
        for item in items:
            v = version(item)
            handled.append(v)
            if force or cursor is None or not cursor.seen(v):
                fresh.append(item)
        self.counts["unchanged"] += len(items) - len(fresh)
        return fresh, handled

    def read_hubspot_changes(
        self, cursor: Cursor, properties: list[str], handle, *, batch: int = 1000
    ) -> datetime | None:
        """HubSpot records of this pair modified since the cursor, handed to ``handle(objects,
        cursor)`` in batches; the cursor notes when this complete read began (returned)."""
        read_started = None
        chunk: list[Any] = []
        for page in hubspot_changes(
            self.ctx.hubspot,
            object_type=self.object_name,
            modified_property=self.modified_property,
            since=cursor.since,
            properties=properties,
            limit=10**9,
        ):
            read_started = read_started or http_date(self.ctx.hubspot.server_date)
            self.counts["read_hubspot"] += len(page)
            chunk.extend(page)
            if len(chunk) >= batch:
                handle(chunk, cursor)
                chunk = []
        if chunk:
            handle(chunk, cursor)
        read_started = read_started or http_date(self.ctx.hubspot.server_date)
        cursor.mark_checked(read_started)
        return read_started

    def apply_salesforce_deletes(self, records: list[dict]) -> None:
        """Deleted or merged away in Salesforce: a merge's survivor inherits the loser's HubSpot
        record unless it has one; otherwise the link goes, and with ``salesforce_delete ==
        "delete"`` the HubSpot record is archived (HubSpot deletes never delete in Salesforce).
        A HubSpot record kept after such a merge gets a *Merged in Salesforce* error
        (``salesforce_merges_kept``). The archive and the errors go before the links: when
        either fails, the next cycle reads the deletes again and still knows which HubSpot
        records they concern. The Salesforce record's own errors end here (``gone_because``)."""
        links = {
            link.salesforce_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object=self.object_name,
                salesforce_id__in=[r["Id"] for r in records],
            )
        }
        masters = {r["MasterRecordId"] for r in records if r.get("MasterRecordId")}
        # A survivor's HubSpot record, by the survivor's id (one query for the batch).
        holders = dict(
            RecordLink.objects.filter(
                integration=self.ctx.integration,
                object=self.object_name,
                salesforce_id__in=masters,
            ).values_list("salesforce_id", "hubspot_id")
            if masters
            else ()
        )
        archive: list[str] = []
        gone: list[RecordLink] = []
        repointed: list[tuple[RecordLink, str]] = []  # (loser's link, the survivor)
        # (link, loser, master, the master's HubSpot record) of merges into a synced record
        merged: list[tuple[RecordLink, dict, str, str]] = []
        for record in records:
            link = links.get(record["Id"])
            if link is None:
                continue
            master = record.get("MasterRecordId")
            holder = holders.get(master) if master else None
            if master and holder is None:
                repointed.append((link, master))
                holders[master] = link.hubspot_id  # a second loser finds it taken
                continue
            if master:
                merged.append((link, record, master, holder))
            if self.settings.salesforce_delete == "delete":
                archive.append(link.hubspot_id)
            gone.append(link)
        self.before_repointing(repointed)
        for link, master in repointed:
            link.salesforce_id = master
        rows_update(RecordLink, [link for link, _ in repointed], ["salesforce_id"])
        self.counts["links_repointed"] += len(repointed)
        archived = self.archivable(archive)
        self.hubspot_archive(archived)
        kept = {link.hubspot_id for link, *_ in merged} - set(archived)
        self.salesforce_merges_kept([m for m in merged if m[0].hubspot_id in kept])
        losers, archived_ids = {link.pk for link, *_ in merged}, set(archived)
        self.deleted_links_kept(
            [link for link in gone if link.pk not in losers and link.hubspot_id not in archived_ids]
        )
        RecordLink.objects.filter(pk__in=[link.pk for link in gone]).delete()
        self.counts["links_removed"] += len(gone)
        # The gone record's own errors (a lead HubSpot refused, an edit HubSpot couldn't
        # take), linked or not, have nothing left to fix: they end now, saying why as their
        # retry would have. So do its HubSpot record's errors in writing to it (Salesforce
        # refused an edit as deleted, the rep deleting it between the cycle's read and its
        # write): their retry would make the deleted record again from an edit older than
        # the delete. The *Merged in Salesforce* errors above stay.
        ended: dict[str, list[str]] = defaultdict(list)
        hubspot_ids = {link.salesforce_id: link.hubspot_id for link in gone}
        for record in records:
            reason = gone_because(record)
            if reason is not None:
                ended[reason].append(f"salesforce:{record['Id']}")
                if record["Id"] in hubspot_ids:
                    ended[reason].append(f"hubspot:{hubspot_ids[record['Id']]}")
        for reason, keys in ended.items():
            services.sync_errors_resolve(
                integration=self.ctx.integration,
                object_name=self.object_name,
                record_keys=keys,
                except_types=(MERGED_IN_SALESFORCE,),
                ended_because=reason,
            )

    def before_repointing(self, moves: list[tuple[RecordLink, str]]) -> None:
        """Called with the (link, survivor) of merges whose survivor takes the loser's HubSpot
        record, before the links move: what must hold first (a pair's HubSpot key, say). If
        it raises, no link has moved, and the next cycle reads the merge again."""

    def salesforce_merges_kept(self, merged: list[tuple[RecordLink, dict, str, str]]) -> None:
        """HubSpot records whose Salesforce record was merged into one that syncs with another
        HubSpot record, and which stay (the delete setting keeps them): each gets a *Merged in
        Salesforce* error naming the survivor and its HubSpot record (spec §4 item 8), which
        replaces its other errors. While it is open, the record creates no Salesforce record
        (``not_held_after_salesforce_merge``).
        No retry can change that, so the error is never due by itself: it ends when the record
        is merged or deleted in HubSpot (``salesforce_merges_settled``), when it syncs with a
        Salesforce record again, or on an admin's Resync (``due_for_retry``)."""
        if not merged:
            return
        keys = [f"hubspot:{link.hubspot_id}" for link, *_ in merged]
        # Their other errors were about syncing with the loser: moot now (and, held, their
        # retries would come round every cycle for nothing).
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=self.object_name,
            record_keys=keys,
            except_types=(MERGED_IN_SALESFORCE,),
            ended_because=SyncError.EndedBecause.MERGED_IN_SALESFORCE,
        )
        noun = HUBSPOT_NOUNS.get(self.object_name, "record")
        # One transaction: recorded with a retry time, a hold left by a crash would read
        # as an admin's Resync next cycle, and make the merged-away duplicate again.
        with transaction.atomic():
            for link, loser, master, holder in merged:
                sobject = (loser.get("attributes") or {}).get("type") or link.salesforce_type
                kind = sobject.lower()
                self.record_error(
                    Pair(sobject, loser, SimpleNamespace(id=link.hubspot_id, properties={})),
                    "to_salesforce",
                    MERGED_IN_SALESFORCE,
                    "MERGED_IN_SALESFORCE",
                    f"Salesforce {kind} {loser['Id']} was merged into {kind} {master}, which syncs "
                    f"with HubSpot {noun} {holder}: this {noun} syncs with nothing now, and no new "
                    f"Salesforce record is made for it. Merge it into HubSpot {noun} {holder}, or "
                    "delete it.",
                    [],
                )
            self.merged_in_salesforce_errors(keys).update(next_retry_at=None)

    # --- writes that land before the commit (associations, lookups) -----------------------
    # A cycle that dies after such a write and before its commit must not read its own write
    # back as a user's move (which would undo a move made meanwhile on the other side). So
    # the value is noted on the link under a key of its own before the write is sent
    # (``note_sent``), remembered as in step as soon as it lands (``sent_landed``), and a
    # note still there next time is read back as the baseline (``sent_baseline``).
    @staticmethod
    def note_sent(notes: Iterable[tuple[RecordLink, Any]], key: str) -> None:
        """Note on each link, under ``key``, the value about to be written; None forgets the
        note (the write was refused). One write for the batch, before the CRM's."""
        changed = []
        for link, value in notes:
            if link.snapshot.get(key) == value:
                continue
            link.snapshot = {k: v for k, v in link.snapshot.items() if k != key}
            if value is not None:
                link.snapshot[key] = value
            changed.append(link)
        rows_update(RecordLink, changed, ["snapshot"])

    @staticmethod
    def sent_landed(landed: Iterable[tuple[RecordLink, dict]], *gone: str) -> None:
        """Writes landed: store on each link the values they put in step, without the keys
        ``gone`` (their notes). One write for the batch."""
        changed = []
        for link, in_step in landed:
            kept = {k: v for k, v in link.snapshot.items() if k not in gone}
            link.snapshot = {**kept, **in_step}
            changed.append(link)
        rows_update(RecordLink, changed, ["snapshot"])

    @staticmethod
    def sent_baseline(snapshot: dict, key: str, landed: Callable[[Any], dict | None]) -> dict:
        """The snapshot to decide against, its note under ``key`` (left by a cycle that died
        before remembering the write) read back: without the note, plus what the write put in
        step when ``landed(note)`` finds it landed (None: it didn't). Pure."""
        sent = snapshot.get(key)
        if sent is None:
            return snapshot
        kept = {k: v for k, v in snapshot.items() if k != key}
        return {**kept, **(landed(sent) or {})}

    # --- association sweep: HubSpot association edits don't touch a record ----------------
    def sweep_slice_start(self, size: int) -> list[RecordLink]:
        """This cycle's slice of the pair's links for its association sweep: the ``size``
        after where the last compared slice ended (cursor row ``<pair>:association-sweep``),
        from the first again once past the last. Picked at the start of the cycle, so the
        slice's association read serves the batches of changes among it too. The row moves
        on only once the slice is compared (``sweep_slice_done``): a cycle that dies first
        compares the same slice again."""
        row, _ = SyncCursor.objects.get_or_create(
            integration=self.ctx.integration, stream=f"{self.object_name}:association-sweep"
        )
        after = int((row.seen or {}).get("after") or 0)
        links = list(
            RecordLink.objects.filter(
                integration=self.ctx.integration, object=self.object_name, pk__gt=after
            ).order_by("pk")[:size]
        )
        row.seen = {"after": links[-1].pk if len(links) == size else 0}
        self._sweep_cursor = row
        self._sweep = [link.pk for link in links]
        return links

    def sweep_slice_links(self, in_step: set[str]) -> list[RecordLink]:
        """The slice's links as stored now (this cycle's batches moved snapshots on), less
        those whose HubSpot record is ``in_step`` (put in step this cycle: the slice's read
        is older than their writes, and would read as a HubSpot user undoing them)."""
        if not self._sweep:
            return []
        return [
            link
            for link in RecordLink.objects.filter(pk__in=self._sweep).order_by("pk")
            if link.hubspot_id not in in_step
        ]

    def sweep_slice_done(self) -> None:
        """The slice is compared: the next cycle's starts after it."""
        if self._sweep_cursor is not None:
            self._sweep_cursor.save(update_fields=["seen", "updated_at"])

    # --- associations skipped while the partner's pair is off ------------------------------
    def flag_paused(self, stream: str) -> None:
        """Note (once a cycle, in flag row ``stream``) that records synced without an
        association whose pair is off: once it is on, a cycle scans the links for them
        (``links_marked``), and only while the flag is there."""
        if stream not in self._paused_flagged:
            self._paused_flagged.add(stream)
            SyncCursor.objects.update_or_create(
                integration=self.ctx.integration,
                stream=stream,
                defaults={"position": timezone.now()},
            )

    def links_marked(self, marker: str):
        """This pair's links whose snapshot holds ``marker`` (not blank)."""
        return (
            RecordLink.objects.filter(integration=self.ctx.integration, object=self.object_name)
            .annotate(mark=Length(KeyTextTransform(marker, "snapshot")))
            .filter(mark__gt=0)
        )

    def unflag_paused(self, streams: list[str]) -> None:
        """The records these flags stood for are all handed on: no scan needed any more."""
        if streams:
            SyncCursor.objects.filter(integration=self.ctx.integration, stream__in=streams).delete()

    def company_held_after_merge(self, company: str) -> bool:
        """Whether HubSpot company ``company`` has an open *Merged in Salesforce* error, so it
        makes no account by itself (the companies pair's errors, read once a cycle)."""
        if self._held_companies is None:
            held = self.merged_in_salesforce_errors(object_name="companies")
            self._held_companies = set(held.values_list("hubspot_id", flat=True))
        return company in self._held_companies

    def merged_in_salesforce_errors(
        self, record_keys: list[str] | None = None, *, object_name: str | None = None
    ):
        """This pair's (or ``object_name``'s) open *Merged in Salesforce* errors (of these
        records)."""
        errors = SyncError.objects.filter(
            integration=self.ctx.integration,
            object=object_name or self.object_name,
            error_type=MERGED_IN_SALESFORCE,
            resolved_at__isnull=True,
        )
        return errors if record_keys is None else errors.filter(record_key__in=record_keys)

    def not_held_after_salesforce_merge(self, objects: list[Any]) -> list[Any]:
        """These unlinked HubSpot records but those with an open *Merged in Salesforce* error:
        they create no Salesforce record (the rep just merged that duplicate away), counted
        as skipped. One query."""
        if not objects:
            return []
        keys = [f"hubspot:{o.id}" for o in objects]
        held = set(self.merged_in_salesforce_errors(keys).values_list("hubspot_id", flat=True))
        for obj in objects:
            if str(obj.id) in held:
                self.skipped("merged_in_salesforce", f"hubspot:{obj.id}")
        return [o for o in objects if str(o.id) not in held]

    def salesforce_merges_settled(self) -> None:
        """End the *Merged in Salesforce* errors whose HubSpot record is gone: merged (into
        the survivor's record, say) or deleted in HubSpot. The pair's own check, as no retry
        reads those records: one query without such errors, one HubSpot read per 100 with."""
        open_errors = set(self.merged_in_salesforce_errors().values_list("hubspot_id", flat=True))
        if not open_errors:
            return
        gone = self.deleted_in_hubspot(self.hubspot_object_type, open_errors)
        services.sync_errors_resolve_type(
            integration=self.ctx.integration,
            object_name=self.object_name,
            error_type=MERGED_IN_SALESFORCE,
            record_keys=[f"hubspot:{i}" for i in sorted(gone)],
            ended_because=SyncError.EndedBecause.GONE_FROM_HUBSPOT,
        )

    def deleted_in_hubspot(
        self, object_type: str, ids: set[str], *, merged_too: bool = True
    ) -> set[str]:
        """Which of these HubSpot records are gone (one batch read per 100, none without
        ids): deleted, or merged into another record. A record that left an association may
        have been deleted, not taken off: HubSpot deletes never change Salesforce. The links
        of deleted ones are retired, as their own pair retires them when it finds one gone;
        a merged one's link is left for its pair to move to the record it was merged into
        (reading a merged-away id answers with that record, under its own id). Merged ones
        are among those returned unless ``merged_too`` is False."""
        gone: set[str] = set()
        merged: set[str] = set()
        ordered = sorted(ids)
        for start in range(0, len(ordered), HUBSPOT_BATCH):
            chunk = ordered[start : start + HUBSPOT_BATCH]
            try:
                found = hubspot_batch_read(
                    self.ctx.hubspot,
                    object_type=object_type,
                    ids=chunk,
                    properties=[MERGED_IDS],
                )
            except NotFound:
                gone |= set(chunk)
                continue
            answered = {str(o.id) for o in found.results}
            merged |= {
                old
                for o in found.results
                for old in ((o.properties or {}).get(MERGED_IDS) or "").split(";")
                if old in chunk and old not in answered
            }
            gone |= set(chunk) - answered - merged
        if gone:
            RecordLink.objects.filter(
                integration=self.ctx.integration, object=object_type, hubspot_id__in=gone
            ).delete()
        return gone | merged if merged_too else gone

    def archivable(self, hubspot_ids: list[str]) -> list[str]:
        """Which of the HubSpot records whose Salesforce record was deleted go too (all; a
        pair whose records can opt out of the sync keeps those)."""
        return hubspot_ids

    def hubspot_archive(self, ids: list[str]) -> None:
        """Delete HubSpot records of this pair, 100 per call, each call retried alone."""
        if not ids:
            return
        each_chunk_retried(
            lambda chunk: self.ctx.hubspot.batch_archive(
                object_type=self.hubspot_object_type, ids=chunk
            ),
            ids,
            HUBSPOT_BATCH,
        )
        self.counts["deleted_in_hubspot"] += len(ids)

    # --- writing updates (shared by every pair) -------------------------------------------
    def salesforce_updates(self, pairs: list[Pair], sobject: str) -> None:
        """Update the linked Salesforce records that have changes (collections of 200, each
        failing alone into a typed error). Edits of fields the integration user may not edit
        are left out: the commit makes them an error (``fields_not_writable``)."""
        # Grouped by type: Salesforce takes at most ten runs of one type per request.
        updates = sorted(
            (p for p in pairs if p.salesforce is not None and p.to_salesforce),
            key=lambda p: p.sobject,
        )
        # What Salesforce refused of each record, round after round: recorded once its
        # rounds end, so each error names every field refused (``failures_record``).
        failures: dict[int, tuple[Pair, list[Failure]]] = {}
        while updates:
            records = [
                {"attributes": {"type": p.sobject}, "Id": p.salesforce_id, **p.to_salesforce}
                for p in updates
            ]
            results = [
                result
                for chunk_results in retried_chunks(
                    lambda c: self.ctx.salesforce.collections_update(sobject=sobject, records=c),
                    records,
                    SALESFORCE_COLLECTION,
                )
                for result in chunk_results
            ]
            again = []
            for pair, result in zip(updates, results, strict=True):
                if result.get("success"):
                    self.counts["updated_in_salesforce"] += 1
                    self.written.add(f"salesforce:{pair.salesforce_id}")
                    continue
                refused = self.values_refused(pair, result)
                failed = failures.setdefault(id(pair), (pair, []))[1]
                failed += self.salesforce_failures(pair, result)
                if refused:
                    self.values_held_back(pair, refused)
                    again.append(pair)
                else:
                    pair.salesforce_failed = True
            updates = again  # the rest of those records, once more (each round drops a field)
        purged = self.purged_of(
            [p for p, failed in failures.values() if all(f.record_gone for f in failed)]
        )
        for pair, failed in failures.values():
            if pair.salesforce_id not in purged:
                self.failures_record(pair, failed)
        self.salesforce_purged(sorted(purged))
        for pair, _ in failures.values():
            if pair.salesforce_id in purged:
                pair.salesforce = pair.hubspot = pair.link = None  # settled, as for a delete

    def purged_of(self, pairs: list[Pair]) -> set[str]:
        """Of the pairs whose update Salesforce refused as for a record it doesn't have, the
        Salesforce ids gone even from the recycle bin (read again with queryAll, only then).
        One in the recycle bin keeps its error: the change stream reads its delete, which
        ends it."""
        by_type: dict[str, list[str]] = defaultdict(list)
        for pair in pairs:
            by_type[pair.sobject].append(pair.salesforce_id or "")
        purged: set[str] = set()
        for sobject, ids in by_type.items():
            found = salesforce_by_ids(
                self.ctx.salesforce, sobject, ["Id"], ids, include_deleted=True
            )
            purged.update(set(ids) - {r["Id"] for r in found})
        return purged

    def salesforce_purged(self, salesforce_ids: list[str]) -> None:
        """Linked records gone even from Salesforce's recycle bin (hard-deleted, or purged
        from it): their delete never reaches the change stream, so what finds them gone (a
        read by id, a refused update) handles it as the stream would have, by the delete
        setting: the link goes, the HubSpot record is archived with *Delete*, and their errors
        end (no retry can write to a record that is gone)."""
        if salesforce_ids:
            self.apply_salesforce_deletes([{"Id": i, "IsDeleted": True} for i in salesforce_ids])

    def values_refused(self, pair: Pair, result: dict) -> set[str]:
        """The fields of an update Salesforce refused for their values alone (a picklist
        value it lacks, text too long...) when the update has other fields to send without
        them, each one a mapping's: else nothing (the record fails whole, as before)."""
        errors = result.get("errors") or []
        if not errors or any(e.get("statusCode") not in VALUE_REFUSALS for e in errors):
            return set()
        sent = pair.to_salesforce
        named = {n for e in errors for n in e.get("fields") or ()}
        refused = {n if n in sent else f"{n}Code" for n in named}
        if not named or not refused <= set(sent) or refused == set(sent):
            return set()
        mapped = {self.ctx.mapped_field(m, pair.sobject) for m in self.ctx.mappings}
        mapped |= {f"{name}Code" for name in mapped if name}
        if not refused <= mapped:
            return set()
        if CURRENCY_FIELD in refused:  # an amount never goes without its currency
            refused |= set(self.mapped_amounts(pair.sobject)) & set(sent)
        return refused if refused != set(sent) else set()

    def values_held_back(self, pair: Pair, fields: set[str]) -> None:
        """Leave ``fields`` out of the pair's update: their values stay unsynced in the
        snapshot (so their retry sends them again) and their error stays open."""
        for name in fields:
            pair.to_salesforce.pop(name, None)
        for mapping in self.ctx.mappings:
            name = self.ctx.mapped_field(mapping, pair.sobject)
            if name and {name, f"{name}Code"} & fields:
                pair.snap_salesforce.pop(mapping.hubspot_property, None)

    def hubspot_updates(self, pairs: list[Pair]) -> None:
        """Update the linked HubSpot records that have changes (batches of 100)."""
        updates = [
            p for p in pairs if p.hubspot is not None and p.to_hubspot and p.salesforce is not None
        ]
        if not updates:
            return
        _, failed = self.hubspot_batch(
            "update",
            [{"id": p.hubspot_id, "properties": p.to_hubspot} for p in updates],
            key=lambda i: i["id"],
        )
        for pair in updates:
            if pair.hubspot_id in failed:
                pair.hubspot_failed = True
                self.record_hubspot_failure(pair, failed[pair.hubspot_id])
            else:
                self.counts["updated_in_hubspot"] += 1
                self.written.add(f"hubspot:{pair.hubspot_id}")

    def load_history(self, pairs: list[Pair]) -> None:
        """Per-property change times for two-way fields, read only for pairs in conflict."""
        if not self.two_way:
            return
        for pair in pairs:
            self.merge(pair)
        needing = [p for p in pairs if p.needs_history and p.hubspot is not None]
        if not needing:
            return
        result = hubspot_batch_read(
            self.ctx.hubspot,
            object_type=self.object_name,
            ids=[p.hubspot_id for p in needing],
            properties=["email"],
            properties_with_history=self.two_way,
        )
        times = {str(o.id): self.history_of(o) for o in result.results}
        for pair in needing:
            pair.hs_history = times.get(pair.hubspot_id, {})
            pair.merged = False  # decide again with the change times

    def history_of(self, obj: Any) -> dict[str, datetime]:
        """``history_times`` of a HubSpot record, leaving out the integration's own writes."""
        return history_times(obj, own_source=self.ctx.own_hubspot_source())

    def merge_owner(self, pair: Pair, field_name: str, snapshot: dict | None) -> None:
        """Owner is always two-way and must match exactly; an owner Salesforce can't resolve
        is reset to the last Salesforce value (spec §11)."""
        sf_owner = (pair.salesforce or {}).get(field_name) or ""
        hs_owner = pair.hs_props.get(OWNER_PROPERTY) or ""
        last_sf = snapshot.get("__salesforce_owner") if snapshot else None
        last = snapshot.get(OWNER_PROPERTY) if snapshot else None
        if pair.salesforce is not None and last_sf == sf_owner and (last or "") == hs_owner:
            pair.same[OWNER_PROPERTY] = hs_owner
            pair.same["__salesforce_owner"] = sf_owner
            return
        sf_as_hubspot = self.owners.hubspot_owner_for(sf_owner) if sf_owner else ""
        if pair.salesforce is None:  # creating in Salesforce: use a valid owner if there is one
            user = self.owners.salesforce_user_for(hs_owner)
            if user:
                pair.to_salesforce[field_name] = user
                pair.snap_salesforce[OWNER_PROPERTY] = hs_owner
                pair.snap_salesforce["__salesforce_owner"] = user
                return
            # Salesforce makes the integration user the owner. When that changes nothing in
            # HubSpot, note it now, so reading the new record back isn't taken for an edit.
            running_user = getattr(self.ctx.integration.salesforce_connection, "user_id", "")
            if not running_user:
                return
            fallback = self.owners.hubspot_owner_for(running_user) or ""
            if fallback == hs_owner:
                pair.snap_salesforce[OWNER_PROPERTY] = hs_owner
                pair.snap_salesforce["__salesforce_owner"] = running_user
            elif pair.sobject != "Lead":  # (a lead's assignment rules may pick anyone)
                # HubSpot's owner is reset to the integration user's (or cleared) by the
                # update that follows the create (``hubspot_updates`` sends it only once
                # the create landed), and noted only if that update lands too.
                pair.to_hubspot[OWNER_PROPERTY] = fallback
                pair.snap_hubspot[OWNER_PROPERTY] = fallback
                pair.snap_hubspot["__salesforce_owner"] = running_user
                pair.owner_reset = bool(hs_owner)
            return
        decision = self.owner_decision(pair, snapshot, sf_owner, sf_as_hubspot, hs_owner)
        if decision.to_salesforce is not None:  # cleared in HubSpot: Salesforce needs one
            user = self.owners.salesforce_user_for(decision.to_salesforce)
            if user:
                pair.to_salesforce[field_name] = user
                pair.snap_salesforce[OWNER_PROPERTY] = decision.to_salesforce
                pair.snap_salesforce["__salesforce_owner"] = user
                return
            decision = Decision(to_hubspot=sf_as_hubspot)
            pair.owner_reset = True
        if decision.to_hubspot is not None and decision.to_hubspot != hs_owner:
            pair.to_hubspot[OWNER_PROPERTY] = decision.to_hubspot
            pair.snap_hubspot[OWNER_PROPERTY] = decision.to_hubspot
            pair.snap_hubspot["__salesforce_owner"] = sf_owner
        else:
            pair.same[OWNER_PROPERTY] = hs_owner
            pair.same["__salesforce_owner"] = sf_owner

    def owner_decision(
        self, pair: Pair, snapshot: dict | None, sf_owner: str, sf_as_hubspot: str, hs_owner: str
    ) -> Decision:
        """Which way the owner goes for a pair with both records. Salesforce's owner is
        compared as the user id (one HubSpot has no owner for maps to "", which must not read
        as a cleared owner), HubSpot's as the owner id."""
        if snapshot is None:
            # First link to an existing Salesforce record: its owner wins (spec §11). One
            # HubSpot has no owner for leaves HubSpot's as it is, rather than overwriting
            # Salesforce's.
            return Decision(to_hubspot=sf_as_hubspot) if sf_as_hubspot else Decision()
        last_sf = snapshot.get("__salesforce_owner")
        last = snapshot.get(OWNER_PROPERTY) or ""
        # (A snapshot from before the user id was kept compares the mapped owner.)
        sf_changed = sf_as_hubspot != last if last_sf is None else last_sf != sf_owner
        hs_changed = hs_owner != last
        if sf_changed and hs_changed:
            if OWNER_PROPERTY not in pair.hs_history:
                pair.needs_history = True  # the later change wins: HubSpot's time is read
            return latest_wins(
                hs_owner,
                sf_as_hubspot,
                Side(hs_owner, pair.hs_history.get(OWNER_PROPERTY)),
                Side(sf_as_hubspot, parse_time(pair.salesforce.get("LastModifiedDate"))),
            )
        if sf_changed:
            # Any Salesforce owner syncs into HubSpot; one HubSpot doesn't know clears it.
            return Decision(to_hubspot=sf_as_hubspot)
        if hs_changed:
            return Decision(to_salesforce=hs_owner)
        return Decision()

    def hubspot_key_property(
        self,
        *,
        object_type: str,
        name: str,
        label: str,
        group: str,
        description: str = "",
        unique: bool = True,
        cache_as: str | None = None,
    ) -> None:
        """Create, once, the HubSpot property a pair keeps the Salesforce id in (unique, so
        creates can be upserts by it), and remember it in the pair's cached schema."""
        cache_as = cache_as or name
        if cache_as in self.ctx.hubspot_properties:
            return
        if not description:
            noun = HUBSPOT_NOUNS.get(self.object_name)  # (custom objects: none)
            creates = f"{noun} creates" if noun else "creates"
            description = (
                f"Written by the Salesforce integration; keeps {creates} idempotent. Don't edit."
            )
        definition = {
            "name": name,
            "label": label,
            "type": "string",
            "fieldType": "text",
            "groupName": group,
            "description": description,
        }
        if unique:
            definition["hasUniqueValue"] = True
        try:
            self.ctx.hubspot.property_create(object_type=object_type, definition=definition)
        except RemoteError as error:
            if error.status != 409:  # already there (another cycle created it)
                raise
        info = {"name": cache_as, "type": "string", "fieldType": "text", "readOnly": False}
        self.ctx.hubspot_properties[cache_as] = info
        SchemaCache.objects.filter(
            integration=self.ctx.integration, system=System.HUBSPOT, object=self.object_name
        ).update(data=list(self.ctx.hubspot_properties.values()))

    def merge_fields(
        self,
        pair: Pair,
        sobject: str,
        *,
        left_out: Callable[[str, str], bool] = lambda prop, name: False,
    ) -> dict | None:
        """Decide every mapped field of one pair afresh (idempotent: may run twice): the
        owner by §11, the others by their rule (``merge_mapped``), but for those
        ``left_out(prop, name)`` names (decided by the pair itself, or refused). For pairs
        with one Salesforce object (companies, deals). Returns the link's snapshot (None
        for a new pair)."""
        pair.clear_decisions()
        snapshot = pair.link.snapshot if pair.link and pair.link.pk else None
        creating = pair.salesforce is None
        sf_time = parse_time((pair.salesforce or {}).get("LastModifiedDate"))
        for mapping in self.ctx.mappings:
            name = self.ctx.mapped_field(mapping, sobject)
            if not name:
                continue
            if mapping.hubspot_property == OWNER_PROPERTY:
                self.merge_owner(pair, name, snapshot)
                continue
            if left_out(mapping.hubspot_property, name):
                continue
            self.merge_mapped(
                pair, mapping, name, snapshot=snapshot, sf_time=sf_time, creating=creating
            )
        return snapshot

    def mapped_salesforce_unchanged(self, sobject: str, record: dict, snapshot: dict) -> bool:
        """Whether every mapped Salesforce value equals the link's snapshot (our own write
        coming back, or an edit of an unmapped field). For pairs with one Salesforce object
        that define ``hubspot_comparable`` (companies, deals)."""
        for mapping in self.ctx.mappings:
            name = self.ctx.mapped_field(mapping, sobject)
            if not name or not self.ctx.hubspot_writable(mapping.hubspot_property):
                continue  # (HubSpot computes it: Salesforce's value goes nowhere)
            if mapping.hubspot_property == OWNER_PROPERTY:
                if snapshot.get("__salesforce_owner") != (record.get(name) or ""):
                    return False
                continue
            prop = mapping.hubspot_property
            try:
                kind = self.value_type(sobject, name, prop)
                if self.is_converted_amount(sobject, name):
                    value = self.amount_compared(sobject, name, record, snapshot.get(prop))
                else:
                    value = self.salesforce_value_compared(mapping, record, name, kind)
            except ValueConversionError:
                return False
            if not self.same_value(kind, snapshot.get(prop), value):
                return False
        return True

    def mapped_hubspot_unchanged(self, sobject: str, props: dict, snapshot: dict) -> bool:
        """Whether every mapped HubSpot value equals the link's snapshot (as
        ``mapped_salesforce_unchanged``, the other way)."""
        for mapping in self.ctx.mappings:
            name = self.ctx.mapped_field(mapping, sobject)
            if not name:
                continue
            if self.hubspot_goes_nowhere(mapping, snapshot):
                continue
            prop = mapping.hubspot_property
            # (The field's own type tells a multi-select: ``value_type`` may read the account's
            # time zone, which a look at unchanged records needn't.)
            kind = self.ctx.field_type(sobject, name)
            try:
                value = self.hubspot_comparable(mapping, props)
            except ValueConversionError:
                return False
            if not self.same_value(kind, snapshot.get(prop), value):
                return False
        return True

    def hubspot_comparable(self, mapping, props: dict) -> str:
        """HubSpot's value of a mapped property as it compares with Salesforce's (pairs on one
        Salesforce object define it, through ``hubspot_mapped_comparable``)."""
        raise NotImplementedError

    def hubspot_mapped_comparable(self, mapping, props: dict, sobject: str) -> str:
        """``hubspot_comparable`` as most properties are: the owner as it is, state and
        country converted (spec §12), the others as ``hubspot_compared``."""
        prop = mapping.hubspot_property
        if prop == OWNER_PROPERTY:
            return props.get(OWNER_PROPERTY) or ""
        if self.geo_mapped(mapping):  # the org's state and country picklists
            return self.geo_hubspot_comparable(sobject, prop, props)
        return self.hubspot_compared(sobject, prop, self.ctx.mapped_field(mapping, sobject), props)

    def hubspot_compared(self, sobject: str, prop: str, name: str, props: dict) -> str:
        """HubSpot's value of ``prop`` as it compares with Salesforce's ``name``: normalised,
        and a dropdown option named otherwise than labelled as the picklist value it stands
        for (``hubspot_option_comparable``)."""
        value = normalize(props.get(prop), self.value_type(sobject, name, prop))
        return self.hubspot_option_comparable(prop, value, sobject, name)

    def merge_mapped(
        self,
        pair: Pair,
        mapping,
        name: str,
        *,
        snapshot: dict | None,
        sf_time: datetime | None,
        creating: bool,
    ) -> None:
        """Decide one mapped field (not the owner) by its rule against the link's snapshot:
        what goes to which side, and what both already hold. For pairs with one Salesforce
        object that define ``hubspot_comparable`` (companies, deals)."""
        prop, sobject = mapping.hubspot_property, pair.sobject
        sf_type, kind = self.ctx.field_type(sobject, name), self.value_type(sobject, name, prop)
        converted = self.geo_mapped(mapping)
        amount = self.is_converted_amount(sobject, name)  # in another currency than HubSpot's
        record = pair.salesforce or {}
        last = self.in_one_order(kind, snapshot.get(prop)) if snapshot is not None else None
        try:
            # (State and country compare converted: both comparables convert them.)
            hs_value = self.in_one_order(kind, self.hubspot_comparable(mapping, pair.hs_props))
            if creating:
                sf_value = ""
            elif amount:
                sf_value = self.amount_compared(sobject, name, record, last)
            else:
                sf_value = self.in_one_order(
                    kind, self.salesforce_value_compared(mapping, record, name, kind)
                )
        except AmountNotConvertible as error:
            self.amount_not_convertible(pair, prop, name, error, "to_hubspot")
            return
        except ValueConversionError as error:
            self.invalid_value(pair, "to_salesforce", prop, error, [name])
            return
        rule = SyncRule(mapping.rule)
        if creating and rule == SyncRule.ALWAYS_USE_SALESFORCE:
            return
        decision = merge_field(
            rule,
            hubspot=Side(hs_value, pair.hs_history.get(prop)),
            salesforce=Side(sf_value, sf_time),
            last_synced=last,
        )
        if (
            rule == SyncRule.TWO_WAY
            and prop not in pair.hs_history
            and two_way_conflict(hs_value, sf_value, last)
        ):
            pair.needs_history = True
        if decision.to_salesforce is not None:
            if not self.ctx.writable(sobject, name, create=creating):
                if not creating:  # (a create's read-back merges it again: caught there)
                    pair.not_writable.append(name)
            else:
                if converted:
                    value = self.geo_for_salesforce(
                        sobject, prop, decision.to_salesforce, pair.hs_props.get("country")
                    )
                    pair.to_salesforce[self.geo_target(sobject, name)] = value or None
                elif amount:
                    try:
                        self.amount_to_salesforce(pair, sobject, name, decision.to_salesforce)
                    except AmountNotConvertible as error:
                        self.amount_not_convertible(pair, prop, name, error, "to_salesforce")
                        return
                else:
                    value = self.salesforce_value_written(
                        mapping, decision.to_salesforce, sf_type, kind
                    )
                    pair.to_salesforce[name] = value
                pair.snap_salesforce[prop] = decision.to_salesforce
        elif decision.to_hubspot is not None:
            if self.ctx.hubspot_writable(prop):
                # A converted value goes as Salesforce names it, not as the code it compares as.
                value = (record.get(name) or "") if converted else decision.to_hubspot
                pair.to_hubspot[prop] = value
                pair.snap_hubspot[prop] = decision.to_hubspot
            else:
                # HubSpot computes it: nothing to write; the snapshot follows HubSpot (the
                # pairs' ``salesforce_unchanged`` leaves such a property out).
                pair.same[prop] = hs_value
        elif hs_value == sf_value:
            pair.same[prop] = hs_value
        elif rule == SyncRule.ALWAYS_USE_SALESFORCE and not sf_value:
            # Salesforce's blank leaves HubSpot's value be (rules.py) and is what is in step;
            # unrecorded, the field would read as a first sync, and a change, for ever.
            pair.same[prop] = sf_value

    @staticmethod
    def hubspot_goes_nowhere(mapping, snapshot: dict) -> bool:
        """*Always use Salesforce* with Salesforce blank: HubSpot's value stays and goes
        nowhere, so its edits are no change (the owner is two-way whatever its rule)."""
        return (
            mapping.rule == SyncRule.ALWAYS_USE_SALESFORCE
            and mapping.hubspot_property != OWNER_PROPERTY
            and snapshot.get(mapping.hubspot_property) == ""
        )

    def salesforce_value_compared(self, mapping, record: dict, name: str, kind: str) -> str:
        """A mapped Salesforce field's value (``name``, of type ``kind``) in the form it is
        compared, and written to HubSpot, in."""
        if self.geo_mapped(mapping):  # pairs on one Salesforce object (contacts merge their own)
            sobject = GEO_OBJECTS[self.object_name][0]
            return self.geo_salesforce_comparable(sobject, mapping.hubspot_property, record)
        return normalize(record.get(name), kind)

    def salesforce_value_written(self, mapping, value: str, sf_type: str, kind: str) -> object:
        """What a HubSpot value decided for Salesforce (a field of ``sf_type``, compared as
        ``kind``) is written as."""
        return to_salesforce(value, sf_type, kind)

    def value_type(self, sobject: str, name: str, prop: str) -> str:
        """The type Salesforce's ``name`` and HubSpot's ``prop`` compare as (``compared_type``)."""
        hs_type = (self.ctx.hubspot_properties.get(prop) or {}).get("type")
        sf_type = self.ctx.field_type(sobject, name)
        if sf_type == "date" and hs_type == "datetime":  # a day in the account's time zone
            return compared_type(sf_type, hs_type, self.account_zone)
        return compared_type(sf_type, hs_type)

    @property
    def account_zone(self) -> str:
        """The HubSpot account's time zone (an IANA name; "" when unknown: UTC), kept with the
        schemas when connecting and read again daily: asked only when a record's day meets a
        HubSpot date/time, so an idle cycle costs nothing."""
        if self._account_zone is None:
            account = services.hubspot_account_details(integration=self.ctx.integration)
            self._account_zone = str(account.get("timeZone") or "")
        return self._account_zone

    def hubspot_days_placed(self, inputs: list[dict]) -> list[dict]:
        """Batch write inputs with each day for a HubSpot date/time property at its midnight in
        the account's time zone: HubSpot would take the bare day as midnight UTC, which it
        shows as the day before west of UTC (a Salesforce date mapped to a date/time)."""
        types = self.ctx.hubspot_properties
        out = []
        for item in inputs:
            values = item.get("properties") or {}
            days = [
                k
                for k, v in values.items()
                if is_day(v) and (types.get(k) or {}).get("type") == "datetime"
            ]
            if days:
                placed = {k: hubspot_datetime(values[k], self.account_zone) for k in days}
                item = {**item, "properties": {**values, **placed}}
            out.append(item)
        return out

    # --- State and Country/Territory picklists (spec §12) ---------------------------------
    @property
    def contact_settings(self) -> Any:
        """The contact pair's settings, read once: the portal's state and country settings
        and the inclusion list are kept there, and apply to other pairs too."""
        if self._contact_settings is None:
            self._contact_settings = (
                self.settings
                if self.object_name == "contacts"
                else object_settings_get(integration=self.ctx.integration, object_name="contacts")
            )
        return self._contact_settings

    def geo_active(self) -> bool:
        """Whether HubSpot's free-text country and state are converted to the org's values."""
        if self.object_name not in GEO_OBJECTS:
            return False
        settings = self.contact_settings
        return (
            settings.salesforce_state_country != "disabled"
            and settings.hubspot_state_country == "convert"
        )

    def geo_mapped(self, mapping) -> bool:
        return mapping.hubspot_property in GEO_PROPERTIES and self.geo_active()

    def geo_field(self, sobject: str, prop: str) -> str | None:
        """The Salesforce field HubSpot's ``country`` or ``state`` maps to on ``sobject``
        (``Country``, ``MailingState``, ``BillingCountry``, …)."""
        key = (sobject, prop)
        if key not in self._geo_fields:
            self._geo_fields[key] = next(
                (
                    self.ctx.mapped_field(m, sobject)
                    for m in self.ctx.mappings
                    if m.hubspot_property == prop
                ),
                None,
            )
        return self._geo_fields[key]

    def geo_picklists(self, sobject: str) -> geo.Picklists:
        """The org's countries and states as the stored describe of ``sobject``'s address code
        fields has them (no call: the describe is read when the schema is)."""
        picklists = self._picklists.get(sobject)
        if picklists is None:
            known = self.ctx.salesforce_fields.get(sobject, {})
            country, state = (self.geo_field(sobject, prop) for prop in GEO_PROPERTIES)
            picklists = self._picklists[sobject] = geo.Picklists.from_describe(
                known.get(f"{country}Code") if country else None,
                known.get(f"{state}Code") if state else None,
            )
        return picklists

    def geo_comparable(
        self, sobject: str, prop: str, raw: str | None, country: str | None, *, salesforce: bool
    ) -> str:
        """Countries compare as ISO codes, states as the org's state codes; a HubSpot state of
        a country without configured states compares as blank (it is dropped, not sent)."""
        picklists = self.geo_picklists(sobject)
        raw = (raw or "").strip()
        if prop == "country":
            return picklists.country_code(raw) or raw
        code = picklists.country_code(country)
        if not raw or code is None:
            return raw
        if not picklists.has_states(code):
            return raw if salesforce else ""
        found = picklists.state(code, raw)
        return found[0] if found else raw

    def geo_hubspot_comparable(self, sobject: str, prop: str, props: dict) -> str:
        return self.geo_comparable(
            sobject, prop, props.get(prop), props.get("country"), salesforce=False
        )

    def geo_salesforce_comparable(self, sobject: str, prop: str, record: dict) -> str:
        name, country = self.geo_field(sobject, prop), self.geo_field(sobject, "country")
        return self.geo_comparable(
            sobject,
            prop,
            record.get(name) if name else None,
            record.get(country) if country else None,
            salesforce=True,
        )

    def geo_for_salesforce(
        self, sobject: str, prop: str, comparable: str, country: str | None
    ) -> str:
        """What a value decided for Salesforce is written as: the org's name for it, or its
        code with customised picklists (see ``geo_target``). ``country`` is HubSpot's, which
        the state belongs to."""
        if not comparable:
            return ""
        picklists = self.geo_picklists(sobject)
        codes = self.contact_settings.salesforce_state_country == "customised"
        if prop == "country":
            if picklists.country_code(comparable) != comparable:
                return comparable  # not a country we know: Salesforce says what's wrong
            return picklists.country_value(comparable, country, codes=codes)
        code = picklists.country_code(country)
        found = picklists.state(code, comparable) if code else None
        if found:
            return found[0] if codes else found[1]
        return comparable

    def geo_target(self, sobject: str, name: str) -> str:
        """The field a converted value is written to: with customised picklists (names the
        org changed) its code field, whose values don't change."""
        code = f"{name}Code"
        customised = self.contact_settings.salesforce_state_country == "customised"
        return code if customised and code in self.ctx.salesforce_fields.get(sobject, {}) else name

    def hubspot_option_comparable(self, prop: str, value: str, sobject: str, name: str) -> str:
        """A HubSpot dropdown value as the Salesforce picklist value it stands for: an option
        HubSpot names otherwise than it labels it compares as the picklist value its label
        is, as ``align_options`` writes that value ("Banking" as the option labelled so,
        "BANKING"). So both read as in step, and HubSpot's option names never reach
        Salesforce. Other values stay as they are."""
        info = self.ctx.hubspot_properties.get(prop) or {}
        if info.get("type") != "enumeration" or not value or prop == OWNER_PROPERTY:
            return value
        picklist = self.ctx.salesforce_fields.get(sobject, {}).get(name, {}).get("picklistValues")
        if not picklist:
            return value
        labels = {o["value"]: o["label"] for o in info.get("options", [])}
        named = {v.casefold(): v for v in picklist}
        values = value.split(";") if info.get("fieldType") == "checkbox" else [value]
        return ";".join(
            v if v in picklist or v not in labels else named.get(labels[v].casefold(), v)
            for v in values
        )

    def align_options(self, pairs: list[Pair]) -> None:
        """Salesforce picklist values HubSpot's dropdowns don't offer yet are added as options
        (one call per property), so a picklist mapping doesn't fail on every record; when
        HubSpot refuses, the field is left out and the record gets a picklist error. A
        currency HubSpot's account lacks can't be added so (``currency_missing``)."""
        missing: dict[str, set[str]] = defaultdict(set)
        currencies: list[tuple[Pair, str]] = []
        for pair in pairs:
            for prop, value in list(pair.to_hubspot.items()):
                info = self.ctx.hubspot_properties.get(prop) or {}
                if info.get("type") != "enumeration" or not value or prop == OWNER_PROPERTY:
                    continue
                values = value.split(";") if info.get("fieldType") == "checkbox" else [value]
                options = option_lookup(info.get("options", []))
                mapped = [options.get(v) or options.get(v.casefold()) for v in values]
                if all(mapped):
                    pair.to_hubspot[prop] = ";".join(mapped)
                elif prop == HUBSPOT_CURRENCY:
                    currencies.append((pair, value))
                else:
                    missing[prop].update(v for v, m in zip(values, mapped, strict=True) if not m)
        if currencies:
            # Added in HubSpot's settings since the schema was read, perhaps: read once more.
            try:
                offered = option_lookup(self.ctx.hubspot_options_reread(HUBSPOT_CURRENCY))
            except RemoteError:
                offered = {}
            for pair, value in currencies:
                if code := offered.get(value) or offered.get(value.casefold()):
                    pair.to_hubspot[HUBSPOT_CURRENCY] = code
                else:
                    self.currency_missing(pair, value)
        for prop, values in missing.items():
            try:
                self.ctx.hubspot_add_options(prop, sorted(values))
            except RemoteError as error:
                # A blip (5xx, rate limit) is tried again next cycle, not shown as a picklist.
                transient = isinstance(error, TransientError | RateLimited)
                for pair in pairs:
                    if prop in pair.to_hubspot and any(
                        v in values for v in pair.to_hubspot[prop].split(";")
                    ):
                        value = pair.to_hubspot.pop(prop)
                        pair.snap_hubspot.pop(prop, None)
                        kind = "transient" if transient else "picklist"
                        self.record_error(
                            pair,
                            "to_hubspot",
                            kind,
                            error.code,
                            f"{prop}: HubSpot has no option {value!r} and refused to add it: "
                            f"{error.message}",
                            [prop],
                        )

    def mapped_amounts(self, sobject: str) -> dict[str, str]:
        """The mapped Salesforce fields of type currency (name -> HubSpot property): amounts,
        held in the record's currency in a multi-currency org."""
        return {
            name: m.hubspot_property
            for m in self.ctx.mappings
            if (name := self.ctx.mapped_field(m, sobject))
            and self.ctx.field_type(sobject, name) == "currency"
        }

    def currency_missing(self, pair: Pair, currency: str) -> None:
        """A record in a currency HubSpot's account doesn't have: its currency and its
        amounts wait (unsynced in the snapshot, so they go once the currency is added), and
        the record gets a picklist error saying where to add it. HubSpot's currencies are
        account settings: the properties API can't add them."""
        for prop in (HUBSPOT_CURRENCY, *self.mapped_amounts(pair.sobject).values()):
            pair.to_hubspot.pop(prop, None)
            pair.snap_hubspot.pop(prop, None)
        self.record_error(
            pair,
            "to_hubspot",
            "picklist",
            "CURRENCY_NOT_IN_HUBSPOT",
            f"{HUBSPOT_CURRENCY}: HubSpot's account has no currency {currency!r}. Add it in "
            "HubSpot under Settings > Account defaults > Currencies; the amount syncs with it.",
            [CURRENCY_FIELD],
        )

    # --- amounts in a multi-currency org (currencies.py) --------------------------------
    @cached_property
    def company_currency(self) -> str:
        """The HubSpot account's company currency (kept with the schemas, read daily)."""
        account = services.hubspot_account_details(integration=self.ctx.integration)
        return str(account.get("companyCurrency") or "")

    @cached_property
    def currency_rates(self) -> Rates | None:
        """The org's currencies and rates (read when a day old), None when none are known."""
        return Rates.kept(services.salesforce_currency_rates(integration=self.ctx.integration))

    def known_rates(self) -> Rates:
        """``currency_rates``, which converting needs: ``AmountNotConvertible`` without."""
        if self.currency_rates is None:
            raise AmountNotConvertible(RATES_UNREAD, unreadable=True)
        return self.currency_rates

    def is_converted_amount(self, sobject: str, name: str) -> bool:
        """Whether the Salesforce field ``name`` is an amount ``amounts_converted`` converts."""
        return self.ctx.field_type(sobject, name) == "currency" and self.amounts_converted(sobject)

    def amounts_converted(self, sobject: str) -> bool:
        """Whether ``sobject``'s amounts are converted to and from HubSpot's company currency
        (``currencies.amounts_convert``)."""
        known = self._amounts_converted.get(sobject)
        if known is None:
            known = self._amounts_converted[sobject] = amounts_convert(
                converts=self.converts_amounts,
                fields=self.ctx.salesforce_fields.get(sobject, {}),
                mapped=(self.ctx.mapped_field(m, sobject) for m in self.ctx.mappings),
            )
        return known

    def create_currency(self) -> str:
        """The currency a record this pair creates in Salesforce is given when it carries an
        amount: HubSpot's company currency when the org has it active (the amount then goes as
        it is), else the org's corporate currency ("" when neither is known)."""
        rates = self.currency_rates
        if rates is None:
            return ""
        return self.company_currency if self.company_currency in rates.active else rates.corporate

    def amount_currencies(self, record: dict) -> tuple[str, str] | None:
        """(the record's currency, HubSpot's company currency) when they differ, else None
        (nothing to convert). A record about to be created is in ``create_currency``."""
        hubspot = self.company_currency
        own = (record or {}).get(CURRENCY_FIELD) or ("" if record else self.create_currency())
        if not hubspot or not own or own == hubspot:
            return None
        return own, hubspot

    def amount_compared(
        self, sobject: str, name: str, record: dict, last: str | None = None
    ) -> str:
        """Salesforce's amount ``name`` of ``record`` in HubSpot's company currency, compared
        and written to HubSpot so. ``last``, the value synced last, stands when it converts
        back to this very amount (to the field's decimal places): a value that went to
        Salesforce doesn't return changed by rounding. ``AmountNotConvertible`` without rates."""
        text = normalize(record.get(name), "currency")
        currencies = self.amount_currencies(record)
        if not text or currencies is None:
            return text
        own, hubspot = currencies
        rates = self.known_rates()
        amount = Decimal(text)
        places = self.ctx.field_scale(sobject, name)
        if last:
            with contextlib.suppress(InvalidOperation):  # (a last value that isn't a number)
                back = rates.convert(Decimal(last), hubspot, own, places or 0)
                if abs(back - amount) <= unit_fraction(places):
                    return last
        converted = rates.convert(amount, own, hubspot, rates.places.get(hubspot, 2))
        return normalize(str(converted), "currency")

    def amount_to_salesforce(self, pair: Pair, sobject: str, name: str, value: str) -> None:
        """HubSpot's amount ``value`` (in its company currency) into the pair's Salesforce
        write, as ``name`` of its record takes it: in the record's currency, to the field's
        decimal places. A record about to be created is made in the currency it is converted
        to (``create_currency``). ``AmountNotConvertible`` without rates."""
        # A create's currency (None: no create, or no amount; "": the org's are unknown).
        made_in = self.create_currency() if value and pair.salesforce is None else None
        if made_in == "":
            raise AmountNotConvertible(RATES_UNREAD, unreadable=True)
        currencies = self.amount_currencies(pair.salesforce or {}) if value else None
        if currencies is None:
            pair.to_salesforce[name] = to_salesforce(value, "currency")
        else:
            own, hubspot = currencies
            places = self.ctx.field_scale(sobject, name)
            places = 2 if places is None else places  # (a describe kept before scales were)
            amount = Decimal(normalize(value, "currency"))
            converted = self.known_rates().convert(amount, hubspot, own, places)
            pair.to_salesforce[name] = to_salesforce(str(converted), "currency")
        if made_in and self.ctx.writable(sobject, CURRENCY_FIELD, create=True):
            pair.to_salesforce[CURRENCY_FIELD] = made_in

    def amount_not_convertible(
        self, pair: Pair, prop: str, name: str, error: AmountNotConvertible, direction: str
    ) -> None:
        """An amount the org's rates can't convert (going ``direction``): it syncs neither
        way, and the record gets an error saying why and what to do."""
        if error.unreadable:
            message = AMOUNT_RATES_UNREAD.format(field=name)
        else:
            own, hubspot = self.amount_currencies(pair.salesforce or {}) or ("", "")
            message = AMOUNT_NO_RATE.format(field=name, own=own, hubspot=hubspot, error=error)
        self.record_error(
            pair, direction, "property_value", "CURRENCY_NOT_CONVERTIBLE", message, [name]
        )

    def due_for_retry(
        self, *, exclude_types: tuple[str, ...] | None = None
    ) -> tuple[list[tuple[str, str]], list[ResyncRequest]]:
        """What to sync again this cycle: records whose errors are due (every 20 minutes, then
        nightly) and records an admin asked to resync, as ``(record_key, salesforce_type)``;
        and the resync requests, to delete once handled. Errors of ``exclude_types`` (by
        default the pair's ``errors_ended_by_own_check``) aren't retried this way. First the
        *Merged in Salesforce* errors whose HubSpot record is gone end
        (``salesforce_merges_settled``); a Resync of one ends it (see below)."""
        if exclude_types is None:
            exclude_types = self.errors_ended_by_own_check
        self.salesforce_merges_settled()
        errors = SyncError.objects.filter(
            integration=self.ctx.integration,
            object=self.object_name,
            resolved_at__isnull=True,
            next_retry_at__lte=timezone.now(),
        ).exclude(  # a blip of this very run (a locked row): retried on the next cycle
            error_type="transient", last_seen_at__gte=self.ctx.run.started_at
        )
        if exclude_types:
            # Looked at every cycle by the pair itself (e.g. waits for a partner record): a
            # retry falling due, or an admin's Resync, is served by that look; nothing stays
            # queued.
            errors.filter(error_type__in=exclude_types).update(next_retry_at=None)
            errors = errors.exclude(error_type__in=exclude_types)
        taken = list(
            errors.values_list(
                "pk", "record_key", "salesforce_type", "error_type", "attempts", "next_retry_at"
            )[:RETRY_BATCH]
        )
        rows = [(key, sobject, kind) for _, key, sobject, kind, _, _ in taken]
        requests = list(
            ResyncRequest.objects.filter(integration=self.ctx.integration, object=self.object_name)[
                :RETRY_BATCH
            ]
        )
        self.retries_taken(taken, requests, exclude_types)
        # A *Merged in Salesforce* error is never due by itself: due, an admin asked to
        # Resync it. That, or a Resync of its record, ends it (the hold on creating a
        # Salesforce record goes), and the record syncs now under the creation rules, as any
        # record without a Salesforce partner.
        services.sync_errors_resolve_type(
            integration=self.ctx.integration,
            object_name=self.object_name,
            error_type=MERGED_IN_SALESFORCE,
            record_keys=sorted(
                {key for key, _, kind in rows if kind == MERGED_IN_SALESFORCE}
                | {r.record_key for r in requests}
            ),
            ended_because=SyncError.EndedBecause.RESYNCED,
        )
        due = [(key, sobject) for key, sobject, _ in rows]
        return due + [(r.record_key, r.salesforce_type) for r in requests], requests

    def retries_taken(
        self,
        due: list[tuple[int, str, str, str, int, datetime | None]],
        requests: list[ResyncRequest],
        exclude_types: tuple[str, ...],
    ) -> None:
        """Note what this cycle's retries take up, to settle afterwards (``retries_done``):
        the due errors, and the other current errors of the records an admin asked to sync
        (ended too if the record no longer syncs; their own retry stays as it was)."""
        self.not_syncing, self.stopped_because = set(), {}
        self.asked = {r.record_key for r in requests}
        self._retried = {
            pk: (key, attempts, next_at, True) for pk, key, _, _, attempts, next_at in due
        }
        asked = sorted({r.record_key for r in requests})
        for start in range(0, len(asked), 500):
            others = (
                SyncError.objects.filter(
                    integration=self.ctx.integration,
                    object=self.object_name,
                    resolved_at__isnull=True,
                    record_key__in=asked[start : start + 500],
                )
                .exclude(error_type__in=(*exclude_types, MERGED_IN_SALESFORCE))
                .exclude(pk__in=list(self._retried))
                .values_list("pk", "record_key", "attempts", "next_retry_at")
            )
            for pk, key, attempts, next_at in others:
                self._retried[pk] = (key, attempts, next_at, False)

    def retries_done(self, requests: list[ResyncRequest], retried: int) -> None:
        """After a cycle's retries: the resync requests are served, and each error taken up
        that the retry neither resolved nor recorded again is settled, so it doesn't bring
        its record round (API calls) every cycle for nothing. A record the pair's rules now
        leave alone (``skipped``: outside the inclusion list, in a pipeline that doesn't
        sync…) has nothing left to fix: the error ends into the record's history, which says
        the record no longer syncs (``ended_because``). Otherwise the retry counts as an
        attempt and the error waits for its next one on the usual backoff (20 minutes, then
        nightly).
        Not reached when a retry fails (a HubSpot outage): all stays due."""
        ResyncRequest.objects.filter(pk__in=[r.pk for r in requests]).delete()
        self.counts["retried"] += retried
        taken, self._retried = self._retried, {}
        if not taken:
            return
        untouched: list[tuple[int, str]] = []
        ids = sorted(taken)
        for start in range(0, len(ids), 500):
            for pk, key, attempts, next_at in SyncError.objects.filter(
                pk__in=ids[start : start + 500], resolved_at__isnull=True
            ).values_list("pk", "record_key", "attempts", "next_retry_at"):
                # Recorded again, or moved on with another error of its record: settled.
                if (key, attempts, next_at) == taken[pk][:3]:
                    untouched.append((pk, key))
        stopped: dict[str, list[int]] = defaultdict(list)
        for pk, key in untouched:
            if key in self.not_syncing:
                reason = self.stopped_because.get(key, SyncError.EndedBecause.NOT_SYNCING)
                stopped[reason].append(pk)
        for reason, error_ids in stopped.items():
            services.sync_errors_end(
                integration=self.ctx.integration, error_ids=error_ids, ended_because=reason
            )
        services.sync_errors_retry_later(
            integration=self.ctx.integration,
            error_ids=[pk for pk, key in untouched if key not in self.not_syncing and taken[pk][3]],
        )

    def retry_salesforce_records(
        self, ids: list[str], sobject: str, fields: list[str], handle: Callable[..., Any]
    ) -> None:
        """Salesforce records a retry asked for, read again by id and handled as changed
        (``handle(records, None, force=True)``); those gone end their errors."""
        if not ids:
            return
        records = salesforce_by_ids(self.ctx.salesforce, sobject, fields, ids)
        self.resolve_vanished("salesforce", ids, [r["Id"] for r in records], sobject=sobject)
        handle(records, None, force=True)

    def retry_hubspot_records(
        self,
        ids: list[str],
        read: Callable[[list[str]], Iterable[Any]],
        handle: Callable[..., Any],
    ) -> None:
        """HubSpot records a retry asked for, read again with ``read`` and handled as changed
        (``handle(objects, None, force=True)``); those gone end their errors."""
        if ids:
            handle(self.hubspot_reread(ids, read), None, force=True)

    def resolve_vanished(
        self, prefix: str, asked: Iterable[str], found: Iterable[str], *, sobject: str = ""
    ) -> None:
        """Records a retry asked for (keys ``<prefix>:<id>``) that no longer exist: nothing is
        left to sync, so their errors end instead of being retried nightly for ever. A HubSpot
        record read again may have been merged away rather than deleted (the read answers
        with the record it went into): its history says either. Salesforce records of an
        ``sobject`` that merges are told apart by one more read (only when some are gone)."""
        gone = sorted(set(asked) - {str(i) for i in found})
        if not gone:
            return
        if prefix.partition(":")[0] == "hubspot":  # (activities': "hubspot:calls")
            why = dict.fromkeys(gone, SyncError.EndedBecause.GONE_FROM_HUBSPOT)
        elif "MasterRecordId" in self.ctx.salesforce_fields.get(sobject, {}):
            why = self.salesforce_gone({sobject: gone})
        else:  # an object that doesn't merge: deleted
            why = {}
        by_reason: dict[str, list[str]] = defaultdict(list)
        for record_id in gone:
            by_reason[why.get(record_id, SyncError.EndedBecause.DELETED)].append(record_id)
        for reason, ids in by_reason.items():
            services.sync_errors_resolve(
                integration=self.ctx.integration,
                object_name=self.object_name,
                record_keys=[f"{prefix}:{i}" for i in ids],
                ended_because=reason,
            )

    def salesforce_gone(self, ids_by_type: dict[str, list[str]]) -> dict[str, str]:
        """Why each of these Salesforce records is gone (id -> ``SyncError.EndedBecause``),
        read with the deleted ones, every type in one composite call (per 1,500 ids): see
        ``gone_because``. Records still there are left out."""
        soqls = []
        for sobject, ids in ids_by_type.items():
            fields = ["Id", "IsDeleted", *(["IsConverted"] if sobject == "Lead" else [])]
            if "MasterRecordId" in self.ctx.salesforce_fields.get(sobject, {}):
                fields.append("MasterRecordId")  # merged away, not deleted
            soqls += ids_queries(sobject, fields, sorted(ids))
        found = {
            r["Id"]: r
            for page in composite_query(self.ctx.salesforce, soqls, include_deleted=True)
            for r in all_records(self.ctx.salesforce, page)
        }
        why = {i: gone_because(found.get(i)) for ids in ids_by_type.values() for i in ids}
        return {i: reason for i, reason in why.items() if reason is not None}

    def hubspot_reread(
        self, ids: Iterable[str], read: Callable[[list[str]], Iterable[Any]], prefix="hubspot"
    ) -> list[Any]:
        """The HubSpot records a retry asked for, read again with ``read``; those gone end
        their errors (keys ``<prefix>:<id>``). HubSpot answering 404 or 400 (gone, or a key
        that can't be read) leaves nothing to retry; a transient failure propagates, so the
        resync requests stay queued for the next cycle."""
        ids = sorted(ids)
        try:
            found = list(read(ids))
        except (NotFound, BadRequest):
            found = []
        self.resolve_vanished(prefix, ids, [o.id for o in found])
        return found

    def hubspot_upsert_creates(
        self, creates: list[Pair], key_property: str, *, extra: Callable[[Pair], dict] | None = None
    ) -> None:
        """Create the HubSpot records of ``creates`` (Salesforce records without a partner) as
        upserts by the unique ``key_property`` holding the Salesforce id, so a retried or
        re-read create finds the record instead of making a second one (counted as matched).
        Blank values are left out; a record HubSpot refuses fails alone."""
        creates = self.key_clashes_kept(creates, key_property)
        if not creates:
            return
        inputs = []
        for pair in creates:
            properties = {k: v for k, v in pair.to_hubspot.items() if v != ""}
            pair.snap_hubspot = {k: v for k, v in pair.snap_hubspot.items() if v != ""}
            properties[key_property] = pair.salesforce_id
            properties.update(extra(pair) if extra else {})
            inputs.append(
                {"id": pair.salesforce_id, "idProperty": key_property, "properties": properties}
            )
        results, failed = self.hubspot_batch("upsert", inputs, key=lambda i: i["id"])
        by_key = {(o.properties or {}).get(key_property): o for o in results}
        claims = self.upsert_claims([(p, by_key.get(p.salesforce_id)) for p in creates])
        claimed = {pair.salesforce_id for pair, _, _ in claims}
        for pair in creates:
            obj = by_key.get(pair.salesforce_id)
            if obj is None:
                pair.hubspot_failed = True
                self.record_hubspot_failure(pair, failed.get(pair.salesforce_id))
                continue
            if pair.salesforce_id in claimed:
                continue
            pair.hubspot = obj
            self.written.add(f"hubspot:{obj.id}")  # (a matched one takes the values too)
            # HubSpot says whether the upsert made the record: one the key already named (a
            # create whose link was lost, a pairing removed and added again) is matched.
            self.counts["matched" if obj.new is False else "created_in_hubspot"] += 1
        if claims:
            sent = {i["id"]: i["properties"] for i in inputs}
            self.upsert_claims_undone(claims, sent, key_property)

    def upsert_claims(self, answered: list[tuple[Pair, Any]]) -> list[tuple[Pair, Any, RecordLink]]:
        """Of upserts' answers (pair, the record answered or None), those whose record the key
        found syncing with another Salesforce record (the key typed or imported there): the
        pair, that record and its link; each such pair is marked failed. One query, only
        when an upsert found a record it didn't make and the pair isn't linked to."""
        found = [
            (pair, obj)
            for pair, obj in answered
            if obj is not None
            and obj.new is not True
            and (pair.link is None or str(obj.id) != pair.link.hubspot_id)
        ]
        held = self.links_by("hubspot_id", [str(obj.id) for _, obj in found])
        claims = []
        for pair, obj in found:
            link = held.get(str(obj.id))
            if link is not None and link.salesforce_id != pair.salesforce_id:
                pair.hubspot_failed = True
                claims.append((pair, obj, link))
        return claims

    def upsert_claims_undone(
        self, claims: list[tuple[Pair, Any, RecordLink]], sent: dict[str, dict], key: str
    ) -> None:
        """Creates (tickets: any write) whose upsert found, by the key, a HubSpot record that
        syncs with another Salesforce record (``claims``: pair, that record, its link), and
        wrote their values (``sent``, by Salesforce id) onto it. Each property the write
        changed gets back the value it had just before, from its history (one read and one
        update, only then): it keeps its link and values, and a person's edit not synced
        yet. The new record gets a *Value already in use* error naming it; nothing is linked
        or created for it. The ``key`` stays as the person left it: it is theirs to empty."""
        names = sorted({n for pair, _, _ in claims for n in sent[pair.salesforce_id]})
        read = hubspot_batch_read(
            self.ctx.hubspot,
            object_type=self.hubspot_object_type,
            ids=sorted({str(obj.id) for _, obj, _ in claims}),
            properties=names,
            properties_with_history=names,
        )
        history = {str(o.id): o.properties_with_history or {} for o in read.results}
        own = self.ctx.own_hubspot_source()
        restores = []
        for pair, obj, link in claims:
            hs_id, before = str(obj.id), {}
            for name in sent[pair.salesforce_id]:
                entries = sorted(  # newest first
                    (e for e in history.get(hs_id, {}).get(name) or [] if e.timestamp),
                    key=lambda e: parse_time(e.timestamp),
                    reverse=True,
                )
                if name != key and entries and upsert_wrote(entries[0], obj, own):
                    before[name] = str(entries[1].value or "") if len(entries) > 1 else ""
            if before:
                restores.append({"id": hs_id, "properties": before})
            # A linked pair written by upsert (tickets): its own record waits meanwhile.
            own_record = pair.link.hubspot_id if pair.link is not None else None
            self.record_error(
                pair,
                "to_hubspot",
                "value_in_use",
                KEY_IN_USE,
                f"HubSpot record {hs_id} holds this {pair.sobject}'s id in {key}, but "
                f"it syncs with another {pair.sobject}, {link.salesforce_id}; a HubSpot record "
                f"syncs with one record only, so it keeps its link and values and this "
                + (
                    f"{pair.sobject}'s changes wait. Empty {key} on HubSpot record {hs_id} "
                    f"so they reach its own, HubSpot record {own_record}"
                    if own_record
                    else f"{pair.sobject} has no HubSpot record yet. Empty {key} on HubSpot "
                    f"record {hs_id} to give this {pair.sobject} its own"
                )
                + ", or, if the two are the same, merge them in Salesforce.",
                [],
                hubspot_id=hs_id,
            )
        if restores:
            _, failed = self.hubspot_batch("update", restores, key=lambda i: i["id"])
            for hs_id in failed:
                logging.getLogger(__name__).warning(
                    "HubSpot record %s kept values of a key clash: %s", hs_id, failed[hs_id]
                )
            self.written.update(f"hubspot:{r['id']}" for r in restores if r["id"] not in failed)

    def key_clashes_kept(self, creates: list[Pair], key: str) -> list[Pair]:
        """``creates`` but those whose last upsert found a HubSpot record syncing with another
        Salesforce record (an open error names it) whose ``key`` still holds their id: sent
        again, a retry or an edit would write onto it again. Their error stays. One query;
        one read, only for such records."""
        errors = {
            e.salesforce_id: e
            for e in SyncError.objects.filter(
                integration=self.ctx.integration,
                object=self.object_name,
                resolved_at__isnull=True,
                error_type="value_in_use",
                code=KEY_IN_USE,
                record_key__in=[f"salesforce:{p.salesforce_id}" for p in creates],
            )
        }
        if not errors:
            return creates
        holders = sorted({e.hubspot_id for e in errors.values()})
        objects = self.hubspot_read(holders, properties=[key], history=False)
        linked = self.links_by("hubspot_id", holders)
        kept = []
        for pair in creates:
            error = errors.get(pair.salesforce_id)
            obj = objects.get(error.hubspot_id) if error else None
            link = linked.get(error.hubspot_id) if error else None
            if (
                obj is not None
                and (obj.properties or {}).get(key) == pair.salesforce_id
                and link is not None
                and link.salesforce_id != pair.salesforce_id
            ):
                pair.hubspot_failed = True
                self.record_error(
                    pair,
                    "to_hubspot",
                    "value_in_use",
                    KEY_IN_USE,
                    error.message,
                    [],
                    hubspot_id=error.hubspot_id,
                )
                continue
            kept.append(pair)
        return kept

    @property
    def hubspot_object_type(self) -> str:
        """The HubSpot object type the pair writes (custom objects: their objectTypeId)."""
        return self.object_name

    def hubspot_batch(
        self, action: str, inputs: list[dict], *, key, object_type: str | None = None
    ) -> tuple[list, dict]:
        """Batch writes of 100 (to the pair's object type, or ``object_type``) where one bad
        input never blocks the others: when HubSpot rejects a whole batch (400/409), the
        batch is split until the bad inputs stand alone."""
        results: list = []
        failures: dict[str, Any] = {}
        write = getattr(self.ctx.hubspot, f"batch_{action}")
        if object_type in (None, self.hubspot_object_type):  # (the pair's own properties)
            inputs = self.hubspot_days_placed(inputs)
        object_type = object_type or self.hubspot_object_type

        def send(chunk: list[dict], ahead: CallAhead | None = None) -> None:
            try:
                if ahead is None:
                    result = with_retries(lambda: write(object_type=object_type, inputs=chunk))
                else:
                    try:
                        result = ahead.outcome()
                    except (BadRequest, Conflict):
                        raise  # the inputs' fault: split below, as when sent from here
                    except Exception:  # noqa: BLE001 - again in turn: retries, token refresh
                        send(chunk)
                        return
            except (BadRequest, Conflict) as error:
                split_until_alone(chunk, error, send, lambda i, e: failures.update({key(i): e}))
                return
            results.extend(result.results)
            failures.update(self.hubspot_failures(result, [key(i) for i in chunk]))

        chunks = [inputs[start : start + 100] for start in range(0, len(inputs), 100)]
        # Updates and upserts may be sent twice: the chunks after the first go out together.
        with sent_ahead(
            chunks,
            lambda chunk: write(object_type=object_type, inputs=chunk),
            integration=self.ctx.integration,
            system=System.HUBSPOT,
            operation=f"{object_type}.batch.{action}",
        ) as sent:
            for n, chunk in enumerate(chunks):
                send(chunk, sent.take(n))
        return results, failures

    @staticmethod
    def hubspot_failures(result: Any, keys: list[str]) -> dict[str, Any]:
        """Map batch errors back to the inputs they concern (by id or email in context)."""
        failed: dict[str, Any] = {}
        wanted = {str(k).lower(): str(k) for k in keys}
        for error in result.errors:
            context = getattr(error, "context", None) or {}
            values = [v for vs in context.values() for v in (vs or [])]
            for value in values:
                key = wanted.get(str(value).lower())
                if key:
                    failed[key] = error
        if result.errors and not failed:
            for key in keys:  # an error we can't attribute: count every input as failed
                failed[key] = result.errors[0]
        return failed

    def salesforce_creates_sent(
        self,
        creates: list[Pair],
        sobject: str,
        *,
        external_id: str | None,
        records: list[dict] | None = None,
    ) -> list[dict]:
        """Create the records of ``creates`` (their ``to_salesforce``, keyed by their HubSpot
        ids, or ``records``, one per pair); the answers, in order. Upserted by the
        ``external_id`` where the org has it: a retry after a lost answer updates, never
        duplicates. Without it, not retried (the write may have landed) and noted first:
        the next cycle links what landed instead of creating again
        (``salesforce_lost_creates``, ``hubspot_lost_creates``)."""
        if records is None:
            records = [
                {external_id: p.hubspot_id, **p.to_salesforce} if external_id else p.to_salesforce
                for p in creates
            ]
        if external_id:
            return each_chunk_retried(
                lambda chunk: self.ctx.salesforce.collections_upsert(
                    sobject=sobject, external_id_field=external_id, records=chunk
                ),
                records,
                SALESFORCE_COLLECTION,
            )
        self.salesforce_creates_intended(creates)
        return self.ctx.salesforce.collections_create(sobject=sobject, records=records)

    def salesforce_create_landed(self, pair: Pair, result: dict) -> bool:
        """Whether Salesforce made the pair's record (counted); a refused one fails alone."""
        if result.get("success"):
            self.counts["created_in_salesforce"] += 1
            self.written.add(f"salesforce:{result.get('id')}")
            return True
        pair.salesforce_failed = True
        self.record_salesforce_failure(pair, result)
        return False

    def record_salesforce_failure(self, pair: Pair, result: dict) -> None:
        self.failures_record(pair, self.salesforce_failures(pair, result))

    def salesforce_failures(self, pair: Pair, result: dict) -> list[Failure]:
        """Each error of Salesforce's answer for one record, typed, with the values sent for
        the fields it names (taken now: a later round leaves refused ones out)."""
        failures = []
        for error in result.get("errors") or [{}]:
            code, message = error.get("statusCode", ""), error.get("message", "")
            fields = error.get("fields") or []
            failures.append(
                Failure(
                    classify(system="salesforce", status=400, code=code, message=message).key,
                    code,
                    message,
                    fields,
                    refused_values(pair.to_salesforce, fields),
                )
            )
        return failures

    def failures_record(self, pair: Pair, failures: list[Failure]) -> None:
        """One error of each type for the record (a record has one open error of a type):
        several of a type (two values refused) make one naming every field, each with
        Salesforce's reason and the value sent, counted once as the error panel shows it."""
        by_type: dict[str, list[Failure]] = {}
        for failure in failures:
            by_type.setdefault(failure.error_type, []).append(failure)
        known = self.ctx.salesforce_fields.get(pair.sobject, {})
        for error_type, same in by_type.items():
            reasons = [f.said(known) if len(same) > 1 else f.message for f in same]
            self.record_error(
                pair,
                "to_salesforce",
                error_type,
                same[0].code,
                "; ".join(dict.fromkeys(reasons)),
                list(dict.fromkeys(n for f in same for n in f.fields)),
                values={k: v for f in same for k, v in f.values.items()},
            )

    def hubspot_associate(
        self, from_type: str, to_type: str, inputs: list[dict]
    ) -> list[tuple[dict, Any]]:
        """Create associations, 100 a call; returns ``(input, error)`` for the ones HubSpot
        refused (a 207's errors, matched to inputs by the ids they name). A batch rejected as
        a whole is split until the bad inputs stand alone, so one refused association (a
        record at HubSpot's association limit, say) never blocks the others."""
        failures: list[tuple[dict, Any]] = []

        def send(chunk: list[dict]) -> None:
            try:
                result = with_retries(
                    lambda: self.ctx.hubspot.associations_batch_create(
                        from_object_type=from_type, to_object_type=to_type, inputs=chunk
                    )
                )
            except (BadRequest, Conflict) as error:
                split_until_alone(chunk, error, send, lambda i, e: failures.append((i, e)))
                return
            for error in result.errors:
                context = getattr(error, "context", None) or {}
                ids = {str(v) for vs in context.values() for v in (vs or [])}
                matched = [
                    i for i in chunk if {str(i["from"]["id"]), str(i["to"]["id"])} & ids
                ] or chunk
                failures.extend((i, error) for i in matched)

        for start in range(0, len(inputs), 100):
            send(inputs[start : start + 100])
        return failures

    def hubspot_dissociate(self, from_type: str, to_type: str, inputs: list[dict]) -> None:
        """Remove associations (``[{"from": {"id"}, "to": [{"id"}]}]``, 100 a call, retried:
        archiving again is harmless)."""
        if inputs:
            with_retries(
                lambda: self.ctx.hubspot.associations_batch_archive(
                    from_object_type=from_type, to_object_type=to_type, inputs=inputs
                )
            )

    def association_failure(self, pair: Pair, error: Any) -> None:
        """A refused association: *Association limit reached* when HubSpot says so."""
        message = getattr(error, "message", "") or ""
        kind = "association_limit" if "limit" in message.lower() else "other"
        code = getattr(error, "category", "") or getattr(error, "code", "") or ""
        self.record_error(pair, "to_hubspot", kind, code, message, [])

    def record_hubspot_failure(self, pair: Pair, error: Any) -> None:
        category, message, status = hubspot_error_parts(error)
        error_type = classify(
            system="hubspot",
            status=status,
            code=category,
            message=message,
            context=error_context(error),  # names the property of a unique-value clash
        )
        self.record_error(pair, "to_hubspot", error_type.key, category, message, [])

    def invalid_value(
        self, pair: Pair, direction: str, name: str, error: Exception, fields: list[str]
    ) -> None:
        """A value of ``name`` that doesn't convert (``ValueConversionError``): an error on
        the record, about that field alone (the record's other fields sync)."""
        self.record_error(
            pair, direction, "property_value", "INVALID_VALUE", f"{name}: {error}", fields
        )

    def record_error(
        self,
        pair: Pair,
        direction: str,
        error_type: str,
        code: str,
        message: str,
        fields: list[str],
        *,
        values: dict[str, Any] | None = None,
        hubspot_id: str | None = None,
    ) -> None:
        """Errors going to Salesforce are kept on the HubSpot record, and the other way round.
        ``values``: what was sent for ``fields``, shown with the error; ``hubspot_id``: the
        HubSpot record the error points at when it isn't the pair's partner."""
        to_salesforce = direction == "to_salesforce"
        if to_salesforce:
            side, key_id = (
                ("hubspot", pair.hubspot_id)
                if pair.hubspot_id
                else ("salesforce", pair.salesforce_id)
            )
        else:
            side, key_id = (
                ("salesforce", pair.salesforce_id)
                if pair.salesforce_id
                else ("hubspot", pair.hubspot_id)
            )
        # Recorded now, so true now: the pair's commit mustn't end it (``kept_errors``).
        pair.kept_errors.add(error_type)
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=self.object_name,
            error_type=error_type,
            direction=direction,
            record_key=f"{side}:{key_id}",
            hubspot_id=hubspot_id or pair.hubspot_id or "",
            salesforce_id=pair.salesforce_id or "",
            salesforce_type=pair.sobject,
            record_label=pair.label,
            code=code,
            message=message,
            fields=fields,
            values=values,
        )
        self.counts["failed"] += 1

    def fields_not_writable(self, pair: Pair) -> None:
        """HubSpot values of mapped fields the integration user may not set in Salesforce
        (edit, or set on a record the sync creates; field-level security, as the last read of
        its schema says): a *Field permission* error naming them, as Salesforce's own refusal
        would be, instead of the values vanishing. The snapshot keeps the old values, so a
        retry carries them once the fields are editable; the pair's other values go now."""
        names = list(dict.fromkeys(pair.not_writable))
        pair.not_writable.clear()
        known = self.ctx.salesforce_fields.get(pair.sobject, {})
        fields = ", ".join(f"{known.get(n, {}).get('label') or n} ({n})" for n in names)
        self.record_error(
            pair,
            "to_salesforce",
            "field_permission",
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"The Salesforce integration user can't set this {pair.sobject}'s {fields}, so "
            "Salesforce keeps its value and HubSpot's doesn't reach it. Give the integration "
            "user edit access to the field in Salesforce (field-level security), "
            "then Refresh properties and fields on the tab; or set the mapping to a rule that "
            "doesn't write to Salesforce.",
            names,
        )

    def errors_end(self, record_keys: list[str], *, kept: Iterable[str] = ()) -> None:
        """The records synced: their errors end, but those the pair ends by its own check
        and the ``kept`` types (what they are about is still held: ``Pair.kept_errors``)."""
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=self.object_name,
            record_keys=record_keys,
            except_types=(*self.errors_ended_by_own_check, *kept),
        )

    def has_open_errors(self) -> bool:
        """Whether this pair has any current error: a backfill without one needn't look up
        each synced record's errors (one query instead of one per 500 records)."""
        return SyncError.objects.filter(
            integration=self.ctx.integration, object=self.object_name, resolved_at__isnull=True
        ).exists()

    def commit(
        self,
        pairs: list[Pair],
        cursor: Cursor | None,
        handled: list[Version],
        *,
        more: list[tuple[Cursor | None, list[Version]]] = (),
        end_errors: bool = True,
    ) -> None:
        """Store the pairs' links and snapshots and move ``cursor`` past ``handled`` (and
        each of ``more`` past its versions) in one transaction. Values the integration user
        may not set on a record written now are an error first (``fields_not_writable``).
        ``end_errors=False``: the pairs wrote only part of their record (its associations),
        so only their caller knows which errors that settled."""
        for pair in pairs:
            if pair.not_writable and pair.salesforce is not None:  # written now, or refused
                self.fields_not_writable(pair)
        now = timezone.now()
        synced_keys: dict[frozenset[str], list[str]] = {}  # by the error types kept open
        created: list[RecordLink] = []
        # Most commits only move snapshots and moments on: rows whose ids stay as loaded are
        # updated without the indexed id columns (SQLite rewrites an index entry for every
        # indexed column it is given, changed or not: three times the time).
        rekeyed: list[RecordLink] = []
        updated: list[RecordLink] = []
        with transaction.atomic():
            # The lease first, in the same transaction: a cycle another worker took over
            # (it stalled past its lease) stops here and commits nothing.
            self.ctx.heartbeat()
            for pair in pairs:
                if pair.hubspot is None or pair.salesforce is None:
                    continue
                snapshot = dict(pair.link.snapshot) if pair.link and pair.link.pk else {}
                snapshot.update(pair.same)
                if not pair.hubspot_failed:
                    snapshot.update(pair.snap_hubspot)
                if not pair.salesforce_failed:
                    snapshot.update(pair.snap_salesforce)
                link = pair.link if pair.link and pair.link.pk else None
                if link is None:
                    link = new_link(self.ctx.integration.pk, self.object_name)
                    self.counts["linked"] += 1
                    created.append(link)
                elif getattr(link, "stored_keys", None) == (
                    pair.hubspot_id, pair.salesforce_id, pair.sobject
                ):  # fmt: skip
                    updated.append(link)
                else:
                    rekeyed.append(link)
                link.hubspot_id, link.salesforce_id = pair.hubspot_id, pair.salesforce_id
                link.salesforce_type, link.snapshot = pair.sobject, snapshot
                link.hubspot_modified_at = parse_time(pair.hs_props.get(self.modified_property))
                link.salesforce_modified_at = parse_time(pair.salesforce.get("SystemModstamp"))
                link.last_synced_at = now
                if pair.owner_reset and not pair.hubspot_failed:
                    self.counts["owner_resets"] += 1
                if end_errors and not (pair.hubspot_failed or pair.salesforce_failed):
                    keys = [f"hubspot:{pair.hubspot_id}", f"salesforce:{pair.salesforce_id}"]
                    synced_keys.setdefault(frozenset(pair.kept_errors), []).extend(keys)
            rows_update(RecordLink, rekeyed, LINK_FIELDS)
            rows_update(RecordLink, updated, LINK_VALUES)
            rows_insert(RecordLink, created)
            for link in rekeyed:
                link.stored_keys = (link.hubspot_id, link.salesforce_id, link.salesforce_type)
            self.creates_settled(pairs)
            if synced_keys and self.has_open_errors():
                for kept, keys in synced_keys.items():
                    self.errors_end(keys, kept=kept)
            for each, versions in [(cursor, handled), *more]:
                if each is not None:
                    each.advance(versions)


class ListedSync(PairSync):
    """A pair whose HubSpot records an inclusion list may hold back (spec §6.5; contacts,
    companies): records outside it neither go to Salesforce nor receive its changes (an
    account or person without a HubSpot record still creates one), and a record entering it
    catches up (spec §5.2). The list's members are read once a cycle, only when a record not
    seen joining is asked about; a list gone from HubSpot has no members (records are held,
    never all synced as if no list were chosen) and the run says so."""

    # Where the list's memberships were last read (``read_list_joins``).
    entrants_stream = ""

    def __init__(self, ctx: CycleContext) -> None:
        super().__init__(ctx)
        # The list's members once read, the records read in its join order this cycle
        # (members, without the full read), and whether HubSpot has it no more.
        self._list_members: set[str] | None = None
        self._joined: set[str] = set()
        self.list_missing = False
        # Those who joined since the last cycle, with the read's state to keep (None: as
        # stored); and with a list, the records the change feed merged this cycle: entrants
        # among them are in step already.
        self._entrants: list[str] = []
        self._entrants_state: dict | None = None
        self._merged_hubspot: set[str] = set()

    def list_missing_message(self, list_id: Any) -> str:
        """The run's message while the list is gone from HubSpot."""
        raise NotImplementedError

    def in_list(self, hubspot_id: str) -> bool:
        """Whether the HubSpot record syncs: there's no inclusion list, or it's a member (of
        a list gone from HubSpot nobody is)."""
        if not self.settings.inclusion_list_id or hubspot_id in self._joined:
            return True
        return hubspot_id in self.list_members()

    def list_members(self) -> set[str]:
        """The list's members, read once a cycle (one HubSpot call per 250 members)."""
        if self._list_members is None:
            self._list_members = list_members_once(self.ctx, self.settings.inclusion_list_id)
            if self._list_members is None:
                self.list_gone()
        return self._list_members or set()

    def list_gone(self) -> None:
        """HubSpot has no such list (deleted there). Nobody counts as in it, and the run says
        so every cycle until the admin chooses another list, or none. Found once a cycle: no
        further list read asks again."""
        list_id = self.settings.inclusion_list_id
        logging.getLogger(type(self).__module__).warning(
            "%s: inclusion list %s no longer exists in HubSpot", self.object_name, list_id
        )
        self.list_missing = True
        self._list_members = set()
        self.ctx.run.message = self.list_missing_message(list_id)

    def outside_list(self, *record_keys: str) -> None:
        """A record left alone for being outside the list (held while the list is gone)."""
        self.skipped("outside_list", *record_keys, held=self.list_missing)

    def in_list_only(self, objects: list[Any]) -> list[Any]:
        """The HubSpot records that may go to Salesforce: those outside the list are skipped
        (counted, no error), an admin's Sync of one too."""
        kept = []
        for obj in objects:
            if self.in_list(str(obj.id)):
                kept.append(obj)
            else:
                self.outside_list(f"hubspot:{obj.id}")
        return kept

    def may_receive_salesforce_updates(self, pair: Pair) -> bool:
        """Records outside the list don't receive Salesforce updates; Salesforce creates
        still happen (spec §6.5)."""
        if pair.hubspot is None or self.in_list(pair.hubspot_id):
            return True
        self.outside_list(f"hubspot:{pair.hubspot_id}", f"salesforce:{pair.salesforce_id}")
        return False

    def archivable(self, hubspot_ids: list[str]) -> list[str]:
        """With *Delete* on, records outside the list stay: they receive no Salesforce
        changes, a delete neither (spec §6.4, §6.5). They stay in HubSpot, unlinked."""
        archived = []
        for hubspot_id in hubspot_ids:
            if self.in_list(hubspot_id):
                archived.append(hubspot_id)
            else:
                self.outside_list(f"hubspot:{hubspot_id}")
        return archived

    def merged_noted(self, pairs: list[Pair], unlinked: list[Any]) -> None:
        """With a list, the HubSpot records the change feed merged (``sync_list_entrants``)."""
        if self.settings.inclusion_list_id:
            self._merged_hubspot.update(p.hubspot_id for p in pairs)
            self._merged_hubspot.update(str(o.id) for o in unlinked)

    def read_list_joins(self) -> None:
        """Who joined the list since the last cycle (spec §5.2): one HubSpot call for an
        unchanged list, no Salesforce call (``hubspot_list_joins``). A newly chosen list is
        read whole once and nobody counts as joining: choosing a list starts no sync."""
        list_id = self.settings.inclusion_list_id
        stored = SyncCursor.objects.filter(
            integration=self.ctx.integration, stream=self.entrants_stream
        )
        if not list_id:
            stored.delete()  # chosen again later, the list starts afresh
            return
        if self.list_missing:
            return  # found gone by this cycle's read of its members
        row = stored.first()
        seen = row.seen if row is not None else {}
        state = seen if seen.get("list") == str(list_id) else {}
        joins = list_joins_once(self.ctx, list_id, state)
        if joins is None:
            self.list_gone()  # the state stays: it is the list's, should HubSpot restore it
            return
        self._entrants, self._entrants_state = joins
        self._joined.update(self._entrants)
        if seen == self._entrants_state:
            self._entrants_state = None  # nothing to save

    def sync_list_entrants(
        self,
        read: Callable[[list[str]], Iterable[Any]],
        handle: Callable[..., Any],
        *,
        batch: int,
    ) -> None:
        """Records that entered the list sync, edited or not, as a Resync would: unlinked
        ones match or create their partner, linked ones get what was held back while they
        were outside (``read`` then ``handle(objects, None, force=True)``, ``batch`` at a
        time). The joins' state is saved once they synced: a crash reads them again."""
        due = [i for i in dict.fromkeys(self._entrants) if i not in self._merged_hubspot]
        for start in range(0, len(due), batch):
            objects = list(read(due[start : start + batch]))
            self.counts["list_entrants"] += len(objects)
            if objects:
                handle(objects, None, force=True)
        if self._entrants_state is not None and not self.list_missing:
            SyncCursor.objects.update_or_create(
                integration=self.ctx.integration,
                stream=self.entrants_stream,
                defaults={"seen": self._entrants_state},
            )


_LINK_SLOTS = {f.attname: n for n, f in enumerate(RecordLink._meta.concrete_fields)}


def writes_noted(integration: Any, object_name: str, keys: Iterable[str], at) -> None:
    """Writes one pair's run made to another pair's records (record keys ``hubspot:<id>``,
    ``salesforce:<id>``; ``at`` the time of that side's last answer), noted in that pair's
    own-writes row, so its next read of them counts them as ours
    (``PairSync.unchanged_read``): the contact sync's lifecycle stages of companies, the
    company sync's contact associations. One row update."""
    keys = list(keys)
    if not keys or at is None:
        return
    with transaction.atomic():
        row = SyncCursor.objects.select_for_update().get_or_create(
            integration=integration, stream=f"{object_name}:own-writes"
        )[0]
        row.seen = {**(row.seen or {}), **dict.fromkeys(keys, at.isoformat())}
        row.save(update_fields=["seen", "updated_at"])


def list_members_once(ctx: CycleContext, list_id: Any) -> set[str] | None:
    """The members of the HubSpot list ``list_id`` (one call per 250), None for a list gone
    from HubSpot. Read once a cycle over every pair, kept on its probe: the contacts' list is
    asked by the contact, company and activity syncs, the company list by the company sync
    and the contact sync's lifecycle stages. Callers don't change the set."""
    probe = getattr(ctx, "probe", None)
    known = probe.list_members if probe is not None else {}
    key = str(list_id)
    if key not in known:
        if None in _list_joins_read(probe, key).values():
            known[key] = None  # a joins read of this cycle found it gone: no second 404
            return None
        try:
            known[key] = hubspot_list_members(ctx.hubspot, key)
        except NotFound:
            known[key] = None
    return known[key]


def _list_joins_read(probe: Any, key: str) -> dict[str, tuple[list[str], dict] | None]:
    """The cycle's reads of a list's joins, kept on its probe (none without one)."""
    if probe is None:
        return {}
    return probe.list_joins.setdefault(key, {})


def list_joins_once(ctx: CycleContext, list_id: Any, state: dict) -> tuple[list[str], dict] | None:
    """``hubspot_list_joins`` (who joined the list since ``state``, and the state to keep),
    None for a list gone from HubSpot. Pairs of one cycle reading the same list from the same
    state (the contact and activity syncs, each keeping its own) share one read: its answer
    is what either would have read. A pair whose state differs reads for itself. A list any
    read of the cycle found gone isn't asked again."""
    probe = getattr(ctx, "probe", None)
    key = str(list_id)
    reads = _list_joins_read(probe, key)
    if None in reads.values() or (probe is not None and probe.list_members.get(key, ()) is None):
        return None
    seen = json.dumps(state, sort_keys=True)
    if seen not in reads:
        try:
            reads[seen] = hubspot_list_joins(ctx.hubspot, key, state)
        except NotFound:
            reads[seen] = None
            return None
    entrants, after = reads[seen]
    return list(entrants), copy.deepcopy(after)  # each pair saves and compares its own


def gone_because(record: dict | None) -> str | None:
    """Why a Salesforce record read with its deleted ones is gone, None when it isn't: merged
    into another (``MasterRecordId`` in the recycle bin), deleted (not read at all: emptied
    from the recycle bin, for all one can tell), or a lead converted."""
    if record is None:
        return SyncError.EndedBecause.DELETED
    if record.get("IsDeleted"):
        if record.get("MasterRecordId"):
            return SyncError.EndedBecause.MERGED_IN_SALESFORCE
        return SyncError.EndedBecause.DELETED
    if record.get("IsConverted"):
        return SyncError.EndedBecause.CONVERTED
    return None


def hubspot_error_parts(error: Any) -> tuple[str, str, int]:
    """(category, message, status) of a HubSpot refusal: a ``RemoteError``, an error item of
    a 207 batch response, or None (the record didn't come back)."""
    if isinstance(error, RemoteError):
        return error.code, error.message, error.status
    if error is not None:
        category = getattr(error, "category", "") or ""
        status = 409 if category == "CONFLICT" else 400
        return category, getattr(error, "message", "") or "", status
    return "", "HubSpot did not return this record", 400


def new_link(integration_id: int, object_name: str) -> RecordLink:
    """An unsaved link, built the way Django builds rows it loads (positional values, no
    per-field defaults): a backfill makes one per record. The caller sets every field."""
    values: list[Any] = [None] * len(_LINK_SLOTS)
    values[_LINK_SLOTS["integration_id"]] = integration_id
    values[_LINK_SLOTS["object"]] = object_name
    values[_LINK_SLOTS["snapshot"]] = {}
    return RecordLink(*values)


def retried_chunks(
    fn: Callable[[list], T], items: list, size: int, *, ahead: tuple[Any, str] | None = None
) -> Iterator[T]:
    """``fn(chunk)`` for each ``size`` items, each chunk retried on its own (``with_retries``):
    a retry re-sends only the chunk that failed, never the ones that already went through.
    Only for idempotent calls, like ``with_retries``. With ``ahead`` (the connector and the
    operation ``fn`` makes, for the ledger), the chunks after the first are sent at once on
    helper threads while the first is sent from here: reads only, which may be sent twice."""
    chunks = [items[start : start + size] for start in range(0, len(items), size)]
    if ahead is None:
        for chunk in chunks:
            yield with_retries(lambda c=chunk: fn(c))
        return
    connector, operation = ahead
    with sent_ahead(
        chunks,
        fn,
        integration=connector.integration,
        system=connector.system,
        operation=operation,
    ) as sent:
        for n, chunk in enumerate(chunks):
            yield with_retries(first_then(sent.take(n), lambda c=chunk: fn(c)))


def sole_fits(fits: dict[Any, list]) -> dict:
    """Of each key's candidates (``fits``), the one it takes when that is its only candidate
    and no other key's: of two alike, neither is guessed."""
    return {
        key: found[0]
        for key, found in fits.items()
        if len(found) == 1 and sum(found[0] in other for other in fits.values()) == 1
    }


def company_without_account(company: str, account: str, record: str, *, held: bool) -> str:
    """Why a HubSpot record (``record``: "opportunity", "Salesforce contact") on a company
    without a Salesforce account keeps its account, and what to do. ``held``: the company's
    account was merged away in Salesforce (its *Merged in Salesforce* error), so it makes no
    account by itself."""
    kept = f"keeps account {account}" if account else "has no account"
    noun = record.split()[-1]
    if held:
        return (
            f"Company {company} syncs with no account: its account was merged in Salesforce "
            "into one that syncs with another company (the company's Merged in Salesforce "
            f"error names it), so the {record} {kept}. Merge company {company} into that "
            f"company in HubSpot; the {noun} follows then."
        )
    return (
        f"Company {company} hasn't synced to Salesforce yet (it has no account), so the "
        f"{record} {kept}. Sync the company under 'Sync a company' on the Companies tab, or it "
        "syncs by itself once it meets the account creation rules (a contact that syncs as a "
        f"Salesforce contact); the {noun} follows then."
    )


def refused_values(sent: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """What was sent for the fields an error names (a picklist's ``State`` may have gone as
    ``StateCode``): the rejected values, which Salesforce's message doesn't repeat."""
    values = {}
    for name in fields:
        for key in (name, f"{name}Code"):
            if key in sent:
                values[name] = sent[key]
                break
    return values


def each_chunk_retried(fn: Callable[[list], Any], items: list, size: int) -> list:
    """``with_retries(lambda: fn(items))`` for a call the connector splits into chunks of
    ``size``, but with each chunk retried on its own: a retry never re-sends the chunks that
    already went through. The chunks' results, concatenated. Idempotent calls only."""
    out: list = []
    for part in retried_chunks(fn, items, size):
        out.extend(part or [])
    return out


def hubspot_associations_read(hubspot, from_type: str, to_type: str, ids: list[str]) -> BatchResult:
    """Association batch reads, 1,000 ids per call, each call retried alone. A record with
    more associations than one answer holds (500) carries ``paging``: its further pages are
    read too (``{"id", "after"}`` inputs, 1,000 per call) and joined into its one result, so
    no association beyond the first page is missed."""
    operation = f"associations.{from_type}.{to_type}.batch.read"
    result = BatchResult()
    for part in retried_chunks(
        lambda c: hubspot.associations_batch_read(
            from_object_type=from_type, to_object_type=to_type, ids=c
        ),
        ids,
        ASSOCIATION_BATCH_READ_SIZE,
        ahead=(hubspot, operation),
    ):
        result.add(part)
    first = {str(entry._from.id): entry for entry in result.results}
    pending = _association_pages_left(result.results)
    while pending:
        pages = BatchResult()
        for part in retried_chunks(
            lambda c: hubspot.call(
                "crm.associations.v4.batch_api",
                "get_page",
                from_type,
                to_type,
                {"inputs": c},
                operation=operation,
            ),
            pending,
            ASSOCIATION_BATCH_READ_SIZE,
        ):
            pages.add(part)  # errors: the rest went meanwhile; the pages read stand
        for page in pages.results:
            entry = first.setdefault(str(page._from.id), page)
            if entry is page:
                result.results.append(page)
            else:
                entry.to = list(entry.to or []) + list(page.to or [])
        pending = _association_pages_left(pages.results)
    for entry in result.results:
        entry.paging = None
    return result


def _association_pages_left(entries: list) -> list[dict]:
    """The ``{"id", "after"}`` inputs reading on where these batch-read results stopped."""
    after = {}
    for entry in entries:
        cursor = getattr(getattr(entry.paging, "next", None), "after", None)
        if cursor:
            after[str(entry._from.id)] = cursor
    return [{"id": record, "after": cursor} for record, cursor in after.items()]


def hubspot_batch_read(hubspot, *, ids: list[str], **kwargs: Any) -> BatchResult:
    """``hubspot.batch_read(ids=…, **kwargs)``, 100 ids per call, each call retried alone
    (the calls after the first go out together, see ``retried_chunks``)."""
    result = BatchResult()
    operation = f"{kwargs['object_type']}.batch.read"
    for part in retried_chunks(
        lambda c: hubspot.batch_read(ids=c, **kwargs),
        ids,
        HUBSPOT_BATCH,
        ahead=(hubspot, operation),
    ):
        result.add(part)
    return result


ZERO = timedelta(0)


def _db_adapter(field: models.Field, connection) -> Any:
    """A field's ``get_db_prep_save`` for plain values, minus Django's per-value checks (the
    bulk of a backfill's commit time): datetimes and JSON straight to the backend's adapter;
    None for fields whose value goes as it is."""
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        adapt = connection.ops.adapt_datetimefield_value
        if connection.vendor == "sqlite" and str(connection.timezone) == "UTC":
            # What Django's SQLite adapter makes of a UTC moment (the naive UTC time as text),
            # without its per-value checks: every link carries two or three such moments.
            def adapt(value: Any, django_adapt=adapt) -> Any:
                if isinstance(value, datetime) and value.utcoffset() == ZERO:
                    return str(value.replace(tzinfo=None))
                return django_adapt(value)

        last: list = [None, None]  # rows often share a moment (e.g. last_synced_at)

        def adapt_datetime(value: Any) -> Any:
            if value is None:
                return None
            if value is not last[0]:
                last[0], last[1] = value, adapt(value)
            return last[1]

        return adapt_datetime
    if internal == "JSONField":
        adapt_json, encoder = connection.ops.adapt_json_value, field.encoder
        return lambda value: None if value is None else adapt_json(value, encoder)
    if internal in ("CharField", "TextField", "ForeignKey", "BigAutoField", "AutoField"):
        return None  # the value as it is
    return lambda value: field.get_db_prep_save(value, connection)


def _adapted(values: tuple, adapters: list) -> list:
    """``values`` for the database, each through its adapter (None: as it is)."""
    return [
        value if adapt is None else adapt(value)
        for value, adapt in zip(values, adapters, strict=True)
    ]


def rows_update(model: type[models.Model], objs: list, fields: list[str]) -> None:
    """``model.objects.bulk_update(objs, fields)`` as one parameterised ``UPDATE … WHERE pk``
    run with ``executemany``: Django's ``bulk_update`` builds a ``CASE WHEN`` per field and
    row, which cost most of a backfill's commit time. Like ``bulk_update``, no signals and no
    ``auto_now``."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    fetch = attrgetter(*(f.attname for f in columns), "pk")
    adapters = [_db_adapter(f, connection) for f in columns] + [None]  # the pk as it is
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET "  # noqa: S608 (names from the model)
        + ", ".join(f"{quote(f.column)} = %s" for f in columns)
        + f" WHERE {quote(meta.pk.column)} = %s"
    )
    rows = [_adapted(fetch(obj), adapters) for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def rows_insert(model: type[models.Model], objs: list, *, batch_size: int = 500) -> None:
    """``model.objects.bulk_create(objs)`` (pks set from ``RETURNING``, ``auto_now_add``
    applied, no signals) with the SQL written here: Django compiles every value of every row,
    which cost a backfill more than the insert itself. Backends that can't return rows from a
    bulk insert get ``bulk_create``."""
    if not objs:
        return
    db = router.db_for_write(model)
    connection = connections[db]
    if not connection.features.can_return_rows_from_bulk_insert:
        model.objects.using(db).bulk_create(objs, batch_size=batch_size)
        return
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if f is not pk]
    fetch = attrgetter(*(f.attname for f in fields))
    adapters = [_db_adapter(f, connection) for f in fields]
    # ``pre_save`` only matters for auto_now(_add) moments; the rest is the attribute.
    automatic = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    quote = connection.ops.quote_name
    returning, returning_params = connection.ops.return_insert_columns([pk])
    head = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 (names from the model)
        f"({', '.join(quote(f.column) for f in fields)}) VALUES "
    )
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params: list = []
            for obj in batch:
                for f in automatic:
                    f.pre_save(obj, True)
                params += _adapted(fetch(obj), adapters)
            cursor.execute(
                head + ", ".join([row_sql] * len(batch)) + " " + returning,
                [*params, *returning_params],
            )
            for obj, row in zip(
                batch, connection.ops.fetch_returned_insert_rows(cursor), strict=True
            ):
                setattr(obj, pk.attname, row[0])
                obj._state.adding, obj._state.db = False, db


def split_until_alone(
    chunk: list[dict],
    error: Exception,
    send: Callable[[list[dict]], None],
    refused: Callable[[dict, Exception], None],
) -> None:
    """A batch HubSpot rejected as a whole (it validates batches as a whole): each half is
    sent again, until the bad inputs stand alone and are ``refused`` with their error, so
    one bad input never blocks the others."""
    if len(chunk) == 1:
        refused(chunk[0], error)
        return
    middle = len(chunk) // 2
    send(chunk[:middle])
    send(chunk[middle:])


def association_input(
    from_id: str, to_id: str, type_id: int, category: str = "HUBSPOT_DEFINED"
) -> dict:
    """One input of a HubSpot association batch create (``hubspot_associate``)."""
    return {
        "from": {"id": from_id},
        "to": {"id": to_id},
        "types": [{"associationCategory": category, "associationTypeId": type_id}],
    }


def dissociation_input(from_id: str, to_ids: Iterable[str]) -> dict:
    """One input of a HubSpot association batch archive (``hubspot_dissociate``)."""
    return {"from": {"id": from_id}, "to": [{"id": to_id} for to_id in to_ids]}


def record_ids(keys: Iterable[str], side: str) -> list[str]:
    """The ids of the record keys (``<side>:<id>``) on ``side`` ("hubspot", "salesforce")."""
    return sorted({k.split(":", 1)[1] for k in keys if k.startswith(f"{side}:")})


def salesforce_version(record: dict) -> Version:
    return Version.of(record["Id"], parse_time(record.get("SystemModstamp")), record)


def hubspot_version(obj: Any, modified_property: str) -> Version:
    return Version.of(
        str(obj.id), parse_time(obj.properties.get(modified_property)), obj.properties
    )


def upsert_wrote(entry: Any, obj: Any, own_source: str | None) -> bool:
    """Whether a property's history ``entry`` is the upsert write that answered ``obj``: the
    integration's, at the moment the answer stamps the record (a second apart at most)."""
    stamp, at = parse_time(entry.timestamp), parse_time(getattr(obj, "updated_at", None))
    if stamp is None or at is None or abs(stamp - at) > timedelta(seconds=1):
        return False
    return not own_source or str(getattr(entry, "source_id", "") or "") == own_source


def history_times(obj: Any, *, own_source: str | None = None) -> dict[str, datetime]:
    """When each property last changed in HubSpot, from its history. Values the integration
    wrote itself (``sourceId`` ``own_source``) are no HubSpot edit: a write whose answer or
    commit was lost must not look newer than the Salesforce value it came from."""
    history = getattr(obj, "properties_with_history", None) or {}
    times = {}
    for prop, entries in history.items():
        stamps = [
            parse_time(e.timestamp)
            for e in entries or []
            if getattr(e, "timestamp", None)
            and not (own_source and str(getattr(e, "source_id", "") or "") == own_source)
        ]
        if stamps:
            times[prop] = max(stamps)
    return times
