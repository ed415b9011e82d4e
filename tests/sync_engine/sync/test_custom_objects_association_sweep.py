"""A custom record's HubSpot associations edited alone (no property of the record changed, so
its ``hs_lastmodifieddate`` doesn't move and the search for changes never returns it) reach
its Salesforce lookups through the association sweep, a slice of the linked records a cycle,
as deals' associations do."""

from __future__ import annotations

import pytest
from hubspot.crm.objects import SimplePublicObjectInputForCreate

from sync_engine.models import RecordLink, SyncCursor, SyncError, System
from sync_engine.services import object_settings_update
from sync_engine.sync import custom_objects
from sync_engine.sync.custom_objects import CustomObjectSync
from sync_engine.sync.cycle import sync_cycle_run

from .test_custom_objects import Projects, set_up, writes
from .test_custom_objects_failures import contacts_linked

ASSOCIATION_READ = "associations.{}.contacts.batch.read"


def associate(projects, record: str, contact: str) -> None:
    projects.hs.crm.associations.v4.basic_api.create_default(
        projects.type, record, "contacts", contact
    )


def dissociate(projects, record: str, contact: str) -> None:
    projects.hs.crm.associations.v4.basic_api.archive(projects.type, record, "contacts", contact)


def lookup(sf, project: str) -> str | None:
    return sf.Project__c.get(project)["Contact__c"]


def sweep_row(projects):
    return SyncCursor.objects.filter(stream=f"{projects.name}:association-sweep")


def test_an_association_added_moved_and_removed_in_hubspot_alone_reaches_the_lookup(
    integration, emulators, hs_person, sf_person
):
    projects, _, _, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person
    )
    project = sf_person.Project__c.create({"Name": "No contact yet"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    assert projects.associated(record, "contacts") == []

    associate(projects, record, contact[ada])  # added
    run = projects()
    assert run.counts["updated_in_salesforce"] == 1
    assert lookup(sf_person, project) == ada
    assert writes(projects()) == []

    associate(projects, record, contact[bob])  # moved: Bob added, then Ada taken off
    dissociate(projects, record, contact[ada])
    projects()
    assert lookup(sf_person, project) == bob
    assert projects.associated(record, "contacts") == [contact[bob]]
    assert writes(projects()) == []

    dissociate(projects, record, contact[bob])  # removed: the lookup is cleared
    projects()
    assert lookup(sf_person, project) is None
    assert projects.associated(record, "contacts") == []
    run = projects()
    assert writes(run) == [] and run.calls[System.SALESFORCE] == 1


def test_an_idle_cycle_sweeps_with_one_association_read_and_one_salesforce_call(
    integration, emulators, hs_person, sf_person
):
    """One association read per associated object the pair uses, and none without links;
    Salesforce is asked nothing more than the change stream."""
    projects, *_ = contacts_linked(integration, emulators, hs_person, sf_person)
    projects()
    run = projects()
    assert run.calls == {System.SALESFORCE: 1, System.HUBSPOT: 2}, run.operations
    assert run.operations.count(ASSOCIATION_READ.format(projects.type)) == 1

    projects.links().delete()  # no linked record: nothing to sweep
    run = projects()
    assert run.calls[System.HUBSPOT] == 1, run.operations


def test_a_hubspot_association_edit_stays_in_hubspot_when_hubspot_updates_nothing(
    integration, emulators, hs_person, sf_person
):
    """With HubSpot → Salesforce set to do nothing, nothing is swept (no call) and the
    lookup stays where Salesforce has it."""
    projects, project, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person
    )
    projects.settings(hubspot_to_salesforce="nothing")
    associate(projects, record, contact[bob])
    dissociate(projects, record, contact[ada])
    run = projects()
    assert run.calls == {System.SALESFORCE: 1, System.HUBSPOT: 1}, run.operations
    assert lookup(sf_person, project) == ada


def test_the_sweep_walks_past_its_first_slice(
    integration, emulators, hs_person, sf_person, monkeypatch
):
    projects, first, _, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person
    )
    second = sf_person.Project__c.create({"Name": "Second", "Contact__c": ada})["id"]
    projects()
    record = projects.link(salesforce_id=second).hubspot_id
    monkeypatch.setattr(custom_objects, "SWEEP", 1)  # a slice of one record a cycle
    associate(projects, record, contact[bob])
    dissociate(projects, record, contact[ada])

    run = projects()  # the first slice: the first project only
    assert run.operations.count(ASSOCIATION_READ.format(projects.type)) == 1
    assert lookup(sf_person, second) == ada
    projects()  # the next slice
    assert lookup(sf_person, second) == bob
    assert lookup(sf_person, first) == ada


def test_a_cycle_that_dies_before_its_sweep_compares_the_same_slice_again(
    integration, emulators, hs_person, sf_person, monkeypatch
):
    projects, first, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person
    )
    sf_person.Project__c.create({"Name": "Second", "Contact__c": ada})
    projects()
    monkeypatch.setattr(custom_objects, "SWEEP", 1)
    associate(projects, record, contact[bob])
    dissociate(projects, record, contact[ada])
    before = sweep_row(projects).get().seen

    def dies(self):
        raise RuntimeError("worker lost")

    monkeypatch.setattr(CustomObjectSync, "sync_hubspot_changes", dies)
    with pytest.raises(RuntimeError):
        sync_cycle_run(integration=integration, object_name=projects.name)
    assert sweep_row(projects).get().seen == before  # the slice wasn't compared
    monkeypatch.undo()
    monkeypatch.setattr(custom_objects, "SWEEP", 1)
    projects()  # the same slice: the first project, whose association moved
    assert lookup(sf_person, first) == bob


@pytest.mark.parametrize("winner", ["salesforce", "hubspot"])
def test_the_sweep_never_undoes_a_lookup_moved_in_salesforce_in_the_same_cycle(
    integration, emulators, hs_person, sf_person, winner
):
    """The slice's associations are read at the start of the cycle; the Salesforce move
    written to HubSpot after that read is no HubSpot move back to Ada."""
    projects, project, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person, conflict_winner=winner
    )
    sf_person.Project__c.update(project, {"Contact__c": bob})
    run = projects()
    assert run.counts["associations_to_hubspot"] == 1
    assert lookup(sf_person, project) == bob
    assert projects.associated(record, "contacts") == [contact[bob]]
    assert writes(projects()) == []
    assert lookup(sf_person, project) == bob


def test_an_association_moved_to_a_contact_not_in_salesforce_waits_for_it(
    integration, emulators, hs_person, sf_person
):
    """Moved in HubSpot alone to a contact Salesforce hasn't got yet: the record waits (the
    usual error), costs nothing more each cycle meanwhile, and gets its lookup once that
    contact syncs."""
    projects, project, record, ada, _, contact = contacts_linked(
        integration, emulators, hs_person, sf_person
    )
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "contact"}
    )
    carol = hs_person.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "carol@example.com", "firstname": "Carol", "lastname": "C"}
        )
    ).id
    associate(projects, record, carol)
    dissociate(projects, record, contact[ada])
    projects()
    error = SyncError.objects.get(object=projects.name, resolved_at__isnull=True)
    assert error.error_type == "waiting_for_contact" and error.record_key == f"hubspot:{record}"
    assert lookup(sf_person, project) == ada
    run = projects()  # still waiting: read again by no one
    assert writes(run) == [] and run.calls[System.SALESFORCE] == 1

    assert sync_cycle_run(integration=integration, object_name="contacts").status == "succeeded"
    carol_sf = RecordLink.objects.get(object="contacts", hubspot_id=carol).salesforce_id
    projects()
    assert lookup(sf_person, project) == carol_sf
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_a_pair_without_associations_sweeps_nothing(integration, emulators, hs_person, sf_person):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    sf_person.Project__c.create({"Name": "Plain"})
    projects()
    projects()
    run = projects()
    assert run.calls[System.HUBSPOT] == 1, run.operations
    assert not sweep_row(projects).exists()


@pytest.mark.parametrize("winner", ["salesforce", "hubspot"])
def test_a_lookup_cleared_in_salesforce_and_moved_in_hubspot_follows_the_app_that_wins(
    integration, emulators, hs_person, sf_person, winner
):
    """Both sides moved since the last sync (HubSpot's move read by the sweep's slice at the
    start of the cycle, shared with the Salesforce change): the conflict rule decides."""
    projects, project, record, ada, bob, contact = contacts_linked(
        integration, emulators, hs_person, sf_person, conflict_winner=winner
    )
    associate(projects, record, contact[bob])
    dissociate(projects, record, contact[ada])
    sf_person.Project__c.update(project, {"Contact__c": None})
    run = projects()
    assert run.counts["conflicts"] == 1
    expected = (None, []) if winner == "salesforce" else (bob, [contact[bob]])
    assert (lookup(sf_person, project), projects.associated(record, "contacts")) == expected
    assert writes(projects()) == []
    assert (lookup(sf_person, project), projects.associated(record, "contacts")) == expected
