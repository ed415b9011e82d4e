"""A record changed again while its previous write failed and waits for its retry, in the
pairs other than contacts: the newer value wins, and the retry never sends the older one."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput
from hubspot.crm.tickets import SimplePublicObjectInput as TicketInput

from emulators.testing import advance_clocks

from .helpers import all_due, open_errors, two_way
from .test_companies import hs_company_get
from .test_custom_objects import Projects, set_up
from .test_deals import hs_deal_get, hs_deal_update, new_opportunity
from .test_tickets import ticket, ticket_edit_refused


def blocked_rule(emulators, sobject: str, field: str) -> str:
    return emulators.salesforce.app.run_action(
        "add_validation_rule", object=sobject, field=field, operator="contains",
        value="Blocked", message=f"{field} may not say Blocked", error_field=field,
    )  # fmt: skip


# --- companies ----------------------------------------------------------------------------
def company_edit_refused(companies, sf_person, hs_person, emulators):
    """An account whose company's two-way name a marketer changed to "Blocked", which a
    validation rule refuses: (account, company, the rule)."""
    two_way("companies", "name", "description")
    account = sf_person.Account.create({"Name": "Original"})["id"]
    companies.both()
    company = companies.link(salesforce_id=account).hubspot_id
    companies.both()
    rule = blocked_rule(emulators, "Account", "Name")
    advance_clocks(emulators, 5)
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"name": "Blocked name"})
    )
    companies.both()
    assert sf_person.Account.get(account)["Name"] == "Original"
    assert [e[1] for e in open_errors()] == [f"hubspot:{company}"], open_errors()
    return account, company, rule


@pytest.mark.parametrize("rule_stays", [True, False])
def test_a_refused_company_edit_overtaken_by_a_newer_account_edit_is_not_resent(
    companies, sf_person, hs_person, emulators, rule_stays
):
    account, company, rule = company_edit_refused(companies, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    sf_person.Account.update(account, {"Name": "Rep's newer name"})
    if not rule_stays:
        emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    companies.both()
    all_due()
    companies.both()
    assert sf_person.Account.get(account)["Name"] == "Rep's newer name"
    assert hs_company_get(hs_person, company, "name")["name"] == "Rep's newer name"
    assert not open_errors(), open_errors()


def test_an_account_edit_of_another_field_goes_while_the_companys_edit_waits(
    companies, sf_person, hs_person, emulators
):
    account, company, rule = company_edit_refused(companies, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    sf_person.Account.update(account, {"Description": "Rep's note"})
    companies.both()
    assert hs_company_get(hs_person, company, "description")["description"] == "Rep's note"
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    companies.both()
    companies.both()
    record = sf_person.Account.get(account)
    assert (record["Name"], record["Description"]) == ("Blocked name", "Rep's note")
    props = hs_company_get(hs_person, company, "name", "description")
    assert (props["name"], props["description"]) == ("Blocked name", "Rep's note")
    assert not open_errors(), open_errors()


def test_a_refused_company_edit_overtaken_by_a_newer_company_edit_sends_the_newer(
    companies, sf_person, hs_person, emulators
):
    account, company, _rule = company_edit_refused(companies, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"name": "Fine name"})
    )
    all_due()
    companies.both()
    companies.both()
    assert sf_person.Account.get(account)["Name"] == "Fine name"
    assert not open_errors(), open_errors()


# --- deals --------------------------------------------------------------------------------
def deal_edit_refused(deals, sf_person, hs_person, emulators):
    two_way("deals", "dealname", "description")
    opportunity = new_opportunity(sf_person, Name="Original")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    deals()
    rule = blocked_rule(emulators, "Opportunity", "Name")
    advance_clocks(emulators, 5)
    hs_deal_update(hs_person, deal, dealname="Blocked name")
    deals()
    assert sf_person.Opportunity.get(opportunity)["Name"] == "Original"
    assert [e[1] for e in open_errors()] == [f"hubspot:{deal}"], open_errors()
    return opportunity, deal, rule


@pytest.mark.parametrize("rule_stays", [True, False])
def test_a_refused_deal_edit_overtaken_by_a_newer_opportunity_edit_is_not_resent(
    deals, sf_person, hs_person, emulators, rule_stays
):
    opportunity, deal, rule = deal_edit_refused(deals, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    sf_person.Opportunity.update(opportunity, {"Name": "Rep's newer name"})
    if not rule_stays:
        emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    deals()
    all_due()
    deals()
    assert sf_person.Opportunity.get(opportunity)["Name"] == "Rep's newer name"
    assert hs_deal_get(hs_person, deal, "dealname")["dealname"] == "Rep's newer name"
    assert not open_errors(), open_errors()


def test_an_opportunity_edit_of_another_field_goes_while_the_deals_edit_waits(
    deals, sf_person, hs_person, emulators
):
    opportunity, deal, rule = deal_edit_refused(deals, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    sf_person.Opportunity.update(opportunity, {"Description": "Rep's note"})
    deals()
    assert hs_deal_get(hs_person, deal, "description")["description"] == "Rep's note"
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    deals()
    deals()
    record = sf_person.Opportunity.get(opportunity)
    assert (record["Name"], record["Description"]) == ("Blocked name", "Rep's note")
    props = hs_deal_get(hs_person, deal, "dealname", "description")
    assert (props["dealname"], props["description"]) == ("Blocked name", "Rep's note")
    assert not open_errors(), open_errors()


# --- tickets ------------------------------------------------------------------------------
@pytest.mark.parametrize("rule_stays", [True, False])
def test_a_refused_ticket_edit_overtaken_by_a_newer_case_edit_is_not_resent(
    tickets, sf_person, hs_person, emulators, rule_stays
):
    case, ticket_id, error, rule = ticket_edit_refused(tickets, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    sf_person.Case.update(case, {"Subject": "Rep's newer subject"})
    if not rule_stays:
        emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    tickets()
    all_due()
    tickets()
    assert sf_person.Case.get(case)["Subject"] == "Rep's newer subject"
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Rep's newer subject"
    assert not open_errors(), open_errors()


def test_a_case_edit_of_another_field_goes_while_the_tickets_edit_waits(
    tickets, sf_person, hs_person, emulators
):
    case, ticket_id, error, rule = ticket_edit_refused(tickets, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    sf_person.Case.update(case, {"Priority": "Low"})
    tickets()
    assert ticket(hs_person, ticket_id, "hs_ticket_priority")["hs_ticket_priority"] == "LOW"
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    tickets()
    tickets()
    record = sf_person.Case.get(case)
    assert (record["Subject"], record["Priority"]) == ("Blocked by rule", "Low")
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Blocked by rule"
    assert not open_errors(), open_errors()


def test_a_refused_ticket_edit_overtaken_by_a_newer_ticket_edit_sends_the_newer(
    tickets, sf_person, hs_person, emulators
):
    case, ticket_id, error, rule = ticket_edit_refused(tickets, sf_person, hs_person, emulators)
    advance_clocks(emulators, 5)
    hs_person.crm.tickets.basic_api.update(
        ticket_id, TicketInput(properties={"subject": "Fine subject"})
    )
    all_due()
    tickets()
    tickets()
    assert sf_person.Case.get(case)["Subject"] == "Fine subject"
    assert not open_errors(), open_errors()


# --- custom objects -----------------------------------------------------------------------
@pytest.fixture
def projects(integration, emulators, hs_person):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    return Projects(integration, emulators, hs_person, hs_type, name)


def test_a_refused_project_edit_overtaken_by_a_newer_salesforce_edit_is_not_resent(
    projects, sf_person, emulators
):
    project = sf_person.Project__c.create({"Name": "Original"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects()
    rule = blocked_rule(emulators, "Project__c", "Name")
    advance_clocks(emulators, 5)
    projects.update(record, project_name="Blocked name")
    projects()
    assert [e[1] for e in open_errors()] == [f"hubspot:{record}"], open_errors()
    advance_clocks(emulators, 5)
    sf_person.Project__c.update(project, {"Name": "Rep's newer name", "Budget__c": 4.0})
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    projects()
    all_due()
    projects()
    assert sf_person.Project__c.get(project)["Name"] == "Rep's newer name"
    props = projects.get(record)
    assert (props["project_name"], props["budget"]) == ("Rep's newer name", "4")
    assert not open_errors(), open_errors()


# --- a create refused, then the record edited ---------------------------------------------
@pytest.mark.parametrize("external_id", [True, False])
def test_a_company_whose_account_create_was_refused_and_edited_since_makes_one_account(
    companies, integration, sf_person, hs_person, emulators, external_id
):
    from sync_engine.models import SchemaCache

    from .helpers import hs_create
    from .test_companies import hs_company

    companies.both()
    if not external_id:
        cache = SchemaCache.objects.get(
            integration=integration, system="salesforce", object="Account"
        )
        cache.data = [f for f in cache.data if f["name"] != "HubSpot_Id__c"]
        cache.save()
    rule = blocked_rule(emulators, "Account", "Name")
    company = hs_company(hs_person, name="Blocked Co")
    contact = hs_create(hs_person, email="p@blocked.example", firstname="P", lastname="B")
    companies.hs_action(
        "associate", from_type="contacts", from_id=contact, to_type="companies", to_id=company
    )
    companies.both()
    companies.both()
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 0
    assert any(e[1] == f"hubspot:{company}" for e in open_errors()), open_errors()
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    advance_clocks(emulators, 5)
    hs_person.crm.companies.basic_api.update(company, CompanyInput(properties={"name": "Fine Co"}))
    all_due()
    companies.both()
    all_due()
    companies.both()
    rows = sf_person.query("SELECT Id, Name FROM Account")["records"]
    assert [r["Name"] for r in rows] == ["Fine Co"]
    assert companies.link(hubspot_id=str(company)).salesforce_id == rows[0]["Id"]
    assert not open_errors(), open_errors()


@pytest.mark.parametrize("external_id", [True, False])
def test_a_deal_whose_opportunity_create_was_refused_and_edited_since_makes_one(
    deals, integration, sf_person, hs_person, emulators, external_id
):
    from sync_engine.models import SchemaCache

    from .test_deals import hs_deal, hs_deal_ids, hs_stage

    deals()
    if not external_id:
        cache = SchemaCache.objects.get(
            integration=integration, system="salesforce", object="Opportunity"
        )
        cache.data = [f for f in cache.data if f["name"] != "HubSpot_Id__c"]
        cache.save()
    rule = blocked_rule(emulators, "Opportunity", "Name")
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = hs_deal(
        hs_person, dealname="Blocked deal", closedate="2026-03-01", pipeline=pipeline_id,
        dealstage=stage.id,
    )  # fmt: skip
    deals()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 0
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    advance_clocks(emulators, 5)
    hs_deal_update(hs_person, deal, dealname="Fine deal")
    all_due()
    deals()
    all_due()
    deals()
    rows = sf_person.query("SELECT Id, Name FROM Opportunity")["records"]
    assert [r["Name"] for r in rows] == ["Fine deal"]
    assert deals.link(hubspot_id=str(deal)).salesforce_id == rows[0]["Id"]
    assert hs_deal_ids(hs_person) == [str(deal)]
    assert not open_errors(), open_errors()
