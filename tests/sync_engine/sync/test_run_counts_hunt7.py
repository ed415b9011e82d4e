"""What a run and its errors say add up (spec §4, §9).

* Several mapped values of one record that Salesforce refuses (text too long for two fields)
  are one *Property values* error naming every refused field, with Salesforce's reason and
  the value sent for each, counted once; the record's other values land.
* A first cycle that creates records reads its own creates back: those aren't Salesforce
  records that were "Unchanged", and the run's details say what they are.
"""

from __future__ import annotations

from html import unescape

import pytest
from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput
from hubspot.crm.contacts import SimplePublicObjectInput
from hubspot.crm.properties import PropertyCreate

from emulators.testing import advance_clocks
from integration_admin.labels import run_details
from sync_engine.models import RecordLink, SyncError
from sync_engine.services import mapping_create, object_sync_get_or_create, schema_refresh
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import due_now

FIELDS = {"motto": "Motto__c", "slogan": "Slogan__c"}


@pytest.fixture
def lead(integration, emulators, hs_person, sf_person):
    """A synced lead with two short text fields (10 characters) mapped two-way; returns
    (lead id, HubSpot contact id)."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    for prop, field in FIELDS.items():
        for sobject in ("Lead", "Contact"):
            emulators.salesforce.app.run_action(
                "add_field", object=sobject, field=field.removesuffix("__c"), length=10
            )
        hs_person.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(name=prop, label=prop.title(), type="string", field_type="text",
                           group_name="contactinformation"),
        )  # fmt: skip
    schema_refresh(integration=integration, object_name="contacts")
    for prop, field in FIELDS.items():
        mapping_create(
            integration=integration, object_name="contacts", hubspot_property=prop,
            salesforce_field=field, rule="two_way",
        )  # fmt: skip
    lead = sf_person.Lead.create(
        {"LastName": "Doe", "Company": "Acme", "Email": "d@x.example",
         "Motto__c": "Carpe", "Slogan__c": "Go"}
    )["id"]  # fmt: skip
    run = sync_cycle_run(integration=integration, object_name="contacts")
    assert run.status == "succeeded", run.message
    return lead, RecordLink.objects.get(salesforce_id=lead).hubspot_id


def open_errors():
    return list(SyncError.objects.filter(resolved_at__isnull=True))


def test_two_refused_values_are_one_error_naming_both_fields(
    integration, emulators, hs_person, sf_person, lead, admin_client
):
    lead_id, contact = lead
    advance_clocks(emulators, 60)
    motto, slogan = "M" * 30, "S" * 30
    hs_person.crm.contacts.basic_api.update(
        contact,
        SimplePublicObjectInput(properties={"motto": motto, "slogan": slogan, "jobtitle": "Poet"}),
    )
    run = sync_cycle_run(integration=integration, object_name="contacts")

    record = sf_person.Lead.get(lead_id)
    assert (record["Title"], record["Motto__c"], record["Slogan__c"]) == ("Poet", "Carpe", "Go")
    [error] = open_errors()
    assert (error.error_type, error.code) == ("property_value", "STRING_TOO_LONG")
    assert error.fields == ["Motto__c", "Slogan__c"]
    assert error.values == {"Motto__c": motto, "Slogan__c": slogan}
    assert f"Motto: data value too large: {motto} (max length=10)" in error.message
    assert f"Slogan: data value too large: {slogan} (max length=10)" in error.message
    assert error.attempts == 1
    assert run.counts["failed"] == 1 == run.error_count
    # The error panel shows both fields and what was sent for each.
    panel = unescape(admin_client.get("/sync-health/errors/property_value/").content.decode())
    assert f"Sent: Motto__c “{motto}”, Slogan__c “{slogan}”" in panel

    # Its retry: refused again, one attempt more, still both fields.
    due_now(error)
    run = sync_cycle_run(integration=integration, object_name="contacts")
    [error] = open_errors()
    assert (error.attempts, error.fields) == (2, ["Motto__c", "Slogan__c"])
    assert run.counts["failed"] == 1

    # One fixed in HubSpot: it lands; the error names only the other.
    advance_clocks(emulators, 60)
    hs_person.crm.contacts.basic_api.update(
        contact, SimplePublicObjectInput(properties={"motto": "Veni"})
    )
    sync_cycle_run(integration=integration, object_name="contacts")
    assert sf_person.Lead.get(lead_id)["Motto__c"] == "Veni"
    [error] = open_errors()
    assert error.fields == ["Slogan__c"]
    assert error.message == f"Slogan: data value too large: {slogan} (max length=10)"


def test_a_first_cycle_doesnt_call_its_own_creates_unchanged(companies, sf_person, hs_person):
    """Six accounts, a first cycle: six read, six created in HubSpot; the HubSpot read that
    follows finds those creates, which are the integration's own writes read back, not six
    records that didn't change."""
    for n in range(6):
        sf_person.Account.create({"Name": f"Acme {n}"})
    companies("contacts")
    run = companies()
    assert run_details(run.counts) == (
        "Read from Salesforce: 6 · Created in HubSpot: 6 · Linked: 6 · Read from HubSpot: 6 · "
        "Our own writes, read back: 6"
    )

    # The next cycle reads them again in the overlap on both sides: unchanged, as before.
    run = companies()
    assert run_details(run.counts) == (
        "Read from Salesforce: 6 · Unchanged: 12 · Read from HubSpot: 6"
    )

    # A HubSpot edit of a field no mapping syncs, read later, is unchanged too.
    advance_clocks(companies.emulators, 600)
    companies()
    advance_clocks(companies.emulators, 600)
    company = companies.links().first().hubspot_id
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"founded_year": "1999"})
    )
    run = companies()
    assert run.counts["unchanged"] == 1, dict(run.counts)
    assert not run.counts.get("own_writes_read_back")


def test_an_update_read_back_in_the_same_cycle(deals, sf_person):
    """A deal edited in Salesforce: its update of HubSpot is read back by the HubSpot read
    that follows in the same cycle, and said so."""
    opportunity = sf_person.Opportunity.create(
        {"Name": "Renewal", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
    )["id"]
    deals.all()
    deals()
    advance_clocks(deals.emulators, 600)
    sf_person.Opportunity.update(opportunity, {"Name": "Renewal 2027"})
    run = deals()
    assert run.counts["updated_in_hubspot"] == 1
    assert run.counts["own_writes_read_back"] == 1
    assert "Our own writes, read back: 1" in run_details(run.counts)
