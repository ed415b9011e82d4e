"""Custom objects when the remote side fails: a HubSpot delete Salesforce refuses, a create
whose answer is lost on an object without an external id, an admin's Resync whose HubSpot read
fails, a lost write-back of a new record's key, a moved lookup whose association write fails
or is cut short by a crash, a crash before a waiting record's association. Nothing is
dropped, nothing is duplicated, no edit is overwritten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from emulators.testing import salesforce_client
from sync_engine.connectors.hubspot.connector import HubSpotConnector
from sync_engine.models import RecordLink, ResyncRequest, SyncCursor, SyncError
from sync_engine.services import (
    custom_object_create,
    custom_object_schemas_read,
    object_sync_get_or_create,
    record_resync,
)
from sync_engine.sync.custom_objects import CustomObjectSync
from sync_engine.sync.cycle import sync_cycle_run

from ..conftest import SF_TOKEN
from .helpers import refuse_associations
from .test_custom_objects import (
    KEY,
    Projects,
    coded_projects,
    create_schema,
    deals_cycle,
    new_opportunity,
    opportunity_lookup_and_deals,
    set_up,
    writes,
)

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


def paired(
    integration, emulators, hs_person, sobject: str, mappings: dict, properties=None
) -> Projects:
    """Salesforce's ``sobject`` ⇄ a new HubSpot custom object, by ``mappings``."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type = create_schema(hs_person, properties)
    fields, properties = custom_object_schemas_read(
        integration=integration, salesforce_object=sobject, hubspot_object=hs_type
    )
    row = custom_object_create(
        integration=integration,
        settings={"salesforce_object": sobject, "hubspot_object": hs_type, "associations": {}},
        mappings=mappings,
        salesforce_fields=fields,
        hubspot_properties=properties,
    )
    return Projects(integration, emulators, hs_person, hs_type, row.object)


@pytest.fixture
def campaigns(integration, emulators, hs_person):
    """Salesforce's Campaign (no external id field to upsert by) ⇄ a HubSpot custom object."""
    return paired(integration, emulators, hs_person, "Campaign", {"Name": "project_name"})


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


@pytest.fixture
def invoices(integration, emulators, hs_person):
    """Salesforce's Invoice__c (an auto-number name, no external id) ⇄ a HubSpot custom
    object: a create can't be an upsert, nor be found by a name the sync chose. The number
    Salesforce gives an invoice names its HubSpot record."""
    mappings = {
        "Name": "project_name",
        "Amount__c": "budget",
        "Due_Date__c": "start_date",
        "Notes__c": "notes",
    }
    return paired(integration, emulators, hs_person, "Invoice__c", mappings)


@pytest.mark.parametrize("salesforce_to_hubspot", ["create_or_update", "nothing"])
def test_a_lost_create_answer_without_a_name_or_an_external_id_makes_no_duplicate(
    invoices, sf_person, emulators, salesforce_to_hubspot
):
    invoices.settings(salesforce_to_hubspot=salesforce_to_hubspot)
    invoices()
    # An earlier invoice of the integration user's with other values is left alone.
    as_integration_user = salesforce_client(emulators, token=SF_TOKEN)
    other = as_integration_user.Invoice__c.create({"Amount__c": 120.5, "Notes__c": "Other"})
    record = invoices.create(
        project_name="March", budget="120.50", start_date="2026-03-31", notes="Lost"
    )
    # Salesforce creates the invoice but the answer is lost: the run fails.
    emulators.salesforce.app.faults.add(
        path=r"/composite/sobjects$", method="POST", status=500, apply_then_fail=True, times=1
    )
    assert invoices(ok=False).status == "failed"
    assert not invoices.links().filter(hubspot_id=record).exists()

    run = invoices()
    assert not run.counts.get("created_in_salesforce"), run.counts
    # A long text area can't be filtered on in SOQL: the rows are picked here.
    rows = sf_person.query("SELECT Id, Name, Notes__c FROM Invoice__c")["records"]
    assert [r["Notes__c"] for r in rows].count("Lost") == 1
    lost = next(r for r in rows if r["Notes__c"] == "Lost")
    assert lost["Name"].startswith("INV-")
    assert invoices.link(hubspot_id=record).salesforce_id == lost["Id"]
    assert invoices.get(record)["salesforce_record_id_sync"] == lost["Id"]
    invoices()
    assert sf_person.query("SELECT Id FROM Invoice__c")["totalSize"] == 2
    assert invoices.links().count() == (2 if salesforce_to_hubspot == "create_or_update" else 1)
    assert not RecordLink.objects.filter(salesforce_id=other["id"], hubspot_id=record).exists()


def test_the_integration_users_own_campaign_is_not_taken_for_a_record_of_the_same_name(
    campaigns, emulators
):
    """Lost creates are looked for only among the creates the sync noted it was sending."""
    campaigns.settings(hubspot_to_salesforce="nothing")
    unrelated = campaigns.create(project_name="Spring")
    campaigns()
    as_integration_user = salesforce_client(emulators, token=SF_TOKEN)
    campaign = as_integration_user.Campaign.create({"Name": "Spring"})["id"]
    run = campaigns()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    assert campaigns.link(salesforce_id=campaign).hubspot_id != unrelated


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


def test_a_lost_hubspot_write_back_after_a_salesforce_upsert_links_back_without_a_duplicate(
    integration, emulators, hs_person, sf_person
):
    # The external id is mapped; a HubSpot record without a value is upserted in Salesforce
    # by its own id, which goes back to HubSpot with the new key in the next write.
    projects = coded_projects(integration, emulators, hs_person)
    projects()
    record = projects.create(project_name="No code yet")
    # Salesforce's upsert lands; HubSpot's update (key and value) fails every attempt.
    emulators.hubspot.app.faults.add(path=r"/batch/update$", status=500, times=4)
    assert projects(ok=False).status == "failed"
    (row,) = sf_person.query("SELECT Id, External_Id__c FROM Project__c")["records"]
    assert row["External_Id__c"] == record and not projects.links().exists()

    # The new project is found from its value: the HubSpot record of that id (one read).
    run = projects()
    assert run.counts["matched"] == 1 and not run.counts.get("created_in_hubspot")
    assert run.operations.count(f"{projects.type}.batch.read") == 1, run.operations
    assert projects.ids() == [record]
    assert projects.link(hubspot_id=record).salesforce_id == row["Id"]
    props = projects.get(record)
    assert props["project_code"] == record and props[KEY] == row["Id"]
    assert not open_errors(projects.name).exists()
    run = projects()
    assert writes(run) == [] and not open_errors(projects.name).exists()
    assert projects.ids() == [record]
    assert sf_person.query("SELECT Id FROM Project__c")["totalSize"] == 1


def contacts_linked(integration, emulators, hs_person, sf_person, **settings):
    """Ada and Bob synced as contacts; a project looking up Ada, synced with its association.
    Returns (projects, project, HubSpot record, Ada, Bob, Salesforce id -> HubSpot id)."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    ada = sf_person.Contact.create({"LastName": "Ada", "Email": "ada@example.com"})["id"]
    bob = sf_person.Contact.create({"LastName": "Bob", "Email": "bob@example.com"})["id"]
    assert sync_cycle_run(integration=integration, object_name="contacts").status == "succeeded"
    contact = dict(
        RecordLink.objects.filter(object="contacts").values_list("salesforce_id", "hubspot_id")
    )
    hs_type, name = set_up(
        integration, hs_person, associations={"contacts": "Contact__c"}, **settings
    )
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create({"Name": "Linked", "Contact__c": ada})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    assert projects.associated(record, "contacts") == [contact[ada]]
    return projects, project, record, ada, bob, contact


class Killed(BaseException):
    """The worker process dies here (SIGKILL): nothing after this instant runs."""


def killed(*args, **kwargs):
    raise Killed()


@pytest.mark.parametrize("dies", ["before the create", "after the create"])
def test_a_moved_lookup_survives_a_worker_killed_while_its_association_is_written(
    integration, emulators, hs_person, sf_person, monkeypatch, dies
):
    # HubSpot wins conflicts: a HubSpot side misread as changed would clear the lookup.
    projects, project, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person, conflict_winner="hubspot"
    )
    sf_person.Project__c.update(project, {"Contact__c": bob})
    # The worker dies as the association create (or archive) is about to be sent.
    call = (
        "associations_batch_create" if dies == "before the create" else "associations_batch_archive"
    )
    monkeypatch.setattr(HubSpotConnector, call, killed)
    with pytest.raises(Killed):
        sync_cycle_run(integration=integration, object_name=projects.name)
    monkeypatch.undo()
    # HubSpot never holds no association: the old one goes only after the new one landed.
    held = [contact[ada]] if dies == "before the create" else [contact[ada], contact[bob]]
    assert sorted(projects.associated(record, "contacts")) == sorted(held)

    run = projects()
    assert not run.counts.get("conflicts") and not run.counts.get("updated_in_salesforce")
    assert sf_person.Project__c.get(project)["Contact__c"] == bob
    assert projects.associated(record, "contacts") == [contact[bob]]
    assert not open_errors(projects.name).exists()
    assert writes(projects()) == []


def test_a_moved_lookup_whose_association_create_fails_is_kept_and_written_on_retry(
    integration, emulators, hs_person, sf_person
):
    projects, project, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person, conflict_winner="hubspot"
    )
    sf_person.Project__c.update(project, {"Contact__c": bob})
    # HubSpot's association create fails every attempt (a transient error is retried on the
    # next cycle, not again in this one).
    emulators.hubspot.app.faults.add(
        path=rf"/associations/{projects.type}/contacts/batch/create$", status=500, times=4
    )
    run = projects()
    assert not run.counts.get("retried")
    assert not run.counts.get("conflicts") and not run.counts.get("updated_in_salesforce")
    # Nothing changed on either side: HubSpot keeps Ada, Salesforce keeps Bob, an error shows.
    assert sf_person.Project__c.get(project)["Contact__c"] == bob
    assert projects.associated(record, "contacts") == [contact[ada]]
    error = open_errors(projects.name).get()
    assert error.record_key == f"salesforce:{project}" and error.direction == "to_hubspot"

    SyncError.objects.filter(object=projects.name).update(next_retry_at=timezone.now())
    run = projects()
    assert not run.counts.get("conflicts") and not run.counts.get("updated_in_salesforce")
    assert sf_person.Project__c.get(project)["Contact__c"] == bob
    assert projects.associated(record, "contacts") == [contact[bob]]
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert writes(projects()) == []


def test_a_moved_lookup_at_hubspot_s_association_limit_makes_room_first(
    integration, emulators, hs_person, sf_person
):
    projects, project, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person
    )
    sf_person.Project__c.update(project, {"Contact__c": bob})
    # One contact per project: the new association is refused while the old one is there.
    refuse_associations(emulators, projects.type, "contacts", times=1)
    run = projects()
    assert run.counts["associations_to_hubspot"] == 1 and not run.counts.get("failed")
    assert projects.associated(record, "contacts") == [contact[bob]]
    assert sf_person.Project__c.get(project)["Contact__c"] == bob
    assert not open_errors(projects.name).exists()
    assert writes(projects()) == []


def test_a_wait_for_a_deal_ends_only_once_its_association_is_written(
    integration, emulators, hs_person, sf_person, monkeypatch
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    opportunity_lookup_and_deals(integration, emulators)
    hs_type, name = set_up(integration, hs_person, associations={"deals": "Opportunity__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    opportunity = new_opportunity(sf_person, "Not synced yet")
    project = sf_person.Project__c.create({"Name": "Early", "Opportunity__c": opportunity})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    error = open_errors(name).get()
    assert error.error_type == "waiting_for_opportunity"
    deal = deals_cycle(integration)

    # The worker dies right before the waiting record's association is written.
    write_associations = CustomObjectSync.write_associations

    def dies_before_writing(self):
        if self._association_writes:
            raise Killed()
        write_associations(self)

    monkeypatch.setattr(CustomObjectSync, "write_associations", dies_before_writing)
    with pytest.raises(Killed):
        sync_cycle_run(integration=integration, object_name=name)
    monkeypatch.undo()
    assert projects.associated(record, "deals") == []
    error.refresh_from_db()
    assert error.resolved_at is None  # still waiting: the next cycle looks again

    run = projects()
    assert run.counts["associations_to_hubspot"] == 1
    assert projects.associated(record, "deals") == [deal[opportunity]]
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert writes(projects()) == []
