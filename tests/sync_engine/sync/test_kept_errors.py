"""A record that syncs but for one value keeps only that value's error open: its other
errors, fixed by the same sync, end, so Sync health counts only errors that still apply; the
value held back is still tried again until it goes."""

from __future__ import annotations

from emulators.testing import advance_clocks
from sync_engine.models import SyncError
from sync_engine.services import object_settings_update

from .helpers import (
    due_now,
    hs_get,
    hs_update,
    mapped_new_property,
    new_lead,
    refuse_associations,
    set_rule,
)
from .test_companies import hs_company_get
from .test_custom_objects import Projects, deals_cycle, opportunity_lookup_and_deals, set_up
from .test_deals import hs_deal_update, hs_stage, new_opportunity
from .test_tickets import associated

# The fixtures: company sync on, deal sync on, ticket sync set up and on.


def open_errors(object_name: str) -> set[tuple[str, str]]:
    """(type, record) of the current errors Sync health counts."""
    return set(
        SyncError.objects.filter(object=object_name, resolved_at__isnull=True).values_list(
            "error_type", "record_key"
        )
    )


def refuse_values(emulators, sobject: str, field: str, value: str) -> None:
    """A validation rule: Salesforce refuses ``value`` in ``field``."""
    emulators.salesforce.app.run_action(
        "add_validation_rule", object=sobject, field=field, operator="equals", value=value,
        message=f"{value} is no real value", rule_name=f"Real_{field}",
    )  # fmt: skip


def test_a_contact_held_back_by_a_picklist_value_ends_its_fixed_errors(
    cycle, emulators, sf_person, hs_person
):
    """A City a validation rule refused is fixed in HubSpot while the lead's new status is
    one HubSpot won't take as an option: the City lands and its error ends; the status's
    error stays, and its retry writes the status once HubSpot takes it."""
    set_rule(cycle.integration, "city", "two_way")
    refuse_values(emulators, "Lead", "City", "Nowhere")
    lead = new_lead(sf_person, Email="held@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    hs_update(hs_person, contact, city="Nowhere")
    cycle()
    assert open_errors("contacts") == {("salesforce_custom_code", f"hubspot:{contact}")}

    refusal = emulators.hubspot.app.faults.add(
        path=r"/crm/v3/properties/contacts/hs_lead_status$",
        method="PATCH",
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Too many options"},
    )
    advance_clocks(emulators, 60)
    hs_update(hs_person, contact, city="Utrecht")
    sf_person.Lead.update(lead, {"Status": "Closed - Not Converted"})
    cycle()
    assert sf_person.Lead.get(lead)["City"] == "Utrecht"
    assert open_errors("contacts") == {("picklist", f"salesforce:{lead}")}

    emulators.hubspot.app.faults.remove(refusal.id)
    due_now(SyncError.objects.get(resolved_at__isnull=True))
    cycle()
    status = hs_get(hs_person, contact, "hs_lead_status")["hs_lead_status"]
    assert status == "Closed - Not Converted"
    assert not open_errors("contacts")


def test_a_deal_held_back_by_its_stage_ends_its_fixed_errors(
    deals, integration, emulators, sf_person, hs_person
):
    """A description a validation rule refused is fixed while the deal moves to a stage
    Salesforce has no value for: the description lands and its error ends; the stage's
    error stays until the deal is back in a Salesforce stage."""
    set_rule(integration, "dealstage", "two_way")
    set_rule(integration, "description", "two_way")
    refuse_values(emulators, "Opportunity", "Description", "TBD")
    opportunity = new_opportunity(sf_person, Name="Held", StageName="Qualification")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_deal_update(hs_person, deal, description="TBD")
    deals()
    assert open_errors("deals") == {("salesforce_custom_code", f"hubspot:{deal}")}

    pipeline_id, qualification = hs_stage(hs_person, "Qualification")
    made = hs_person.crm.pipelines.pipeline_stages_api.create(
        "deals",
        pipeline_id,
        {"label": "Verbal commit", "displayOrder": 50, "metadata": {"probability": "0.7"}},
    )
    hs_deal_update(hs_person, deal, description="Signed in May", dealstage=made.id)
    deals()
    record = sf_person.Opportunity.get(opportunity)
    assert (record["Description"], record["StageName"]) == ("Signed in May", "Qualification")
    assert open_errors("deals") == {("picklist", f"hubspot:{deal}")}

    hs_deal_update(hs_person, deal, dealstage=qualification.id)
    deals()
    assert not open_errors("deals")


def test_a_company_held_back_by_its_website_ends_its_fixed_errors(
    companies, emulators, sf_person, hs_person
):
    """A phone a validation rule refused is fixed in HubSpot while the account's Website
    becomes no web address: the phone lands and its error ends; the Website's error stays
    until it is fixed."""
    set_rule(companies.integration, "phone", "two_way")
    refuse_values(emulators, "Account", "Phone", "000")
    account = sf_person.Account.create({"Name": "Held", "Website": "https://held.example"})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    hs_person.crm.companies.basic_api.update(company, {"properties": {"phone": "000"}})
    companies()
    assert open_errors("companies") == {("salesforce_custom_code", f"hubspot:{company}")}

    advance_clocks(emulators, 60)
    hs_person.crm.companies.basic_api.update(company, {"properties": {"phone": "555-0100"}})
    sf_person.Account.update(account, {"Website": "http://[intranet"})
    companies()
    assert sf_person.Account.get(account)["Phone"] == "555-0100"
    assert open_errors("companies") == {("property_value", f"salesforce:{account}")}

    advance_clocks(emulators, 60)
    sf_person.Account.update(account, {"Website": "https://held.example.org"})
    companies()
    assert hs_company_get(hs_person, company, "domain")["domain"] == "held.example.org"
    assert not open_errors("companies")


def test_a_case_still_waiting_for_its_contact_ends_its_fixed_errors(
    tickets, emulators, sf_person, hs_person
):
    """HubSpot refused a ticket's company association while its case also waits for its
    contact; at the case's next edit the association lands: that error ends, the wait
    stays, and ends (counted) once the contact syncs."""
    object_settings_update(
        integration=tickets.integration, object_name="companies", changes={}, enabled=True
    )
    account = sf_person.Account.create({"Name": "Initrode"})["id"]
    tickets("companies")
    contact = sf_person.Contact.create({"LastName": "Gibbons", "Email": "peter@initrode.example"})
    case = sf_person.Case.create(
        {"Subject": "TPS", "Status": "New", "AccountId": account, "ContactId": contact["id"]}
    )["id"]
    refuse_associations(emulators, "tickets", "companies", times=1)
    tickets()
    assert open_errors("tickets") == {
        ("association_limit", f"salesforce:{case}"),
        ("waiting_for_contact", f"salesforce:{case}"),
    }

    advance_clocks(emulators, 60)
    sf_person.Case.update(case, {"Subject": "TPS reports"})
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    company = tickets.links("companies").get(salesforce_id=account).hubspot_id
    assert associated(hs_person, ticket_id, "companies") == [company]
    assert open_errors("tickets") == {("waiting_for_contact", f"salesforce:{case}")}

    tickets("contacts")
    assert tickets().counts["waits_resolved"] == 1
    assert len(associated(hs_person, ticket_id, "contacts")) == 1
    assert not open_errors("tickets")


def test_a_custom_record_still_waiting_for_its_opportunity_ends_its_fixed_errors(
    integration, emulators, hs_person, sf_person
):
    """A HubSpot status Salesforce refused is fixed while the project's lookup now points at
    an opportunity without a deal yet: the status lands and its error ends; the wait stays
    until the deal is there, and the association is then written."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    opportunity_lookup_and_deals(integration, emulators)
    hs_type, name = set_up(integration, hs_person, associations={"deals": "Opportunity__c"})
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    project = sf_person.Project__c.create({"Name": "Rollout", "Status__c": "Planned"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects.update(record, status="Cancelled")  # a value Salesforce's picklist lacks
    projects()
    [(_, key)] = open_errors(name)
    assert key == f"hubspot:{record}"

    advance_clocks(emulators, 60)
    projects.update(record, status="Active")
    opportunity = new_opportunity(sf_person, Name="Not synced yet")
    sf_person.Project__c.update(project, {"Opportunity__c": opportunity})
    projects()
    assert sf_person.Project__c.get(project)["Status__c"] == "Active"
    assert open_errors(name) == {("waiting_for_opportunity", f"salesforce:{project}")}

    deal = deals_cycle(integration)[opportunity]
    projects()
    assert projects.associated(record, "deals") == [deal]
    assert not open_errors(name)


def test_a_company_value_that_cannot_convert_keeps_its_error(
    companies, emulators, sf_person, hs_person
):
    """A text property mapped to a number field (its type changed in HubSpot after it was
    mapped) holding no number: its edit can't go to Salesforce, so the error stays open
    after the company's other values sync, and ends once a number is there."""
    mapped_new_property(
        hs_person, companies.integration, "companies", "head_count", "BillingLatitude",
        hs_type="string", field_type="text", group="companyinformation", salesforce_type="double",
    )  # fmt: skip
    account = sf_person.Account.create({"Name": "Counted", "BillingLatitude": 5})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id

    advance_clocks(emulators, 60)
    hs_person.crm.companies.basic_api.update(
        company, {"properties": {"head_count": "lots", "phone": "555-0101"}}
    )
    companies()
    assert sf_person.Account.get(account)["Phone"] == "555-0101"
    assert sf_person.Account.get(account)["BillingLatitude"] == 5
    assert open_errors("companies") == {("property_value", f"hubspot:{company}")}

    advance_clocks(emulators, 60)
    hs_person.crm.companies.basic_api.update(company, {"properties": {"head_count": "12"}})
    companies()
    assert sf_person.Account.get(account)["BillingLatitude"] == 12
    assert not open_errors("companies")


def test_a_contact_value_that_cannot_convert_keeps_its_error(
    cycle, emulators, sf_person, hs_person
):
    """The same for a contact: the edit that can't go stays an open error while the
    contact's other edits land."""
    mapped_new_property(
        hs_person, cycle.integration, "contacts", "desk_latitude", "MailingLatitude",
        hs_type="string", field_type="text", group="contactinformation", salesforce_type="double",
        salesforce_fields={"Contact": "MailingLatitude"},
    )  # fmt: skip
    set_rule(cycle.integration, "city", "two_way")
    person = sf_person.Contact.create(
        {"LastName": "Counted", "Email": "counted@example.com", "MailingLatitude": 5}
    )["id"]
    cycle()
    contact = cycle.link(salesforce_id=person).hubspot_id

    advance_clocks(emulators, 60)
    hs_update(hs_person, contact, desk_latitude="north", city="Utrecht")
    cycle()
    record = sf_person.Contact.get(person)
    assert (record["MailingCity"], record["MailingLatitude"]) == ("Utrecht", 5)
    assert open_errors("contacts") == {("property_value", f"hubspot:{contact}")}

    advance_clocks(emulators, 60)
    hs_update(hs_person, contact, desk_latitude="52.1")
    cycle()
    assert sf_person.Contact.get(person)["MailingLatitude"] == 52.1
    assert not open_errors("contacts")


def test_a_wait_ending_leaves_the_cases_other_errors_open(tickets, emulators, sf_person, hs_person):
    """A case waits for its account and its contact; its new priority was refused by
    HubSpot. The account syncing ends that wait only: the refused priority's error stays,
    and its retry carries the priority."""
    object_settings_update(
        integration=tickets.integration, object_name="companies", changes={}, enabled=True
    )
    account = sf_person.Account.create({"Name": "Initech"})["id"]
    contact = sf_person.Contact.create({"LastName": "Bolton", "Email": "michael@initech.example"})
    case = sf_person.Case.create(
        {"Subject": "Printer", "Status": "New", "AccountId": account, "ContactId": contact["id"]}
    )["id"]
    tickets()
    assert {kind for kind, _ in open_errors("tickets")} == {
        "waiting_for_account",
        "waiting_for_contact",
    }

    advance_clocks(emulators, 60)
    refusal = emulators.hubspot.app.faults.add(
        path=r"/crm/v3/objects/tickets/batch/(update|upsert)$", method="POST", status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Priority refused"},
        times=1,
    )  # fmt: skip
    sf_person.Case.update(case, {"Priority": "Low"})
    tickets()
    assert refusal.fired == 1
    refused = open_errors("tickets") - {
        ("waiting_for_account", f"salesforce:{case}"),
        ("waiting_for_contact", f"salesforce:{case}"),
    }
    assert len(refused) == 1

    tickets("companies")
    tickets()
    assert open_errors("tickets") == {("waiting_for_contact", f"salesforce:{case}"), *refused}

    due_now(SyncError.objects.get(record_key=f"salesforce:{case}", error_type=refused.pop()[0]))
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    assert (
        hs_person.crm.tickets.basic_api.get_by_id(
            ticket_id, properties=["hs_ticket_priority"]
        ).properties["hs_ticket_priority"]
        == "LOW"
    )
