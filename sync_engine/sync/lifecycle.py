"""Lifecycle stages from opportunities (spec §7).

A synced contact with a contact role on an open opportunity becomes an *opportunity*; once one
of its opportunities is Closed Won it becomes a *customer*, also when the role is added after
the win. Stages only move forward, and optionally fan out to every contact of the company.
When the company pair is switched on, each moved contact's primary company follows, also
forward-only.

A stage HubSpot refuses is a *Lifecycle stage not updated* error on the HubSpot contact or
company, and the stage is kept (``REFUSED_STREAM``) and written again every cycle, forward-only,
until it lands: only that ends the error (or the record reaching the stage, or beyond, some other
way; or the record being gone), never an unrelated sync of the record.

While transitions are off their streams aren't read, but their cursors keep up (``hold``), so
switching them on applies only the events from then on, never those of the time they were off.
While the integration user may not read opportunities or their roles (an *Object permission*
error, see ``sync.cycle``), they are on but ``held``: nothing of theirs is read and the cursors
stay, so the events of that time apply once access is back.
Contacts outside the inclusion list are never moved (they receive no Salesforce updates).
A contact linked after its opportunities' events (its HubSpot create failed then, or it synced
later), or entering the list after them, gets the stage they give it at the end of that cycle
(``newly_linked``); only what this cycle's streams can't have given it is read and written
again (``CycleMoves``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .. import services
from ..models import RecordLink, SyncCursor, SyncError
from ..selectors import object_settings_get, pairs_switched_on
from .changes import (
    COMPANY_PROPERTY,
    Cursor,
    SoqlStream,
    Version,
    http_date,
    parse_time,
    salesforce_by_ids,
    soql_string,
    with_retries,
)
from .pair import (
    RETRY_BATCH,
    Pair,
    hubspot_associations_read,
    hubspot_batch_read,
    hubspot_error_parts,
    list_members_once,
    writes_noted,
)

if TYPE_CHECKING:
    from .contacts import ContactSync

ORDER = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
RANK = {stage: i for i, stage in enumerate(ORDER)}
ROLE_FIELDS = ["Id", "IsDeleted", "SystemModstamp", "ContactId", "OpportunityId"]
OPPORTUNITY_FIELDS = [
    "Id",
    "IsDeleted",
    "SystemModstamp",
    "IsClosed",
    "IsWon",
    "LastStageChangeDate",
]
CONTACT_TO_COMPANY = "companies"
# The error type of a stage HubSpot refused: ended by the lifecycle's own retry only.
LIFECYCLE_ERROR = "lifecycle_stage"
# The stages HubSpot refused, by object type and HubSpot id: {"contacts": {id: stage}, …}.
REFUSED_STREAM = "contacts:lifecycle-refused"
# Where the look for newly linked contacts stopped: {"after": the newest link's pk then}.
LINKED_STREAM = "contacts:lifecycle-linked"
# What the stage reads bring along, for the error's record label.
LABEL_PROPERTIES = {"contacts": ["email", "firstname", "lastname"], "companies": ["name"]}


def later(stage: str, than: str | None, rank: dict[str, int] = RANK) -> bool:
    """Whether ``stage`` is ahead of ``than`` (blank: before every stage). A stage ``rank``
    doesn't know is never behind: it may be a custom stage placed after ``stage``."""
    if not than:
        return stage in rank
    if than not in rank:
        return False
    return rank.get(stage, -1) > rank[than]


def stage_rank(prop: Any) -> dict[str, int]:
    """HubSpot's order of its lifecycle stages (``prop``: the property as read), standard and
    custom ones: what "forward" means (spec §7)."""
    options = sorted(
        enumerate(getattr(prop, "options", None) or []),
        key=lambda o: (getattr(o[1], "display_order", None) is None, o[1].display_order or 0, o[0]),
    )
    return {o.value: i for i, (_, o) in enumerate(options)} or RANK


LIFECYCLE_STREAMS = ("salesforce:OpportunityContactRole", "salesforce:Opportunity")
# What they read: without access to either, only the stages stop; the contacts sync on.
LIFECYCLE_OBJECTS = frozenset(stream.split(":")[1] for stream in LIFECYCLE_STREAMS)
# In a lifecycle stream's ``seen``: events stamped before it happened while transitions were
# off, and never apply (spec §7).
OFF_UNTIL = "__off_until"
# In the opportunity stream's ``seen``, before an opportunity id: the stage change time of the
# win applied (see ``LifecycleTransitions.newly_won``).
WON = "__won:"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass
class CycleMoves:
    """What one contacts cycle's lifecycle moves showed, kept by the ``ContactSync`` for
    every ``LifecycleTransitions`` of its cycle: ``newly_linked``, after the streams, reads
    and writes again only what they can't have done."""

    # HubSpot contact id -> a stage it is at or beyond now: written this cycle as its
    # opportunities' stage, or found there already (its colleagues and company moved along).
    reached: dict[str, str] = field(default_factory=dict)
    # The streams had handled no event before this cycle: this read is their first (or one
    # from the start again), so every role and opportunity reaches them now or later.
    first_read: bool = False
    # The newest contact link when this cycle's streams handled their first page.
    linked_before: int | None = None
    # The members of the company inclusion list, read once a cycle when a company would move
    # (``LifecycleTransitions._companies_in_list``).
    company_list: set[str] | None = None
    company_list_missing: bool = False  # that list is gone from HubSpot: companies are held


class LifecycleTransitions:
    def __init__(self, contacts: ContactSync) -> None:
        self.contacts = contacts
        self.ctx = contacts.ctx
        self._refused_row = SyncCursor.objects.filter(
            integration=self.ctx.integration, stream=REFUSED_STREAM
        ).first()
        # The stages HubSpot refused, by object type: {"contacts": {hubspot_id: stage}, …}.
        self.refused: dict[str, dict[str, str]] = dict(
            (self._refused_row.seen or {}) if self._refused_row else {}
        )
        # Where this cycle's read of opportunities begins (see ``streams``).
        self.read_from: datetime | None = None
        # HubSpot's own stage order by object type, read when a record has a custom stage.
        self._ranks: dict[str, dict[str, int]] = {}
        self.moves: CycleMoves = contacts.lifecycle_moves
        # Transitions on, but an object they read is one the user may not use (see the
        # module's docstring): nothing is read now, all is caught up once access is back.
        self.held = bool(getattr(self.ctx, "objects_held", frozenset()) & LIFECYCLE_OBJECTS)

    def streams(self) -> list[SoqlStream]:
        integration = self.ctx.integration
        role_stream, opportunity_stream = LIFECYCLE_STREAMS
        roles = Cursor.load(integration, role_stream)
        opportunities = Cursor.load(integration, opportunity_stream)
        # Where this cycle's read of opportunities begins (the cursor moves page by page).
        self.read_from = opportunities.since
        # No position and nothing seen (not even a hold): neither stream handled an event yet.
        self.moves.first_read = all(
            c.row.position is None and not c.row.seen for c in (roles, opportunities)
        )
        return [
            SoqlStream("OpportunityContactRole", ROLE_FIELDS, roles),
            SoqlStream("Opportunity", OPPORTUNITY_FIELDS, opportunities),
        ]

    def newly_won(
        self, opportunity: dict, cursor: Cursor, off_until: datetime | None = None
    ) -> bool:
        """Won by a stage change not applied yet (spec §7: the opportunity *becomes* Closed
        Won): a later edit of a long-won opportunity moves nobody forward again, e.g. a
        contact a marketer moved back on purpose. A change older than where this read began
        was applied when it was read; one inside the overlap, unless its mark says so (see
        ``mark_won``). Roles added after the win count through the role stream. Without the
        stage change's time, every won one counts."""
        if not opportunity.get("IsWon"):
            return False
        changed = parse_time(opportunity.get("LastStageChangeDate"))
        if changed is None:
            return True
        if self.read_from is not None and changed < self.read_from:
            return False
        if off_until is not None and changed < off_until:
            return False  # won while transitions were off (spec §7: never applies)
        return cursor.row.seen.get(WON + opportunity["Id"]) != _iso(changed)

    @staticmethod
    def mark_won(cursor: Cursor, won: list[dict]) -> None:
        """Remember the wins applied, by their stage change's time, beside the versions the
        cursor keeps inside its overlap (and dropped with them)."""
        for opportunity in won:
            changed = parse_time(opportunity.get("LastStageChangeDate"))
            if changed is not None:
                cursor.row.seen[WON + opportunity["Id"]] = _iso(changed)

    def hold(self, moment: datetime) -> None:
        """Transitions are off: their streams' cursors move to ``moment`` (Salesforce's time
        this cycle), and events stamped before it never apply once transitions are on (spec
        §7: when No, opportunity events never change stages). Without it, switching them on
        would read every event since they went off. No Salesforce call; one write a cycle."""
        until = moment + timedelta(seconds=1)  # Salesforce's Date header counts whole seconds
        changes = {
            "checked_at": until,
            "seen": {OFF_UNTIL: until.astimezone(UTC).isoformat()},
            "updated_at": timezone.now(),
        }
        rows = SyncCursor.objects.filter(
            integration=self.ctx.integration, stream__in=LIFECYCLE_STREAMS
        )
        if rows.update(**changes) < len(LIFECYCLE_STREAMS):
            for stream in LIFECYCLE_STREAMS:
                SyncCursor.objects.update_or_create(
                    integration=self.ctx.integration, stream=stream, defaults=changes
                )

    def handle(self, stream: SoqlStream, records: list[dict]) -> None:
        if self.moves.first_read and self.moves.linked_before is None:
            # Contacts linked by now meet every event of theirs linked (``_streamed``).
            self.moves.linked_before = self._newest_link()
        versions = [Version.of(r["Id"], parse_time(r.get("SystemModstamp")), r) for r in records]
        off_until = parse_time(stream.cursor.row.seen.get(OFF_UNTIL))
        fresh = [
            r
            for r, version in zip(records, versions, strict=True)
            if not r.get("IsDeleted")
            and not stream.cursor.seen(version)
            and not (off_until and version.stamp and version.stamp < off_until)
        ]
        won: list[dict] = []  # opportunities whose win this page applies
        if stream.sobject == "OpportunityContactRole":
            roles = [(r["ContactId"], r["OpportunityId"]) for r in fresh if r.get("ContactId")]
            states = self._opportunities({opp for _, opp in roles})
        else:
            won = [r for r in fresh if self.newly_won(r, stream.cursor, off_until)]
            states = {r["Id"]: r for r in fresh}
            roles = [
                (r["ContactId"], r["OpportunityId"]) for r in self._roles_of([o["Id"] for o in won])
            ]
        targets = self._targets(roles, states)
        if targets:
            self.apply(targets)
        with transaction.atomic():
            stream.cursor.advance(versions)
            if won:
                self.mark_won(stream.cursor, won)
                stream.cursor.row.save(update_fields=["seen", "updated_at"])

    @staticmethod
    def _targets(roles: list[tuple[str, str]], states: dict[str, dict]) -> dict[str, str]:
        """The stage each contact's roles give it (``roles``: (contact, opportunity) pairs;
        ``states``: the opportunities by id): *customer* for a won one, else *opportunity*
        for an open one."""
        targets: dict[str, str] = {}
        for contact_id, opportunity_id in roles:
            opportunity = states.get(opportunity_id)
            if not opportunity:
                continue
            stage = (
                "customer"
                if opportunity.get("IsWon")
                else ("opportunity" if not opportunity.get("IsClosed") else None)
            )
            if stage and later(stage, targets.get(contact_id)):
                targets[contact_id] = stage
        return targets

    def newly_linked(self) -> None:
        """Salesforce contacts linked since the last look get the stage their opportunities
        give them now (spec §7, retroactive): an event that came while a contact had no
        HubSpot partner (its HubSpot create failed, or a HubSpot contact with its email came
        later) found nobody to move; so do linked contacts that entered the inclusion list
        this cycle. Run at the end of a cycle, so a retry's links count at once. One
        composite read per 1,500 such contacts for their roles and one for the
        opportunities, no call without them. While transitions are off the mark just moves
        on: links made meanwhile get nothing, as that time's events. While ``held`` neither
        happens: the links made meanwhile are looked at once access is back."""
        if self.held and self.ctx.settings.lifecycle_transitions:
            return
        integration = self.ctx.integration
        links = RecordLink.objects.filter(integration=integration, object="contacts")
        row = SyncCursor.objects.filter(integration=integration, stream=LINKED_STREAM).first()
        after = (row.seen or {}).get("after") if row else None
        if after is None or not self.ctx.settings.lifecycle_transitions:
            # First look, or switched off: links made so far stay as they are; newer ones count.
            newest = self._newest_link()
            if row is None or after != newest:
                SyncCursor.objects.update_or_create(
                    integration=integration,
                    stream=LINKED_STREAM,
                    defaults={"seen": {"after": newest}},
                )
            return
        new = list(
            links.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "salesforce_id", "salesforce_type")
        )
        contacts = {
            i for pk, i, sobject in new if sobject == "Contact" and not self._streamed(pk)
        }  # leads have no roles
        # Linked contacts that entered the inclusion list this cycle: the list held their
        # stages back (spec §6.5), now they receive them.
        joined = sorted(self.contacts._joined)
        for start in range(0, len(joined), 500):
            contacts.update(
                i
                for pk, i in links.filter(
                    hubspot_id__in=joined[start : start + 500], salesforce_type="Contact"
                ).values_list("pk", "salesforce_id")
                if not self._streamed(pk)
            )
        if contacts:
            roles = [
                (r["ContactId"], r["OpportunityId"])
                for r in salesforce_by_ids(
                    self.ctx.salesforce,
                    "OpportunityContactRole",
                    ["ContactId", "OpportunityId"],
                    sorted(contacts),
                    key="ContactId",
                )
            ]
            states = self._opportunities({opportunity for _, opportunity in roles})
            targets = self._targets(roles, states)
            if targets:
                self.apply(targets)
        if new:
            row.seen = {"after": new[-1][0]}
            row.save(update_fields=["seen", "updated_at"])

    def _newest_link(self) -> int:
        return (
            RecordLink.objects.filter(
                integration=self.ctx.integration, object="contacts"
            ).aggregate(newest=Max("pk"))["newest"]
            or 0
        )

    def _streamed(self, link: int) -> bool:
        """Whether the streams give the contact of ``link`` (its pk) every stage its roles
        and opportunities give: they handled no event before this cycle's first read, and it
        was linked (and in or out of the list, as now) before they handled one, so each of its
        events meets it linked, this cycle or later. Otherwise an event may have found it
        unlinked: its roles are read (e.g. a role from before this cycle's read window)."""
        moves = self.moves
        return moves.first_read and (moves.linked_before is None or link <= moves.linked_before)

    def _opportunities(self, ids: set[str]) -> dict[str, dict]:
        """The opportunities by id, as the stage decisions read them."""
        return {
            o["Id"]: o
            for o in salesforce_by_ids(
                self.ctx.salesforce, "Opportunity", OPPORTUNITY_FIELDS, sorted(ids)
            )
        }

    def _roles_of(self, opportunity_ids: list[str]) -> list[dict]:
        if not opportunity_ids:
            return []
        soql = (
            "SELECT ContactId, OpportunityId FROM OpportunityContactRole "  # noqa: S608
            f"WHERE OpportunityId IN ({', '.join(soql_string(i) for i in opportunity_ids)})"
        )
        return with_retries(lambda: self.ctx.salesforce.query_all(soql))

    def apply(self, targets: dict[str, str]) -> None:
        """Move linked HubSpot contacts forward (and their companies' contacts, if asked),
        then their primary companies when the company pair is on."""
        links = RecordLink.objects.filter(
            integration=self.ctx.integration, object="contacts", salesforce_id__in=list(targets)
        )
        stages = self._in_list({link.hubspot_id: targets[link.salesforce_id] for link in links})
        # At that stage or beyond already this cycle (e.g. the streams moved it before
        # ``newly_linked`` looks): no read or write again, its colleagues and company followed.
        reached = self.moves.reached
        stages = {i: stage for i, stage in stages.items() if later(stage, reached.get(i))}
        if not stages:
            return
        transitioned = stages  # the contacts the opportunities moved, before any fan-out
        if self.ctx.settings.lifecycle_company_fanout:
            stages = self._in_list(self._fan_out(stages))
        companies_on = "companies" in pairs_switched_on(integration=self.ctx.integration)
        properties = ["lifecyclestage", *LABEL_PROPERTIES["contacts"]]
        if companies_on:
            # The primary company comes with the same read: no extra call to find it.
            properties.append(COMPANY_PROPERTY)
        hubspot = self.ctx.hubspot
        current = hubspot_batch_read(
            hubspot, object_type="contacts", ids=list(stages), properties=properties
        )
        at = self._write("contacts", stages, current.results)
        if companies_on:
            self._move_companies(transitioned, current.results)
        for i, stage in transitioned.items():
            if i in at and later(stage, reached.get(i)):
                reached[i] = stage

    def _in_list(self, stages: dict[str, str]) -> dict[str, str]:
        """Contacts outside the inclusion list receive no Salesforce updates, stages included
        (spec §6.5): the list's members are read once a cycle, as for the other updates."""
        kept = {i: stage for i, stage in stages.items() if self.contacts.in_list(i)}
        if len(kept) < len(stages):
            self.contacts.counts["skipped_outside_list"] += len(stages) - len(kept)
        return kept

    def _move_companies(self, transitioned: dict[str, str], contacts: list[Any]) -> None:
        """Each transitioned contact's primary company takes its stage, forward-only (spec §7,
        "when companies sync"). Fanned-out colleagues don't count: their primary company may
        be another one, which no opportunity of theirs moved. The company follows even when
        HubSpot refused the contact's own stage (that one is tried again by itself)."""
        stage_of_company: dict[str, str] = {}
        for contact in contacts:
            stage = transitioned.get(str(contact.id))
            company = (contact.properties or {}).get(COMPANY_PROPERTY)
            if stage and company and later(stage, stage_of_company.get(company)):
                stage_of_company[company] = stage
        stage_of_company = self._companies_in_list(stage_of_company)
        if not stage_of_company:
            return
        current = hubspot_batch_read(
            self.ctx.hubspot,
            object_type="companies",
            ids=sorted(stage_of_company),
            properties=["lifecyclestage", *LABEL_PROPERTIES["companies"]],
        )
        self._write("companies", stage_of_company, current.results)

    def _companies_in_list(self, stages: dict[str, str]) -> dict[str, str]:
        """Companies outside the company inclusion list receive no Salesforce updates, stages
        included (spec §6.5; skipped, as the company sync counts them). Its members are read
        once a cycle (shared with the company sync), only when a company would move; a list
        gone from HubSpot holds every company, as the company sync does (which says so on its
        run)."""
        list_id = object_settings_get(
            integration=self.ctx.integration, object_name="companies"
        ).inclusion_list_id
        if not list_id or not stages:
            return stages
        if self.moves.company_list is None:
            members = list_members_once(self.ctx, list_id)
            self.moves.company_list = members if members is not None else set()
            self.moves.company_list_missing = members is None
        kept = {i: stage for i, stage in stages.items() if i in self.moves.company_list}
        if len(kept) < len(stages):
            self.contacts.counts["skipped_outside_list"] += len(stages) - len(kept)
        return kept

    def retry_refused(self) -> None:
        """The stages HubSpot refused before, written again (every cycle: one batch read and
        at most one batch write per 100 records, no Salesforce call), forward-only. With
        transitions switched off (or, for companies, the company pair), they are dropped and
        their errors end: nothing would ever write them."""
        if not any(self.refused.values()):
            return
        on = self.ctx.settings.lifecycle_transitions
        companies_on = on and "companies" in pairs_switched_on(integration=self.ctx.integration)
        for object_type, allowed in (("contacts", on), ("companies", companies_on)):
            pending = self.refused.get(object_type) or {}
            if not pending:
                continue
            if not allowed:
                self._settle(object_type, ended=list(pending), failed={})
                continue
            ids = sorted(pending)[:RETRY_BATCH]
            if object_type == "companies":
                # A company that left the company inclusion list receives the stage no more:
                # its error ends as not syncing (held while the list is gone from HubSpot).
                kept = self._companies_in_list({i: pending[i] for i in ids})
                if not self.moves.company_list_missing:
                    self._settle(
                        object_type,
                        ended=[i for i in ids if i not in kept],
                        failed={},
                        ended_because=SyncError.EndedBecause.NOT_SYNCING,
                    )
                ids = sorted(kept)
                if not ids:
                    continue
            current = hubspot_batch_read(
                self.ctx.hubspot,
                object_type=object_type,
                ids=ids,
                properties=["lifecyclestage", *LABEL_PROPERTIES[object_type]],
            )
            self._write(object_type, {i: pending[i] for i in ids}, current.results)

    def _write(self, object_type: str, wanted: dict[str, str], current: list[Any]) -> set[str]:
        """Give the HubSpot records of ``wanted`` (id -> stage; ``current``: as read now) their
        stage where it moves them forward, 100 a call, each record failing alone. A stage
        refused earlier and still ahead is written along. A refused record gets its error and
        its stage is kept for the next cycle; a record at its stage now (written, or there
        already) or gone ends its error. Returns the records at (or beyond) their stage now."""
        refused = self.refused.get(object_type) or {}
        found = {str(o.id): o for o in current}
        stages = {
            i: refused[i] if i in refused and later(refused[i], stage) else stage
            for i, stage in wanted.items()
        }
        now = {i: (o.properties or {}).get("lifecyclestage") or "" for i, o in found.items()}
        rank = self._rank(object_type, set(now.values()))
        updates = [
            {"id": i, "properties": {"lifecyclestage": stage}}
            for i, stage in stages.items()
            if i in found and later(stage, now[i], rank)
        ]
        failed: dict[str, Any] = {}
        if updates:
            _, failed = self.contacts.hubspot_batch(
                "update", updates, key=lambda i: i["id"], object_type=object_type
            )
            self.contacts.counts["lifecycle_updates"] += len(updates) - len(failed)
            landed = [u["id"] for u in updates if u["id"] not in failed]
            if object_type == "contacts":  # read back next cycle: ours (run counts)
                self.contacts.written.update(f"hubspot:{i}" for i in landed)
            else:  # read back by the company sync: ours (its run counts)
                keys = [f"hubspot:{i}" for i in landed]
                at = http_date(self.ctx.hubspot.server_date)
                writes_noted(self.ctx.integration, object_type, keys, at)
        self._settle(
            object_type,
            ended=[i for i in wanted if i in refused and i not in failed],
            failed={i: (stages[i], error, found[i]) for i, error in failed.items()},
        )
        return {i for i in wanted if i in found and i not in failed}

    def _rank(self, object_type: str, stages: set[str]) -> dict[str, int]:
        """The stage order to move ``object_type`` records by: the standard one, unless one of
        ``stages`` (the records' current stages) is a custom stage, when HubSpot's own order
        is read (once a cycle; one HubSpot call, no Salesforce call)."""
        if all(not s or s in RANK for s in stages):
            return RANK
        if object_type not in self._ranks:
            prop = with_retries(
                lambda: self.ctx.hubspot.property_get(
                    object_type=object_type, name="lifecyclestage"
                )
            )
            self._ranks[object_type] = stage_rank(prop)
        return self._ranks[object_type]

    def _settle(
        self,
        object_type: str,
        *,
        ended: list[str],
        failed: dict[str, tuple[str, Any, Any]],
        ended_because: str = SyncError.EndedBecause.SYNCED,
    ) -> None:
        """Store, in one transaction, an error for each refused record (``failed``: id ->
        (stage, HubSpot's error, the record as read)) and its stage for the next cycle; and
        the end of the errors and kept stages of ``ended``."""
        if not ended and not failed:
            return
        pending = dict(self.refused.get(object_type) or {})
        for i in ended:
            pending.pop(i, None)
        for i, (stage, _, _) in failed.items():
            pending[i] = stage
        links = (
            {
                link.hubspot_id: link
                for link in RecordLink.objects.filter(
                    integration=self.ctx.integration,
                    object=object_type,
                    hubspot_id__in=list(failed),
                )
            }
            if failed
            else {}
        )
        with transaction.atomic():
            for i, (_, error, record) in failed.items():
                self._record_refusal(object_type, record, error, links.get(i))
            if failed:
                # Written again every cycle by ``retry_refused``: no pair's retry queue holds
                # them (a company's retry would sync the company and call the error ended).
                SyncError.objects.filter(
                    integration=self.ctx.integration,
                    object=object_type,
                    error_type=LIFECYCLE_ERROR,
                    record_key__in=[f"hubspot:{i}" for i in failed],
                    resolved_at__isnull=True,
                ).update(next_retry_at=None)
            services.sync_errors_resolve_type(
                integration=self.ctx.integration,
                object_name=object_type,
                error_type=LIFECYCLE_ERROR,
                record_keys=[f"hubspot:{i}" for i in ended],
                ended_because=ended_because,
            )
            self.refused[object_type] = pending
            refused = {k: v for k, v in self.refused.items() if v}
            if self._refused_row is None:
                self._refused_row = SyncCursor.objects.create(
                    integration=self.ctx.integration, stream=REFUSED_STREAM, seen=refused
                )
            else:
                self._refused_row.seen = refused
                self._refused_row.save(update_fields=["seen", "updated_at"])

    def _record_refusal(
        self, object_type: str, record: Any, error: Any, link: RecordLink | None
    ) -> None:
        """A stage HubSpot refused: an error on the HubSpot record, with HubSpot's message."""
        code, message, _ = hubspot_error_parts(error)
        sobject = link.salesforce_type if link else ""
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=object_type,
            error_type=LIFECYCLE_ERROR,
            direction="to_hubspot",
            record_key=f"hubspot:{record.id}",
            hubspot_id=str(record.id),
            salesforce_id=link.salesforce_id if link else "",
            salesforce_type=sobject,
            record_label=Pair(sobject, None, record).label,
            code=code,
            message=message or "HubSpot refused the lifecycle stage",
            fields=["lifecyclestage"],
        )
        self.contacts.counts["failed"] += 1

    def _fan_out(self, stages: dict[str, str]) -> dict[str, str]:
        hubspot = self.ctx.hubspot
        companies = hubspot_associations_read(hubspot, "contacts", CONTACT_TO_COMPANY, list(stages))
        stage_of_company: dict[str, str] = {}
        for row in companies.results or []:
            for to in row.to or []:
                company = str(to.to_object_id)
                stage = stages[str(row._from.id)]
                if later(stage, stage_of_company.get(company)):
                    stage_of_company[company] = stage
        if not stage_of_company:
            return stages
        people = hubspot_associations_read(
            hubspot, CONTACT_TO_COMPANY, "contacts", list(stage_of_company)
        )
        result = dict(stages)
        for row in people.results or []:
            stage = stage_of_company[str(row._from.id)]
            for to in row.to or []:
                contact = str(to.to_object_id)
                if later(stage, result.get(contact)):
                    result[contact] = stage
        return result
