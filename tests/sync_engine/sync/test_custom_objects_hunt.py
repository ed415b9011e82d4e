"""Custom objects as a demanding admin uses them: a project associated with a HubSpot contact
that syncs with a Salesforce lead, two new HubSpot records with the same external id, and
the errors of records made in HubSpot named on Sync health."""

from __future__ import annotations

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run

from .test_custom_objects import Projects, coded_projects, projects, set_up, writes  # noqa: F401
from .test_custom_objects_failures import open_errors


def contacts_cycle(integration) -> None:
    assert sync_cycle_run(integration=integration, object_name="contacts").status == "succeeded"


def test_a_hubspot_contact_synced_with_a_lead_waits_instead_of_failing_the_project(
    integration, emulators, hs_person, sf_person
):
    """A project associated in HubSpot with a contact that syncs with a Salesforce *lead*:
    the Contact lookup can't hold a lead, so the project's edits (and a new project) still
    reach Salesforce, without the lookup, and the record waits for a contact, saying why;
    once the lead is converted, the lookup is set and the wait ends."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    lead = sf_person.Lead.create({"LastName": "Lee", "Company": "Acme", "Email": "lee@x.example"})
    contacts_cycle(integration)
    contact = RecordLink.objects.get(object="contacts", salesforce_id=lead["id"]).hubspot_id
    hs_type, name = set_up(integration, hs_person, associations={"contacts": "Contact__c"})
    pairing = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create({"Name": "Linked to a lead"})["id"]
    pairing()
    record = pairing.link(salesforce_id=project).hubspot_id

    associate = hs_person.crm.associations.v4.basic_api.create_default
    associate(hs_type, record, "contacts", contact)
    pairing.update(record, notes="Edited in HubSpot")
    new = pairing.create(project_name="Made in HubSpot")
    associate(hs_type, new, "contacts", contact)
    pairing.update(new, notes="go")
    run = pairing()
    assert not run.counts.get("failed"), run.counts
    edited = sf_person.Project__c.get(project)
    assert edited["Description__c"] == "Edited in HubSpot" and edited["Contact__c"] is None
    created = sf_person.Project__c.get(pairing.link(hubspot_id=new).salesforce_id)
    assert created["Name"] == "Made in HubSpot" and created["Contact__c"] is None
    errors = SyncError.objects.filter(object=name, resolved_at__isnull=True)
    assert {(e.error_type, e.record_key) for e in errors} == {
        ("waiting_for_contact", f"hubspot:{record}"),
        ("waiting_for_contact", f"hubspot:{new}"),
    }
    assert all("syncs with a Salesforce Lead" in e.message for e in errors)
    idle = pairing()  # waiting writes nothing, nor reads the records again each cycle
    assert writes(idle) == [] and not idle.counts.get("waiting_rechecked"), idle.counts

    converted = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead["id"], create_opportunity=False
    )["contact_id"]
    contacts_cycle(integration)
    assert RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id == converted
    pairing()
    assert sf_person.Project__c.get(project)["Contact__c"] == converted
    assert sf_person.Project__c.get(created["Id"])["Contact__c"] == converted
    assert not SyncError.objects.filter(object=name, resolved_at__isnull=True).exists()


def test_two_new_hubspot_records_with_one_external_id_make_one_project_and_an_error(
    integration, emulators, hs_person, sf_person
):
    """Two pairing made in HubSpot with the same project code (mapped to the unique
    ``External_Id__c``) would upsert one Salesforce record: the first creates it, the other
    gets an error naming both, and the cycle (and the rest of its batch) goes on."""
    pairing = coded_projects(integration, emulators, hs_person)
    first = pairing.create(project_name="Apollo", project_code="P-1")
    second = pairing.create(project_name="Apollo copy", project_code="p-1")
    other = pairing.create(project_name="Gemini", project_code="P-2")
    run = pairing()
    assert run.counts["created_in_salesforce"] == 2 and run.counts["failed"] == 1
    rows = sf_person.query("SELECT Name, External_Id__c FROM Project__c ORDER BY Name")
    assert [(r["Name"], r["External_Id__c"]) for r in rows["records"]] == [
        ("Apollo", "P-1"),
        ("Gemini", "P-2"),
    ]
    assert set(pairing.links().values_list("hubspot_id", flat=True)) == {first, other}
    error = open_errors(pairing.name).get()
    assert error.record_key == f"hubspot:{second}" and error.record_label == "Apollo copy"
    assert f"HubSpot record {first} has the same project_code" in error.message
    assert error.error_type == "value_in_use" and error.fields == ["External_Id__c"]

    # Given its own code, it gets its own project and the error ends.
    pairing.update(second, project_code="P-3")
    pairing()
    assert pairing.links().filter(hubspot_id=second).exists()
    assert not open_errors(pairing.name).exists()


def test_the_error_of_a_record_made_in_hubspot_names_the_record(
    projects,  # noqa: F811 (the fixture)
):
    """A project made in HubSpot that Salesforce refuses has no Salesforce name yet: Sync
    health names it by the property mapped to Name, not only by its id."""
    bad = projects.create(project_name="Called off", status="Cancelled")  # not in Salesforce
    projects()
    error = open_errors(projects.name).get()
    assert error.record_key == f"hubspot:{bad}" and error.record_label == "Called off"


def test_a_first_match_never_wipes_a_value_the_other_direction_does_not_sync(
    integration, emulators, hs_person, sf_person
):
    """One-way Salesforce → HubSpot (HubSpot → Salesforce does nothing): a HubSpot project
    matched by its code to a Salesforce project keeps the notes and budget only HubSpot has,
    instead of Salesforce's blanks clearing them; Salesforce's later edits still arrive."""
    pairing = coded_projects(integration, emulators, hs_person)
    pairing.settings(hubspot_to_salesforce="nothing")
    record = pairing.create(
        project_name="Apollo", project_code="P-9", notes="Only here", budget="5"
    )
    project = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-9"})["id"]
    assert pairing().counts["matched"] == 1
    assert pairing.link(hubspot_id=record).salesforce_id == project
    props = pairing.get(record)
    assert (props["notes"], props["budget"]) == ("Only here", "5")
    assert writes(pairing()) == []

    sf_person.Project__c.update(project, {"Description__c": "From Salesforce"})
    pairing()
    assert pairing.get(record)["notes"] == "From Salesforce"
    assert pairing.get(record)["budget"] == "5"


def test_a_first_match_never_wipes_a_salesforce_value_hubspot_does_not_get(
    integration, emulators, hs_person, sf_person
):
    """One-way HubSpot → Salesforce: a matched Salesforce project keeps its description and
    budget instead of the HubSpot record's blanks clearing them."""
    pairing = coded_projects(integration, emulators, hs_person)
    pairing.settings(salesforce_to_hubspot="nothing")
    project = sf_person.Project__c.create(
        {"Name": "Apollo", "External_Id__c": "P-9", "Description__c": "Only here", "Budget__c": 5}
    )["id"]
    record = pairing.create(project_name="Apollo", project_code="P-9")
    pairing()
    assert pairing.link(hubspot_id=record).salesforce_id == project
    row = sf_person.Project__c.get(project)
    assert (row["Description__c"], row["Budget__c"]) == ("Only here", 5)
    assert writes(pairing()) == []


def test_a_new_hubspot_record_whose_code_differs_only_in_case_leaves_the_synced_project(
    integration, emulators, hs_person, sf_person
):
    """Salesforce matches external ids ignoring case: a new HubSpot project coded "p-1" while
    "P-1" already syncs gets an error, instead of overwriting that Salesforce project and
    stopping the whole pair's cycle."""
    pairing = coded_projects(integration, emulators, hs_person)
    project = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})["id"]
    pairing()
    record = pairing.link(salesforce_id=project).hubspot_id
    copy = pairing.create(project_name="Apollo copy", project_code="p-1")
    run = pairing()
    assert run.counts["failed"] == 1
    assert sf_person.Project__c.get(project)["Name"] == "Apollo"
    assert pairing.link(salesforce_id=project).hubspot_id == record
    error = open_errors(pairing.name).get()
    assert error.record_key == f"hubspot:{copy}" and error.record_label == "Apollo copy"
    assert "already syncs with another HubSpot record" in error.message


def test_a_case_sensitive_external_id_tells_codes_that_differ_in_case_apart(
    integration, emulators, hs_person, sf_person
):
    """A unique external id set to treat "ABC" and "abc" as different values: Salesforce's
    upsert does, and so does the matching, so "p-1" is a project of its own."""
    from .test_custom_objects import MAPPINGS

    emulators.salesforce.app.run_action(
        "add_field", object="Project__c", field="Code", external_id=True, unique=True,
        case_sensitive=True,
    )  # fmt: skip
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person, mappings={**MAPPINGS, "Code__c": "project_code"})
    pairing = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create({"Name": "Apollo", "Code__c": "P-1"})["id"]
    pairing()
    pairing.create(project_name="Apollo lower", project_code="p-1")
    run = pairing()
    assert not run.counts.get("failed") and run.counts["created_in_salesforce"] == 1
    codes = sf_person.query_all("SELECT Name, Code__c FROM Project__c WHERE Code__c != null")
    assert sorted((r["Name"], r["Code__c"]) for r in codes["records"]) == [
        ("Apollo", "P-1"),
        ("Apollo lower", "p-1"),
    ]
    assert pairing.link(salesforce_id=project)
