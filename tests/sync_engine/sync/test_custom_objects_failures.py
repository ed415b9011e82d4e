"""Custom objects when the remote side fails: a HubSpot delete Salesforce refuses, a create
whose answer is lost on an object without an external id, an admin's Resync whose HubSpot read
fails. Nothing is dropped, nothing is duplicated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine.models import RecordLink, ResyncRequest, SyncCursor, SyncError
from sync_engine.services import (
    custom_object_create,
    custom_object_schemas_read,
    record_resync,
)

from .test_custom_objects import Projects, create_schema, set_up

INTEGRATION_USER = "integration-user-token"


@pytest.fixture
def projects(integration, emulators, hs_person):
    """Salesforce's Project__c (upserted by External_Id__c) ⇄ a HubSpot custom object."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    return Projects(integration, emulators, hs_person, hs_type, name)


def open_errors(name: str):
    return SyncError.objects.filter(object=name, resolved_at__isnull=True)


def deletes_due() -> None:
    """The archived HubSpot records are listed again (every ten minutes)."""
    SyncCursor.objects.filter(stream__startswith="hubspot:deletes:").update(
        checked_at=timezone.now() - timedelta(minutes=10)
    )


def deletes_on(projects, sf_person) -> tuple[str, str]:
    """A synced project (Salesforce id, HubSpot id) with both delete rules on."""
    project = sf_person.Project__c.create({"Name": "Delete in Salesforce"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects.settings(salesforce_delete="delete", hubspot_delete="delete")
    projects()  # the deletes listing starts from now
    return project, record


def live_projects(sf_person) -> set[str]:
    return {r["Id"] for r in sf_person.query("SELECT Id FROM Project__c")["records"]}


def refuse_deletes(emulators, project: str) -> None:
    """The integration user may edit the project but not delete it (sharing)."""
    emulators.salesforce.app.run_action(
        "set_record_access", access="edit", id=project, token=INTEGRATION_USER
    )


def allow_deletes_and_retry(emulators, project: str, name: str) -> None:
    emulators.salesforce.app.run_action(
        "set_record_access", access="all", id=project, token=INTEGRATION_USER
    )
    SyncError.objects.filter(object=name).update(next_retry_at=timezone.now())


@pytest.mark.parametrize("seen_by", ["deletes listing", "salesforce edit"])
def test_a_hubspot_delete_salesforce_refuses_keeps_its_link_until_the_retry_deletes(
    projects, sf_person, emulators, seen_by
):
    project, record = deletes_on(projects, sf_person)
    refuse_deletes(emulators, project)
    projects.hs.crm.objects.basic_api.archive(projects.type, record)
    if seen_by == "deletes listing":
        deletes_due()
    else:  # the project changes: its HubSpot record is found gone
        sf_person.Project__c.update(project, {"Budget__c": 2.0})
    run = projects()
    assert run.counts["failed"] == 1 and not run.counts.get("deleted_in_salesforce")
    # The link stays, with a typed error on the Salesforce record saying what happened.
    assert projects.link(salesforce_id=project).hubspot_id == record
    error = open_errors(projects.name).get()
    assert error.error_type == "insufficient_access"
    assert error.record_key == f"salesforce:{project}" and error.direction == "to_salesforce"
    assert error.code == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert "Deleted in HubSpot" in error.message and "insufficient access" in error.message
    assert error.record_label == "Delete in Salesforce"
    assert project in live_projects(sf_person) and projects.ids() == []
    # Until its retry is due, later cycles leave it alone: nothing is created in HubSpot.
    run = projects()
    assert not run.counts.get("created_in_hubspot") and projects.ids() == []
    assert projects.link(salesforce_id=project)

    # Access restored: the retry finishes the delete; no HubSpot record is created for it.
    allow_deletes_and_retry(emulators, project, projects.name)
    run = projects()
    assert run.counts["deleted_in_salesforce"] == 1 and not run.counts.get("created_in_hubspot")
    assert project not in live_projects(sf_person)
    assert projects.ids() == [] and not projects.links().exists()
    error.refresh_from_db()
    assert error.resolved_at is not None
    run = projects()
    assert not run.counts.get("created_in_hubspot") and projects.ids() == []


def test_a_refused_delete_done_by_hand_in_salesforce_clears_its_error(
    projects, sf_person, emulators
):
    project, record = deletes_on(projects, sf_person)
    refuse_deletes(emulators, project)
    projects.hs.crm.objects.basic_api.archive(projects.type, record)
    deletes_due()
    projects()
    assert open_errors(projects.name).exists()

    sf_person.Project__c.delete(project)  # someone who may delete it does
    projects()
    assert not projects.links().exists() and not open_errors(projects.name).exists()


@pytest.fixture
def campaigns(integration, emulators, hs_person):
    """Salesforce's Campaign (no external id field to upsert by) ⇄ a HubSpot custom object."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type = create_schema(hs_person)
    fields, properties = custom_object_schemas_read(
        integration=integration, salesforce_object="Campaign", hubspot_object=hs_type
    )
    row = custom_object_create(
        integration=integration,
        settings={"salesforce_object": "Campaign", "hubspot_object": hs_type, "associations": {}},
        mappings={"Name": "project_name"},
        salesforce_fields=fields,
        hubspot_properties=properties,
    )
    return Projects(integration, emulators, hs_person, hs_type, row.object)


@pytest.mark.parametrize("salesforce_to_hubspot", ["create_or_update", "nothing"])
def test_a_lost_create_answer_without_an_external_id_makes_no_duplicate(
    campaigns, sf_person, emulators, salesforce_to_hubspot
):
    # Found from the Salesforce side (the new campaign is read first) or, when Salesforce
    # doesn't create in HubSpot, from the HubSpot side before creating again.
    campaigns.settings(salesforce_to_hubspot=salesforce_to_hubspot)
    campaigns()
    record = campaigns.create(project_name="Lost in Salesforce")
    # Salesforce creates the campaign but the answer is lost: the run fails.
    emulators.salesforce.app.faults.add(
        path=r"/composite/sobjects$", method="POST", status=500, apply_then_fail=True, times=1
    )
    assert campaigns(ok=False).status == "failed"
    assert not campaigns.links().exists()

    run = campaigns()
    assert run.counts["matched"] == 1
    assert not run.counts.get("created_in_salesforce") and not run.counts.get("created_in_hubspot")
    rows = sf_person.query("SELECT Id, Name FROM Campaign")["records"]
    assert [r["Name"] for r in rows] == ["Lost in Salesforce"]
    assert campaigns.ids() == [record]
    link = campaigns.link(hubspot_id=record)
    assert link.salesforce_id == rows[0]["Id"]
    assert campaigns.get(record)["salesforce_record_id_sync"] == rows[0]["Id"]
    campaigns()
    assert RecordLink.objects.filter(object=campaigns.name).count() == 1
    assert sf_person.query("SELECT Id FROM Campaign")["totalSize"] == 1
    assert campaigns.ids() == [record]


def test_a_resync_request_whose_hubspot_read_fails_stays_queued(projects, sf_person, emulators):
    projects.settings(hubspot_to_salesforce="nothing")
    record = projects.create(project_name="Asked for")
    projects()
    projects.settings(hubspot_to_salesforce="create_or_update")
    record_resync(
        integration=projects.integration, object_name=projects.name, record_key=f"hubspot:{record}"
    )
    # HubSpot fails the read (after the client's retries): the request waits for next time.
    emulators.hubspot.app.faults.add(path=r"/batch/read$", method="POST", status=503, times=4)
    run = projects(ok=False)
    assert run.status == "failed" and "Temporary failure" in run.message
    assert ResyncRequest.objects.filter(object=projects.name).exists()
    assert not projects.links().exists()

    run = projects()
    assert run.counts["created_in_salesforce"] == 1
    assert projects.link(hubspot_id=record)
    assert not ResyncRequest.objects.filter(object=projects.name).exists()
