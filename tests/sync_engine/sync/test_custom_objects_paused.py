"""Custom objects: a project whose lookup (or HubSpot association) points at a contact while
contact sync is off syncs without it, and no error; once contact sync is switched on and the
contact syncs, the next cycle sets the association without the project being edited."""

from __future__ import annotations

from sync_engine.models import RecordLink
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycle_run

from .test_custom_objects import Projects, set_up, writes
from .test_custom_objects_hubspot_waits import (
    new_hubspot_partner,
    open_errors,
    partner_syncs,
    sf_projects,
)


def contact_sync(integration, *, on: bool) -> None:
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"hubspot_creates": "contact"},
        enabled=on,
    )


def contact_projects(integration, emulators, hs_person) -> Projects:
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person, associations={"contacts": "Contact__c"})
    return Projects(integration, emulators, hs_person, hs_type, name)


def idle_operations(projects: Projects) -> list[str]:
    """An idle cycle reads the changes on both sides and the association sweep's slice of
    the linked projects (one read), nothing else."""
    sweep = [f"associations.{projects.type}.contacts.batch.read"] if projects.links() else []
    return sorted([f"{projects.type}.search", "composite", *sweep])


def test_a_salesforce_lookup_skipped_while_contact_sync_was_off_is_associated_once_on(
    integration, emulators, hs_person, sf_person
):
    contact_sync(integration, on=False)
    projects = contact_projects(integration, emulators, hs_person)
    contact = sf_person.Contact.create({"LastName": "Ada", "Email": "ada@example.com"})["id"]
    project = sf_person.Project__c.create({"Name": "Rollout", "Contact__c": contact})["id"]

    # Contact sync off: the project syncs without its association, and no error.
    run = projects()
    assert run.counts["created_in_hubspot"] == 1
    record = projects.link(salesforce_id=project).hubspot_id
    assert projects.associated(record, "contacts") == []
    assert not open_errors(projects.name).exists()
    # While the pair is off, nothing is asked for it.
    assert sorted(projects().operations) == idle_operations(projects)

    # Contact sync switched on: the contact syncs, then the project is associated with it,
    # though the project itself wasn't edited.
    contact_sync(integration, on=True)
    assert sync_cycle_run(integration=integration, object_name="contacts").status == "succeeded"
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    run = projects()
    assert run.counts["associations_to_hubspot"] == 1
    assert projects.associated(record, "contacts") == [hs_contact]
    assert not open_errors(projects.name).exists()
    assert sf_person.Project__c.get(project)["Contact__c"] == contact

    # Done: the next cycles are idle again.
    assert sorted(projects().operations) == idle_operations(projects)


def test_a_salesforce_lookup_skipped_while_off_waits_if_the_contact_has_not_synced_yet(
    integration, emulators, hs_person, sf_person
):
    """Switched on, the pair's contact not synced yet: the project now waits for it (the
    usual *Waiting for contact* error), and is associated once it syncs."""
    contact_sync(integration, on=False)
    projects = contact_projects(integration, emulators, hs_person)
    contact = sf_person.Contact.create({"LastName": "Ada", "Email": "ada@example.com"})["id"]
    project = sf_person.Project__c.create({"Name": "Rollout", "Contact__c": contact})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id

    contact_sync(integration, on=True)
    projects()
    error = open_errors(projects.name).get()
    assert error.error_type == "waiting_for_contact"
    assert error.record_key == f"salesforce:{project}"

    assert sync_cycle_run(integration=integration, object_name="contacts").status == "succeeded"
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    projects()
    assert projects.associated(record, "contacts") == [hs_contact]
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_a_hubspot_association_skipped_while_contact_sync_was_off_sets_the_lookup_once_on(
    integration, emulators, hs_person, sf_person
):
    contact_sync(integration, on=False)
    projects = contact_projects(integration, emulators, hs_person)
    partner = new_hubspot_partner(hs_person, "contacts")
    record = projects.create(project_name="From HubSpot")
    hs_person.crm.associations.v4.basic_api.create_default(
        projects.type, record, "contacts", partner
    )

    # Contact sync off: the project reaches Salesforce without its lookup, and no error.
    run = projects()
    assert run.counts["created_in_salesforce"] == 1
    (project,) = sf_projects(sf_person)
    assert project["Contact__c"] is None
    assert not open_errors(projects.name).exists()
    projects()  # (the echo of the key written back to HubSpot)
    assert sorted(projects().operations) == idle_operations(projects)

    # Contact sync switched on: the contact reaches Salesforce, then the project's lookup is
    # set, though the project wasn't edited in HubSpot.
    contact_sync(integration, on=True)
    partner_sf = partner_syncs(integration, "contacts", partner)
    projects()
    (project,) = sf_projects(sf_person)  # updated, not created again
    assert project["Contact__c"] == partner_sf
    assert projects.link(hubspot_id=record).salesforce_id == project["Id"]
    assert not open_errors(projects.name).exists()
    assert projects.associated(record, "contacts") == [partner]

    # Done: the next cycles write nothing and ask for nothing more.
    assert writes(projects()) == []
    assert sorted(projects().operations) == idle_operations(projects)


def test_with_nothing_paused_an_idle_cycle_makes_no_call_for_it(
    integration, emulators, hs_person, sf_person
):
    """Contact sync on and every lookup in step: the paused records are never looked for
    remotely."""
    contact_sync(integration, on=True)
    projects = contact_projects(integration, emulators, hs_person)
    sf_person.Project__c.create({"Name": "No contact"})
    projects()
    projects()
    assert sorted(projects().operations) == idle_operations(projects)
