"""HubSpot contacts ⇄ Salesforce leads and contacts (spec §6–8, §11, §12).

One cycle reads HubSpot's changes, the contacts that entered the inclusion list, and then
Salesforce's changes (leads, contacts, and for lifecycle stages opportunity contact roles and
opportunities), in batches. Each batch:

1. skips what it already handled and what equals the link's snapshot (our own writes echoing
   back, or edits of unmapped fields): no further calls for those;
2. matches unlinked people by email in bulk, on the other side;
3. merges field by field by each mapping's rule (``rules.merge_field``);
4. writes in batches (Salesforce collections of 200, HubSpot batches of 100), each record
   failing alone into a typed sync error;
5. stores links, snapshots, errors and the cursor together.

Creates are idempotent: HubSpot contacts are upserted by email, and a HubSpot contact is only
ever created in Salesforce after a lookup by email found no lead or contact, so a crash between
a create and the link being stored links the record on the next cycle instead of duplicating it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .. import services
from ..models import RecordLink, SyncCursor, SyncError
from ..object_settings import settings_for
from .changes import (
    CAMPAIGN_NAMES_STREAM,
    COMPANY_PROPERTY,
    ContactCompanies,
    Cursor,
    SoqlStream,
    all_records,
    composite_query,
    ids_queries,
    last_response_date,
    list_missing_message,
    parse_time,
    salesforce_by_ids,
    salesforce_pages,
    soql_datetime,
    soql_string,
)
from .context import CycleContext
from .currencies import AmountNotConvertible
from .lifecycle import (
    LIFECYCLE_ERROR,
    LIFECYCLE_OBJECTS,
    LIFECYCLE_STREAMS,
    CycleMoves,
    LifecycleTransitions,
)
from .pair import (
    GEO_PROPERTIES,
    LINK_MOMENTS,
    MERGED_IDS,
    OWNER_PROPERTY,
    ListedSync,
    Pair,
    hubspot_batch_read,
    hubspot_error_parts,
    hubspot_version,
    merge_survivors,
    salesforce_version,
)
from .rules import Decision, Side, SyncRule, merge_field, two_way_conflict
from .values import (
    MULTI_SELECT,
    NUMBER_TYPES,
    ValueConversionError,
    choices_sorted,
    normalize,
    number_ranges,
    range_of,
    to_salesforce,
)

log = logging.getLogger(__name__)

OBJECT = "contacts"
PEOPLE = ("Lead", "Contact")
PEOPLE_STREAMS = {sobject: f"salesforce:{sobject}" for sobject in PEOPLE}
LINK_PROPERTY = {"Lead": "salesforceleadid", "Contact": "salesforcecontactid"}
MODIFIED = "lastmodifieddate"
# On a HubSpot contact: the emails of the contacts merged into it ("a@x;b@y"), by which HubSpot
# still finds it (a lookup or an upsert by one of them lands on it).
MERGED_EMAILS = "hs_additional_emails"
PERSON_FIELDS = [
    "Id",
    "IsDeleted",
    "MasterRecordId",
    "SystemModstamp",
    "LastModifiedDate",
    "CreatedDate",
    "Email",
    "OwnerId",
]
SYSTEM_FIELDS = {
    "Lead": [*PERSON_FIELDS, "IsConverted", "ConvertedContactId"],
    "Contact": PERSON_FIELDS,
}
HUBSPOT_SYSTEM = [
    "email",
    MODIFIED,
    "salesforceleadid",
    "salesforcecontactid",
    OWNER_PROPERTY,
    "lifecyclestage",
    MERGED_IDS,
    MERGED_EMAILS,
    "firstname",
    "lastname",
]
BATCH = 1000  # HubSpot records merged per batch
# On a Salesforce person the sync created whose HubSpot contact then moved to another person
# with the email (``duplicates_noted``).
DUPLICATE_CREATED = "duplicate_created"
# The Salesforce campaigns a contact's lead or contact is a member of (spec §6.1, §17): the
# campaigns' names, "; " between them, in a contact property the engine creates and alone
# writes, from Salesforce's campaign members (never back: it isn't mapped).
CAMPAIGNS_PROPERTY = "salesforce_campaigns"
CAMPAIGN_STREAM = "salesforce:CampaignMember"
CAMPAIGN_OBJECTS = frozenset({"CampaignMember", "Campaign"})
MEMBER_FIELDS = ["Id", "IsDeleted", "SystemModstamp", "CampaignId", "LeadId", "ContactId"]
# Campaigns are read for their names (stream ``CAMPAIGN_NAMES_STREAM``): a rename reaches the
# members. The names last read, {campaign id: name}, tell a rename from another edit.
CAMPAIGN_FIELDS = ["Id", "IsDeleted", "SystemModstamp", "Name"]
CAMPAIGN_NAMES_ROW = "contacts:campaign-names"
# Where the look for people linked after their campaign members were read stopped:
# {"after": the newest contact link's pk then} (see ``CampaignMemberships.newly_linked``).
CAMPAIGNS_LINKED_STREAM = "contacts:campaigns-linked"
# The error type of campaigns HubSpot refused on a contact: ended only by writing them
# (``CampaignMemberships.write``), never by a sync of the record's other fields.
CAMPAIGNS_ERROR = "campaigns_not_written"
CAMPAIGN_LOOKUP = 1500  # people whose memberships one composite call reads
# Contacts whose companies one cycle hands to the company sync at most (about 25 MB): a bigger
# read would grow the worker with the data, so the company sync then searches for itself.
SHARED_CONTACTS_MAX = 100_000


def _email(value: Any) -> str:
    return (value or "").strip().lower()


def _merged_emails(obj: Any) -> list[str]:
    """The emails of the contacts merged into a HubSpot contact (``MERGED_EMAILS``)."""
    raw = (obj.properties or {}).get(MERGED_EMAILS) or ""
    return [e for e in map(_email, raw.split(";")) if e]


def _oldest(records: list[dict]) -> dict:
    return min(records, key=lambda r: (r.get("CreatedDate") or "", r["Id"]))


def _sobject_of(record: dict) -> str:
    return record.get("attributes", {}).get("type") or (
        "Lead" if record["Id"].startswith("00Q") else "Contact"
    )


TYPED = NUMBER_TYPES | {"boolean", "date", "datetime"}  # values ``normalize`` rewrites


@dataclass(frozen=True)
class MappedField:
    """One mapping as it applies to one Salesforce object this cycle: everything the merge
    and the unchanged checks would otherwise look up again for every record."""

    mapping: Any
    prop: str  # the HubSpot property
    name: str  # the Salesforce field
    sf_type: str
    kind: str  # the type values compare as (``compared_type``: a date/time as its day)
    rule: SyncRule
    owner: bool  # the owner mapping (merged by ``merge_owner``)
    geo: bool  # country/state with conversion on
    geo_target: str  # the field a converted country/state is written to
    hs_writable: bool
    sf_updateable: bool
    sf_createable: bool
    plain: bool  # text compares as it is (``normalize`` returns it unchanged)
    dropdown: bool  # HubSpot's value compares as a picklist value (``hubspot_option_comparable``)
    create_default: Any  # what Salesforce fills in on create when the field is left out
    # *Prefer Salesforce unless blank* of a checkbox to a property HubSpot manages (e.g. its
    # unsubscribes): Salesforce's unchecked box counts as blank (see ``merge``).
    unchecked_is_blank: bool = False
    # A HubSpot dropdown of number ranges ("25-50") mapped to a Salesforce number (Number of
    # Employees): compared as the range the number falls in, which only HubSpot gets.
    ranges: tuple | None = None
    # An amount in the record's currency, converted to and from HubSpot's company currency
    # (``PairSync.amounts_converted``: a multi-currency org).
    amount: bool = False

    def comparable(self, raw: Any) -> str:
        """``normalize(raw, kind)``, without the call for plain text."""
        if raw is None:
            return ""
        if self.plain and type(raw) is str:
            return raw
        return normalize(raw, self.kind)


class ContactSync(ListedSync):
    object_name = OBJECT
    modified_property = MODIFIED
    # People, their campaign members, then the lifecycle stages' roles and opportunities (see
    # lifecycle.py).
    salesforce_streams = (
        *PEOPLE_STREAMS.values(),
        CAMPAIGN_STREAM,
        CAMPAIGN_NAMES_STREAM,
        *LIFECYCLE_STREAMS,
    )
    # A lifecycle stage HubSpot refused ends only once it is written (``retry_refused``); a
    # duplicate the sync made, once it is gone or linked again (``duplicates_settled``): a
    # retry would move the link back to it.
    # Campaigns HubSpot refused end once they are written (``CampaignMemberships``), which a
    # retry of the record does after its sync (``retry_errored``).
    errors_ended_by_own_check = (LIFECYCLE_ERROR, DUPLICATE_CREATED, CAMPAIGNS_ERROR)
    # Read only for lifecycle stages, or for the campaigns property: without access to one
    # part's objects, that part stops and people sync on (``sync.cycle``).
    optional_parts = (LIFECYCLE_OBJECTS, CAMPAIGN_OBJECTS)
    entrants_stream = "contacts:list-entrants"  # the inclusion list's (``ListedSync``)

    @classmethod
    def stream_names(cls, object_name: str, options: dict | None) -> tuple[str, ...]:
        if settings_for(object_name, options).lifecycle_transitions:
            return cls.salesforce_streams
        return (*PEOPLE_STREAMS.values(), CAMPAIGN_STREAM, CAMPAIGN_NAMES_STREAM)

    def __init__(self, ctx: CycleContext) -> None:
        super().__init__(ctx)
        probe = getattr(ctx, "probe", None)
        # With the company sync after it in the cycle, the HubSpot read also takes each
        # contact's company and hands it on (see ``changes.ContactCompanies``).
        self.company_rows: list[tuple] | None = (
            [] if probe is not None and "companies" in probe.pairs else None
        )
        self.hubspot_properties = sorted(
            {m.hubspot_property for m in ctx.mappings}
            | set(HUBSPOT_SYSTEM) & set(ctx.hubspot_properties)
            | {"email", MODIFIED}
            | ({COMPANY_PROPERTY} if self.company_rows is not None else set())
        )
        self._plans: dict[str, list[MappedField]] = {}
        # Emails of the HubSpot contacts read this cycle, and whether that was all of them.
        self.hubspot_emails: set[str] = set()
        self.hubspot_emails_complete = False
        # HubSpot contacts known to hold an email, by what this cycle wrote or looked up: email
        # -> contact id (see ``holders_checked``); of those, the emails held as the email of a
        # contact merged into the holder.
        self.email_holders: dict[str, str] = {}
        self.merged_emails_held: set[str] = set()
        # People whose HubSpot contact was deleted, to be made again (``holders_looked_up``).
        self._made_again: set[str] = set()
        # Pages of linked people waiting to be written with the next (``handle_salesforce_people``).
        self._held: list[tuple[str, list[Pair], Cursor | None, list]] = []
        # This cycle's lifecycle moves, shared by its LifecycleTransitions (see ``CycleMoves``).
        self.lifecycle_moves = CycleMoves()
        self.campaigns = CampaignMemberships(self)

    # --- the cycle ------------------------------------------------------------------------
    def run(self) -> None:
        # HubSpot first: a first cycle then knows every HubSpot email, so Salesforce people
        # HubSpot doesn't have are created without looking each batch up by email.
        self.sync_hubspot_changes()
        # Contacts that entered the inclusion list since the last cycle sync, edited or not
        # (spec §5.2): one HubSpot call for an unchanged list, then one read per 100 entrants.
        self.read_list_joins()
        self.sync_list_entrants(self.entrants_read, self.handle_hubspot_contacts, batch=BATCH)
        self.sync_salesforce_changes()
        if self.ctx.retry_allowed:
            self.duplicates_settled()
            self.retry_errored()
        # Contacts linked this cycle get the stages their opportunities' past events gave, and
        # the campaigns they were members of already.
        LifecycleTransitions(self).newly_linked()
        self.campaigns.newly_linked()
        self.writes_remembered()  # the next cycle's HubSpot read meets ours (run counts)

    # --- Salesforce → HubSpot -------------------------------------------------------------
    def salesforce_fields(self, sobject: str) -> list[str]:
        known = self.ctx.salesforce_fields.get(sobject, {})
        fields = self.fields_to_read(sobject, SYSTEM_FIELDS[sobject])
        for name in ("FirstName", "LastName"):
            if name in known and name not in fields:
                fields.append(name)
        return fields

    def sync_salesforce_changes(self) -> None:
        streams = [
            SoqlStream(
                sobject,
                self.salesforce_fields(sobject),
                Cursor.load(self.ctx.integration, PEOPLE_STREAMS[sobject]),
            )
            for sobject in PEOPLE
        ]
        if not self.campaigns.held:
            streams += [self.campaigns.stream(), self.campaigns.names_stream()]
        lifecycle = LifecycleTransitions(self)
        lifecycle.retry_refused()  # stages HubSpot refused before (dropped when switched off)
        if self.settings.lifecycle_transitions and not lifecycle.held:
            streams += lifecycle.streams()
        for stream, records in self.salesforce_stream_pages(streams, include_deleted=True):
            self.counts["read_salesforce"] += len(records)
            if stream.sobject in PEOPLE:
                self.handle_salesforce_people(stream.sobject, records, stream.cursor, hold=True)
                continue
            self.write_held()
            if stream.sobject == "CampaignMember":
                self.campaigns.handle(stream, records)
            elif stream.sobject == "Campaign":
                self.campaigns.handle_names(stream, records)
            else:
                lifecycle.handle(stream, records)
        self.write_held()
        if not self.settings.lifecycle_transitions:
            # Salesforce's time as of this cycle's last call (no call of its own): switched
            # on later, transitions apply only events from then on.
            read = [last_response_date(self.ctx.salesforce)]
            read += [s.cursor.row.checked_at for s in streams]
            if any(read):
                lifecycle.hold(max(t for t in read if t))

    def handle_salesforce_people(
        self,
        sobject: str,
        records: list[dict],
        cursor: Cursor | None,
        *,
        force: bool = False,
        hold: bool = False,
    ) -> None:
        """One page of leads or contacts. With ``hold``, a page whose people are all linked
        already waits for the next page of the other object: a cycle's leads and contacts then
        share one partner read, one write per side and one commit (see ``write_held``)."""
        if any(part[0] == sobject for part in self._held):
            self.write_held()  # a record may come twice in one object's pages: in turn, then
        self.campaigns.note_people(records)
        fresh, handled = self.fresh_versions(
            records, cursor, force=force, version=salesforce_version
        )
        # Deletes and merges first: a merge can hand a link to a survivor in this same batch.
        self.apply_salesforce_deletes([r for r in fresh if r.get("IsDeleted")])
        fresh = [r for r in fresh if not r.get("IsDeleted")]
        links = {
            link.salesforce_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration, salesforce_id__in=[r["Id"] for r in fresh]
            ).defer(*LINK_MOMENTS)
        }
        pairs: list[Pair] = []
        unlinked: dict[str, dict] = {}
        converted: list[str] = []
        for record in fresh:
            link = links.get(record["Id"])
            if record.get("IsConverted"):
                self.follow_conversion(record, link)
                converted.append(f"salesforce:{record['Id']}")
                continue
            if link:
                if not force and self.salesforce_unchanged(sobject, record, link):
                    self.unchanged_read(f"salesforce:{record['Id']}", record.get("SystemModstamp"))
                    continue
                pairs.append(Pair(sobject, record, None, link))
            elif self.settings.salesforce_create_update != "create_or_update":
                self.skipped("create_disabled", f"salesforce:{record['Id']}")
            elif not _email(record.get("Email")):
                self.skipped("no_email", f"salesforce:{record['Id']}")
            else:
                email = _email(record["Email"])
                # Several people with one email: the most recently modified one wins.
                if (
                    email not in unlinked
                    or record["SystemModstamp"] > unlinked[email]["SystemModstamp"]
                ):
                    unlinked[email] = record
        # A converted lead syncs no more (its contact does): its errors have nothing left to
        # fix, so they end in the cycle that reads the conversion, as deletes and merges do
        # (``apply_salesforce_deletes``), not at their retry.
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=OBJECT,
            record_keys=converted,
            ended_because=SyncError.EndedBecause.CONVERTED,
        )
        if hold and not unlinked:
            self._held.append((sobject, pairs, cursor, handled))
            return
        # Pages held before go first: a new person here may share an email with one of theirs.
        self.write_held()
        gone = self.load_hubspot_partners(pairs)
        # Deleted in HubSpot: a retry of the person doesn't create its contact again.
        stand = self.hubspot_deletes_stand(gone, force=force)
        pairs = [p for p in pairs if p.salesforce_id not in stand]
        self._made_again -= stand
        pairs += self.match_in_hubspot(sobject, list(unlinked.values()))
        pairs = self.receiving(pairs)
        self.merge_and_write(pairs)
        self.commit(pairs, cursor, handled)

    def write_held(self) -> None:
        """Merge, write and commit the linked people of the pages held back, together."""
        held, self._held = self._held, []
        if not held:
            return
        pairs = [pair for _, part, _, _ in held for pair in part]
        self.load_hubspot_partners(pairs)
        pairs = self.receiving(pairs)
        self.merge_and_write(pairs)
        (_, _, cursor, handled), *others = held
        self.commit(pairs, cursor, handled, more=[(c, h) for _, _, c, h in others])

    def salesforce_unchanged(self, sobject: str, record: dict, link: RecordLink) -> bool:
        """True when every mapped Salesforce value equals the snapshot (incl. our echoes)."""
        if link.salesforce_type != sobject:
            return False
        snapshot = link.snapshot
        for f in self.field_plan(sobject):
            if f.owner:
                if snapshot.get("__salesforce_owner") != (record.get(f.name) or ""):
                    return False
                continue
            if not f.hs_writable:
                continue  # Salesforce's value can't go anywhere (see merge)
            value = record.get(f.name)
            if f.geo or not (f.plain and type(value) is str):  # else ``_sf_value`` is the value
                try:
                    value = self._sf_value(f, sobject, record, snapshot.get(f.prop))
                except ValueConversionError:
                    return False
            # (A multi-select's same choices in another order are no change.)
            if not self.same_value(f.kind, snapshot.get(f.prop), value):
                return False
        return True

    def follow_conversion(self, lead: dict, link: RecordLink | None, hubspot: Any = None) -> bool:
        """A converted lead: its HubSpot contact now follows the new Salesforce contact
        (True), unless that contact syncs with another HubSpot contact already."""
        contact_id = lead.get("ConvertedContactId")
        if not link or not contact_id:
            return False
        holder = (
            RecordLink.objects.filter(integration=self.ctx.integration, salesforce_id=contact_id)
            .values_list("hubspot_id", flat=True)
            .first()
        )
        if holder is not None:
            self.converted_elsewhere(link, lead, contact_id, holder, hubspot)
            return False
        link.salesforce_id, link.salesforce_type = contact_id, "Contact"
        link.snapshot = {k: v for k, v in link.snapshot.items() if k != "__salesforce_owner"}
        link.save(update_fields=["salesforce_id", "salesforce_type", "snapshot"])
        self.counts["leads_converted"] += 1
        return True

    def converted_elsewhere(
        self, link: RecordLink, lead: dict, contact_id: str, holder: str, obj: Any = None
    ) -> None:
        """The lead of ``link`` was converted into Salesforce contact ``contact_id``, the
        partner of HubSpot contact ``holder``: the link's HubSpot contact syncs with nothing
        (one HubSpot contact per Salesforce person). The link stays with the lead, so the
        contact's edits never make the converted person a lead again (spec §6.2); an error
        on the contact says so, until it is merged into ``holder`` in HubSpot."""
        hubspot = obj if obj is not None else SimpleNamespace(id=link.hubspot_id, properties={})
        self.record_error(
            Pair("Lead", lead, hubspot),
            "to_salesforce",
            "email_in_use",
            "CONVERTED_LEAD",
            f"Salesforce lead {lead['Id']} was converted into contact {contact_id}, which "
            f"syncs with HubSpot contact {holder}: this contact syncs with nothing, and no new "
            f"lead is made for it. Merge it into HubSpot contact {holder}.",
            ["email"],
        )

    def load_hubspot_partners(self, pairs: list[Pair]) -> dict[str, str]:
        """Read the HubSpot side of linked pairs whose Salesforce side changed (100 per call).
        A pair whose contact can't be its partner any more (merged into one that syncs with
        another Salesforce person, and holding this one's email) is left failed, with its
        error: the callers drop it. Those whose contact was deleted, or merged into another
        person's without this one's email, as Salesforce id -> that contact's id (see
        ``hubspot_deletes_stand``)."""
        gone: dict[str, str] = {}
        if not pairs:
            return gone
        ids = [p.link.hubspot_id for p in pairs]
        result = hubspot_batch_read(
            self.ctx.hubspot,
            object_type=OBJECT,
            ids=ids,
            properties=self.hubspot_properties,
            properties_with_history=self.two_way or None,
        )
        found = {str(o.id): o for o in result.results}
        merged_into = {}
        for obj in result.results:
            for old in (obj.properties.get(MERGED_IDS) or "").split(";"):
                if old:
                    merged_into[old] = obj
        for pair in pairs:
            obj = found.get(pair.link.hubspot_id) or merged_into.get(pair.link.hubspot_id)
            if obj is None:
                # Deleted in HubSpot: that never deletes in Salesforce; the person, changed,
                # is created again in HubSpot (Salesforce creates always sync).
                gone[pair.salesforce_id or ""] = pair.link.hubspot_id
                pair.link.delete()
                pair.link = None
                self._made_again.add(pair.salesforce_id)
                continue
            merged_away = pair.link.hubspot_id
            if str(obj.id) != merged_away and not self.repoint_hubspot(pair.link, str(obj.id)):
                # Merged into a contact that syncs with another Salesforce person: that one
                # stays theirs, and what the person's errors would put in step is gone (they
                # end). Holding this person's email, HubSpot would take it for them (an
                # upsert by the email lands on it); otherwise the person is created again,
                # as after a delete (and, retried, isn't: ``hubspot_deletes_stand``).
                pair.link = None
                self.hubspot_gone_errors_end({pair.salesforce_id or "": merged_away})
                if _email(pair.salesforce.get("Email")) in _merged_emails(obj):
                    self.email_in_use(pair, str(obj.id), merged=True)
                else:
                    gone[pair.salesforce_id or ""] = merged_away
                continue
            pair.hubspot = obj
            pair.hs_history = self.history_of(obj)
        for pair in pairs:
            if pair.link is None:
                pair.hubspot = None
        return gone

    def match_in_hubspot(self, sobject: str, records: list[dict]) -> list[Pair]:
        """Unlinked Salesforce people: find their HubSpot contacts by email (100 per call)."""
        if not records:
            return []
        if self.hubspot_emails_complete:
            # HubSpot was read whole this cycle: an email it didn't show isn't there (and the
            # create is an upsert by email, so a contact made meanwhile is updated, not doubled).
            absent = [r for r in records if _email(r["Email"]) not in self.hubspot_emails]
            records = [r for r in records if _email(r["Email"]) in self.hubspot_emails]
        else:
            absent = []
        pairs = [Pair(sobject, record, None) for record in absent]
        if not records:
            return pairs
        emails = [_email(r["Email"]) for r in records]
        result = hubspot_batch_read(
            self.ctx.hubspot,
            object_type=OBJECT,
            ids=emails,
            id_property="email",
            properties=self.hubspot_properties,
            properties_with_history=self.two_way or None,
        )
        by_email = {_email(o.properties.get("email")): o for o in result.results}
        # A lookup by the email of a contact merged into another answers with that one.
        by_merged_email = {e: o for o in result.results for e in _merged_emails(o)}
        linked = self.links_by("hubspot_id", [str(o.id) for o in result.results])
        looked_up = set(emails)
        taken = {str(o.id) for e, o in by_email.items() if e in looked_up}
        moved: list[tuple[RecordLink, Pair]] = []
        for record in records:
            email = _email(record["Email"])
            obj = by_email.get(email)
            if obj is None and email in by_merged_email:
                holder = str(by_merged_email[email].id)
                if holder in linked or holder in taken:
                    # Another person's contact (or this batch's match for another email):
                    # never written for this one (it is theirs in HubSpot's eyes too).
                    self.email_in_use(Pair(sobject, record, None), holder, merged=True)
                    continue
                obj = by_merged_email[email]
                taken.add(holder)
            pair = Pair(sobject, record, obj)
            if obj is not None:
                pair.hs_history = self.history_of(obj)
                link = linked.get(str(obj.id))
                if link is not None and self.in_list(str(obj.id)):
                    # Later syncs follow the most recently modified Salesforce match (§6.2),
                    # as a first sync of the new pair: the old record's snapshot would take
                    # each field this one leaves blank for a clear in Salesforce.
                    link.delete()
                    self.counts["links_repointed"] += 1
                    moved.append((link, pair))
            pairs.append(pair)
        self.duplicates_noted(moved)
        return pairs

    def duplicates_noted(self, moved: list[tuple[RecordLink, Pair]]) -> None:
        """Links that moved to another Salesforce person with the email (§6.2): a person the
        sync itself created (its create didn't see the other one yet, e.g. a late commit) is
        a duplicate of the sync's making, linked to nothing: a *Duplicate created by the sync*
        error on it says so. One Salesforce read for all of a batch's moved links."""
        if not moved:
            return
        old_ids: dict[str, list[str]] = defaultdict(list)
        for link, _ in moved:
            old_ids[link.salesforce_type].append(link.salesforce_id)
        soqls = []
        for sobject, ids in old_ids.items():
            known = self.ctx.salesforce_fields.get(sobject, {})
            fields = ["Id", "CreatedById", "CreatedDate"]
            fields += [f for f in ("Email", "FirstName", "LastName") if f in known]
            soqls += ids_queries(sobject, fields, ids)
        found = {
            r["Id"]: r
            for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False)
            for r in all_records(self.ctx.salesforce, page)
        }
        for link, pair in moved:
            record = found.get(link.salesforce_id)
            if record is None or not self.created_by_us(record):
                continue
            old, new = link.salesforce_type.lower(), pair.sobject.lower()
            if old == new:
                fix = f"Merge {old} {record['Id']} into {new} {pair.salesforce_id} in Salesforce"
            else:  # a lead and a contact: Salesforce merges only records of one kind
                lead, contact = (
                    (pair.salesforce_id, record["Id"])
                    if old == "contact"
                    else (record["Id"], pair.salesforce_id)
                )
                fix = (
                    f"In Salesforce, convert lead {lead} into contact {contact} (Salesforce "
                    "merges only records of one kind)"
                )
            self.record_error(
                Pair(link.salesforce_type, record, None),
                "to_hubspot",
                DUPLICATE_CREATED,
                "DUPLICATE_CREATED",
                f"The integration created this {old} for HubSpot contact {pair.hubspot_id} "
                f"before {new} {pair.salesforce_id} with the same email was visible in "
                f"Salesforce. HubSpot contact {pair.hubspot_id} now syncs with {new} "
                f"{pair.salesforce_id}, and this {old} with nothing. {fix}, or delete {old} "
                f"{record['Id']}.",
                ["Email"],
                hubspot_id=pair.hubspot_id,
            )

    def duplicates_settled(self) -> None:
        """End the *Duplicate created by the sync* errors whose person is linked again (it
        syncs), or gone from Salesforce: deleted, merged away, or a lead converted, each
        ending saying which (``salesforce_gone``). One query without such errors, one
        Salesforce read for all of them with some."""
        open_errors = dict(
            SyncError.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                error_type=DUPLICATE_CREATED,
                resolved_at__isnull=True,
            ).values_list("salesforce_id", "salesforce_type")
        )
        if not open_errors:
            return
        linked = set(
            RecordLink.objects.filter(
                integration=self.ctx.integration, salesforce_id__in=list(open_errors)
            ).values_list("salesforce_id", flat=True)
        )
        by_type: dict[str, list[str]] = defaultdict(list)
        for record_id, sobject in open_errors.items():
            if record_id not in linked:
                by_type[sobject or _sobject_of({"Id": record_id})].append(record_id)
        settled: dict[str, set[str]] = defaultdict(set)
        settled[SyncError.EndedBecause.SYNCED] = linked
        for record_id, reason in self.salesforce_gone(by_type).items():
            settled[reason].add(record_id)
        for reason, ids in settled.items():
            services.sync_errors_resolve_type(
                integration=self.ctx.integration,
                object_name=OBJECT,
                error_type=DUPLICATE_CREATED,
                record_keys=[f"salesforce:{i}" for i in sorted(ids)],
                ended_because=reason,
            )

    def receiving(self, pairs: list[Pair]) -> list[Pair]:
        """The pairs Salesforce's changes go to. A person whose HubSpot contact was deleted
        is made again only as a new one would be: with creation on, and an email."""
        kept = []
        for pair in pairs:
            if pair.hubspot_failed:
                continue
            if pair.hubspot is None and pair.link is None:
                if self.settings.salesforce_create_update != "create_or_update":
                    self.skipped("create_disabled", f"salesforce:{pair.salesforce_id}")
                    continue
                if not _email(pair.salesforce.get("Email")):
                    self.skipped("no_email", f"salesforce:{pair.salesforce_id}")
                    continue
            if self.may_receive_salesforce_updates(pair):
                kept.append(pair)
        return kept

    def list_missing_message(self, list_id: Any) -> str:
        return list_missing_message(list_id)

    def entrants_read(self, ids: list[str]) -> list[Any]:
        """The contacts that entered the inclusion list, read to sync (one call per 100)."""
        return hubspot_batch_read(
            self.ctx.hubspot, object_type=OBJECT, ids=ids, properties=self.hubspot_properties
        ).results

    # --- HubSpot → Salesforce -------------------------------------------------------------
    def sync_hubspot_changes(self) -> None:
        cursor = Cursor.load(self.ctx.integration, f"hubspot:{OBJECT}")
        since = cursor.since
        complete = since is None  # a first read sees every contact HubSpot has
        read_started = self.read_hubspot_changes(
            cursor, self.hubspot_properties, self.handle_hubspot_contacts, batch=BATCH
        )
        self.hubspot_emails_complete = complete
        if self.company_rows is not None:
            self.ctx.probe.contact_companies = ContactCompanies(
                since, read_started, self.company_rows
            )

    def handle_hubspot_contacts(
        self, objects: list[Any], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            objects, cursor, force=force, version=lambda o: hubspot_version(o, MODIFIED)
        )
        for o in objects:
            self.hubspot_emails.add(_email(o.properties.get("email")))
            self.hubspot_emails.update(_merged_emails(o))
        if self.company_rows is not None and cursor is not None:
            if len(self.company_rows) + len(objects) > SHARED_CONTACTS_MAX:
                self.company_rows = None  # a backfill that big: the company sync reads itself
            else:
                self.company_rows += [
                    (str(o.id), o.properties.get(COMPANY_PROPERTY), o.properties.get(MODIFIED))
                    for o in objects
                ]
        self.follow_hubspot_merges(fresh)
        links = {
            link.hubspot_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                hubspot_id__in=[str(o.id) for o in fresh],
            ).defer(*LINK_MOMENTS)
        }
        pairs: list[Pair] = []
        unlinked = []
        for obj in self.in_list_only(fresh):
            link = links.get(str(obj.id))
            if link:
                if not force and self.hubspot_unchanged(obj, link):
                    self.unchanged_read(f"hubspot:{obj.id}", obj.properties.get(MODIFIED))
                    continue
                pairs.append(Pair(link.salesforce_type, None, obj, link))
            elif not _email(obj.properties.get("email")):
                self.skipped("no_email", f"hubspot:{obj.id}")  # email is the only key (§6.2)
            else:
                unlinked.append(obj)
        self.merged_noted(pairs, unlinked)
        self.load_salesforce_partners(pairs)
        pairs = [p for p in pairs if p.salesforce is not None]
        pairs += self.match_in_salesforce(unlinked)
        self.load_history(pairs)
        self.merge_and_write(pairs)
        self.commit(pairs, cursor, handled)

    def follow_hubspot_merges(self, objects: list[Any]) -> None:
        """As ``PairSync``'s. A Salesforce person whose contact was merged into another
        person's, which now holds its email, syncs with nothing from then on: said at once, as
        its next edit would (``email_in_use``), not left for that edit to reveal. Nothing is
        written (one Salesforce read, only then)."""
        survivors = merge_survivors(objects)
        orphans: dict[str, dict[str, Any]] = defaultdict(dict)
        for link in self.links_by("hubspot_id", survivors).values():
            survivor = survivors[link.hubspot_id]
            if not self.repoint_hubspot(link, str(survivor.id)):
                orphans[link.salesforce_type][link.salesforce_id] = survivor
                # What the person's errors would put in step is gone: they end now, and no
                # retry makes the person a contact again (its next change does, as after a
                # delete, or says the email is in use).
                self.hubspot_gone_errors_end({link.salesforce_id: link.hubspot_id})
        for sobject, held_by in orphans.items():
            fields = self.salesforce_fields(sobject)
            for record in salesforce_by_ids(self.ctx.salesforce, sobject, fields, list(held_by)):
                survivor = held_by[record["Id"]]
                if _email(record.get("Email")) in _merged_emails(survivor):
                    self.email_in_use(Pair(sobject, record, None), str(survivor.id), merged=True)

    def hubspot_unchanged(self, obj: Any, link: RecordLink) -> bool:
        props = obj.properties or {}
        snapshot = link.snapshot
        for f in self.field_plan(link.salesforce_type):
            if self.hubspot_goes_nowhere(f.mapping, snapshot):
                continue
            value = props.get(f.prop)
            if f.owner or f.geo or f.dropdown or not (f.plain and type(value) is str):
                try:
                    value = self._hs_value(f, link.salesforce_type, props)
                except ValueConversionError:
                    return False
            # (A multi-select's same choices in another order are no change.)
            if not self.same_value(f.kind, snapshot.get(f.prop), value):
                return False
        return True

    def load_salesforce_partners(self, pairs: list[Pair]) -> None:
        """Read the Salesforce side of linked pairs whose HubSpot side changed (one composite
        call per 1,500 records); follow converted leads to their contacts."""
        by_type: dict[str, list[Pair]] = defaultdict(list)
        for pair in pairs:
            by_type[pair.link.salesforce_type].append(pair)
        queries = {
            sobject: ids_queries(
                sobject, self.salesforce_fields(sobject), [p.link.salesforce_id for p in group]
            )
            for sobject, group in by_type.items()
        }
        every = [q for qs in queries.values() for q in qs]  # leads' and contacts' together
        # In a cycle over every pair, the change probe takes these queries aboard when it
        # hasn't gone yet (it reads this pair's streams only after this pair's writes).
        probe = getattr(self.ctx, "probe", None)
        answers = (
            probe.ensure(self.ctx, carry=every, not_yet=frozenset(self.salesforce_streams))
            if probe is not None and every
            else None
        )
        if answers is None and every:
            answers = composite_query(self.ctx.salesforce, every, include_deleted=True)
        for sobject, group in by_type.items():
            count = len(queries[sobject])
            pages, answers = answers[:count], answers[count:]
            records = [r for page in pages for r in all_records(self.ctx.salesforce, page)]
            found = {r["Id"]: r for r in records}
            # Deleted or merged in Salesforce: handled as the Salesforce side would (by the
            # delete setting), never re-created from a HubSpot echo. So is one gone even from
            # the recycle bin (its delete never reaches the stream).
            self.apply_salesforce_deletes([r for r in records if r.get("IsDeleted")])
            self.salesforce_purged(
                [p.link.salesforce_id for p in group if p.link.salesforce_id not in found]
            )
            converted = []
            for pair in group:
                record = found.get(pair.link.salesforce_id)
                if record is None or record.get("IsDeleted"):
                    pair.link = pair.hubspot = None  # settled; nothing to merge this cycle
                elif record.get("IsConverted"):
                    converted.append((pair, record))
                else:
                    pair.salesforce = record
            # Those following their lead to its contact are read again as the contact's; the
            # others stay unwritten (settled, as for a delete).
            moved = []
            for pair, lead in converted:
                if self.follow_conversion(lead, pair.link, pair.hubspot):
                    pair.sobject = "Contact"
                    moved.append(pair)
                else:
                    pair.link = pair.hubspot = None
            self.load_salesforce_partners(moved)

    def match_in_salesforce(self, objects: list[Any]) -> list[Pair]:
        """Unlinked HubSpot contacts: find Salesforce leads and contacts by email in bulk; a
        person Salesforce already has is never created twice (spec §6.2)."""
        if not objects:
            return []
        matches = self.people_by_email({_email(o.properties.get("email")) for o in objects})
        taken = set(
            RecordLink.objects.filter(
                integration=self.ctx.integration,
                salesforce_id__in=[r["Id"] for rs in matches.values() for r in rs],
            ).values_list("salesforce_id", flat=True)
        )
        pairs = []
        linked_only: list[tuple[Any, list[dict]]] = []
        unmatched: list[Any] = []
        for obj in objects:
            found = matches.get(_email(obj.properties.get("email")), [])
            candidates = [r for r in found if r["Id"] not in taken]
            if candidates:
                # First sync links to the first match, oldest first (spec §6.2).
                record = _oldest(candidates)
                taken.add(record["Id"])
                pairs.append(Pair(_sobject_of(record), record, obj))
            elif found:
                linked_only.append((obj, found))
            else:
                unmatched.append(obj)
        unmatched = self.found_by_email_sent(unmatched, taken, pairs)
        # A contact kept after its Salesforce person was merged into another contact's never
        # brings that duplicate back (see ``PairSync.salesforce_merges_kept``).
        target = "Contact" if self.settings.hubspot_creates == "contact" else "Lead"
        pairs += [Pair(target, None, o) for o in self.not_held_after_salesforce_merge(unmatched)]
        return pairs + self.take_over_links(linked_only)

    def people_by_email(self, emails: set[str], where: str = "") -> dict[str, list[dict]]:
        """The unconverted leads and the contacts with these emails (lower-case) that meet
        ``where``, by email (200 emails a query, the queries composite)."""
        soqls = [
            soql
            for sobject in PEOPLE
            for soql in ids_queries(
                sobject,
                self.salesforce_fields(sobject),
                sorted(emails),
                key="Email",
                where=" AND ".join(
                    c for c in (where, "IsConverted = false" if sobject == "Lead" else "") if c
                ),
                size=200,
            )
        ]
        found: dict[str, list[dict]] = defaultdict(list)
        for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False):
            for records in salesforce_pages(self.ctx.salesforce, page):
                for record in records:
                    found[_email(record.get("Email"))].append(record)
        return found

    def found_by_email_sent(self, objects: list[Any], taken: set[str], pairs: list[Pair]):
        """Of these unmatched contacts, those a lost create was made for (``creates_noted``, in
        the last day) whose email changed since: the unlinked person the integration user made
        since then with the email it was created with is theirs (one query, only then). The
        others are returned, still unmatched."""
        if not objects:
            return objects
        noted = self.intents.seen or {}
        user = getattr(self.ctx.integration.salesforce_connection, "user_id", "")
        day_ago = (timezone.now() - timedelta(days=1)).isoformat()
        sent, since = {}, {}
        for obj in objects:
            intent = noted.get(str(obj.id))
            if not isinstance(intent, dict) or intent.get("at", "") < day_ago:
                continue
            email = intent.get("email") or ""
            if email and email != _email(obj.properties.get("email")):
                sent[str(obj.id)] = email
                since[str(obj.id)] = parse_time(intent["at"]) - timedelta(minutes=5)
        if not sent or not user:
            return objects
        # Only what the integration user made since the first note: never a person someone
        # else made with that email.
        found = self.people_by_email(
            set(sent.values()),
            where=f"CreatedById = {soql_string(user)} "
            f"AND CreatedDate >= {soql_datetime(min(since.values()))}",
        )
        linked = set(self.links_by("salesforce_id", [r["Id"] for rs in found.values() for r in rs]))
        still = []
        for obj in objects:
            candidates = [
                r
                for r in found.get(sent.get(str(obj.id), ""), [])
                if r["Id"] not in taken
                and r["Id"] not in linked
                and (parse_time(r.get("CreatedDate")) or since[str(obj.id)]) >= since[str(obj.id)]
            ]
            if not candidates:
                still.append(obj)
                continue
            record = _oldest(candidates)
            taken.add(record["Id"])
            self.counts["matched_lost_create"] += 1
            pairs.append(Pair(_sobject_of(record), record, obj))
        return still

    def creates_noted(self, pairs: list[Pair]) -> None:
        """Noted (committed) before Salesforce creates go: if the answer is lost, the next
        cycle finds each new person by the email it was created with, even after the
        contact's email changed (``found_by_email_sent``). Settled by the commit that links
        them (``creates_settled``); notes older than a day go."""
        now = timezone.now()
        day_ago = (now - timedelta(days=1)).isoformat()
        seen = {
            h: i
            for h, i in (self.intents.seen or {}).items()
            if isinstance(i, dict) and i.get("at", "") >= day_ago
        }
        for pair in pairs:
            email = _email(pair.to_salesforce.get("Email"))
            seen[pair.hubspot_id] = {"email": email, "at": now.isoformat()}
        self.intents.seen = seen
        self.intents.save(update_fields=["seen", "updated_at"])

    def take_over_links(self, waiting: list[tuple[Any, list[dict]]]) -> list[Pair]:
        """HubSpot contacts whose email only Salesforce people linked to other contacts have.
        A link whose HubSpot contact is gone (deleted, then made again by a form, say) moves
        to the new contact, as a first sync of the pair; while that contact exists, the new
        one is an *Email already in use* error. Never a second Salesforce person for the
        email (spec §6.2). One HubSpot read per 100 of those links, and only for them."""
        if not waiting:
            return []
        links = self.links_by("salesforce_id", [r["Id"] for _, records in waiting for r in records])
        # A contact merged away reads as its survivor: alive. The gone ones' links retire.
        gone_contacts = self.deleted_in_hubspot(
            OBJECT, {link.hubspot_id for link in links.values()}, merged_too=False
        )
        pairs = []
        for obj, records in waiting:
            gone = [
                r
                for r in records
                if r["Id"] in links and links[r["Id"]].hubspot_id in gone_contacts
            ]
            if gone:
                record = _oldest(gone)  # its new link is stored with the sync
                self.counts["links_repointed"] += 1
                pairs.append(Pair(_sobject_of(record), record, obj))
                continue
            record = _oldest(records)
            sobject = _sobject_of(record)
            self.record_error(
                Pair(sobject, record, obj),
                "to_salesforce",
                "email_in_use",
                "EMAIL_IN_USE",
                f"Another HubSpot contact with this email syncs with the Salesforce "
                f"{sobject.lower()} already: no second Salesforce record is made for it.",
                ["email"],
            )
        return pairs

    # --- merge ----------------------------------------------------------------------------
    def field_plan(self, sobject: str) -> list[MappedField]:
        """The mappings that apply to ``sobject``, in mapping order, resolved once a cycle."""
        plan = self._plans.get(sobject)
        if plan is None:
            geo_on = self.geo_active()
            known = self.ctx.salesforce_fields.get(sobject, {})
            plan = []
            for mapping in self.ctx.mappings:
                name = self.ctx.mapped_field(mapping, sobject)
                if not name:
                    continue
                prop = mapping.hubspot_property
                hs_info = self.ctx.hubspot_properties.get(prop) or {}
                hs_type = hs_info.get("type")
                sf_type = self.ctx.field_type(sobject, name)
                ranges = (
                    number_ranges(hs_info.get("options") or [])
                    if hs_type == "enumeration" and sf_type in NUMBER_TYPES
                    else None
                )
                plan.append(
                    MappedField(
                        mapping=mapping,
                        prop=prop,
                        name=name,
                        sf_type=sf_type,
                        kind=self.value_type(sobject, name, prop),
                        rule=SyncRule(mapping.rule),
                        owner=prop == OWNER_PROPERTY,
                        geo=geo_on and prop in GEO_PROPERTIES,
                        geo_target=self.geo_target(sobject, name),
                        hs_writable=self.ctx.hubspot_writable(prop),
                        sf_updateable=self.ctx.writable(sobject, name, create=False),
                        sf_createable=self.ctx.writable(sobject, name, create=True),
                        plain=sf_type not in TYPED,
                        dropdown=hs_type == "enumeration"
                        and prop != OWNER_PROPERTY
                        and ranges is None,
                        create_default=known.get(name, {}).get("default"),
                        ranges=ranges,
                        amount=prop != OWNER_PROPERTY and self.is_converted_amount(sobject, name),
                        unchecked_is_blank=(
                            SyncRule(mapping.rule) == SyncRule.PREFER_SALESFORCE_UNLESS_BLANK
                            and sf_type == "boolean"
                            and not self.ctx.hubspot_writable(prop)
                        ),
                    )
                )
            self._plans[sobject] = plan
        return plan

    def _sf_value(self, f: MappedField, sobject: str, record: dict, last: str | None = None) -> str:
        if f.amount:  # in HubSpot's currency (``last``: see ``amount_compared``)
            return self.amount_compared(sobject, f.name, record, last)
        if f.geo:
            return self.geo_salesforce_comparable(sobject, f.prop, record)
        if f.ranges:  # the number as the range it falls in
            return range_of(f.comparable(record.get(f.name)), f.ranges)
        return f.comparable(record.get(f.name))

    def _hs_value(self, f: MappedField, sobject: str, props: dict) -> str:
        if f.owner:
            return props.get(OWNER_PROPERTY) or ""
        if f.geo:
            return self.geo_hubspot_comparable(sobject, f.prop, props)
        if f.ranges:
            return props.get(f.prop) or ""
        value = f.comparable(props.get(f.prop))
        if f.dropdown:
            return self.hubspot_option_comparable(f.prop, value, sobject, f.name)
        return value

    def merge(self, pair: Pair) -> None:
        """Decide every mapped field of one pair (idempotent: may run twice)."""
        pair.clear_decisions()
        pair.merged = True
        sobject, record, props = pair.sobject, pair.salesforce or {}, pair.hs_props
        snapshot = pair.link.snapshot if pair.link and pair.link.pk else None
        creating_salesforce = pair.salesforce is None
        sf_time = parse_time(record.get("LastModifiedDate"))
        same, history = pair.same, pair.hs_history
        for f in self.field_plan(sobject):
            prop = f.prop
            if f.owner:
                self.merge_owner(pair, f.name, snapshot)
                continue
            try:
                if f.geo or f.ranges:  # each side's value compared in its own terms
                    hs_value = self._hs_value(f, sobject, props)
                    sf_value = "" if creating_salesforce else self._sf_value(f, sobject, record)
                else:
                    hs_value = props.get(prop)
                    if not (f.plain and type(hs_value) is str):  # ``comparable``, inlined
                        hs_value = f.comparable(hs_value)
                    if f.dropdown:  # an option named otherwise: as the picklist value it is
                        hs_value = self.hubspot_option_comparable(prop, hs_value, sobject, f.name)
                    if creating_salesforce:
                        # A field HubSpot leaves blank gets Salesforce's default on create:
                        # known now, so HubSpot gets it with this write, not a cycle later.
                        sf_value = "" if hs_value else f.comparable(f.create_default)
                    elif f.amount:
                        last = snapshot.get(prop) if snapshot is not None else None
                        sf_value = self._sf_value(f, sobject, record, last)
                    else:
                        sf_value = record.get(f.name)
                        if not (f.plain and type(sf_value) is str):
                            sf_value = f.comparable(sf_value)
            except AmountNotConvertible as error:
                self.amount_not_convertible(pair, prop, f.name, error, "to_hubspot")
                continue
            except ValueConversionError as error:
                self.invalid_value(pair, "to_salesforce", prop, error, [f.name])
                continue
            rule = f.rule
            if creating_salesforce and rule == SyncRule.ALWAYS_USE_SALESFORCE:
                continue
            last = snapshot.get(prop) if snapshot is not None else None
            if f.kind == MULTI_SELECT:  # choices in one order: the same in another aren't a change
                hs_value, sf_value = choices_sorted(hs_value), choices_sorted(sf_value)
                last = choices_sorted(last)
            if hs_value == sf_value:  # nothing to decide (``merge_field`` would say so)
                same[prop] = hs_value
                continue
            sf_side, base = sf_value, last
            if f.unchecked_is_blank and sf_value == "false":
                # A Salesforce checkbox is never blank: unchecked is its blank, which HubSpot's
                # own value (an unsubscribe) fills; else it could never reach Salesforce.
                sf_side, base = "", ("" if last == "false" else last)
                if not hs_value:  # both blank: in step
                    same[prop] = hs_value
                    continue
            decision: Decision = merge_field(
                rule,
                hubspot=Side(hs_value, history.get(prop)),
                salesforce=Side(sf_side, sf_time),
                last_synced=base,
            )
            if (
                rule == SyncRule.TWO_WAY
                and prop not in history
                and two_way_conflict(hs_value, sf_value, last)
            ):
                pair.needs_history = True
            if decision.to_salesforce is not None:
                if f.ranges:
                    # A range names no number: HubSpot's stays there. Not noted as in step,
                    # so Salesforce's number, unchanged, doesn't undo it next time.
                    continue
                if not (f.sf_createable if creating_salesforce else f.sf_updateable):
                    if not creating_salesforce:  # (a create's echo merges it again: caught)
                        pair.not_writable.append(f.name)
                    continue
                value = decision.to_salesforce
                if f.geo:
                    out = self.geo_for_salesforce(sobject, prop, value, props.get("country"))
                    pair.to_salesforce[f.geo_target] = out or None
                elif f.amount:
                    try:
                        self.amount_to_salesforce(pair, sobject, f.name, value)
                    except AmountNotConvertible as error:
                        self.amount_not_convertible(pair, prop, f.name, error, "to_salesforce")
                        continue
                else:
                    pair.to_salesforce[f.name] = to_salesforce(value, f.sf_type, f.kind)
                pair.snap_salesforce[prop] = value
            elif decision.to_hubspot is not None:
                if not f.hs_writable:
                    # HubSpot manages it (e.g. unsubscribes): it only flows out, so the
                    # snapshot follows HubSpot's value and Salesforce's changes are ignored.
                    same[prop] = hs_value
                    continue
                if f.geo:
                    pair.to_hubspot[prop] = record.get(f.name) or ""
                else:
                    pair.to_hubspot[prop] = decision.to_hubspot
                pair.snap_hubspot[prop] = decision.to_hubspot
            elif rule == SyncRule.ALWAYS_USE_SALESFORCE and not sf_value:
                # Salesforce's blank leaves HubSpot's value be (rules.py) and is what is in
                # step; unrecorded, the field would read as a first sync, and a change, for
                # ever (as ``PairSync.merge_mapped``).
                same[prop] = sf_value
        link_prop = LINK_PROPERTY[sobject]
        if (
            pair.hubspot is not None
            and not creating_salesforce
            and self.ctx.hubspot_writable(link_prop)
        ) and props.get(link_prop) != pair.salesforce_id:
            pair.to_hubspot[link_prop] = pair.salesforce_id
            other = LINK_PROPERTY["Contact" if sobject == "Lead" else "Lead"]
            if props.get(other):
                pair.to_hubspot[other] = ""

    # --- writes ---------------------------------------------------------------------------
    def merge_and_write(self, pairs: list[Pair]) -> None:
        for pair in pairs:
            if not pair.merged:
                self.merge(pair)
        self.write_salesforce(pairs)
        self.write_hubspot(pairs)

    def write_salesforce(self, pairs: list[Pair]) -> None:
        self.salesforce_updates(pairs, "Contact")  # leads and contacts in one collection
        creates: dict[str, list[Pair]] = defaultdict(list)
        for pair in pairs:
            if pair.salesforce is None and pair.hubspot is not None:
                creates[pair.sobject].append(pair)
        for sobject, group in creates.items():
            # Not retried on a transient failure: the write may have landed. The next cycle
            # finds the new record by email and links it instead of creating it again.
            self.creates_noted(group)
            results = self.ctx.salesforce.collections_create(
                sobject=sobject, records=[p.to_salesforce for p in group]
            )
            for pair, result in zip(group, results, strict=True):
                if self.salesforce_create_landed(pair, result):
                    pair.salesforce = {"Id": result["id"], **pair.to_salesforce}
                    self.written.add(f"salesforce:{result['id']}")
                    if self.ctx.hubspot_writable(LINK_PROPERTY[sobject]):
                        pair.to_hubspot[LINK_PROPERTY[sobject]] = result["id"]

    def write_hubspot(self, pairs: list[Pair]) -> None:
        self.align_options(pairs)
        self.hubspot_updates(pairs)
        for pair in pairs:  # a linked person's new email, now on its contact
            email = _email(pair.to_hubspot.get("email"))
            if email and pair.hubspot is not None and not pair.hubspot_failed:
                old = _email(pair.hs_props.get("email"))
                if self.email_holders.get(old) == pair.hubspot_id:
                    del self.email_holders[old]
                self.email_holders[email] = pair.hubspot_id
        creates = [p for p in pairs if p.hubspot is None and p.salesforce is not None]
        if not creates:
            return
        self.holders_looked_up([p for p in creates if p.salesforce_id in self._made_again])
        # Another pair's partner here is never this one's.
        taken = {p.hubspot_id for p in pairs if p.hubspot is not None}
        while creates:
            # One create per email a batch: HubSpot's upsert would write the second person's
            # values over the contact made for the first. A second is checked again after.
            batch: dict[str, Pair] = {}
            later = []
            for pair in creates:
                email = _email(pair.salesforce["Email"])
                if email in batch:
                    later.append(pair)
                else:
                    batch[email] = pair
            creates = later
            self.hubspot_creates(self.holders_checked(list(batch.values()), taken), taken)

    def holders_checked(self, creates: list[Pair], taken: set[str]) -> list[Pair]:
        """The creates that may go: an upsert by email lands on whichever contact HubSpot finds
        by it, and writes this person's values over it before the answer says whose it is. A
        contact known to hold the email (``email_holders``) that syncs with another person,
        or is another pair's partner here, is never written: *Email already in use* instead.
        One query for the batch, only when some holder is known."""
        held = {
            e: self.email_holders[e]
            for e in (_email(p.salesforce["Email"]) for p in creates)
            if e in self.email_holders
        }
        if not held:
            return creates
        taken.update(self.links_by("hubspot_id", set(held.values())))
        going = []
        for pair in creates:
            email = _email(pair.salesforce["Email"])
            if held.get(email) in taken:
                self.email_in_use(pair, held[email], merged=email in self.merged_emails_held)
            else:
                going.append(pair)
        return going

    def hubspot_creates(self, creates: list[Pair], taken: set[str]) -> None:
        """Upsert these people's contacts by email (100 a call)."""
        if not creates:
            return
        inputs = [
            {
                "id": _email(p.salesforce["Email"]),
                "idProperty": "email",
                "properties": self.hubspot_create_properties(p),
            }
            for p in creates
        ]
        results, failed = self.hubspot_batch("upsert", inputs, key=lambda i: i["id"])
        by_email = {_email(o.properties.get("email")): o for o in results}
        self.email_holders.update((e, str(o.id)) for e, o in by_email.items())
        # A holder no look saw (its email changed in HubSpot since, say): taken, it still
        # isn't this person's partner.
        taken |= set(self.links_by("hubspot_id", [str(o.id) for o in results]))
        for pair, sent in zip(creates, inputs, strict=True):
            obj = by_email.get(sent["id"])
            if obj is None:
                pair.hubspot_failed = True
                self.record_hubspot_failure(pair, failed.get(sent["id"]))
                continue
            if str(obj.id) in taken:
                self.email_in_use(pair, str(obj.id), merged=False)
                continue
            taken.add(str(obj.id))
            pair.hubspot = obj
            self.counts["created_in_hubspot"] += 1
            self.written.add(f"hubspot:{obj.id}")

    def holders_looked_up(self, creates: list[Pair]) -> None:
        """People made again after their contact was deleted in HubSpot
        (``load_hubspot_partners``) were looked up by email by nobody this cycle: the
        contacts holding their emails are read first (100 a call, only for those)."""
        if not creates:
            return
        self._made_again -= {p.salesforce_id for p in creates}
        result = hubspot_batch_read(
            self.ctx.hubspot,
            object_type=OBJECT,
            ids=list(dict.fromkeys(_email(p.salesforce["Email"]) for p in creates)),
            id_property="email",
            properties=[p for p in ("email", MERGED_EMAILS) if p in self.hubspot_properties],
        )
        for obj in result.results:
            merged = _merged_emails(obj)
            self.merged_emails_held.update(merged)
            for email in [*merged, _email(obj.properties.get("email"))]:
                self.email_holders[email] = str(obj.id)

    def hubspot_create_properties(self, pair: Pair) -> dict[str, str]:
        """Everything Salesforce knows, for a contact HubSpot doesn't have yet."""
        if not pair.merged:
            self.merge(pair)
        properties = {k: v for k, v in pair.to_hubspot.items() if v != ""}
        pair.snap_hubspot = {k: v for k, v in pair.snap_hubspot.items() if v != ""}
        properties["email"] = pair.salesforce["Email"]
        if self.ctx.hubspot_writable(LINK_PROPERTY[pair.sobject]):
            properties[LINK_PROPERTY[pair.sobject]] = pair.salesforce_id
        return properties

    # --- errors ---------------------------------------------------------------------------
    def email_in_use(self, pair: Pair, holder_id: str, *, merged: bool) -> None:
        """A Salesforce person whose email HubSpot contact ``holder_id`` holds while it is
        another person's partner (``merged``: as the email of a contact merged into it). It
        is never this person's partner, and HubSpot allows no second contact with the
        email: an *Email already in use* error on the person (spec §4), naming the contact,
        and the pair is left failed, unwritten and unlinked."""
        pair.hubspot, pair.hubspot_failed = None, True
        other = RecordLink.objects.filter(
            integration=self.ctx.integration, object=OBJECT, hubspot_id=holder_id
        ).first()
        whose = (
            f"syncs with Salesforce {other.salesforce_type.lower()} {other.salesforce_id}"
            if other is not None
            else "syncs with another Salesforce record"
        )
        held = "among the emails of contacts merged into it" if merged else "as its email"
        # Salesforce merges two leads or two contacts; a lead and a contact become one by
        # converting the lead into the contact.
        one_of_each = other is not None and {pair.sobject, other.salesforce_type} == set(PEOPLE)
        join = (
            "convert the lead into the contact (Convert, choosing the existing contact)"
            if one_of_each
            else "merge the two Salesforce records"
        )
        self.record_error(
            pair,
            "to_hubspot",
            "email_in_use",
            "EMAIL_IN_USE",
            f"HubSpot contact {holder_id} has this email ({held}) and {whose}: this "
            f"{pair.sobject.lower()} is not synced to it, and HubSpot allows no second contact "
            f"with the email. Remove the email from that contact, change it in Salesforce, or "
            f"{join}, then resync.",
            ["Email"],
            hubspot_id=holder_id,
        )

    # --- commit ---------------------------------------------------------------------------
    # --- retries --------------------------------------------------------------------------
    def retry_errored(self) -> None:
        """Records whose errors are due for a retry (every 20 minutes, then nightly), and
        records an admin asked to resync."""
        # Refused lifecycle stages are left out: ``retry_refused`` writes them every cycle.
        # Refused campaigns are taken: written again below, after the record's sync.
        due, requests = self.due_for_retry(exclude_types=(LIFECYCLE_ERROR, DUPLICATE_CREATED))
        if not due:
            return
        hubspot_ids = sorted({k.split(":", 1)[1] for k, _ in due if k.startswith("hubspot:")})
        salesforce = defaultdict(set)
        for key, sobject in due:
            if key.startswith("salesforce:"):
                record_id = key.split(":", 1)[1]
                sobject = sobject or ("Lead" if record_id.startswith("00Q") else "Contact")
                salesforce[sobject].add(record_id)
        for sobject, ids in salesforce.items():
            records = salesforce_by_ids(
                self.ctx.salesforce, sobject, self.salesforce_fields(sobject), sorted(ids)
            )
            self.resolve_vanished("salesforce", ids, [r["Id"] for r in records], sobject=sobject)
            self.handle_salesforce_people(sobject, records, None, force=True)
        if hubspot_ids:
            objects = self.hubspot_reread(
                hubspot_ids,
                lambda i: (
                    hubspot_batch_read(
                        self.ctx.hubspot,
                        object_type=OBJECT,
                        ids=i,
                        properties=self.hubspot_properties,
                    ).results
                ),
            )
            if objects:
                self.handle_hubspot_contacts(objects, None, force=True)
        self.campaigns.retry([key for key, _ in due])
        self.retries_done(requests, len(due))


class CampaignMemberships:
    """The *Salesforce campaigns* contact property (spec §6.1, §17): the names of the
    campaigns the linked lead or contact is a member of, kept in step from the campaign
    members' stream (one more query in the cycle's composite call; nothing when idle). Only
    the people whose memberships changed are read again (all their members, 1,500 people a
    composite call) and written (100 a HubSpot call). People linked after their members were
    read, and linked contacts entering the inclusion list, get theirs at the end of the cycle
    (``newly_linked``). A campaign write HubSpot refuses is a *Salesforce campaigns not
    updated* error on the person, whose retry writes them again (``retry``). A renamed
    campaign reaches its linked members in the next cycle (``handle_names``); a deleted one
    takes its members to the recycle bin with it, which the members' stream reads. Never
    written to Salesforce. Without access to campaigns (an *Object permission* error, see
    ``sync.cycle``) the part is ``held``: its cursors stay, and it catches up once access is
    back."""

    def __init__(self, contacts: ContactSync) -> None:
        self.contacts = contacts
        self.ctx = contacts.ctx
        self.held = bool(getattr(self.ctx, "objects_held", frozenset()) & CAMPAIGN_OBJECTS)
        # The Salesforce people whose campaigns this cycle wrote (or HubSpot refused).
        self.written: set[str] = set()
        # How far earlier cycles read members (None: not at all), the people read this cycle
        # that Salesforce created later (no member of theirs was read before), and the newest
        # link when this cycle's first page of members was handled: see ``newly_linked``.
        self.read_until = None
        self.new_people: set[str] = set()
        self.linked_before: int | None = None

    def stream(self) -> SoqlStream:
        # Links made from now on are looked at by ``newly_linked`` (on a first read too: a
        # person linked after its members' page was handled got nothing from it).
        if not SyncCursor.objects.filter(
            integration=self.ctx.integration, stream=CAMPAIGNS_LINKED_STREAM
        ).exists():
            SyncCursor.objects.create(
                integration=self.ctx.integration,
                stream=CAMPAIGNS_LINKED_STREAM,
                seen={"after": self._newest_link()},
            )
        cursor = Cursor.load(self.ctx.integration, CAMPAIGN_STREAM)
        read = [t for t in (cursor.row.position, cursor.row.checked_at) if t is not None]
        self.read_until = max(read) if read else None
        return SoqlStream("CampaignMember", MEMBER_FIELDS, cursor)

    def names_stream(self) -> SoqlStream:
        return SoqlStream(
            "Campaign",
            CAMPAIGN_FIELDS,
            Cursor.load(self.ctx.integration, CAMPAIGN_NAMES_STREAM),
        )

    def handle_names(self, stream: SoqlStream, records: list[dict]) -> None:
        """A page of campaigns changed: the linked members of those renamed get their
        campaigns written again (``_write_members``). A campaign first read is only noted:
        its members got its name with their memberships. Deleted ones are forgotten (their
        members go with them, which the members' stream reads)."""
        versions = [salesforce_version(r) for r in records]
        fresh = [
            r
            for r, version in zip(records, versions, strict=True)
            if not stream.cursor.seen(version)
        ]
        row, _ = SyncCursor.objects.get_or_create(
            integration=self.ctx.integration, stream=CAMPAIGN_NAMES_ROW
        )
        names = dict(row.seen or {})
        renamed = []
        for record in fresh:
            if record.get("IsDeleted"):
                names.pop(record["Id"], None)
                continue
            known = names.get(record["Id"])
            if known is not None and known != record["Name"]:
                renamed.append(record["Id"])
            names[record["Id"]] = record["Name"]
        if renamed:
            self._write_members(renamed)
        with transaction.atomic():  # after the writes: a crash before reads the renames again
            if names != row.seen:
                row.seen = names
                row.save(update_fields=["seen", "updated_at"])
            stream.cursor.advance(versions)

    def _write_members(self, campaign_ids: list[str]) -> None:
        """The campaigns of every linked member of ``campaign_ids``, written: the members
        found by query (300 campaigns a query), their campaigns read 1,500 people a composite
        call and written 100 a HubSpot call."""
        soqls = ids_queries(
            "CampaignMember", ["LeadId", "ContactId"], sorted(campaign_ids), key="CampaignId"
        )
        people: set[str] = set()
        for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False):
            for member in all_records(self.ctx.salesforce, page):
                people.update(p for p in (member.get("LeadId"), member.get("ContactId")) if p)
        ordered = sorted(people)
        linked: dict[str, str] = {}
        for start in range(0, len(ordered), CAMPAIGN_LOOKUP):
            linked.update(
                RecordLink.objects.filter(
                    integration=self.ctx.integration,
                    object=OBJECT,
                    salesforce_id__in=ordered[start : start + CAMPAIGN_LOOKUP],
                ).values_list("salesforce_id", "hubspot_id")
            )
        due = sorted(linked)
        for start in range(0, len(due), CAMPAIGN_LOOKUP):
            self.write({p: linked[p] for p in due[start : start + CAMPAIGN_LOOKUP]})

    def note_people(self, records: list[dict]) -> None:
        """Leads and contacts read this cycle that Salesforce created after the members read
        so far: none of their members was read yet (a member comes after its person), so
        linked before this cycle's pages of members they need no look of their own. (Both
        times count whole seconds: one created in the second the last read began may have
        had members read; it is looked at.)"""
        for record in records:
            created = parse_time(record.get("CreatedDate"))
            if created is not None and (self.read_until is None or created > self.read_until):
                self.new_people.add(record["Id"])

    def handle(self, stream: SoqlStream, records: list[dict]) -> None:
        """A page of members added, changed or deleted: their linked people's campaigns,
        written. People linked later are looked up then (``newly_linked``)."""
        if self.linked_before is None:
            self.linked_before = self._newest_link()
        versions = [salesforce_version(r) for r in records]
        fresh = [
            r
            for r, version in zip(records, versions, strict=True)
            if not stream.cursor.seen(version)
        ]
        people = {r[k] for r in fresh for k in ("LeadId", "ContactId") if r.get(k)}
        if people:
            links = RecordLink.objects.filter(
                integration=self.ctx.integration, object=OBJECT, salesforce_id__in=sorted(people)
            )
            self.write(dict(links.values_list("salesforce_id", "hubspot_id")))
        stream.cursor.advance(versions)

    def newly_linked(self) -> None:
        """People linked since the last look (their members may have been read while they
        had no HubSpot contact) and linked contacts that entered the inclusion list this
        cycle get the campaigns they are members of: one composite read per 1,500 such
        people, no call without them; people the streams wrote this cycle aren't read again.
        Nothing is kept for people who never link. While ``held`` the mark stays: the links
        made meanwhile are looked at once access is back."""
        if self.held:
            return
        integration = self.ctx.integration
        row = SyncCursor.objects.filter(
            integration=integration, stream=CAMPAIGNS_LINKED_STREAM
        ).first()
        after = (row.seen or {}).get("after") if row else None
        if after is None:
            return  # the stream was never read: nobody's members were read unlinked
        links = RecordLink.objects.filter(integration=integration, object=OBJECT)
        new = list(
            links.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "salesforce_id", "hubspot_id")
        )
        # Not those created since the read of members began and linked before its first page
        # (every member of theirs meets them linked: most links a cycle makes).
        people = {
            person: hubspot_id
            for pk, person, hubspot_id in new
            if person not in self.new_people
            or (self.linked_before is not None and pk > self.linked_before)
        }
        # Linked contacts that entered the inclusion list: it held their campaigns back.
        joined = sorted(self.contacts._joined)
        for start in range(0, len(joined), 500):
            people.update(
                links.filter(hubspot_id__in=joined[start : start + 500]).values_list(
                    "salesforce_id", "hubspot_id"
                )
            )
        due = sorted(set(people) - self.written)
        for start in range(0, len(due), CAMPAIGN_LOOKUP):
            batch = due[start : start + CAMPAIGN_LOOKUP]
            self.write({p: people[p] for p in batch}, only_members=True)
        if new:
            row.seen = {"after": new[-1][0]}
            row.save(update_fields=["seen", "updated_at"])

    def retry(self, record_keys: list[str]) -> None:
        """The records a retry synced again whose campaigns HubSpot refused: written again,
        as they are now (ending the error, or recording it once more)."""
        if self.held or not record_keys:
            return
        people = list(
            SyncError.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                error_type=CAMPAIGNS_ERROR,
                resolved_at__isnull=True,
                record_key__in=record_keys,
            ).values_list("salesforce_id", flat=True)
        )
        if people:
            links = RecordLink.objects.filter(
                integration=self.ctx.integration, object=OBJECT, salesforce_id__in=people
            )
            self.write(dict(links.values_list("salesforce_id", "hubspot_id")))

    def _newest_link(self) -> int:
        return (
            RecordLink.objects.filter(integration=self.ctx.integration, object=OBJECT).aggregate(
                newest=Max("pk")
            )["newest"]
            or 0
        )

    def write(self, people: dict[str, str], *, only_members: bool = False) -> None:
        """Each linked person's campaigns now (``people``: Salesforce id -> HubSpot contact
        id), written to its HubSpot contact (those outside the inclusion list receive no
        Salesforce updates). With ``only_members``, people in no campaign are left as they are
        (a new contact has none). A refused write is an error on the person; one that lands
        ends it."""
        people = {p: h for p, h in people.items() if self.contacts.in_list(h)}
        if not people:
            return
        self.written.update(people)
        campaigns = self.campaigns_of(sorted(people))
        values = {
            person: "; ".join(sorted(campaigns.get(person, ()), key=str.casefold))
            for person in people
        }
        updates = [
            {"id": people[person], "properties": {CAMPAIGNS_PROPERTY: value}}
            for person, value in values.items()
            if value or not only_members
        ]
        if not updates:
            return
        self.contacts.hubspot_key_property(
            object_type=OBJECT,
            name=CAMPAIGNS_PROPERTY,
            label="Salesforce campaigns",
            group="contactinformation",
            unique=False,
            description=(
                "The Salesforce campaigns this contact's lead or contact is a member of, "
                "written by the Salesforce integration. Edits here are overwritten and never "
                "reach Salesforce."
            ),
        )
        _, failed = self.contacts.hubspot_batch("update", updates, key=lambda i: i["id"])
        self.contacts.counts["campaigns_updated"] += len(updates) - len(failed)
        sent = {u["id"] for u in updates}
        self.contacts.written.update(f"hubspot:{h}" for h in sent if h not in failed)
        for person, hubspot_id in people.items():
            if hubspot_id in failed:
                self._refused(person, hubspot_id, values[person], failed[hubspot_id])
        services.sync_errors_resolve_type(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type=CAMPAIGNS_ERROR,
            record_keys=[
                f"salesforce:{person}"
                for person, hubspot_id in people.items()
                if hubspot_id in sent and hubspot_id not in failed
            ],
        )

    def _refused(self, person: str, hubspot_id: str, value: str, error: Any) -> None:
        """Campaigns HubSpot refused: an error on the Salesforce person, with HubSpot's
        message and the value sent; its retry writes them again (``retry``)."""
        code, message, _ = hubspot_error_parts(error)
        log.warning("campaigns of HubSpot contact %s not written: %s", hubspot_id, message)
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type=CAMPAIGNS_ERROR,
            direction="to_hubspot",
            record_key=f"salesforce:{person}",
            hubspot_id=hubspot_id,
            salesforce_id=person,
            salesforce_type="Lead" if person.startswith("00Q") else "Contact",
            code=code,
            message=message or "HubSpot refused the Salesforce campaigns",
            fields=[CAMPAIGNS_PROPERTY],
            values={CAMPAIGNS_PROPERTY: value},
        )
        self.contacts.counts["failed"] += 1

    def campaigns_of(self, people: list[str]) -> dict[str, set[str]]:
        """The names of the campaigns each Salesforce person is a member of now (a converted
        lead's members count for its contact, which Salesforce names on them too)."""
        fields = ["LeadId", "ContactId", "Campaign.Name"]
        leads = [i for i in people if i.startswith("00Q")]
        others = [i for i in people if not i.startswith("00Q")]
        soqls = ids_queries("CampaignMember", fields, leads, key="LeadId") + ids_queries(
            "CampaignMember", fields, others, key="ContactId"
        )
        wanted = set(people)
        found: dict[str, set[str]] = defaultdict(set)
        for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False):
            for member in all_records(self.ctx.salesforce, page):
                name = (member.get("Campaign") or {}).get("Name")
                for person in (member.get("LeadId"), member.get("ContactId")):
                    if name and person in wanted:
                        found[person].add(name)
        return found
