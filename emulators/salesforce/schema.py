"""The schema registry: objects and fields from ``data/salesforce_schema.json`` plus custom ones.

This one registry feeds describe, write validation and SOQL field checks, so they cannot disagree.
Fields marked ``conditional`` in the JSON exist only when a feature is on: ``*StateCode`` /
``*CountryCode`` with State and Country/Territory Picklists, ``RecordTypeId`` once the object has
record types. Each object caches its visible field list per feature combination.
"""

from __future__ import annotations

import base64
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("data") / "salesforce_schema.json"

TEXT_TYPES = frozenset(
    {
        "string",
        "textarea",
        "phone",
        "url",
        "email",
        "picklist",
        "combobox",
        "multipicklist",
        "encryptedstring",
    }
)
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
ID_TYPES = frozenset({"id", "reference"})
_INTERNAL_KEYS = ("source", "conditional", "note", "picklistValuesOmitted")


@cache
def base_data() -> dict[str, Any]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)


class FieldDef:
    __slots__ = (
        "name",
        "lower",
        "label",
        "type",
        "length",
        "nillable",
        "createable",
        "updateable",
        "defaulted",
        "default",
        "unique",
        "external_id",
        "case_sensitive",
        "reference_to",
        "relationship_name",
        "picklist",
        "picklist_default",
        "restricted",
        "condition",
        "custom",
        "precision",
        "scale",
        "raw",
        "is_text",
        "is_number",
        "is_id",
        "calculated",
        "filterable",
    )

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = {k: v for k, v in raw.items() if k not in _INTERNAL_KEYS}
        self.name: str = raw["name"]
        self.lower = self.name.lower()
        self.label: str = raw.get("label") or self.name
        self.type: str = raw["type"]
        self.length: int = raw.get("length") or 0
        self.nillable: bool = bool(raw.get("nillable"))
        self.createable: bool = bool(raw.get("createable"))
        self.updateable: bool = bool(raw.get("updateable"))
        self.defaulted: bool = bool(raw.get("defaultedOnCreate"))
        self.default = raw.get("defaultValue")
        self.unique: bool = bool(raw.get("unique"))
        self.external_id: bool = bool(raw.get("externalId"))
        self.case_sensitive: bool = bool(raw.get("caseSensitive"))
        self.reference_to: tuple[str, ...] = tuple(raw.get("referenceTo") or ())
        self.relationship_name: str | None = raw.get("relationshipName")
        values = raw.get("picklistValues") or []
        self.picklist = frozenset(v["value"] for v in values if v.get("active", True))
        defaults = [v["value"] for v in values if v.get("defaultValue")]
        self.picklist_default = defaults[0] if defaults else None
        # A restricted picklist whose values the JSON does not list cannot be enforced.
        self.restricted: bool = bool(raw.get("restrictedPicklist")) and bool(self.picklist)
        self.custom: bool = bool(raw.get("custom"))
        self.precision: int = raw.get("precision") or 0
        self.scale: int = raw.get("scale") or 0
        self.calculated: bool = bool(raw.get("calculated"))
        self.condition: str | None = None
        if raw.get("conditional"):
            if self.name.endswith(("StateCode", "CountryCode")):
                self.condition = "state_country"
            elif self.name == "RecordTypeId":
                self.condition = "record_type"
        # Long text areas and compound fields can be selected but not filtered or sorted on;
        # SOQL enforces this and describe says so.
        self.filterable = not (
            (self.type == "textarea" and self.length > 255) or self.type in ("address", "location")
        )
        self.raw.setdefault("filterable", self.filterable)
        self.raw.setdefault("sortable", self.filterable)
        self.is_text = self.type in TEXT_TYPES
        self.is_number = self.type in NUMBER_TYPES
        self.is_id = self.type in ID_TYPES

    def describe(self, *, read_only: bool = False) -> dict[str, Any]:
        if not read_only:
            return self.raw
        out = dict(self.raw)
        out["createable"] = False
        out["updateable"] = False
        return out


class ObjectDef:
    def __init__(self, raw: dict[str, Any], required: list[str], alternatives: list[dict]) -> None:
        self.raw = {
            k: v for k, v in raw.items() if k not in ("fields", "objectSource", "objectNote")
        }
        self.name: str = raw["name"]
        self.key_prefix: str = raw["keyPrefix"]
        self.label: str = raw.get("label") or self.name
        self.label_plural: str = raw.get("labelPlural") or self.label + "s"
        self.custom: bool = bool(raw.get("custom"))
        self.required = list(required)
        self.alternatives = list(alternatives)
        self.fields: dict[str, FieldDef] = {}
        self.by_lower: dict[str, FieldDef] = {}
        self.relationships: dict[str, FieldDef] = {}  # lower relationshipName -> reference field
        self.child_relationships: list[dict[str, Any]] = []
        self._visible: dict[tuple[bool, bool], tuple[FieldDef, ...]] = {}
        for field_raw in raw["fields"]:
            self.add(FieldDef(field_raw))

    def add(self, f: FieldDef) -> None:
        self.fields[f.name] = f
        self.by_lower[f.lower] = f
        if f.relationship_name:
            self.relationships[f.relationship_name.lower()] = f
        self._visible.clear()

    def field(self, name: str) -> FieldDef | None:
        return self.by_lower.get(name.lower())

    def visible(self, state_country: bool, record_types: bool) -> tuple[FieldDef, ...]:
        key = (state_country, record_types)
        cached = self._visible.get(key)
        if cached is None:
            cached = tuple(
                f
                for f in self.fields.values()
                if f.condition is None
                or (f.condition == "state_country" and state_country)
                or (f.condition == "record_type" and record_types)
            )
            self._visible[key] = cached
        return cached

    def address_prefixes(self) -> list[str]:
        """``Billing``, ``Mailing``, ``""``...: prefixes of compound address fields."""
        return [f.name[: -len("Address")] for f in self.fields.values() if f.type == "address"]


# --- custom objects and fields this emulated org has (all marked custom) --------------------


def _field(name: str, label: str, ftype: str, **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": ftype,
        "length": 0,
        "byteLength": 0,
        "precision": 0,
        "scale": 0,
        "digits": 0,
        "nillable": True,
        "createable": True,
        "updateable": True,
        "defaultedOnCreate": False,
        "defaultValue": None,
        "unique": False,
        "externalId": False,
        "caseSensitive": False,
        "calculated": False,
        "autoNumber": False,
        "nameField": False,
        "idLookup": False,
        "referenceTo": [],
        "relationshipName": None,
        "polymorphicForeignKey": False,
        "picklistValues": [],
        "restrictedPicklist": False,
        "dependentPicklist": False,
        "controllerName": None,
        "compoundFieldName": None,
        "extraTypeInfo": None,
        "custom": name.endswith("__c"),
        "soapType": {
            "string": "xsd:string",
            "textarea": "xsd:string",
            "email": "xsd:string",
            "picklist": "xsd:string",
            "phone": "xsd:string",
            "url": "xsd:string",
            "boolean": "xsd:boolean",
            "int": "xsd:int",
            "double": "xsd:double",
            "currency": "xsd:double",
            "percent": "xsd:double",
            "date": "xsd:date",
            "datetime": "xsd:dateTime",
            "reference": "tns:ID",
            "id": "tns:ID",
        }.get(ftype, "xsd:string"),
    }
    if (
        ftype in ("string", "textarea", "email", "phone", "url", "picklist")
        and "length" not in extra
    ):
        raw["length"] = 255
    if "length" in extra:
        raw["byteLength"] = extra["length"] * 3
    if ftype in ("currency", "double", "percent"):
        raw.update(precision=18, scale=2)
    if ftype == "boolean":
        raw.update(nillable=False, defaultedOnCreate=True, defaultValue=False)
    if ftype in ("id", "reference"):
        raw["length"] = 18
    values = extra.pop("values", None)
    if values:
        raw["picklistValues"] = [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in values
        ]
    raw.update(extra)
    return raw


def external_id_field(name: str, label: str, length: int = 100) -> dict[str, Any]:
    return _field(
        name,
        label,
        "string",
        length=length,
        externalId=True,
        unique=True,
        idLookup=True,
        source="emulator",
    )


def _system_fields(owner: bool = True) -> list[dict[str, Any]]:
    ro = {"createable": False, "updateable": False}
    fields = [
        _field(
            "Id", "Record ID", "id", nillable=False, defaultedOnCreate=True, idLookup=True, **ro
        ),
    ]
    if owner:
        fields.append(
            _field(
                "OwnerId",
                "Owner ID",
                "reference",
                nillable=False,
                defaultedOnCreate=True,
                referenceTo=["User"],
                relationshipName="Owner",
            )
        )
    fields += [
        _field("IsDeleted", "Deleted", "boolean", **ro),
        _field(
            "Name",
            "Name",
            "string",
            length=80,
            nillable=False,
            defaultedOnCreate=True,
            nameField=True,
            idLookup=True,
        ),
        _field(
            "CreatedDate", "Created Date", "datetime", nillable=False, defaultedOnCreate=True, **ro
        ),
        _field(
            "CreatedById",
            "Created By ID",
            "reference",
            nillable=False,
            defaultedOnCreate=True,
            referenceTo=["User"],
            relationshipName="CreatedBy",
            **ro,
        ),
        _field(
            "LastModifiedDate",
            "Last Modified Date",
            "datetime",
            nillable=False,
            defaultedOnCreate=True,
            **ro,
        ),
        _field(
            "LastModifiedById",
            "Last Modified By ID",
            "reference",
            nillable=False,
            defaultedOnCreate=True,
            referenceTo=["User"],
            relationshipName="LastModifiedBy",
            **ro,
        ),
        _field(
            "SystemModstamp",
            "System Modstamp",
            "datetime",
            nillable=False,
            defaultedOnCreate=True,
            **ro,
        ),
        _field("LastActivityDate", "Last Activity Date", "date", **ro),
        _field("LastViewedDate", "Last Viewed Date", "datetime", **ro),
        _field("LastReferencedDate", "Last Referenced Date", "datetime", **ro),
    ]
    for f in fields:
        f["custom"] = False
        f["source"] = "emulator"
    return fields


# Auto-number fields' display formats ("{0000}" is the zero-padded sequence): describes don't
# show them, the records do.
AUTO_NUMBER_FORMATS = {("Invoice__c", "Name"): "INV-{0000}"}


def auto_number_text(display_format: str, n: int) -> str:
    return re.sub(r"\{(0+)\}", lambda m: f"{n:0{len(m.group(1))}d}", display_format)


def _custom_object_flags() -> dict[str, Any]:
    return {
        "createable": True,
        "updateable": True,
        "deletable": True,
        "queryable": True,
        "retrieveable": True,
        "searchable": True,
        "mergeable": False,
        "replicateable": True,
        "triggerable": True,
        "layoutable": True,
        "feedEnabled": False,
        "custom": True,
        "undeletable": True,
    }


def _master_record_type() -> list[dict[str, Any]]:
    return [
        {
            "active": True,
            "available": True,
            "defaultRecordTypeMapping": True,
            "developerName": "Master",
            "master": True,
            "name": "Master",
            "recordTypeId": "012000000000000AAA",
        }
    ]


def invoice_object() -> dict[str, Any]:
    """``Invoice__c``: a custom object with an auto-number name and no external id, so its
    records can't be created idempotently (nor found by a name the creator chose)."""
    fields = [
        {
            **f,
            "createable": False,
            "updateable": False,
            "autoNumber": True,
            "label": "Invoice Number",
            "length": 30,
            "byteLength": 90,
        }
        if f["name"] == "Name"
        else f
        for f in _system_fields()
    ]
    fields += [
        _field("Amount__c", "Amount", "currency", precision=16, scale=2),
        _field("Status__c", "Status", "picklist", values=["Draft", "Sent", "Paid"]),
        _field("Due_Date__c", "Due Date", "date"),
        _field("Notes__c", "Notes", "textarea", length=32768),
    ]
    for f in fields:
        f.setdefault("source", "emulator")
    return {
        "name": "Invoice__c",
        "keyPrefix": "a02",
        "label": "Invoice",
        "labelPlural": "Invoices",
        **_custom_object_flags(),
        "recordTypeInfos": _master_record_type(),
        "fields": fields,
    }


def opportunity_stage_object(data: dict[str, Any]) -> dict[str, Any]:
    """``OpportunityStage``: one read-only row per ``StageName`` value with its semantics
    (Object Reference: describeSObjects, query and retrieve only). Its forecast-category
    picklists are the Opportunity's own."""
    ro = {"createable": False, "updateable": False}
    opportunity = {f["name"]: f for f in data["objects"]["Opportunity"]["fields"]}

    def picklist(name: str, **extra: Any) -> dict[str, Any]:
        src = opportunity[name]
        return _field(
            name,
            src["label"],
            "picklist",
            length=src["length"],
            picklistValues=src["picklistValues"],
            restrictedPicklist=True,
            **{**ro, **extra},
        )

    fields = _picklist_object_fields(
        [
            _field("MasterLabel", "Master Label", "string", length=255, nillable=False, **ro),
            _field(
                "ApiName", "API Name", "string", length=255, nillable=False, nameField=True, **ro
            ),
            _field("IsActive", "Is Active", "boolean", **ro),
            _field("SortOrder", "Sort Order", "int", digits=9, **ro),
            _field("IsClosed", "Closed", "boolean", **ro),
            _field("IsWon", "Won", "boolean", **ro),
            picklist("ForecastCategory", nillable=False),
            picklist("ForecastCategoryName"),
            _field("DefaultProbability", "Probability (%)", "percent", precision=3, scale=0, **ro),
            _field("Description", "Description", "string", length=255, **ro),
        ]
    )
    return _picklist_object("OpportunityStage", "Opportunity Stage", "Opportunity Stages", fields)


def _picklist_object_fields(own: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fields of a picklist object (``OpportunityStage``, ``CaseStatus``): ``Id`` first,
    then ``own``, then the audit fields; no name, owner, delete flag or activity dates."""
    fields = [
        f
        for f in _system_fields(owner=False)
        if f["name"] not in ("IsDeleted", "Name", "LastActivityDate")
        and not f["name"].startswith("LastViewed")
        and not f["name"].startswith("LastReferenced")
    ]
    fields[1:1] = own
    for f in fields:
        f["custom"] = False
        f["source"] = "emulator"
    return fields


def _picklist_object(name: str, label: str, plural: str, fields: list) -> dict[str, Any]:
    """A read-only picklist object's describe: query and retrieve only, and the key prefix
    ``01J`` Salesforce gives every such object."""
    return {
        "name": name,
        "keyPrefix": "01J",
        "label": label,
        "labelPlural": plural,
        "createable": False,
        "updateable": False,
        "deletable": False,
        "queryable": True,
        "retrieveable": True,
        "searchable": False,
        "mergeable": False,
        "replicateable": False,
        "triggerable": False,
        "layoutable": False,
        "feedEnabled": False,
        "custom": False,
        "undeletable": False,
        "recordTypeInfos": [],
        "fields": fields,
    }


def case_status_object() -> dict[str, Any]:
    """``CaseStatus``: one read-only row per ``Case.Status`` value saying whether it closes the
    case (Object Reference: query and retrieve only). Salesforce gives every such picklist
    object (``OpportunityStage``, ``LeadStatus``, ...) the key prefix ``01J``."""
    ro = {"createable": False, "updateable": False}
    fields = _picklist_object_fields(
        [
            _field("MasterLabel", "Master Label", "string", length=255, nillable=False, **ro),
            _field(
                "ApiName", "API Name", "string", length=255, nillable=False, nameField=True, **ro
            ),
            _field("SortOrder", "Sort Order", "int", digits=9, **ro),
            _field("IsClosed", "Closed", "boolean", **ro),
            _field("IsDefault", "Is Default", "boolean", **ro),
        ]
    )
    return _picklist_object("CaseStatus", "Case Status Value", "Case Status Value", fields)


def currency_type_object() -> dict[str, Any]:
    """``CurrencyType``: one row per currency of a multi-currency org, its conversion rate
    against the corporate currency (Object Reference; the org has the object only once
    multiple currencies are on). Read-only here: rates are set through the control plane."""
    ro = {"createable": False, "updateable": False}
    fields = _picklist_object_fields(
        [
            _field("IsoCode", "Currency ISO Code", "picklist", length=40, nillable=False, **ro),
            _field(
                "ConversionRate",
                "Conversion Rate",
                "double",
                precision=18,
                scale=6,
                nillable=False,
                **ro,
            ),
            _field("DecimalPlaces", "Decimal Places", "int", digits=9, nillable=False, **ro),
            _field("IsActive", "Active", "boolean", defaultedOnCreate=True, **ro),
            _field("IsCorporate", "Corporate Currency", "boolean", defaultedOnCreate=True, **ro),
        ]
    )
    raw = _picklist_object("CurrencyType", "Currency Type", "Currency Types", fields)
    raw["keyPrefix"] = "02C"  # (the emulator's own: no id of it is ever parsed by prefix)
    return raw


def custom_objects() -> list[dict[str, Any]]:
    """``Project__c``: a custom object with a unique external id, for custom-object sync; and
    ``Invoice__c`` (see ``invoice_object``)."""
    project_fields = _system_fields() + [
        external_id_field("External_Id__c", "External Id", 255),
        _field(
            "Status__c",
            "Status",
            "picklist",
            values=["Planned", "Active", "On Hold", "Done"],
            restrictedPicklist=True,
        ),
        _field("Budget__c", "Budget", "currency", precision=16, scale=2),
        _field("Start_Date__c", "Start Date", "date"),
        _field(
            "Account__c",
            "Account",
            "reference",
            referenceTo=["Account"],
            relationshipName="Account__r",
        ),
        _field(
            "Contact__c",
            "Primary Contact",
            "reference",
            referenceTo=["Contact"],
            relationshipName="Contact__r",
        ),
        _field("Description__c", "Description", "textarea", length=32768),
    ]
    for f in project_fields:
        f.setdefault("source", "emulator")
    return [
        {
            "name": "Project__c",
            "keyPrefix": "a01",
            "label": "Project",
            "labelPlural": "Projects",
            **_custom_object_flags(),
            "recordTypeInfos": _master_record_type(),
            "fields": project_fields,
        },
        invoice_object(),
    ]


# HubSpot-id style external ids on the synced standard objects: what a real integration package
# adds so that creates can be idempotent upserts.
CUSTOM_FIELDS_ON_STANDARD = {
    obj: [external_id_field("HubSpot_Id__c", "HubSpot ID")]
    for obj in ("Lead", "Contact", "Account", "Opportunity")
}

# Child relationship names of the standard objects (parent, child, field) -> name; any other
# reference gets a child relationship without a name, as in real describes.
CHILD_RELATIONSHIP_NAMES = {
    ("Account", "Contact", "AccountId"): "Contacts",
    ("Account", "Opportunity", "AccountId"): "Opportunities",
    ("Account", "Case", "AccountId"): "Cases",
    ("Account", "Account", "ParentId"): "ChildAccounts",
    ("Account", "Task", "WhatId"): "Tasks",
    ("Account", "Event", "WhatId"): "Events",
    ("Account", "Project__c", "Account__c"): "Projects__r",
    ("Contact", "OpportunityContactRole", "ContactId"): "OpportunityContactRoles",
    ("Contact", "Case", "ContactId"): "Cases",
    ("Contact", "Task", "WhoId"): "Tasks",
    ("Contact", "Event", "WhoId"): "Events",
    ("Contact", "CampaignMember", "ContactId"): "CampaignMembers",
    ("Contact", "Project__c", "Contact__c"): "Projects__r",
    ("Lead", "Task", "WhoId"): "Tasks",
    ("Lead", "Event", "WhoId"): "Events",
    ("Lead", "CampaignMember", "LeadId"): "CampaignMembers",
    ("Opportunity", "OpportunityContactRole", "OpportunityId"): "OpportunityContactRoles",
    ("Opportunity", "Task", "WhatId"): "Tasks",
    ("Opportunity", "Event", "WhatId"): "Events",
    ("Campaign", "CampaignMember", "CampaignId"): "CampaignMembers",
    ("Campaign", "Opportunity", "CampaignId"): "Opportunities",
    ("Case", "Case", "ParentId"): "Cases",
    ("Case", "Task", "WhatId"): "Tasks",
    ("Case", "Event", "WhatId"): "Events",
}


class Schema:
    """All objects of the org. Cheap to rebuild (the JSON is parsed once per process)."""

    def __init__(self) -> None:
        data = base_data()
        self.api_version: str = data.get("api_version", "59.0")
        self.error_messages: list[dict[str, Any]] = data.get("error_messages", [])
        required = data.get("required_on_create", {})
        alternatives = data.get("required_on_create_alternatives", {})
        self.objects: dict[str, ObjectDef] = {}
        for name, raw in data["objects"].items():
            self.objects[name] = ObjectDef(raw, required.get(name, []), alternatives.get(name, []))
        for raw in [opportunity_stage_object(data), case_status_object(), *custom_objects()]:
            self.objects[raw["name"]] = ObjectDef(raw, [], [])
        for obj_name, extra in CUSTOM_FIELDS_ON_STANDARD.items():
            for field_raw in extra:
                self.objects[obj_name].add(FieldDef(field_raw))
        self.by_lower = {name.lower(): obj for name, obj in self.objects.items()}
        # ``01J`` is shared (OpportunityStage, CaseStatus): the first keeps it here, and
        # ``objects_with_prefix`` finds the others' records (see ``SalesforceApp.find_record``).
        self.by_prefix: dict[str, ObjectDef] = {}
        for obj in self.objects.values():
            self.by_prefix.setdefault(obj.key_prefix, obj)
        self.picklist_semantics = data.get("picklist_semantics", {})
        # The org's initial OpportunityStage rows; afterwards those rows are the source.
        self.opportunity_stage_defaults: list[dict[str, Any]] = list(
            data["objects"]["Opportunity"].get("opportunityStages", [])
        )
        self.lead_converted_status = next(
            (
                v["value"]
                for v in self.picklist_semantics.get("Lead.Status", {}).get("values", [])
                if v.get("isConverted")
            ),
            "Closed - Converted",
        )
        self.geo = Geography(data)
        self._link_children()

    def get(self, name: str) -> ObjectDef | None:
        return self.by_lower.get(name.lower())

    def for_id(self, record_id: str) -> ObjectDef | None:
        return self.by_prefix.get(record_id[:3])

    def objects_with_prefix(self, prefix: str) -> list[ObjectDef]:
        return [obj for obj in self.objects.values() if obj.key_prefix == prefix]

    def add_object(self, raw: dict[str, Any]) -> ObjectDef:
        """An object the org gains at runtime (``CurrencyType``, once multiple currencies are
        on)."""
        obj = self.objects[raw["name"]] = ObjectDef(raw, [], [])
        self.by_lower[obj.name.lower()] = obj
        self.by_prefix.setdefault(obj.key_prefix, obj)
        self._link_children()
        return obj

    def add_field(self, obj_name: str, raw: dict[str, Any]) -> FieldDef:
        obj = self.objects[obj_name]
        f = FieldDef(raw)
        obj.add(f)
        self._link_children()
        return f

    def _link_children(self) -> None:
        for obj in self.objects.values():
            obj.child_relationships = []
        for child in self.objects.values():
            for f in child.fields.values():
                if f.type != "reference":
                    continue
                for parent_name in f.reference_to:
                    parent = self.objects.get(parent_name)
                    if parent is None:
                        continue
                    rel = CHILD_RELATIONSHIP_NAMES.get((parent_name, child.name, f.name))
                    if rel is None and f.custom:
                        rel = child.label_plural.replace(" ", "_") + "__r"
                    parent.child_relationships.append(
                        {
                            "cascadeDelete": f.name in ("OpportunityId",)
                            or child.name == "CampaignMember",
                            "childSObject": child.name,
                            "deprecatedAndHidden": False,
                            "field": f.name,
                            "junctionIdListNames": [],
                            "junctionReferenceTo": [],
                            "relationshipName": rel,
                            "restrictedDelete": False,
                        }
                    )

    def child_relationship(self, parent: ObjectDef, name: str) -> tuple[ObjectDef, str] | None:
        lower = name.lower()
        for rel in parent.child_relationships:
            if rel["relationshipName"] and rel["relationshipName"].lower() == lower:
                return self.objects[rel["childSObject"]], rel["field"]
        return None


class Geography:
    """Countries and states of the State and Country/Territory Picklists.

    Values come from the real org describe in the JSON (the ``BillingCountryCode`` and
    dependent ``BillingStateCode`` picklists, decoded through their ``validFor`` bitmaps);
    pycountry adds ISO 3166 name aliases (official and common names) for the countries.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        fields = {f["name"]: f for f in data["objects"]["Account"]["fields"]}
        country_values = fields["BillingCountryCode"]["picklistValues"]
        self.countries: dict[str, str] = {v["value"]: v["label"] for v in country_values}
        order = [v["value"] for v in country_values]
        self.states: dict[str, dict[str, str]] = {}
        for v in fields["BillingStateCode"]["picklistValues"]:
            bits = base64.b64decode(v["validFor"] or "")
            for i in range(len(bits) * 8):
                if bits[i >> 3] & (0x80 >> (i & 7)) and i < len(order):
                    self.states.setdefault(order[i], {})[v["value"]] = v["label"]
        self.all_state_codes = {code for states in self.states.values() for code in states}
        self.country_lookup: dict[str, str] = {}
        for code, label in self.countries.items():
            self.country_lookup[label.lower()] = code
            self.country_lookup[code.lower()] = code
        try:
            import pycountry

            for code in self.countries:
                info = pycountry.countries.get(alpha_2=code)
                if info is None:
                    continue
                for alias in (
                    info.name,
                    getattr(info, "official_name", None),
                    getattr(info, "common_name", None),
                    info.alpha_3,
                ):
                    if alias:
                        self.country_lookup.setdefault(alias.lower(), code)
        except ImportError:  # pragma: no cover - pycountry is a declared dependency
            pass
        self.state_lookup: dict[str, dict[str, str]] = {
            country: {
                **{c.lower(): c for c in states},
                **{lbl.lower(): c for c, lbl in states.items()},
            }
            for country, states in self.states.items()
        }

    def country_code(self, text: str) -> str | None:
        return self.country_lookup.get(text.strip().lower())

    def state_code(self, country: str | None, text: str) -> str | None:
        if not country:
            return None
        return self.state_lookup.get(country, {}).get(text.strip().lower())


def currency_field_raw(obj: ObjectDef, corporate: str, codes: list[str]) -> dict[str, Any]:
    """``CurrencyIsoCode`` as a multi-currency org describes it: a restricted picklist of the
    org's active currencies, the corporate one by default."""
    raw = _field(
        "CurrencyIsoCode",
        f"{obj.label} Currency",
        "picklist",
        length=3,
        defaultedOnCreate=True,
        restrictedPicklist=True,
    )
    raw["picklistValues"] = [
        {"active": True, "defaultValue": code == corporate, "label": code, "validFor": None,
         "value": code}
        for code in codes
    ]  # fmt: skip
    return raw


def new_field_raw(name: str, label: str, ftype: str, **extra: Any) -> dict[str, Any]:
    """A describe entry for a field added at runtime (control action ``add_field``)."""
    raw = _field(name, label, ftype, **extra)
    raw["custom"] = True
    raw["source"] = "emulator"
    return raw
