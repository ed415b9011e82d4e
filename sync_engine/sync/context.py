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
from ..services import SALESFORCE_OBJECTS, object_sync_get_or_create, schema_refresh
from .rules import SyncRule


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
            if system == System.SALESFORCE
        }
        hubspot_properties = {p["name"]: p for p in schema.get((System.HUBSPOT, object_name), [])}
        mappings = [
            m
            for m in FieldMapping.objects.filter(integration=integration, object=object_name)
            if m.rule != SyncRule.DONT_SYNC and m.hubspot_property in hubspot_properties
        ]
        return cls(
            integration=integration,
            object_name=object_name,
            run=run,
            settings=settings_for(object_name, row.options),
            mappings=mappings,
            salesforce=SalesforceConnector(integration=integration),
            hubspot=HubSpotConnector(integration=integration),
            salesforce_fields=salesforce_fields,
            hubspot_properties=hubspot_properties,
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
        info["options"] = [{"label": o["label"], "value": o["value"]} for o in options]
        SchemaCache.objects.filter(
            integration=self.integration, system=System.HUBSPOT, object=self.object_name
        ).update(data=list(self.hubspot_properties.values()))

    def field_type(self, sobject: str, name: str) -> str:
        return self.salesforce_fields.get(sobject, {}).get(name, {}).get("type", "string")

    def writable(self, sobject: str, name: str, *, create: bool) -> bool:
        info = self.salesforce_fields.get(sobject, {}).get(name, {})
        return bool(info.get("createable" if create else "updateable"))
