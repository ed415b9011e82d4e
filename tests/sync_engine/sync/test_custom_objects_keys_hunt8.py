"""A HubSpot custom record that claims a Salesforce record another HubSpot record already syncs
with: by a sync key naming a record that no longer exists (another org's, or one deleted while
the delete rule keeps the HubSpot record) and its external id value, by the key itself, or
alongside a new record claiming the same unsynced one. The record already linked keeps its
link and its values; the claimant gets a *Value already in use* error naming both records and
what to do; the rest of the batch syncs, and the cycle never crashes."""

from __future__ import annotations

from django.utils import timezone

from emulators.salesforce.ids import make_id
from emulators.testing import advance_clocks

from .test_custom_objects import KEY, coded_projects
from .test_custom_objects_failures import open_errors


def stale_id(sf) -> str:
    """A well-formed Project__c id no record of this org has (one from another org)."""
    elsewhere = sf.Project__c.create({"Name": "Elsewhere"})["id"]
    sf.Project__c.delete(elsewhere)
    return make_id(elsewhere[:3], 10**6)


def synced_apollo(integration, emulators, hs_person, sf_person):
    """Projects keyed by code, and Apollo (``P-1``) synced with its HubSpot record."""
    pairing = coded_projects(integration, emulators, hs_person)
    project = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})["id"]
    pairing()
    return pairing, project, pairing.link(salesforce_id=project).hubspot_id


def assert_claim_refused(pairing, sf_person, project, holder, claimant, *, key_of=None):
    """The linked record kept its link and values; the claimant has one error naming both."""
    assert pairing.link(salesforce_id=project).hubspot_id == holder
    assert not pairing.links().filter(hubspot_id=claimant).exists()
    assert sf_person.Project__c.get(project)["Name"] == "Apollo"
    error = open_errors(pairing.name).get(record_key=f"hubspot:{claimant}")
    assert error.error_type == "value_in_use" and error.code == "DUPLICATE_EXTERNAL_ID"
    assert error.salesforce_type == "Project__c"
    assert f"already syncs with another HubSpot record, {holder} " in error.message
    assert project in error.message
    if key_of:
        assert f"{KEY} names {key_of}" in error.message
    return error


def test_a_stale_key_and_a_code_a_synced_project_holds_never_take_that_project(
    integration, emulators, hs_person, sf_person
):
    pairing, project, holder = synced_apollo(integration, emulators, hs_person, sf_person)
    stale = stale_id(sf_person)
    claimant = pairing.create(project_name="Apollo copy", project_code="P-1", **{KEY: stale})
    other = pairing.create(project_name="Gemini", project_code="P-2")

    run = pairing()
    assert run.counts["failed"] == 1 and run.counts["created_in_salesforce"] == 1
    error = assert_claim_refused(pairing, sf_person, project, holder, claimant, key_of=stale)
    assert error.fields == ["External_Id__c"] and error.record_label == "Apollo copy"
    assert "which is no Project__c in Salesforce (deleted, another org's" in error.message
    gemini = pairing.link(hubspot_id=other).salesforce_id
    assert sf_person.Project__c.get(gemini)["External_Id__c"] == "P-2"

    # A retry finds the same: no duplicate, no second error, no crash.
    open_errors(pairing.name).update(next_retry_at=timezone.now())
    pairing()
    assert open_errors(pairing.name).count() == 1
    assert len(sf_person.query("SELECT Id FROM Project__c")["records"]) == 2

    # Given its own code, it gets its own project and the error ends.
    advance_clocks(emulators, 5)
    pairing.update(claimant, project_code="P-3")
    pairing()
    created = pairing.link(hubspot_id=claimant).salesforce_id
    assert created not in (project, gemini, stale)
    assert pairing.get(claimant)[KEY] == created
    assert not open_errors(pairing.name).exists()


def test_a_stale_key_with_a_code_no_one_syncs_by_links_the_project_holding_it(
    integration, emulators, hs_person, sf_person
):
    pairing = coded_projects(integration, emulators, hs_person)
    pairing()  # the key property exists
    project = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})["id"]
    record = pairing.create(project_name="Apollo", project_code="P-1", **{KEY: stale_id(sf_person)})
    pairing()
    assert pairing.link(hubspot_id=record).salesforce_id == project
    assert pairing.get(record)[KEY] == project
    assert len(sf_person.query("SELECT Id FROM Project__c")["records"]) == 1
    assert pairing.ids() == [record]  # no second HubSpot record for the project either
    assert not open_errors(pairing.name).exists()


def test_a_key_that_is_no_salesforce_id_fails_neither_the_cycle_nor_its_record(
    integration, emulators, hs_person, sf_person
):
    """Salesforce refuses a whole query over a malformed id: typed or imported into the key,
    it once failed the pair every cycle."""
    pairing = coded_projects(integration, emulators, hs_person)
    pairing()  # the key property exists
    project = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})["id"]
    pairing()
    holder = pairing.link(salesforce_id=project).hubspot_id
    typed = pairing.create(project_name="Apollo copy", project_code="P-1", **{KEY: "APOLLO-1"})
    fresh = pairing.create(project_name="Gemini", project_code="P-2", **{KEY: project[:14] + "!"})
    run = pairing()
    assert run.counts["created_in_salesforce"] == 1
    assert_claim_refused(pairing, sf_person, project, holder, typed, key_of="APOLLO-1")
    gemini = pairing.link(hubspot_id=fresh).salesforce_id
    assert pairing.get(fresh)[KEY] == gemini != project


def test_a_kept_record_whose_project_was_deleted_never_takes_a_synced_project_by_its_code(
    integration, emulators, hs_person, sf_person
):
    pairing, project, holder = synced_apollo(integration, emulators, hs_person, sf_person)
    pairing.settings(salesforce_delete="nothing")
    kept = pairing.create(project_name="Gemini", project_code="P-2")
    pairing()
    first = pairing.link(hubspot_id=kept).salesforce_id

    advance_clocks(emulators, 5)
    sf_person.Project__c.delete(first)  # the HubSpot record stays, its key naming it
    advance_clocks(emulators, 5)
    pairing()
    assert not pairing.links().filter(hubspot_id=kept).exists()

    advance_clocks(emulators, 5)
    pairing.update(kept, project_name="Apollo again", project_code="P-1")
    run = pairing()
    assert run.counts["failed"] == 1 and not run.counts.get("created_in_salesforce")
    assert_claim_refused(pairing, sf_person, project, holder, kept, key_of=first)


def test_a_stale_key_beside_a_new_record_claiming_the_same_project_makes_one_link(
    integration, emulators, hs_person, sf_person
):
    pairing = coded_projects(integration, emulators, hs_person)
    pairing()  # the key property exists
    project = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})["id"]
    advance_clocks(emulators, 5)
    pairing()  # Apollo syncs with a new HubSpot record...
    holder = pairing.link(salesforce_id=project).hubspot_id
    pairing.links().delete()  # ...whose link is lost (a restore of the database, say)
    pairing.update(holder, notes="Kick-off in May")
    advance_clocks(emulators, 1)
    claimant = pairing.create(
        project_name="Apollo copy", project_code="P-1", **{KEY: stale_id(sf_person)}
    )
    pairing()
    assert pairing.link(salesforce_id=project).hubspot_id == holder
    error = open_errors(pairing.name).get()
    assert error.record_key == f"hubspot:{claimant}" and error.error_type == "value_in_use"
    assert sf_person.Project__c.get(project)["Name"] == "Apollo"


def test_a_key_naming_a_project_another_record_syncs_with_is_a_value_in_use(
    integration, emulators, hs_person, sf_person
):
    pairing, project, holder = synced_apollo(integration, emulators, hs_person, sf_person)
    # An import moves the key onto a copy (HubSpot keeps a key on one record only).
    pairing.update(holder, **{KEY: ""})
    claimant = pairing.create(project_name="Apollo copy", project_code="P-9", **{KEY: project})
    pairing()
    error = assert_claim_refused(pairing, sf_person, project, holder, claimant, key_of=project)
    assert error.fields == []  # nothing in Salesforce to change: the key is HubSpot's
    assert sf_person.Project__c.get(project)["External_Id__c"] == "P-1"


def test_a_number_external_id_is_looked_up_as_a_number(
    integration, emulators, hs_person, sf_person
):
    """A number external id is looked up as a number (quoted, Salesforce refused the query
    and the pair failed every cycle), and ``1000.50`` typed in HubSpot is the ``1000.5`` a
    synced project holds, as Salesforce's upsert would find it: an error, not a write onto
    that project; a new number makes a project of its own."""
    from .test_custom_objects import MAPPINGS, Projects, set_up

    emulators.salesforce.app.run_action(
        "add_field", object="Project__c", field="Code_Number", type="double",
        external_id=True, unique=True,
    )  # fmt: skip
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    mappings = {**MAPPINGS, "Code_Number__c": "budget"}
    mappings.pop("Budget__c")
    hs_type, name = set_up(integration, hs_person, mappings=mappings)
    pairing = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create({"Name": "Apollo", "Code_Number__c": 1000.5})["id"]
    pairing()
    holder = pairing.link(salesforce_id=project).hubspot_id
    claimant = pairing.create(project_name="Apollo copy", budget="1000.50")
    other = pairing.create(project_name="Gemini", budget="2000")
    pairing()
    assert_claim_refused(pairing, sf_person, project, holder, claimant)
    gemini = pairing.link(hubspot_id=other).salesforce_id
    assert sf_person.Project__c.get(gemini)["Code_Number__c"] == 2000
