"""Salesforce cases → HubSpot tickets (spec §14), with the case's account and contact as the
ticket's company and contact associations.

One cycle reads Salesforce's case changes (one ``queryAll`` on ``SystemModstamp``, through
:func:`stream_first_pages`) in batches, on the shared ``PairSync`` machinery: a case whose
mapped values and associations equal the link's snapshot costs nothing; the others are
written with one HubSpot batch **upsert** (100 a call) keyed by ``salesforce_case_id_sync``,
a unique ticket property the cycle creates once per portal, so a crash after the write and
before the link is stored finds the same ticket next time (no duplicates).

Pipelines: every case process (a Case record type; ``master`` for cases without one) has a
HubSpot ticket pipeline, and ``Case.Status`` maps to that pipeline's stages through the table
in ``TicketSettings.pipelines``. A process without a pipeline gets a new one (its stages are
the case statuses, those Salesforce's ``CaseStatus`` says close a case in the CLOSED ticket
state, read once and cached, and our pipelines' stages follow them with the hourly describe
read); a status that pipeline lacks is added to it as a stage, and while
that fails (a blip, a refusal) the case waits with the typed error, its ticket never put in
another stage. A chosen existing pipeline is matched by stage label instead, and a status it
has no stage for leaves a *Picklists* error on the case (a new ticket goes to the pipeline's
first stage meanwhile) and is noted on the table (``unmapped``), so the wizard offers it even
when the Case describe doesn't list it. A create is marked before it is sent; an attempt that
finds the mark (the answer was lost) adopts the pipeline of the label it would create instead
of making a second. A pipeline that can't be created is asked for once a cycle, not once per
case; one HubSpot refuses (its tier caps ticket pipelines) leaves a *pipeline limit* error with
HubSpot's message on each of its cases and is asked for again hourly (``PIPELINES_STATE``). A
stage or pipeline deleted in HubSpot since is found when HubSpot refuses a write naming it
(``stage_gone_resent``): the table forgets it and the write goes again. The
Case describe is read again hourly: an org's first case record type (Salesforce has no
``RecordTypeId`` before it) moves its cases to their pipeline.

Associations (settings ``sync_account_association``, ``sync_contact_association``):
``Case.AccountId`` → the ticket's company (through the companies links) and ``Case.ContactId``
→ its contact (through the contacts links). A case whose account or contact hasn't synced yet
gets a *Waiting for account/contact to sync* error and is associated as soon as that link
exists (checked every cycle against the links, no API call), never blocking its batch. While
the partner's own pair is off (company sync starts off), its account or contact can't sync:
the association is skipped without an error (counted as
``associations_skipped_company_sync_off`` / ``..._contact_sync_off``, and marked on the link)
and made once that pair is on and the partner has synced. An association switched on after
setup reaches the tickets synced before it (their cases are read once); one switched off ends
its waits.

Deletes: a deleted case drops its link; with ``salesforce_delete == "delete"`` the ticket is
archived too (one gone even from the recycle bin, whose delete no stream reads, is found when
Salesforce refuses its ticket's two-way edit, ``PairSync.salesforce_updates``); a deleted
ticket is created again when its case next changes (every value sent; an upsert answering
with a ticket other than the linked one counts as such a re-create).

HubSpot → Salesforce: the 2023 sync is one-way, and so is every default mapping. A mapping an
admin sets to *Two-way* carries HubSpot edits of linked tickets to their case (one ticket
search per cycle, only while such a mapping exists); tickets made in HubSpot never create cases,
and associations made in HubSpot stay there (a case's account and contact are Salesforce's).
An edit Salesforce refuses keeps its error on the ticket (``hubspot:`` key); its retry reads the
ticket again and carries the edit, never the case's older value over it. A two-way field the
integration user may no longer edit (field-level security) is a *Field permission* error on the
ticket; it, and a stage no case status maps to, stay open while the ticket holds the edit,
whatever else of the case reaches the ticket meanwhile. A two-way owner with no matching active
Salesforce user is reset on the ticket to the case's owner (spec §11).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.utils import timezone

from .. import services
from ..error_types import classify
from ..errors import (
    AuthExpired,
    BadRequest,
    ConnectorError,
    PermissionDenied,
    RateLimited,
    RemoteError,
    TransientError,
)
from ..models import (
    ObjectSync,
    RecordLink,
    SchemaCache,
    SyncCursor,
    SyncError,
    System,
)
from ..selectors import pairs_switched_on
from .changes import (
    Cursor,
    SoqlStream,
    parse_time,
    salesforce_by_ids,
    salesforce_pages,
    stream_first_pages,
    with_retries,
)
from .context import CycleContext
from .currencies import AmountNotConvertible
from .pair import (
    MERGED_IDS,
    OWNER_PROPERTY,
    Pair,
    PairSync,
    association_input,
    dissociation_input,
    hubspot_error_parts,
    hubspot_version,
    merge_survivors,
    record_ids,
    salesforce_version,
)
from .pipelines import hubspot_pipeline_create, hubspot_stage_create, hubspot_stage_update
from .rules import Side, latest_wins
from .values import (
    CURRENCY_FIELD,
    ZONED_DATE,
    ValueConversionError,
    normalize,
    to_salesforce,
)

log = logging.getLogger(__name__)

OBJECT = "tickets"
SOBJECT = "Case"
# In a link's snapshot: the case's currency as its last read had it, which a ticket's amount
# edit goes to the case in (tickets' edits are written without reading the case).
CASE_CURRENCY = "__currency"
MODIFIED = "hs_lastmodifieddate"
KEY_PROPERTY = "salesforce_case_id_sync"  # unique: idempotent upserts of new tickets
PIPELINE = "hs_pipeline"
STAGE = "hs_pipeline_stage"
MASTER = "master"  # the process of cases without a record type
SYSTEM_FIELDS = [
    "Id",
    "IsDeleted",
    "MasterRecordId",
    "SystemModstamp",
    "LastModifiedDate",
    "CaseNumber",
    "Subject",
    "Status",
    "RecordTypeId",
    "AccountId",
    "ContactId",
    "OwnerId",
]
TICKET_TO_COMPANY = 339  # HUBSPOT_DEFINED association type ids (v4)
TICKET_TO_CONTACT = 16
BATCH = 1000
WAITING = {"account": "waiting_for_account", "contact": "waiting_for_contact"}
# The pair whose links an association needs, and what a cycle counts while that pair is off.
PARTNER_PAIRS = {"account": "companies", "contact": "contacts"}
SKIPPED = {
    "account": "associations_skipped_company_sync_off",
    "contact": "associations_skipped_contact_sync_off",
}
# Case.Origin → the ticket's source_type (HubSpot's options are codes).
ORIGINS = {"Phone": "PHONE", "Email": "EMAIL", "Web": "FORM", "Chat": "CHAT"}
CASE_ORIGINS = {code: origin for origin, code in ORIGINS.items()}
# What the pipelines' creation left, kept in ``SchemaCache`` (HubSpot): ``refused``, process ->
# {type, code, message, at} for pipelines HubSpot refused (its tier caps ticket pipelines),
# asked for again hourly as deals' are; ``creating``, the processes whose create was sent but
# not yet stored (a lost answer: the next attempt looks for the pipeline first); ``aligned``,
# our pipeline id -> the CaseStatus flags its stages' ticket states last matched (see
# TicketSync.align_stage_states).
PIPELINES_STATE = "tickets:pipelines"
# Salesforce's CaseStatus flags, kept in ``SchemaCache`` (HubSpot, beside PIPELINES_STATE: the
# Salesforce rows are describes): see case_status_flags.
CASE_STATUS = "tickets:case_statuses"
REFUSED_RETRY = timedelta(hours=1)
CASE_SCHEMA_CHECK = timedelta(hours=1)  # see TicketSync.follow_case_schema
ASSOCIATIONS_ON = "tickets:associations"  # the association kinds on last cycle (``seen``)


# --- processes, statuses and pipelines (also used by the Tickets-tab wizard) ---------------
def is_closed_status(status: str) -> bool:
    """Whether a case status's name says it closes the case (the standard value set's
    ``Closed``, and any custom status that says so): what decides where Salesforce's
    ``CaseStatus`` rows can't be read (see ``case_status_flags``)."""
    return "closed" in (status or "").casefold()


def case_status_flags(integration, salesforce, *, refresh: bool = False) -> dict[str, bool] | None:
    """Case status -> whether it closes the case, from Salesforce's ``CaseStatus`` rows
    (``IsClosed``: "Resolved" or "Cancelled" close a case as much as "Closed"). Cached with
    the schema (``CASE_STATUS``): one query the first time, and after the hourly Case describe
    read or with ``refresh``. None where the object can't be read (no access): the status
    names decide then. A blip raises (nothing is guessed into a stage for good)."""
    row = SchemaCache.objects.filter(
        integration=integration, system=System.HUBSPOT, object=CASE_STATUS
    ).first()
    if row is not None and isinstance(row.data, dict) and not refresh:
        flags = row.data.get("closed")
        return dict(flags) if isinstance(flags, dict) else None
    try:
        records = with_retries(
            lambda: salesforce.query_all("SELECT ApiName, IsClosed FROM CaseStatus")
        )
    except (TransientError, RateLimited, AuthExpired):
        raise
    except RemoteError as error:  # INVALID_TYPE, insufficient access: names decide
        log.info("CaseStatus unavailable (%s); status names decide", error)
        flags = None
    else:
        flags = {r["ApiName"]: bool(r.get("IsClosed")) for r in records if r.get("ApiName")}
    SchemaCache.objects.update_or_create(
        integration=integration,
        system=System.HUBSPOT,
        object=CASE_STATUS,
        defaults={"data": {"closed": flags}, "fetched_at": timezone.now()},
    )
    return flags


def stage_by_label(stages: list[dict], status: str) -> str | None:
    """The id of the stage (``{"id", "label"}``) whose label is the case status, matched
    case-insensitively; None when none is (the wizard and the engine match alike)."""
    wanted = status.casefold()
    return next((s["id"] for s in stages if s["label"].casefold() == wanted), None)


def case_statuses(integration) -> list[str]:
    """Case.Status picklist values in Salesforce's order, from the cached describe."""
    row = SchemaCache.objects.filter(
        integration=integration, system=System.SALESFORCE, object=SOBJECT
    ).first()
    if row is None:
        services.schema_refresh(integration=integration, object_name=OBJECT)
        row = SchemaCache.objects.filter(
            integration=integration, system=System.SALESFORCE, object=SOBJECT
        ).first()
    return status_values(row.data if row else [])


def status_values(fields: list[dict]) -> list[str]:
    """Case.Status picklist values in Salesforce's order, from a describe's ``fields``."""
    status = next((f for f in fields if f["name"] == "Status"), {})
    return list(status.get("picklistValues") or [])


def case_processes(salesforce) -> list[dict[str, str]]:
    """``[{"key", "label"}]``: ``master`` (cases without a record type), then every active
    Case record type (one query)."""
    records = with_retries(
        lambda: salesforce.query_all(
            "SELECT Id, Name FROM RecordType WHERE SobjectType = 'Case' AND IsActive = true "
            "ORDER BY Name"
        )
    )
    return [{"key": MASTER, "label": "Master"}] + [
        {"key": r["Id"], "label": r.get("Name") or r["Id"]} for r in records
    ]


def partner_pairs_off(integration) -> set[str]:
    """The association kinds (``account``, ``contact``) whose partner pair is off (company
    sync starts off; contact sync starts on), so their records can't sync (one query)."""
    on = pairs_switched_on(integration=integration)
    return {kind for kind, pair in PARTNER_PAIRS.items() if pair not in on}


def paused_stream(kind: str) -> str:
    """The row that says cases have an association paused while ``kind``'s pair was off, so
    ``retry_waiting`` looks for them once it is on (and not every cycle)."""
    return f"tickets:paused:{kind}"


def pipeline_label(process_label: str) -> str:
    return f"Salesforce cases: {process_label}"


def pipeline_create(
    hubspot, *, label: str, statuses: list[str], closed: Callable[[str], bool] = is_closed_status
) -> dict:
    """A new HubSpot ticket pipeline whose stages are the case statuses (``closed`` ones in
    the CLOSED ticket state); returns the settings entry (``pipeline``, ``stages`` by status,
    ``managed``)."""
    created = hubspot_pipeline_create(
        hubspot,
        OBJECT,
        label=label,
        order=100,
        stages=[(s, {"ticketState": _state(closed(s))}) for s in statuses or ["New", "Closed"]],
    )
    stages = {s.label: str(s.id) for s in created.stages}
    return {"pipeline": str(created.id), "stages": stages, "managed": True}


def stage_create(hubspot, *, pipeline_id: str, status: str, order: int, closed: bool) -> str:
    created = hubspot_stage_create(
        hubspot,
        OBJECT,
        pipeline_id,
        label=status,
        order=order,
        metadata={"ticketState": _state(closed)},
    )
    return str(created.id)


def _state(closed: bool) -> str:
    return "CLOSED" if closed else "OPEN"


def write_failure_kind(error: RemoteError) -> str:
    """How a failed pipeline or stage write reads: "transient" (a blip: tried again next
    cycle), "refused" (HubSpot said no, e.g. its tier's limit), else the error's type."""
    if isinstance(error, TransientError | RateLimited):
        return "transient"
    typed = classify(
        system="hubspot", status=error.status, code=error.code, message=error.message
    ).key
    if isinstance(error, BadRequest | PermissionDenied) and typed not in (
        "object_permission",
        "hubspot_scope",
        "authentication",
    ):
        return "refused"
    return typed


def hubspot_pipelines(hubspot) -> list[dict]:
    """HubSpot's ticket pipelines as ``[{"id", "label", "stages": [{"id", "label",
    "closed"}]}]`` (one call)."""
    return [
        {
            "id": str(p.id),
            "label": p.label,
            "stages": [
                {
                    "id": str(s.id),
                    "label": s.label,
                    "closed": (s.metadata or {}).get("ticketState") == "CLOSED"
                    or (s.metadata or {}).get("isClosed") == "true",
                }
                for s in sorted(p.stages or [], key=lambda s: s.display_order or 0)
                if not s.archived
            ],
        }
        for p in with_retries(lambda: hubspot.pipelines_get_all(object_type=OBJECT))
        if not p.archived
    ]


def pipelines_store(integration, pipelines: dict) -> None:
    """Save the process → pipeline table on the pair's options (engine-maintained entries:
    new pipelines and stages; the wizard saves through ``object_settings_update``)."""
    with transaction.atomic():
        row = ObjectSync.objects.select_for_update().get(integration=integration, object=OBJECT)
        row.options = {**(row.options or {}), "pipelines": pipelines}
        row.save(update_fields=["options", "updated_at"])


# --- the cycle ------------------------------------------------------------------------------
CASE_STREAM = "salesforce:Case"


class TicketPair(Pair):
    """A case and its ticket, named on Sync health by the case number and subject (people
    have names and emails; cases and tickets have neither)."""

    @property
    def label(self) -> str:
        record = self.salesforce or {}
        subject = record.get("Subject") or self.hs_props.get("subject") or ""
        return " ".join(x for x in (record.get("CaseNumber") or "", subject) if x)


class TicketSync(PairSync):
    object_name = OBJECT
    modified_property = MODIFIED
    salesforce_streams = (CASE_STREAM,)
    errors_ended_by_own_check = tuple(WAITING.values())  # see retry_waiting
    relinks_restored = True  # a restored case syncs as the old pair (see PairSync)

    def __init__(self, ctx: CycleContext) -> None:
        super().__init__(ctx)
        self.case_fields_known = ctx.salesforce_fields.get(SOBJECT, {})
        self.pipelines: dict = dict(getattr(self.settings, "pipelines", None) or {})
        self._key_ready = KEY_PROPERTY in ctx.hubspot_properties
        self._record_types: dict[str, str] | None = None
        self._hubspot_pipelines: list[dict] | None = None
        self._statuses: list[str] | None = None
        # Salesforce's CaseStatus flags (see status_closed), as read this cycle.
        self._closed_flags: dict[str, bool] | None = None
        self._closed_flags_read_again = False
        # Why a process's pipeline isn't there: asked for once a cycle at most.
        self._pipeline_failures: dict[str, dict[str, str]] = {}
        # Why a (process, status) stage couldn't be added: asked for once a cycle at most;
        # and the cases waiting for such a stage (by case id), see wait_for_pipeline.
        self._stage_failures: dict[tuple[str, str], dict[str, str]] = {}
        self._stage_waits: dict[str, dict[str, str]] = {}
        self._state: dict[str, Any] | None = None  # see PIPELINES_STATE
        self.partners_off = partner_pairs_off(ctx.integration)
        self.mapped_names = {m.hubspot_property: ctx.mapped_field(m, SOBJECT) for m in ctx.mappings}
        # Linked cases whose ticket's two-way stage was moved in HubSpot: their writes leave
        # the stage out (see keep_later_ticket_edits).
        self._stage_kept: set[str] = set()

    def run(self) -> None:
        self.follow_case_schema()
        self.sync_salesforce_changes()
        self.follow_association_toggles()
        self.sync_hubspot_changes()
        self.retry_waiting()
        if self.ctx.retry_allowed:
            self.retry_errored()
        self.writes_remembered()  # the next cycle's case read meets ours (run counts)

    def ensure_key_property(self) -> None:
        """The unique ticket property new tickets are upserted by (one call, once)."""
        if self._key_ready:
            return
        self.hubspot_key_property(
            object_type=OBJECT,
            name=KEY_PROPERTY,
            label="Salesforce case id (sync key)",
            group="ticketinformation",
        )
        self._key_ready = True

    def follow_case_schema(self) -> None:
        """Salesforce has no ``Case.RecordTypeId`` until the org has a case record type: one
        added after the Case describe was cached would leave every case in the master
        pipeline for good (and the wizard without the statuses added since). So the cached
        schema is read again hourly (one call each side); when ``RecordTypeId`` appears, the
        cases that already have a record type are read once (one query) and move to their
        process's pipeline."""
        fetched = (
            SchemaCache.objects.filter(
                integration=self.ctx.integration, system=System.SALESFORCE, object=SOBJECT
            )
            .values_list("fetched_at", flat=True)
            .first()
        )
        if fetched is not None and timezone.now() - fetched < CASE_SCHEMA_CHECK:
            return
        had = "RecordTypeId" in self.case_fields_known
        try:
            services.schema_refresh(integration=self.ctx.integration, object_name=OBJECT)
        except ConnectorError as error:  # tried again next cycle; the cached one serves
            log.warning("reading the Case describe again failed: %s", error)
            return
        row = SchemaCache.objects.get(
            integration=self.ctx.integration, system=System.SALESFORCE, object=SOBJECT
        )
        self.case_fields_known = {f["name"]: f for f in row.data}
        self.ctx.salesforce_fields[SOBJECT] = self.case_fields_known
        self._statuses = None
        # Which statuses close a case is read again with the describe, when next needed.
        SchemaCache.objects.filter(
            integration=self.ctx.integration, system=System.HUBSPOT, object=CASE_STATUS
        ).delete()
        self._closed_flags = None
        self.align_stage_states()
        if had or "RecordTypeId" not in self.case_fields_known:
            return
        self.handle_cases_where("RecordTypeId != null")

    def align_stage_states(self) -> None:
        """Our pipelines' stages are closed where Salesforce's ``CaseStatus`` says their status
        closes a case, and open where it doesn't: pipelines made before the engine read
        ``IsClosed`` have "Resolved" as an open stage, and a status can change in Setup
        without the describe changing. Checked with the hourly Case describe read (one
        CaseStatus query); HubSpot's pipelines are read only when the flags differ from those
        a pipeline last matched. Pipelines chosen in the wizard are the admin's: never
        touched. A failure is tried again at the next read."""
        ours = {
            e["pipeline"]: e
            for e in self.pipelines.values()
            if e.get("managed") and e.get("pipeline")
        }
        if not ours:
            return
        try:
            flags = self.closed_flags()
        except RemoteError as error:
            log.warning("reading CaseStatus to align ticket stages failed: %s", error)
            return
        if not flags:  # CaseStatus can't be read: the names decided, and still do
            return
        aligned = self.state()["aligned"]
        due = [pid for pid in ours if aligned.get(pid) != flags]
        if not due:
            return
        try:
            remote = {
                str(p.id): p
                for p in with_retries(
                    lambda: self.ctx.hubspot.pipelines_get_all(object_type=OBJECT)
                )
            }
        except RemoteError as error:
            log.warning("reading ticket pipelines to align their stages failed: %s", error)
            return
        for pipeline_id in due:
            if self.align_pipeline(ours[pipeline_id], remote.get(pipeline_id), flags):
                aligned[pipeline_id] = dict(flags)
        # (Pipelines no longer ours, e.g. the admin chose another, are forgotten.)
        self.state()["aligned"] = {pid: f for pid, f in aligned.items() if pid in ours}
        self._hubspot_pipelines = None  # read again if a stage is looked for
        self.state_store()

    def align_pipeline(self, entry: dict, pipeline: Any, flags: dict[str, bool]) -> bool:
        """Set the ticket state of the stages of one of our pipelines whose status Salesforce
        closes (or no longer closes); False when HubSpot refused or failed one."""
        if pipeline is None or getattr(pipeline, "archived", False):
            return True  # gone: nothing to align (a case needing it makes a new one)
        stages = {str(s.id): s for s in pipeline.stages or [] if not s.archived}
        done = True
        for status, stage_id in (entry.get("stages") or {}).items():
            stage = stages.get(str(stage_id))
            if stage is None or status not in flags:
                continue
            current = {k: str(v) for k, v in (stage.metadata or {}).items()}
            wanted = {**current, "ticketState": _state(flags[status])}
            if "isClosed" in current:
                wanted["isClosed"] = "true" if flags[status] else "false"
            if wanted == current:
                continue
            try:
                hubspot_stage_update(
                    self.ctx.hubspot, OBJECT, entry["pipeline"], str(stage.id), {"metadata": wanted}
                )
            except RemoteError as error:
                log.warning("aligning ticket stage %r failed: %s", status, error)
                done = False
                continue
            self.counts["stages_updated"] += 1
        return done

    def handle_cases_where(self, where: str) -> set[str]:
        """The cases that meet ``where``, read once (SOQL pages) and handled as changed; their
        ids."""
        soql = f"SELECT {', '.join(self.case_fields())} FROM {SOBJECT} WHERE {where}"  # noqa: S608
        first = with_retries(lambda: self.ctx.salesforce.query(soql))
        read: set[str] = set()
        for records in salesforce_pages(self.ctx.salesforce, first):
            read.update(r["Id"] for r in records)
            self.handle_cases_read(records)
        return read

    def handle_cases_read(self, records: list[dict]) -> None:
        """Cases read outside the change stream, handled as changed (batches of ``BATCH``)."""
        self.counts["read_salesforce"] += len(records)
        for start in range(0, len(records), BATCH):
            self.handle_cases(records[start : start + BATCH], None)

    def follow_association_toggles(self) -> None:
        """An association turned on after tickets synced reaches them without their cases
        having to change: the cases with such a partner are read once (one query, paged)
        and handled as changed, and so are those whose link still remembers one (1,500 a
        call), so a partner cleared while it was off leaves the ticket too. One turned off
        ends its cases' waits, which could never end. Costs a database look a cycle while
        the toggles stay as they were."""
        active = {kind for kind, *_ in self.association_kinds()}
        row, created = SyncCursor.objects.get_or_create(
            integration=self.ctx.integration,
            stream=ASSOCIATIONS_ON,
            defaults={"seen": dict.fromkeys(sorted(active), True)},
        )
        before = set(row.seen or {})
        if created or before == active:
            return
        services.sync_errors_end_types(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_types=[WAITING[kind] for kind in sorted(before - active)],
        )
        turned_on = sorted(active - before)
        if turned_on:
            fields = {"account": "AccountId", "contact": "ContactId"}
            read = self.handle_cases_where(" OR ".join(f"{fields[k]} != null" for k in turned_on))
            # A case whose partner was cleared while the toggle was off isn't in that query,
            # but its ticket still has the association its link remembers.
            remembered = set()
            for kind in turned_on:
                marked = self.links_marked(f"__{kind}").values_list("salesforce_id", flat=True)
                remembered.update(marked)
            self.handle_cases_read(
                salesforce_by_ids(
                    self.ctx.salesforce, SOBJECT, self.case_fields(), sorted(remembered - read)
                )
            )
        row.seen = dict.fromkeys(sorted(active), True)
        row.save(update_fields=["seen", "updated_at"])

    # --- reading --------------------------------------------------------------------------
    def case_fields(self) -> list[str]:
        return self.fields_to_read(SOBJECT, SYSTEM_FIELDS)

    def sync_salesforce_changes(self) -> None:
        stream = SoqlStream(
            SOBJECT, self.case_fields(), Cursor.load(self.ctx.integration, CASE_STREAM)
        )
        (first_page,), read_started = stream_first_pages(self.ctx, [stream], include_deleted=True)
        chunk: list[dict] = []
        for records in salesforce_pages(self.ctx.salesforce, first_page):
            self.counts["read_salesforce"] += len(records)
            chunk.extend(records)
            if len(chunk) >= BATCH:
                self.handle_cases(chunk, stream.cursor)
                chunk = []
        if chunk:
            self.handle_cases(chunk, stream.cursor)
        stream.cursor.mark_checked(read_started)

    def handle_cases(self, records: list[dict], cursor: Cursor | None, *, force=False) -> None:
        fresh, handled = self.fresh_versions(
            records, cursor, force=force, version=salesforce_version
        )
        deleted = [r for r in fresh if r.get("IsDeleted")]
        self.apply_salesforce_deletes(deleted)
        if deleted:  # a deleted case waits for nothing any more
            services.sync_errors_resolve(
                integration=self.ctx.integration,
                object_name=OBJECT,
                record_keys=[f"salesforce:{r['Id']}" for r in deleted],
                ended_because=SyncError.EndedBecause.DELETED,
            )
        fresh = [r for r in fresh if not r.get("IsDeleted")]
        links = self.links_by("salesforce_id", [r["Id"] for r in fresh])
        restored = self.links_restored([r for r in fresh if r["Id"] not in links])
        links.update(restored)
        pairs = []
        for record in fresh:
            pair = TicketPair(SOBJECT, record, None, links.get(record["Id"]))
            self.merge(pair, force=force)
            if pair.link is not None and not pair.to_hubspot and not self.associations_due(pair):
                self.unchanged_read(f"salesforce:{record['Id']}", record.get("SystemModstamp"))
                continue
            pairs.append(pair)
        self.keep_later_ticket_edits(pairs)
        self.write_hubspot(pairs)
        self.associate(pairs)
        self.keep_held_ticket_errors(pairs)
        self.commit(pairs, cursor, handled)
        if restored and self.two_way:
            # What was edited on their tickets while the cases were deleted (no case to go
            # to then) goes to the cases now (one read per 100).
            self.retry_tickets([link.hubspot_id for link in restored.values()])

    def keep_held_ticket_errors(self, pairs: list[Pair]) -> None:
        """A case's values written to its ticket end the ticket's errors (those of its edits
        going to the case) only where they overwrote the edit the error is about: a ticket
        still holding a stage no case status maps to, an edit of a field the integration user
        may not edit, or one a validation rule refused, keeps that error open
        (``Pair.kept_errors``; the record's other errors end). An error naming no mapped field
        is about whichever two-way value the ticket still holds unsynced: those tickets are
        read (100 a call). One query, only with a two-way mapping."""
        if not self.two_way:
            return
        linked = {
            f"hubspot:{p.hubspot_id}": p
            for p in pairs
            if p.link is not None and p.hubspot is not None and not p.hubspot_failed
        }
        if not linked:
            return
        props_of = {name: prop for prop, name in self.mapped_names.items() if name}

        def about(fields) -> set[str]:
            return {props_of[f] for f in fields or [] if props_of.get(f) in self.two_way}

        held = list(
            SyncError.objects.filter(
                integration=self.ctx.integration,
                object=OBJECT,
                resolved_at__isnull=True,
                direction="to_salesforce",
                record_key__in=list(linked),
            ).values_list("record_key", "fields", "error_type")
        )
        unnamed = sorted(
            {linked[key].link.hubspot_id for key, fields, _ in held if not about(fields)}
        )
        current = self.hubspot_read(unnamed, properties=sorted(self.two_way)) if unnamed else {}
        for key, fields, error_type in held:
            pair = linked[key]
            written = set(pair.to_hubspot)
            if PIPELINE in written:  # moved to another process's pipeline: a stage of its own
                written.add(STAGE)
            props = about(fields)
            if props:
                holds = bool(props - written)
            else:
                ticket = current.get(pair.link.hubspot_id)
                holds = ticket is not None and self.holds_unsynced(pair, ticket, written)
            if holds:
                pair.kept_errors.add(error_type)

    def holds_unsynced(self, pair: Pair, ticket: Any, written: set[str]) -> bool:
        """Whether ``ticket`` (read now) holds a two-way value its case hasn't taken (one
        differing from the last synced one) that this write doesn't overwrite."""
        snapshot = pair.link.snapshot if pair.link is not None else {}
        values = ticket.properties or {}
        return any(
            self.ticket_compared(prop, values.get(prop) or "") != self.last_synced(snapshot, prop)
            for prop in set(self.two_way) - written
        )

    def keep_later_ticket_edits(self, pairs: list[Pair]) -> None:
        """Two-way values the case moved but the ticket also changed since the last sync go
        to the later change (spec §6.3, as for the other pairs): where the ticket's edit is
        later, the case's value isn't sent and the HubSpot phase carries the ticket's value
        to the case. A two-way stage the case didn't move, but which goes along with every
        write (see ``upsert``), isn't sent over a stage moved in HubSpot either. Only tickets
        whose case moved a two-way value, or that take their stage along, are read (100 a
        call)."""
        self._stage_kept = set()
        candidates = [
            p
            for p in pairs
            if p.link is not None
            and (any(k in self.two_way for k in p.to_hubspot) or self.stage_goes_along(p))
        ]
        if not candidates:
            return
        tickets = self.hubspot_read(
            [p.link.hubspot_id for p in candidates],
            properties=sorted({*self.two_way, MODIFIED}),
        )
        for pair in candidates:
            obj = tickets.get(pair.link.hubspot_id)
            if obj is None:
                continue  # deleted in HubSpot: the upsert makes it again with every value
            if self.stage_goes_along(pair) and (obj.properties.get(STAGE) or "") != (
                pair.link.snapshot.get(STAGE, "")
            ):
                self._stage_kept.add(pair.salesforce_id)  # moved in HubSpot: goes to the case
            edited = self.history_of(obj)
            case_time = parse_time((pair.salesforce or {}).get("LastModifiedDate"))
            for prop in [k for k in pair.to_hubspot if k in self.two_way]:
                value = self.ticket_compared(prop, obj.properties.get(prop) or "")
                last = self.last_synced(pair.link.snapshot, prop)
                if value == last or value == pair.to_hubspot[prop]:
                    continue  # not edited in HubSpot, or edited to the case's value
                if prop == STAGE and PIPELINE in pair.to_hubspot:
                    continue  # the case moved to another process: its stage goes with it
                decision = latest_wins(
                    value,
                    pair.to_hubspot[prop],
                    Side(value, edited.get(prop) or parse_time(obj.properties.get(MODIFIED))),
                    Side(pair.to_hubspot[prop], case_time),
                )
                if decision.to_salesforce is not None:
                    del pair.to_hubspot[prop]
                    pair.snap_hubspot.pop(prop, None)
                    if prop == OWNER_PROPERTY:
                        pair.snap_hubspot.pop("__salesforce_owner", None)

    def stage_goes_along(self, pair: Pair) -> bool:
        """Whether a write of this linked ticket would send its two-way stage unmoved."""
        return (
            STAGE in self.two_way
            and bool(pair.to_hubspot)
            and STAGE not in pair.to_hubspot
            and bool(pair.same.get(STAGE))
        )

    # --- merge: Salesforce → HubSpot values ------------------------------------------------
    def merge(self, pair: Pair, *, force: bool = False) -> None:  # type: ignore[override]
        """Every mapped value the ticket should hold; those that differ from the snapshot (or
        all, for a new link or a forced resync) go into ``to_hubspot``."""
        record = pair.salesforce or {}
        snapshot = pair.link.snapshot if pair.link else {}
        values: dict[str, str] = {}
        for mapping in self.ctx.mappings:
            name = self.ctx.mapped_field(mapping, SOBJECT)
            prop = mapping.hubspot_property
            if not name or prop in (PIPELINE, STAGE, KEY_PROPERTY):
                continue
            if not self.ctx.hubspot_writable(prop):
                continue
            if prop == OWNER_PROPERTY:
                owner = record.get(name) or ""
                if snapshot.get("__salesforce_owner") == owner and OWNER_PROPERTY in snapshot:
                    values[prop] = snapshot[OWNER_PROPERTY]
                else:
                    values[prop] = self.owners.hubspot_owner_for(owner) if owner else ""
                continue
            try:
                kind = self.value_type(SOBJECT, name, prop)
                if self.is_converted_amount(SOBJECT, name):  # in HubSpot's company currency
                    last = self.last_synced(snapshot, prop, None)
                    values[prop] = self.amount_compared(SOBJECT, name, record, last)
                else:
                    values[prop] = self.in_one_order(
                        kind, self.as_sent(prop, normalize(record.get(name), kind))
                    )
            except AmountNotConvertible as error:
                self.amount_not_convertible(pair, prop, name, error, "to_hubspot")
            except ValueConversionError as error:
                self.invalid_value(pair, "to_hubspot", prop, error, [])
        if any(m.hubspot_property == STAGE for m in self.ctx.mappings) or pair.link is None:
            values.update(self.stage_values(pair))
        creating = pair.link is None
        for prop, value in values.items():
            if force or creating or self.last_synced(snapshot, prop, None) != value:
                if creating and value == "":
                    # Not sent, but remembered as blank: the next edit of the case then
                    # neither rewrites it nor looks the owner up again.
                    pair.same[prop] = value
                    continue
                pair.to_hubspot[prop] = value
                pair.snap_hubspot[prop] = value
            else:
                pair.same[prop] = value
        owner = next(
            (
                self.ctx.mapped_field(m, SOBJECT)
                for m in self.ctx.mappings
                if m.hubspot_property == OWNER_PROPERTY
            ),
            None,
        )
        if owner:  # which Salesforce owner the stored HubSpot owner stands for
            side = pair.snap_hubspot if OWNER_PROPERTY in pair.to_hubspot else pair.same
            side["__salesforce_owner"] = record.get(owner) or ""
        if creating and STAGE not in pair.to_hubspot:
            self.wait_for_pipeline(pair)
        if self.two_way_amounts:  # the currency a ticket's amount edit goes to the case in
            pair.same[CASE_CURRENCY] = record.get(CURRENCY_FIELD) or ""

    def wait_for_pipeline(self, pair: Pair) -> None:
        """A new ticket needs a pipeline stage (HubSpot requires one): while the case's
        pipeline, or the stage for its status, isn't there (``_stage_waits``), the ticket
        isn't sent, and the case waits with an error (a blip is tried again next cycle, a
        refusal later) instead of failing as a missing required value or landing in another
        stage. A linked ticket gets its other values and keeps its stage meanwhile."""
        process = (pair.salesforce or {}).get("RecordTypeId") or MASTER
        stage_failure = self._stage_waits.get(pair.salesforce_id)
        failure = (
            stage_failure
            or self._pipeline_failures.get(process)
            or {
                "type": "picklist",
                "code": "NO_PIPELINE",
                "message": "The HubSpot ticket pipeline for this case's process isn't there yet: "
                "it has no stage",
            }
        )
        self.record_error(
            pair,
            "to_hubspot",
            failure["type"],
            failure["code"],
            failure["message"],
            ["Status" if stage_failure else "RecordTypeId"],
        )
        if pair.link is None:
            pair.to_hubspot, pair.snap_hubspot = {}, {}

    def stage_values(self, pair: Pair) -> dict[str, str]:
        """``hs_pipeline`` and ``hs_pipeline_stage`` for the case's process and status."""
        record = pair.salesforce or {}
        process = record.get("RecordTypeId") or MASTER
        self._stage_waits.pop(pair.salesforce_id, None)
        entry = self.pipeline_entry(process)
        if entry is None:
            if pair.link is not None:  # (a new ticket waits in merge, unsent)
                self.wait_for_pipeline(pair)
            return {}
        status = record.get("Status") or ""
        stage = entry["stages"].get(status) if status else None
        if status and stage is None:
            stage = self.add_stage(process, entry, status)
        failure = self._stage_failures.get((process, status)) if stage is None else None
        if failure is not None:
            # Adding its stage failed: the case waits for it (never another stage).
            self._stage_waits[pair.salesforce_id] = failure
            if pair.link is not None:  # (a new ticket waits in merge, unsent)
                self.wait_for_pipeline(pair)
            return {}
        if stage is None:  # a pipeline chosen in the wizard, without a stage of that label
            if status:
                self.note_unmapped(process, entry, status)
                meanwhile = "keeps its stage" if pair.link else "is in the pipeline's first stage"
                self.record_error(
                    pair,
                    "to_hubspot",
                    "picklist",
                    "NO_STAGE",
                    f"Status {status!r}: the HubSpot pipeline mapped to this case process has "
                    "no stage for it. Map the status on the Tickets tab (Pipelines); the "
                    f"ticket {meanwhile} until then.",
                    ["Status"],
                )
            if pair.link is not None:
                return {}
            stage = next(iter(entry["stages"].values()), None)  # a new ticket needs a stage
            if stage is None:
                return {}
        return {PIPELINE: entry["pipeline"], STAGE: stage}

    def note_unmapped(self, process: str, entry: dict, status: str) -> None:
        """A status a chosen pipeline has no stage for goes on its table entry (``unmapped``),
        so step 4 of the wizard offers it even when the Case describe doesn't list it (added
        in Salesforce since the describe was read, or deactivated with cases still in it)."""
        unmapped = entry.get("unmapped") or []
        if status in unmapped:
            return
        entry["unmapped"] = [*unmapped, status]
        # Only that entry's list, and only while it names the same pipeline: a table the
        # admin saved since this cycle read it isn't overwritten.
        with transaction.atomic():
            row = ObjectSync.objects.select_for_update().get(
                integration=self.ctx.integration, object=OBJECT
            )
            table = dict((row.options or {}).get("pipelines") or {})
            stored = table.get(process) or {}
            if stored.get("pipeline") != entry.get("pipeline"):
                return
            table[process] = {**stored, "unmapped": entry["unmapped"]}
            row.options = {**(row.options or {}), "pipelines": table}
            row.save(update_fields=["options", "updated_at"])

    def pipeline_entry(self, process: str) -> dict | None:
        """The pipeline of a case process; a process without one gets a new pipeline, or
        adopts ours of that label (made by a create whose answer was lost). A failure is
        tried again next cycle, a refusal an hour later: never once per case."""
        entry = self.pipelines.get(process)
        if entry and entry.get("pipeline"):
            return entry
        if process in self._pipeline_failures:
            return None
        refused = self.refused().get(process)
        refused_at = parse_time((refused or {}).get("at"))
        if refused_at is not None and timezone.now() - refused_at < REFUSED_RETRY:
            self._pipeline_failures[process] = refused
            return None
        label = (entry or {}).get("label") or self.record_type_name(process)
        creating = self.state()["creating"]
        try:
            # Only an attempt whose answer was lost can have left a pipeline to adopt: the
            # first attempt costs no read of the pipelines.
            created = (
                self.our_pipeline(process, pipeline_label(label)) if process in creating else None
            )
            made = created is None
            if not made:
                self.counts["pipelines_adopted"] += 1
            else:
                if process not in creating:
                    creating.append(process)
                    self.state_store()
                created = pipeline_create(
                    self.ctx.hubspot,
                    label=pipeline_label(label),
                    statuses=self.statuses(),
                    closed=self.status_closed,  # (read before the create is sent)
                )
                self._hubspot_pipelines = None  # read again if a stage is looked for
                self.counts["pipelines_created"] += 1
        except RemoteError as error:
            log.warning("creating a ticket pipeline for %s failed: %s", process, error)
            self._pipeline_failures[process] = self.pipeline_failure(process, label, error)
            return None
        self.pipelines[process] = {
            "label": label,
            "pipeline_label": pipeline_label(label),
            **created,
        }
        pipelines_store(self.ctx.integration, self.pipelines)
        if made and self._closed_flags:
            # Made with these flags (an adopted one is checked at the next describe read).
            self.state()["aligned"][created["pipeline"]] = dict(self._closed_flags)
        if process in creating or refused:
            self.state()["creating"] = [p for p in creating if p != process]
            self.state()["refused"].pop(process, None)
            self.state_store()
        return self.pipelines[process]

    def our_pipeline(self, process: str, label: str) -> dict | None:
        """The HubSpot pipeline of our label that no other process uses, as a table entry
        (its stages by status label; statuses it lacks become stages when a case needs
        them): a retried create finds what the lost one made instead of making a second."""
        if self._hubspot_pipelines is None:
            self._hubspot_pipelines = hubspot_pipelines(self.ctx.hubspot)
        taken = {e.get("pipeline") for k, e in self.pipelines.items() if k != process}
        pipeline = next(
            (p for p in self._hubspot_pipelines if p["label"] == label and p["id"] not in taken),
            None,
        )
        if pipeline is None:
            return None
        stages = {
            status: stage
            for status in self.statuses()
            if (stage := stage_by_label(pipeline["stages"], status))
        }
        return {"pipeline": pipeline["id"], "stages": stages, "managed": True}

    def pipeline_failure(self, process: str, label: str, error: RemoteError) -> dict[str, str]:
        """What the cases of a process whose pipeline failed are told: a blip is tried again
        next cycle; HubSpot refusing the pipeline (its tier caps ticket pipelines) is a
        *pipeline limit* with HubSpot's message, remembered and asked again hourly."""
        kind = write_failure_kind(error)
        if kind == "transient":
            return {
                "type": "transient",
                "code": error.code or "NO_PIPELINE",
                "message": "The HubSpot ticket pipeline for this case's process isn't there "
                f"yet: {error.message}",
            }
        if kind == "refused":
            failure = {
                "type": "pipeline_limit",
                "code": "PIPELINE_REFUSED",
                "message": "HubSpot refused to create the ticket pipeline "
                f"{pipeline_label(label)!r} for the case process {label}: {error.message}",
                "at": timezone.now().isoformat(),
            }
            self.state()["refused"][process] = failure
            self.state_store()
            return failure
        return {
            "type": kind,
            "code": error.code or "NO_PIPELINE",
            "message": f"The HubSpot ticket pipeline {pipeline_label(label)!r} couldn't be "
            f"created: {error.message}",
        }

    def stage_failure(self, entry: dict, status: str, error: RemoteError) -> dict[str, str]:
        """What the cases of a status whose stage couldn't be added are told: a blip is tried
        again next cycle; HubSpot refusing the stage is a *Picklists* error with HubSpot's
        message (the status then needs a stage of its own or a mapping)."""
        pipeline = entry.get("pipeline_label") or entry.get("label") or entry["pipeline"]
        kind = write_failure_kind(error)
        if kind == "transient":
            return {
                "type": "transient",
                "code": error.code or "NO_STAGE",
                "message": f"Status {status!r}: its stage in the HubSpot ticket pipeline "
                f"{pipeline!r} isn't there yet: {error.message}",
            }
        if kind == "refused":
            return {
                "type": "picklist",
                "code": "STAGE_REFUSED",
                "message": f"Status {status!r}: HubSpot refused to add it as a stage of the "
                f"ticket pipeline {pipeline!r}: {error.message.rstrip('.')}. Make room in the "
                "pipeline, or map the status to a stage on the Tickets tab (Pipelines).",
            }
        return {
            "type": kind,
            "code": error.code or "NO_STAGE",
            "message": f"Status {status!r}: its stage couldn't be added to the HubSpot ticket "
            f"pipeline {pipeline!r}: {error.message}",
        }

    def state(self) -> dict[str, Any]:
        """What the pipelines' creation left (``PIPELINES_STATE``; one query, only when a
        process has no pipeline)."""
        if self._state is None:
            row = SchemaCache.objects.filter(
                integration=self.ctx.integration, system=System.HUBSPOT, object=PIPELINES_STATE
            ).first()
            data = row.data if row and isinstance(row.data, dict) else {}
            self._state = {
                "refused": dict(data.get("refused") or {}),
                "creating": list(data.get("creating") or []),
                "aligned": dict(data.get("aligned") or {}),
            }
        return self._state

    def refused(self) -> dict[str, dict[str, str]]:
        return self.state()["refused"]

    def state_store(self) -> None:
        SchemaCache.objects.update_or_create(
            integration=self.ctx.integration,
            system=System.HUBSPOT,
            object=PIPELINES_STATE,
            defaults={"data": self.state(), "fetched_at": timezone.now()},
        )

    def add_stage(self, process: str, entry: dict, status: str) -> str | None:
        """A status the table lacks: the pipeline's stage of the same label (one read of the
        pipelines per cycle); our own pipelines get a new stage when they have none. One
        that can't be read or added leaves why in ``_stage_failures`` (asked for once a
        cycle): its cases wait for it. A create whose answer was lost is found by its label
        next cycle, not made twice."""
        if (process, status) in self._stage_failures:
            return None
        try:
            if self._hubspot_pipelines is None:
                self._hubspot_pipelines = hubspot_pipelines(self.ctx.hubspot)
            pipeline = next(
                (p for p in self._hubspot_pipelines if p["id"] == entry["pipeline"]),
                {"stages": []},
            )
            stage = stage_by_label(pipeline["stages"], status)
            if stage is None and entry.get("managed"):
                closed = self.status_closed(status)
                stage = stage_create(
                    self.ctx.hubspot,
                    pipeline_id=entry["pipeline"],
                    status=status,
                    order=len(pipeline["stages"]),
                    closed=closed,
                )
                pipeline["stages"].append({"id": stage, "label": status, "closed": closed})
                self.counts["stages_created"] += 1
        except RemoteError as error:  # (HubSpot's, or Salesforce's CaseStatus read)
            log.warning("adding stage %r failed: %s", status, error)
            self._stage_failures[(process, status)] = self.stage_failure(entry, status, error)
            return None
        if stage is not None:
            entry["stages"][status] = stage
            self.pipelines[process] = entry
            pipelines_store(self.ctx.integration, self.pipelines)
        return stage

    def statuses(self) -> list[str]:
        if self._statuses is None:
            self._statuses = case_statuses(self.ctx.integration)
        return self._statuses

    def status_closed(self, status: str) -> bool:
        """Whether a status closes its case, as Salesforce's ``CaseStatus`` says (read only
        when a pipeline or stage is made: see ``case_status_flags``). A status the cached
        rows don't know (added in Setup since) reads them again, once a cycle; one
        Salesforce doesn't list, or rows that can't be read, go by the name."""
        flags = self.closed_flags()
        if flags and status not in flags and not self._closed_flags_read_again:
            self._closed_flags_read_again = True
            flags = self._closed_flags = (
                case_status_flags(self.ctx.integration, self.ctx.salesforce, refresh=True) or {}
            )
        return flags[status] if status in flags else is_closed_status(status)

    def closed_flags(self) -> dict[str, bool]:
        """Salesforce's CaseStatus flags as cached (``{}`` where CaseStatus can't be read)."""
        if self._closed_flags is None:
            self._closed_flags = case_status_flags(self.ctx.integration, self.ctx.salesforce) or {}
        return self._closed_flags

    def record_type_name(self, process: str) -> str:
        if process == MASTER:
            return "Master"
        if self._record_types is None:
            self._record_types = {p["key"]: p["label"] for p in case_processes(self.ctx.salesforce)}
        return self._record_types.get(process, process)

    def before_repointing(self, moves: list[tuple[RecordLink, str]]) -> None:
        """A ticket whose case was merged into one without a ticket (Merge Cases) goes with
        the survivor: its key becomes the survivor's id first, so the survivor's upsert finds
        it rather than make a second ticket (one batch update per 100, only after such
        merges). Before the link moves: a failure here leaves the merge to be read again."""
        inputs = [
            {"id": link.hubspot_id, "properties": {KEY_PROPERTY: master}} for link, master in moves
        ]
        if not inputs:
            return
        self.ensure_key_property()
        _, failed = self.hubspot_batch("update", inputs, key=lambda i: i["id"])
        # One not rekeyed (deleted in HubSpot meanwhile, say) is made again by the upsert,
        # as any ticket deleted there.
        self.counts["tickets_rekeyed"] += len(inputs) - len(failed)

    # --- writes ---------------------------------------------------------------------------
    def write_hubspot(self, pairs: list[Pair]) -> None:
        """One batch upsert by the case id for every ticket with changes: creates and updates
        alike, so a ticket deleted in HubSpot is created again and a retry never duplicates."""
        writes = [p for p in pairs if p.to_hubspot]
        if writes:
            self.ensure_key_property()
            # Sent again, a case whose id a ticket synced with another case holds would be
            # written onto that ticket again.
            writes = self.key_clashes_kept(writes, KEY_PROPERTY)
            self.align_picklists(writes)
        results, failed, sent = self.upsert(writes)
        # A stage (or pipeline) deleted in HubSpot since the table was stored: sent again
        # with the table put right, rather than failing at every edit of the case.
        redo, waiting = self.stage_gone_resent(writes, failed, sent)
        waits = {id(p) for p in waiting}
        writes = [p for p in writes if id(p) not in waits]
        if redo:
            again, failed_again, sent_again = self.upsert(redo)
            for pair in redo:
                failed.pop(pair.salesforce_id, None)
            results.update(again)
            failed.update(failed_again)
            sent.update(sent_again)
        # The key found a ticket synced with another case (typed, imported or merged there):
        # it keeps its link and values, the case gets an error.
        claims = self.upsert_claims([(p, results.get(p.salesforce_id)) for p in writes])
        if claims:
            self.upsert_claims_undone(claims, sent, KEY_PROPERTY)
        claimed = {pair.salesforce_id for pair, _, _ in claims}
        recreated = []
        for pair in writes:
            obj = results.get(pair.salesforce_id)
            if obj is None:
                pair.hubspot_failed = True
                self.record_hubspot_failure(pair, failed.get(pair.salesforce_id))
                continue
            if pair.salesforce_id in claimed:
                continue
            pair.hubspot = obj
            self.written.add(f"hubspot:{obj.id}")
            if pair.link is None:
                self.counts["created_in_hubspot"] += 1
            elif getattr(obj, "new", False) or str(obj.id) != pair.link.hubspot_id:
                # Deleted in HubSpot and made again, now or by a cycle that died before
                # sending the rest: every value goes to the new ticket.
                recreated.append(pair)
            else:
                self.counts["updated_in_hubspot"] += 1
        recreated = self.keys_changed_kept(recreated, sent)
        if recreated:
            for pair in recreated:
                link, pair.link = pair.link, None
                pair.to_hubspot, pair.snap_hubspot, pair.same = {}, {}, {}
                self.merge(pair)  # as a new ticket: every value
                link.snapshot = {}  # associations are made again too
                pair.link = link
            self.align_picklists(recreated)
            again, failed, _ = self.upsert(recreated)
            for pair in recreated:
                if pair.salesforce_id in again:
                    pair.hubspot = again[pair.salesforce_id]
                    self.written.add(f"hubspot:{pair.hubspot.id}")
                    self.counts["created_in_hubspot"] += 1
                else:
                    # The link follows the new ticket, but its snapshot keeps none of these
                    # values: the retry, or the case's next edit, sends them all again.
                    pair.hubspot_failed = True
                    self.record_hubspot_failure(pair, failed.get(pair.salesforce_id))
        for pair in pairs:
            if pair.hubspot is None and pair.link is not None and not pair.hubspot_failed:
                pair.hubspot = SimpleNamespace(id=pair.link.hubspot_id, properties={})

    def stage_gone_resent(
        self, pairs: list[Pair], failed: dict[str, Any], sent: dict[str, dict]
    ) -> tuple[list[Pair], list[Pair]]:
        """The failed writes whose pipeline or stage was deleted in HubSpot since the table
        was stored, ready to send again (one pipelines read, only after HubSpot refused a
        pipeline or stage value). The table forgets what is gone: our own pipeline gets the
        stage, or the pipeline, made again as for a new status (``stage_values``); a status
        of a chosen pipeline is left without a stage, which the case's *Picklists* error asks
        the admin to map (the ticket keeps its stage and takes the case's other values).
        Second, the new tickets that can't be sent now: they wait for their stage."""
        suspects = [
            p
            for p in pairs
            if p.salesforce_id in failed
            and PIPELINE in hubspot_error_parts(failed[p.salesforce_id])[1]
            and {PIPELINE, STAGE} & set(sent.get(p.salesforce_id) or {})
        ]
        if not suspects:
            return [], []
        try:
            self._hubspot_pipelines = hubspot_pipelines(self.ctx.hubspot)
        except RemoteError as error:  # the refusal stands; looked at again next time
            log.warning("reading ticket pipelines after a refused stage failed: %s", error)
            return [], []
        live = {p["id"]: {s["id"] for s in p["stages"]} for p in self._hubspot_pipelines}
        changed = False
        for process, entry in list(self.pipelines.items()):
            if not entry.get("pipeline"):
                continue
            if entry["pipeline"] not in live:  # a new one is made (and stored) when needed
                self.pipelines[process] = {
                    "label": entry.get("label") or "",
                    "pipeline": "",
                    "pipeline_label": "",
                    "stages": {},
                    "managed": True,
                }
                changed = True
                continue
            kept = entry.get("stages") or {}
            stages = {s: i for s, i in kept.items() if i in live[entry["pipeline"]]}
            if stages != kept:
                entry["stages"] = stages
                changed = True
        if not changed:
            return [], []
        pipelines_store(self.ctx.integration, self.pipelines)
        redo, waiting = [], []
        for pair in suspects:
            props = sent[pair.salesforce_id]
            if props.get(STAGE, "") in live.get(props.get(PIPELINE, ""), ()):
                continue  # refused for another reason
            for side in (pair.to_hubspot, pair.snap_hubspot, pair.same):
                side.pop(PIPELINE, None)
                side.pop(STAGE, None)
            values = self.stage_values(pair)
            if pair.link is None and STAGE not in values:
                self.wait_for_pipeline(pair)  # a new ticket needs a stage: it waits
                waiting.append(pair)
                continue
            pair.to_hubspot.update(values)
            pair.snap_hubspot.update(values)
            redo.append(pair)
        return redo, waiting

    def keys_changed_kept(self, recreated: list[Pair], sent: dict[str, dict]) -> list[Pair]:
        """``recreated`` but those whose linked ticket is still there: its key was changed
        (to another case's id, say), or it was merged in HubSpot into a ticket no other case
        syncs with (a merge keeps no key of the merged ticket), so the upsert by the case id
        just made a second ticket. That one goes, and what was sent goes to the linked
        ticket (the survivor of a merge, which the link now follows) with the case id back
        in its key. One read, only after the upsert made tickets for linked cases."""
        made = [p for p in recreated if getattr(p.hubspot, "new", False)]
        alive = self.hubspot_read(
            [p.link.hubspot_id for p in made], properties=[KEY_PROPERTY, MERGED_IDS], history=False
        )
        self.follow_merges_kept(made, alive, sent)
        kept = [p for p in made if p.link.hubspot_id in alive]
        if not kept:
            return recreated
        extra = [str(p.hubspot.id) for p in kept]
        with_retries(lambda: self.ctx.hubspot.batch_archive(object_type=OBJECT, ids=extra))
        for pair in kept:
            self.written.discard(f"hubspot:{pair.hubspot.id}")
        inputs = [{"id": p.link.hubspot_id, "properties": sent[p.salesforce_id]} for p in kept]
        results, failed = self.hubspot_batch("update", inputs, key=lambda i: i["id"])
        updated = {str(o.id): o for o in results}
        for pair in kept:
            ticket_id = pair.link.hubspot_id
            if ticket_id not in updated:
                pair.hubspot, pair.hubspot_failed = None, True
                self.record_hubspot_failure(pair, failed.get(ticket_id))
                continue
            pair.hubspot = updated[ticket_id]
            self.written.add(f"hubspot:{ticket_id}")
            self.counts["updated_in_hubspot"] += 1
        return [p for p in recreated if all(p is not k for k in kept)]

    def follow_merges_kept(
        self, pairs: list[Pair], alive: dict[str, Any], sent: dict[str, dict]
    ) -> None:
        """Links of ``pairs`` whose ticket was merged into one of ``alive`` that no other
        case syncs with follow it (one ticket per survivor). Reading a merged-away ticket
        answers with the survivor, under its own id. A survivor another case syncs with
        stays that case's: the upsert's new ticket stands, as after a delete."""
        survivors = {old: str(obj.id) for old, obj in merge_survivors(alive.values()).items()}
        taken = set(self.links_by("hubspot_id", set(survivors.values())))
        followed = []
        for pair in pairs:
            survivor = survivors.get(pair.link.hubspot_id)
            if survivor is None or survivor in taken:
                continue
            taken.add(survivor)
            link, pair.link = pair.link, None
            link.hubspot_id = survivor
            link.save(update_fields=["hubspot_id"])
            self.counts["links_repointed"] += 1
            # The survivor holds its own values: it gets every one, as a new ticket would
            # (associations too), not only this edit's.
            pair.to_hubspot, pair.snap_hubspot, pair.same = {}, {}, {}
            self.merge(pair)
            link.snapshot = {}
            pair.link = link
            followed.append(pair)
        self.align_picklists(followed)
        for pair in followed:
            sent[pair.salesforce_id] = self.sent(pair)

    def align_picklists(self, pairs: list[Pair]) -> None:
        """Dropdown values HubSpot lacks become options; the pipeline and its stage are
        HubSpot's own (kept in step through the pipelines API), never options to add."""
        held = [
            {k: p.to_hubspot.pop(k) for k in (PIPELINE, STAGE) if k in p.to_hubspot} for p in pairs
        ]
        self.align_options(pairs)
        for pair, values in zip(pairs, held, strict=True):
            pair.to_hubspot.update(values)

    def upsert(self, pairs: list[Pair]) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict]]:
        """The tickets answered and the failures, by case id, and what was sent."""
        if not pairs:
            return {}, {}, {}
        inputs = [
            {"id": p.salesforce_id, "idProperty": KEY_PROPERTY, "properties": self.sent(p)}
            for p in pairs
        ]
        results, failed = self.hubspot_batch("upsert", inputs, key=lambda i: i["id"])
        sent = {i["id"]: i["properties"] for i in inputs}
        return {(o.properties or {}).get(KEY_PROPERTY): o for o in results}, failed, sent

    def sent(self, pair: Pair) -> dict[str, str]:
        """What a ticket write sends: the changes, the case id as the key, and the stage,
        which always goes along (a ticket deleted in HubSpot is created again by the upsert,
        and HubSpot creates no ticket without one)."""
        stage = (
            {}
            if pair.salesforce_id in self._stage_kept
            else {k: v for k, v in pair.same.items() if k in (PIPELINE, STAGE) and v}
        )
        return {**stage, **pair.to_hubspot, KEY_PROPERTY: pair.salesforce_id}

    # --- HubSpot → Salesforce: two-way mappings of linked tickets only ---------------------
    def ticket_properties(self) -> list[str]:
        return sorted({*self.two_way, MODIFIED, PIPELINE})

    def sync_hubspot_changes(self) -> None:
        """HubSpot edits of two-way mapped properties go to the linked case (one search per
        cycle, and none while no ticket mapping is two-way). Tickets never create cases."""
        if not self.two_way:
            return
        self.read_hubspot_changes(
            Cursor.load(self.ctx.integration, f"hubspot:{OBJECT}"),
            self.ticket_properties(),
            self.handle_tickets,
            batch=BATCH,
        )

    def handle_tickets(self, objects: list[Any], cursor: Cursor | None, *, retry=False) -> None:
        """Two-way values of changed tickets go to their cases (an owner Salesforce can't
        match is reset on the ticket). With ``retry`` (the tickets' errors are due), a ticket
        left with nothing to carry (back in step, or no longer linked) has its errors
        resolved."""
        fresh, handled = self.fresh_versions(
            objects, cursor, force=False, version=lambda o: hubspot_version(o, MODIFIED)
        )
        links = self.links_by("hubspot_id", [str(o.id) for o in fresh])
        currencies = self.case_currencies(fresh, links) if self.two_way_amounts else {}
        pairs = []
        # Tickets with nothing to write: their errors end, but the types they keep open.
        settled: dict[frozenset[str], list[str]] = defaultdict(list)
        for obj in fresh:
            link = links.get(str(obj.id))
            if link is None:
                # Tickets never create cases (spec §14): counted, so the run says so.
                self.skipped("create_disabled", f"hubspot:{obj.id}")
                settled[frozenset()].append(f"hubspot:{obj.id}")
                continue
            record = {"Id": link.salesforce_id, "SystemModstamp": link.salesforce_modified_at}
            if link.salesforce_id in currencies:
                record[CURRENCY_FIELD] = currencies[link.salesforce_id]
            pair = TicketPair(SOBJECT, record, obj, link)
            for mapping in self.ctx.mappings:
                if mapping.hubspot_property in self.two_way:
                    self.hubspot_value_to_case(pair, mapping)
            if pair.not_writable:
                self.fields_not_writable(pair)
            if pair.to_salesforce or pair.to_hubspot:
                pairs.append(pair)
                continue
            settled[frozenset(pair.kept_errors)].append(f"hubspot:{obj.id}")
            if not (pair.kept_errors or pair.not_writable):  # in step: our upsert, say
                self.unchanged_read(f"hubspot:{obj.id}", pair.hs_props.get(MODIFIED))
        self.salesforce_updates(pairs, SOBJECT)
        self.hubspot_updates(pairs)
        self.commit(pairs, cursor, handled)
        for kept, keys in settled.items() if retry else ():
            self.errors_end(keys, kept=kept)

    @cached_property
    def two_way_amounts(self) -> list[str]:
        """The ticket properties whose edits carry an amount to the case in the case's own
        currency (two-way mappings of converted amounts, ``PairSync.amounts_converted``)."""
        return [
            m.hubspot_property
            for m in self.ctx.mappings
            if m.hubspot_property in self.two_way
            and self.is_converted_amount(SOBJECT, self.ctx.mapped_field(m, SOBJECT) or "")
        ]

    def case_currencies(self, objects: list[Any], links: dict[str, RecordLink]) -> dict[str, str]:
        """The currency of each case whose ticket brings an amount edit (``CASE_CURRENCY``),
        as the case's last read kept it in the snapshot; those never kept are read (one call,
        only then)."""
        edited = [
            link
            for obj in objects
            if (link := links.get(str(obj.id))) is not None
            and any(
                self.ticket_compared(prop, (obj.properties or {}).get(prop) or "")
                != self.last_synced(link.snapshot, prop)
                for prop in self.two_way_amounts
            )
        ]
        known = {
            link.salesforce_id: link.snapshot[CASE_CURRENCY]
            for link in edited
            if link.snapshot.get(CASE_CURRENCY)
        }
        unknown = [link.salesforce_id for link in edited if link.salesforce_id not in known]
        for record in salesforce_by_ids(
            self.ctx.salesforce, SOBJECT, ["Id", CURRENCY_FIELD], unknown
        ):
            known[record["Id"]] = record.get(CURRENCY_FIELD) or ""
        return known

    @staticmethod
    def as_sent(prop: str, value: str) -> str:
        """A case's value as the merge sends and snapshots it (origins as HubSpot's codes)."""
        return ORIGINS.get(value, value) if prop == "source_type" else value

    def case_value(self, prop: str, value: str) -> str:
        """A ticket's value as the case value it stands for: a source code through
        ``ORIGINS``, another dropdown option as the picklist value its label is ("HIGH" as
        "High"), so HubSpot's option names never reach the case, a date/time for a case date
        as its day in the account's time zone. Stage and owner stay as they are: their callers
        map them."""
        name = self.mapped_names.get(prop)
        if not name or prop in (STAGE, OWNER_PROPERTY):
            return value
        kind = self.value_type(SOBJECT, name, prop)
        if value and kind.startswith(ZONED_DATE):  # a date/time for a case date: its day
            try:
                return normalize(value, kind)
            except ValueConversionError:
                return value  # sent as it is: Salesforce's refusal names it
        if prop == "source_type":
            value = CASE_ORIGINS.get(value, value)
        return self.hubspot_option_comparable(prop, value, SOBJECT, name)

    def ticket_compared(self, prop: str, value: str) -> str:
        """A ticket's value in the form the snapshot keeps it in."""
        return self.in_order(prop, self.as_sent(prop, self.case_value(prop, value)))

    def in_order(self, prop: str, value: str | None) -> str | None:
        """A mapped value as it compares (``in_one_order``): a multi-select's choices in one
        order, as the case keeps them in its picklist's and the ticket as written."""
        name = self.mapped_names.get(prop)
        # (The field's own type tells a multi-select; ``value_type`` may read the time zone.)
        return self.in_one_order(self.ctx.field_type(SOBJECT, name), value) if name else value

    def last_synced(self, snapshot: dict, prop: str, blank: str | None = "") -> str | None:
        """The snapshot's value of ``prop`` (``blank`` when it has none) as it compares: one
        kept before multi-selects compared in one order may hold another."""
        return self.in_order(prop, snapshot.get(prop, blank))

    def hubspot_value_to_case(self, pair: Pair, mapping) -> None:
        """One two-way value of a changed ticket into ``pair.to_salesforce``; the fields the
        integration user may not edit into ``pair.not_writable`` (one error for them all)."""
        name = self.ctx.mapped_field(mapping, SOBJECT)
        prop = mapping.hubspot_property
        case = self.case_value(prop, pair.hs_props.get(prop) or "")
        value = self.in_order(prop, self.as_sent(prop, case))  # as the snapshot keeps it
        if not name or value == self.last_synced(pair.link.snapshot, prop):
            return  # unchanged, or our own write coming back
        if not self.ctx.writable(SOBJECT, name, create=False):
            pair.not_writable.append(name)
            return
        if prop == STAGE:
            entry = next(
                (
                    e
                    for e in self.pipelines.values()
                    if e.get("pipeline") == pair.hs_props.get(PIPELINE)
                ),
                {},
            )
            # A stage several statuses share stands for the first of them in Salesforce's
            # order (the Case describe's; a stored table's keys may come back in any order):
            # "Waiting on us" for Working and Escalated sets Working, never escalating a case
            # because its ticket moved. Mixing open and closed statuses: see below.
            rank = {status: n for n, status in enumerate(self.statuses())}
            statuses: dict[str, list[str]] = defaultdict(list)
            for status, stage in sorted(
                (entry.get("stages") or {}).items(),
                key=lambda item: (rank.get(item[0], len(rank)), item[0]),
            ):
                statuses[stage].append(status)
            if value not in statuses:
                # A stage no case status maps to: the case keeps its status, and says why.
                self.unknown_stage(pair, entry, value, name)
                return
            sharing = statuses[value]
            status = sharing[0]
            # Open and closed statuses on one stage (Working and Closed on "Done", say): the
            # first as open or closed as the stage's ticket state, so a ticket closed in
            # HubSpot never reopens its case. One pipelines read a cycle, only then.
            if len({self.status_closed(s) for s in sharing}) > 1:
                try:
                    if self._hubspot_pipelines is None:
                        self._hubspot_pipelines = hubspot_pipelines(self.ctx.hubspot)
                except (TransientError, RateLimited, AuthExpired):
                    raise  # a blip: the ticket is read again next cycle
                except RemoteError:
                    pass  # its state can't be read: the first, as ever
                stage = next(
                    (
                        s
                        for p in self._hubspot_pipelines or []
                        if p["id"] == pair.hs_props.get(PIPELINE)
                        for s in p["stages"]
                        if s["id"] == value
                    ),
                    None,
                )
                if stage is not None:
                    status = next(
                        (s for s in sharing if self.status_closed(s) == stage["closed"]), status
                    )
            pair.to_salesforce[name] = status
        elif prop == OWNER_PROPERTY:
            user = self.owners.salesforce_user_for(value)
            if not user:
                # No active Salesforce user of that name and email (or the owner was
                # cleared): the ticket goes back to the case's owner (spec §11, as for the
                # other pairs).
                owner = pair.link.snapshot.get(prop, "")
                pair.to_hubspot[prop] = owner
                pair.snap_hubspot[prop] = owner
                pair.owner_reset = True
                return
            pair.to_salesforce[name] = user
            pair.snap_salesforce["__salesforce_owner"] = user
        else:
            try:
                if self.is_converted_amount(SOBJECT, name):  # into the case's currency
                    self.amount_to_salesforce(pair, SOBJECT, name, case)
                else:
                    kind = self.value_type(SOBJECT, name, prop)
                    written = to_salesforce(case, self.ctx.field_type(SOBJECT, name), kind)
                    pair.to_salesforce[name] = written
            except AmountNotConvertible as error:
                self.amount_not_convertible(pair, prop, name, error, "to_salesforce")
                return
            except ValueConversionError as error:
                self.invalid_value(pair, "to_salesforce", prop, error, [name])
                return
        pair.snap_salesforce[prop] = value

    def unknown_stage(self, pair: Pair, entry: dict, stage: str, name: str) -> None:
        """A two-way stage moved in HubSpot to a stage no case status maps to (or into a
        pipeline no case process maps to): a *Picklists* error on the ticket, as deals have,
        instead of the case silently keeping its status. Labels cost one pipelines read, only
        here."""
        try:
            if self._hubspot_pipelines is None:
                self._hubspot_pipelines = hubspot_pipelines(self.ctx.hubspot)
            remote = self._hubspot_pipelines
        except RemoteError:
            remote = []  # the ids then (not kept: add_stage must read the real ones)
        pipeline_id = pair.hs_props.get(PIPELINE) or ""
        pipeline = next((p for p in remote if p["id"] == pipeline_id), {})
        label = next((s["label"] for s in pipeline.get("stages", []) if s["id"] == stage), stage)
        if entry:
            message = (
                f"Ticket stage {label!r} has no case status mapped to it, so the case keeps "
                "its status. Map a status to the stage on the Tickets tab (Pipelines), or move "
                "the ticket to a stage that has one."
            )
        else:
            message = (
                f"Ticket pipeline {pipeline.get('label') or pipeline_id!r} is not mapped to a "
                f"case process, so the case keeps its status (stage {label!r}). Move the "
                "ticket back to its synced pipeline."
            )
        self.record_error(pair, "to_salesforce", "picklist", "UNKNOWN_STAGE", message, [name])

    # --- associations ---------------------------------------------------------------------
    def association_kinds(self) -> list[tuple[str, str, str, str, int]]:
        """(kind, Case field, links object, HubSpot object, association type) turned on."""
        out = []
        if self.settings.sync_account_association:
            out.append(("account", "AccountId", "companies", "companies", TICKET_TO_COMPANY))
        if self.settings.sync_contact_association:
            out.append(("contact", "ContactId", "contacts", "contacts", TICKET_TO_CONTACT))
        return out

    def associations_due(self, pair: Pair) -> bool:
        snapshot = pair.link.snapshot if pair.link else {}
        for kind, field, *_ in self.association_kinds():
            want = (pair.salesforce or {}).get(field) or ""
            if snapshot.get(f"__{kind}", "") != want or (want and not snapshot.get(f"__hs_{kind}")):
                return True
        return False

    def associate(
        self, pairs: list[Pair], *, record_refused: bool = True
    ) -> list[tuple[Pair, Any]]:
        """Put the tickets' company and contact associations in step with the cases' account
        and contact (batched per object); a partner that hasn't synced yet leaves a waiting
        error on the case, unless its pair is off: then it's skipped and marked on the link
        (``__paused_<kind>``) for :meth:`retry_waiting` once that pair is on. The
        associations HubSpot refused, with their errors (recorded, unless not
        ``record_refused``: the caller does)."""
        all_refused: list[tuple[Pair, Any]] = []
        ready = [p for p in pairs if p.hubspot is not None and not p.hubspot_failed]
        for kind, field, links_object, to_type, type_id in self.association_kinds():
            wanted = {p.salesforce_id: (p.salesforce or {}).get(field) or "" for p in ready}
            partners = {
                link.salesforce_id: link.hubspot_id
                for link in RecordLink.objects.filter(
                    integration=self.ctx.integration,
                    object=links_object,
                    salesforce_id__in=[v for v in wanted.values() if v],
                )
            }
            creates, removals, changed, done = [], [], [], []
            note = f"__hs_{kind}_sent"
            for pair in ready:
                snapshot = pair.link.snapshot if pair.link else {}
                want = wanted[pair.salesforce_id]
                old = snapshot.get(f"__hs_{kind}", "")
                target = partners.get(want, "") if want else ""
                # A move a cycle that died left uncommitted: the ticket may be on either.
                uncertain = note in snapshot and snapshot[note] != target
                if (
                    snapshot.get(f"__{kind}", "") == want
                    and old == target
                    and (target or not want)
                    and not uncertain
                ):
                    continue
                paused = bool(want and not target and kind in self.partners_off)
                if paused:  # can't sync while its pair is off: no error, nothing to wait for
                    self.counts[SKIPPED[kind]] += 1
                    done.append(f"salesforce:{pair.salesforce_id}")
                    self.flag_paused(paused_stream(kind))
                elif want and not target:
                    self.wait(pair, kind, want)
                else:
                    done.append(f"salesforce:{pair.salesforce_id}")
                if paused or snapshot.get(f"__paused_{kind}"):
                    pair.same[f"__paused_{kind}"] = want if paused else ""
                stale = [o for o in dict.fromkeys((old, snapshot.get(note) or "")) if o]
                stale = [o for o in stale if o != target]
                if stale:
                    removals.append(dissociation_input(pair.hubspot_id, stale))
                if target and (target != old or uncertain):
                    creates.append(association_input(pair.hubspot_id, target, type_id))
                pair.same[f"__{kind}"] = want
                pair.same[f"__hs_{kind}"] = target
                changed.append(pair)
            # Noted before the writes, remembered as in step once they land (``note_sent``):
            # a cycle that dies in between leaves the next one to take the ticket off
            # whichever record it isn't meant on, should the case have moved back meanwhile.
            linked = [p for p in changed if p.link is not None and p.link.pk]
            self.note_sent([(p.link, p.same[f"__hs_{kind}"]) for p in linked], note)
            try:
                self.hubspot_dissociate(OBJECT, to_type, removals)
                refused = self.hubspot_associate(OBJECT, to_type, creates) if creates else []
            except RemoteError as error:
                for pair in changed:
                    self.forget_association(pair, kind)
                    self.record_hubspot_failure(pair, error)
                continue
            by_ticket = {p.hubspot_id: p for p in changed}
            not_landed = set()
            for failed, error in refused:  # only these tickets; the others' associations landed
                pair = by_ticket[str(failed["from"]["id"])]
                not_landed.add(pair.hubspot_id)
                self.forget_association(pair, kind)
                all_refused.append((pair, error))
                if record_refused:
                    self.association_failure(pair, error)
            self.sent_landed(
                [
                    (p.link, {k: p.same[k] for k in (f"__{kind}", f"__hs_{kind}")})
                    for p in linked
                    if p.hubspot_id not in not_landed
                ],
                note,
            )
            self.counts["associations_to_hubspot"] += len(creates) - len(refused) + len(removals)
            services.sync_errors_resolve_type(
                integration=self.ctx.integration,
                object_name=OBJECT,
                error_type=WAITING[kind],
                record_keys=done,
            )
        return all_refused

    def wait(self, pair: Pair, kind: str, partner: str) -> None:
        noun = "account" if kind == "account" else "contact"
        services.sync_error_record(
            integration=self.ctx.integration,
            object_name=OBJECT,
            error_type=WAITING[kind],
            direction="to_hubspot",
            record_key=f"salesforce:{pair.salesforce_id}",
            hubspot_id=pair.hubspot_id or "",
            salesforce_id=pair.salesforce_id or "",
            salesforce_type=SOBJECT,
            # Blank here (a wait looked at again from its link): the stored label stays.
            record_label=pair.label,
            code=f"WAITING_FOR_{noun.upper()}",
            message=f"The case's {noun} {partner} hasn't synced to HubSpot yet; the ticket is "
            f"associated as soon as it has.",
            fields=["AccountId" if kind == "account" else "ContactId"],
        )
        self.counts[f"waiting_for_{noun}"] += 1
        pair.kept_errors.add(WAITING[kind])  # still waiting: not counted as resolved

    @staticmethod
    def forget_association(pair: Pair, kind: str) -> None:
        """An association that didn't land isn't remembered as in step: tried again."""
        for key in (f"__{kind}", f"__hs_{kind}", f"__paused_{kind}"):
            pair.same.pop(key, None)

    def retry_waiting(self) -> None:
        """Cases waiting for their account's company or their contact: associated as soon as
        that partner is linked (a database look every cycle; calls only when one is). Cases
        skipped while the partner's pair was off are looked at again once it's on, and a
        waiting error whose partner's pair is off now is dropped (it could never end)."""
        active = {k for k, *_ in self.association_kinds()}
        kinds = {WAITING[k]: k for k in active}
        errored: dict[str, set[str]] = {}
        for salesforce_id, error_type in SyncError.objects.filter(
            integration=self.ctx.integration,
            object=OBJECT,
            error_type__in=list(kinds),
            resolved_at__isnull=True,
        ).values_list("salesforce_id", "error_type")[:2000]:
            errored.setdefault(salesforce_id, set()).add(kinds[error_type])
        # Cases skipped while a partner pair was off: looked for once it is on, only when
        # some were skipped (a scan of the ticket links, not made every cycle).
        flagged = set(
            SyncCursor.objects.filter(
                integration=self.ctx.integration,
                stream__in=[paused_stream(k) for k in active - self.partners_off],
            ).values_list("stream", flat=True)
        )
        paused: set[str] = set()
        finished: list[str] = []  # flags whose cases are all handed on below
        for kind in sorted(active - self.partners_off):
            if paused_stream(kind) not in flagged:
                continue
            found = list(
                self.links_marked(f"__paused_{kind}").values_list("salesforce_id", flat=True)[:2000]
            )
            paused.update(found)
            if len(found) < 2000:
                finished.append(paused_stream(kind))
        waiting = set(errored) | paused
        if not waiting:
            self.unflag_paused(finished)
            return
        links = list(
            RecordLink.objects.filter(
                integration=self.ctx.integration, object=OBJECT, salesforce_id__in=waiting
            )
        )
        partners = {
            (link.object, link.salesforce_id)
            for link in RecordLink.objects.filter(
                integration=self.ctx.integration,
                object__in=["companies", "contacts"],
                salesforce_id__in=[
                    link.snapshot.get(k)
                    for link in links
                    for k in ("__account", "__contact")
                    if link.snapshot.get(k)
                ],
            )
        }

        def due(link: RecordLink, kind: str) -> bool:
            snap = link.snapshot
            if kind not in active:
                return False
            if kind in self.partners_off:  # a wait that can't end while its pair is off
                return kind in errored.get(link.salesforce_id, set())
            if snap.get(f"__paused_{kind}"):  # skipped while its pair was off: it's on now
                return True
            return (PARTNER_PAIRS[kind], snap.get(f"__{kind}")) in partners and not snap.get(
                f"__hs_{kind}"
            )

        pairs = []
        for link in links:
            if not any(due(link, kind) for kind in PARTNER_PAIRS):
                continue
            snap = link.snapshot
            record = {
                "Id": link.salesforce_id,
                "AccountId": snap.get("__account") or None,
                "ContactId": snap.get("__contact") or None,
                "SystemModstamp": link.salesforce_modified_at,
            }
            hubspot = SimpleNamespace(
                id=link.hubspot_id, properties={MODIFIED: link.hubspot_modified_at}
            )
            pairs.append(TicketPair(SOBJECT, record, hubspot, link))
        if pairs:
            refused = self.associate(pairs, record_refused=False)
            # A ticket deleted in HubSpot meanwhile refuses its associations: its case is
            # written again below, which makes the ticket again (updates are upserts, see
            # ``write_hubspot``) with its associations. Only the others are refusals.
            gone = self.tickets_deleted([p.hubspot_id or "" for p, _ in refused])
            for pair, error in refused:
                if pair.hubspot_id not in gone:
                    self.association_failure(pair, error)
            pairs = [p for p in pairs if p.hubspot_id not in gone]
            # Still waiting, or an association refused: it keeps that error open.
            resolved = sum(1 for p in pairs if not p.kept_errors)
            # Only associations were written: ``associate`` ended the waits that are over;
            # the case's other errors wait for their own retry.
            self.commit(pairs, None, [], end_errors=False)
            self.counts["waits_resolved"] += resolved
            cases = sorted({p.salesforce_id or "" for p, _ in refused if p.hubspot_id in gone})
            if cases:
                records = salesforce_by_ids(self.ctx.salesforce, SOBJECT, self.case_fields(), cases)
                self.handle_cases(records, None, force=True)
        self.unflag_paused(finished)

    def tickets_deleted(self, hubspot_ids: list[str]) -> set[str]:
        """Which of these tickets are gone from HubSpot (one read per 100; none without)."""
        ids = sorted(set(hubspot_ids))
        return set(ids) - set(self.hubspot_read(ids, properties=[MODIFIED], history=False))

    # --- retries --------------------------------------------------------------------------
    def retry_errored(self) -> None:
        """Cases whose errors are due, and records an admin asked to sync again. A ticket's
        error (``hubspot:`` key: Salesforce refused its edit) is retried from the ticket, read
        again and handled as a changed ticket: pushing the case instead would overwrite the
        edit and call the error resolved."""
        # Waiting cases are left out: retry_waiting looks at them every cycle.
        due, requests = self.due_for_retry()
        keys = {key for key, _type in due}
        # A Resync asked from the ticket's side (its record page) syncs the case too, as one
        # of the case would: the case is the ticket's source, and its errors are the pair's.
        cases = [
            link.salesforce_id
            for link in self.links_by("hubspot_id", record_ids(self.asked, "hubspot")).values()
        ]
        ids = sorted({*record_ids(keys, "salesforce"), *cases})
        hubspot_ids = set(record_ids(keys, "hubspot"))
        if ids and self.two_way:
            # A case pushed again carries its two-way values over its ticket's: a refused
            # edit of that ticket goes to the case first.
            hubspot_ids.update(
                key.split(":", 1)[1]
                for key in SyncError.objects.filter(
                    integration=self.ctx.integration,
                    object=OBJECT,
                    resolved_at__isnull=True,
                    record_key__startswith="hubspot:",
                    salesforce_id__in=ids,
                ).values_list("record_key", flat=True)
            )
        if hubspot_ids:
            self.retry_tickets(sorted(hubspot_ids))
        if ids:
            records = salesforce_by_ids(self.ctx.salesforce, SOBJECT, self.case_fields(), ids)
            self.resolve_vanished("salesforce", ids, [r["Id"] for r in records], sobject=SOBJECT)
            for start in range(0, len(records), BATCH):
                self.handle_cases(records[start : start + BATCH], None, force=True)
        self.retries_done(requests, len(keys))

    def retry_tickets(self, hubspot_ids: list[str]) -> None:
        """Tickets whose edits Salesforce refused: read again (100 a call) and handled as
        changed tickets. A ticket gone from HubSpot, or with no two-way mapping left, has
        nothing to carry: its errors resolve."""
        objects = self.hubspot_reread(
            hubspot_ids,
            lambda i: (
                self.hubspot_read(i, properties=self.ticket_properties(), history=False).values()
                if self.two_way
                else []
            ),
        )
        for start in range(0, len(objects), BATCH):
            self.handle_tickets(objects[start : start + BATCH], None, retry=True)


# --- the wizard's preview -------------------------------------------------------------------
PREVIEW_PAGES = 25  # at most 50,000 cases with an account or contact are looked at


def sync_preview(integration, salesforce, hubspot, settings) -> dict[str, Any]:
    """What the first cycle will do, from one composite call (a ``COUNT()`` and the cases'
    account and contact ids), the links, and one HubSpot search for the ticket total."""
    from .changes import composite_query

    count, linked_cases = composite_query(
        salesforce,
        [
            "SELECT COUNT() FROM Case",
            "SELECT Id, AccountId, ContactId FROM Case "
            "WHERE AccountId != null OR ContactId != null",
        ],
        include_deleted=False,
    )
    records: list[dict] = []
    for n, page in enumerate(salesforce_pages(salesforce, linked_cases)):
        records.extend(page)
        if n + 1 >= PREVIEW_PAGES:
            break
    links = RecordLink.objects.filter(integration=integration)
    total = int(count.get("totalSize") or 0)
    already = links.filter(object=OBJECT).count()
    out: dict[str, Any] = {
        "cases": total,
        "creates": max(total - already, 0),
        "updates": min(already, total),
        "hubspot_tickets": None,
        "sampled": not linked_cases.get("done", True)
        and len(records) < linked_cases.get("totalSize", 0),
    }
    for kind, field, links_object in (
        ("account", "AccountId", "companies"),
        ("contact", "ContactId", "contacts"),
    ):
        ids = {r[field] for r in records if r.get(field)}
        ready = set(
            links.filter(object=links_object, salesforce_id__in=list(ids)).values_list(
                "salesforce_id", flat=True
            )
        )
        with_partner = [r for r in records if r.get(field)]
        out[f"{kind}_on"] = bool(getattr(settings, f"sync_{kind}_association"))
        out[f"{kind}_ready"] = sum(1 for r in with_partner if r[field] in ready)
        out[f"{kind}_waiting"] = len(with_partner) - out[f"{kind}_ready"]
    try:
        page = with_retries(lambda: hubspot.search(object_type=OBJECT, limit=1))
        out["hubspot_tickets"] = int(page.total or 0)
    except RemoteError as error:
        log.warning("counting HubSpot tickets failed: %s", error)
    return out
