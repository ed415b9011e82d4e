"""What one sync cycle of one object pair works with: settings, mappings, connectors, counts."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from ..connectors.hubspot import HubSpotConnector
from ..connectors.salesforce import SalesforceConnector
from ..models import FieldMapping, Integration, SchemaCache, SyncRun, System
from ..object_settings import settings_for
from ..selectors import mapping_type_mismatch
from ..services import (
    SALESFORCE_CURRENCIES,
    SALESFORCE_OBJECTS,
    object_sync_get_or_create,
    schema_refresh,
)
from .rules import SyncRule

# A run's message (``SyncRun.message``, in English as stored: the dashboard translates it,
# ``integration_admin.labels.ENGINE_MESSAGE_LABELS``) when the cycle left mappings out whose
# types changed since they were made (their rows say "Mismatched types").
MAPPINGS_MISMATCHED = (
    "Not synced: {mappings}. A type changed since the mapping was made, to types that can't "
    "map (Mismatched types on the object's tab). Change the type back, then Refresh "
    "properties and fields; or map other fields."
)


@dataclass
class CycleContext:
    integration: Integration
    object_name: str
    run: SyncRun
    settings: object
    mappings: list[FieldMapping]
    salesforce: SalesforceConnector
    hubspot: HubSpotConnector
    salesforce_fields: dict[str, dict[str, dict]]  # sobject -> field name -> describe subset
    hubspot_properties: dict[str, dict]
    counts: Counter = field(default_factory=Counter)
    retry_allowed: bool = True  # automatic retries stop at 75% of the allocation
    heartbeat: Callable[[], None] = lambda: None  # renews the pair's lease
    _fields: dict = field(default_factory=dict)  # (mapping, sobject) -> field name, cached
    started_at: datetime = field(default_factory=timezone.now)
    # The cycle-wide Salesforce change probe (``changes.ChangeProbe``), when several pairs
    # run together; None when a pair runs alone.
    probe: Any = None
    _own_source: str | None = None  # see own_hubspot_source
    # The HubSpot object type calls name, when not ``object_name`` (a custom object's
    # objectTypeId, e.g. "2-1000001").
    hubspot_type: str = ""

    @classmethod
    def build(cls, *, integration: Integration, object_name: str, run: SyncRun) -> CycleContext:
        row = object_sync_get_or_create(integration=integration, object_name=object_name)
        schema = {
            (c.system, c.object): c.data
            for c in SchemaCache.objects.filter(integration=integration)
        }
        needed = [(System.HUBSPOT, object_name)] + [
            (System.SALESFORCE, sobject) for sobject in SALESFORCE_OBJECTS.get(object_name, ())
        ]
        if any(key not in schema for key in needed):
            schema_refresh(integration=integration, object_name=object_name)
            schema = {
                (c.system, c.object): c.data
                for c in SchemaCache.objects.filter(integration=integration)
            }
        salesforce_fields = {
            obj: {f["name"]: f for f in data}
            for (system, obj), data in schema.items()
            if system == System.SALESFORCE and obj != SALESFORCE_CURRENCIES  # (not a describe)
        }
        hubspot_properties = {p["name"]: p for p in schema.get((System.HUBSPOT, object_name), [])}
        mappings = [
            m
            for m in FieldMapping.objects.filter(integration=integration, object=object_name)
            if m.rule != SyncRule.DONT_SYNC and m.hubspot_property in hubspot_properties
        ]
        settings = settings_for(object_name, row.options)
        ctx = cls(
            integration=integration,
            object_name=object_name,
            run=run,
            settings=settings,
            mappings=mappings,
            salesforce=SalesforceConnector(integration=integration),
            hubspot=HubSpotConnector(integration=integration),
            salesforce_fields=salesforce_fields,
            hubspot_properties=hubspot_properties,
        )
        sobjects = SALESFORCE_OBJECTS.get(object_name) or (
            getattr(settings, "salesforce_object", ""),  # a custom object's
        )
        mismatched = [m for m in mappings if ctx.types_mismatched(m, sobjects)]
        if mismatched:
            ctx.mappings = [m for m in mappings if m not in mismatched]
            ctx.mismatched_said(mismatched)
        return ctx

    def types_mismatched(self, mapping: FieldMapping, sobjects: tuple[str, ...]) -> bool:
        """Whether the mapping's property and fields now have types that can't map, since a
        type changed after it was made: its values would fail on every record, or change
        meaning on the way (text read as a checkbox). The very check its row's "Mismatched
        types" makes, on the schemas as last read."""
        types = {
            sobject: self.salesforce_fields[sobject][name].get("type", "")
            for sobject in sobjects
            if (name := self.mapped_field(mapping, sobject))
        }
        prop = self.hubspot_properties.get(mapping.hubspot_property)
        return mapping_type_mismatch(mapping, prop, types) is not None

    def mismatched_said(self, mappings: list[FieldMapping]) -> None:
        """The run says once which mappings it left out (its count and message; the same
        on each try of the run: a count set, not added to)."""
        counts = dict(self.run.counts or {})
        counts["mappings_mismatched"] = len(mappings)
        self.run.counts = counts
        if not self.run.message:
            self.run.message = MAPPINGS_MISMATCHED.format(
                mappings=", ".join(f"{m.hubspot_property} ({m.salesforce_field})" for m in mappings)
            )

    def own_hubspot_source(self) -> str | None:
        """Our app's id as HubSpot's property history names the integration's writes; asked
        once per token and kept with the schemas (None when HubSpot won't say)."""
        if self._own_source is None:
            token = self.hubspot.connection.access_token
            key = "token-app:" + hashlib.sha256(token.encode()).hexdigest()[:16]
            row = SchemaCache.objects.filter(
                integration=self.integration, system=System.HUBSPOT, object=key
            ).first()
            if row is None:
                app_id = self.hubspot.token_app_id()
                row, _ = SchemaCache.objects.get_or_create(
                    integration=self.integration,
                    system=System.HUBSPOT,
                    object=key,
                    defaults={"data": {"app_id": app_id}},
                )
            self._own_source = (row.data or {}).get("app_id") or ""
        return self._own_source or None

    def mapped_field(self, mapping: FieldMapping, sobject: str) -> str | None:
        """The Salesforce field of ``mapping`` on ``sobject``, if that object has it."""
        key = (mapping.pk, sobject)
        if key not in self._fields:
            name = (
                mapping.field_for(sobject)
                if mapping.salesforce_fields
                else (mapping.salesforce_field)
            )
            if mapping.salesforce_fields and sobject not in mapping.salesforce_fields:
                name = None
            self._fields[key] = name if name in self.salesforce_fields.get(sobject, {}) else None
        return self._fields[key]

    def hubspot_writable(self, prop: str) -> bool:
        info = self.hubspot_properties.get(prop)
        return info is not None and not info.get("readOnly")

    def hubspot_add_options(self, prop: str, values: list[str]) -> None:
        """Add options to a HubSpot dropdown (one call), and to the cached schema."""
        object_type = self.hubspot_type or self.object_name
        info = self.hubspot_properties[prop]
        options = [
            {"label": o["label"], "value": o["value"], "displayOrder": i, "hidden": False}
            for i, o in enumerate(info.get("options", []))
        ]
        start = len(options)
        options += [
            {"label": v, "value": v, "displayOrder": start + i, "hidden": False}
            for i, v in enumerate(values)
        ]
        self.hubspot.call(
            "crm.properties.core_api",
            "update",
            object_type,
            prop,
            {"options": options},
            operation=f"{object_type}.properties.update",
            sent=1,
        )
        self._hubspot_options_kept(prop, options)

    def hubspot_options_reread(self, prop: str) -> list[dict]:
        """A dropdown's options read again (one call), into the cached schema: for options
        HubSpot keeps in its settings (currencies), which an admin adds there, not through
        the properties API."""
        object_type = self.hubspot_type or self.object_name
        found = self.hubspot.property_get(object_type=object_type, name=prop)
        return self._hubspot_options_kept(
            prop, [{"label": o.label, "value": o.value} for o in (found.options or [])]
        )

    def _hubspot_options_kept(self, prop: str, options: list[dict]) -> list[dict]:
        """A dropdown's options as HubSpot has them now, into the cached schema."""
        info = self.hubspot_properties[prop]
        info["options"] = [{"label": o["label"], "value": o["value"]} for o in options]
        SchemaCache.objects.filter(
            integration=self.integration, system=System.HUBSPOT, object=self.object_name
        ).update(data=list(self.hubspot_properties.values()))
        return info["options"]

    def field_type(self, sobject: str, name: str) -> str:
        return self.salesforce_fields.get(sobject, {}).get(name, {}).get("type", "string")

    def field_scale(self, sobject: str, name: str) -> int | None:
        """A number field's decimal places, None when the kept describe predates scales."""
        return self.salesforce_fields.get(sobject, {}).get(name, {}).get("scale")

    def writable(self, sobject: str, name: str, *, create: bool) -> bool:
        info = self.salesforce_fields.get(sobject, {}).get(name, {})
        return bool(info.get("createable" if create else "updateable"))
