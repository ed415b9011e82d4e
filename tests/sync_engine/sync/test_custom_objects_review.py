"""Custom objects as a demanding admin meets them: a lookup to a contact or account that
hasn't synced yet waits for it (and is associated once it has), and a field Salesforce
won't let anyone edit (an auto-number name) keeps HubSpot showing Salesforce's value."""

from __future__ import annotations

import pytest

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycle_run

from .test_custom_objects import Projects, set_up, writes
from .test_custom_objects_failures import paired

PARTNERS = {
    # HubSpot object: (lookup, the Salesforce record it points at, error type)
    "contacts": ("Contact__c", "Contact", "waiting_for_contact"),
    "companies": ("Account__c", "Account", "waiting_for_account"),
}


def new_partner(sf, sobject: str) -> str:
    if sobject == "Contact":
        return sf.Contact.create({"LastName": "Ada", "Email": "ada@example.com"})["id"]
    return sf.Account.create({"Name": "Acme"})["id"]


@pytest.mark.parametrize("hs_object", sorted(PARTNERS))
def test_a_project_waits_for_its_contact_or_account_then_is_associated(
    integration, emulators, hs_person, sf_person, hs_object
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    lookup, sobject, error_type = PARTNERS[hs_object]
    object_settings_update(integration=integration, object_name=hs_object, changes={}, enabled=True)
    hs_type, name = set_up(integration, hs_person, associations={hs_object: lookup})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    # Created after the contacts (or companies) cycle read its changes, before this one did.
    partner = new_partner(sf_person, sobject)
    project = sf_person.Project__c.create({"Name": "Early", lookup: partner})["id"]

    run = projects()
    assert run.counts["created_in_hubspot"] == 1
    record = projects.link(salesforce_id=project).hubspot_id
    assert projects.associated(record, hs_object) == []
    error = SyncError.objects.get(object=name, resolved_at__isnull=True)
    assert error.error_type == error_type and error.record_key == f"salesforce:{project}"
    assert error.fields == [lookup] and partner in error.message

    # Its partner syncs: the next cycle associates the project, and the error ends.
    assert sync_cycle_run(integration=integration, object_name=hs_object).status == "succeeded"
    hubspot_partner = RecordLink.objects.get(object=hs_object, salesforce_id=partner).hubspot_id
    run = projects()
    assert projects.associated(record, hs_object) == [hubspot_partner]
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert writes(projects()) == []


@pytest.mark.parametrize("winner", ["hubspot", "salesforce"])
def test_a_field_salesforce_sets_itself_shows_salesforce_s_value_in_hubspot(
    integration, emulators, hs_person, sf_person, winner
):
    """An invoice's number (an auto-number name) can't be written in Salesforce: whichever
    app wins conflicts, HubSpot gets the number Salesforce gave, and a HubSpot edit of it is
    put back rather than left to differ for good."""
    invoices = paired(
        integration, emulators, hs_person, "Invoice__c",
        {"Name": "project_name", "Amount__c": "budget"},
    )  # fmt: skip
    invoices.settings(conflict_winner=winner)
    record = invoices.create(project_name="March", budget="10")
    invoices()
    invoices()
    (invoice,) = sf_person.query("SELECT Id, Name FROM Invoice__c")["records"]
    assert invoice["Name"].startswith("INV-")
    assert invoices.get(record)["project_name"] == invoice["Name"]

    # Renamed in HubSpot (with another edit that does sync): the number comes back.
    invoices.update(record, project_name="Renamed", budget="12")
    invoices()
    assert sf_person.Invoice__c.get(invoice["Id"])["Amount__c"] == 12
    assert invoices.get(record)["project_name"] == invoice["Name"]
    assert not SyncError.objects.filter(object=invoices.name, resolved_at__isnull=True).exists()
    assert writes(invoices()) == []


def test_a_salesforce_date_time_syncs_with_a_hubspot_date_property(
    integration, emulators, hs_person, sf_person
):
    """The wizard pairs a Salesforce date/time with a HubSpot date picker (spec §8.1), which
    holds only a day: it gets the day (UTC), and a day picked in HubSpot is midnight UTC."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    emulators.salesforce.app.run_action(
        "add_field", object="Project__c", field="Kickoff__c", type="datetime", label="Kickoff"
    )
    hs_type, name = set_up(
        integration, hs_person, mappings={"Name": "project_name", "Kickoff__c": "start_date"}
    )
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create(
        {"Name": "Kick-off", "Kickoff__c": "2026-03-05T22:30:00.000+0000"}
    )["id"]
    projects()
    assert not SyncError.objects.filter(object=name, resolved_at__isnull=True).exists()
    record = projects.link(salesforce_id=project).hubspot_id
    assert projects.get(record)["start_date"] == "2026-03-05"
    assert writes(projects()) == []

    # Another time the same day changes nothing HubSpot shows; a day picked in HubSpot lands.
    sf_person.Project__c.update(project, {"Kickoff__c": "2026-03-05T09:00:00.000+0000"})
    assert writes(projects()) == []
    projects.update(record, start_date="2026-04-01")
    projects()
    assert sf_person.Project__c.get(project)["Kickoff__c"].startswith("2026-04-01T00:00:00")
    assert projects.get(record)["start_date"] == "2026-04-01"
    assert writes(projects()) == []
