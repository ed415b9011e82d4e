"""Migration 0022: mappings of the properties the engine sets itself (a deal's pipeline, a
ticket's), which no longer can be made, are removed and the removal is in the audit log."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from sync_engine.models import AuditEvent, FieldMapping, Integration
from sync_engine.selectors import engine_managed_properties

pytestmark = pytest.mark.django_db


def _migration():
    return importlib.import_module("sync_engine.migrations.0022_engine_managed_mappings_removed")


def test_it_names_the_properties_the_engine_manages_now():
    managed = {
        name: set(engine_managed_properties(name))
        for name in ("contacts", "companies", "deals", "tickets")
    }
    assert {k: v for k, v in managed.items() if v} == {
        k: {v} for k, v in _migration().ENGINE_MANAGED.items()
    }


def test_a_pipeline_mapping_goes_and_the_audit_log_says_why():
    integration = Integration.objects.create()
    FieldMapping.objects.create(
        integration=integration, object="deals", hubspot_property="pipeline",
        salesforce_field="LeadSource", rule="two_way",
    )  # fmt: skip
    kept = FieldMapping.objects.create(
        integration=integration, object="deals", hubspot_property="description",
        salesforce_field="Description", rule="two_way",
    )  # fmt: skip

    _migration().engine_managed_mappings_remove(apps, None)

    assert list(FieldMapping.objects.all()) == [kept]
    event = AuditEvent.objects.get(action="mapping.deleted")
    assert event.integration == integration and event.actor is None
    assert event.details == {
        "object": "deals", "hubspot": "pipeline", "salesforce": "LeadSource",
        "rule": "two_way",
        "reason": "pipeline is set by the integration itself from RecordTypeId: it can't be mapped",
    }  # fmt: skip


def test_the_audit_log_page_says_why_the_mapping_went(admin_client):
    integration = Integration.objects.get_or_create()[0]
    FieldMapping.objects.create(
        integration=integration, object="deals", hubspot_property="pipeline",
        salesforce_field="LeadSource", rule="two_way",
    )  # fmt: skip
    _migration().engine_managed_mappings_remove(apps, None)
    html = admin_client.get("/audit/").content.decode()
    assert "Mapping deleted" in html
    assert "pipeline is set by the integration itself from RecordTypeId" in html
