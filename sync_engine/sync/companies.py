"""HubSpot companies ⇄ Salesforce accounts (spec §9, §11), and the contact ⇄ company
association kept in step with ``Contact.AccountId``.

One cycle reads Salesforce's account changes (and contacts whose ``AccountId`` changed, in the
same composite call), then HubSpot's company changes (and contacts whose primary company
changed: what the contact sync, which runs first, read of them this cycle, or a search of its
own when it didn't run or read from later than this pair's cursor), in batches, on the shared
``PairSync`` machinery: echoes and unchanged records are skipped against the link's
snapshot, fields merge by their mapping's rule, owners follow §11, writes are batched and fail
one record at a time into typed errors.

Matching (§9): the link (Salesforce Account ID) first, then the company associated with the
same linked contacts; never the domain. Otherwise a record is created:

* accounts → companies are **upserted** by a unique HubSpot property
  (``salesforce_account_id_sync``, created once per portal) holding the account id, so a crash
  after the write and before the link is stored finds the same company next time;
* companies → accounts are upserted by the ``HubSpot_Id__c`` external id when the org has it;
  without it, an account is only created after the company's stored account id and its
  contacts' accounts came up empty. An account carrying ``HubSpot_Id__c`` matches that company
  first, so a crash never duplicates the company either.

A company creates an account only when one of its contacts syncs as a Salesforce **contact**;
a manual Sync of the company (``ResyncRequest``) creates it regardless.

With a company inclusion list (``CompanySettings.inclusion_list_id``, spec §6.5 "the new
company sync"), companies outside it neither go to Salesforce nor receive Salesforce's updates
(an account still creates or matches its company); a company entering it catches up, as a
contact entering the contacts' list does. The §9 account-creation conditions still look at the
contacts' inclusion list.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import services
from ..models import RecordLink, SyncCursor, SyncError
from .changes import (
    COMPANY_PROPERTY,
    OVERLAP,
    ContactCompanies,
    Cursor,
    SoqlStream,
    Version,
    http_date,
    hubspot_changes,
    last_response_date,
    list_missing_message,
    parse_time,
    salesforce_by_ids,
)
from .contacts import ContactSync
from .context import CycleContext
from .lifecycle import LIFECYCLE_ERROR
from .pair import (
    MERGED_IDS,
    OWNER_PROPERTY,
    RECORD_GONE,
    SALESFORCE_COLLECTION,
    ListedSync,
    Pair,
    association_input,
    company_without_account,
    dissociation_input,
    each_chunk_retried,
    hubspot_associations_read,
    hubspot_batch_read,
    hubspot_version,
    list_members_once,
    record_ids,
    salesforce_version,
    writes_noted,
)
from .values import ValueConversionError, domain_of

log = logging.getLogger(__name__)

OBJECT = "companies"
CONTACT_MODIFIED = "lastmodifieddate"
SOBJECT = "Account"
MODIFIED = "hs_lastmodifieddate"
LINK_PROPERTY = "salesforceaccountid"
DOMAIN = "domain"  # HubSpot's company domain: a host name
KEY_PROPERTY = "salesforce_account_id_sync"  # unique: idempotent upserts of new companies
EXTERNAL_ID = "HubSpot_Id__c"
SYSTEM_FIELDS = [
    "Id",
    "IsDeleted",
    "MasterRecordId",
    "SystemModstamp",
    "LastModifiedDate",
    "CreatedDate",
    "CreatedById",
    "Name",
    "OwnerId",
]
HUBSPOT_SYSTEM = ["name", MODIFIED, LINK_PROPERTY, KEY_PROPERTY, OWNER_PROPERTY, MERGED_IDS]
PRIMARY_CONTACT_TO_COMPANY = 1  # HUBSPOT_DEFINED association type ids (v4)
PRIMARY_COMPANY_TO_CONTACT = 2
BATCH = 1000
LINKS_PER_BATCH = 2000  # newly linked contacts put in step at a time
LINK_BATCHES_PER_CYCLE = 5


ACCOUNT_STREAM = "salesforce:Account"
CONTACT_ACCOUNT_STREAM = "salesforce:Contact:account"
# On a company link: the account it created still goes to its private contacts.
HAND_OVER = "__hand_over"
# On a contact link: the HubSpot company without an account yet that the contact is on.
WAITING_COMPANY = "__waiting_company"
# On a contact link: the account being written to the Salesforce contact, noted before the
# write is sent. A cycle that dies before remembering it (``remember_association``) finds it
# next time: that account read back is our own write, not a rep's move to copy to HubSpot.
ACCOUNT_SENT = "__account_sent"
# On a contact link: the HubSpot primary company being written for a rep's account move,
# noted before the write is sent, for the same reason (``associate_in_hubspot``).
COMPANY_SENT = "__company_sent"
# The record keys of an admin's Syncs whose create failed: their errors' retries create
# whatever the creation rules say, as the Sync would have.
FORCED_CREATES = "companies:forced-creates"
# A cycle's message while the inclusion list chosen on the Companies tab is gone from HubSpot
# (its memberships answer 404). The dashboard knows it by this wording
# (``company_list_missing_id``) and tells it in the reader's language.
LIST_MISSING = (
    "The inclusion list chosen on the Companies tab (HubSpot list {list_id}) no longer exists "
    "in HubSpot. Companies are held as if outside the list until another list, or none, is "
    "chosen there."
)
_LIST_MISSING = re.compile(re.escape(LIST_MISSING).replace(r"\{list_id\}", r"([^)]+)"))


def company_list_missing_id(message: str) -> str | None:
    """The id of the company inclusion list a run found gone (its message is ``LIST_MISSING``)."""
    match = _LIST_MISSING.fullmatch(message or "")
    return match.group(1) if match else None


def tally(choices: Iterable[tuple[str, bool]]) -> tuple[Counter, Counter]:
    """How many contacts name each candidate, and how many of them by their primary
    association (matching ranks those first: a former employer is no match)."""
    votes, primary = Counter(), Counter()
    for candidate, is_primary in choices:
        votes[candidate] += 1
        primary[candidate] += is_primary
    return votes, primary


class CompanySync(ListedSync):
    object_name = OBJECT
    modified_property = MODIFIED
    salesforce_streams = (ACCOUNT_STREAM, CONTACT_ACCOUNT_STREAM)
    notes_create_intents = True
    relinks_restored = True  # a restored record syncs as the old pair (see PairSync)
    # A lifecycle stage HubSpot refused ends only once the contact sync writes it.
    errors_ended_by_own_check = (LIFECYCLE_ERROR,)
    entrants_stream = "companies:list-entrants"  # the company inclusion list's (ListedSync)

    def __init__(self, ctx: CycleContext) -> None:
        super().__init__(ctx)
        self.account_fields_known = ctx.salesforce_fields.get(SOBJECT, {})
        self.external_id = EXTERNAL_ID if EXTERNAL_ID in self.account_fields_known else None
        self.ensure_key_property()
        self.hubspot_properties = sorted(
            {m.hubspot_property for m in ctx.mappings}
            | set(HUBSPOT_SYSTEM) & set(ctx.hubspot_properties)
            | {"name", MODIFIED}
        )
        self.forced: set[str] = set()  # HubSpot companies an admin asked to sync (create)
        self.forced_accounts: set[str] = set()  # and Salesforce accounts
        self.created_accounts: set[str] = set()
        self._segment: set[str] | frozenset[str] | None = None  # contacts' inclusion list
        self.segment_missing = False  # that list is gone from HubSpot: nobody is in it
        # Unlinked accounts matched (or created from) this cycle: not looked at twice.
        self.accounts_looked_at: set[str] = set()
        # HubSpot contacts whose company this cycle moved after Salesforce: their rows read
        # before that move show the old company, which is no HubSpot move (the next read
        # shows the new one, as the association write touches the contact).
        self.moved_in_hubspot: set[str] = set()

    # --- the cycle ------------------------------------------------------------------------
    def run(self) -> None:
        self.finish_hand_overs()
        # The list's joins first (one call): its newcomers are members without the full read.
        self.read_list_joins()
        self.sync_salesforce_changes()
        self.sync_hubspot_changes()
        self.sync_list_entrants(
            lambda ids: self.hubspot_read(ids).values(), self.handle_hubspot_companies, batch=BATCH
        )
        if self.ctx.retry_allowed:
            self.retry_errored()
        self.writes_remembered()  # the next cycle's account read meets ours (run counts)

    def ensure_key_property(self) -> None:
        """The unique company property new companies are upserted by (one call, once)."""
        self.hubspot_key_property(
            object_type=OBJECT,
            name=KEY_PROPERTY,
            label="Salesforce account id (sync key)",
            group="companyinformation",
        )

    # --- Salesforce → HubSpot -------------------------------------------------------------
    def account_fields(self) -> list[str]:
        return self.fields_to_read(SOBJECT, SYSTEM_FIELDS, self.external_id)

    def sync_salesforce_changes(self) -> None:
        accounts = SoqlStream(
            SOBJECT, self.account_fields(), Cursor.load(self.ctx.integration, ACCOUNT_STREAM)
        )
        contacts = SoqlStream(
            "Contact",
            self.contact_account_fields("SystemModstamp"),
            Cursor.load(self.ctx.integration, CONTACT_ACCOUNT_STREAM),
            where="IsDeleted = false",
        )
        pages = self.salesforce_stream_pages([accounts, contacts], include_deleted=True)
        for stream, records in pages:
            if stream is accounts:
                self.counts["read_salesforce"] += len(records)
                self.handle_salesforce_accounts(records, accounts.cursor)
            else:
                self.handle_salesforce_contact_accounts(records, contacts.cursor)
        self.sync_new_contact_links()

    def handle_salesforce_accounts(
        self, records: list[dict], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            records, cursor, force=force, version=salesforce_version
        )
        self.apply_salesforce_deletes([r for r in fresh if r.get("IsDeleted")])
        # Every unlinked account is matched; the setting only decides whether an unmatched
        # one creates its company (below), so ``creates`` here lets them all through.
        pairs, unlinked = self.split_salesforce_changes(
            [r for r in fresh if not r.get("IsDeleted")], SOBJECT, creates=True, force=force
        )
        gone = self.load_hubspot_partners(pairs)
        # Partners deleted in HubSpot: the account, changed, matches or creates its company
        # again; retried, it leaves the delete be (``hubspot_deletes_stand``).
        stand = self.hubspot_deletes_stand(gone, force=force)
        unlinked += [
            p.salesforce for p in pairs if p.hubspot is None and p.salesforce_id not in stand
        ]
        pairs = [p for p in pairs if p.hubspot is not None]
        self.accounts_looked_at.update(r["Id"] for r in unlinked)
        matched = self.match_in_hubspot(unlinked)
        # Creation follows the setting, retries too; an admin's Sync of the account creates
        # its company whatever it says, as *Sync a company* does the other way.
        refused = {
            p.salesforce_id
            for p in matched
            if p.hubspot is None and p.salesforce_id not in self.forced_accounts
        }
        if refused and not self.settings.salesforce_creates:
            for salesforce_id in sorted(refused):
                self.skipped("create_disabled", f"salesforce:{salesforce_id}")
            matched = [p for p in matched if p.salesforce_id not in refused]
        pairs += matched
        pairs = self.receiving(pairs)
        self.load_history(pairs)
        self.merge_and_write(pairs)
        self.commit(pairs, cursor, handled)
        self.after_links(pairs)

    def salesforce_unchanged(self, record: dict, link: RecordLink) -> bool:
        return self.mapped_salesforce_unchanged(SOBJECT, record, link.snapshot)

    def hubspot_unchanged(self, obj: Any, link: RecordLink) -> bool:
        props = obj.properties or {}
        for prop in (LINK_PROPERTY, KEY_PROPERTY):
            # Emptied or retyped: given back its account's id (merge).
            if self.ctx.hubspot_writable(prop) and props.get(prop) != link.salesforce_id:
                return False
        return self.mapped_hubspot_unchanged(SOBJECT, props, link.snapshot)

    def match_in_hubspot(self, records: list[dict]) -> list[Pair]:
        """Unlinked accounts: the company named by ``HubSpot_Id__c`` (an account we created),
        else the unlinked company most of the account's linked contacts are associated with;
        never the domain. Without a match the company is created (upserted)."""
        if not records:
            return []
        wanted: dict[str, str] = {}
        for record in records:
            if self.external_id and record.get(self.external_id):
                wanted[record["Id"]] = str(record[self.external_id])
        rest = [r["Id"] for r in records if r["Id"] not in wanted]
        if rest:
            by_account = self.contacts_of_accounts(rest)
            people = sorted({c for cs in by_account.values() for c in cs})
            companies = self.associated_typed("contacts", OBJECT, people)
            taken = set(
                RecordLink.objects.filter(
                    integration=self.ctx.integration,
                    object=OBJECT,
                    hubspot_id__in={c for cs in companies.values() for c in cs},
                ).values_list("hubspot_id", flat=True)
            )
            for account_id, contacts in by_account.items():
                votes, primary = tally(
                    (c, PRIMARY_CONTACT_TO_COMPANY in types)
                    for hs in contacts
                    for c, types in companies.get(hs, {}).items()
                    if c not in taken
                )
                if votes:
                    # The contacts' primary companies first (their account, see
                    # *Associations*): a former employer or a partner they are also
                    # associated with is no match.
                    company = max(votes, key=lambda c: (primary[c], votes[c], -int(c)))
                    wanted[account_id] = company
                    taken.add(company)
        partners = self.hubspot_partners_named(
            records, wanted, external_id=self.external_id, name_property="name", key=KEY_PROPERTY
        )
        pairs = []
        for record in records:
            obj = partners.get(record["Id"])
            pair = Pair(SOBJECT, record, obj)
            if obj is not None:
                pair.hs_history = self.history_of(obj)
                self.counts["matched"] += 1
            pairs.append(pair)
        return pairs

    def contacts_of_accounts(self, account_ids: list[str]) -> dict[str, list[str]]:
        """account id -> HubSpot ids of its linked contacts."""
        contacts = {r["Id"]: r["AccountId"] for r in self.contacts_on(account_ids)}
        out: dict[str, list[str]] = defaultdict(list)
        for link in RecordLink.objects.filter(
            integration=self.ctx.integration, object="contacts", salesforce_id__in=list(contacts)
        ):
            out[contacts[link.salesforce_id]].append(link.hubspot_id)
        return out

    def contacts_on(self, account_ids: list[str]) -> list[dict]:
        """The Salesforce contacts (Id, AccountId) of these accounts."""
        return salesforce_by_ids(
            self.ctx.salesforce, "Contact", ["Id", "AccountId"], account_ids, key="AccountId"
        )

    def associated(
        self, from_type: str, to_type: str, ids: list[str], *, type_id: int | None = None
    ) -> dict[str, list[str]]:
        """id -> the ids it is associated with (only by association ``type_id``, if given)."""
        return {
            from_id: sorted(t for t, types in to.items() if type_id is None or type_id in types)
            for from_id, to in self.associated_typed(from_type, to_type, ids).items()
        }

    def associated_typed(
        self, from_type: str, to_type: str, ids: list[str]
    ) -> dict[str, dict[str, set[int]]]:
        """id -> {the id it is associated with -> the association type ids}."""
        if not ids:
            return {}
        result = hubspot_associations_read(self.ctx.hubspot, from_type, to_type, ids)
        out: dict[str, dict[str, set[int]]] = {}
        for item in result.results:
            to = out.setdefault(str(item._from.id), {})
            for t in item.to or []:
                to.setdefault(str(t.to_object_id), set()).update(
                    a.type_id for a in t.association_types or []
                )
        return out

    # --- HubSpot → Salesforce -------------------------------------------------------------
    def sync_hubspot_changes(self) -> None:
        self.read_hubspot_changes(
            Cursor.load(self.ctx.integration, f"hubspot:{OBJECT}"),
            self.hubspot_properties,
            self.handle_hubspot_companies,
            batch=BATCH,
        )
        self.sync_hubspot_contact_companies()

    def handle_hubspot_companies(
        self, objects: list[Any], cursor: Cursor | None, *, force: bool = False
    ) -> None:
        fresh, handled = self.fresh_versions(
            objects, cursor, force=force, version=lambda o: hubspot_version(o, MODIFIED)
        )
        self.follow_hubspot_merges(fresh)
        fresh = self.in_list_only(fresh)
        pairs, unlinked = self.split_hubspot_changes(fresh, SOBJECT, force=force)
        self.merged_noted(pairs, unlinked)
        self.load_salesforce_partners(pairs)
        unlinked += [p.hubspot for p in pairs if p.salesforce is None and p.hubspot is not None]
        pairs = [p for p in pairs if p.salesforce is not None]
        pairs += self.match_in_salesforce(unlinked)
        self.load_history(pairs)
        self.merge_and_write(pairs)
        self.commit(pairs, cursor, handled)
        self.after_links(pairs)

    def load_salesforce_partners(self, pairs: list[Pair]) -> None:
        """The accounts of linked companies that changed. One deleted in Salesforce (in the
        recycle bin, or gone from it too, a delete the stream never reads) is handled as the
        account stream handles a delete: the link goes, and with *Delete* the company too;
        otherwise it is matched again (it may create an account by the §9 rules). One merged
        away is left to the survivor's sync."""
        if not pairs:
            return
        records = salesforce_by_ids(
            self.ctx.salesforce,
            SOBJECT,
            self.account_fields(),
            [p.link.salesforce_id for p in pairs],
            include_deleted=True,
        )
        found = {r["Id"]: r for r in records}
        self.apply_salesforce_deletes([r for r in records if r.get("IsDeleted")])
        self.salesforce_purged(
            [p.link.salesforce_id for p in pairs if p.link.salesforce_id not in found]
        )
        for pair in pairs:
            record = found.get(pair.link.salesforce_id)
            if record is not None and not record.get("IsDeleted"):
                pair.salesforce = record
                continue
            pair.link = None
            if self.settings.salesforce_delete == "delete" or (record or {}).get("MasterRecordId"):
                pair.hubspot = None  # archived with its account, or the survivor's now

    def match_in_salesforce(self, objects: list[Any]) -> list[Pair]:
        """Unlinked companies: the account they name (our key or Salesforce Account ID), else
        the unlinked account their linked contacts belong to. Otherwise an account is created
        only when one of them syncs as a Salesforce contact (spec §9), or on a manual Sync."""
        if not objects:
            return []
        named: dict[str, str] = {}
        for obj in objects:
            props = obj.properties or {}
            account = props.get(KEY_PROPERTY) or props.get(LINK_PROPERTY)
            if account:
                named[str(obj.id)] = account
        people = self.associated_typed(OBJECT, "contacts", [str(o.id) for o in objects])
        contact_links = {
            link.hubspot_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object="contacts",
                hubspot_id__in={c for cs in people.values() for c in cs},
            )
        }
        sf_contacts = [
            link.salesforce_id
            for link in contact_links.values()
            if link.salesforce_type == "Contact"
        ]
        accounts_of = {
            r["Id"]: r.get("AccountId")
            for r in salesforce_by_ids(
                self.ctx.salesforce, "Contact", ["Id", "AccountId"], sf_contacts
            )
        }
        # Accounts another company has already: a company whose contacts span accounts
        # matches the one of theirs still free.
        taken = set(
            RecordLink.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                salesforce_id__in={a for a in accounts_of.values() if a} | set(named.values()),
            ).values_list("salesforce_id", flat=True)
        )
        candidates: dict[str, str] = {}
        claims: dict[str, tuple[int, int, int]] = {}  # how strongly each names its account
        for obj in objects:
            hs_id = str(obj.id)
            if hs_id in named:
                candidates[hs_id] = named[hs_id]
                claims[hs_id] = (1, 0, 0)
                continue
            votes, primary = tally(
                (account, PRIMARY_COMPANY_TO_CONTACT in types)
                for c, types in people.get(hs_id, {}).items()
                if c in contact_links
                and (account := accounts_of.get(contact_links[c].salesforce_id))
                and account not in taken
            )
            if votes:
                # The accounts of the contacts it is the primary company of first.
                account = max(votes, key=lambda a: (primary[a], votes[a], a))
                candidates[hs_id] = account
                claims[hs_id] = (0, primary[account], votes[account])
        records = {
            r["Id"]: r
            for r in salesforce_by_ids(
                self.ctx.salesforce,
                SOBJECT,
                self.account_fields(),
                sorted(set(candidates.values()) - taken),
            )
        }
        # Companies after one account: the one naming it, else the primary company of most
        # of its contacts takes it, whichever was read first (not their former employer).
        found = {
            hs_id: record
            for hs_id in sorted(claims, key=lambda i: claims[i], reverse=True)
            if (record := records.pop(candidates[hs_id], None)) is not None
        }
        pairs = []
        creating: list[Any] = []
        for obj in objects:
            hs_id = str(obj.id)
            record = found.get(hs_id)
            if record is not None:
                pairs.append(Pair(SOBJECT, record, obj, hs_history=self.history_of(obj)))
                self.counts["matched"] += 1
                continue
            qualifies = any(
                self.makes_an_account(contact_links[c], accounts_of)
                for c in people.get(hs_id, ())
                if c in contact_links
            )
            if hs_id in self.forced or (self.settings.hubspot_creates and qualifies):
                creating.append(obj)
            else:
                self.skipped("no_contact", f"hubspot:{hs_id}", held=self.segment_missing)
        # A company kept after its account was merged into another company's never brings
        # that duplicate back by itself (see ``PairSync.salesforce_merges_kept``); an admin's
        # Sync ends the hold first (``due_for_retry``).
        pairs += [Pair(SOBJECT, None, o) for o in self.not_held_after_salesforce_merge(creating)]
        if not self.external_id:
            self.salesforce_lost_creates(
                [p for p in pairs if p.salesforce is None],
                sobject=SOBJECT,
                fields=self.account_fields(),
                name_property="name",
            )
        return pairs

    def makes_an_account(self, contact: RecordLink, accounts_of: dict[str, str | None]) -> bool:
        """Whether this linked contact makes its company create an account (spec §9): a
        Salesforce contact in the inclusion list, or, without a list, a "private" one (no
        account yet). A contact already on another account leaves a further company of its,
        a partner say, alone."""
        if contact.salesforce_type != "Contact" or not self.in_contact_segment(contact.hubspot_id):
            return False
        return self.has_segment or not accounts_of.get(contact.salesforce_id)

    def receives_association(self, contact_id: str, salesforce_id: str) -> bool:
        """Whether this HubSpot contact's (Salesforce contact ``salesforce_id``'s) company ⇄
        account association is synced: a contact outside the contact inclusion list neither
        pushes it to Salesforce nor receives Salesforce's (spec §6.5)."""
        if self.in_contact_segment(contact_id):
            return True
        self.skipped(
            "outside_list",
            f"hubspot:{contact_id}",
            f"salesforce:{salesforce_id}",
            held=self.segment_missing,
        )
        return False

    @property
    def has_segment(self) -> bool:
        return "*" not in self.contact_segment()

    def in_contact_segment(self, contact_id: str) -> bool:
        """With a contact inclusion list, only its members make a company create its account
        (spec §9: none of its contacts in the segment → no account)."""
        segment = self.contact_segment()
        return "*" in segment or contact_id in segment

    def contact_segment(self) -> frozenset[str] | set[str]:
        """The contact inclusion list's members ({"*"} without a list), read once. A list gone
        from HubSpot has no members: as for the contact sync, nobody is in it (not everyone),
        and the run says why."""
        if self._segment is None:
            list_id = self.contact_settings.inclusion_list_id
            if not list_id:
                self._segment = frozenset({"*"})
                return self._segment
            members = list_members_once(self.ctx, list_id)  # shared with the other pairs
            if members is not None:
                self._segment = members
            else:
                log.warning("companies: contact inclusion list %s no longer exists", list_id)
                self._segment = set()
                self.segment_missing = True
                if not self.list_missing:  # the Companies tab's own list says first
                    self.ctx.run.message = list_missing_message(list_id)
        return self._segment

    # --- the company inclusion list (spec §6.5, ``ListedSync``) -------------------------
    def list_missing_message(self, list_id: Any) -> str:
        return LIST_MISSING.format(list_id=list_id)

    def receiving(self, pairs: list[Pair]) -> list[Pair]:
        """The pairs Salesforce's changes go to: a company outside the list receives none;
        an account without a company still creates one (spec §6.5), and a match outside the
        list stays unlinked until the company enters (nothing is written to it)."""
        return [p for p in pairs if self.may_receive_salesforce_updates(p)]

    # --- merge ----------------------------------------------------------------------------
    def hubspot_comparable(self, mapping, props: dict) -> str:
        if mapping.hubspot_property == DOMAIN:
            return company_domain(props.get(DOMAIN))
        return self.hubspot_mapped_comparable(mapping, props, SOBJECT)

    # HubSpot's domain is a host name ("web.example"); the Website it maps to by default is a
    # URL. Compared as the domain, a Website of "https://www.web.example/about" and a domain
    # of "web.example" are in step, and a domain from HubSpot becomes "https://web.example".
    def salesforce_value_compared(self, mapping, record: dict, name: str, kind: str) -> str:
        if mapping.hubspot_property == DOMAIN:
            return company_domain(record.get(name))
        return super().salesforce_value_compared(mapping, record, name, kind)

    def salesforce_value_written(self, mapping, value: str, sf_type: str, kind: str) -> object:
        if mapping.hubspot_property == DOMAIN and sf_type == "url":
            return f"https://{value}" if value else None
        return super().salesforce_value_written(mapping, value, sf_type, kind)

    def merge(self, pair: Pair) -> None:
        """Decide every mapped field of one pair (idempotent: may run twice)."""
        self.merge_fields(
            pair,
            SOBJECT,
            left_out=lambda prop, name: prop == DOMAIN and self.domain_refused(pair, name),
        )
        if pair.hubspot is not None and pair.salesforce is not None:
            props = pair.hs_props
            for prop in (LINK_PROPERTY, KEY_PROPERTY):
                if self.ctx.hubspot_writable(prop) and props.get(prop) != pair.salesforce_id:
                    pair.to_hubspot[prop] = pair.salesforce_id

    def domain_refused(self, pair: Pair, name: str) -> bool:
        """A Website (or domain) that is no web address at all: an error on that record,
        kept until it is fixed (the rest of the record syncs; the field is left alone)."""
        for direction, value in (
            ("to_hubspot", (pair.salesforce or {}).get(name)),
            ("to_salesforce", pair.hs_props.get(DOMAIN)),
        ):
            try:
                company_domain(value)
            except ValueConversionError as error:
                field = name if direction == "to_hubspot" else DOMAIN
                self.invalid_value(pair, direction, field, error, [name])
                return True
        return False

    # --- writes ---------------------------------------------------------------------------
    def merge_and_write(self, pairs: list[Pair]) -> None:
        for pair in pairs:
            self.merge(pair)
        self.write_salesforce(pairs)
        self.write_hubspot(pairs)

    def write_salesforce(self, pairs: list[Pair]) -> None:
        self.salesforce_updates(pairs, SOBJECT)
        creates = [p for p in pairs if p.salesforce is None and p.hubspot is not None]
        if not creates:
            return
        for pair in creates:
            pair.to_salesforce.setdefault("Name", pair.hs_props.get("name") or "")
        # Upserted by the company id where the org has it; else the company's stored account
        # id (written next), its contacts' account or the noted intent finds a lost create.
        results = self.salesforce_creates_sent(creates, SOBJECT, external_id=self.external_id)
        for pair, result in zip(creates, results, strict=True):
            if not self.salesforce_create_landed(pair, result):
                continue
            pair.salesforce = {"Id": result["id"], **pair.to_salesforce}
            for prop in (LINK_PROPERTY, KEY_PROPERTY):
                if self.ctx.hubspot_writable(prop):
                    pair.to_hubspot[prop] = result["id"]
            self.created_accounts.add(result["id"])
            # Stored with the link: a cycle that dies before the hand-over (after the
            # commit) leaves it for the next one (``finish_hand_overs``).
            pair.same[HAND_OVER] = "1"
        forced = [p for p in creates if p.hubspot_id in self.forced]
        self.forced_creates_noted(
            failed={f"hubspot:{p.hubspot_id}" for p in forced if p.salesforce_failed},
            landed={f"hubspot:{p.hubspot_id}" for p in forced if not p.salesforce_failed},
        )

    def write_hubspot(self, pairs: list[Pair]) -> None:
        self.align_options(pairs)
        self.hubspot_updates(pairs)
        creates = [p for p in pairs if p.hubspot is None and p.salesforce is not None]
        link = self.ctx.hubspot_writable(LINK_PROPERTY)
        self.hubspot_upsert_creates(
            creates,
            KEY_PROPERTY,
            extra=lambda pair: {LINK_PROPERTY: pair.salesforce_id} if link else {},
        )
        forced = [p for p in creates if p.salesforce_id in self.forced_accounts]
        self.forced_creates_noted(
            failed={f"salesforce:{p.salesforce_id}" for p in forced if p.hubspot_failed},
            landed={f"salesforce:{p.salesforce_id}" for p in forced if not p.hubspot_failed},
        )

    def forced_creates_noted(self, *, failed: set[str], landed: set[str]) -> None:
        """An admin's Sync whose create failed stays one for its error's retries (noted by
        record key): otherwise the retry would find that the rules create nothing and end the
        error, and the account (or company) the admin asked for would never be made."""
        if not (failed or landed):
            return
        row, _ = SyncCursor.objects.get_or_create(
            integration=self.ctx.integration, stream=FORCED_CREATES
        )
        noted = set((row.seen or {}).get("keys") or [])
        if (noted | failed) - landed != noted:
            row.seen = {"keys": sorted((noted | failed) - landed)}
            row.save(update_fields=["seen", "updated_at"])

    def forced_creates_due(self, due: list[tuple[str, str]]) -> set[str]:
        """The noted Syncs among the records due for a retry; notes whose errors ended (the
        record synced, or was deleted) are dropped."""
        row = SyncCursor.objects.filter(
            integration=self.ctx.integration, stream=FORCED_CREATES
        ).first()
        noted = set(((row.seen or {}) if row else {}).get("keys") or [])
        if not noted:
            return set()
        still = set(
            SyncError.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                resolved_at__isnull=True,
                record_key__in=noted,
            ).values_list("record_key", flat=True)
        )
        if still != noted:
            row.seen = {"keys": sorted(still)}
            row.save(update_fields=["seen", "updated_at"])
        return still & {key for key, _type in due}

    # --- associations: Contact.AccountId ⇄ the contact's primary company -----------------
    def after_links(self, pairs: list[Pair]) -> None:
        """Newly linked accounts: their contacts waiting for a company are associated now; a
        company that just created its account hands it to its account-less contacts."""
        new = [p for p in pairs if p.hubspot is not None and p.salesforce is not None]
        if not new:
            return
        waiting = set(
            SyncError.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                error_type="waiting_for_account",
                resolved_at__isnull=True,
            ).values_list("salesforce_id", flat=True)
        )
        if waiting:  # which of the waiting contacts belong to these accounts
            contacts = self.contacts_on([p.salesforce_id for p in new])
            records = [r for r in contacts if r["Id"] in waiting]
            if records:
                self.associate_in_hubspot(records, force=True)
        self.give_accounts_to_private_contacts(
            [p for p in new if p.salesforce_id in self.created_accounts]
        )
        self.finish_company_waits([p.hubspot_id for p in new])

    def finish_company_waits(self, companies: list[str]) -> None:
        """HubSpot contacts waiting for one of these companies' accounts: their
        ``AccountId`` follows now (one query, which finds none when no contact waits)."""
        waiting = SyncError.objects.filter(
            integration=self.ctx.integration,
            object=OBJECT,
            error_type="waiting_for_account",
            resolved_at__isnull=True,
            record_key__startswith="hubspot:",
            salesforce_type="Contact",
        ).values("hubspot_id")
        wanted = set(companies)
        ready = [
            link.hubspot_id
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration, object="contacts", hubspot_id__in=waiting
            ).only("hubspot_id", "snapshot")
            if link.snapshot.get(WAITING_COMPANY) in wanted
        ]
        if ready:
            self.retry_contact_associations(ready)

    def finish_hand_overs(self) -> None:
        """Accounts created from companies whose hand-over to the private contacts a cycle
        that died never made (the link says so): made now (no call when there's none)."""
        links = RecordLink.objects.filter(
            integration=self.ctx.integration, object=OBJECT, snapshot__has_key=HAND_OVER
        )
        pairs = [
            Pair(
                SOBJECT,
                {"Id": link.salesforce_id},
                SimpleNamespace(id=link.hubspot_id, properties={}),
                link,
            )
            for link in links
        ]
        self.give_accounts_to_private_contacts(pairs)

    def give_accounts_to_private_contacts(self, pairs: list[Pair]) -> None:
        """Accounts just created from HubSpot companies: the contacts it is the primary
        company of that sync as Salesforce contacts without an account get it (spec §9,
        "private" contacts). A further company of theirs, a partner's, isn't their account."""
        if not pairs:
            return
        people = self.associated(
            OBJECT, "contacts", [p.hubspot_id for p in pairs], type_id=PRIMARY_COMPANY_TO_CONTACT
        )
        account_of = {p.hubspot_id: p.salesforce_id for p in pairs}
        links = self.contact_links({c for cs in people.values() for c in cs})
        wanted = {
            links[c].salesforce_id: account_of[company]
            for company, contacts in people.items()
            for c in contacts
            if c in links
        }
        current = salesforce_by_ids(
            self.ctx.salesforce, "Contact", ["Id", "AccountId"], list(wanted)
        )
        hubspot_of = {link.salesforce_id: hubspot_id for hubspot_id, link in links.items()}
        updates = [
            {"Id": r["Id"], "AccountId": wanted[r["Id"]]}
            for r in current
            if not r.get("AccountId") and self.receives_association(hubspot_of[r["Id"]], r["Id"])
        ]
        self.set_contact_accounts(updates, hubspot_of, counter="accounts_set_on_contacts")
        # Handed over (a refused write is an error of its own, retried with the contact).
        for link in RecordLink.objects.filter(
            integration=self.ctx.integration,
            object=OBJECT,
            hubspot_id__in=list(account_of),
            snapshot__has_key=HAND_OVER,
        ):
            link.snapshot.pop(HAND_OVER, None)
            link.save(update_fields=["snapshot"])

    def set_contact_accounts(
        self, updates: list[dict], hubspot_of: dict[str, str], *, counter: str
    ) -> set[str]:
        """Write ``Contact.AccountId`` (``updates``, collections of 200). What lands is
        remembered as in step and its errors end; a refusal is an error on the HubSpot contact
        (``hubspot_of`` the Salesforce contact's), not remembered, so its retry puts the
        contact in step with its HubSpot company (see ``retry_contact_associations``).
        A contact or account gone even from the recycle bin is no error: it is handled as its
        delete, by its pair's rule. Returns the contacts whose new account was such a one:
        their company has no account now, for the caller to look at again."""
        if not updates:
            return set()
        self.contacts_note_sent(ACCOUNT_SENT, {u["Id"]: u["AccountId"] or "" for u in updates})
        results = each_chunk_retried(
            lambda chunk: self.ctx.salesforce.collections_update(sobject="Contact", records=chunk),
            updates,
            SALESFORCE_COLLECTION,
        )
        done, refused = {}, {}
        for update, result in zip(updates, results, strict=True):
            if result.get("success"):
                done[update["Id"]] = update["AccountId"]
            else:
                refused[update["Id"]] = result
        purged = self.purged_of_account_writes(updates, refused)
        onto_purged = {u["Id"] for u in updates if u["Id"] in refused and u["AccountId"] in purged}
        for contact_id, result in refused.items():
            if contact_id not in purged and contact_id not in onto_purged:
                contact = SimpleNamespace(id=hubspot_of[contact_id], properties={})
                self.record_salesforce_failure(Pair("Contact", {"Id": contact_id}, contact), result)
        self.contacts_note_sent(ACCOUNT_SENT, dict.fromkeys(refused))  # a rep's move to it is one
        self.contacts_purged(sorted(purged & set(refused)), hubspot_of)
        self.salesforce_purged(sorted(purged - set(refused)))  # accounts: their companies' rule
        self.counts[counter] += len(done)
        self.contacts_written("salesforce", done, last_response_date(self.ctx.salesforce))
        self.remember_association(done)
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=OBJECT,
            record_keys=[f"hubspot:{hubspot_of[contact]}" for contact in done],
        )
        return onto_purged - purged

    def purged_of_account_writes(self, updates: list[dict], refused: dict[str, dict]) -> set[str]:
        """Of the contacts and accounts of ``AccountId`` writes Salesforce refused as for a
        record it doesn't have (``RECORD_GONE``; either may be the one, so the answer may name
        ``AccountId`` or no field), those gone even from the recycle bin (``purged_of``: read
        again with queryAll, only then)."""
        pairs = []
        for update in updates:
            result = refused.get(update["Id"])
            contact = Pair("Contact", {"Id": update["Id"]}, None)
            if result is None or not all(
                f.code in RECORD_GONE and set(f.fields) <= {"AccountId"}
                for f in self.salesforce_failures(contact, result)
            ):
                continue
            pairs.append(contact)
            if update["AccountId"]:
                pairs.append(Pair(SOBJECT, {"Id": update["AccountId"]}, None))
        return self.purged_of(pairs)

    def contacts_purged(self, salesforce_ids: list[str], hubspot_of: dict[str, str]) -> None:
        """Salesforce contacts gone even from the recycle bin, found by an ``AccountId`` write:
        handled as the contact sync handles such a delete (``salesforce_purged``, by the
        contact pair's delete setting), and their association errors here end too."""
        if not salesforce_ids:
            return
        ctx = replace(
            self.ctx,
            object_name="contacts",
            settings=self.contact_settings,
            mappings=[],
            _fields={},
        )
        ContactSync(ctx).salesforce_purged(salesforce_ids)
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=OBJECT,
            record_keys=[
                key
                for contact in salesforce_ids
                for key in (f"salesforce:{contact}", f"hubspot:{hubspot_of[contact]}")
            ],
            ended_because=SyncError.EndedBecause.DELETED,
        )

    def contacts_written(self, side: str, ids: Iterable[str], at) -> None:
        """Contacts whose account or primary company this run moved (by their id on
        ``side``): the contact sync's next read of them meets our write, not a change."""
        writes_noted(self.ctx.integration, "contacts", [f"{side}:{i}" for i in ids], at)

    def contacts_note_sent(self, key: str, values: dict[str, str | None]) -> None:
        """``note_sent`` under ``key`` (``ACCOUNT_SENT``, ``COMPANY_SENT``) on the contact
        links of ``values``, by Salesforce contact."""
        links = RecordLink.objects.filter(
            integration=self.ctx.integration, object="contacts", salesforce_id__in=list(values)
        ).only("pk", "salesforce_id", "snapshot")
        self.note_sent([(link, values[link.salesforce_id]) for link in links], key)

    def remember_association(
        self, accounts: dict[str, str | None], *, only_missing: bool = False
    ) -> None:
        """Store on each contact link the account ⇄ company pairing last put in step."""
        over: list[str] = []
        landed = []
        companies = {
            link.salesforce_id: link.hubspot_id
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                salesforce_id__in=[a for a in accounts.values() if a],
            )
        }
        for link in RecordLink.objects.filter(
            integration=self.ctx.integration, object="contacts", salesforce_id__in=list(accounts)
        ).only("pk", "hubspot_id", "salesforce_id", "snapshot"):
            account = accounts[link.salesforce_id] or ""
            if only_missing and "__account" in link.snapshot:
                continue
            if link.snapshot.get(WAITING_COMPANY):
                over.append(f"hubspot:{link.hubspot_id}")
            company = companies.get(account, "") if account else ""
            landed.append((link, {"__account": account, "__company": company}))
        # The notes of the writes that put it in step go, and so does a wait for an account.
        self.sent_landed(landed, ACCOUNT_SENT, COMPANY_SENT, WAITING_COMPANY)
        # In step: a contact that waited for its HubSpot company's account no longer does.
        services.sync_errors_resolve_type(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type="waiting_for_account",
            record_keys=over,
        )

    def contact_account_fields(self, *extra: str) -> list[str]:
        """A contact's account, and its name and email: they label its association errors."""
        known = self.ctx.salesforce_fields.get("Contact", {})
        names = [f for f in ("FirstName", "LastName", "Email") if f in known]
        return ["Id", "AccountId", *extra, *names]

    def handle_salesforce_contact_accounts(self, records: list[dict], cursor: Cursor) -> None:
        handled = [
            Version.of(r["Id"], parse_time(r.get("SystemModstamp")), r.get("AccountId"))
            for r in records
        ]
        fresh = [r for r, v in zip(records, handled, strict=True) if not cursor.seen(v)]
        self.associate_in_hubspot(fresh)
        with_transaction_advance(cursor, handled)

    def associate_in_hubspot(self, records: list[dict], *, force: bool = False) -> None:
        """Salesforce contacts whose ``AccountId`` changed: their HubSpot contact's primary
        company follows (one batch association write). An account without a company yet
        leaves a *Waiting for account to sync* error on the contact until it has one."""
        links = {
            link.salesforce_id: link
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object="contacts",
                salesforce_id__in=[r["Id"] for r in records],
            )
        }
        changed = [
            r
            for r in records
            if r["Id"] in links
            and (
                force or links[r["Id"]].snapshot.get("__account", "") != (r.get("AccountId") or "")
            )
        ]
        # Our own account write, landed in a cycle that died before remembering it: in
        # step now, not a rep's move (which would undo a HubSpot move made meanwhile).
        echoes = {
            r["Id"]: r.get("AccountId") or ""
            for r in changed
            if links[r["Id"]].snapshot.get(ACCOUNT_SENT) == (r.get("AccountId") or "")
        }
        if echoes:
            self.remember_association(echoes)
            changed = [r for r in changed if r["Id"] not in echoes]
        changed = [
            r for r in changed if self.receives_association(links[r["Id"]].hubspot_id, r["Id"])
        ]
        if not changed:
            return
        companies = {
            link.salesforce_id: link.hubspot_id
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                salesforce_id__in=[r["AccountId"] for r in changed if r.get("AccountId")],
            )
        }
        changed = self.without_moves_landed(changed, links, companies)
        if not changed:
            return
        inputs, removals, done, resolved, waiting = [], [], {}, [], {}
        for record in changed:
            link = links[record["Id"]]
            account = record.get("AccountId") or ""
            old_company = link.snapshot.get("__company") or ""
            company = companies.get(account, "")
            if account and not company:
                self.waiting_for_account_company(
                    link, account, label=Pair("Contact", record, None).label
                )
                waiting[record["Id"]] = ""
                continue
            if old_company and old_company != company:
                removals.append(dissociation_input(link.hubspot_id, [old_company]))
            if company:
                inputs.append(
                    association_input(link.hubspot_id, company, PRIMARY_CONTACT_TO_COMPANY)
                )
            done[record["Id"]] = account
            resolved.append(f"salesforce:{record['Id']}")
        self.contacts_note_sent(
            COMPANY_SENT, {c: companies.get(a or "", "") for c, a in done.items()}
        )
        refused = self.hubspot_associate("contacts", OBJECT, inputs) if inputs else []
        # The old company goes only once the new one landed: a move HubSpot refuses (the
        # association limit) leaves the contact where it was, not without a company, which
        # its next read would take for a move off the account in HubSpot.
        kept = {str(f["from"]["id"]) for f, _ in refused}
        removals = [r for r in removals if str(r["from"]["id"]) not in kept]
        self.hubspot_dissociate("contacts", OBJECT, removals)
        by_hubspot_id = {links[r["Id"]].hubspot_id: r for r in changed}
        self.contacts_note_sent(
            COMPANY_SENT, {by_hubspot_id[str(f["from"]["id"])]["Id"]: None for f, _ in refused}
        )
        # Contacts deleted in HubSpot (one read, only when some were refused) are no error:
        # their links retire, and the Salesforce contact's next change makes them again.
        gone = self.deleted_in_hubspot(
            "contacts", {str(f["from"]["id"]) for f, _ in refused}, merged_too=False
        )
        for failed, error in refused:
            # Not remembered as in step, so a resync (or the contact's next change) tries again.
            record = by_hubspot_id[str(failed["from"]["id"])]
            done.pop(record["Id"], None)
            resolved.remove(f"salesforce:{record['Id']}")
            link = links[record["Id"]]
            if link.hubspot_id not in gone:
                hubspot = SimpleNamespace(id=link.hubspot_id, properties={})
                self.association_failure(Pair("Contact", record, hubspot, link), error)
        services.sync_errors_resolve(
            integration=self.ctx.integration,
            object_name=OBJECT,
            record_keys=[
                f"salesforce:{r['Id']}" for r in changed if links[r["Id"]].hubspot_id in gone
            ],
            ended_because=SyncError.EndedBecause.GONE_FROM_HUBSPOT,
        )
        self.counts["associations_to_hubspot"] += len(inputs) - len(refused) + len(removals)
        self.moved_in_hubspot.update(links[i].hubspot_id for i in done)
        moved = [links[i].hubspot_id for i in done]
        self.contacts_written("hubspot", moved, http_date(self.ctx.hubspot.server_date))
        self.remember_association(done)
        self.remember_association(waiting, only_missing=True)
        services.sync_errors_resolve(
            integration=self.ctx.integration, object_name=OBJECT, record_keys=resolved
        )
        self.look_at_accounts_now(
            {r.get("AccountId") for r in changed if r["Id"] in waiting} - self.accounts_looked_at
        )

    def without_moves_landed(
        self, records: list[dict], links: dict[str, RecordLink], companies: dict[str, str]
    ) -> list[dict]:
        """Of Salesforce contacts whose account moved, those still to move in HubSpot. A
        move whose HubSpot write was noted (``COMPANY_SENT``) by a cycle that died before
        remembering it is looked at in HubSpot (one read per 100 such contacts): landed, it
        is in step; moved on in HubSpot since, that later move goes to Salesforce; still
        on the old company, the write never went out and is made now."""
        noted = [
            r
            for r in records
            if links[r["Id"]].snapshot.get(COMPANY_SENT) is not None
            and links[r["Id"]].snapshot[COMPANY_SENT] == companies.get(r.get("AccountId") or "", "")
        ]
        if not noted:
            return records
        found = hubspot_batch_read(
            self.ctx.hubspot,
            object_type="contacts",
            ids=[links[r["Id"]].hubspot_id for r in noted],
            properties=[COMPANY_PROPERTY],
        )
        now = {str(o.id): o for o in found.results}
        landed, moved_since, removals = {}, [], []
        for record in noted:
            link = links[record["Id"]]
            obj = now.get(link.hubspot_id)
            current = ((obj.properties or {}).get(COMPANY_PROPERTY) or "") if obj else None
            sent, old = link.snapshot[COMPANY_SENT], link.snapshot.get("__company") or ""
            # Still on the old company, or on none: the write never went out.
            if current is None or (current != sent and current in ("", old)):
                continue
            landed[record["Id"]] = record.get("AccountId") or ""
            if current != sent:
                moved_since.append(obj)
            elif old and old != sent:  # the old company's removal may not have gone out
                removals.append(dissociation_input(link.hubspot_id, [old]))
        self.hubspot_dissociate("contacts", OBJECT, removals)
        self.remember_association(landed)
        if moved_since:
            self.associate_in_salesforce(moved_since)
        return [r for r in records if r["Id"] not in landed]

    def look_at_accounts_now(self, account_ids: set[str]) -> None:
        """Accounts contacts wait for that weren't matched this cycle: a contact moving onto
        an account doesn't touch the account's modified date, so the account is looked at
        now; once it matches (or creates) its company, ``after_links`` associates them."""
        if not account_ids:
            return
        self.accounts_looked_at.update(account_ids)
        records = salesforce_by_ids(
            self.ctx.salesforce, SOBJECT, self.account_fields(), sorted(account_ids)
        )
        self.handle_salesforce_accounts(records, None)

    def sync_new_contact_links(self) -> None:
        """Contacts linked since the last look (by the contact sync): their account and
        primary company are put in step once; Salesforce's account wins when both have one.
        Read 2,000 links at a time, up to 10,000 a cycle."""
        # Only links saved since the last look (the first look, e.g. when company sync is
        # turned on, reads them all): no scan of every contact link every cycle.
        cursor = Cursor.load(self.ctx.integration, "companies:contact-links").row
        started = timezone.now()
        for _ in range(LINK_BATCHES_PER_CYCLE):
            query = RecordLink.objects.filter(
                integration=self.ctx.integration, object="contacts", salesforce_type="Contact"
            ).exclude(snapshot__has_key="__account")
            if cursor.position is not None:
                query = query.filter(last_synced_at__gte=cursor.position - OVERLAP)
            links = list(
                query.order_by("last_synced_at", "pk").only(
                    "salesforce_id", "hubspot_id", "last_synced_at"
                )[:LINKS_PER_BATCH]
            )
            full = len(links) == LINKS_PER_BATCH
            if links:
                self.put_new_links_in_step(links)
            cursor.position = links[-1].last_synced_at if full else started
            cursor.save(update_fields=["position", "updated_at"])
            if not full:
                break

    def put_new_links_in_step(self, links: list[RecordLink]) -> None:
        records = salesforce_by_ids(
            self.ctx.salesforce,
            "Contact",
            self.contact_account_fields(),
            [k.salesforce_id for k in links],
        )
        self.associate_in_hubspot([r for r in records if r.get("AccountId")], force=True)
        without = {r["Id"] for r in records if not r.get("AccountId")}
        hubspot_ids = [k.hubspot_id for k in links if k.salesforce_id in without]
        if hubspot_ids:
            # The contact sync read most of them this cycle: only the others are read here.
            shared = self.shared_contact_companies()
            known = {row[0]: row for row in shared.rows} if shared is not None else {}
            objects = [_contact(*known[i]) for i in hubspot_ids if i in known]
            unknown = [i for i in hubspot_ids if i not in known]
            if unknown:
                objects += hubspot_batch_read(
                    self.ctx.hubspot,
                    object_type="contacts",
                    ids=unknown,
                    properties=[COMPANY_PROPERTY],
                ).results
            self.associate_in_salesforce([o for o in objects if o.properties.get(COMPANY_PROPERTY)])
            self.remember_association({i: "" for i in without}, only_missing=True)

    def shared_contact_companies(self) -> ContactCompanies | None:
        """The contact sync's read of HubSpot contacts this cycle, if it ran before us."""
        probe = getattr(self.ctx, "probe", None)
        return probe.contact_companies if probe is not None else None

    def sync_hubspot_contact_companies(self) -> None:
        """HubSpot contacts whose primary company changed: the Salesforce contact's
        ``AccountId`` follows (leads have no account)."""
        cursor = Cursor.load(self.ctx.integration, "hubspot:contacts:company")
        shared = self.shared_contact_companies()
        if shared is not None and shared.covers(cursor.since):
            # The contact sync read these contacts this cycle, from no later than we would.
            for start in range(0, len(shared.rows), BATCH):
                rows = shared.rows[start : start + BATCH]
                self.handle_contact_companies([_contact(*row) for row in rows], cursor)
            cursor.mark_checked(shared.read_started)
            return
        read_started = None
        for page in hubspot_changes(
            self.ctx.hubspot,
            object_type="contacts",
            modified_property=CONTACT_MODIFIED,
            since=cursor.since,
            properties=[COMPANY_PROPERTY, CONTACT_MODIFIED],
            limit=10**9,
        ):
            read_started = read_started or http_date(self.ctx.hubspot.server_date)
            self.handle_contact_companies(page, cursor)
        cursor.mark_checked(read_started or http_date(self.ctx.hubspot.server_date))

    def handle_contact_companies(self, objects: list[Any], cursor: Cursor) -> None:
        handled = [
            Version.of(
                str(o.id),
                parse_time(o.properties.get(CONTACT_MODIFIED)),
                o.properties.get(COMPANY_PROPERTY),
            )
            for o in objects
        ]
        fresh = [
            o
            for o, v in zip(objects, handled, strict=True)
            if not cursor.seen(v) and str(o.id) not in self.moved_in_hubspot
        ]
        self.associate_in_salesforce(fresh)
        with_transaction_advance(cursor, handled)

    def associate_in_salesforce(self, objects: list[Any]) -> None:
        """HubSpot contacts whose primary company changed: ``Contact.AccountId`` follows. A
        company deleted in HubSpot leaves the account alone (HubSpot deletes never change
        Salesforce); a company without an account yet leaves a *Waiting for account to sync*
        error on the contact until it has one (or the contact moves back)."""
        links = self.contact_links([str(o.id) for o in objects])
        company_of = {str(o.id): o.properties.get(COMPANY_PROPERTY) or "" for o in objects}
        changed = [
            o
            for o in objects
            if str(o.id) in links
            and (
                links[str(o.id)].snapshot.get("__company", "") != company_of[str(o.id)]
                or links[str(o.id)].snapshot.get(WAITING_COMPANY)
            )
        ]
        changed = [
            o
            for o in changed
            if self.receives_association(str(o.id), links[str(o.id)].salesforce_id)
        ]
        if not changed:
            return
        # Back on the company last in step: nothing to write, and the wait is over.
        back = {
            links[str(o.id)].salesforce_id: links[str(o.id)].snapshot.get("__account") or None
            for o in changed
            if links[str(o.id)].snapshot.get("__company", "") == company_of[str(o.id)]
        }
        if back:
            self.remember_association(back)
            changed = [o for o in changed if links[str(o.id)].salesforce_id not in back]
        changed = self.without_deleted_companies(changed, links, company_of)
        accounts = self.company_accounts([company_of[str(o.id)] for o in changed])
        pending = {company_of[str(o.id)] for o in changed} - set(accounts) - {""}
        if pending:
            # Associating a contact doesn't touch the company's modified date: look at it now
            # (it may create its account), then at what the contacts hold since.
            self.handle_hubspot_companies(list(self.hubspot_read(sorted(pending)).values()), None)
            accounts.update(self.company_accounts(sorted(pending)))
            links.update(
                (link.hubspot_id, link)
                for link in RecordLink.objects.filter(pk__in=[links[str(o.id)].pk for o in changed])
            )
        updates, waiting = [], []
        for obj in changed:
            link, company = links[str(obj.id)], company_of[str(obj.id)]
            if link.snapshot.get("__company", "") == company:
                continue  # put in step meanwhile (the account went to its private contacts)
            if company and company not in accounts:
                waiting.append((obj, link, company))
                continue
            updates.append({"Id": link.salesforce_id, "AccountId": accounts.get(company)})
        hubspot_of = {links[str(o.id)].salesforce_id: str(o.id) for o in changed}
        again = self.set_contact_accounts(updates, hubspot_of, counter="associations_to_salesforce")
        if again:
            self.moved_onto_purged_account(
                [o for o in changed if links[str(o.id)].salesforce_id in again], company_of
            )
        for obj, link, company in waiting:
            if self.in_list(company):
                self.waiting_for_company_account(obj, link, company)
            else:  # its company is kept out of Salesforce on purpose: nothing to wait for
                self.outside_list(f"hubspot:{obj.id}")

    def moved_onto_purged_account(self, objects: list[Any], company_of: dict[str, str]) -> None:
        """HubSpot contacts moved onto a company whose account was gone even from the recycle
        bin: the account's delete took the company's link (and, with *Delete*, the company).
        A company kept is one without an account, as any other (its contacts wait, or it
        makes an account by the §9 rules); on one deleted they keep their account, as when
        a company is deleted in HubSpot (one read)."""
        gone = self.deleted_in_hubspot(
            OBJECT, {company_of[str(o.id)] for o in objects}, merged_too=False
        )
        kept = [str(o.id) for o in objects if company_of[str(o.id)] in gone]
        self.accounts_kept(
            [(link, company_of[link.hubspot_id]) for link in self.contact_links(kept).values()]
        )
        self.associate_in_salesforce([o for o in objects if str(o.id) not in kept])

    def accounts_kept(self, kept: list[tuple[RecordLink, str]]) -> list[dict]:
        """Contacts whose company was deleted in HubSpot keep their account: each link notes
        the company given (``__company``) and no longer waits for an account (that wait
        ends). Returns their snapshots as stored now."""
        over, snapshots = [], []
        for link, company in kept:
            snapshot = {**link.snapshot, "__company": company}
            if snapshot.pop(WAITING_COMPANY, None):
                over.append(f"hubspot:{link.hubspot_id}")
            RecordLink.objects.filter(pk=link.pk).update(snapshot=snapshot)
            snapshots.append(snapshot)
        services.sync_errors_resolve_type(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type="waiting_for_account",
            record_keys=over,
            ended_because=SyncError.EndedBecause.PARTNER_NOT_SYNCING,
        )
        self.counts["kept_account_company_deleted"] += len(kept)
        return snapshots

    def company_accounts(self, companies: list[str]) -> dict[str, str]:
        """HubSpot company id -> its linked account id."""
        return {c: link.salesforce_id for c, link in self.links_by("hubspot_id", companies).items()}

    def without_deleted_companies(
        self, changed: list[Any], links: dict[str, RecordLink], company_of: dict[str, str]
    ) -> list[Any]:
        """Contacts that lost their company because it was deleted in HubSpot (one read, only
        when a contact has no company now) aren't taken off their account: ``AccountId``
        stays and the contact waits for the account's next company, as a deal does. The
        deleted company's link is retired, as this sync does when it finds one gone."""
        last = {
            str(o.id): links[str(o.id)].snapshot.get(WAITING_COMPANY)
            or links[str(o.id)].snapshot.get("__company")
            for o in changed
            if not company_of[str(o.id)]
        }
        lost = sorted({c for c in last.values() if c})
        if not lost:
            return changed
        gone = self.deleted_in_hubspot(OBJECT, set(lost))
        if not gone:
            return changed
        kept = {str(o.id) for o in changed if last.get(str(o.id)) in gone}
        held = [links[contact] for contact in sorted(kept)]
        # "" is what HubSpot holds now.
        for link, snapshot in zip(held, self.accounts_kept([(k, "") for k in held]), strict=True):
            account = snapshot.get("__account") or ""
            if account and link.snapshot.get("__company") in gone:
                self.waiting_for_account_company(link, account)
        return [o for o in changed if str(o.id) not in kept]

    def waiting_for_account_company(
        self, link: RecordLink, account: str, *, label: str = ""
    ) -> None:
        """The Salesforce contact's account has no HubSpot company (yet, or any more)."""
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type="waiting_for_account",
            direction="to_hubspot",
            record_key=f"salesforce:{link.salesforce_id}",
            hubspot_id=link.hubspot_id,
            salesforce_id=link.salesforce_id,
            salesforce_type="Contact",
            record_label=label,
            code="WAITING_FOR_ACCOUNT",
            message=f"Account {account} has no HubSpot company yet; the contact is "
            "associated once the account syncs.",
        )
        self.counts["waiting_for_account"] += 1

    def waiting_for_company_account(self, obj: Any, link: RecordLink, company: str) -> None:
        """The HubSpot contact's company has no Salesforce account: an error on the contact,
        as the two sides disagree until the company syncs (it may never meet the creation
        rules). The link notes the company, so its account, once made, follows at once
        (``after_links``)."""
        account = link.snapshot.get("__account") or ""
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type="waiting_for_account",
            direction="to_salesforce",
            record_key=f"hubspot:{obj.id}",
            hubspot_id=str(obj.id),
            salesforce_id=link.salesforce_id,
            salesforce_type="Contact",
            # Named as last synced: the contact was read for its company alone.
            record_label=Pair("Contact", None, SimpleNamespace(properties=link.snapshot)).label,
            code="WAITING_FOR_ACCOUNT",
            message=company_without_account(
                company, account, "Salesforce contact", held=self.company_held_after_merge(company)
            ),
            fields=["AccountId"],
        )
        if link.snapshot.get(WAITING_COMPANY) != company:
            link.snapshot = {**link.snapshot, WAITING_COMPANY: company}
            RecordLink.objects.filter(pk=link.pk).update(snapshot=link.snapshot)
        self.counts["waiting_for_account"] += 1

    # --- retries --------------------------------------------------------------------------
    def retry_errored(self) -> None:
        """Records whose errors are due, and records an admin asked to sync (a manual Sync of
        a company creates its account whatever the creation rules say)."""
        due, requests = self.due_for_retry()
        if not due:
            return
        # A Resync from the record's page names no type when the record has no company link:
        # a contact's key (its association errors) stays a contact's, as its errors say.
        contact_keys = {k for k, t in due if t == "Contact"}
        due = [(k, "Contact" if k in contact_keys else t) for k, t in due]
        self.forced = {
            r.record_key.split(":", 1)[1]
            for r in requests
            if r.record_key.startswith("hubspot:") and r.record_key not in contact_keys
        }
        self.forced_accounts = {
            r.record_key.split(":", 1)[1]
            for r in requests
            if r.record_key.startswith("salesforce:")
            and r.salesforce_type != "Contact"
            and r.record_key not in contact_keys
        }
        for key in self.forced_creates_due(due) - contact_keys:
            side, _, record_id = key.partition(":")
            (self.forced if side == "hubspot" else self.forced_accounts).add(record_id)
        of_companies = [k for k, t in due if t != "Contact"]
        of_contacts = [k for k, t in due if t == "Contact"]
        self.retry_salesforce_records(
            record_ids(of_companies, "salesforce"),
            SOBJECT,
            self.account_fields(),
            self.handle_salesforce_accounts,
        )
        self.retry_salesforce_records(
            record_ids(of_contacts, "salesforce"),
            "Contact",
            self.contact_account_fields(),
            lambda records, _cursor, force: self.associate_in_hubspot(records, force=force),
        )
        self.retry_hubspot_records(
            record_ids(of_companies, "hubspot"),
            lambda i: self.hubspot_read(i).values(),
            self.handle_hubspot_companies,
        )
        hubspot_contacts = record_ids(of_contacts, "hubspot")
        if hubspot_contacts:
            self.retry_contact_associations(hubspot_contacts)
        self.forced, self.forced_accounts = set(), set()
        self.retries_done(requests, len(due))

    def retry_contact_associations(self, hubspot_ids: list[str]) -> None:
        """Contacts whose account Salesforce refused: put each in step with its HubSpot
        primary company again (their errors are kept under the HubSpot contact)."""
        objects = self.hubspot_reread(
            hubspot_ids,
            lambda i: (
                hubspot_batch_read(
                    self.ctx.hubspot,
                    object_type="contacts",
                    ids=i,
                    properties=[COMPANY_PROPERTY, CONTACT_MODIFIED],
                ).results
            ),
        )
        self.associate_in_salesforce(objects)


def company_domain(value: object) -> str:
    """``domain_of``, with a value that is no web address at all ("http://[intranet", which
    Salesforce's Website takes) an error on that field alone, not on the whole cycle."""
    try:
        return domain_of(value)
    except ValueError as error:
        raise ValueConversionError(f"{value!r} is not a web address") from error


def _contact(contact_id: str, company: str | None, modified: str | None) -> Any:
    """A HubSpot contact as the company sync reads it (id, company, modified date)."""
    return SimpleNamespace(
        id=contact_id, properties={COMPANY_PROPERTY: company, CONTACT_MODIFIED: modified}
    )


def with_transaction_advance(cursor: Cursor, handled: list[Version]) -> None:
    with transaction.atomic():
        cursor.advance(handled)
