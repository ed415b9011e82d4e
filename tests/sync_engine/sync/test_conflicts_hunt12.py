"""Edits made on both sides between two cycles, in the pairs other than contacts: the
conflict rule decides each field, and an edit of another field on the other side is never
lost."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

from emulators.testing import advance_clocks

from .helpers import open_errors, two_way
from .test_companies import hs_company_get
from .test_custom_objects import Projects, set_up
from .test_deals import hs_deal_get, hs_deal_update, new_opportunity


@pytest.mark.parametrize("later", ["salesforce", "hubspot"])
def test_an_account_and_its_company_edited_in_one_window(
    companies, sf_person, hs_person, emulators, later
):
    two_way("companies", "name", "description")
    account = sf_person.Account.create({"Name": "Both", "Description": "First"})["id"]
    companies.both()
    company = companies.link(salesforce_id=account).hubspot_id
    companies.both()

    def edit_salesforce():
        sf_person.Account.update(account, {"Name": "Both (SF)", "Phone": "555-0100"})

    def edit_hubspot():
        hs_person.crm.companies.basic_api.update(
            company, CompanyInput(properties={"name": "Both (HS)", "description": "From HS"})
        )

    first, second = (edit_hubspot, edit_salesforce) if later == "salesforce" else (
        edit_salesforce, edit_hubspot)  # fmt: skip
    first()
    advance_clocks(emulators, 5)
    second()
    companies.both()
    companies.both()
    name = "Both (SF)" if later == "salesforce" else "Both (HS)"
    record = sf_person.Account.get(account)
    props = hs_company_get(hs_person, company, "name", "description", "phone")
    assert (record["Name"], props["name"]) == (name, name)
    assert (record["Description"], props["description"]) == ("From HS", "From HS")
    assert (record["Phone"], props["phone"]) == ("555-0100", "555-0100")
    assert not open_errors(), open_errors()
    idle, _ = companies.both()
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get(
        "updated_in_salesforce"
    ), idle.counts


@pytest.mark.parametrize("later", ["salesforce", "hubspot"])
def test_an_opportunity_and_its_deal_edited_in_one_window(
    deals, sf_person, hs_person, emulators, later
):
    two_way("deals", "dealname", "description")
    opportunity = new_opportunity(sf_person, Name="Both", Description="First")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    deals()

    def edit_salesforce():
        sf_person.Opportunity.update(opportunity, {"Name": "Both (SF)", "Amount": 42})

    def edit_hubspot():
        hs_deal_update(hs_person, deal, dealname="Both (HS)", description="From HS")

    first, second = (edit_hubspot, edit_salesforce) if later == "salesforce" else (
        edit_salesforce, edit_hubspot)  # fmt: skip
    first()
    advance_clocks(emulators, 5)
    second()
    deals.all()
    deals.all()
    name = "Both (SF)" if later == "salesforce" else "Both (HS)"
    record = sf_person.Opportunity.get(opportunity)
    props = hs_deal_get(hs_person, deal, "dealname", "description", "amount")
    assert (record["Name"], props["dealname"]) == (name, name)
    assert (record["Description"], props["description"]) == ("From HS", "From HS")
    assert (record["Amount"], props["amount"]) == (42, "42")
    assert not open_errors(), open_errors()
    idle = deals()
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get(
        "updated_in_salesforce"
    ), idle.counts


@pytest.fixture
def projects(integration, emulators, hs_person):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    return Projects(integration, emulators, hs_person, hs_type, name)


@pytest.mark.parametrize("winner", ["salesforce", "hubspot"])
def test_a_project_edited_on_both_sides_keeps_each_sides_other_fields(
    projects, sf_person, emulators, winner
):
    projects.settings(conflict_winner=winner)
    project = sf_person.Project__c.create({"Name": "Both", "Budget__c": 1.0})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects()
    sf_person.Project__c.update(project, {"Budget__c": 2.0, "Status__c": "Active"})
    advance_clocks(emulators, 5)
    projects.update(record, budget="3", notes="From HubSpot")
    projects()
    projects()
    budget = 2 if winner == "salesforce" else 3
    row = sf_person.Project__c.get(project)
    props = projects.get(record)
    assert (row["Budget__c"], props["budget"]) == (budget, str(budget))
    assert (row["Status__c"], props["status"]) == ("Active", "Active")
    assert (row["Description__c"], props["notes"]) == ("From HubSpot", "From HubSpot")
    assert not open_errors(), open_errors()


@pytest.mark.parametrize("later", ["salesforce", "hubspot"])
def test_a_deal_stage_moved_on_both_sides_in_one_window_follows_the_later_move(
    deals, sf_person, hs_person, emulators, later
):
    from .test_deals import hs_stage

    two_way("deals", "dealstage")
    opportunity = new_opportunity(sf_person, Name="Stages", StageName="Prospecting")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    deals()

    def edit_salesforce():
        sf_person.Opportunity.update(opportunity, {"StageName": "Negotiation/Review"})

    def edit_hubspot():
        hs_deal_update(hs_person, deal, dealstage=hs_stage(hs_person, "Needs Analysis")[1].id)

    first, second = (edit_hubspot, edit_salesforce) if later == "salesforce" else (
        edit_salesforce, edit_hubspot)  # fmt: skip
    first()
    advance_clocks(emulators, 5)
    second()
    deals()
    deals()
    stage = "Negotiation/Review" if later == "salesforce" else "Needs Analysis"
    assert sf_person.Opportunity.get(opportunity)["StageName"] == stage
    stage_id = hs_stage(hs_person, stage)[1].id
    assert hs_deal_get(hs_person, deal, "dealstage")["dealstage"] == stage_id
    assert not open_errors(), open_errors()
