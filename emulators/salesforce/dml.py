"""Create, update, upsert, delete and undelete: the one write path every API surface shares.

Single-record REST, sObject Collections, composite, Bulk 2.0 and the control-plane "UI user"
all call :class:`Writer`, so validation, derived fields, stamps and duplicate checks behave the
same everywhere. A write either raises :class:`SfError` before touching the store or applies
completely; multi-record operations wrap it in ``store.transaction()`` for rollback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from . import case_statuses, stages
from .errors import SfError, entity_deleted, invalid_field, malformed_id
from .ids import normalize
from .render import record_url
from .schema import AUTO_NUMBER_FORMATS, FieldDef, ObjectDef, auto_number_text
from .validation import coerce, rule_fires
from .values import format_datetime, parse_datetime

if TYPE_CHECKING:
    from .app import SalesforceApp

SYSTEM_FIELDS = (
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)

# Salesforce archives activities older than a year (a nightly job): closed Tasks whose due date
# (else creation date) and Events whose end is more than this before today. Only queryAll (REST
# and Bulk 2.0) returns them, with IsArchived true.
ARCHIVE_AFTER = timedelta(days=365)
ACTIVITIES = ("Task", "Event")


def is_archived(obj_name: str, rec: dict[str, Any], cutoff: str) -> bool:
    """Whether an activity is archived when ``cutoff`` (ISO date) is a year before today."""
    if obj_name == "Task":
        if not rec.get("IsClosed"):
            return False
        day = rec.get("ActivityDate")
    else:
        day = rec.get("EndDate") or rec.get("ActivityDate")
    day = day or (rec.get("CreatedDate") or "")[:10]
    return bool(day) and day < cutoff


# Locales (their language) whose names Salesforce writes family name first: a User's Name is
# then "LastName FirstName" (Salesforce's isEasternNameStyle).
EASTERN_NAME_LANGUAGES = frozenset({"ja", "zh", "ko", "hu"})


def eastern_name_order(locale: str | None) -> bool:
    return (locale or "").split("_")[0].lower() in EASTERN_NAME_LANGUAGES


# Deleting a parent moves these children to the recycle bin with it (and undelete restores them).
CASCADE_DELETE = {
    "Account": [
        ("Contact", "AccountId"),
        ("Opportunity", "AccountId"),
        ("Task", "WhatId"),
        ("Event", "WhatId"),
    ],
    "Contact": [
        ("OpportunityContactRole", "ContactId"),
        ("CampaignMember", "ContactId"),
        ("Task", "WhoId"),
        ("Event", "WhoId"),
    ],
    "Lead": [("CampaignMember", "LeadId"), ("Task", "WhoId"), ("Event", "WhoId")],
    "Opportunity": [
        ("OpportunityContactRole", "OpportunityId"),
        ("Task", "WhatId"),
        ("Event", "WhatId"),
    ],
    "Campaign": [("CampaignMember", "CampaignId")],
    "Case": [("Task", "WhatId"), ("Event", "WhatId")],
}

# Key prefixes of objects that exist in a real org but are not emulated: references to them are
# checked for shape and prefix only.
FOREIGN_PREFIXES = {
    "Group": "00G",
    "Calendar": "023",
    "Profile": "00e",
    "UserRole": "00E",
    "Individual": "0PK",
    "BusinessHours": "01m",
    "Asset": "02i",
    "Pricebook2": "01s",
    "DandBCompany": "06d",
    "OperatingHours": "0OH",
    "CallCenter": "04v",
    "BusinessProcess": "019",
    "OpportunityHistory": "008",
}

# Wording of FIELD_INTEGRITY_EXCEPTION with State and Country/Territory Picklists on.
COUNTRY_PROBLEM = (
    "There's a problem with this country, even though it may appear correct. Please select a "
    "country/territory from the list of valid countries."
)
STATE_PROBLEM = (
    "There's a problem with this state, even though it may appear correct. Please select a "
    "state from the list of valid states."
)
DUPLICATE_MESSAGE = (
    "You're creating a duplicate record. We recommend you use an existing record instead."
)


# What each occurrence of a recurring series shares with its master.
SERIES_FIELDS = {
    "Event": ("Subject", "WhoId", "WhatId", "Description", "Location", "DurationInMinutes",
              "IsAllDayEvent", "ShowAs", "Type", "OwnerId"),
    "Task": ("Subject", "WhoId", "WhatId", "Description", "Status", "Priority", "Type",
             "TaskSubtype", "OwnerId"),
}  # fmt: skip


@dataclass
class Ctx:
    """Who writes and how: the user stamped on records, and request-level switches."""

    user_id: str
    allow_save: bool = False  # Sforce-Duplicate-Rule-Header: allowSave=true
    system: bool = False  # internal writes skip createable/updateable/field-permission checks
    collection: bool = False  # per-record errors of sObject Collections / composite DML
    auto_assign: bool = True  # Sforce-Auto-Assign: REST runs assignment rules unless FALSE
    version: str = "59.0"


class Writer:
    def __init__(self, app: SalesforceApp) -> None:
        self.app = app
        self._defaults: dict[str, dict[str, Any]] = {}
        self._unique: dict[str, list[FieldDef]] = {}

    def reset_caches(self) -> None:
        self._defaults.clear()
        self._unique.clear()

    @property
    def store(self):  # noqa: ANN201 - the org's Store
        return self.app.org.store

    # --- reads used by writes ------------------------------------------------------------
    def archive_activities(self, obj_name: str, records: Any) -> None:
        """Bring ``IsArchived`` of these Tasks or Events up to the emulator's clock: the
        archiving job, run whenever they are read (no stamps move)."""
        if obj_name not in ACTIVITIES:
            return
        cutoff = (self.app.clock.now() - ARCHIVE_AFTER).date().isoformat()
        for rec in list(records):
            archived = is_archived(obj_name, rec, cutoff)
            if bool(rec.get("IsArchived")) != archived:
                self.store.update(obj_name, rec["Id"], {"IsArchived": archived})

    def live(self, obj: ObjectDef, record_id: Any, ctx: Ctx, *, action: str = "get") -> dict:
        """The current record; raises MALFORMED_ID / NOT_FOUND / ENTITY_IS_DELETED."""
        norm = normalize(record_id) if isinstance(record_id, str) else None
        if norm is None:
            raise malformed_id(record_id)
        rec = None
        if norm[:3] == obj.key_prefix:
            rec = self.store.get(obj.name, norm)
            if rec is not None:
                rec = self.app.visible_version(obj.name, rec)
        if rec is None:
            if ctx.collection and norm[:3] != obj.key_prefix:
                raise malformed_id(record_id)
            if action == "get" and not ctx.collection:
                raise SfError("NOT_FOUND", "The requested resource does not exist", None, 404)
            raise self._missing(norm, ctx)
        self.archive_activities(obj.name, [rec])
        if rec.get("IsDeleted"):
            error = entity_deleted()
            if ctx.collection:
                error.status = 400
            raise error
        return rec

    @staticmethod
    def _missing(record_id: str, ctx: Ctx) -> SfError:
        if ctx.collection:
            return SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        return SfError(
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {record_id}",
            [],
            404,
        )

    # --- public operations ---------------------------------------------------------------
    def create(self, obj: ObjectDef, body: Any, ctx: Ctx) -> str:
        _refuse_entity(obj, "createable", "inserted")
        if not ctx.system:
            self._check_object_access(obj, ctx, "create")
        changes = self._changes(obj, body, ctx, creating=True)
        merged = dict(self._defaults_for(obj))
        if "OwnerId" in obj.fields and "OwnerId" not in merged:
            merged["OwnerId"] = ctx.user_id
        merged.update(changes)
        self._assign(obj, merged, ctx)
        self._check_owner(obj, merged.get("OwnerId"), ctx)
        changes = {k: merged.get(k) for k in merged}
        self._required(obj, merged)
        self._derive(obj, merged, changes, creating=True, old=None, ctx=ctx)
        self._geo(obj, merged, changes, old=None)
        self._rules(obj, merged, changes, creating=True)
        record_id = self.store.new_id(obj.key_prefix)
        merged["Id"] = record_id
        self._unique_check(obj, merged, changes, record_id)
        self._duplicate_rules(obj, merged, changes, record_id, ctx)
        now = self.app.now_stamp()
        merged.update(
            CreatedDate=now,
            CreatedById=ctx.user_id,
            LastModifiedDate=now,
            LastModifiedById=ctx.user_id,
            SystemModstamp=now,
            IsDeleted=False,
        )
        for name, display_format in AUTO_NUMBER_FORMATS.items():
            if name[0] == obj.name:
                number = self.app.org.auto_numbers.get(name, 0) + 1
                self.app.org.auto_numbers[name] = number
                merged[name[1]] = auto_number_text(display_format, number)
        if "Name" in obj.fields and obj.custom and merged.get("Name") is None:
            merged["Name"] = record_id
        self._after_create(obj, merged)
        days = self._series_days(obj, merged)
        if days:
            merged["RecurrenceActivityId"] = record_id  # a series master names itself
        rec = {k: v for k, v in merged.items() if v is not None}
        self._late_commit_create(obj, rec)
        self.store.insert(obj.name, rec)
        if obj.name == "RecordType":
            self.app.refresh_record_types()
        for day in days:
            self._series_occurrence(obj, rec, day, ctx)
        return record_id

    def update(self, obj: ObjectDef, record_id: Any, body: Any, ctx: Ctx) -> str:
        _refuse_entity(obj, "updateable", "updated")
        rec = self.live(obj, record_id, ctx, action="update")
        record_id = rec["Id"]
        if not ctx.system:
            self._check_write_access(obj, record_id, ctx)
        self._check_lock(record_id)
        if obj.name == "Lead" and rec.get("IsConverted") and not ctx.system:
            raise SfError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        changes = self._changes(obj, body, ctx, creating=False)
        for name, value in changes.items():
            if value is None:
                f = obj.fields[name]
                if not f.nillable and f.type != "boolean":
                    raise SfError(
                        "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]", [name]
                    )
        self._assign(obj, changes, ctx)
        if changes.get("OwnerId") != rec.get("OwnerId"):
            self._check_owner(obj, changes.get("OwnerId"), ctx)
        merged = dict(rec)
        merged.update(changes)
        self._derive(obj, merged, changes, creating=False, old=rec, ctx=ctx)
        self._geo(obj, merged, changes, old=rec)
        self._rules(obj, merged, changes, creating=False)
        self._unique_check(obj, merged, changes, record_id)
        self._duplicate_rules(obj, merged, changes, record_id, ctx)
        self.apply(obj, record_id, changes, ctx.user_id)
        if obj.name == "RecordType":
            self.app.refresh_record_types()
        return record_id

    def _assign(self, obj: ObjectDef, values: dict[str, Any], ctx: Ctx) -> None:
        """An active assignment rule sets the owner of API creates and updates too, unless
        the request says ``Sforce-Auto-Assign: FALSE`` (REST's default is TRUE)."""
        owner = self.app.org.assignment_rules.get(obj.name)
        if owner and ctx.auto_assign and not ctx.system:
            values["OwnerId"] = owner

    def upsert(
        self,
        obj: ObjectDef,
        field_name: str,
        value: Any,
        body: Any,
        ctx: Ctx,
        *,
        update_only: bool = False,
    ) -> tuple[str, bool]:
        f = self.external_id_field(obj, field_name, ctx)
        if not isinstance(body, dict):
            raise SfError("JSON_PARSER_ERROR", "Expected a JSON object for the record", None)
        if value is None or value == "":
            raise SfError("MISSING_ARGUMENT", f"{f.name} not specified", [f.name])
        body = dict(body)
        for key in list(body):
            if key.lower() == f.lower and str(body.pop(key)) != str(value):
                raise SfError(
                    "INVALID_FIELD",
                    f"The {f.name} value in the record does not match the external id in the URL",
                    [f.name],
                )
        if f.name == "Id":
            norm = normalize(value)
            if norm is None:
                raise malformed_id(value)
            self.update(obj, norm, body, ctx)
            return norm, False
        matches = self.find_by_external_id(obj, f, value)
        if len(matches) > 1:
            raise SfError(
                "DUPLICATE_EXTERNAL_ID",
                f"{f.name}: more than one record found for external id field: "
                f"[{', '.join(sorted(matches))}]",
                [f.name],
                300,
                {"matches": sorted(matches)},
            )
        if matches:
            return self.update(obj, matches[0], body, ctx), False
        if update_only:
            raise SfError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {value}",
                [],
                404,
            )
        body[f.name] = value
        return self.create(obj, body, ctx), True

    def external_id_field(self, obj: ObjectDef, field_name: str, ctx: Ctx) -> FieldDef:
        f = self.app.visible_fields(obj, ctx.user_id).get(field_name.lower())
        if f is None or not (f.external_id or f.name == "Id"):
            raise SfError(
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
                [],
                404,
            )
        return f

    def find_by_external_id(self, obj: ObjectDef, f: FieldDef, value: Any) -> list[str]:
        if f.name == "Id":
            norm = normalize(value)
            rec = self.store.get(obj.name, norm) if norm else None
            return [norm] if rec is not None and not rec.get("IsDeleted") else []
        try:
            stored = coerce(f, value)
        except SfError:
            return []
        if stored is None:
            return []
        table = self.store.table(obj.name)
        ids = self.store.lookup(obj.name, f.name, stored, case_sensitive=f.case_sensitive)
        return sorted(i for i in ids if not table[i].get("IsDeleted"))

    def delete(self, obj: ObjectDef, record_id: Any, ctx: Ctx) -> str:
        if not obj.raw.get("createable", True):
            # Read-only objects (OpportunityStage) refuse as a type; User and RecordType
            # refuse per record below.
            _refuse_entity(obj, "deletable", "deleted")
        rec = self.live(obj, record_id, ctx, action="delete")
        record_id = rec["Id"]
        if not ctx.system:
            self._check_write_access(obj, record_id, ctx, deleting=True)
        self._check_lock(record_id)
        if not obj.raw.get("deletable", True):
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", []
            )
        with self.store.transaction():
            self._soft_delete(obj, record_id, ctx.user_id, cascade_of=None)
        return record_id

    def _soft_delete(
        self,
        obj: ObjectDef,
        record_id: str,
        user_id: str,
        cascade_of: str | None,
        master_id: str | None = None,
    ) -> None:
        now = self.app.now_stamp()
        changes: dict[str, Any] = {"IsDeleted": True, "_deleted_at": now}
        if cascade_of:
            changes["_cascade_of"] = cascade_of
        if master_id:
            changes["MasterRecordId"] = master_id
        self.apply(obj, record_id, changes, user_id)
        for child_name, fk in CASCADE_DELETE.get(obj.name, ()):
            child = self.app.schema.objects[child_name]
            table = self.store.table(child_name)
            for child_id in sorted(self.store.lookup(child_name, fk, record_id, True)):
                if not table[child_id].get("IsDeleted"):
                    self._soft_delete(child, child_id, user_id, cascade_of=record_id)

    def undelete(self, obj: ObjectDef, record_id: Any, ctx: Ctx) -> str:
        norm = normalize(record_id) if isinstance(record_id, str) else None
        rec = self.store.get(obj.name, norm) if norm else None
        if rec is None:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if not rec.get("IsDeleted"):
            raise SfError("UNDELETE_FAILED", "Entity is not in the recycle bin", [])
        with self.store.transaction():
            self._restore(obj, rec["Id"], ctx.user_id)
        return rec["Id"]

    def _restore(self, obj: ObjectDef, record_id: str, user_id: str) -> None:
        self.apply(
            obj,
            record_id,
            {"IsDeleted": False, "_deleted_at": None, "_cascade_of": None, "MasterRecordId": None},
            user_id,
        )
        for child_name, _fk in CASCADE_DELETE.get(obj.name, ()):
            child = self.app.schema.objects[child_name]
            for child_id, child_rec in list(self.store.table(child_name).items()):
                if child_rec.get("_cascade_of") == record_id:
                    self._restore(child, child_id, user_id)

    # --- low-level write with stamps (no validation) -------------------------------------
    def apply(
        self,
        obj: ObjectDef,
        record_id: str,
        changes: dict[str, Any],
        user_id: str,
        *,
        system_only: bool = False,
    ) -> None:
        """Write ``changes`` and stamp the record; ``system_only`` bumps only SystemModstamp."""
        now = self.app.now_stamp()
        changes = dict(changes)
        changes["SystemModstamp"] = now
        if not system_only:
            changes["LastModifiedDate"] = now
            changes["LastModifiedById"] = user_id
        self._late_commit_update(obj, record_id, changes)
        self.store.update(obj.name, record_id, changes)

    def insert_raw(
        self, obj: ObjectDef, fields: dict[str, Any], user_id: str, *, at: str | None = None
    ) -> str:
        """Seed/system insert without validation (users, record types, demo data)."""
        record_id = self.store.new_id(obj.key_prefix)
        now = at or self.app.now_stamp()
        rec = dict(self._defaults_for(obj))
        if "OwnerId" in obj.fields:
            rec["OwnerId"] = user_id
        rec.update({k: v for k, v in fields.items() if v is not None})
        rec.update(
            Id=record_id,
            IsDeleted=False,
            CreatedDate=now,
            CreatedById=user_id,
            LastModifiedDate=now,
            LastModifiedById=user_id,
            SystemModstamp=now,
        )
        self._derive(obj, rec, dict(rec), creating=True, old=None, ctx=Ctx(user_id, system=True))
        self._after_create(obj, rec)
        self.store.insert(obj.name, {k: v for k, v in rec.items() if v is not None})
        return record_id

    # --- steps ---------------------------------------------------------------------------
    def _changes(self, obj: ObjectDef, body: Any, ctx: Ctx, *, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise SfError(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {obj.name} from {_kind(body)} value",
                None,
            )
        visible = self.app.visible_fields(obj, ctx.user_id)
        perms = None if ctx.system else self.app.field_permissions(ctx.user_id, obj.name)
        out: dict[str, Any] = {}
        not_writable: list[str] = []
        for key, value in body.items():
            if key == "attributes":
                continue
            lower = key.lower()
            f = visible.get(lower)
            if f is None:
                rel = obj.relationships.get(lower)
                if rel is not None and rel.lower in visible and isinstance(value, dict):
                    f = rel
                    value = self._resolve_reference(rel, value, ctx)
                else:
                    if perms and perms.get(lower) == "hidden":
                        not_writable.append(obj.by_lower[lower].name)
                        continue
                    raise invalid_field(key, obj.name)
            if f.name == "Id":
                # The record's id goes in the URL (Collections and Bulk take it out of the
                # body before they get here); REST refuses it in the body, updates too.
                if creating or not ctx.system:
                    raise SfError(
                        "INVALID_FIELD",
                        "The Id field should not be specified in the sobject data.",
                        [],
                    )
                continue
            if not ctx.system and (
                not (f.createable if creating else f.updateable)
                or (perms is not None and perms.get(f.lower) == "read")
            ):
                not_writable.append(f.name)
                continue
            out[f.name] = self._value(obj, f, value, ctx)
        if not_writable:
            raise SfError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(not_writable)}. Please check the "
                "security settings of this field and verify that it is read/write for your "
                "profile or permission set.",
                not_writable,
            )
        return out

    def _value(self, obj: ObjectDef, f: FieldDef, value: Any, ctx: Ctx) -> Any:
        if isinstance(value, dict | list) and not f.is_text:
            raise SfError(
                "JSON_PARSER_ERROR",
                f"Cannot deserialize instance of {f.type} from {_kind(value)} value",
                [f.name],
            )
        stored = coerce(f, value)
        if stored is not None and f.type == "reference":
            self._check_reference(f, stored)
        return stored

    def _check_owner(self, obj: ObjectDef, owner_id: Any, ctx: Ctx) -> None:
        """Records can't be given to a deactivated user (a queue or an active user only)."""
        if ctx.system or not isinstance(owner_id, str):
            return
        user = self.store.get("User", owner_id)
        if user is not None and not user.get("IsActive", True):
            raise SfError(
                "INACTIVE_OWNER_OR_USER",
                f"operation performed with inactive user [{owner_id}] as owner of "
                f"{obj.label.lower()}",
                [],
            )

    def _check_reference(self, f: FieldDef, target_id: str) -> None:
        schema = self.app.schema
        prefix = target_id[:3]
        known = schema.by_prefix.get(prefix)
        if known is None:
            # Not an emulated object: accept ids of the non-emulated targets (shape only).
            others = [n for n in f.reference_to if n not in schema.objects]
            prefixes = {FOREIGN_PREFIXES.get(n) for n in others}
            if others and (prefix in prefixes or None in prefixes):
                return
            raise SfError(
                "MALFORMED_ID", f"{f.label}: id value of incorrect type: {target_id}", [f.name]
            )
        if known.name not in f.reference_to:
            raise SfError(
                "MALFORMED_ID", f"{f.label}: id value of incorrect type: {target_id}", [f.name]
            )
        rec = self.store.get(known.name, target_id)
        if rec is not None:
            rec = self.app.visible_version(known.name, rec)
        if rec is None:
            raise SfError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if rec.get("IsDeleted"):
            raise SfError("ENTITY_IS_DELETED", "entity is deleted", [f.name])

    def _resolve_reference(self, rel: FieldDef, value: dict[str, Any], ctx: Ctx) -> str:
        """``"Account": {"HubSpot_Id__c": "42"}``: set a lookup through the parent's external id."""
        keys = [k for k in value if k != "attributes"]
        targets = [
            self.app.schema.objects[n] for n in rel.reference_to if n in self.app.schema.objects
        ]
        attr_type = (value.get("attributes") or {}).get("type")
        if attr_type:
            targets = [t for t in targets if t.name.lower() == str(attr_type).lower()] or targets
        if len(keys) != 1 or not targets:
            raise SfError(
                "INVALID_FIELD",
                f"Foreign key reference for {rel.relationship_name} "
                "must name exactly one external id field",
                [rel.name],
            )
        target = targets[0]
        f = self.app.visible_fields(target, ctx.user_id).get(keys[0].lower())
        if f is None or not (f.external_id or f.raw.get("idLookup")):
            raise invalid_field(keys[0], target.name)
        matches = self.find_by_external_id(target, f, value[keys[0]])
        if not matches:
            raise SfError(
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} not found for field {f.name} in "
                f"entity {target.name}",
                [],
            )
        if len(matches) > 1:
            raise SfError(
                "INVALID_FIELD",
                f"Foreign key external ID: {value[keys[0]]} matches more than one record for "
                f"field {f.name} in entity {target.name}",
                [],
            )
        return matches[0]

    def _defaults_for(self, obj: ObjectDef) -> dict[str, Any]:
        defaults = self._defaults.get(obj.name)
        if defaults is None:
            defaults = {}
            for f in obj.fields.values():
                if f.type == "boolean":
                    defaults[f.name] = bool(f.default) if f.default is not None else False
                elif f.picklist_default is not None and f.condition is None:
                    defaults[f.name] = f.picklist_default
            self._defaults[obj.name] = defaults
        out = dict(defaults)
        record_type = self.app.org.default_record_types.get(obj.name)
        if record_type:
            out["RecordTypeId"] = record_type
        return out

    def _required(self, obj: ObjectDef, merged: dict[str, Any]) -> None:
        covered: set[str] = set()
        problems: list[str] = []
        for rule in obj.alternatives:
            names = rule.get("anyOf") or rule.get("exactlyOneOf") or []
            covered.update(names)
            when = rule.get("when") or {}
            if not all(
                (merged.get(k) in v) if isinstance(v, list) else (merged.get(k, False) == v)
                for k, v in when.items()
            ):
                continue
            present = [n for n in names if merged.get(n) is not None]
            if "exactlyOneOf" in rule and len(present) > 1:
                raise SfError(
                    "FIELD_INTEGRITY_EXCEPTION",
                    f"Only one of {', '.join(names)} may be specified",
                    present,
                )
            if not present:
                problems.append(names[0])
        missing = [n for n in obj.required if n not in covered and merged.get(n) is None]
        missing += [p for p in problems if p not in missing]
        if missing:
            raise SfError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def _rules(self, obj: ObjectDef, merged: dict, changes: dict, *, creating: bool) -> None:
        for rule in self.app.org.validation_rules:
            if rule["object"] != obj.name or not rule.get("active", True):
                continue
            if rule_fires(rule, merged, changes, creating):
                field = rule.get("error_field")
                raise SfError(
                    "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule["message"], [field] if field else []
                )

    def _unique_fields(self, obj: ObjectDef) -> list[FieldDef]:
        cached = self._unique.get(obj.name)
        if cached is None:
            cached = self._unique[obj.name] = [f for f in obj.fields.values() if f.unique]
        return cached

    def _unique_check(self, obj: ObjectDef, merged: dict, changes: dict, record_id: str) -> None:
        table = None
        for f in self._unique_fields(obj):
            value = changes.get(f.name)
            if value is None:
                continue
            table = table or self.store.table(obj.name)
            for other in self.store.lookup(obj.name, f.name, value, f.case_sensitive):
                if other != record_id and not table[other].get("IsDeleted"):
                    raise SfError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {f.name} duplicates value on record with id: "
                        f"{other}",
                        [],
                    )

    def _duplicate_rules(
        self, obj: ObjectDef, merged: dict, changes: dict, record_id: str, ctx: Ctx
    ) -> None:
        for rule in self.app.org.duplicate_rules:
            if rule["object"] != obj.name or not rule.get("active", True):
                continue
            field = rule["field"]
            value = merged.get(field)
            if value is None or field not in changes:
                continue
            matches: list[tuple[str, str]] = []
            for target_name in rule.get("match_objects") or [obj.name]:
                table = self.store.table(target_name)
                for other in sorted(self.store.lookup(target_name, field, value)):
                    if other != record_id and not table[other].get("IsDeleted"):
                        matches.append((target_name, other))
            if not matches:
                continue
            if rule.get("allow_save") and ctx.allow_save:
                continue
            raise self._duplicates_error(rule, obj, matches, ctx)

    def _duplicates_error(
        self, rule: dict, obj: ObjectDef, matches: list[tuple[str, str]], ctx: Ctx
    ) -> SfError:
        by_type: dict[str, list[str]] = {}
        for type_name, other in matches:
            by_type.setdefault(type_name, []).append(other)
        message = rule.get("message") or DUPLICATE_MESSAGE
        result = {
            "allowSave": bool(rule.get("allow_save")),
            "duplicateRule": rule["name"],
            "duplicateRuleEntityType": obj.name,
            "errorMessage": message,
            "matchResults": [
                {
                    "entityType": type_name,
                    "errors": [],
                    "matchEngine": "FuzzyMatchEngine",
                    "matchRecords": [
                        {
                            "additionalInformation": [],
                            "fieldDiffs": [],
                            "matchConfidence": 100.0,
                            "record": {
                                "attributes": {
                                    "type": type_name,
                                    "url": record_url(ctx.version, type_name, i),
                                },
                                "Id": i,
                            },
                        }
                        for i in ids
                    ],
                    "rule": rule.get("match_rule") or f"{rule['name']}_Match_Rule",
                    "size": len(ids),
                    "success": True,
                }
                for type_name, ids in by_type.items()
            ],
        }
        return SfError("DUPLICATES_DETECTED", message, [], 400, {"duplicateResult": result})

    def _check_lock(self, record_id: str) -> None:
        until = self.app.org.locks.get(record_id)
        if until is None:
            return
        if self.app.clock.now() < until:
            raise SfError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {record_id}",
                [],
            )
        del self.app.org.locks[record_id]

    def _check_object_access(self, obj: ObjectDef, ctx: Ctx, verb: str) -> None:
        access = self.app.org.record_access.get(ctx.user_id, {}).get(obj.name)
        if access in ("read", "none"):
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY",
                "insufficient access rights on cross-reference id",
                [],
            )

    def _check_write_access(
        self, obj: ObjectDef, record_id: str, ctx: Ctx, deleting: bool = False
    ) -> None:
        grants = self.app.org.record_access.get(ctx.user_id)
        if not grants:
            return
        access = grants.get(record_id) or grants.get(obj.name)
        if access in ("read", "none") or (deleting and access == "edit"):
            raise SfError(
                "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", []
            )

    # --- derived fields ------------------------------------------------------------------
    def _derive(
        self,
        obj: ObjectDef,
        merged: dict,
        changes: dict,
        *,
        creating: bool,
        old: dict | None,
        ctx: Ctx,
    ) -> None:
        """Fields Salesforce computes: names, addresses, stage-driven flags, activity links."""
        name = obj.name
        extra: dict[str, Any] = {}
        if name in ("Lead", "Contact", "User") and (
            creating or {"FirstName", "LastName", "LocaleSidKey"} & set(changes)
        ):
            parts = [merged.get("FirstName"), merged.get("LastName")]
            if name == "User" and eastern_name_order(merged.get("LocaleSidKey")):
                parts.reverse()  # a user's Name follows their locale: "Yamada Taro"
            extra["Name"] = " ".join(p for p in parts if p) or None
        if name == "Opportunity":
            self._derive_opportunity(merged, changes, creating, extra)
        elif name in ("Task", "Case"):
            status_field = "Status"
            if creating or status_field in changes:
                closed = self._is_closed(name, merged.get(status_field))
                extra["IsClosed"] = closed
                if name == "Case":
                    extra["ClosedDate"] = (
                        (merged.get("ClosedDate") or self.app.now_stamp()) if closed else None
                    )
                else:
                    extra["CompletedDateTime"] = (
                        (merged.get("CompletedDateTime") or self.app.now_stamp())
                        if closed
                        else None
                    )
            if name == "Task" and (creating or "Priority" in changes):
                extra["IsHighPriority"] = merged.get("Priority") == "High"
            if name == "Case" and creating:
                self.app.org.case_number += 1
                extra["CaseNumber"] = f"{self.app.org.case_number:08d}"
        if name in ("Task", "Event") and (creating or "WhatId" in changes or "WhoId" in changes):
            extra["AccountId"] = self._activity_account(merged)
        if name == "Event":
            self._derive_event(merged, changes, creating, extra)
        if name == "CampaignMember" and creating:
            person_id = merged.get("LeadId") or merged.get("ContactId")
            found = self.app.find_record(person_id) if person_id else None
            extra["LeadOrContactId"] = person_id
            if found:
                person = found[1]
                for key in (
                    "FirstName",
                    "LastName",
                    "Name",
                    "Title",
                    "Email",
                    "Phone",
                    "City",
                    "Country",
                    "State",
                ):
                    extra[key] = person.get(key) or person.get("Mailing" + key)
                extra["CompanyOrAccount"] = person.get("Company")
                extra["Type"] = found[0].name
                extra["LeadOrContactOwnerId"] = person.get("OwnerId")
        if name == "CampaignMember" and (creating or "Status" in changes):
            responded = {"Responded"}
            extra["HasResponded"] = merged.get("Status") in responded
        for prefix in obj.address_prefixes():
            parts = (
                "Street",
                "City",
                "State",
                "PostalCode",
                "Country",
                "Latitude",
                "Longitude",
                "GeocodeAccuracy",
                "StateCode",
                "CountryCode",
            )
            if creating or any(prefix + p in changes for p in parts):
                # computed after state/country normalisation too (see _geo)
                extra[prefix + "Address"] = _address(merged, prefix, self.app.org.state_country)
        if extra:
            merged.update(extra)
            changes.update(extra)

    def _is_closed(self, obj_name: str, status: str | None) -> bool:
        if obj_name == "Case":  # the org's CaseStatus rows say which statuses close a case
            row = case_statuses.by_name(self.app).get(status or "")
            if row is not None:
                return bool(row.get("IsClosed"))
        semantics = self.app.schema.picklist_semantics.get(f"{obj_name}.Status", {})
        for value in semantics.get("values", []):
            if value["value"] == status:
                return bool(value.get("isClosed"))
        return status in ("Completed", "Closed")

    def _derive_opportunity(self, merged: dict, changes: dict, creating: bool, extra: dict) -> None:
        if creating or "StageName" in changes:
            # The OpportunityStage rows the API reads are the one source of stage semantics.
            stage = stages.by_name(self.app).get(merged.get("StageName") or "")
            if stage:
                extra["IsClosed"] = bool(stage.get("IsClosed"))
                extra["IsWon"] = bool(stage.get("IsWon"))
                extra["ForecastCategory"] = stage.get("ForecastCategory")
                if (
                    "ForecastCategoryName" not in changes
                    or merged.get("ForecastCategoryName") is None
                ):
                    extra["ForecastCategoryName"] = stage.get("ForecastCategoryName")
                probability = stage.get("DefaultProbability")
                if probability is not None and (
                    "Probability" not in changes or (creating and merged.get("Probability") is None)
                ):
                    extra["Probability"] = float(probability)
            extra["LastStageChangeDate"] = self.app.now_stamp()
        amount = merged.get("Amount")
        probability = extra.get("Probability", merged.get("Probability"))
        extra["ExpectedRevenue"] = (
            round(amount * probability / 100.0, 2)
            if amount is not None and probability is not None
            else None
        )
        close = merged.get("CloseDate")
        if close and (creating or "CloseDate" in changes):
            day = date.fromisoformat(close)
            quarter = (day.month - 1) // 3 + 1
            extra.update(FiscalYear=day.year, FiscalQuarter=quarter, Fiscal=f"{day.year} {quarter}")

    def _activity_account(self, merged: dict) -> str | None:
        what = merged.get("WhatId")
        if what:
            found = self.app.find_record(what)
            if found:
                if found[0].name == "Account":
                    return what
                if found[1].get("AccountId"):
                    return found[1]["AccountId"]
        who = merged.get("WhoId")
        if who:
            found = self.app.find_record(who)
            if found and found[0].name == "Contact":
                return found[1].get("AccountId")
        return None

    def _derive_event(self, merged: dict, changes: dict, creating: bool, extra: dict) -> None:
        if not (
            creating
            or {
                "ActivityDateTime",
                "StartDateTime",
                "EndDateTime",
                "DurationInMinutes",
                "ActivityDate",
                "IsAllDayEvent",
            }
            & set(changes)
        ):
            return
        start = merged.get("StartDateTime") or merged.get("ActivityDateTime")
        if merged.get("IsAllDayEvent"):
            day = merged.get("ActivityDate") or (start[:10] if start else None)
            if day:
                extra["ActivityDate"] = day
                extra["StartDateTime"] = f"{day}T00:00:00.000+0000"
                extra["ActivityDateTime"] = extra["StartDateTime"]
                minutes = merged.get("DurationInMinutes") or 1440
                extra["DurationInMinutes"] = minutes
                end_day = date.fromisoformat(day) + timedelta(minutes=minutes - 1)
                extra["EndDate"] = end_day.isoformat()
                extra["EndDateTime"] = f"{end_day.isoformat()}T00:00:00.000+0000"
            return
        if not start:
            return
        start_dt = parse_datetime(start)
        assert start_dt is not None
        minutes = merged.get("DurationInMinutes")
        end = merged.get("EndDateTime")
        if "EndDateTime" in changes and end and "DurationInMinutes" not in changes:
            end_dt = parse_datetime(end)
            minutes = int((end_dt - start_dt).total_seconds() // 60) if end_dt else minutes
        if minutes is None and end:
            end_dt = parse_datetime(end)
            minutes = int((end_dt - start_dt).total_seconds() // 60) if end_dt else None
        minutes = minutes or 0
        end_dt = start_dt + timedelta(minutes=minutes)
        extra.update(
            StartDateTime=start,
            ActivityDateTime=start,
            ActivityDate=start[:10],
            DurationInMinutes=minutes,
            EndDateTime=format_datetime(end_dt),
            EndDate=end_dt.date().isoformat(),
        )

    # --- recurring series (Salesforce Classic: IsRecurrence) -------------------------------
    def _series_days(self, obj: ObjectDef, merged: dict) -> list[date]:
        """The days of a recurring Task or Event series created with ``IsRecurrence`` true:
        Salesforce keeps the series master (the pattern, ``IsRecurrence`` true) and makes one
        record per occurrence (``IsRecurrence`` false, ``RecurrenceActivityId`` the master).
        The emulator makes daily, weekday and weekly series (days counted in UTC)."""
        if obj.name not in SERIES_FIELDS or not merged.get("IsRecurrence"):
            return []
        first = merged.get("RecurrenceStartDateTime" if obj.name == "Event" else
                           "RecurrenceStartDateOnly")  # fmt: skip
        last, kind = merged.get("RecurrenceEndDateOnly"), merged.get("RecurrenceType")
        if not first or not last or not kind:
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                "A recurring series needs its start, end date and recurrence type.",
                ["RecurrenceType"],
            )
        if kind not in ("RecursDaily", "RecursEveryWeekday", "RecursWeekly"):
            raise SfError(
                "FIELD_INTEGRITY_EXCEPTION",
                f"The emulator makes daily, weekday and weekly series only, not {kind}.",
                ["RecurrenceType"],
            )
        start, end = date.fromisoformat(str(first)[:10]), date.fromisoformat(str(last)[:10])
        interval = int(merged.get("RecurrenceInterval") or 1)
        mask = int(merged.get("RecurrenceDayOfWeekMask") or 0)
        if kind == "RecursEveryWeekday":
            mask = 62  # Monday to Friday
        days = []
        day = start
        while day <= end and len(days) < 100:
            weeks = (day - start).days // 7
            if kind == "RecursDaily":
                if (day - start).days % interval == 0:
                    days.append(day)
            elif weeks % interval == 0 and mask & (1 << ((day.weekday() + 1) % 7)):
                days.append(day)  # the mask: Sunday 1, Monday 2, … Saturday 64
            day += timedelta(days=1)
        return days

    def _series_occurrence(self, obj: ObjectDef, master: dict, day: date, ctx: Ctx) -> str:
        fields = {k: master[k] for k in SERIES_FIELDS[obj.name] if master.get(k) is not None}
        if obj.name == "Event" and not master.get("IsAllDayEvent"):
            time = str(master["RecurrenceStartDateTime"])[10:]  # e.g. "T10:00:00.000+0000"
            fields["StartDateTime"] = f"{day.isoformat()}{time}"
        else:
            fields["ActivityDate"] = day.isoformat()
        fields.update(IsRecurrence=False, RecurrenceActivityId=master["Id"])
        return self.create(obj, fields, Ctx(user_id=ctx.user_id, system=True, auto_assign=False))

    def _after_create(self, obj: ObjectDef, rec: dict) -> None:
        if obj.name == "CampaignMember":
            key = (rec.get("CampaignId"), rec.get("LeadId") or rec.get("ContactId"))
            table = self.store.table("CampaignMember")
            for other in self.store.lookup("CampaignMember", "CampaignId", key[0], True):
                o = table[other]
                if not o.get("IsDeleted") and (o.get("LeadId") or o.get("ContactId")) == key[1]:
                    raise SfError("DUPLICATE_VALUE", "Already a campaign member.", [])

    # --- State and Country/Territory picklists ------------------------------------------
    def _geo(self, obj: ObjectDef, merged: dict, changes: dict, old: dict | None) -> None:
        if not self.app.org.state_country:
            return
        geo = self.app.schema.geo
        for prefix in obj.address_prefixes():
            cf, ccf = prefix + "Country", prefix + "CountryCode"
            sf, scf = prefix + "State", prefix + "StateCode"
            if ccf not in obj.fields or not ({cf, ccf, sf, scf} & set(changes)):
                continue
            updates: dict[str, Any] = {}
            country = merged.get(ccf)
            old_country = old.get(ccf) if old else None
            if changes.get(ccf) is not None:
                updates[cf] = geo.countries[changes[ccf]]
            elif cf in changes:
                text = changes[cf]
                if text is None:
                    country = None
                    updates[ccf] = None
                else:
                    country = geo.country_code(text)
                    if country is None:
                        label = obj.fields[cf].label
                        raise SfError(
                            "FIELD_INTEGRITY_EXCEPTION",
                            f"{COUNTRY_PROBLEM}: {label}",
                            [cf],
                        )
                    updates[cf] = geo.countries[country]
                    updates[ccf] = country
            elif ccf in changes:
                updates[cf] = None
            states = geo.states.get(country or "", {})
            if changes.get(scf) is not None:
                code = changes[scf]
                if code not in states:
                    raise SfError(
                        "FIELD_INTEGRITY_EXCEPTION",
                        "The existing country/territory doesn't recognize the state value for "
                        f"field: {obj.fields[scf].label}",
                        [scf],
                    )
                updates[sf] = states[code]
            elif sf in changes:
                text = changes[sf]
                if text is None:
                    updates[scf] = None
                else:
                    code = geo.state_code(country, text)
                    if code is None:
                        raise self._state_error(obj, sf)
                    updates[sf] = states[code]
                    updates[scf] = code
            elif scf in changes:
                updates[sf] = None
            elif country != old_country and merged.get(scf) and merged[scf] not in states:
                raise self._state_error(obj, sf)
            merged.update(updates)
            changes.update(updates)
            address = _address(merged, prefix, True)
            merged[prefix + "Address"] = address
            changes[prefix + "Address"] = address

    @staticmethod
    def _state_error(obj: ObjectDef, field: str) -> SfError:
        return SfError(
            "FIELD_INTEGRITY_EXCEPTION",
            f"{STATE_PROBLEM}: {obj.fields[field].label}",
            [field],
        )

    # --- late commits --------------------------------------------------------------------
    def _late_commit_create(self, obj: ObjectDef, rec: dict) -> None:
        delay = self.app.take_late_commit()
        if delay is None:
            return
        rec["_visible_at"] = format_datetime(self.app.clock.now() + timedelta(seconds=delay))
        self.store.pending.setdefault(obj.name, set()).add(rec["Id"])

    def _late_commit_update(self, obj: ObjectDef, record_id: str, changes: dict) -> None:
        if "_visible_at" in changes:
            return
        delay = self.app.take_late_commit()
        if delay is None:
            return
        rec = self.store.get(obj.name, record_id)
        assert rec is not None
        # Readers keep seeing the previous version until the "transaction" commits.
        shadow = rec.get("_shadow") if rec.get("_visible_at") else None
        changes["_shadow"] = shadow or {k: v for k, v in rec.items() if not k.startswith("_")}
        changes["_visible_at"] = format_datetime(self.app.clock.now() + timedelta(seconds=delay))
        self.store.pending.setdefault(obj.name, set()).add(record_id)


def _address(merged: dict, prefix: str, with_codes: bool) -> dict | None:
    keys = {
        "city": "City",
        "country": "Country",
        "geocodeAccuracy": "GeocodeAccuracy",
        "latitude": "Latitude",
        "longitude": "Longitude",
        "postalCode": "PostalCode",
        "state": "State",
        "street": "Street",
    }
    if with_codes:
        keys["countryCode"] = "CountryCode"
        keys["stateCode"] = "StateCode"
    out = {k: merged.get(prefix + v) for k, v in sorted(keys.items())}
    return out if any(v is not None for v in out.values()) else None


def _refuse_entity(obj: ObjectDef, flag: str, verb: str) -> None:
    """Writes to an object the API may only read (``createable``/``updateable``/``deletable``
    false in its describe) fail as a whole, before any record is looked at."""
    if not obj.raw.get(flag, True):
        raise SfError(
            "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", f"entity type cannot be {verb}: {obj.label}", []
        )


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, str):
        return "VALUE_STRING"
    return "VALUE"
