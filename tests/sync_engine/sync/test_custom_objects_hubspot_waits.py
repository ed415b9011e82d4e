"""Custom objects, HubSpot → Salesforce: a project associated in HubSpot with a contact or
company that isn't in Salesforce yet syncs without its lookup and shows *Waiting for contact
(account) to sync*; once that contact or company syncs, the lookup is set and the error ends.
A wait also ends when its association is removed or the partner's sync is switched off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hubspot.crm.objects import SimplePublicObjectInputForCreate

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import (
    object_settings_update,
    record_resync,
    sync_errors_request_resync,
)
from sync_engine.sync.cycle import sync_cycle_run

from .test_custom_objects import Projects, set_up, writes

PARTNERS = {
    # HubSpot object: (lookup, Salesforce object, error type)
    "contacts": ("Contact__c", "Contact", "waiting_for_contact"),
    "companies": ("Account__c", "Account", "waiting_for_account"),
}


def new_hubspot_partner(hs, hs_object: str) -> str:
    properties = (
        {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}
        if hs_object == "contacts"
        else {"name": "Acme"}
    )
    api = getattr(hs.crm, hs_object).basic_api
    return str(api.create(SimplePublicObjectInputForCreate(properties=properties)).id)


def partner_syncs(integration, hs_object: str, partner: str) -> str:
    """The partner syncs to Salesforce (a contact as a contact; a company by its Sync
    button): its Salesforce id."""
    if hs_object == "companies":
        record_resync(
            integration=integration, object_name=hs_object, record_key=f"hubspot:{partner}"
        )
    assert sync_cycle_run(integration=integration, object_name=hs_object).status == "succeeded"
    return RecordLink.objects.get(object=hs_object, hubspot_id=partner).salesforce_id


def waiting_project(integration, emulators, hs_person, hs_object: str):
    """A HubSpot project associated with a HubSpot ``hs_object`` record not in Salesforce:
    (projects, project's HubSpot id, partner's HubSpot id)."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    lookup = PARTNERS[hs_object][0]
    changes = {"hubspot_creates": "contact"} if hs_object == "contacts" else {}
    object_settings_update(
        integration=integration, object_name=hs_object, changes=changes, enabled=True
    )
    hs_type, name = set_up(integration, hs_person, associations={hs_object: lookup})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    partner = new_hubspot_partner(hs_person, hs_object)
    record = projects.create(project_name="From HubSpot")
    hs_person.crm.associations.v4.basic_api.create_default(hs_type, record, hs_object, partner)
    return projects, record, partner


def open_errors(name: str):
    return SyncError.objects.filter(object=name, resolved_at__isnull=True)


def sf_projects(sf) -> list[dict]:
    return sf.query("SELECT Id, Name, Account__c, Contact__c FROM Project__c")["records"]


@pytest.mark.parametrize("hs_object", sorted(PARTNERS))
def test_a_hubspot_project_waits_for_its_contact_or_company_then_gets_its_lookup(
    integration, emulators, hs_person, sf_person, hs_object
):
    lookup, _sobject, error_type = PARTNERS[hs_object]
    projects, record, partner = waiting_project(integration, emulators, hs_person, hs_object)

    # The project syncs without its lookup, and says what it waits for.
    run = projects()
    assert run.counts["created_in_salesforce"] == 1
    (project,) = sf_projects(sf_person)
    assert project[lookup] is None
    error = open_errors(projects.name).get()
    assert error.error_type == error_type and error.record_key == f"hubspot:{record}"
    assert error.direction == "to_salesforce" and error.fields == [lookup]
    assert error.salesforce_id == project["Id"] and partner in error.message

    # Still waiting: an idle cycle reads the changes on both sides and the association
    # sweep's slice (one read), and for the wait looks at the database only.
    run = projects()
    sweep = f"associations.{projects.type}.{hs_object}.batch.read"
    assert sorted(run.operations) == sorted([f"{projects.type}.search", "composite", sweep])
    assert open_errors(projects.name).get().pk == error.pk

    # The partner syncs: the next cycle sets the lookup, and the error ends.
    partner_sf = partner_syncs(integration, hs_object, partner)
    run = projects()
    (project,) = sf_projects(sf_person)  # updated, not created again
    assert project[lookup] == partner_sf
    assert projects.link(hubspot_id=record).salesforce_id == project["Id"]
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert not open_errors(projects.name).exists()
    assert writes(projects()) == []
    assert projects.associated(record, hs_object) == [partner]


def test_a_linked_project_given_an_unsynced_contact_in_hubspot_waits_for_it(
    integration, emulators, hs_person, sf_person
):
    """A project already in both CRMs, associated later in HubSpot (with another edit) with a
    contact not in Salesforce: the edit syncs, the lookup waits."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"hubspot_creates": "contact"},
        enabled=True,
    )
    hs_type, name = set_up(integration, hs_person, associations={"contacts": "Contact__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create({"Name": "Rollout"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id

    contact = new_hubspot_partner(hs_person, "contacts")
    hs_person.crm.associations.v4.basic_api.create_default(hs_type, record, "contacts", contact)
    projects.update(record, notes="Ada runs it")
    projects()
    assert sf_person.Project__c.get(project)["Description__c"] == "Ada runs it"
    error = open_errors(name).get()
    assert error.error_type == "waiting_for_contact" and error.record_key == f"hubspot:{record}"

    contact_sf = partner_syncs(integration, "contacts", contact)
    projects()
    assert sf_person.Project__c.get(project)["Contact__c"] == contact_sf
    assert not open_errors(name).exists()
    assert len(sf_projects(sf_person)) == 1


def test_a_wait_ends_when_its_association_is_removed_in_hubspot(
    integration, emulators, hs_person, sf_person
):
    projects, record, contact = waiting_project(integration, emulators, hs_person, "contacts")
    projects()
    error = open_errors(projects.name).get()
    assert error.error_type == "waiting_for_contact"

    # Someone removes the association; when the wait is looked at again (its retry falls
    # due, or an admin clicks Resync), it's over.
    hs_person.crm.associations.v4.basic_api.archive(projects.type, record, "contacts", contact)
    sync_errors_request_resync(integration=integration, error_ids=[error.pk])
    projects()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert not open_errors(projects.name).exists()

    # The contact syncs later: the project is left without a lookup, no error comes back.
    partner_syncs(integration, "contacts", contact)
    projects()
    (project,) = sf_projects(sf_person)
    assert project["Contact__c"] is None
    assert not open_errors(projects.name).exists()


def test_a_wait_is_looked_at_again_when_its_retry_falls_due(
    integration, emulators, hs_person, sf_person
):
    """Removing an association doesn't change the project in HubSpot: the wait's own retry
    (every 20 minutes, then nightly) reads it again, and the association sweep finds it
    gone."""
    projects, record, contact = waiting_project(integration, emulators, hs_person, "contacts")
    projects()
    # Due while still associated: read again, nothing written, still waiting (and not due).
    open_errors(projects.name).update(next_retry_at=timezone.now() - timedelta(seconds=1))
    run = projects()
    assert writes(run) == [] and run.counts["waiting_for_contact"] == 1
    assert open_errors(projects.name).get().next_retry_at > timezone.now()

    hs_person.crm.associations.v4.basic_api.archive(projects.type, record, "contacts", contact)
    projects()  # not due yet, but the sweep's slice holds the project
    assert not open_errors(projects.name).exists()


def test_a_wait_ends_when_the_partner_sync_is_switched_off(
    integration, emulators, hs_person, sf_person
):
    projects, record, contact = waiting_project(integration, emulators, hs_person, "contacts")
    projects()
    error = open_errors(projects.name).get()
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=False
    )
    run = projects()
    assert writes(run) == []
    error.refresh_from_db()
    assert error.resolved_at is not None
    # An edit of the project syncs without bringing the wait back.
    projects.update(record, notes="edited")
    projects()
    assert not open_errors(projects.name).exists()
    (project,) = sf_projects(sf_person)
    assert project["Contact__c"] is None


def test_a_project_deleted_in_salesforce_while_waiting_is_not_created_again(
    integration, emulators, hs_person, sf_person
):
    """The wait was for a lookup on a Salesforce record someone deleted: it ends with it,
    and the contact syncing later doesn't bring the project back."""
    projects, record, contact = waiting_project(integration, emulators, hs_person, "contacts")
    projects.settings(salesforce_delete="nothing")
    projects()
    projects()  # (the echo of the key written back to HubSpot)
    assert open_errors(projects.name).get().error_type == "waiting_for_contact"
    (project,) = sf_projects(sf_person)
    sf_person.Project__c.delete(project["Id"])
    projects()
    assert not open_errors(projects.name).exists()
    # Its history says why: the record went, it never synced.
    assert SyncError.objects.get(object=projects.name).ended_because == "deleted"

    partner_syncs(integration, "contacts", contact)
    projects()
    assert sf_projects(sf_person) == []
    assert projects.ids() == [record]


def test_a_salesforce_lookup_s_wait_ends_when_the_partner_sync_is_switched_off(
    integration, emulators, hs_person, sf_person
):
    """The other direction alike: a project whose lookup points at a contact not in HubSpot
    stops waiting once contact sync is off (it could never end)."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=True
    )
    hs_type, name = set_up(integration, hs_person, associations={"contacts": "Contact__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    contact = sf_person.Contact.create({"LastName": "Ada", "Email": "ada@example.com"})["id"]
    sf_person.Project__c.create({"Name": "Early", "Contact__c": contact})
    projects()
    error = open_errors(name).get()
    assert error.error_type == "waiting_for_contact" and error.record_key.startswith("salesforce:")

    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=False
    )
    assert writes(projects()) == []
    error.refresh_from_db()
    assert error.resolved_at is not None
