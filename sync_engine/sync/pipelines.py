"""The HubSpot deal pipelines that mirror Salesforce's opportunity processes (spec §10).

One pipeline per active opportunity record type, labelled "Salesforce – ‹record type id›" (as
HubSpot's own integration names them; the Deals tab shows the record types' names too); an
org with one record type (or none) gets a single "Salesforce – default pipeline". Each
pipeline's stages are the ``StageName`` picklist values (label = value), with HubSpot's stage
metadata (``isClosed``, ``probability``: 1.0 for won, 0.0 for lost) taken from Salesforce's
``OpportunityStage`` rows, or from the value's name where that object can't be read.

Keeping them in step is cheap: the Opportunity describe is read at most once an hour, or at
once when a record names a record type or stage the pipelines don't know yet, and HubSpot is
only written when that describe changed. What was built is kept in ``SchemaCache`` (HubSpot,
``deals:pipelines``): record type → pipeline id and ``StageName`` value → stage id.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from ..errors import BadRequest, PermissionDenied, RateLimited, RemoteError, TransientError
from ..models import SchemaCache, System
from .changes import parse_time, with_retries
from .context import CycleContext

log = logging.getLogger(__name__)

OBJECT = "deals"
SOBJECT = "Opportunity"
STATE_OBJECT = "deals:pipelines"
REFRESH = timedelta(hours=1)
PREFIX = "Salesforce – "
DEFAULT_LABEL = f"{PREFIX}default pipeline"
DEFAULT_KEY = ""  # the single pipeline of an org with one record type, or none


@dataclass
class SyncedPipeline:
    key: str  # the record type id it mirrors, or DEFAULT_KEY
    id: str  # HubSpot pipeline id
    label: str
    stages: dict[str, str] = field(default_factory=dict)  # StageName value -> HubSpot stage id
    # Stages deleted in HubSpot and built again under a new id -> their StageName value: the
    # deals HubSpot left in the deleted stage still hold that stage (and move to the new one).
    gone: dict[str, str] = field(default_factory=dict)

    def stage_name(self, stage_id: str | None) -> str:
        for name, sid in self.stages.items():
            if sid == stage_id:
                return name
        return self.gone.get(stage_id or "", "")


def stage_metadata(names: list[str], known: dict[str, dict]) -> dict[str, dict[str, str]]:
    """HubSpot metadata per stage: Salesforce's own flags when known, else the name decides
    (…Won is won, …Lost or another Closed… is lost); open stages get rising probabilities."""
    out: dict[str, dict[str, str]] = {}
    open_names = []
    for name in names:
        info = known.get(name)
        if info is not None:
            closed, won = bool(info.get("IsClosed")), bool(info.get("IsWon"))
        else:
            lower = name.casefold()
            won = "won" in lower.split() or lower.endswith("won")
            closed = won or "lost" in lower or lower.startswith("closed")
        if won:
            out[name] = {"isClosed": "true", "probability": "1.0"}
        elif closed:
            out[name] = {"isClosed": "true", "probability": "0.0"}
        else:
            open_names.append(name)
            probability = (info or {}).get("DefaultProbability")
            out[name] = {
                "isClosed": "false",
                "probability": (
                    f"{float(probability) / 100:.2f}".rstrip("0").rstrip(".")
                    if probability is not None
                    else ""
                ),
            }
    for i, name in enumerate(open_names):
        if not out[name]["probability"]:
            out[name]["probability"] = f"{(i + 1) / (len(open_names) + 1):.1f}"
    return out


class Pipelines:
    def __init__(self, ctx: CycleContext) -> None:
        self.ctx = ctx
        self.refreshed = False  # the describe was read in this cycle
        # What that read said: (active values, stage flags, deactivated values).
        self._read: tuple[list[str], dict, list[str]] | None = None
        row = SchemaCache.objects.filter(
            integration=ctx.integration, system=System.HUBSPOT, object=STATE_OBJECT
        ).first()
        self.state: dict = row.data if row and isinstance(row.data, dict) else {}
        self.pipelines = [SyncedPipeline(**p) for p in self.state.get("pipelines", [])]
        # Pipelines no record type maps to any more (e.g. the default pipeline once the org
        # has several record types): their deals still sync, and move to their record
        # type's pipeline.
        self.retired = [SyncedPipeline(**p) for p in self.state.get("retired", [])]
        # Record types whose pipeline HubSpot refused to create (the Sales Hub tier caps
        # deal pipelines, spec §10) -> HubSpot's message. Tried again with each describe.
        self.refused: dict[str, str] = dict(self.state.get("refused") or {})
        # Deactivated values held by opportunities whose stage HubSpot refused to add (its
        # limit on stages, say) -> HubSpot's message; tried again with the hourly describe.
        self.held_refused: dict[str, str] = dict(self.state.get("held_refused") or {})
        self._labels: dict[str, str] | None = None  # HubSpot stage id -> label, when read

    # --- lookups ------------------------------------------------------------------------
    @property
    def by_id(self) -> dict[str, SyncedPipeline]:
        return {p.id: p for p in [*self.retired, *self.pipelines]}

    def synced(self, pipeline_id: str | None) -> bool:
        return bool(pipeline_id) and pipeline_id in self.by_id

    @property
    def per_record_type(self) -> bool:
        return any(p.key != DEFAULT_KEY for p in self.pipelines)

    def for_record_type(self, record_type_id: str | None) -> SyncedPipeline | None:
        """The pipeline an opportunity of this record type belongs in (the org's default
        record type when it has none)."""
        if not self.pipelines or self.refused_for(record_type_id):
            return None
        if not self.per_record_type:
            return self.pipelines[0]
        keyed = {p.key: p for p in self.pipelines}
        if record_type_id and record_type_id in keyed:
            return keyed[record_type_id]
        if record_type_id and record_type_id[:15] in {k[:15] for k in keyed}:
            return next(p for p in self.pipelines if p.key[:15] == record_type_id[:15])
        return keyed.get(self.state.get("default_record_type") or "") or self.pipelines[0]

    def refused_for(self, record_type_id: str | None) -> str | None:
        """HubSpot's refusal of the pipeline this record type's opportunities belong in."""
        if not self.refused:
            return None
        if DEFAULT_KEY in self.refused:
            return self.refused[DEFAULT_KEY]
        key = record_type_id or self.state.get("default_record_type") or ""
        return next((m for k, m in self.refused.items() if k and k[:15] == key[:15]), None)

    def knows(self, record: dict) -> bool:
        """Whether the pipelines cover this opportunity's record type and stage."""
        if self.refused_for(record.get("RecordTypeId")):
            return True  # known, and refused: the hourly describe tries it again
        pipeline = self.for_record_type(record.get("RecordTypeId"))
        if pipeline is None:
            return False
        record_type = record.get("RecordTypeId")
        known = {k[:15] for k in self.state.get("record_types") or []}
        if record_type and record_type[:15] not in known:
            return False
        stage = record.get("StageName")
        return not stage or stage in pipeline.stages

    def hubspot_stage_label(self, stage_id: str) -> str:
        """The label HubSpot shows for a stage of a synced pipeline (one read a cycle, only
        for errors about stages made in HubSpot); the id when it can't be read."""
        if self._labels is None:
            try:
                remote = self.ctx.hubspot.pipelines_get_all(object_type=OBJECT)
            except RemoteError:
                remote = []
            self._labels = {
                str(s.id): s.label
                for p in remote
                if str(p.id) in self.by_id
                for s in p.stages or []
            }
        return self._labels.get(stage_id) or stage_id

    # --- keeping them in step -------------------------------------------------------------
    def ensure(
        self, *, force: bool = False, held: Iterable[str] = (), remote: list | None = None
    ) -> None:
        """Read the describe when due (hourly) or forced (once a cycle), and bring HubSpot's
        pipelines in step when it changed. ``held``: stage values opportunities being synced
        hold; a deactivated one among them gets a stage (``held_inactive``). ``remote``:
        HubSpot's pipelines, just read: they are brought in step even if nothing changed."""
        if self.refreshed:
            self.keep_held(set(held))
            return
        checked = parse_time(self.state.get("checked_at"))
        # (No pipelines because HubSpot refused them all: tried again hourly, not every cycle.)
        built = bool(self.pipelines or self.refused)
        due = checked is None or timezone.now() - checked >= REFRESH or not built
        if not (due or force):
            return
        self.refreshed = True
        if due:
            self.held_refused = {}
        describe = self.ctx.salesforce.describe_object(SOBJECT)
        record_types = sorted(
            (
                rt
                for rt in describe.get("recordTypeInfos") or []
                if rt.get("active", True) and not rt.get("master")
            ),
            key=lambda rt: rt["recordTypeId"],
        )
        default = next(
            (rt["recordTypeId"] for rt in record_types if rt.get("defaultRecordTypeMapping")),
            record_types[0]["recordTypeId"] if record_types else "",
        )
        stage_field = next((f for f in describe.get("fields", []) if f["name"] == "StageName"), {})
        values = stage_field.get("picklistValues") or []
        stages = [v["value"] for v in values if v.get("active", True)]
        # Deactivated values: opportunities may still sit in them (see align_stages).
        inactive = [v["value"] for v in values if not v.get("active", True)]
        held_inactive = self.held_inactive(set(held), inactive)
        keys = [rt["recordTypeId"] for rt in record_types] if len(record_types) > 1 else []
        # The stages' closed/won/probability are part of what HubSpot must mirror: a stage
        # made Closed Won in Setup changes no describe, only its OpportunityStage row.
        flags = self.known_stage_flags()
        if flags is None:  # a blip: what was read last time, not the names' guesses
            flags = self.state.get("stage_flags") or {}
        stage_flags = [
            [flags.get(s, {}).get(k) for k in ("IsClosed", "IsWon", "DefaultProbability")]
            for s in stages
        ]
        signature = hashlib.sha1(
            json.dumps([keys, default, stages]).encode(), usedforsecurity=False
        ).hexdigest()
        stage_signature = hashlib.sha1(
            json.dumps([stage_flags, inactive]).encode(), usedforsecurity=False
        ).hexdigest()
        self._read = (stages, flags, inactive)
        if (
            signature != self.state.get("signature")
            or stage_signature != self.state.get("stage_signature")
            or not self.pipelines
            or self.refused
            or self.lacks(held_inactive)
            or remote is not None
        ):
            if self.state.get("signature") and signature != self.state["signature"]:
                self.refresh_schema()  # e.g. RecordTypeId appears once there are record types
            self.reconcile(keys, stages, flags, inactive, held_inactive, remote)
        self.state.update(
            signature=signature,
            stage_signature=stage_signature,
            held_inactive=held_inactive,
            held_refused=self.held_refused,
            default_record_type=default,
            # The record types' names, for the Deals tab (pipelines are named by id, as
            # HubSpot's own integration names them).
            record_type_names={
                rt["recordTypeId"]: rt.get("name") or ""
                for rt in describe.get("recordTypeInfos") or []
                if rt.get("recordTypeId")
            },
            # Every id an opportunity may carry (Master too), so none forces a describe.
            record_types=[
                rt["recordTypeId"]
                for rt in describe.get("recordTypeInfos") or []
                if rt.get("recordTypeId")
            ],
            checked_at=timezone.now().isoformat(),
            stage_flags={
                name: {k: row.get(k) for k in ("IsClosed", "IsWon", "DefaultProbability")}
                for name, row in flags.items()
            },
            pipelines=[vars(p) for p in self.pipelines],
            retired=[vars(p) for p in self.retired],
            refused=self.refused,
        )
        self.save()

    def gone_rebuilt(self) -> dict[str, str]:
        """After HubSpot refused a deal write naming a synced pipeline or stage: those deleted
        in HubSpot since are built again (one read of the pipelines, only then, and the
        describe read again), as the hourly check would. Old id -> new id of each pipeline
        and stage built again; empty when none was gone (refused for another reason)."""
        try:
            remote = self.ctx.hubspot.pipelines_get_all(object_type=OBJECT)
            live = {
                str(p.id): {str(s.id) for s in p.stages or [] if not getattr(s, "archived", False)}
                for p in remote
                if not getattr(p, "archived", False)
            }
            before = list(self.pipelines)
            if all(p.id in live and set(p.stages.values()) <= live[p.id] for p in before):
                return {}
            self.refreshed = False
            self.ensure(force=True, remote=remote)
        except RemoteError as error:  # the refusals stand; looked at again at their retry
            log.warning("rebuilding deal pipelines deleted in HubSpot failed: %s", error)
            return {}
        moved: dict[str, str] = {}
        for old in before:
            new = next((p for p in self.pipelines if p.key == old.key), None)
            if new is None:
                continue  # HubSpot refused it again (see ``refused``)
            if new.id != old.id:
                moved[old.id] = new.id
            for name, stage_id in old.stages.items():
                if new.stages.get(name, stage_id) != stage_id:
                    moved[stage_id] = new.stages[name]
        return moved

    def held_inactive(self, held: set[str], inactive: list[str]) -> list[str]:
        """The deactivated values that get a stage: those opportunities were seen holding,
        now or before (old opportunities keep such values for ever; an import brings them)."""
        kept = {*self.state.get("held_inactive", []), *held}
        return [value for value in inactive if value in kept]

    def lacks(self, values: list[str]) -> bool:
        """Whether a pipeline lacks a stage for one of ``values`` HubSpot didn't refuse."""
        return any(
            value not in p.stages and value not in self.held_refused
            for p in self.pipelines
            for value in values
        )

    def keep_held(self, held: set[str]) -> None:
        """After this cycle's describe: stages for deactivated values a later batch holds,
        added to the pipelines as they are (nothing else is reconciled again)."""
        if self._read is None or not held:
            return
        stages, flags, inactive = self._read
        held_inactive = self.held_inactive(held, inactive)
        if not self.lacks(held_inactive):
            return
        metadata = stage_metadata(held_inactive, flags)
        for pipeline in self.pipelines:
            self.add_held_stages(pipeline, held_inactive, len(stages), metadata)
        self.state.update(
            held_inactive=held_inactive,
            held_refused=self.held_refused,
            pipelines=[vars(p) for p in self.pipelines],
        )
        self.save()

    def refresh_schema(self) -> None:
        """The describe changed: the cached schema (fields the cycle queries) follows."""
        from ..services import schema_refresh

        schema_refresh(integration=self.ctx.integration, object_name=OBJECT)
        row = SchemaCache.objects.filter(
            integration=self.ctx.integration, system=System.SALESFORCE, object=SOBJECT
        ).first()
        if row is not None:
            self.ctx.salesforce_fields[SOBJECT] = {f["name"]: f for f in row.data}

    def save(self) -> None:
        SchemaCache.objects.update_or_create(
            integration=self.ctx.integration,
            system=System.HUBSPOT,
            object=STATE_OBJECT,
            defaults={"data": self.state, "fetched_at": timezone.now()},
        )

    def known_stage_flags(self) -> dict[str, dict] | None:
        """``OpportunityStage`` rows by ``ApiName`` (closed, won, probability); empty where
        the object can't be queried, None when Salesforce failed to answer for now."""
        soql = "SELECT ApiName, IsActive, IsClosed, IsWon, DefaultProbability FROM OpportunityStage"
        try:
            rows = with_retries(lambda: self.ctx.salesforce.query_all(soql))
        except (TransientError, RateLimited) as error:
            log.info("OpportunityStage not read (%s); the last read stands", error)
            return None
        except RemoteError as error:
            log.info("OpportunityStage unavailable (%s); stage names decide", error)
            return {}
        return {r["ApiName"]: r for r in rows if r.get("ApiName")}

    def reconcile(
        self,
        keys: list[str],
        stages: list[str],
        flags: dict[str, dict],
        inactive: list[str],
        held_inactive: list[str],
        remote: list | None = None,
    ) -> None:
        """Create missing pipelines and stages in HubSpot and align stage metadata; stages
        Salesforce no longer has stay in HubSpot (deals may sit in them) but stop mapping,
        except deactivated ones a pipeline already has (opportunities keep those values).
        ``held_inactive`` deactivated values get a stage after the active ones. ``remote``:
        HubSpot's pipelines when just read (else read here)."""
        metadata = {**stage_metadata(held_inactive, flags), **stage_metadata(stages, flags)}
        wanted = [(k, f"{PREFIX}{k}") for k in keys] or [(DEFAULT_KEY, DEFAULT_LABEL)]
        if remote is None:
            remote = self.ctx.hubspot.pipelines_get_all(object_type=OBJECT)
        existing = {p.label: p for p in remote if not getattr(p, "archived", False)}
        previous = {p.key: p for p in self.pipelines}
        built: list[SyncedPipeline] = []
        refused: dict[str, str] = {}
        for order, (key, label) in enumerate(wanted):
            remote = existing.get(label)
            if remote is None and key in previous:
                remote = next((p for p in existing.values() if str(p.id) == previous[key].id), None)
            if remote is None:
                try:
                    built.append(
                        self.create_pipeline(key, label, order, [*stages, *held_inactive], metadata)
                    )
                except (BadRequest, PermissionDenied) as error:
                    # One pipeline over the account's limit mustn't stop the others' deals:
                    # its opportunities get an error each (see deals.pipeline_refused).
                    refused[key] = error.message
                    self.ctx.counts["pipelines_refused"] += 1
                    continue
                self.ctx.counts["pipelines_created"] += 1
            else:
                before = previous.get(key) or SyncedPipeline(key=key, id="", label=label)
                pipeline = self.align_stages(key, remote, stages, metadata, inactive, before)
                self.add_held_stages(pipeline, held_inactive, len(stages), metadata)
                built.append(pipeline)
        current = {p.id for p in built}
        retired: dict[str, SyncedPipeline] = {}
        for pipeline in [*self.retired, *previous.values()]:
            if pipeline.id not in current:
                retired[pipeline.id] = pipeline
        self.pipelines, self.retired = built, list(retired.values())
        self.refused = refused

    def create_pipeline(
        self, key: str, label: str, order: int, stages: list[str], metadata: dict
    ) -> SyncedPipeline:
        created = hubspot_pipeline_create(
            self.ctx.hubspot,
            OBJECT,
            label=label,
            order=100 + order,
            stages=[(name, metadata[name]) for name in stages],
        )
        return SyncedPipeline(
            key=key,
            id=str(created.id),
            label=label,
            stages={s.label: str(s.id) for s in created.stages or [] if s.label in metadata},
        )

    def align_stages(
        self,
        key: str,
        remote,
        stages: list[str],
        metadata: dict,
        inactive: list[str],
        before: SyncedPipeline,
    ) -> SyncedPipeline:
        """``before``: the pipeline as mapped so far (its stage ids by StageName value, and
        those deleted in HubSpot since)."""
        known = before.stages
        pipeline = SyncedPipeline(key=key, id=str(remote.id), label=remote.label)
        live = [s for s in remote.stages or [] if not getattr(s, "archived", False)]
        present = {s.label: s for s in live}
        # A stage renamed in HubSpot is still that value's stage: its deals stay in it.
        by_id = {str(s.id): s for s in live}
        pipeline.gone = {i: name for i, name in before.gone.items() if i not in by_id}
        present.update({name: by_id[i] for name, i in known.items() if i in by_id})
        # A value deactivated in Setup stays on the opportunities that hold it: its stage
        # keeps mapping, or those deals would fail with an unknown stage at every edit.
        for name in inactive:
            if name in present:
                pipeline.stages[name] = str(present[name].id)
        for order, name in enumerate(stages):
            stage = present.get(name)
            if stage is None:
                stage = self.create_stage(pipeline, name, order, metadata)
            else:
                current = {k: str(v) for k, v in (stage.metadata or {}).items()}
                wanted = {**current, **metadata[name]}
                if current != wanted or stage.display_order != order:
                    hubspot_stage_update(
                        self.ctx.hubspot,
                        OBJECT,
                        pipeline.id,
                        str(stage.id),
                        {"displayOrder": order, "metadata": wanted},
                    )
                    self.ctx.counts["pipeline_stages_updated"] += 1
            pipeline.stages[name] = str(stage.id)
        # A mapped stage deleted in HubSpot (now built again): its deals are still in it.
        for name, stage_id in known.items():
            if stage_id not in by_id and pipeline.stages.get(name, stage_id) != stage_id:
                pipeline.gone[stage_id] = name
        return pipeline

    def add_held_stages(
        self, pipeline: SyncedPipeline, held_inactive: list[str], after: int, metadata: dict
    ) -> None:
        """Stages for the deactivated values opportunities hold that the pipeline lacks, after
        its active ones (``align_stages`` already mapped those it has)."""
        for order, name in enumerate(held_inactive, start=after):
            if name in pipeline.stages or name in self.held_refused:
                continue
            try:
                stage = self.create_stage(pipeline, name, order, metadata)
            except (BadRequest, PermissionDenied) as error:
                # Its opportunities keep their stage error, with HubSpot's reason; the
                # other deals sync.
                self.held_refused[name] = error.message
                continue
            pipeline.stages[name] = str(stage.id)

    def create_stage(self, pipeline: SyncedPipeline, name: str, order: int, metadata: dict):
        stage = hubspot_stage_create(
            self.ctx.hubspot, OBJECT, pipeline.id, label=name, order=order, metadata=metadata[name]
        )
        self.ctx.counts["pipeline_stages_created"] += 1
        return stage


# HubSpot's pipeline API, one call each (deal pipelines here, ticket pipelines in tickets.py).
def hubspot_pipeline_create(
    hubspot, object_type: str, *, label: str, order: int, stages: list[tuple[str, dict]]
) -> Any:
    """A new pipeline of ``object_type`` with ``stages`` ((label, metadata), in order)."""
    body = {
        "label": label,
        "displayOrder": order,
        "stages": [
            {"label": name, "displayOrder": i, "metadata": metadata}
            for i, (name, metadata) in enumerate(stages)
        ],
    }
    return hubspot.call(
        "crm.pipelines.pipelines_api",
        "create",
        object_type,
        body,
        operation=f"{object_type}.pipelines.create",
        sent=1,
    )


def hubspot_stage_create(
    hubspot, object_type: str, pipeline_id: str, *, label: str, order: int, metadata: dict
) -> Any:
    return hubspot.call(
        "crm.pipelines.pipeline_stages_api",
        "create",
        object_type,
        pipeline_id,
        {"label": label, "displayOrder": order, "metadata": metadata},
        operation=f"{object_type}.pipelines.stages.create",
        sent=1,
    )


def hubspot_stage_update(
    hubspot, object_type: str, pipeline_id: str, stage_id: str, changes: dict
) -> None:
    hubspot.call(
        "crm.pipelines.pipeline_stages_api",
        "update",
        object_type,
        pipeline_id,
        stage_id,
        changes,
        operation=f"{object_type}.pipelines.stages.update",
        sent=1,
    )


def _stored_state(integration) -> dict:
    row = SchemaCache.objects.filter(
        integration=integration, system=System.HUBSPOT, object=STATE_OBJECT
    ).first()
    return row.data if row and isinstance(row.data, dict) else {}


def synced_pipelines(integration) -> list[dict]:
    """For the Deals tab: each synced pipeline's label, HubSpot id, record type, stage count;
    then each record type whose pipeline HubSpot refused to create, with HubSpot's reason
    (``refused``), so the tab doesn't leave it out unexplained."""
    data = _stored_state(integration)
    names = data.get("record_type_names") or {}
    rows = [
        {
            "label": p["label"],
            "id": p["id"],
            "record_type": p["key"],
            "record_type_name": names.get(p["key"], ""),
            "stage_count": len(p.get("stages") or {}),
            "refused": "",
        }
        for p in data.get("pipelines", [])
    ]
    rows += [
        {
            "label": "",
            "id": "",
            "record_type": key,
            "record_type_name": names.get(key, ""),
            "stage_count": 0,
            "refused": message or "-",
        }
        for key, message in (data.get("refused") or {}).items()
    ]
    return rows


def synced_pipeline_ids(integration) -> set[str]:
    """The HubSpot pipelines whose deals sync: the record types' and the retired ones (their
    deals still sync and move to their record type's pipeline)."""
    data = _stored_state(integration)
    return {str(p["id"]) for p in [*data.get("pipelines", []), *data.get("retired", [])]}
