"""One Salesforce object ⇄ one HubSpot custom object (spec §15), a pair named ``custom:<n>``.

Set up by the Custom objects wizard (``CustomObjectSettings``): which two objects, what each
side does with the other's updates and deletes, which app wins a conflict, field mappings
(never lookups) and associations (the object's Contact/Account/Opportunity/Case lookups ⇄
HubSpot associations to contacts/companies/deals/tickets).

A cycle, on the shared ``PairSync`` machinery:

1. Salesforce changes: one ``queryAll`` on ``SystemModstamp`` (deletes show as ``IsDeleted``).
2. HubSpot changes: the search API on ``hs_lastmodifieddate``.
3. HubSpot deletes (only when a HubSpot delete deletes in Salesforce): the archived records,
   one call per 100, every ten minutes; those still linked are deleted in Salesforce.
4. The association sweep: associating doesn't change a HubSpot record, so a slice of the
   linked records has its associations read (one call per associated object, at the start of
   the cycle, shared with the batches of changes among it) and those that moved merged.
5. Records waiting for the contact, company, deal or ticket their lookup points at (or, in
   HubSpot, they are associated with), once it is linked; and those synced without it while
   that pair was off, once it is on (``retry_paused``: only when a flag row says some were).
6. Due retries and records an admin asked to sync.

Each changed record is compared with its link's snapshot (the values both sides held after the
last sync): what equals it is an echo or an unmapped edit and costs nothing more. Otherwise,
field by field: the side that changed since the last sync wins; when both changed, the app
named in "resolve sync conflict" wins. A direction set to *do nothing* never writes.

Creates are idempotent: HubSpot records are **upserted** by ``salesforce_record_id_sync``, a
unique property (created once per custom object) holding the Salesforce id; Salesforce records
are **upserted** by the object's external id field when it has one (its mapped HubSpot value,
or else the HubSpot record id), so a crash between the write and the stored link finds the
same record again instead of creating a second one (and a record keyed by a HubSpot id whose
value never reached HubSpot is linked back to that record, not created again there). Without
one (e.g. Campaign), a create whose answer or commit was lost is found by its name, as for
accounts and opportunities: an unlinked record the integration user created in the last day
is linked to the unlinked, key-less HubSpot record of that name instead of being created
again on either side. A record created without a name (an auto-number one) is found by every
value it was created with, among the integration user's creates since (``intents``).

A lookup moved in Salesforce creates the new HubSpot association before it archives the old
one; one that doesn't land keeps in the snapshot what HubSpot holds, so the retry writes the
Salesforce value again (never reads HubSpot as changed). A waiting error ends only once the
association is written.

A HubSpot delete Salesforce refuses keeps its link (and its error) until a retry deletes the
record: a failed delete never turns into a new HubSpot record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from .. import services
from ..errors import BadRequest, RemoteError
from ..models import (
    ObjectSync,
    RecordLink,
    SchemaCache,
    SyncCursor,
    SyncError,
    System,
)
from ..selectors import pairs_switched_on, salesforce_id_forms, salesforce_id_suffix
from .changes import (
    OVERLAP,
    Cursor,
    SoqlStream,
    composite_query,
    http_date,
    hubspot_changes,
    ids_queries,
    parse_time,
    salesforce_by_ids,
    salesforce_pages,
    with_retries,
)
from .context import CycleContext
from .currencies import AmountNotConvertible
from .pair import (
    MERGED_IDS,
    RETRY_BATCH,
    SALESFORCE_COLLECTION,
    Pair,
    PairSync,
    association_input,
    dissociation_input,
    each_chunk_retried,
    hubspot_associations_read,
    hubspot_batch_read,
    hubspot_version,
    merge_survivors,
    record_ids,
    salesforce_version,
)
from .values import NUMBER_TYPES, ValueConversionError, normalize, to_salesforce

log = logging.getLogger(__name__)

MODIFIED = "hs_lastmodifieddate"
KEY_PROPERTY = "salesforce_record_id_sync"  # unique: idempotent upserts of new records
# CreatedDate and CreatedById: our own lost creates (``created_by_us``).
SYSTEM_FIELDS = [
    "Id",
    "IsDeleted",
    "SystemModstamp",
    "LastModifiedDate",
    "CreatedDate",
    "CreatedById",
]
# HubSpot object associated -> the Salesforce object a lookup must point to. The pair of the
# same name (contacts, companies, deals, tickets) holds the links between them.
ASSOCIATION_TARGETS = services.CUSTOM_OBJECT_ASSOCIATIONS
# A lookup to a contact, account, opportunity or case that has no HubSpot record yet leaves
# this error on the record (its link snapshot keeps the lookup under ``__<object>_waiting``)
# until it has one, as tickets wait for theirs: left alone, the association would never come.
WAITING = {
    "contacts": "waiting_for_contact",
    "companies": "waiting_for_account",
    "deals": "waiting_for_opportunity",
    "tickets": "waiting_for_case",
}
SINGULAR = {"contacts": "contact", "companies": "company", "deals": "deal", "tickets": "ticket"}
BATCH = 500
CREATE_OR_UPDATE = "create_or_update"
DELETES_EVERY = timedelta(minutes=10)  # how often HubSpot's archived records are listed
SWEEP = 1000  # linked records whose HubSpot associations the sweep compares per cycle


@dataclass
class HubSpotRecordPair(Pair):
    """A HubSpot record without its Salesforce record (yet): its errors are labelled with
    the property mapped to ``Name``, else the object's primary display property, not only
    its id (the shared label knows the standard objects' name properties only)."""

    name_property: str | None = None

    @property
    def label(self) -> str:
        return super().label or str(self.hs_props.get(self.name_property or "") or "")


def external_id_field(fields: dict[str, dict]) -> str | None:
    """The object's external id field we can upsert by (unique ones first), if it has one."""
    candidates = [
        f
        for f in fields.values()
        if f.get("externalId") and f.get("createable") and f.get("updateable")
    ]
    candidates.sort(key=lambda f: (not f.get("unique"), f["name"]))
    return candidates[0]["name"] if candidates else None


def salesforce_id(value: str) -> str | None:
    """A key property's value as the 18-character Salesforce id it stands for, or None when
    it is none (typed or imported by hand: Salesforce refuses a whole query over it)."""
    if len(value) not in (15, 18) or not value.isascii() or not value.isalnum():
        return None
    if len(value) == 15:
        return value + salesforce_id_suffix(value)
    suffix = value[15:].upper()
    for form in salesforce_id_forms(value):  # an 18-character id may have lost its case
        if len(form) == 15 and salesforce_id_suffix(form) == suffix:
            return form + suffix
    return None


def is_number(value: str) -> bool:
    """Whether SOQL can take ``value`` as a number (not "NaN", nor "Infinity")."""
    try:
        return Decimal(value.strip()).is_finite()
    except InvalidOperation:
        return False


def hubspot_association(last: str | None, held: list[str]) -> str:
    """The one association a lookup compares with, of those a record holds: the one it last
    synced with while it still holds it, else the lowest id (none: blank)."""
    return last if last and last in held else (held[0] if held else "")


def paused_stream(hs_object: str, object_name: str) -> str:
    """The row that says records of ``object_name`` had their ``hs_object`` lookup or
    association skipped while that pair was off, so ``retry_paused`` looks for them once it is
    on (not every cycle). Ends in ``:<object_name>``: removing the pairing removes it."""
    return f"paused:{hs_object}:{object_name}"


def paused_markers(hs_object: str) -> tuple[str, str]:
    """The link snapshot keys of a skipped lookup (the Salesforce record it points at) and a
    skipped association (the HubSpot record it is with)."""
    return f"__{hs_object}_paused", f"__{hs_object}_hs_paused"


def salesforce_stream(sobject: str, object_name: str) -> str:
    """The cursor of a custom object pair's Salesforce stream: "salesforce:<object>:…", so the
    cycle's change probe knows it by its object."""
    return f"salesforce:{sobject}:{object_name}"


class CustomObjectSync(PairSync):
    modified_property = MODIFIED
    notes_create_intents = True

    @classmethod
    def stream_names(cls, object_name: str, options: dict | None) -> tuple[str, ...]:
        sobject = (options or {}).get("salesforce_object")
        return (salesforce_stream(sobject, object_name),) if sobject else ()

    def __init__(self, ctx: CycleContext) -> None:
        super().__init__(ctx)
        self.object_name = ctx.object_name  # "custom:<n>": links, cursors and errors
        self.sobject = self.settings.salesforce_object
        self.hubspot_type = self.settings.hubspot_object  # e.g. "2-1000001": HubSpot calls
        self.fields_known = ctx.salesforce_fields.get(self.sobject, {})
        self.external_id = external_id_field(self.fields_known)
        # Salesforce matches external id values ignoring case, unless the field is unique
        # and set to tell "ABC" from "abc".
        described = self.fields_known.get(self.external_id or "", {})
        self.id_case_matters = bool(described.get("unique") and described.get("caseSensitive"))
        # A number one is queried by numbers (Salesforce refuses a quoted one) and matched as one.
        self.id_is_number = described.get("type") in NUMBER_TYPES
        self.allow_to_hubspot = self.settings.salesforce_to_hubspot == CREATE_OR_UPDATE
        self.allow_to_salesforce = self.settings.hubspot_to_salesforce == CREATE_OR_UPDATE
        self.associations = {
            hs_object: name
            for hs_object, name in (self.settings.associations or {}).items()
            if hs_object in ASSOCIATION_TARGETS and name in self.fields_known
        }
        self._association_types: dict[str, tuple[str, int] | None] = {}
        self._hubspot_associations: dict[str, dict[str, list[str]]] = {}  # the batch's
        # Records' HubSpot associations read this cycle (associated object -> HubSpot id ->
        # the ids it is associated with): the sweep's slice is read at the start, so batches
        # of changes among it share that read; a record's go once its batch wrote.
        self._associations_read: dict[str, dict[str, list[str]]] = {}
        self._in_step: set[str] = set()  # HubSpot records this cycle's batches put in step
        self._association_writes: list[tuple[Pair, str, str, str]] = []
        # (pair, associated object, side whose record waited) whose wait is over: ended once
        # its writes land (end_waits)
        self._waits_over: list[tuple[Pair, str, str]] = []
        # (pair, associated object, lookup, HubSpot record) waiting for it (hubspot_wait)
        self._hubspot_waits: list[tuple[Pair, str, str, str]] = []
        # associated object -> HubSpot id -> the other Salesforce object it syncs with (a
        # HubSpot contact synced with a lead): a lookup can't point at it (merge_associations)
        self._linked_as_other: dict[str, dict[str, str]] = {}
        self._pairs_on: set[str] | None = None  # the pairs switched on (see pair_on)
        self._deletes_since: dict[str, datetime] = {}  # see note_delete_rules
        self._delete_cursors: dict[str, Cursor] = {}  # their cursors, as loaded there
        # Salesforce id -> when a linked record was deleted (load_salesforce_partners)
        self._salesforce_deleted_at: dict[str, datetime | None] = {}
        self._display: str | None = None  # see display_property
        self._merged_away: set[str] = set()  # see load_hubspot_partners
        # ``align_options`` (shared) adds missing dropdown options through the context: on
        # this pair's HubSpot object type, not on the pair's name.
        ctx.hubspot_type = self.hubspot_type

    @property
    def configured(self) -> bool:
        return bool(self.sobject and self.hubspot_type and self.fields_known)

    # --- the cycle ------------------------------------------------------------------------
    def run(self) -> None:
        if not self.configured:
            self.counts["not_configured"] += 1
            return
        self.ensure_key_property()
        self.note_delete_rules()
        self.start_sweep()
        self.sync_salesforce_changes()
        self.sync_hubspot_changes()
        if self.settings.hubspot_delete == "delete":
            self.sync_hubspot_deletes()
        self.sweep_associations()
        if self.ctx.retry_allowed:
            self.retry_waiting()
            self.retry_errored()
        self.writes_remembered()  # the next cycle's Salesforce read meets ours (run counts)

    def note_delete_rules(self) -> None:
        """Since when each delete rule ("a HubSpot delete deletes in Salesforce" and the
        reverse) has been on: from when the pair's settings last changed, noted by the first
        cycle with it on. Only deletes made since count; earlier ones are handled as under "do
        nothing", so turning a rule on never deletes retroactively. A rule that is off
        forgets it: turned on again later, it starts afresh."""
        self._deletes_since, self._delete_cursors = {}, {}
        off: list[str] = []
        for rule, stream in (
            ("hubspot_delete", self.deletes_stream),
            ("salesforce_delete", f"salesforce:deletes:{self.object_name}"),
        ):
            if getattr(self.settings, rule) != "delete":
                off.append(stream)
                continue
            cursor = self._delete_cursors[rule] = Cursor.load(self.ctx.integration, stream)
            row = cursor.row
            if row.position is None:
                row.position = ObjectSync.objects.filter(
                    integration=self.ctx.integration, object=self.object_name
                ).values_list("updated_at", flat=True)[0]
                row.save(update_fields=["position", "updated_at"])
            # Salesforce stamps whole seconds: a delete in the same second as the change counts.
            self._deletes_since[rule] = (
                row.position.replace(microsecond=0) if rule == "salesforce_delete" else row.position
            )
        SyncCursor.objects.filter(integration=self.ctx.integration, stream__in=off).delete()

    def deleted_since_rule(self, rule: str, at: datetime | None) -> bool:
        """Whether a delete made at ``at`` (None: unknown) falls under ``rule`` being on."""
        since = self._deletes_since.get(rule)
        return since is not None and at is not None and at >= since

    def ensure_key_property(self) -> None:
        """The unique property new HubSpot records are upserted by (created once)."""
        if KEY_PROPERTY in self.ctx.hubspot_properties:
            return
        groups = self.ctx.hubspot.call(
            "crm.properties.groups_api",
            "get_all",
            self.hubspot_type,
            operation=f"{self.hubspot_type}.properties.groups.list",
        )
        names = [g.name for g in getattr(groups, "results", None) or []]
        self.hubspot_key_property(
            object_type=self.hubspot_type,
            name=KEY_PROPERTY,
            label="Salesforce record id (sync key)",
            group=names[0] if names else "",
        )

    # --- what is read ---------------------------------------------------------------------
    def record_fields(self) -> list[str]:
        # The record's name labels its sync errors, mapped or not.
        name = "Name" if "Name" in self.fields_known else None
        fields = self.fields_to_read(self.sobject, SYSTEM_FIELDS, name, self.external_id)
        for lookup in self.associations.values():  # the lookups its associations follow
            if lookup not in fields:
                fields.append(lookup)
        return fields

    @property
    def hubspot_read_properties(self) -> list[str]:
        # The display property too, so an error of a record made in HubSpot is named.
        display = self.display_property()
        return sorted(
            {m.hubspot_property for m in self.ctx.mappings}
            | {MODIFIED, KEY_PROPERTY, MERGED_IDS}  # (merges in HubSpot: links follow them)
            | ({display} if display else set())
        )

    @property
    def hubspot_properties(self) -> list[str]:  # what the shared lost-create lookups read
        return self.hubspot_read_properties

    def mapped(self):
        """(mapping, Salesforce field) for every mapping the object has."""
        for mapping in self.ctx.mappings:
            name = self.ctx.mapped_field(mapping, self.sobject)
            if name:
                yield mapping, name

    # --- Salesforce → HubSpot -------------------------------------------------------------
    def sync_salesforce_changes(self) -> None:
        stream = SoqlStream(
            self.sobject,
            self.record_fields(),
            Cursor.load(self.ctx.integration, salesforce_stream(self.sobject, self.object_name)),
        )
        for _stream, records in self.salesforce_stream_pages([stream], include_deleted=True):
            self.counts["read_salesforce"] += len(records)
            self.handle_salesforce(records, stream.cursor)

    def handle_salesforce(
        self, records: list[dict], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            records, cursor, force=force, version=salesforce_version
        )
        self.salesforce_deletes([r for r in fresh if r.get("IsDeleted")])
        pairs, unlinked = self.split_salesforce_changes(
            [r for r in fresh if not r.get("IsDeleted")],
            self.sobject,
            creates=self.allow_to_hubspot,
            force=force,
        )
        self.load_hubspot_partners(pairs)
        gone = [p for p in pairs if p.hubspot is None]
        unlinked += self.partners_deleted_in_hubspot(gone, force=force)
        pairs = [p for p in pairs if p.hubspot is not None]
        pairs += self.match_in_hubspot(unlinked)
        self.merge_and_write(pairs)
        self.commit(pairs, cursor, handled)

    def salesforce_unchanged(self, record: dict, link: RecordLink) -> bool:
        for mapping, name in self.mapped():
            try:
                prop = mapping.hubspot_property
                kind = self.value_type(self.sobject, name, prop)
                if self.is_converted_amount(self.sobject, name):
                    value = self.amount_compared(
                        self.sobject, name, record, link.snapshot.get(prop)
                    )
                else:
                    value = normalize(record.get(name), kind)
            except ValueConversionError:
                return False
            if not self.same_value(kind, link.snapshot.get(mapping.hubspot_property), value):
                return False
        for hs_object, name in self.associations.items():
            if link.snapshot.get(f"__{hs_object}_sf") != (record.get(name) or ""):
                return False
            if f"__{hs_object}_sent" in link.snapshot:  # an association write left unsettled
                return False
        return True

    def hubspot_unchanged(self, obj: Any, link: RecordLink) -> bool:
        props = obj.properties or {}
        if (
            KEY_PROPERTY in self.ctx.hubspot_properties
            and props.get(KEY_PROPERTY) != link.salesforce_id
        ):
            return False  # its key emptied or retyped: given back its record's id (merge)
        for mapping, name in self.mapped():
            prop = mapping.hubspot_property
            try:
                kind = self.value_type(self.sobject, name, prop)
                value = self.hubspot_compared(self.sobject, prop, name, props)
            except ValueConversionError:
                return False
            if not self.same_value(kind, link.snapshot.get(prop), value):
                return False
        return True

    def read_hubspot(self, ids: list[str]) -> dict[str, Any]:
        """The object's records by id (its conflicts follow the conflict rule, not property
        history)."""
        return self.hubspot_read(ids, properties=self.hubspot_read_properties, history=False)

    def load_hubspot_partners(self, pairs: list[Pair]) -> None:
        """The HubSpot records of linked pairs. One merged into another record in HubSpot
        reads as that record, under its own id: the link follows it unless it has a partner
        of its own (``repoint_hubspot``); then the link goes, and the merged-away record
        counts as no delete (``partners_deleted_in_hubspot``)."""
        objects = self.read_hubspot([p.link.hubspot_id for p in pairs])
        survivors = merge_survivors(objects.values())
        self._merged_away = set()
        for pair in pairs:
            hubspot_id = pair.link.hubspot_id
            pair.hubspot = objects.get(hubspot_id)
            survivor = survivors.get(hubspot_id) if pair.hubspot is None else None
            if survivor is not None:
                self._merged_away.add(hubspot_id)
                if self.repoint_hubspot(pair.link, str(survivor.id)):
                    pair.hubspot = survivor

    def partners_deleted_in_hubspot(self, pairs: list[Pair], *, force: bool) -> list[dict]:
        """Linked Salesforce records whose HubSpot record is gone: with "a HubSpot delete
        deletes in Salesforce", those archived since that was on are deleted; the others (as
        with "do nothing") are unlinked, and created again in HubSpot when Salesforce →
        HubSpot creates, only for a change of the record (``force``: a retry, see
        ``hubspot_deletes_stand``). One gone from HubSpot's archive too (deleted for good)
        went after it last synced: it counts if that was since the rule was on."""
        archived_at = (
            self.hubspot_archived_at([p.link.hubspot_id for p in pairs])
            if pairs and self.settings.hubspot_delete == "delete"
            else {}
        )
        again: dict[str, str] = {}  # Salesforce id -> the deleted HubSpot id
        doomed: list[dict] = []
        for pair in pairs:
            at = archived_at.get(pair.link.hubspot_id) or pair.link.last_synced_at
            merged = pair.link.hubspot_id in self._merged_away  # a merge deletes nothing
            if not merged and self.deleted_since_rule("hubspot_delete", at):
                doomed.append(pair.salesforce)
            elif self.allow_to_hubspot:
                again[pair.salesforce_id or ""] = pair.link.hubspot_id
            else:
                self.skipped("create_disabled", f"salesforce:{pair.salesforce_id}")
        deleted = self.delete_in_salesforce(doomed)  # before the links go: a crash re-reads them
        # A delete Salesforce refused keeps its link: its retry deletes again, instead of
        # the unlinked record creating a new HubSpot record.
        refused = {r["Id"] for r in doomed} - deleted
        self.unlink([p for p in pairs if p.salesforce_id not in refused])
        stand = self.hubspot_deletes_stand(again, force=force)
        return [p.salesforce for p in pairs if p.salesforce_id in again.keys() - stand]

    def hubspot_archived_at(self, ids: list[str]) -> dict[str, datetime]:
        """When each of these archived HubSpot records was archived (one batch read per 100);
        one archived without a time counts as archived now, as in ``sync_hubspot_deletes``."""
        if not ids:
            return {}
        result = hubspot_batch_read(
            self.ctx.hubspot,
            object_type=self.hubspot_type,
            ids=ids,
            properties=[KEY_PROPERTY],
            archived=True,
        )
        return {
            str(o.id): parse_time(getattr(o, "archived_at", None)) or timezone.now()
            for o in result.results
        }

    def unlink(self, pairs: list[Pair]) -> None:
        RecordLink.objects.filter(pk__in=[p.link.pk for p in pairs]).delete()
        for pair in pairs:
            pair.link = None
        self.counts["links_removed"] += len(pairs)

    def match_in_hubspot(self, records: list[dict]) -> list[Pair]:
        """Unlinked Salesforce records. With the external id mapped, the unlinked HubSpot
        record holding the same value (one search per 100 values), else (a create from
        HubSpot whose write-back was lost) the value-less HubSpot record whose id it holds
        (``match_lost_writebacks``); with it unmapped, the HubSpot record whose id it holds
        (a record this pair created from HubSpot whose link was lost); without an external
        id, for records the integration user created in the last day, the unlinked key-less
        HubSpot record it was created for (our lost create, ``hubspot_lost_creates``). The
        others are created, upserted by the key property, which also finds our own lost
        creates in HubSpot."""
        if not records:
            return []
        candidates: dict[str, Any] = {}  # Salesforce id -> HubSpot object
        prop = self.external_id_property()
        if self.external_id and prop:
            values: dict[str, str] = {}  # external_key -> Salesforce id
            searched: set[str] = set()
            for record in records:
                value = str(record.get(self.external_id) or "")
                if value:
                    searched.add(value)
                    values.setdefault(self.external_key(value), record["Id"])

            # HubSpot's search compares a number property as a number (1000.5 finds
            # "1000.50"): its answers are matched the same way, not by their text.
            def owner_of(obj: Any) -> str | None:
                value = str((obj.properties or {}).get(prop) or "")
                return values.get(self.external_key(value)) if value else None

            # Of HubSpot records sharing a value, the one whose key names the record first,
            # then one without a key (a key naming another record keeps it from being taken).
            for obj in sorted(
                self.search_hubspot(prop, sorted(searched)),
                key=lambda o: (
                    owner_of(o) != salesforce_id(str((o.properties or {}).get(KEY_PROPERTY) or "")),
                    bool((o.properties or {}).get(KEY_PROPERTY)),
                ),
            ):
                owner = owner_of(obj)
                if owner and owner not in candidates:
                    candidates[owner] = obj
            candidates.update(self.match_lost_writebacks(records, candidates, prop))
        elif self.external_id:
            wanted = {
                r["Id"]: str(r.get(self.external_id) or "")
                for r in records
                if str(r.get(self.external_id) or "").isdigit()
            }
            found = self.read_hubspot(sorted(set(wanted.values())))
            candidates = {sf: found[hs] for sf, hs in wanted.items() if hs in found}
        else:
            ours = [r for r in records if self.created_by_us(r)]
            named: dict[str, str] = {}
            found = self.hubspot_lost_creates(
                ours, named, name_property=self.name_property(), key=KEY_PROPERTY
            )
            candidates = {sf: found[hs] for sf, hs in named.items()}
        taken = set(self.links_by("hubspot_id", [str(o.id) for o in candidates.values()]))
        elsewhere = self.keys_naming_others(candidates)
        pairs = []
        for record in records:
            obj = candidates.get(record["Id"])
            if obj is not None and (str(obj.id) in taken or str(obj.id) in elsewhere):
                obj = None
            if obj is not None:
                taken.add(str(obj.id))
                self.counts["matched"] += 1
            pairs.append(Pair(self.sobject, record, obj))
        return pairs

    def keys_naming_others(self, candidates: dict[str, Any]) -> set[str]:
        """The candidates (Salesforce id -> HubSpot record) whose key names another Salesforce
        record that exists: that one's partner. A key naming none (deleted, another org's
        after a sandbox refresh, not an id) doesn't hold the HubSpot record back (one query,
        only for such keys), as ``match_in_salesforce`` matches it by value."""
        keys: dict[str, str | None] = {}
        for sf_id, obj in candidates.items():
            key = (obj.properties or {}).get(KEY_PROPERTY)
            if key and salesforce_id(str(key)) != sf_id:
                keys[str(obj.id)] = salesforce_id(str(key))
        named = sorted({k for k in keys.values() if k} - set(candidates))
        found = self.query_records(ids_queries(self.sobject, ["Id"], named)) if named else []
        alive = {r["Id"] for r in found} | set(candidates)
        return {hs for hs, key in keys.items() if key in alive}

    def match_lost_writebacks(
        self, records: list[dict], found: dict[str, Any], prop: str
    ) -> dict[str, Any]:
        """With the external id mapped, a record created from a HubSpot record without a
        value is upserted by that record's id; if the write-back of the key and the value to
        HubSpot was lost (a failure, a crash), the search by value finds nothing. The numeric
        values the search missed are read as HubSpot ids (one batch read per 100 records, and
        none when the search found them all): a record there still without a value is the
        partner, as ``match_in_salesforce`` pairs it from the HubSpot side."""
        wanted = {
            r["Id"]: str(r.get(self.external_id) or "")
            for r in records
            if r["Id"] not in found and str(r.get(self.external_id) or "").isdigit()
        }
        if not wanted:
            return {}
        objects = self.read_hubspot(sorted(set(wanted.values())))
        return {
            sf: objects[hs]
            for sf, hs in wanted.items()
            if hs in objects and not (objects[hs].properties or {}).get(prop)
        }

    def search_hubspot(self, prop: str, values: list[str]) -> list[Any]:
        """HubSpot records whose ``prop`` is one of ``values`` (100 values per search)."""
        found: list[Any] = []
        for start in range(0, len(values), 100):
            chunk = values[start : start + 100]
            page = with_retries(
                lambda c=chunk: self.ctx.hubspot.search(
                    object_type=self.hubspot_type,
                    filter_groups=[
                        {"filters": [{"propertyName": prop, "operator": "IN", "values": c}]}
                    ],
                    properties=self.hubspot_read_properties,
                    limit=200,
                )
            )
            found.extend(page.results or [])
        return found

    def salesforce_deletes(self, records: list[dict]) -> None:
        """Deleted in Salesforce: the link goes; with "a Salesforce delete deletes in HubSpot"
        the HubSpot record is archived too, if deleted since that was on. The records' errors
        go with them (a HubSpot delete Salesforce refused, say, that someone then deleted by
        hand): nothing is left to retry. So do their HubSpot records' errors in writing to
        them (an edit Salesforce refused as deleted, deleted between the cycle's read and its
        write): their retry would make the record again from an edit older than the delete."""
        links = self.links_by("salesforce_id", [r["Id"] for r in records])
        if records and self.has_open_errors():
            services.sync_errors_resolve(
                integration=self.ctx.integration,
                object_name=self.object_name,
                record_keys=[f"salesforce:{r['Id']}" for r in records]
                + [f"hubspot:{link.hubspot_id}" for link in links.values()],
                ended_because=SyncError.EndedBecause.DELETED,
            )
        if not links:
            return
        self.hubspot_archive(
            [
                links[r["Id"]].hubspot_id
                for r in records
                if r["Id"] in links
                and self.deleted_since_rule(
                    "salesforce_delete", parse_time(r.get("SystemModstamp")) or timezone.now()
                )
            ]
        )
        RecordLink.objects.filter(pk__in=[link.pk for link in links.values()]).delete()
        self.counts["links_removed"] += len(links)

    # --- HubSpot → Salesforce -------------------------------------------------------------
    def sync_hubspot_changes(self) -> None:
        cursor = Cursor.load(self.ctx.integration, f"hubspot:{self.object_name}")
        read_started = None
        chunk: list[Any] = []
        for page in hubspot_changes(
            self.ctx.hubspot,
            object_type=self.hubspot_type,
            modified_property=MODIFIED,
            since=cursor.since,
            properties=self.hubspot_read_properties,
            limit=10**9,
        ):
            read_started = read_started or http_date(self.ctx.hubspot.server_date)
            self.counts["read_hubspot"] += len(page)
            chunk.extend(page)
            if len(chunk) >= BATCH:
                self.handle_hubspot(chunk, cursor)
                chunk = []
        if chunk:
            self.handle_hubspot(chunk, cursor)
        cursor.mark_checked(read_started or http_date(self.ctx.hubspot.server_date))

    def handle_hubspot(
        self,
        objects: list[Any],
        cursor: Cursor | None,
        *,
        force: bool = False,
        associations_moved: bool = False,
    ) -> None:
        """``force``: a retry or Resync; ``associations_moved``: the sweep found the linked
        records' associations moved, so they are merged though no property changed (no retry:
        one kept after its Salesforce record's delete isn't made again for that)."""
        fresh, handled = self.fresh_versions(
            objects, cursor, force=force, version=lambda o: hubspot_version(o, MODIFIED)
        )
        self.follow_hubspot_merges(fresh)
        pairs, unlinked = self.split_hubspot_changes(
            fresh, self.sobject, force=force or associations_moved
        )
        self.load_salesforce_partners(pairs)
        gone = [p for p in pairs if p.salesforce is None]
        unlinked += self.partners_deleted_in_salesforce(gone)
        pairs = [p for p in pairs if p.salesforce is not None]
        pairs += self.match_in_salesforce(unlinked, force=force)
        self.merge_and_write(pairs)
        self.commit(pairs, cursor, handled)

    def load_salesforce_partners(self, pairs: list[Pair]) -> None:
        if not pairs:
            return
        fields = self.record_fields()
        records = salesforce_by_ids(
            self.ctx.salesforce,
            self.sobject,
            fields,
            [p.link.salesforce_id for p in pairs],
            include_deleted="IsDeleted" in fields,  # when it was deleted, for the delete rule
        )
        found = {r["Id"]: r for r in records}
        for pair in pairs:
            record = found.get(pair.link.salesforce_id)
            if record is not None and record.get("IsDeleted"):
                self._salesforce_deleted_at[record["Id"]] = parse_time(record.get("SystemModstamp"))
                record = None
            pair.salesforce = record

    def partners_deleted_in_salesforce(self, pairs: list[Pair]) -> list[Any]:
        """Linked HubSpot records whose Salesforce record is gone: with "a Salesforce delete
        deletes in HubSpot", those deleted since that was on are archived; the others (as
        with "do nothing") are unlinked, and created again in Salesforce when HubSpot →
        Salesforce creates. One gone from the recycle bin too (purged) went after it last
        synced: it counts if that was since the rule was on."""
        again: list[Any] = []
        archive: list[str] = []
        for pair in pairs:
            at = self._salesforce_deleted_at.get(pair.link.salesforce_id)
            if self.deleted_since_rule("salesforce_delete", at or pair.link.last_synced_at):
                archive.append(pair.hubspot_id)
            elif self.allow_to_salesforce:
                again.append(pair.hubspot)
            else:
                self.skipped("create_disabled", f"hubspot:{pair.hubspot_id}")
        if archive:  # before the links go: a crash re-reads them
            self.hubspot_archive(archive)
        self.unlink(pairs)
        return again

    def external_id_property(self) -> str | None:
        """The HubSpot property mapped to the external id field, if it is mapped."""
        for mapping, name in self.mapped():
            if name == self.external_id:
                return mapping.hubspot_property
        return None

    def name_property(self) -> str | None:
        """The HubSpot property mapped to the record's ``Name``: what finds a lost create
        when the object has no external id."""
        for mapping, name in self.mapped():
            if name == "Name":
                return mapping.hubspot_property
        return None

    def display_property(self) -> str | None:
        """What names a record made in HubSpot on Sync health before it has a Salesforce
        name: the property mapped to ``Name``, else the custom object's primary display
        property (as HubSpot names its records)."""
        name = self.name_property()
        if name:
            return name
        if self._display is None:
            self._display = self.primary_display_property()
        return self._display or None

    def primary_display_property(self) -> str:
        """The schema's ``primaryDisplayProperty``, read once (one call) and kept with the
        cached properties as their ``primary`` flag: a schema refresh reads it again."""
        props = self.ctx.hubspot_properties
        if not props:
            return ""
        if any("primary" in p for p in props.values()):
            return next((n for n, p in props.items() if p.get("primary")), "")
        primary = ""
        for schema in self.ctx.hubspot.schemas_get_all():
            if schema.object_type_id == self.hubspot_type:
                primary = getattr(schema, "primary_display_property", None) or ""
        for name, info in props.items():
            info["primary"] = name == primary
        SchemaCache.objects.filter(
            integration=self.ctx.integration, system=System.HUBSPOT, object=self.object_name
        ).update(data=list(props.values()))
        return primary if primary in props else ""

    def external_id_value(self, obj: Any) -> str:
        """What a HubSpot record's Salesforce record is upserted by: its mapped value, or
        else its own id."""
        prop = self.external_id_property()
        value = (obj.properties or {}).get(prop) if prop else None
        return str(value) if value else str(obj.id)

    def match_in_salesforce(self, objects: list[Any], *, force: bool = False) -> list[Pair]:
        """Unlinked HubSpot records: the Salesforce record named by the key property (one we
        created it from), else the one with its external id value; otherwise a record is
        created (when HubSpot → Salesforce creates). A key naming no record (one deleted, or
        another org's after a sandbox refresh, or no id at all) falls back on the value, as
        the upsert creating it again would (a second query, only then). A record another
        HubSpot record already syncs with is never taken: a *Value already in use* error
        instead (``refuse_claim``). Without an external id, an unlinked record the
        integration user created as it would be (``salesforce_lost_creates``) is one whose
        create landed but whose link was never stored: linked, not created again. A record
        kept after the one its key names was deleted in Salesforce is created again only
        once edited since that delete (or on a retry or Resync, ``force``): the next cycles
        read back our own write of the key, which is no edit."""
        if not objects:
            return []
        named = {
            str(o.id): str((o.properties or {}).get(KEY_PROPERTY))
            for o in objects
            if (o.properties or {}).get(KEY_PROPERTY)
        }
        # Salesforce refuses a whole query over one malformed id: such a key names nothing.
        keyed = {hs: salesforce_id(key) for hs, key in named.items()}
        by_value = (
            {str(o.id): self.external_id_value(o) for o in objects if str(o.id) not in named}
            if self.external_id
            else {}
        )
        fields = self.record_fields()
        soqls = ids_queries(self.sobject, fields, sorted({k for k in keyed.values() if k}))
        if by_value:
            soqls += self.external_id_queries(fields, sorted(set(by_value.values())))
        # Deleted ones too (same calls): when a key's record went decides whether it comes back.
        records = self.query_records(soqls, include_deleted="IsDeleted" in fields)
        deleted_at = {
            r["Id"]: parse_time(r.get("SystemModstamp")) for r in records if r.get("IsDeleted")
        }
        records = [r for r in records if not r.get("IsDeleted")]
        by_id = {r["Id"]: r for r in records}
        left: set[str] = set()  # kept after their record's delete, not edited since
        for obj in objects:
            hs_id = str(obj.id)
            if not force and keyed.get(hs_id) in deleted_at:
                modified = parse_time((obj.properties or {}).get(MODIFIED))
                at = deleted_at[keyed[hs_id]]
                if modified is None or at is None or modified <= at:
                    left.add(hs_id)
        stale = (
            {
                str(o.id): self.external_id_value(o)
                for o in objects
                if str(o.id) in named and str(o.id) not in left and keyed[str(o.id)] not in by_id
            }
            if self.external_id
            else {}
        )
        missing = sorted(set(stale.values()) - set(by_value.values()))
        if missing:
            records += self.query_records(self.external_id_queries(fields, missing))
            by_id.update({r["Id"]: r for r in records})
        by_value.update(stale)
        # Matched as Salesforce's upsert matches them (``external_key``): a record missed here
        # would be upserted onto that one, synced or not.
        by_external = {
            self.external_key(r.get(self.external_id)): r
            for r in by_id.values()
            if self.external_id and r.get(self.external_id) not in (None, "")
        }
        # Each matchable Salesforce record's HubSpot record, when it already syncs with one.
        taken = dict(
            RecordLink.objects.filter(
                integration=self.ctx.integration, salesforce_id__in=list(by_id)
            ).values_list("salesforce_id", "hubspot_id")
        )
        pairs = []
        # A record its key names goes to that HubSpot record before one matching it by value.
        for obj in sorted(objects, key=lambda o: keyed.get(str(o.id)) not in by_id):
            hs_id = str(obj.id)
            if hs_id in left:
                self.skipped("salesforce_deleted", f"hubspot:{hs_id}")
                continue
            record = by_id.get(keyed.get(hs_id) or "")
            if record is None and hs_id in by_value:
                record = by_external.get(self.external_key(by_value[hs_id]))
            if record is not None and record["Id"] in taken:
                self.refuse_claim(
                    self.hubspot_record_pair(obj), record, taken[record["Id"]], key=named.get(hs_id)
                )
                continue
            if record is not None:
                taken[record["Id"]] = hs_id
                self.counts["matched"] += 1
                pairs.append(Pair(self.sobject, record, obj))
            elif self.allow_to_salesforce:
                pairs.append(self.hubspot_record_pair(obj))
            else:
                self.skipped("create_disabled", f"hubspot:{hs_id}")
        if not self.external_id:
            self.salesforce_lost_creates(
                [p for p in pairs if p.salesforce is None],
                sobject=self.sobject,
                fields=fields,
                name_property=self.name_property(),
            )
        return pairs

    def query_records(self, soqls: list[str], *, include_deleted: bool = False) -> list[dict]:
        """Every record of these queries (sent together, ``composite_query``)."""
        records: list[dict] = []
        for page in composite_query(self.ctx.salesforce, soqls, include_deleted=include_deleted):
            for batch in salesforce_pages(self.ctx.salesforce, page):
                records.extend(batch)
        return records

    def refuse_claim(self, pair: Pair, record: dict, holder: str, *, key: str | None) -> None:
        """The unlinked HubSpot record of ``pair`` would sync with ``record``, which HubSpot
        record ``holder`` already syncs with: two links to one record can't be, and its
        values must never land on another record's partner. A *Value already in use* error
        on it naming both (the fix: change its value or key, or merge the two); ``holder``
        keeps its link. ``key``: what the record's key property held."""
        pair.salesforce_failed = True
        sf_id, prop = record["Id"], self.external_id_property()
        value = record.get(self.external_id) if self.external_id else None
        held = f"{self.sobject} {sf_id} already syncs with another HubSpot record, {holder}"
        if key and salesforce_id(key) == sf_id:  # its key names that very record
            message = (
                f"This record's {KEY_PROPERTY} names {key}, but {held} (its sync key); only "
                f"one HubSpot record can sync with it. Empty {KEY_PROPERTY} on this record to "
                f"give it a {self.sobject} of its own, or merge it into HubSpot record {holder}."
            )
            fields: list[str] = []
        else:
            why = (
                f"This record's {KEY_PROPERTY} names {key}, which is no {self.sobject} in "
                f"Salesforce (deleted, another org's, or no id), so it was matched by "
                f"{self.external_id} ({value}): "
                if key
                else ""
            )
            fix = f"Give this record its own {prop}" if prop else "Change one of the two"
            message = (
                f"{why}{held} ({self.external_id or 'Id'} {value or sf_id}); only one HubSpot "
                f"record can sync with it. {fix}, or merge it into HubSpot record {holder}."
            )
            fields = [self.external_id] if self.external_id else []
        self.record_error(
            pair, "to_salesforce", "value_in_use", "DUPLICATE_EXTERNAL_ID", message, fields
        )

    def external_key(self, value: Any) -> str:
        """An external id value as Salesforce's upsert matches it: ignoring case, unless the
        field is case-sensitive; a number as a number (``1000.50`` is ``1000.5``)."""
        text = str(value)
        if self.id_is_number:
            try:
                return normalize(text, "double")
            except ValueConversionError:
                return text
        return text if self.id_case_matters else text.casefold()

    def external_id_queries(self, fields: list[str], values: list[str]) -> list[str]:
        """SOQL for the records holding one of these external id values; a number field's
        unquoted, and a value that is no number left out (no record can hold it)."""
        if not self.id_is_number:
            return ids_queries(self.sobject, fields, values, key=self.external_id)
        numbers = sorted({self.external_key(v) for v in values if is_number(v)})
        return [
            f"SELECT {', '.join(fields)} FROM {self.sobject} "  # noqa: S608
            f"WHERE {self.external_id} IN ({', '.join(numbers[start : start + 300])})"
            for start in range(0, len(numbers), 300)
        ]

    def hubspot_record_pair(self, obj: Any) -> Pair:
        return HubSpotRecordPair(self.sobject, None, obj, name_property=self.display_property())

    def sync_hubspot_deletes(self) -> None:
        """HubSpot records archived while linked: their Salesforce records are deleted (one
        listing call per 100 archived records; only when that setting is on). Only records
        archived since the setting was on count: turning it on never deletes retroactively.
        HubSpot lists archived records only all at once (kept 90 days), so the list is read
        every ``DELETES_EVERY``, not every cycle."""
        cursor = self._delete_cursors["hubspot_delete"]  # loaded by note_delete_rules
        checked = cursor.row.checked_at
        if checked is not None and timezone.now() - checked < DELETES_EVERY:
            return
        since = self._deletes_since["hubspot_delete"]  # see note_delete_rules
        if cursor.row.checked_at is not None:
            since = max(since, cursor.row.checked_at - OVERLAP)
        read_started = None
        for page in self.ctx.hubspot.objects_pages(
            object_type=self.hubspot_type, archived=True, limit=100, properties=[KEY_PROPERTY]
        ):
            read_started = read_started or http_date(self.ctx.hubspot.server_date)
            ids = [
                str(o.id)
                for o in getattr(page, "results", None) or []
                if (parse_time(getattr(o, "archived_at", None)) or since) >= since
            ]
            links = self.links_by("hubspot_id", ids)
            if not links:
                continue
            name = self.name_property()
            deleted = self.delete_in_salesforce(
                [
                    {"Id": link.salesforce_id, "Name": link.snapshot.get(name) if name else None}
                    for link in links.values()
                ]
            )
            # A refused delete keeps its link (and its error): the retry reads the Salesforce
            # record, finds its HubSpot record gone and deletes again.
            done = [link.pk for link in links.values() if link.salesforce_id in deleted]
            RecordLink.objects.filter(pk__in=done).delete()
            self.counts["links_removed"] += len(done)
        cursor.mark_checked(read_started)

    @property
    def deletes_stream(self) -> str:
        return f"hubspot:deletes:{self.object_name}"

    def delete_in_salesforce(self, records: list[dict]) -> set[str]:
        """Delete these Salesforce records (``Id``, and ``Name`` for the error card) because
        their HubSpot records were deleted; returns the ids that are gone (one already gone,
        in the recycle bin or purged from it, too). A refused delete is an error on the
        Salesforce record (``salesforce:<id>``, so its retry reads that record), and a delete
        that lands resolves it."""
        if not records:
            return set()
        ids = [r["Id"] for r in records]
        results = each_chunk_retried(
            lambda chunk: self.ctx.salesforce.collections_delete(ids=chunk),
            ids,
            SALESFORCE_COLLECTION,
        )
        # Refused as a record Salesforce doesn't have: one in the recycle bin
        # (ENTITY_IS_DELETED) is deleted, and so is one gone from it too (the other such
        # refusals, read again with queryAll, only then).
        codes = [{e.get("statusCode") for e in r.get("errors") or []} for r in results]
        pairs = [Pair(self.sobject, record, None) for record in records]
        gone = self.purged_of(
            [
                pair
                for pair, result, said in zip(pairs, results, codes, strict=False)
                if not result.get("success")
                and "ENTITY_IS_DELETED" not in said
                and all(f.record_gone for f in self.salesforce_failures(pair, result))
            ]
        )
        deleted: set[str] = set()
        for record, result, said in zip(records, results, codes, strict=False):
            if result.get("success") or "ENTITY_IS_DELETED" in said or record["Id"] in gone:
                deleted.add(record["Id"])
                self.counts["deleted_in_salesforce"] += 1
                continue
            first = (result.get("errors") or [{}])[0]
            why = f"Deleted in HubSpot; Salesforce refused to delete it: {first.get('message', '')}"
            self.record_salesforce_failure(
                Pair(self.sobject, record, None), {"errors": [{**first, "message": why}]}
            )
        if deleted and self.has_open_errors():
            services.sync_errors_resolve(
                integration=self.ctx.integration,
                object_name=self.object_name,
                record_keys=[f"salesforce:{i}" for i in sorted(deleted)],
                ended_because=SyncError.EndedBecause.DELETED,
            )
        return deleted

    # --- merge ----------------------------------------------------------------------------
    def decide(self, hs_value: str, sf_value: str, last: str | None, *, pair: Pair) -> str | None:
        """Which side's value wins: ``"hubspot"`` (written to Salesforce), ``"salesforce"``
        (written to HubSpot) or None (equal, or the winning direction does nothing)."""
        if hs_value == sf_value:
            return None
        hs_changed = last is None or hs_value != last
        sf_changed = last is None or sf_value != last
        if pair.hubspot is None:
            winner = "salesforce"
        elif pair.salesforce is None:
            winner = "hubspot"
        elif sf_changed and not hs_changed:
            winner = "salesforce"
        elif hs_changed and not sf_changed:
            winner = "hubspot"
        elif not self.allow_to_salesforce:  # both changed, only one direction syncs: its
            winner = "salesforce"  # source wins (no conflict to resolve)
        elif not self.allow_to_hubspot:
            winner = "hubspot"
        else:
            winner = self.settings.conflict_winner
            if last is not None:
                self.counts["conflicts"] += 1
        if last is None:  # first sync of a matched pair (or field): a blank never wipes a
            if winner == "salesforce" and sf_value == "":  # value, even one the other
                winner = "hubspot"  # direction doesn't sync (then nothing is written)
            elif winner == "hubspot" and hs_value == "":
                winner = "salesforce"
        if winner == "salesforce" and not self.allow_to_hubspot:
            return None
        if winner == "hubspot" and not self.allow_to_salesforce:
            return None
        return winner

    def read_only_winner(self, hs_value: str, sf_value: str, last: str | None) -> str | None:
        """A field Salesforce won't let anyone write (an auto-number, a formula) syncs to
        HubSpot only, as under "Always use Salesforce": its value overwrites HubSpot's
        whichever app wins conflicts (else HubSpot would differ for good); a blank clears
        HubSpot only once it was cleared in Salesforce."""
        if hs_value == sf_value or not self.allow_to_hubspot:
            return None
        if sf_value or (last is not None and last != sf_value):
            return "salesforce"
        return None

    def merge(self, pair: Pair) -> None:
        pair.clear_decisions()
        record, props = pair.salesforce or {}, pair.hs_props
        snapshot = pair.link.snapshot if pair.link and pair.link.pk else None
        creating = pair.salesforce is None
        for mapping, name in self.mapped():
            prop = mapping.hubspot_property
            kind = self.value_type(self.sobject, name, prop)
            amount = self.is_converted_amount(self.sobject, name)  # (see PairSync.merge_mapped)
            last = self.in_one_order(kind, snapshot.get(prop)) if snapshot is not None else None
            try:
                hs_value = self.in_one_order(
                    kind, self.hubspot_compared(self.sobject, prop, name, props)
                )
                if amount and not creating:
                    sf_value = self.amount_compared(self.sobject, name, record, last)
                else:
                    sf_value = self.in_one_order(kind, normalize(record.get(name), kind))
            except AmountNotConvertible as error:
                self.amount_not_convertible(pair, prop, name, error, "to_hubspot")
                continue
            except ValueConversionError as error:
                self.invalid_value(pair, "to_salesforce", prop, error, [name])
                continue
            if creating or self.ctx.writable(self.sobject, name, create=False):
                winner = self.decide(hs_value, sf_value, last, pair=pair)
            else:
                winner = self.read_only_winner(hs_value, sf_value, last)
            if winner is None:
                if hs_value == sf_value:
                    pair.same[prop] = hs_value
            elif winner == "hubspot":
                if self.ctx.writable(self.sobject, name, create=creating):
                    if amount:
                        try:
                            self.amount_to_salesforce(pair, self.sobject, name, hs_value)
                        except AmountNotConvertible as error:
                            self.amount_not_convertible(pair, prop, name, error, "to_salesforce")
                            continue
                    else:
                        value = to_salesforce(
                            hs_value, self.ctx.field_type(self.sobject, name), kind
                        )
                        pair.to_salesforce[name] = value
                    pair.snap_salesforce[prop] = hs_value
            elif self.ctx.hubspot_writable(prop):
                pair.to_hubspot[prop] = sf_value
                pair.snap_hubspot[prop] = sf_value
        if pair.hubspot is not None and not creating and props.get(KEY_PROPERTY) != record["Id"]:
            pair.to_hubspot[KEY_PROPERTY] = record["Id"]

    # --- associations: the object's lookups ⇄ HubSpot associations ----------------------
    def load_associations(self, pairs: list[Pair]) -> None:
        ids = [p.hubspot_id or "" for p in pairs if p.hubspot is not None]
        self._hubspot_associations = {h: self.associated(h, ids) for h in self.associations}

    def associated(self, hs_object: str, ids: list[str]) -> dict[str, list[str]]:
        """Each HubSpot record's associated ``hs_object`` ids, read once a cycle (one call per
        1,000 records): a record this cycle read already and hasn't written since costs none."""
        known = self._associations_read.setdefault(hs_object, {})
        missing = [i for i in dict.fromkeys(ids) if i not in known]
        if missing:
            result = hubspot_associations_read(
                self.ctx.hubspot, self.hubspot_type, hs_object, missing
            )
            found = {
                str(item._from.id): sorted({str(t.to_object_id) for t in item.to or []}, key=int)
                for item in result.results
            }
            known.update({i: found.get(i, []) for i in missing})
        return {i: known[i] for i in ids}

    def associations_written(self, pairs: list[Pair]) -> None:
        """What the batch's records hold now is what it decided: their associations read
        earlier are forgotten, and the sweep leaves them out (``sweep_slice_links``)."""
        for pair in pairs:
            for known in self._associations_read.values():
                known.pop(pair.hubspot_id or "", None)
            self._in_step.add(pair.hubspot_id or "")

    # --- the association sweep -------------------------------------------------------------
    @property
    def swept(self) -> dict[str, str]:
        """The associations (associated object -> lookup) whose HubSpot edits can reach
        Salesforce, so the sweep compares them: with HubSpot → Salesforce on, lookups the
        integration user may update."""
        if not self.allow_to_salesforce:
            return {}
        return {
            hs_object: name
            for hs_object, name in self.associations.items()
            if self.ctx.writable(self.sobject, name, create=False)
        }

    def start_sweep(self) -> None:
        """Associating doesn't change a HubSpot record's ``hs_lastmodifieddate``, so the
        search for changes never returns a record whose associations alone moved: each cycle
        a slice of the linked records has its associations read (one call per associated
        object), here at the start, so batches of changes among the slice share that read;
        ``sweep_associations`` compares them at the end. No sweep, and no call, without
        associations that can reach Salesforce; no call without links."""
        if not self.swept:
            return
        ids = [link.hubspot_id for link in self.sweep_slice_start(SWEEP)]
        for hs_object in self.swept:
            if ids:
                self.associated(hs_object, ids)

    def sweep_associations(self) -> None:
        """The slice's records whose HubSpot associations moved since their last sync (as
        their merge would read them, ``association_moved``) are read again and merged, as a
        change of the record (one HubSpot read per 100, one Salesforce read): the lookup
        follows by the pair's rules. Records this cycle put in step are left out, and so are
        those with an open error other than a wait: their retry merges their associations."""
        swept = self.swept
        if not swept:
            return
        links = self.sweep_slice_links(self._in_step)
        ids = [link.hubspot_id for link in links]
        held = {h: self.associated(h, ids) for h in swept}
        moved = [
            link
            for link in links
            if any(self.association_moved(link.snapshot, h, held[h][link.hubspot_id]) for h in held)
        ]
        retried = self.left_to_retries(moved)
        moved = [link for link in moved if link.hubspot_id not in retried]
        if moved:
            objects = self.read_hubspot([link.hubspot_id for link in moved])
            self.handle_hubspot(list(objects.values()), None, associations_moved=True)
        self.sweep_slice_done()

    def association_moved(self, snapshot: dict, hs_object: str, held: list[str]) -> bool:
        """Whether a linked record's HubSpot association with ``hs_object`` (``held``: what
        it is associated with) differs from what its last sync left, read as ``merge_lookup``
        reads it. Not while its lookup waits for the record it points at, or that record's
        pair is off (the lookup decides then, and HubSpot is merged once it syncs); while it
        waits for the record it is associated with, only a move away from that one counts."""
        if snapshot.get(f"__{hs_object}_waiting") or snapshot.get(f"__{hs_object}_paused"):
            return False
        last = self.association_baseline(snapshot, hs_object, held)
        expected = (
            snapshot.get(f"__{hs_object}_hs_waiting")
            or snapshot.get(f"__{hs_object}_hs_paused")
            or last
            or ""
        )
        return hubspot_association(last, held) != expected

    def left_to_retries(self, links: list[RecordLink]) -> set[str]:
        """The HubSpot ids of ``links`` whose record has an open error other than a wait:
        its retry reads it (associations too) on its backoff, rather than the sweep every
        time it comes round (one query, only for records whose associations moved)."""
        if not links or not self.has_open_errors():
            return set()
        keys = {f"hubspot:{link.hubspot_id}": link.hubspot_id for link in links}
        keys.update({f"salesforce:{link.salesforce_id}": link.hubspot_id for link in links})
        errored = (
            SyncError.objects.filter(
                integration=self.ctx.integration,
                object=self.object_name,
                resolved_at__isnull=True,
                record_key__in=list(keys),
            )
            .exclude(error_type__in=list(WAITING.values()))
            .values_list("record_key", flat=True)
        )
        return {keys[key] for key in errored}

    def merge_associations(self, pairs: list[Pair]) -> None:
        """Per pair and associated object: the Salesforce lookup and the HubSpot association
        compare as HubSpot ids (through the contacts/companies/deals/tickets links) against the
        snapshot; the changed side wins, the conflict rule decides when both changed."""
        if not self.associations or not pairs:
            return
        self.load_associations(pairs)
        for hs_object, name in self.associations.items():
            link_object = hs_object  # the pair that links those records
            lookups = {(p.salesforce or {}).get(name) for p in pairs} - {None, ""}
            hs_ids = {i for ids in self._hubspot_associations[hs_object].values() for i in ids}
            links = RecordLink.objects.filter(integration=self.ctx.integration, object=link_object)
            sf_to_hs = dict(
                links.filter(salesforce_id__in=lookups).values_list("salesforce_id", "hubspot_id")
            )
            # Only records of the lookup's object: a HubSpot contact synced with a lead has no
            # Salesforce contact for a Contact lookup (Salesforce refuses a lead's id there,
            # failing the whole record); it waits as one not synced yet (a converted lead's
            # link moves to its contact).
            target = ASSOCIATION_TARGETS[hs_object]
            found = links.filter(hubspot_id__in=hs_ids).values_list(
                "hubspot_id", "salesforce_id", "salesforce_type"
            )
            hs_to_sf = {hs: sf for hs, sf, kind in found if kind == target}
            self._linked_as_other[hs_object] = {hs: k for hs, _, k in found if k != target}
            for pair in pairs:
                self.merge_association(pair, hs_object, name, sf_to_hs, hs_to_sf)

    def merge_association(
        self, pair: Pair, hs_object: str, name: str, sf_to_hs: dict, hs_to_sf: dict
    ) -> None:
        waits = self.merge_lookup(pair, hs_object, name, sf_to_hs, hs_to_sf)
        snapshot = pair.link.snapshot if pair.link and pair.link.pk else {}
        if not waits and snapshot.get(f"__{hs_object}_hs_waiting"):
            # Linked, its association gone, or its pair off: the wait is over once the
            # record's writes land (``end_waits``).
            pair.same[f"__{hs_object}_hs_waiting"] = ""
            self._waits_over.append((pair, hs_object, "hubspot"))

    def merge_lookup(
        self, pair: Pair, hs_object: str, name: str, sf_to_hs: dict, hs_to_sf: dict
    ) -> bool:
        """Merge one lookup with its association; True when it waits for the HubSpot record
        it is associated with to reach Salesforce."""
        key, key_sf = f"__{hs_object}", f"__{hs_object}_sf"
        snapshot = pair.link.snapshot if pair.link and pair.link.pk else None
        associated = (
            self._hubspot_associations[hs_object].get(pair.hubspot_id, [])
            if pair.hubspot is not None
            else []
        )
        last = (
            self.association_baseline(
                snapshot, hs_object, associated if pair.hubspot is not None else None
            )
            if snapshot is not None
            else None
        )
        lookup = (pair.salesforce or {}).get(name) or ""
        sf_value = sf_to_hs.get(lookup) if lookup else ""
        for marker in paused_markers(hs_object):  # merged again: skipped no longer, unless below
            if snapshot and snapshot.get(marker):
                pair.same[marker] = ""
        if sf_value is None:  # points to a record that doesn't sync (yet): waits for it
            self.counts["associations_unlinked"] += 1
            if hs_object in WAITING and self.pair_on(hs_object):
                self.wait(pair, hs_object, name, lookup)
            elif hs_object in WAITING:  # a wait would never end: looked at again once it's on
                self.pause(pair, hs_object, paused_markers(hs_object)[0], lookup)
            return False
        if hs_object in WAITING and snapshot and snapshot.get(f"__{hs_object}_waiting"):
            # Its error ends once the record's writes land (``end_waits``); an association
            # write refused then has an error of its own, whose retry writes it.
            pair.same[f"__{hs_object}_waiting"] = ""
            self._waits_over.append((pair, hs_object, "salesforce"))
        hs_value = hubspot_association(last, associated)
        winner = self.decide(hs_value, sf_value, last, pair=pair)
        if winner is None:
            if hs_value == sf_value:
                pair.same[key], pair.same[key_sf] = hs_value, lookup
            return False
        if winner == "hubspot":
            target = hs_to_sf.get(hs_value) if hs_value else None
            writable = self.ctx.writable(self.sobject, name, create=pair.salesforce is None)
            if hs_value and target is None:  # associated with a record not in Salesforce yet
                self.counts["associations_unlinked"] += 1
                if hs_object in WAITING and writable and self.pair_on(hs_object):
                    self.hubspot_wait(pair, hs_object, name, hs_value, lookup)
                    return True
                if hs_object in WAITING and writable:  # its pair off: once it's on
                    self.pause(pair, hs_object, paused_markers(hs_object)[1], hs_value)
                return False
            if not writable:
                return False
            pair.to_salesforce[name] = target
            pair.snap_salesforce[key], pair.snap_salesforce[key_sf] = hs_value, target or ""
            return False
        self._association_writes.append((pair, hs_object, hs_value, sf_value))
        pair.snap_hubspot[key], pair.snap_hubspot[key_sf] = sf_value, lookup
        return False

    @staticmethod
    def association_baseline(snapshot: dict, hs_object: str, held: list[str] | None) -> str | None:
        """The association a record's last sync left with ``hs_object`` (None: none known),
        against what HubSpot holds (``held``; None: no HubSpot record)."""
        last = snapshot.get(f"__{hs_object}")
        sent = snapshot.get(f"__{hs_object}_sent")
        if sent is not None and held is not None:
            # An association write a cycle that died noted (``write_associations``): landed
            # whole (the new association made, the old one gone), it is the integration's
            # own write, not a HubSpot user's move. Cut short in between, the old one is
            # still the baseline, as before the write.
            new, old = sent.get("hs") or "", sent.get("old") or ""
            if (not new or new in held) and (not old or old == new or old not in held):
                last = new
        return last

    def pair_on(self, object_name: str) -> bool:
        """Whether the contact (company, deal, ticket) sync is on, so a record waiting for one
        can expect it (read once a cycle)."""
        if self._pairs_on is None:
            self._pairs_on = pairs_switched_on(integration=self.ctx.integration)
        return object_name in self._pairs_on

    def pause(self, pair: Pair, hs_object: str, marker: str, partner: str) -> None:
        """The lookup or association points at a record of a pair that is off: no error (it
        could never end), but the link remembers it (``marker``) and a flag row (once a
        cycle) tells ``retry_paused`` to look for it once that pair is on."""
        pair.same[marker] = partner
        self.flag_paused(paused_stream(hs_object, self.object_name))

    def wait(self, pair: Pair, hs_object: str, name: str, lookup: str) -> None:
        """The lookup points at a record without its HubSpot partner yet: a waiting error on
        the record (which syncs meanwhile); ``retry_waiting`` associates it once the partner
        is linked."""
        pair.same[f"__{hs_object}_waiting"] = lookup
        pair.kept_errors.add(WAITING[hs_object])  # the commit mustn't end it
        target, singular = ASSOCIATION_TARGETS[hs_object], SINGULAR[hs_object]
        self.wait_error(
            pair,
            hs_object,
            name,
            direction="to_hubspot",
            record_key=f"salesforce:{pair.salesforce_id}",
            message=f"{name} points at {target} {lookup}, which has no HubSpot {singular} yet; "
            f"the record is associated with it as soon as it has.",
        )

    def wait_error(
        self,
        pair: Pair,
        hs_object: str,
        name: str,
        *,
        direction: str,
        record_key: str,
        message: str,
    ) -> None:
        """The *Waiting for … to sync* error of one lookup, on the side that waits."""
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=self.object_name,
            error_type=WAITING[hs_object],
            direction=direction,
            record_key=record_key,
            hubspot_id=pair.hubspot_id or "",
            salesforce_id=pair.salesforce_id or "",
            salesforce_type=self.sobject,
            record_label=pair.label,
            code=f"WAITING_FOR_{ASSOCIATION_TARGETS[hs_object].upper()}",
            message=message,
            fields=[name],
        )
        self.counts[WAITING[hs_object]] += 1

    def hubspot_wait(
        self, pair: Pair, hs_object: str, name: str, partner: str, lookup: str
    ) -> None:
        """The HubSpot record is associated with a record (``partner``) not in Salesforce
        yet: the record syncs without the lookup, and waits (``record_hubspot_waits``, once
        its Salesforce record exists); ``retry_waiting`` sets the lookup once the partner is
        linked. What Salesforce holds is kept, so its echo reads as unchanged."""
        pair.same[f"__{hs_object}_hs_waiting"] = partner
        pair.same[f"__{hs_object}_sf"] = lookup
        pair.kept_errors.add(WAITING[hs_object])  # the commit mustn't end it
        self._hubspot_waits.append((pair, hs_object, name, partner))

    def record_hubspot_waits(self) -> None:
        """The waiting errors of ``hubspot_wait``, on the HubSpot record, once its Salesforce
        record exists (a create that failed shows its own error; it waits once created)."""
        waits, self._hubspot_waits = self._hubspot_waits, []
        for pair, hs_object, name, partner in waits:
            if pair.salesforce is None or pair.salesforce_failed:
                continue
            target, singular = ASSOCIATION_TARGETS[hs_object], SINGULAR[hs_object]
            other = self._linked_as_other.get(hs_object, {}).get(partner)
            message = (
                f"The record is associated with HubSpot {singular} {partner}, which syncs with "
                f"a Salesforce {other}, not a {target}; {name} is set once it syncs with a "
                f"{target} (a converted lead does)."
                if other
                else f"The record is associated with HubSpot {singular} {partner}, which has "
                f"no Salesforce {target} yet; {name} is set as soon as it has."
            )
            self.wait_error(
                pair,
                hs_object,
                name,
                direction="to_salesforce",
                record_key=f"hubspot:{pair.hubspot_id}",
                message=message,
            )

    def retry_waiting(self) -> None:
        """Records waiting for the record their lookup points at (a Salesforce record) or
        that they are associated with (a HubSpot record): synced again as soon as it is
        linked; a database look every cycle otherwise. A wait that could never end (its
        association no longer syncs, or that object's sync is off) ends."""
        kinds = {WAITING[h]: h for h in self.associations if h in WAITING and self.pair_on(h)}
        self.end_endless_waits(kinds)
        if not kinds:
            return
        waiting = SyncError.objects.filter(
            integration=self.ctx.integration,
            object=self.object_name,
            error_type__in=list(kinds),
            resolved_at__isnull=True,
        )
        self.retry_salesforce_waits(kinds, waiting.filter(record_key__startswith="salesforce:"))
        self.retry_hubspot_waits(kinds, waiting.filter(record_key__startswith="hubspot:"))
        self.retry_paused(sorted(kinds.values()))

    def retry_paused(self, on: list[str]) -> None:
        """Records synced without a lookup or association while its pair was off (``pause``),
        that pair now on: read again and merged, so each is associated, or waits for its
        partner as any other. Only when a flag row says some were skipped (a scan of the
        links then); no call otherwise. A flag goes once its records are all handed on."""
        streams = {paused_stream(h, self.object_name): h for h in on}
        flagged = SyncCursor.objects.filter(
            integration=self.ctx.integration, stream__in=list(streams)
        ).values_list("stream", flat=True)
        salesforce_ids: set[str] = set()
        hubspot_side: dict[str, str] = {}  # HubSpot id -> its Salesforce id
        finished: list[str] = []
        for stream in sorted(flagged):
            lookups, associations = paused_markers(streams[stream])
            marked = self.links_marked(lookups).values_list("salesforce_id", flat=True)
            rows = list(marked[:RETRY_BATCH])
            salesforce_ids.update(rows)
            marked = self.links_marked(associations).values_list("hubspot_id", "salesforce_id")
            pairs = list(marked[:RETRY_BATCH])
            hubspot_side.update(pairs)
            if len(rows) < RETRY_BATCH and len(pairs) < RETRY_BATCH:  # all handed on below
                finished.append(stream)
        if salesforce_ids:
            records = salesforce_by_ids(
                self.ctx.salesforce, self.sobject, self.record_fields(), sorted(salesforce_ids)
            )
            self.handle_salesforce(records, None, force=True)
        # One read from Salesforce above was merged with its HubSpot side already.
        hubspot_ids = sorted(hs for hs, sf in hubspot_side.items() if sf not in salesforce_ids)
        if hubspot_ids:
            objects = self.hubspot_reread(hubspot_ids, lambda i: self.read_hubspot(i).values())
            self.handle_hubspot(objects, None, force=True)
        self.counts["paused_rechecked"] += len(salesforce_ids) + len(hubspot_ids)
        self.unflag_paused(finished)

    def end_endless_waits(self, kinds: dict[str, str]) -> None:
        """Waits of a kind not in ``kinds`` (the association removed from the pairing, or its
        object's sync switched off) could never end: they end now."""
        self.counts["waits_resolved"] += services.sync_errors_end_types(
            integration=self.ctx.integration,
            object_name=self.object_name,
            error_types=sorted(set(WAITING.values()) - set(kinds)),
        )

    def retry_salesforce_waits(self, kinds: dict[str, str], waiting) -> None:
        """Salesforce records whose lookup points at a record now linked: read again (one
        Salesforce read) and associated."""
        ids = waiting.values_list("salesforce_id", flat=True)
        links = self.links_by("salesforce_id", set(ids[:RETRY_BATCH]) - {""}).values()
        wanted = {
            link.salesforce_id: [
                (h, link.snapshot.get(f"__{h}_waiting"))
                for h in kinds.values()
                if link.snapshot.get(f"__{h}_waiting")
            ]
            for link in links
        }
        partners = {target for targets in wanted.values() for target in targets}
        if not partners:
            return
        linked = set(
            RecordLink.objects.filter(
                integration=self.ctx.integration,
                object__in={obj for obj, _ in partners},
                salesforce_id__in={sf for _, sf in partners},
            ).values_list("object", "salesforce_id")
        )
        ready = sorted(sf for sf, targets in wanted.items() if set(targets) & linked)
        if not ready:
            return
        records = salesforce_by_ids(self.ctx.salesforce, self.sobject, self.record_fields(), ready)
        self.handle_salesforce(records, None, force=True)
        self.counts["waiting_rechecked"] += len(ready)

    def retry_hubspot_waits(self, kinds: dict[str, str], waiting) -> None:
        """HubSpot records associated with a record now linked: read again (one HubSpot
        read per 100) and their lookups set. Those whose retry is due (every 20 minutes,
        then nightly, or an admin's Resync) are read again too: removing an association
        doesn't change a HubSpot record, so only reading it shows the wait is over."""
        now = timezone.now()
        rows = list(waiting.values_list("record_key", "next_retry_at", "error_type")[:RETRY_BATCH])
        links = self.links_by("hubspot_id", {key.split(":", 1)[1] for key, *_ in rows})
        # One no longer linked (its Salesforce record deleted) has no lookup to wait for: it
        # is created again only when it changes, as any unlinked record, never by its wait.
        gone: dict[str, list[str]] = {}
        due: set[str] = set()
        for key, at, error_type in rows:
            hubspot_id = key.split(":", 1)[1]
            if hubspot_id not in links:
                gone.setdefault(error_type, []).append(key)
            elif at is not None and at <= now:
                due.add(hubspot_id)
        for error_type, keys in gone.items():
            self.counts["waits_resolved"] += services.sync_errors_resolve_type(
                integration=self.ctx.integration,
                object_name=self.object_name,
                error_type=error_type,
                record_keys=keys,
                ended_because=SyncError.EndedBecause.DELETED,
            )
        wanted = {
            link.hubspot_id: [
                (h, link.snapshot.get(f"__{h}_hs_waiting"))
                for h in kinds.values()
                if link.snapshot.get(f"__{h}_hs_waiting")
            ]
            for link in links.values()
        }
        partners = {target for targets in wanted.values() for target in targets}
        found = (
            RecordLink.objects.filter(
                integration=self.ctx.integration,
                object__in={obj for obj, _ in partners},
                hubspot_id__in={hs for _, hs in partners},
            ).values_list("object", "hubspot_id", "salesforce_type")
            if partners
            else []
        )
        # Linked to the lookup's object (a contact synced with a lead still waits).
        linked = {(obj, hs) for obj, hs, kind in found if kind == ASSOCIATION_TARGETS[obj]}
        ready = sorted(due | {hs for hs, targets in wanted.items() if set(targets) & linked})
        if not ready:
            return
        objects = self.hubspot_reread(ready, lambda i: self.read_hubspot(i).values())
        self.handle_hubspot(objects, None, force=True)
        self.counts["waiting_rechecked"] += len(ready)

    def association_type(self, hs_object: str) -> tuple[str, int] | None:
        """The custom object's default (unlabelled) association type to ``hs_object``."""
        if hs_object not in self._association_types:
            labels = with_retries(
                lambda: self.ctx.hubspot.association_labels(
                    from_object_type=self.hubspot_type, to_object_type=hs_object
                )
            )
            labels = sorted(labels, key=lambda t: (t.label is not None, t.type_id))
            self._association_types[hs_object] = (
                (labels[0].category, int(labels[0].type_id)) if labels else None
            )
        return self._association_types[hs_object]

    def write_associations(self) -> None:
        """The association changes merged from Salesforce, per associated object: the new
        association is created before the old one is archived, so one that doesn't land (a
        failure, a crash in between) leaves the old association, never none. A record at
        HubSpot's association limit (an object allowed one contact, say) has its old
        association archived first and the create sent again. A write that doesn't land
        leaves in the snapshot what HubSpot holds, so the next merge reads the Salesforce
        side (not HubSpot) as changed and writes it again, instead of a blank HubSpot side
        winning a conflict and clearing the lookup in Salesforce."""
        writes, self._association_writes = self._association_writes, []
        for hs_object in self.associations:
            mine = [w for w in writes if w[1] == hs_object and w[0].hubspot is not None]
            mine = [w for w in mine if not w[0].hubspot_failed]
            if not mine:
                continue
            holds = {p.hubspot_id: old for p, _, old, _ in mine}  # what HubSpot holds now
            # Noted before the writes, remembered as in step as they land: a cycle that dies
            # in between must not read its own write back as a HubSpot user's move
            # (``merge_lookup``), which would undo a move made in Salesforce meanwhile.
            note, key_sf = f"__{hs_object}_sent", f"__{hs_object}_sf"
            linked = [(p, new) for p, _, _, new in mine if p.link is not None and p.link.pk]
            self.note_sent(
                [
                    (p.link, {"hs": new, "old": holds[p.hubspot_id], "sf": p.snap_hubspot[key_sf]})
                    for p, new in linked
                ],
                note,
            )
            refused: list[tuple[dict, Any]] = []
            try:
                creates = [(p, new) for p, _, _, new in mine if new]
                kind = self.association_type(hs_object) if creates else None
                if creates and kind is None:
                    raise BadRequest(
                        f"HubSpot has no association between this custom object and "
                        f"{hs_object}: add one to the object's schema in HubSpot.",
                        system="hubspot",
                        status=400,
                        code="VALIDATION_ERROR",
                        operation="associations.create",
                    )
                refused = self.associations_create(hs_object, creates, kind)
                not_made = {str(f["from"]["id"]) for f, _ in refused}
                olds = [(p, old) for p, _, old, _ in mine if old and p.hubspot_id not in not_made]
                self.associations_archive(hs_object, olds)
                full = {
                    str(f["from"]["id"])
                    for f, e in refused
                    if "limit" in (getattr(e, "message", "") or "").lower()
                }
                again = [(p, old, new) for p, _, old, new in mine if old and p.hubspot_id in full]
                if again:  # room first: the old association goes, then the create again
                    self.associations_archive(hs_object, [(p, old) for p, old, _ in again])
                    holds.update({p.hubspot_id: "" for p, _, _ in again})
                    refused = [r for r in refused if str(r[0]["from"]["id"]) not in full]
                    refused += self.associations_create(
                        hs_object, [(p, new) for p, _, new in again], kind
                    )
            except RemoteError as error:
                for pair, *_ in mine:
                    self.association_not_written(pair, hs_object, holds[pair.hubspot_id])
                    self.record_hubspot_failure(pair, error)
                self.note_sent([(p.link, None) for p, _ in linked], note)
                continue
            by_record = {p.hubspot_id: p for p, *_ in mine}
            for failed, error in refused:  # only these records; the others' landed
                pair = by_record[str(failed["from"]["id"])]
                self.association_not_written(pair, hs_object, holds[pair.hubspot_id])
                self.association_failure(pair, error)
            not_made = {str(f["from"]["id"]) for f, _ in refused}
            self.note_sent([(p.link, None) for p, _ in linked if p.hubspot_id in not_made], note)
            self.sent_landed(
                [
                    (p.link, {f"__{hs_object}": new, key_sf: p.snap_hubspot[key_sf]})
                    for p, new in linked
                    if p.hubspot_id not in not_made
                ],
                note,
            )
            self.counts["associations_to_hubspot"] += len(mine) - len(refused)

    def associations_create(
        self, hs_object: str, creates: list[tuple[Pair, str]], kind: tuple[str, int] | None
    ) -> list[tuple[dict, Any]]:
        """Associate each pair's HubSpot record with ``hs_object`` record ``new`` (100 a
        call); returns the refused ``(input, error)``."""
        if not creates or kind is None:
            return []
        inputs = [association_input(p.hubspot_id, new, kind[1], kind[0]) for p, new in creates]
        return self.hubspot_associate(self.hubspot_type, hs_object, inputs)

    def associations_archive(self, hs_object: str, olds: list[tuple[Pair, str]]) -> None:
        """Remove each pair's HubSpot association with ``hs_object`` record ``old``."""
        removals = [dissociation_input(p.hubspot_id, [old]) for p, old in olds]
        self.hubspot_dissociate(self.hubspot_type, hs_object, removals)

    def association_not_written(self, pair: Pair, hs_object: str, holds: str) -> None:
        """The association write didn't land: the snapshot keeps what HubSpot holds (and the
        lookup as it was), so its retry finds Salesforce's value still to write."""
        pair.snap_hubspot[f"__{hs_object}"] = holds
        pair.snap_hubspot.pop(f"__{hs_object}_sf", None)

    def end_waits(self) -> None:
        """Records no longer waiting for their HubSpot partner. Mostly the commit of the
        record's writes ends the waiting error (so a crash before it leaves the error for
        ``retry_waiting``); this ends it, after the writes landed, for a record whose commit
        keeps errors of that type open (it waits for another record of that object now). A
        record write that failed leaves it to that failure's retry, whose commit ends it; a
        refused association write has an error of its own."""
        waits, self._waits_over = self._waits_over, []
        ended: dict[str, list[str]] = {}
        for pair, hs_object, side in waits:
            kept = WAITING[hs_object] in pair.kept_errors
            if not kept or pair.hubspot_failed or pair.salesforce_failed:
                continue
            key = f"{side}:{pair.salesforce_id if side == 'salesforce' else pair.hubspot_id}"
            ended.setdefault(WAITING[hs_object], []).append(key)
        for error_type, keys in ended.items():
            services.sync_errors_resolve_type(
                integration=self.ctx.integration,
                object_name=self.object_name,
                error_type=error_type,
                record_keys=keys,
            )

    # --- writes ---------------------------------------------------------------------------
    def merge_and_write(self, pairs: list[Pair]) -> None:
        self._waits_over, self._hubspot_waits = [], []
        for pair in pairs:
            self.merge(pair)
        self.merge_associations(pairs)
        self.write_salesforce(pairs)
        self.write_hubspot(pairs)
        self.write_associations()
        self.associations_written(pairs)
        self.record_hubspot_waits()
        self.end_waits()

    def write_salesforce(self, pairs: list[Pair]) -> None:
        self.salesforce_updates(pairs, self.sobject)
        creates = [p for p in pairs if p.salesforce is None and p.hubspot is not None]
        if not creates:
            return
        prop = self.external_id_property()
        if self.external_id:
            creates = self.one_create_per_key(creates)
            if not creates:
                return
            # Keyed by the mapped value, else by the HubSpot id.
            keys = [str(p.to_salesforce.get(self.external_id) or p.hubspot_id) for p in creates]
            records = [
                {**p.to_salesforce, self.external_id: key}
                for p, key in zip(creates, keys, strict=True)
            ]
        else:
            # Without a key, a lost create is found by what it was created with.
            keys = [""] * len(creates)
            records = [dict(p.to_salesforce) for p in creates]
        results = self.salesforce_creates_sent(
            creates, self.sobject, external_id=self.external_id, records=records
        )
        landed = [r["id"] for r in results if r.get("success") and r.get("id")]
        holders = self.holders(pairs, landed) if self.external_id and landed else {}
        for pair, key, record, result in zip(creates, keys, records, results, strict=True):
            holder = holders.get(result.get("id") or "")
            if result.get("success") and holder and holder != pair.hubspot_id:
                # Not expected (matched as the upsert matches): no second link, nor a crash.
                log.warning("%s: upsert landed on linked %s", self.object_name, result["id"])
                self.refuse_claim(pair, {**record, "Id": result["id"]}, holder, key=None)
                continue
            if not self.salesforce_create_landed(pair, result):
                continue
            pair.salesforce = {**record, "Id": result["id"]}
            pair.to_hubspot[KEY_PROPERTY] = result["id"]
            if prop and key and not pair.hs_props.get(prop):  # the key we chose goes back
                pair.to_hubspot[prop] = key
                pair.snap_hubspot[prop] = key
                pair.same.pop(prop, None)

    def holders(self, pairs: list[Pair], salesforce_ids: list[str]) -> dict[str, str]:
        """Salesforce id -> the HubSpot record it syncs with (stored, or this batch's)."""
        found = dict(
            RecordLink.objects.filter(
                integration=self.ctx.integration, salesforce_id__in=salesforce_ids
            ).values_list("salesforce_id", "hubspot_id")
        )
        for pair in pairs:
            if pair.salesforce is not None and pair.hubspot is not None:
                found[pair.salesforce_id or ""] = pair.hubspot_id or ""
        return found

    def one_create_per_key(self, creates: list[Pair]) -> list[Pair]:
        """New HubSpot records sharing an external id value would all upsert one Salesforce
        record (and two links to it can't be stored): the first creates it; each other gets
        the error a record matching an already synced one gets (``match_in_salesforce``)."""
        prop = self.external_id_property() or self.external_id
        first: dict[str, Pair] = {}
        kept: list[Pair] = []
        for pair in creates:
            key = str(pair.to_salesforce.get(self.external_id) or pair.hubspot_id)
            taken = first.setdefault(self.external_key(key), pair)
            if taken is pair:
                kept.append(pair)
                continue
            pair.salesforce_failed = True
            self.record_error(
                pair,
                "to_salesforce",
                "value_in_use",
                "DUPLICATE_EXTERNAL_ID",
                f"HubSpot record {taken.hubspot_id} has the same {prop} ({key}) and syncs with "
                f"the {self.sobject} of {self.external_id} {key}; only one record can. Give "
                f"this record its own {prop}, or delete one of the two.",
                [self.external_id],
            )
        return kept

    def write_hubspot(self, pairs: list[Pair]) -> None:
        self.align_options(pairs)
        self.hubspot_updates(pairs)
        creates = [p for p in pairs if p.hubspot is None and p.salesforce is not None]
        self.hubspot_upsert_creates(creates, KEY_PROPERTY)

    @property
    def hubspot_object_type(self) -> str:
        return self.hubspot_type

    # --- retries --------------------------------------------------------------------------
    def retry_errored(self) -> None:
        """Records whose errors are due, and records an admin asked to sync."""
        # Waiting records are left out: retry_waiting looks at them every cycle.
        pairs, requests = self.due_for_retry(exclude_types=tuple(WAITING.values()))
        due = [key for key, _type in pairs]
        if not due:
            return
        self.retry_salesforce_records(
            record_ids(due, "salesforce"),
            self.sobject,
            self.record_fields(),
            self.handle_salesforce,
        )
        self.retry_hubspot_records(
            record_ids(due, "hubspot"), lambda i: self.read_hubspot(i).values(), self.handle_hubspot
        )
        self.retries_done(requests, len(due))
