"""HubSpot deals ⇄ Salesforce opportunities (spec §10, §11), with deal–contact associations
kept in step with opportunity contact roles and the deal's company with ``AccountId``.

A cycle: pipelines first (``pipelines.py``: one per record type, stages from ``StageName``),
then Salesforce's changes (opportunities and contact roles in one composite call), then
HubSpot's deal changes, then a sweep over linked deals' HubSpot associations (association
edits don't touch a deal's modified date), all in batches on the shared ``PairSync``
machinery: echoes and unchanged records are skipped against the link's snapshot, fields merge
by their mapping's rule, owners follow §11, writes are batched and fail one record at a time.

* **Stages** map through the pipelines: a deal's stage id ⇄ the ``StageName`` value it
  mirrors; the opportunity's record type decides the deal's pipeline. A deal moved (in
  HubSpot) into a pipeline that isn't a synced one stops syncing: skipped and counted (once a
  cycle), its waits for an account or a company end; moved back, it is put in step again.
* **Creates** are idempotent: deals are upserted by the unique ``salesforce_opportunity_id_sync``
  property, opportunities by the ``HubSpot_Id__c`` external id, and either side's key names its
  partner first. Opportunities are never matched by name (spec §10).
* **Deletes**: a deleted opportunity deletes its deal (``salesforce_delete``); a deleted deal
  only retires the link. An opportunity gone even from the recycle bin (hard-deleted, purged)
  never reaches the stream: the deal's next edit retires the link and skips the deal.
* **Associations**: contact roles ⇄ deal–contact associations (three-way against the last
  set in step, through the contact pair's links; leads can't hold roles), ``AccountId`` ⇄ the
  deal's primary company while company sync is on; an account without a company yet, or a
  deal company without an account yet, leaves a *Waiting for account to sync* error until it
  has one. A contact or company deleted in HubSpot leaves the roles and ``AccountId`` alone.

Lifecycle stages from contact roles stay with the contact pair (``lifecycle.py``), which reads
every role change, including the roles this pair creates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from .. import services
from ..models import (
    ObjectSync,
    RecordLink,
    SyncCursor,
    SyncError,
)
from .changes import (
    OVERLAP,
    Cursor,
    SoqlStream,
    Version,
    all_records,
    composite_query,
    ids_queries,
    parse_time,
    salesforce_by_ids,
    salesforce_pages,
    soql_string,
)
from .context import CycleContext
from .pair import (
    MERGED_IDS,
    OWNER_PROPERTY,
    SALESFORCE_COLLECTION,
    Pair,
    PairSync,
    association_input,
    company_without_account,
    dissociation_input,
    each_chunk_retried,
    hubspot_associations_read,
    hubspot_error_parts,
    hubspot_version,
    record_ids,
    rows_insert,
    salesforce_version,
)
from .pipelines import Pipelines
from .rules import Side, SyncRule, merge_field
from .values import HUBSPOT_CURRENCY

log = logging.getLogger(__name__)

OBJECT = "deals"
SOBJECT = "Opportunity"
ROLE = "OpportunityContactRole"
MODIFIED = "hs_lastmodifieddate"
KEY_PROPERTY = "salesforce_opportunity_id_sync"  # unique: idempotent upserts of new deals
LINK_PROPERTY = "hs_salesforceopportunityid"
EXTERNAL_ID = "HubSpot_Id__c"
STAGE = "dealstage"
PIPELINE = "pipeline"
SYSTEM_FIELDS = [
    "Id",
    "IsDeleted",
    "SystemModstamp",
    "LastModifiedDate",
    "CreatedDate",
    "CreatedById",
    "Name",
    "OwnerId",
    "StageName",
    "AccountId",
    "RecordTypeId",
]
ROLE_FIELDS = ["Id", "IsDeleted", "SystemModstamp", "ContactId", "OpportunityId"]
# The opportunity stream brings each opportunity's contact roles along (a child query): the
# association check of a batch of changed opportunities then needs no read of its own.
ROLES = "OpportunityContactRoles"
ROLES_QUERY = "(SELECT Id, ContactId, IsDeleted FROM OpportunityContactRoles)"
HUBSPOT_SYSTEM = [
    "dealname",
    MODIFIED,
    KEY_PROPERTY,
    LINK_PROPERTY,
    OWNER_PROPERTY,
    PIPELINE,
    STAGE,
    MERGED_IDS,  # merges in HubSpot: links follow them
]
DEAL_TO_CONTACT = 3  # HUBSPOT_DEFINED association type ids (v4)
DEAL_TO_COMPANY_PRIMARY = 5
BATCH = 1000
NEW_LINKS = 2000  # newly linked contacts looked at per cycle
SWEEP = 1000  # linked deals whose HubSpot associations are compared per cycle
# Snapshot keys beyond the mapped properties.
CONTACTS, ACCOUNT, COMPANY, PIPELINE_SNAP = "__contacts", "__account", "__company", "__pipeline"
WAITING = "__waiting_account"  # the account whose company the deal waits for
WAITING_COMPANY = "__waiting_company"  # the company whose account the opportunity waits for
UNMAPPED_STAGE = "__unmapped_stage"  # the deal's stage without a StageName value, last sync
# AccountId changed while company sync was off: Salesforce's account decides once it is on.
ACCOUNT_MOVED = "__account_moved"
# The deal's company (or AccountId) being written, noted before the write is sent: a cycle
# that dies before remembering it finds it next time (``account_baseline``), so its own
# write read back isn't taken for a user's move. {"side", "account", "company", "was"}.
ACCOUNT_SENT = "__account_sent"
ACCOUNT_KEYS = (ACCOUNT, COMPANY, WAITING, WAITING_COMPANY, ACCOUNT_MOVED)
# Last seen in a pipeline that isn't synced (it opted out, spec §10): the association checks
# leave it alone, and a move back into a synced pipeline puts it in step (``opted_out``).
OUT_OF_PIPELINES = "__out_of_pipelines"


@dataclass
class DealPair(Pair):
    """A pair plus the associations decided for it."""

    company_add: str = ""  # HubSpot company to associate as the deal's primary company
    company_remove: list[str] = field(default_factory=list)
    contacts_add_hs: list[str] = field(default_factory=list)  # HubSpot contact ids
    contacts_remove_hs: list[str] = field(default_factory=list)
    roles_add: list[str] = field(default_factory=list)  # Salesforce contact ids
    roles_remove: list[str] = field(default_factory=list)  # OpportunityContactRole ids
    stage_unknown: bool = False
    stage_unmapped: str = ""  # the deal's HubSpot stage id, when it has no StageName value
    company_wait_over: bool = False  # it waited for its company's account and no longer does
    account_sent: dict = field(default_factory=dict)  # see ACCOUNT_SENT


OPPORTUNITY_STREAM = "salesforce:Opportunity:deals"
ROLE_STREAM = "salesforce:OpportunityContactRole:deals"


class DealSync(PairSync):
    object_name = OBJECT
    modified_property = MODIFIED
    salesforce_streams = (OPPORTUNITY_STREAM, ROLE_STREAM)
    notes_create_intents = True
    relinks_restored = True  # a restored record syncs as the old pair (see PairSync)
    converts_amounts = False  # a deal's amounts are in its own currency (its mapping)

    def __init__(self, ctx: CycleContext) -> None:
        super().__init__(ctx)
        self.external_id = EXTERNAL_ID if EXTERNAL_ID in self.fields_known else None
        self.ensure_key_property()
        self.hubspot_properties = sorted(
            {m.hubspot_property for m in ctx.mappings}
            | set(HUBSPOT_SYSTEM) & set(ctx.hubspot_properties)
            | {"dealname", MODIFIED, PIPELINE, STAGE}
        )
        self.pipelines = Pipelines(ctx)
        self.companies_on = ObjectSync.objects.filter(
            integration=ctx.integration, object="companies", enabled=True
        ).exists()
        # Association reads of the batch being processed.
        self._hs_contacts: dict[str, list[str]] = {}
        self._hs_companies: dict[str, str] = {}
        # opportunity id -> {contact id: its role ids} (Salesforce lets one contact hold
        # several roles on an opportunity: Decision Maker and Economic Buyer, say).
        self._roles: dict[str, dict[str, list[str]]] = {}
        self._roles_read: dict[str, dict[str, list[str]]] | None = None  # see roles_of
        self._company_of: dict[str, str] = {}  # account id -> linked company id
        self._account_of: dict[str, str] = {}  # company id -> linked account id
        self._companies_deleted: set[str] = set()  # deals' last companies, deleted in HubSpot
        self._sf_of_hs: dict[str, str] = {}  # HubSpot contact id -> Salesforce contact id
        # Deals' HubSpot (contacts, primary company) as read this cycle: the sweep's slice is
        # read first, so the batches and the sweep share one read (see sweep_associations).
        self._associations: dict[str, tuple[list[str], str]] = {}
        self._processed: set[str] = set()  # deals put in step this cycle
        self._unsynced: set[str] = set()  # deals counted in an unsynced pipeline this cycle
        # Refusals of deals' pipeline or stage while writing (see record_hubspot_failure).
        self._stage_refusals: list[tuple[Pair, Any]] | None = None

    # --- the cycle ------------------------------------------------------------------------
    def run(self) -> None:
        self.pipelines.ensure()
        self.start_sweep()
        self.sync_salesforce_changes()
        self.sync_hubspot_changes()
        self.sync_new_contact_links()
        self.move_out_of_retired_pipelines()
        self.sweep_associations()
        self.finish_waiting_accounts()
        if self.ctx.retry_allowed:
            self.retry_errored()
        self.writes_remembered()  # the next cycle's opportunity read meets ours (run counts)

    def ensure_key_property(self) -> None:
        """The unique deal property new deals are upserted by (one call, once per portal)."""
        self.hubspot_key_property(
            object_type=OBJECT,
            name=KEY_PROPERTY,
            label="Salesforce opportunity id (sync key)",
            group="dealinformation",
        )

    # --- Salesforce → HubSpot -------------------------------------------------------------
    @property
    def fields_known(self) -> dict[str, dict]:
        return self.ctx.salesforce_fields.get(SOBJECT, {})

    def opportunity_fields(self) -> list[str]:
        return self.fields_to_read(SOBJECT, SYSTEM_FIELDS, self.external_id)

    def sync_salesforce_changes(self) -> None:
        opportunities = SoqlStream(
            SOBJECT,
            [*self.opportunity_fields(), ROLES_QUERY],
            Cursor.load(self.ctx.integration, OPPORTUNITY_STREAM),
        )
        roles = SoqlStream(
            ROLE,
            ROLE_FIELDS,
            Cursor.load(self.ctx.integration, ROLE_STREAM),
        )
        pages = self.salesforce_stream_pages([opportunities, roles], include_deleted=True)
        for stream, records in pages:
            if stream is opportunities:
                self.counts["read_salesforce"] += len(records)
                self.handle_salesforce_opportunities(records, opportunities.cursor)
            else:
                self.handle_salesforce_roles(records, roles.cursor)

    def handle_salesforce_opportunities(
        self, records: list[dict], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            records, cursor, force=force, version=salesforce_version
        )
        self.apply_salesforce_deletes([r for r in fresh if r.get("IsDeleted")])
        fresh = [r for r in fresh if not r.get("IsDeleted")]
        unknown = [r for r in fresh if not self.pipelines.knows(r)]
        if unknown:  # a new record type or stage value (perhaps deactivated: see ensure)
            self.pipelines.ensure(force=True, held={r.get("StageName") or "" for r in unknown})
        refused = {r["Id"] for r in fresh if self.pipelines.refused_for(r.get("RecordTypeId"))}
        if refused:
            self.pipeline_refused([r for r in fresh if r["Id"] in refused])
            fresh = [r for r in fresh if r["Id"] not in refused]
        pairs, unlinked = self.split_salesforce_changes(
            fresh, SOBJECT, creates=True, force=force, make=DealPair
        )
        gone = self.load_hubspot_partners(pairs)
        # Deals deleted in HubSpot only retired their link; the opportunity, when it changes
        # again, creates a new deal (Salesforce creates always sync). The retry of one of its
        # errors isn't such a change (an admin's Resync of it is): the deletion stands.
        stand = self.hubspot_deletes_stand(gone, force=force)
        unlinked += [
            p.salesforce for p in pairs if p.hubspot is None and p.salesforce_id not in stand
        ]
        # A deal out of the synced pipelines isn't marked here unless it waited: an import
        # would count its link, changed, as updated (a later look at the deal marks it).
        pairs = [
            p for p in pairs if p.hubspot is not None and self.in_synced_pipeline(p, mark=False)
        ]
        pairs += self.match_in_hubspot(unlinked)
        self._roles_read = self.roles_along(fresh)
        self.process(pairs, cursor, handled)

    @staticmethod
    def roles_along(records: list[dict]) -> dict[str, dict[str, list[str]]] | None:
        """opportunity id -> {contact id: role ids} from the roles the records brought along,
        or None when some record didn't bring them all (read apart then, see ``roles_of``)."""
        read: dict[str, dict[str, list[str]]] = {}
        for record in records:
            if ROLES not in record:
                return None
            nested = record[ROLES] or {}  # null: no roles
            if not nested.get("done", True):
                return None  # more roles than one answer holds
            read[record["Id"]] = roles = {}
            for role in nested.get("records") or []:
                if role.get("ContactId") and not role.get("IsDeleted"):
                    roles.setdefault(role["ContactId"], []).append(role["Id"])
        return read

    def in_synced_pipeline(self, pair: DealPair, *, mark: bool = True) -> bool:
        """A deal moved into a pipeline that isn't synced opts out (spec §10); see
        ``opted_out`` for ``mark``."""
        if self.pipelines.synced(pair.hs_props.get(PIPELINE)):
            return True
        self.unsynced_pipeline(pair.hubspot_id or "", f"salesforce:{pair.salesforce_id}")
        if pair.link is not None and pair.link.pk:
            self.opted_out([pair.link], mark=mark)
        return False

    def unsynced_pipeline(self, deal: str, *keys: str) -> None:
        """A deal in a pipeline that isn't synced: skipped (``skipped``), counted once a
        cycle however many looks find it (its changes, its opportunity's, a retry)."""
        keys = (f"hubspot:{deal}", *keys)
        if deal in self._unsynced:
            self.not_syncing.update(keys)  # a retry's errors still end (``retries_done``)
            return
        self._unsynced.add(deal)
        self.skipped("unsynced_pipeline", *keys)

    def opted_out(self, links: Iterable[RecordLink], *, mark: bool = True) -> None:
        """Linked deals seen in a pipeline that isn't synced: their waits for their account's
        company or their company's account end now, with their *Waiting for account to
        sync* errors: nothing is left to fix (the pair's rules leave the deal alone), and
        nothing looks at them again every cycle. The side that waited is decided afresh if
        the deal comes back (as ``finish_waiting_accounts`` does). Marked so
        (``OUT_OF_PIPELINES``) when ``mark`` or a wait ended."""
        ended = []
        for link in links:
            snapshot = dict(link.snapshot)
            if snapshot.get(WAITING):
                snapshot = {k: v for k, v in snapshot.items() if k not in (ACCOUNT, WAITING)}
            if snapshot.get(WAITING_COMPANY):
                snapshot = {
                    k: v for k, v in snapshot.items() if k not in (COMPANY, WAITING_COMPANY)
                }
            waited = len(snapshot) < len(link.snapshot)
            if waited:
                ended += [f"hubspot:{link.hubspot_id}", f"salesforce:{link.salesforce_id}"]
            if mark or waited:
                snapshot[OUT_OF_PIPELINES] = "1"
            if snapshot != link.snapshot:
                link.snapshot = snapshot
                link.save(update_fields=["snapshot"])
        services.sync_errors_resolve_type(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type="waiting_for_account",
            record_keys=ended,
            ended_because=SyncError.EndedBecause.NOT_SYNCING,
        )

    def archivable(self, hubspot_ids: list[str]) -> list[str]:
        """A deal moved out of the synced pipelines opted out (spec §10): its opportunity's
        delete leaves it be. Their pipelines are read now (one call per 100), as the move may
        be newer than this cycle's deal search."""
        if not hubspot_ids:
            return []
        deals = self.hubspot_read(hubspot_ids, properties=[PIPELINE], history=False)
        keep = []
        for deal_id in hubspot_ids:
            deal = deals.get(deal_id)
            if deal is None:
                continue  # deleted in HubSpot already
            if self.pipelines.synced(deal.properties.get(PIPELINE)):
                keep.append(deal_id)
            else:
                self.counts["kept_unsynced_pipeline"] += 1
        return keep

    def salesforce_unchanged(self, record: dict, link: RecordLink) -> bool:
        snapshot = link.snapshot
        if CONTACTS not in snapshot:
            return False  # stored before its associations were written (see links_stored)
        if not self.mapped_salesforce_unchanged(SOBJECT, record, snapshot):
            return False
        pipeline = self.pipelines.for_record_type(record.get("RecordTypeId"))
        if pipeline is not None and snapshot.get(PIPELINE_SNAP) != pipeline.id:
            return False
        account = record.get("AccountId") or ""
        if not self.companies_on:
            # A move is noted for when company sync is on again (see decide_account).
            return (
                ACCOUNT not in snapshot
                or snapshot.get(ACCOUNT) == account
                or bool(snapshot.get(ACCOUNT_MOVED))
            )
        if snapshot.get(WAITING):
            return False  # waits for its account's company: whoever reads it looks again
        return snapshot.get(ACCOUNT) == account

    def hubspot_unchanged(self, obj: Any, link: RecordLink) -> bool:
        snapshot, props = link.snapshot, obj.properties or {}
        if CONTACTS not in snapshot:
            return False  # stored before its associations were written (see links_stored)
        if snapshot.get(OUT_OF_PIPELINES):
            return False  # back in a synced pipeline: in step again
        if props.get(KEY_PROPERTY) != link.salesforce_id:
            return False  # its key emptied or retyped: given back its opportunity's id (merge)
        if not self.mapped_hubspot_unchanged(SOBJECT, props, snapshot):
            return False
        if snapshot.get(UNMAPPED_STAGE):
            return False  # moved out of it, maybe: its error may end
        return snapshot.get(PIPELINE_SNAP) == props.get(PIPELINE)

    def match_in_hubspot(self, records: list[dict]) -> list[DealPair]:
        """Unlinked opportunities: the deal named by ``HubSpot_Id__c`` (one we created from
        it), else a new deal (upserted by the opportunity id). Never by name."""
        if not records:
            return []
        wanted = {
            r["Id"]: str(r[self.external_id])
            for r in records
            if self.external_id and r.get(self.external_id)
        }
        partners = self.hubspot_partners_named(
            records,
            wanted,
            external_id=self.external_id,
            name_property="dealname",
            key=KEY_PROPERTY,
        )
        pairs = []
        for record in records:
            obj = partners.get(record["Id"])
            if obj is not None and not self.pipelines.synced(obj.properties.get(PIPELINE)):
                self.unsynced_pipeline(str(obj.id), f"salesforce:{record['Id']}")
                continue
            pair = DealPair(SOBJECT, record, obj)
            if obj is not None:
                pair.hs_history = self.history_of(obj)
                self.counts["matched"] += 1
            pairs.append(pair)
        return pairs

    def handle_salesforce_roles(self, records: list[dict], cursor: Cursor) -> None:
        """Contact roles added or removed in Salesforce: their linked deals are put in step.
        Roles the snapshot already reflects (our own writes coming back) cost nothing."""
        handled = [salesforce_version(r) for r in records]
        fresh = [r for r, v in zip(records, handled, strict=True) if not cursor.seen(v)]
        links = self.links_by(
            "salesforce_id", {r["OpportunityId"] for r in fresh if r.get("OpportunityId")}
        )
        touched: dict[str, RecordLink] = {}
        for record in fresh:
            link = links.get(record.get("OpportunityId") or "")
            if link is None:
                continue
            in_step = record.get("ContactId") in set(link.snapshot.get(CONTACTS) or [])
            if in_step == (not record.get("IsDeleted")):
                continue  # already what the snapshot says
            touched[link.salesforce_id] = link
        if touched:
            self.resync_links(list(touched.values()))
        with transaction.atomic():
            cursor.advance(handled)

    # --- HubSpot → Salesforce -------------------------------------------------------------
    def sync_hubspot_changes(self) -> None:
        self.read_hubspot_changes(
            Cursor.load(self.ctx.integration, f"hubspot:{OBJECT}"),
            self.hubspot_properties,
            self.handle_hubspot_deals,
            batch=BATCH,
        )

    def handle_hubspot_deals(
        self, objects: list[Any], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            objects, cursor, force=force, version=lambda o: hubspot_version(o, MODIFIED)
        )
        self.follow_hubspot_merges(fresh)
        synced, out = [], []
        for obj in fresh:
            if self.pipelines.synced((obj.properties or {}).get(PIPELINE)):
                synced.append(obj)
            else:
                out.append(str(obj.id))
                self.unsynced_pipeline(str(obj.id))
        if out:
            self.opted_out(self.links_by("hubspot_id", out).values())
        pairs, unlinked = self.split_hubspot_changes(
            synced,
            SOBJECT,
            force=force,
            make=lambda *a: DealPair(*a, hs_history=self.history_of(a[2])),
        )
        self.load_salesforce_partners(pairs)
        pairs = [p for p in pairs if p.salesforce is not None]
        pairs += self.match_in_salesforce(unlinked)
        self.process(pairs, cursor, handled)

    def load_salesforce_partners(self, pairs: list[DealPair]) -> None:
        """The Salesforce side of linked pairs. An opportunity in the recycle bin is left to
        the delete handling (its deletion arrives in the opportunity stream); one gone even
        from the recycle bin (hard-deleted, purged) never arrives there: its link goes, and
        the deal, skipped, creates nothing later (its key names the opportunity gone)."""
        if not pairs:
            return
        ids = [p.link.salesforce_id for p in pairs]
        # Their contact roles ride along in the same composite calls, for read_associations:
        # queryAll reads them too, so only the live ones.
        soqls = ids_queries(SOBJECT, self.opportunity_fields(), ids)
        pages = composite_query(
            self.ctx.salesforce,
            soqls + self.role_queries(ids, where="IsDeleted = false"),
            include_deleted=True,
        )
        sf = self.ctx.salesforce
        records = [r for page in pages[: len(soqls)] for r in all_records(sf, page)]
        self._roles_read = {i: {} for i in ids}
        for page in pages[len(soqls) :]:
            for r in all_records(sf, page):
                if r.get("ContactId"):
                    roles = self._roles_read[r["OpportunityId"]]
                    roles.setdefault(r["ContactId"], []).append(r["Id"])
        found = {r["Id"]: r for r in records}
        for pair in pairs:
            record = found.get(pair.link.salesforce_id)
            if record is None:
                self.opportunity_gone(pair.link)
            elif not record.get("IsDeleted"):
                pair.salesforce = record

    def opportunity_gone(self, link: RecordLink) -> None:
        """The opportunity is gone even from the recycle bin (hard-deleted, purged): its
        deletion never reaches the opportunity stream, so the link goes now and the deal is
        counted as skipped."""
        link.delete()
        self.counts["links_removed"] += 1
        self.skipped("salesforce_deleted", f"hubspot:{link.hubspot_id}")

    def match_in_salesforce(self, objects: list[Any]) -> list[DealPair]:
        """Unlinked deals: the opportunity their key names (one we created the deal from),
        else a new opportunity (upserted by the deal id where the org has HubSpot_Id__c). A
        deal whose key names an opportunity Salesforce no longer has (deleted there, with
        deals kept) creates nothing: a deal edit must not bring back a deleted opportunity."""
        if not objects:
            return []
        named = {
            str(o.id): o.properties.get(KEY_PROPERTY)
            for o in objects
            if (o.properties or {}).get(KEY_PROPERTY)
        }
        taken = set(self.links_by("salesforce_id", named.values()))
        records = {
            r["Id"]: r
            for r in salesforce_by_ids(
                self.ctx.salesforce,
                SOBJECT,
                self.opportunity_fields(),
                sorted(set(named.values()) - taken),
            )
        }
        gone = set(named.values()) - taken - set(records)
        pairs = []
        for obj in objects:
            if named.get(str(obj.id)) in gone:
                self.skipped("salesforce_deleted", f"hubspot:{obj.id}")
                continue
            record = records.pop(named.get(str(obj.id), ""), None)
            pair = DealPair(SOBJECT, record, obj, hs_history=self.history_of(obj))
            if record is not None:
                self.counts["matched"] += 1
            pairs.append(pair)
        if not self.external_id:
            self.salesforce_lost_creates(
                [p for p in pairs if p.salesforce is None],
                sobject=SOBJECT,
                fields=self.opportunity_fields(),
                name_property="dealname",
            )
        return pairs

    # --- one batch: merge, associations, writes, commit ------------------------------------
    def process(self, pairs: list[DealPair], cursor: Cursor | None, handled: list[Version]) -> None:
        self.load_history(pairs)
        for pair in pairs:
            if pair.link is not None and pair.link.pk:  # in a synced pipeline (again)
                pair.link.snapshot.pop(OUT_OF_PIPELINES, None)
            self.merge(pair)
        self.read_associations(pairs)
        for pair in pairs:
            self.decide_account(pair)
        self.accounts_sent(pairs)
        self.write_salesforce(pairs)
        self.accounts_written(pairs, "salesforce")
        self.write_hubspot(pairs)
        self.write_associations(pairs)
        for pair in pairs:  # what they hold now is what this batch decided
            self._associations.pop(pair.hubspot_id or "", None)
            self._processed.add(pair.hubspot_id or "")
        self.commit(pairs, cursor, handled)
        self.end_company_waits(pairs)

    def end_company_waits(self, pairs: list[DealPair]) -> None:
        """Deals that no longer wait for their company's account: that error ends, also when
        the commit keeps it (the deal's HubSpot write failed, or it waits for its account's
        company now: an error of the same type)."""
        over = [
            f"hubspot:{p.hubspot_id}"
            for p in pairs
            if p.company_wait_over and p.salesforce is not None and not p.salesforce_failed
        ]
        if over:
            services.sync_errors_resolve_type(
                integration=self.ctx.integration,
                object_name=OBJECT,
                error_type="waiting_for_account",
                record_keys=over,
            )

    def hubspot_comparable(self, mapping, props: dict) -> str:
        if mapping.hubspot_property == STAGE:
            pipeline = self.pipelines.by_id.get(props.get(PIPELINE) or "")
            return pipeline.stage_name(props.get(STAGE)) if pipeline else ""
        if (
            mapping.hubspot_property == HUBSPOT_CURRENCY
            and props
            and not props.get(HUBSPOT_CURRENCY)
        ):  # a deal without a currency is in the company's (one about to be made gets one)
            return self.company_currency
        return self.hubspot_mapped_comparable(mapping, props, SOBJECT)

    def merge(self, pair: DealPair) -> None:
        """Decide every mapped field of one pair (idempotent: may run twice)."""
        pair.stage_unknown, pair.stage_unmapped = False, ""
        # The stage goes with the pipeline (merge_stage).
        snapshot = self.merge_fields(pair, SOBJECT, left_out=lambda prop, _: prop == STAGE)
        sf_time = parse_time((pair.salesforce or {}).get("LastModifiedDate"))
        self.merge_stage(pair, snapshot, sf_time)
        if (
            pair.hubspot is not None
            and pair.salesforce is not None
            and pair.hs_props.get(KEY_PROPERTY) != pair.salesforce_id
        ):
            pair.to_hubspot[KEY_PROPERTY] = pair.salesforce_id

    def merge_stage(self, pair: DealPair, snapshot: dict | None, sf_time) -> None:
        """Stage ⇄ ``StageName`` through the pipelines, and the deal's pipeline ⇄ the
        opportunity's record type (Salesforce decides, unless the deal was moved in HubSpot
        between synced pipelines since the last sync)."""
        mapping = next((m for m in self.ctx.mappings if m.hubspot_property == STAGE), None)
        record, props = pair.salesforce or {}, pair.hs_props
        hs_pipeline = self.pipelines.by_id.get(props.get(PIPELINE) or "") if pair.hubspot else None
        sf_pipeline = (
            self.pipelines.for_record_type(record.get("RecordTypeId")) if pair.salesforce else None
        )
        last_pipeline = snapshot.get(PIPELINE_SNAP) if snapshot else None
        move_deal = False
        if pair.hubspot is None:
            target = sf_pipeline
            move_deal = True
        elif pair.salesforce is None:
            target = hs_pipeline
            if target is not None and target.key:
                pair.to_salesforce["RecordTypeId"] = target.key
            if target is not None:
                pair.snap_salesforce[PIPELINE_SNAP] = target.id
        elif (
            hs_pipeline is not None and sf_pipeline is not None and hs_pipeline.id != sf_pipeline.id
        ):
            moved_in_hubspot = last_pipeline is not None and last_pipeline != hs_pipeline.id
            if (
                moved_in_hubspot
                and hs_pipeline.key
                and self.ctx.writable(SOBJECT, "RecordTypeId", create=False)
            ):
                target = hs_pipeline
                pair.to_salesforce["RecordTypeId"] = hs_pipeline.key
                pair.snap_salesforce[PIPELINE_SNAP] = hs_pipeline.id
            else:
                target = sf_pipeline
                move_deal = True
        else:
            target = hs_pipeline or sf_pipeline
            if target is not None:
                pair.same[PIPELINE_SNAP] = target.id
        if target is None:
            return
        hs_stage = hs_pipeline.stage_name(props.get(STAGE)) if hs_pipeline else ""
        sf_stage = record.get("StageName") or ""
        # A stage added to the pipeline in HubSpot (or a value Salesforce dropped) has no
        # StageName value: it is never written as a blank stage.
        unmapped = (props.get(STAGE) or "") if hs_pipeline is not None and not hs_stage else ""
        stage = sf_stage if pair.hubspot is None else hs_stage
        if mapping is not None and pair.hubspot is not None and pair.salesforce is not None:
            decision = merge_field(
                SyncRule(mapping.rule),
                hubspot=Side(hs_stage, pair.hs_history.get(STAGE)),
                salesforce=Side(sf_stage, sf_time),
                last_synced=snapshot.get(STAGE) if snapshot else None,
            )
            if unmapped or (snapshot or {}).get(UNMAPPED_STAGE):
                pair.same[UNMAPPED_STAGE] = unmapped if decision.to_salesforce is not None else ""
            if decision.to_salesforce is not None and unmapped:
                pair.stage_unmapped = unmapped  # its error says so (write_salesforce)
            elif decision.to_salesforce is not None and self.ctx.writable(
                SOBJECT, "StageName", create=False
            ):
                pair.to_salesforce["StageName"] = decision.to_salesforce
                pair.snap_salesforce[STAGE] = decision.to_salesforce
                stage = decision.to_salesforce
            elif decision.to_hubspot is not None:
                stage, move_deal = decision.to_hubspot, True
            elif hs_stage == sf_stage:
                pair.same[STAGE] = hs_stage
                stage = hs_stage
        elif pair.salesforce is None and mapping is not None and hs_stage:
            pair.to_salesforce["StageName"] = hs_stage
            pair.snap_salesforce[STAGE] = hs_stage
        elif pair.salesforce is None and unmapped:
            pair.stage_unmapped = unmapped  # no opportunity without a stage
        if hs_pipeline is not None and (props.get(STAGE) or "") in hs_pipeline.gone:
            # Left in a stage deleted in HubSpot and built again since: the deal moves there.
            stage, move_deal = stage or hs_stage, move_deal or target is hs_pipeline
        if move_deal:
            stage = stage or sf_stage
            stage_id = target.stages.get(stage)
            if stage_id is None:
                pair.stage_unknown = True
                return
            pair.to_hubspot[PIPELINE] = target.id
            pair.to_hubspot[STAGE] = stage_id
            pair.snap_hubspot[PIPELINE_SNAP] = target.id
            if mapping is not None:
                pair.snap_hubspot[STAGE] = stage

    # --- associations ---------------------------------------------------------------------
    def associated(self, from_type: str, to_type: str, ids: list[str]) -> dict[str, Any]:
        if not ids:
            return {}
        result = hubspot_associations_read(self.ctx.hubspot, from_type, to_type, ids)
        return {str(item._from.id): list(item.to or []) for item in result.results}

    def deal_associations(self, deal_ids: list[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
        """Each deal's HubSpot contacts and primary company (with company sync on), read once
        a cycle: a deal this cycle has already read and not yet written costs no call."""
        missing = [d for d in dict.fromkeys(deal_ids) if d not in self._associations]
        if missing:
            contacts = self.deal_contacts(missing)
            companies = self.deal_companies(missing) if self.companies_on else {}
            for deal in missing:
                self._associations[deal] = (contacts.get(deal, []), companies.get(deal, ""))
        return (
            {d: self._associations[d][0] for d in deal_ids},
            {d: self._associations[d][1] for d in deal_ids if self.companies_on},
        )

    def deal_contacts(self, deal_ids: list[str]) -> dict[str, list[str]]:
        return {
            deal: sorted({str(t.to_object_id) for t in to})
            for deal, to in self.associated(OBJECT, "contacts", deal_ids).items()
        }

    def deal_companies(self, deal_ids: list[str]) -> dict[str, str]:
        """Each deal's primary company (or its only company)."""
        out = {}
        for deal, to in self.associated(OBJECT, "companies", deal_ids).items():
            primary = [
                str(t.to_object_id)
                for t in to
                if any(
                    getattr(a, "type_id", None) == DEAL_TO_COMPANY_PRIMARY
                    for a in getattr(t, "association_types", None) or []
                )
            ]
            ids = sorted({str(t.to_object_id) for t in to})
            out[deal] = primary[0] if primary else (ids[0] if len(ids) == 1 else "")
        return out

    @staticmethod
    def role_queries(opportunity_ids: list[str], *, where: str = "") -> list[str]:
        fields = ["Id", "ContactId", "OpportunityId"]
        return ids_queries(ROLE, fields, opportunity_ids, key="OpportunityId", where=where)

    def roles_of(self, opportunity_ids: list[str]) -> dict[str, dict[str, list[str]]]:
        """opportunity id -> {contact id: role ids} (five queries of 300 per composite call),
        or what the partner read just before found, when it covered all of them. That read is
        used once: the roles change as soon as this batch writes."""
        read, self._roles_read = self._roles_read, None
        if read is not None and all(i in read for i in opportunity_ids):
            return {i: read[i] for i in opportunity_ids if read[i]}
        if not opportunity_ids:
            return {}
        out: dict[str, dict[str, list[str]]] = {}
        pages = composite_query(
            self.ctx.salesforce, self.role_queries(opportunity_ids), include_deleted=False
        )
        for page in pages:
            for r in all_records(self.ctx.salesforce, page):
                if r.get("ContactId"):
                    roles = out.setdefault(r["OpportunityId"], {})
                    roles.setdefault(r["ContactId"], []).append(r["Id"])
        return out

    def read_associations(self, pairs: list[DealPair]) -> None:
        deals = [p.hubspot_id for p in pairs if p.hubspot is not None and p.salesforce is not None]
        deals += [p.hubspot_id for p in pairs if p.hubspot is not None and p.salesforce is None]
        self._hs_contacts, self._hs_companies = self.deal_associations(deals)
        self._roles = self.roles_of([p.salesforce_id for p in pairs if p.salesforce is not None])
        if self.companies_on:
            self._companies_deleted = self.companies_deleted(pairs)
            accounts = {(p.salesforce or {}).get("AccountId") for p in pairs} - {None, ""}
            self._company_of = self.company_links(sorted(accounts))
            self._account_of = self.account_links(sorted(set(self._hs_companies.values()) - {""}))

    def companies_deleted(self, pairs: list[DealPair]) -> set[str]:
        """The last companies of deals that have none now and were deleted in HubSpot (one
        read, only when a deal lost its company): their links are retired, as the company
        sync retires them when it finds one gone. A deleted company isn't a deal taken off
        its account: HubSpot deletes never change Salesforce (spec §9, §10)."""
        lost = {
            last
            for p in pairs
            if p.hubspot is not None
            and p.link is not None
            and p.link.pk
            and not self._hs_companies.get(p.hubspot_id or "")
            and (last := (p.link.snapshot or {}).get(COMPANY))
        }
        return self.deleted_in_hubspot("companies", lost)

    def decide_account(self, pair: DealPair) -> None:
        """``AccountId`` ⇄ the deal's primary company, while company sync is on: the side that
        changed since the last sync wins (Salesforce on the first sync, when it has one)."""
        account = (pair.salesforce or {}).get("AccountId") or ""
        company = self._hs_companies.get(pair.hubspot_id or "", "")
        snapshot = {}
        if pair.link and pair.link.pk:
            # A note is looked at once: the commit (or this batch's own note) replaces it.
            snapshot = pair.link.snapshot = self.account_baseline(
                pair.link.snapshot, account, company
            )
        if not self.companies_on:
            # Not synced now; a move is noted, or the deal would keep its old company once
            # company sync is on again (nothing reads an opportunity that doesn't change).
            if (
                pair.salesforce is not None
                and ACCOUNT in snapshot
                and account != (snapshot.get(ACCOUNT) or "")
            ):
                pair.same[ACCOUNT_MOVED] = "1"
            return
        moved_while_off = bool(snapshot.get(ACCOUNT_MOVED))
        if moved_while_off:
            pair.same[ACCOUNT_MOVED] = ""
        last_account, last_company = snapshot.get(ACCOUNT), snapshot.get(COMPANY)
        # Still waiting for the account's company (or the company's account): that side is
        # decided again.
        sf_changed = pair.salesforce is not None and (
            account != (last_account or "") or bool(snapshot.get(WAITING)) or moved_while_off
        )
        hs_changed = pair.hubspot is not None and (
            company != (last_company or "") or bool(snapshot.get(WAITING_COMPANY))
        )
        pair.company_wait_over = bool(snapshot.get(WAITING_COMPANY))  # unless it waits again
        if pair.salesforce is not None and (sf_changed or (last_account is None and account)):
            company_of = self._company_of.get(account, "") if account else ""
            if account and not company_of:
                pair.same.update(
                    {ACCOUNT: account, COMPANY: company, WAITING: account, WAITING_COMPANY: ""}
                )
                self.waiting_for_account(pair, account)
                return
            if company != company_of:
                pair.company_remove = [company] if company else []
                pair.company_add = company_of
                pair.account_sent = {
                    "side": "hubspot",
                    "account": account,
                    "company": company_of,
                    "was": company,
                }
            pair.same.update({ACCOUNT: account, COMPANY: company_of, WAITING: ""})
            pair.same[WAITING_COMPANY] = ""
        elif not company and last_company in self._companies_deleted:
            # Its company was deleted, not taken off the deal: AccountId stays, and the deal
            # waits for the account's next company (made when the account next changes).
            pair.same.update({ACCOUNT: account, COMPANY: "", WAITING: account})
            pair.same[WAITING_COMPANY] = ""
            if account:
                self.waiting_for_account(pair, account)
        elif pair.hubspot is not None and (hs_changed or last_company is None):
            account_of = self._account_of.get(company, "") if company else ""
            if company and not account_of:
                # The company has no account yet: AccountId stays, with an error saying so
                # (the company may never qualify for one); it follows once the company has
                # one (``finish_waiting_accounts``).
                pair.same.update({ACCOUNT: account, COMPANY: company, WAITING_COMPANY: company})
                pair.company_wait_over = False
                self.waiting_for_company_account(pair, company, account)
                return
            done = {WAITING: "", WAITING_COMPANY: ""}
            if account_of != account and (company or last_company):
                pair.to_salesforce["AccountId"] = account_of or None
                pair.account_sent = {
                    "side": "salesforce",
                    "account": account_of,
                    "company": company,
                }
                pair.snap_salesforce.update({ACCOUNT: account_of, COMPANY: company, **done})
            else:
                pair.same.update({ACCOUNT: account, COMPANY: company, **done})
        else:
            pair.same.update({ACCOUNT: account, COMPANY: company})

    def account_baseline(self, snapshot: dict, account: str, company: str) -> dict:
        """The linked deal's snapshot its company is decided against (``sent_baseline``). A
        company or account write noted (``ACCOUNT_SENT``) by a cycle that died before
        remembering it, and found to have landed, is what is in step now: read back, it isn't
        a user's move. An account write landed when the opportunity holds it; a company write
        when the deal holds it, or has moved on to another company since (it no longer has
        the one the write replaced)."""

        def landed(sent: dict) -> dict | None:
            if sent.get("side") == "salesforce":
                found = account == sent.get("account")
            else:
                found = company == sent.get("company") or company not in ("", sent.get("was"))
            if not (found and self.companies_on):
                return None
            done = {ACCOUNT: sent.get("account") or "", COMPANY: sent.get("company") or ""}
            done.update({WAITING: "", WAITING_COMPANY: ""})
            if snapshot.get(ACCOUNT_MOVED):
                done[ACCOUNT_MOVED] = ""
            return done

        return self.sent_baseline(snapshot, ACCOUNT_SENT, landed)

    def accounts_sent(self, pairs: list[DealPair]) -> None:
        """Note on each linked deal the company or account about to be written (``note_sent``,
        one write for the batch)."""
        sent = [(p.link, p.account_sent) for p in pairs if p.account_sent and p.link and p.link.pk]
        self.note_sent(sent, ACCOUNT_SENT)

    def accounts_written(
        self, pairs: list[DealPair], side: str, refused: frozenset[int] | set[int] = frozenset()
    ) -> None:
        """Remember, as soon as ``side``'s company or account writes landed, the deal's
        company and account as in step (one write for the batch): a cycle that dies before
        its commit must not read its own write back as a user's move (``sent_landed``). The
        note of a write that didn't land goes with the commit. ``refused``: ids of the pairs
        whose write HubSpot refused."""
        landed = []
        for pair in pairs:
            link = pair.link
            if pair.account_sent.get("side") != side or link is None or not link.pk:
                continue
            if pair.salesforce_failed if side == "salesforce" else id(pair) in refused:
                link.snapshot = {k: v for k, v in link.snapshot.items() if k != ACCOUNT_SENT}
                continue
            decided = {**pair.same, **pair.snap_salesforce}
            landed.append((link, {k: v for k, v in decided.items() if k in ACCOUNT_KEYS}))
        self.sent_landed(landed, ACCOUNT_SENT)

    def company_links(self, accounts: list[str]) -> dict[str, str]:
        return {
            link.salesforce_id: link.hubspot_id
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration, object="companies", salesforce_id__in=accounts
            )
        }

    def account_links(self, companies: list[str]) -> dict[str, str]:
        return {
            link.hubspot_id: link.salesforce_id
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration, object="companies", hubspot_id__in=companies
            )
        }

    def pipeline_refused(self, records: list[dict]) -> None:
        """Opportunities whose record type has no pipeline, because HubSpot refused to
        create it: an error each (retried like any other), and the other deals go on."""
        for record in records:
            record_type = record.get("RecordTypeId") or "default"
            services.sync_error_record(
                integration=self.ctx.integration,
                object_name=OBJECT,
                error_type="pipeline_limit",
                direction="to_hubspot",
                record_key=f"salesforce:{record['Id']}",
                salesforce_id=record["Id"],
                salesforce_type=SOBJECT,
                record_label=record.get("Name") or record["Id"],
                code="PIPELINE_REFUSED",
                message=f"HubSpot refused to create the deal pipeline for record type "
                f"{record_type}: {self.pipelines.refused_for(record.get('RecordTypeId'))}",
            )
            self.counts["failed"] += 1

    def waiting_for_account(self, pair: DealPair, account: str) -> None:
        self.account_wait(
            pair,
            "to_hubspot",
            f"Account {account} has no HubSpot company yet; the deal is associated "
            "with it once the account syncs.",
        )

    def waiting_for_company_account(self, pair: DealPair, company: str, account: str) -> None:
        """The deal's company has no Salesforce account: an error on the deal, as the two
        sides disagree until the company syncs (it may never meet the creation rules)."""
        self.account_wait(
            pair,
            "to_salesforce",
            company_without_account(
                company, account, "opportunity", held=self.company_held_after_merge(company)
            ),
            fields=["AccountId"],
        )

    def account_wait(self, pair: DealPair, direction: str, message: str, **extra: Any) -> None:
        """A *Waiting for account to sync* error on the side the association can't reach
        (``direction``) yet, kept open by the commit."""
        pair.kept_errors.add("waiting_for_account")  # the commit mustn't end it
        # Kept under the side whose association waits (the opportunity's account, the deal's
        # company).
        if direction == "to_hubspot":
            record_key = f"salesforce:{pair.salesforce_id}"
        else:
            record_key = f"hubspot:{pair.hubspot_id}"
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type="waiting_for_account",
            direction=direction,
            record_key=record_key,
            hubspot_id=pair.hubspot_id or "",
            salesforce_id=pair.salesforce_id or "",
            salesforce_type=SOBJECT,
            record_label=pair.label,
            code="WAITING_FOR_ACCOUNT",
            message=message,
            **extra,
        )
        self.counts["waiting_for_account"] += 1

    def decide_contacts(self, pairs: list[DealPair]) -> None:
        """Contact roles ⇄ deal–contact associations, three-way against the set last in step
        (kept as Salesforce contact ids); only contacts linked as Salesforce contacts count."""
        ready = [p for p in pairs if p.hubspot_id and p.salesforce_id]
        hs_ids = {c for p in ready for c in self._hs_contacts.get(p.hubspot_id, [])}
        sf_ids = {c for p in ready for c in self._roles.get(p.salesforce_id, {})}
        sf_ids |= {
            c for p in ready if p.link and p.link.pk for c in p.link.snapshot.get(CONTACTS) or []
        }
        links = RecordLink.objects.filter(
            integration=self.ctx.integration, object="contacts", salesforce_type="Contact"
        )
        by_hubspot = {
            link.hubspot_id: link.salesforce_id for link in links.filter(hubspot_id__in=hs_ids)
        }
        by_salesforce = {
            link.salesforce_id: link.hubspot_id for link in links.filter(salesforce_id__in=sf_ids)
        }
        by_salesforce.update({sf: hs for hs, sf in by_hubspot.items()})
        self._sf_of_hs = {hs: sf for sf, hs in by_salesforce.items()}
        sides = {}
        for pair in ready:
            hs = {
                by_hubspot[c] for c in self._hs_contacts.get(pair.hubspot_id, []) if c in by_hubspot
            }
            sf = {c for c in self._roles.get(pair.salesforce_id, {}) if c in by_salesforce}
            snapshot = pair.link.snapshot if pair.link and pair.link.pk else {}
            last = set(snapshot[CONTACTS]) if CONTACTS in snapshot else None
            sides[id(pair)] = (hs, sf, last)
        # A contact gone from a deal's associations may have been deleted in HubSpot, not taken
        # off the deal: HubSpot deletes never change Salesforce (spec §10), so its role stays.
        # Its link is retired; from now on it counts as an unlinked contact.
        lost = {
            by_salesforce[c]
            for hs, sf, last in sides.values()
            if last is not None
            for c in (last - hs) & sf
        }
        deleted = {self._sf_of_hs[c] for c in self.deleted_in_hubspot("contacts", lost)}
        for pair in ready:
            roles = self._roles.get(pair.salesforce_id, {})
            hs, sf, last = sides[id(pair)]
            sf -= deleted
            target = hs | sf if last is None else (last | hs | sf) - (last - hs) - (last - sf)
            pair.contacts_add_hs = sorted(by_salesforce[c] for c in target - hs)
            pair.contacts_remove_hs = sorted(by_salesforce[c] for c in hs - target)
            pair.roles_add = sorted(target - sf)
            pair.roles_remove = sorted(r for c in sf - target for r in roles[c])  # each of them
            pair.same[CONTACTS] = sorted(target)

    def write_associations(self, pairs: list[DealPair]) -> None:
        pairs = [
            p
            for p in pairs
            if p.hubspot_id and p.salesforce_id and not (p.hubspot_failed and p.link is None)
        ]
        self.decide_contacts(pairs)
        contact_adds = [
            association_input(p.hubspot_id, c, DEAL_TO_CONTACT)
            for p in pairs
            for c in p.contacts_add_hs
        ]
        contact_removals = [
            dissociation_input(p.hubspot_id, p.contacts_remove_hs)
            for p in pairs
            if p.contacts_remove_hs
        ]
        company_removals = [
            dissociation_input(p.hubspot_id, p.company_remove) for p in pairs if p.company_remove
        ]
        company_adds = [
            association_input(p.hubspot_id, p.company_add, DEAL_TO_COMPANY_PRIMARY)
            for p in pairs
            if p.company_add
        ]
        self.links_stored(pairs)
        for to_type, removals in (("contacts", contact_removals), ("companies", company_removals)):
            self.hubspot_dissociate(OBJECT, to_type, removals)
        by_deal = {p.hubspot_id: p for p in pairs}
        refused: set[int] = set()
        for to_type, adds in (("contacts", contact_adds), ("companies", company_adds)):
            for failed, error in self.hubspot_associate(OBJECT, to_type, adds):
                pair = by_deal.get(str(failed["from"]["id"]))
                if pair is None:
                    continue
                # The snapshot keeps what HubSpot holds, so the retry tries again and the
                # association checks don't read it as a HubSpot edit.
                if to_type == "companies":
                    refused.add(id(pair))
                    pair.same[ACCOUNT] = ""
                    pair.same[COMPANY] = self._hs_companies.get(pair.hubspot_id, "")
                else:
                    contact = self._sf_of_hs.get(str(failed["to"]["id"]))
                    pair.same[CONTACTS] = sorted(set(pair.same.get(CONTACTS, [])) - {contact})
                self.association_failure(pair, error)
        self.counts["associations_to_hubspot"] += (
            len(contact_adds) + len(company_adds) + len(contact_removals) + len(company_removals)
        )
        if company_adds or company_removals:
            self.accounts_written(pairs, "hubspot", refused)
        if contact_adds or contact_removals:
            self.contacts_written(pairs, roles_to_add=True, roles_to_remove=True)
        self.write_roles(pairs)

    def links_stored(self, pairs: list[DealPair]) -> None:
        """Store the links of pairs created in this batch that have associations to write,
        before writing them (one insert, inside the lease): the sets those writes put in
        step are then remembered as they land (``contacts_written``, ``accounts_written``).
        Stored only at the commit, a cycle dying after the writes left the next one a pair
        found again by its key with no set last in step: the contacts of both sides were
        merged, and a removal made meanwhile undone. The link holds what the commit would
        store, less the associations not yet written."""
        new = [
            p
            for p in pairs
            if not (p.link and p.link.pk)
            and p.hubspot is not None
            and p.salesforce is not None
            and not (p.hubspot_failed or p.salesforce_failed)
            and (
                p.contacts_add_hs
                or p.contacts_remove_hs
                or p.roles_add
                or p.roles_remove
                or p.company_add
                or p.company_remove
            )
        ]
        if not new:
            return
        now = timezone.now()
        for pair in new:
            snapshot = {**pair.same, **pair.snap_hubspot, **pair.snap_salesforce}
            snapshot.pop(CONTACTS, None)
            if pair.account_sent.get("side") == "hubspot":
                snapshot = {k: v for k, v in snapshot.items() if k not in ACCOUNT_KEYS}
                snapshot[ACCOUNT_SENT] = pair.account_sent
            pair.link = RecordLink(
                integration=self.ctx.integration,
                object=OBJECT,
                hubspot_id=pair.hubspot_id,
                salesforce_id=pair.salesforce_id,
                salesforce_type=pair.sobject,
                snapshot=snapshot,
                hubspot_modified_at=parse_time(pair.hs_props.get(MODIFIED)),
                salesforce_modified_at=parse_time(pair.salesforce.get("SystemModstamp")),
                last_synced_at=now,
            )
        with transaction.atomic():
            self.ctx.heartbeat()  # a cycle another worker took over stores nothing
            rows_insert(RecordLink, [p.link for p in new])
        for pair in new:
            link = pair.link
            link.stored_keys = (link.hubspot_id, link.salesforce_id, link.salesforce_type)
        self.counts["linked"] += len(new)

    def write_roles(self, pairs: list[DealPair]) -> None:
        """Contact roles for contacts associated in HubSpot (creates are not retried: a lost
        answer shows the role on the next read), and removed ones deleted."""
        creates = [
            (p, {"OpportunityId": p.salesforce_id, "ContactId": c})
            for p in pairs
            for c in p.roles_add
        ]
        if creates:
            results = self.ctx.salesforce.collections_create(
                sobject=ROLE, records=[r for _, r in creates]
            )
            for (pair, record), result in zip(creates, results, strict=True):
                if result.get("success"):
                    self.counts["roles_created"] += 1
                else:
                    pair.same[CONTACTS] = sorted(
                        set(pair.same.get(CONTACTS, [])) - {record["ContactId"]}
                    )
                    self.record_salesforce_failure(pair, result)
            self.contacts_written(pairs, roles_to_add=False, roles_to_remove=True)
        removals = [(p, r) for p in pairs for r in p.roles_remove]
        if removals:
            results = each_chunk_retried(
                lambda chunk: self.ctx.salesforce.collections_delete(ids=chunk),
                [r for _, r in removals],
                SALESFORCE_COLLECTION,
            )
            for (pair, role), result in zip(removals, results, strict=True):
                if result.get("success"):
                    self.counts["roles_deleted"] += 1
                elif not any(
                    e.get("statusCode") == "ENTITY_IS_DELETED" for e in result.get("errors") or []
                ):
                    # Still there: the snapshot keeps the contact, so the retry deletes again
                    # instead of reading the role as a Salesforce addition.
                    roles = self._roles.get(pair.salesforce_id or "", {})
                    contact = next((c for c, held in roles.items() if role in held), None)
                    if contact:
                        pair.same[CONTACTS] = sorted({*pair.same.get(CONTACTS, []), contact})
                    self.record_salesforce_failure(pair, result)
            self.contacts_written(pairs, roles_to_add=False, roles_to_remove=False)

    def contacts_written(
        self, pairs: list[DealPair], *, roles_to_add: bool, roles_to_remove: bool
    ) -> None:
        """Remember, as soon as a side's writes landed, the contacts now in step on linked
        deals (one write for the batch, only for the links whose set moved): a cycle that dies
        before its commit must not read its own writes back as a user's edit, which would undo
        an edit made meanwhile on the other side. The contacts whose roles are still to be
        made (``roles_to_add``) or deleted (``roles_to_remove``) keep their last state, so the
        next cycle still writes them (``sent_landed``)."""
        landed = []
        for pair in pairs:
            link = pair.link
            if link is None or not link.pk or CONTACTS not in pair.same:
                continue  # a new link: the commit makes it
            pending = set(pair.roles_add) if roles_to_add else set()
            if roles_to_remove and pair.roles_remove:
                ids = set(pair.roles_remove)
                roles = self._roles.get(pair.salesforce_id or "", {})
                pending |= {contact for contact, of in roles.items() if ids.intersection(of)}
            last = set(link.snapshot.get(CONTACTS) or [])
            held = sorted((set(pair.same[CONTACTS]) - pending) | (last & pending))
            if link.snapshot.get(CONTACTS, []) != held:
                landed.append((link, {CONTACTS: held}))
        self.sent_landed(landed)

    # --- writes ---------------------------------------------------------------------------
    def write_salesforce(self, pairs: list[DealPair]) -> None:
        for pair in pairs:
            if pair.stage_unmapped:
                self.record_error(
                    pair,
                    "to_salesforce",
                    "picklist",
                    "UNKNOWN_STAGE",
                    f"Deal stage {self.pipelines.hubspot_stage_label(pair.stage_unmapped)!r} "
                    "is not a value of the Salesforce Stage picklist, so the opportunity keeps "
                    "its stage. Add the value to the Stage picklist in Salesforce, or move the "
                    "deal to one of the pipeline's Salesforce stages.",
                    ["StageName"],
                )
        self.salesforce_updates(pairs, SOBJECT)
        creates = [
            p
            for p in pairs
            if p.salesforce is None and p.hubspot is not None and not p.stage_unmapped
        ]
        if not creates:
            return
        for pair in creates:
            pair.to_salesforce.setdefault("Name", pair.hs_props.get("dealname") or "")
        # Upserted by the deal id where the org has it.
        results = self.salesforce_creates_sent(creates, SOBJECT, external_id=self.external_id)
        for pair, result in zip(creates, results, strict=True):
            if self.salesforce_create_landed(pair, result):
                pair.salesforce = {"Id": result["id"], **pair.to_salesforce}
                pair.to_hubspot[KEY_PROPERTY] = result["id"]
        self.read_back_created(creates, SOBJECT)

    def write_hubspot(self, pairs: list[DealPair]) -> None:
        for pair in pairs:
            if pair.stage_unknown and pair.salesforce is not None:
                value = (pair.salesforce or {}).get("StageName")
                refused = self.pipelines.held_refused.get(value or "")
                self.record_error(
                    pair,
                    "to_hubspot",
                    "picklist",
                    "UNKNOWN_STAGE",
                    f"Stage {value!r} has no stage in the deal's synced pipeline."
                    + (f" HubSpot refused to add it: {refused}" if refused else ""),
                    ["StageName"],
                )
        # Stage and pipeline ids come from the pipelines, not from dropdown options.
        held = {
            id(p): {k: p.to_hubspot.pop(k) for k in (PIPELINE, STAGE) if k in p.to_hubspot}
            for p in pairs
        }
        self.align_options(pairs)
        for pair in pairs:
            pair.to_hubspot.update(held[id(pair)])
        creates = [
            p
            for p in pairs
            if p.hubspot is None and p.salesforce is not None and not p.stage_unknown
        ]
        self._stage_refusals = []
        try:
            self.hubspot_updates(pairs)
            self.hubspot_upsert_creates(creates, KEY_PROPERTY)
        finally:
            refusals, self._stage_refusals = self._stage_refusals, None
        if refusals:
            self.stage_gone_resent(refusals)

    def record_hubspot_failure(self, pair: Pair, error: Any) -> None:
        """A refusal of the deal's pipeline or stage is held back while the writes go out
        (``stage_gone_resent``): they may have been deleted in HubSpot."""
        message = hubspot_error_parts(error)[1]
        if (
            self._stage_refusals is not None
            and PIPELINE in pair.to_hubspot
            and (f'"{PIPELINE}"' in message or f'"{STAGE}"' in message)
        ):
            self._stage_refusals.append((pair, error))
            return
        super().record_hubspot_failure(pair, error)

    def stage_gone_resent(self, refusals: list[tuple[Pair, Any]]) -> None:
        """Deal writes HubSpot refused for their pipeline or stage: when that was deleted in
        HubSpot since, it is built again (``Pipelines.gone_rebuilt``) and they go again, in
        this cycle, rather than failing at every edit until Salesforce's setup changes. The
        others (and those refused again) get HubSpot's error."""
        moved = self.pipelines.gone_rebuilt()
        redo = []
        for pair, error in refusals:
            pipeline, stage = pair.to_hubspot[PIPELINE], pair.to_hubspot.get(STAGE)
            if pipeline not in moved and stage not in moved:
                super().record_hubspot_failure(pair, error)
                continue
            pair.to_hubspot[PIPELINE] = moved.get(pipeline, pipeline)
            if stage:
                pair.to_hubspot[STAGE] = moved.get(stage, stage)
            if pair.snap_hubspot.get(PIPELINE_SNAP):
                pair.snap_hubspot[PIPELINE_SNAP] = pair.to_hubspot[PIPELINE]
            pair.hubspot_failed = False
            redo.append(pair)
        self.hubspot_updates(redo)
        self.hubspot_upsert_creates([p for p in redo if p.hubspot is None], KEY_PROPERTY)

    # --- HubSpot association edits, waiting accounts, retries ----------------------------
    def sync_new_contact_links(self) -> None:
        """Contacts linked since the last look (by the contact pair): their roles on linked
        opportunities become deal associations now, not only when the opportunity next
        changes (one Salesforce call, only when there are new links)."""
        row, _ = SyncCursor.objects.get_or_create(
            integration=self.ctx.integration, stream="deals:contact-links"
        )
        started = timezone.now()
        if row.position is None:  # the first cycle reads every opportunity with its roles
            row.position = started
            row.save(update_fields=["position", "updated_at"])
            return
        links = list(
            RecordLink.objects.filter(
                integration=self.ctx.integration,
                object="contacts",
                salesforce_type="Contact",
                created_at__gte=row.position - OVERLAP,
            )
            .order_by("created_at", "pk")
            .only("salesforce_id", "created_at")[:NEW_LINKS]
        )
        position = links[-1].created_at if len(links) == NEW_LINKS else started
        # Links inside the overlap that an earlier look already handled cost nothing.
        done = set((row.seen or {}).get("links") or [])
        contacts = [link.salesforce_id for link in links if link.pk not in done]
        row.seen = {"links": [link.pk for link in links if link.created_at >= position - OVERLAP]}
        if contacts:
            soqls = [
                f"SELECT OpportunityId, ContactId FROM {ROLE} WHERE ContactId IN "  # noqa: S608
                f"({', '.join(soql_string(i) for i in contacts[s : s + 300])})"
                for s in range(0, len(contacts), 300)
            ]
            roles: dict[str, set[str]] = {}
            for page in composite_query(self.ctx.salesforce, soqls, include_deleted=False):
                for records in salesforce_pages(self.ctx.salesforce, page):
                    for r in records:
                        roles.setdefault(r["OpportunityId"], set()).add(r["ContactId"])
            stale = [
                link
                for opportunity, link in self.links_by("salesforce_id", roles).items()
                if roles[opportunity] - set(link.snapshot.get(CONTACTS) or [])
            ]
            if stale:
                self.resync_links(stale)
        row.position = position
        row.save(update_fields=["position", "seen", "updated_at"])

    def move_out_of_retired_pipelines(self) -> None:
        """Deals in a pipeline no record type maps to any more (the default pipeline, once
        the org has several record types) move to their opportunity's pipeline, a slice
        per cycle."""
        retired = [p.id for p in self.pipelines.retired]
        if not retired:
            return
        links = list(
            RecordLink.objects.filter(integration=self.ctx.integration, object=OBJECT)
            # (KeyTransform: on SQLite, KeyTextTransform __in compares numeric ids as numbers.)
            .annotate(snapshot_pipeline=KeyTransform(PIPELINE_SNAP, "snapshot"))
            .filter(snapshot_pipeline__in=retired)
            .exclude(snapshot__has_key=OUT_OF_PIPELINES)  # opted out: moves nowhere
            .order_by("pk")[:SWEEP]
        )
        if links:
            self.resync_links(links)

    def start_sweep(self) -> None:
        """Pick this cycle's slice of linked deals for the association sweep and read their
        associations now: batches of changes among them then need no read of their own."""
        links = self.sweep_slice_start(SWEEP)
        self.deal_associations([link.hubspot_id for link in links])

    def sweep_associations(self) -> None:
        """Association edits in HubSpot don't change a deal's modified date: compare a slice
        of the linked deals' associations with their snapshots each cycle (1,000 deals per
        HubSpot call, read at the start of the cycle), and put the ones that differ in step.
        Deals this cycle put in step already are left out."""
        links = self.sweep_slice_links(self._processed)
        if links:
            self.sweep_slice(links)
        self.sweep_slice_done()

    def sweep_slice(self, links: list[RecordLink]) -> None:
        """Put in step the deals whose HubSpot associations differ from their snapshots."""
        contacts, companies = self.deal_associations([link.hubspot_id for link in links])
        contact_links = {
            hs: link.salesforce_id
            for hs, link in self.contact_links({c for cs in contacts.values() for c in cs}).items()
        }
        changed = []
        for link in links:
            snapshot = link.snapshot
            if snapshot.get(OUT_OF_PIPELINES):
                continue  # opted out: its associations don't sync (a move back is a change)
            hs = sorted(
                {contact_links[c] for c in contacts.get(link.hubspot_id, []) if c in contact_links}
            )
            if hs != sorted(snapshot.get(CONTACTS) or []) or (
                self.companies_on
                and companies.get(link.hubspot_id, "") != (snapshot.get(COMPANY) or "")
                and not snapshot.get(WAITING)
            ):
                changed.append(link)
        if changed:
            self.resync_links(changed)

    def resync_links(self, links: list[RecordLink]) -> None:
        """Put linked pairs in step now (both sides read by id). A deal gone from HubSpot
        retires its link and leaves the opportunity alone."""
        objects = self.hubspot_read([link.hubspot_id for link in links])
        records = {
            r["Id"]: r
            for r in salesforce_by_ids(
                self.ctx.salesforce,
                SOBJECT,
                self.opportunity_fields(),
                [link.salesforce_id for link in links],
                include_deleted=True,
            )
        }
        pairs = []
        for link in links:
            obj, record = objects.get(link.hubspot_id), records.get(link.salesforce_id)
            if obj is None:
                link.delete()
                self.counts["links_removed"] += 1
                self.hubspot_gone_errors_end({link.salesforce_id: link.hubspot_id})
                continue
            if record is None:
                self.opportunity_gone(link)
                continue
            if record.get("IsDeleted"):
                continue  # in the recycle bin: the opportunity stream handles it
            pair = DealPair(SOBJECT, record, obj, link, hs_history=self.history_of(obj))
            if self.in_synced_pipeline(pair):
                pairs.append(pair)
            elif link.snapshot.pop(ACCOUNT_MOVED, None):
                # Out of the synced pipelines it isn't put in step, so it isn't read again
                # every cycle for that; its snapshot's account still differs, so a move
                # back applies it.
                link.save(update_fields=["snapshot"])
        if pairs:
            self.process(pairs, None, [])

    def finish_waiting_accounts(self) -> None:
        """Deals waiting for their account's company, and opportunities waiting for their
        deal company's account: put in step those whose partner has synced since."""
        if not self.companies_on:
            return
        links = RecordLink.objects.filter(integration=self.ctx.integration, object=OBJECT)
        accounts = [
            link for link in links.filter(snapshot__has_key=WAITING) if link.snapshot.get(WAITING)
        ]
        companies = [
            link
            for link in links.filter(snapshot__has_key=WAITING_COMPANY)
            if link.snapshot.get(WAITING_COMPANY)
        ]
        moved = [
            link
            for link in links.filter(snapshot__has_key=ACCOUNT_MOVED)
            if link.snapshot.get(ACCOUNT_MOVED)
        ]
        have_company = self.company_links([link.snapshot[WAITING] for link in accounts])
        have_account = self.account_links([link.snapshot[WAITING_COMPANY] for link in companies])
        ready = {link.pk: link for link in moved}  # Salesforce's account decides (decide_account)
        for link in accounts:
            if link.snapshot[WAITING] in have_company:  # decide afresh: Salesforce's account
                link.snapshot = {
                    k: v for k, v in link.snapshot.items() if k not in (ACCOUNT, WAITING)
                }
                ready[link.pk] = link
        for link in companies:
            if link.snapshot[WAITING_COMPANY] in have_account and link.pk not in ready:
                # Decide afresh: HubSpot's company (the wait, kept, ends its error).
                link.snapshot = {k: v for k, v in link.snapshot.items() if k != COMPANY}
                ready[link.pk] = link
        if ready:
            self.resync_links(list(ready.values()))

    def retry_errored(self) -> None:
        """Records whose errors are due, and records an admin asked to sync."""
        pairs, requests = self.due_for_retry()
        due = [key for key, _type in pairs]
        if not due:
            return
        self.retry_salesforce_records(
            record_ids(due, "salesforce"),
            SOBJECT,
            self.opportunity_fields(),
            self.handle_salesforce_opportunities,
        )
        self.retry_hubspot_records(
            record_ids(due, "hubspot"),
            lambda i: self.hubspot_read(i).values(),
            self.handle_hubspot_deals,
        )
        self.retries_done(requests, len(due))
