"""Whether the connected org is a sandbox is the connection's own field (set by the connect,
filled for existing installs from the audit log by migration 0020), and *Connect to a new
sandbox* empties the custom objects' stale Salesforce keys as it does the companies'. Through
the emulators."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from sync_engine.models import AuditEvent, Integration, RecordLink, SalesforceConnection
from sync_engine.sync.custom_objects import KEY_PROPERTY

from . import engine_harness
from .conftest import connect_to_emulators
from .management.test_connect import connect
from .sync.test_custom_objects import MAPPINGS, Projects, set_up

pytestmark = pytest.mark.django_db


# --- the field -------------------------------------------------------------------------------
def test_connecting_a_sandbox_marks_the_connection_and_production_does_not(emulators):
    connect_to_emulators(emulators, salesforce_sandbox=True)
    assert SalesforceConnection.objects.get().sandbox is True
    connect_to_emulators(emulators)
    assert SalesforceConnection.objects.get().sandbox is False


def test_manage_py_connect_sandbox_marks_the_connection(emulators):
    connect(emulators, "--sandbox")
    assert SalesforceConnection.objects.get().sandbox is True
    connect(emulators)
    assert SalesforceConnection.objects.get().sandbox is False


def test_a_new_sandbox_is_still_a_sandbox(emulators):
    connect_to_emulators(emulators, salesforce_sandbox=True)
    emulators.salesforce.app.run_action("new_org_id")
    connect_to_emulators(emulators, salesforce_sandbox=True, new_sandbox=True)
    assert SalesforceConnection.objects.get().sandbox is True


# --- the data migration ----------------------------------------------------------------------
def _fill():
    return importlib.import_module("sync_engine.migrations.0020_salesforceconnection_sandbox")


def _connected(integration, at: str, **details) -> None:
    AuditEvent.objects.create(
        integration=integration, action="integration.connected", details=details, at=at
    )


def test_the_migration_fills_the_field_from_the_last_connects_audit_event():
    noted = Integration.objects.create()
    SalesforceConnection.objects.create(
        integration=noted, instance_url="https://acme--uat.sandbox.my.salesforce.com"
    )
    _connected(noted, "2026-01-01T00:00Z")
    _connected(noted, "2026-02-01T00:00Z", salesforce_sandbox=True)
    # Connected to production since: its last connect noted no sandbox.
    moved = Integration.objects.create()
    SalesforceConnection.objects.create(integration=moved, instance_url="https://a.example")
    _connected(moved, "2026-01-01T00:00Z", salesforce_sandbox=True)
    _connected(moved, "2026-02-01T00:00Z")
    never = Integration.objects.create()  # connected before connects were audit-logged
    SalesforceConnection.objects.create(integration=never, instance_url="https://b.example")

    _fill().sandbox_from_audit_log(apps, None)

    flags = dict(SalesforceConnection.objects.values_list("integration", "sandbox"))
    assert flags == {noted.pk: True, moved.pk: False, never.pk: False}


# --- custom objects' keys on a switch --------------------------------------------------------
def projects_in_sandbox(emulators, hs_person) -> Projects:
    """A sandbox connected, projects syncing with their external id (``External_Id__c``)
    mapped to ``project_code``."""
    integration = connect_to_emulators(emulators, salesforce_sandbox=True)
    engine_harness.unthrottle(emulators)
    hs_type, name = set_up(
        integration, hs_person, mappings={**MAPPINGS, "External_Id__c": "project_code"}
    )
    return Projects(integration, emulators, hs_person, hs_type, name)


def test_a_switch_empties_the_custom_objects_keys_the_new_sandbox_lacks(
    emulators, sf_person, hs_person
):
    projects = projects_in_sandbox(emulators, hs_person)
    gone = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "PRJ-1"})["id"]
    kept = sf_person.Project__c.create({"Name": "Gemini", "External_Id__c": "PRJ-2"})["id"]
    projects()
    apollo = projects.link(salesforce_id=gone).hubspot_id
    gemini = projects.link(salesforce_id=kept).hubspot_id
    assert projects.get(apollo)[KEY_PROPERTY] == gone

    # The new sandbox loaded Apollo again (a new id, its code kept) and copied Gemini.
    emulators.salesforce.app.run_action("new_org_id")
    sf_person.Project__c.delete(gone)
    again = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "PRJ-1"})["id"]
    connect_to_emulators(emulators, salesforce_sandbox=True, new_sandbox=True)
    assert not RecordLink.objects.exists()
    assert not projects.get(apollo).get(KEY_PROPERTY)
    assert projects.get(gemini)[KEY_PROPERTY] == kept
    event = AuditEvent.objects.get(action="integration.sandbox_changed")
    assert event.details["record_keys_emptied"] == 1

    for _ in range(2):
        projects()

    # Relinked by the code, not made again beside the old record.
    assert sorted(projects.ids()) == sorted([apollo, gemini])
    assert projects.link(salesforce_id=again).hubspot_id == apollo
    assert projects.link(salesforce_id=kept).hubspot_id == gemini
    assert projects.get(apollo)[KEY_PROPERTY] == again
    rows = sf_person.query("SELECT Id FROM Project__c")["records"]
    assert sorted(r["Id"] for r in rows) == sorted([again, kept])
