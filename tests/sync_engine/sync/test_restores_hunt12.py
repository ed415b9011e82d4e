"""Records deleted and restored (Salesforce's recycle bin, HubSpot's restore) in the pairs
other than contacts: a restored record finds its partner again, or gets one new one; never
two, and no edit is lost."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink

from .helpers import hs_create, open_errors, two_way
from .test_companies import hs_company, hs_company_get, hs_company_ids
from .test_custom_objects import Projects, set_up
from .test_deals import deal_from_hubspot, hs_deal_get, hs_deal_ids, hs_deal_update, new_opportunity
from .test_tickets import ticket, ticket_ids


def sf_ids(sf, sobject: str) -> list[str]:
    return sorted(r["Id"] for r in sf.query(f"SELECT Id FROM {sobject}")["records"])  # noqa: S608


# --- companies ----------------------------------------------------------------------------
def company_with_its_account(companies, hs_person) -> tuple[str, str]:
    """A company made in HubSpot with a private contact: the account it creates (carrying
    ``HubSpot_Id__c``). (company, account)."""
    company = hs_company(hs_person, name="Restored Co")
    contact = hs_create(hs_person, email="pat@restored.example", firstname="Pat", lastname="P")
    companies.hs_action(
        "associate", from_type="contacts", from_id=contact, to_type="companies", to_id=company
    )
    companies.both()
    companies.both()
    account = companies.link(hubspot_id=str(company)).salesforce_id
    return str(company), account


@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_an_account_made_from_a_company_restored_from_the_recycle_bin_has_one_company(
    companies, sf_person, hs_person, emulators, setting
):
    companies.settings(salesforce_delete=setting)
    company, account = company_with_its_account(companies, hs_person)
    assert sf_person.Account.get(account)["HubSpot_Id__c"] == company
    advance_clocks(emulators, 60)
    sf_person.Account.delete(account)
    companies.both()
    assert not companies.links().exists()
    advance_clocks(emulators, 60)
    companies.sf_action("undelete", id=account)
    companies.both()
    companies.both()
    live = hs_company_ids(hs_person)
    assert len(live) == 1, live
    assert companies.link(salesforce_id=account).hubspot_id == live[0]
    if setting == "nothing":
        assert live == [company]
    assert sf_ids(sf_person, "Account") == [account]
    assert not open_errors(), open_errors()
    sf_person.Account.update(account, {"Name": "Restored Co, edited"})
    companies.both()
    assert hs_company_get(hs_person, live[0], "name")["name"] == "Restored Co, edited"


@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_an_account_deleted_and_restored_between_two_cycles_keeps_its_company(
    companies, sf_person, hs_person, emulators, setting
):
    companies.settings(salesforce_delete=setting)
    account = sf_person.Account.create({"Name": "Blink"})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    advance_clocks(emulators, 60)
    sf_person.Account.delete(account)
    companies.sf_action("undelete", id=account)
    companies.both()
    companies.both()
    assert hs_company_ids(hs_person) == [company]
    assert companies.link(salesforce_id=account).hubspot_id == company
    assert not open_errors(), open_errors()


# --- deals --------------------------------------------------------------------------------
@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_an_opportunity_made_from_a_deal_restored_from_the_recycle_bin_has_one_deal(
    deals, sf_person, hs_person, emulators, setting
):
    deals.settings(salesforce_delete=setting)
    deals()  # the pipelines exist
    deal, opportunity = deal_from_hubspot(
        deals, hs_person, dealname="Restored deal", closedate="2026-10-01"
    )
    deals()
    advance_clocks(emulators, 60)
    sf_person.Opportunity.delete(opportunity)
    deals()
    assert not deals.links().exists()
    advance_clocks(emulators, 60)
    deals.sf_action("undelete", id=opportunity)
    deals()
    deals()
    live = hs_deal_ids(hs_person)
    assert len(live) == 1, live
    assert deals.link(salesforce_id=opportunity).hubspot_id == live[0]
    if setting == "nothing":
        assert live == [str(deal)]
    assert sf_ids(sf_person, "Opportunity") == [opportunity]
    assert not open_errors(), open_errors()
    sf_person.Opportunity.update(opportunity, {"Name": "Restored deal, edited"})
    deals()
    assert hs_deal_get(hs_person, live[0], "dealname")["dealname"] == "Restored deal, edited"


def test_an_opportunity_restored_with_do_nothing_finds_its_kept_deal(
    deals, sf_person, hs_person, emulators
):
    deals.settings(salesforce_delete="nothing")
    opportunity = new_opportunity(sf_person, Name="Kept deal")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    advance_clocks(emulators, 60)
    sf_person.Opportunity.delete(opportunity)
    deals()
    hs_deal_update(hs_person, deal, description="Edited while its opportunity was deleted")
    deals()
    advance_clocks(emulators, 60)
    deals.sf_action("undelete", id=opportunity)
    deals()
    deals()
    assert hs_deal_ids(hs_person) == [deal]
    assert deals.link(salesforce_id=opportunity).hubspot_id == deal
    assert sf_ids(sf_person, "Opportunity") == [opportunity]
    assert not open_errors(), open_errors()
    # The edit made meanwhile is no first sync's to overwrite: the opportunity, blank there,
    # takes it (Prefer Salesforce unless blank), and the deal keeps it.
    edit = "Edited while its opportunity was deleted"
    assert sf_person.Opportunity.get(opportunity)["Description"] == edit
    assert hs_deal_get(hs_person, deal, "description")["description"] == edit


# --- tickets ------------------------------------------------------------------------------
@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_a_case_restored_from_the_recycle_bin_has_one_ticket(
    tickets, sf_person, hs_person, emulators, setting
):
    tickets.settings(salesforce_delete=setting)
    case = sf_person.Case.create({"Subject": "Comes back", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    advance_clocks(emulators, 60)
    sf_person.Case.delete(case)
    tickets()
    advance_clocks(emulators, 60)
    tickets.sf_action("undelete", id=case)
    tickets()
    tickets()
    live = ticket_ids(hs_person)
    assert len(live) == 1, live
    assert tickets.link(salesforce_id=case).hubspot_id == live[0]
    if setting == "nothing":
        assert live == [ticket_id]
    assert not open_errors(), open_errors()
    sf_person.Case.update(case, {"Subject": "Came back"})
    tickets()
    assert ticket(hs_person, live[0], "subject")["subject"] == "Came back"


# --- custom objects -----------------------------------------------------------------------
@pytest.fixture
def projects(integration, emulators, hs_person):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    return Projects(integration, emulators, hs_person, hs_type, name)


@pytest.mark.parametrize("origin", ["salesforce", "hubspot"])
@pytest.mark.parametrize("setting", ["nothing", "delete"])
def test_a_project_restored_from_the_recycle_bin_has_one_hubspot_record(
    projects, sf_person, emulators, setting, origin
):
    projects.settings(salesforce_delete=setting)
    if origin == "salesforce":
        project = sf_person.Project__c.create({"Name": "Phoenix"})["id"]
        projects()
        record = projects.link(salesforce_id=project).hubspot_id
    else:
        record = projects.create(project_name="Phoenix")
        projects()
        project = projects.link(hubspot_id=record).salesforce_id
    projects()
    advance_clocks(emulators, 60)
    sf_person.Project__c.delete(project)
    projects()
    assert not projects.links().exists()
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("undelete", id=project)
    projects()
    projects()
    live = projects.ids()
    assert len(live) == 1, live
    assert projects.link(salesforce_id=project).hubspot_id == live[0]
    if setting == "nothing":
        assert live == [record]
    assert sf_ids(sf_person, "Project__c") == [project]
    assert not open_errors(), open_errors()
    sf_person.Project__c.update(project, {"Budget__c": 7.0})
    projects()
    assert projects.get(live[0])["budget"] == "7"
    projects.update(live[0], notes="From HubSpot")
    projects()
    assert sf_person.Project__c.get(project)["Description__c"] == "From HubSpot"
    assert RecordLink.objects.filter(object=projects.name).count() == 1


# --- HubSpot restores ---------------------------------------------------------------------
def restore(pair, object_type: str, record_id: str) -> None:
    pair.emulators.hubspot.app.run_action("restore", object_type=object_type, id=record_id)


@pytest.mark.parametrize("when", ["before_a_cycle", "after_a_cycle"])
def test_a_company_restored_in_hubspot_gets_its_accounts_edit(
    companies, sf_person, hs_person, emulators, when
):
    account = sf_person.Account.create({"Name": "Lazarus"})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    hs_person.crm.companies.basic_api.archive(company)
    if when == "after_a_cycle":
        companies.both()
    restore(companies, "companies", company)
    advance_clocks(emulators, 60)
    sf_person.Account.update(account, {"Name": "Lazarus, edited"})
    companies.both()
    companies.both()
    assert hs_company_ids(hs_person) == [company]
    assert companies.link(salesforce_id=account).hubspot_id == company
    assert hs_company_get(hs_person, company, "name")["name"] == "Lazarus, edited"
    assert not open_errors(), open_errors()


@pytest.mark.parametrize("when", ["before_a_cycle", "after_a_cycle"])
def test_a_deal_restored_in_hubspot_gets_its_opportunitys_edit(
    deals, sf_person, hs_person, emulators, when
):
    opportunity = new_opportunity(sf_person, Name="Lazarus")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    hs_person.crm.deals.basic_api.archive(deal)
    if when == "after_a_cycle":
        deals()
    restore(deals, "deals", deal)
    advance_clocks(emulators, 60)
    sf_person.Opportunity.update(opportunity, {"Name": "Lazarus, edited"})
    deals()
    deals()
    assert hs_deal_ids(hs_person) == [deal]
    assert deals.link(salesforce_id=opportunity).hubspot_id == deal
    assert hs_deal_get(hs_person, deal, "dealname")["dealname"] == "Lazarus, edited"
    assert not open_errors(), open_errors()
    hs_deal_update(hs_person, deal, description="Edited in HubSpot once restored")
    deals()
    assert sf_person.Opportunity.get(opportunity)["Description"] == (
        "Edited in HubSpot once restored"
    )


@pytest.mark.parametrize("when", ["before_a_cycle", "after_a_cycle"])
def test_a_ticket_restored_in_hubspot_gets_its_cases_edit(
    tickets, sf_person, hs_person, emulators, when
):
    case = sf_person.Case.create({"Subject": "Lazarus", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.archive(ticket_id)
    if when == "after_a_cycle":
        tickets()
    restore(tickets, "tickets", ticket_id)
    advance_clocks(emulators, 60)
    sf_person.Case.update(case, {"Subject": "Lazarus, edited"})
    tickets()
    tickets()
    assert ticket_ids(hs_person) == [ticket_id]
    assert tickets.link(salesforce_id=case).hubspot_id == ticket_id
    assert ticket(hs_person, ticket_id, "subject")["subject"] == "Lazarus, edited"
    assert not open_errors(), open_errors()


@pytest.mark.parametrize("hubspot_delete", ["nothing", "delete"])
@pytest.mark.parametrize("when", ["before_a_cycle", "after_a_cycle"])
def test_a_project_restored_in_hubspot_gets_its_salesforce_edit(
    projects, sf_person, emulators, when, hubspot_delete
):
    projects.settings(hubspot_delete=hubspot_delete)
    project = sf_person.Project__c.create({"Name": "Lazarus"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects.hs.crm.objects.basic_api.archive(projects.type, record)
    if when == "after_a_cycle":
        projects()
    emulators.hubspot.app.run_action("restore", object_type=projects.type, id=record)
    advance_clocks(emulators, 60)
    sf_person.Project__c.update(project, {"Budget__c": 9.0})
    projects()
    projects()
    assert projects.ids() == [record]
    assert sf_ids(sf_person, "Project__c") == [project]
    assert projects.link(salesforce_id=project).hubspot_id == record
    assert projects.get(record)["budget"] == "9"
    assert not open_errors(), open_errors()


# --- edited while the partner was in the recycle bin --------------------------------------
# A Salesforce delete (*Do nothing*) drops the link, but its snapshot is remembered while the
# record can be restored: the restored record syncs as the old pair, so a HubSpot edit made
# meanwhile isn't overwritten as by a first sync (undelete moves LastModifiedDate, so no
# "latest edit wins" could tell). A custom object's kept record, once edited, makes a new
# Salesforce record (documented, *Custom objects*, Deletes): restored, the old one gets a
# second HubSpot record.


def test_a_company_edit_made_while_its_account_was_deleted_survives_the_restore(
    companies, sf_person, hs_person, emulators
):
    from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

    two_way("companies", "name", "description")
    account = sf_person.Account.create({"Name": "Kept", "Description": "Old"})["id"]
    companies.both()
    company = companies.link(salesforce_id=account).hubspot_id
    companies.both()
    advance_clocks(emulators, 60)
    sf_person.Account.delete(account)
    companies.both()
    advance_clocks(emulators, 60)
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"description": "Edited in HubSpot meanwhile"})
    )
    companies.both()
    advance_clocks(emulators, 60)
    companies.sf_action("undelete", id=account)
    companies.both()
    companies.both()
    assert companies.link(salesforce_id=account).hubspot_id == company
    assert hs_company_get(hs_person, company, "description")["description"] == (
        "Edited in HubSpot meanwhile"
    )
    assert sf_person.Account.get(account)["Description"] == "Edited in HubSpot meanwhile"


def test_accounts_restored_together_each_get_their_own_company_back(
    companies, sf_person, hs_person, emulators
):
    """A mass undelete: every account restored in one cycle links again to its own company."""
    accounts = [sf_person.Account.create({"Name": f"Batch {i}"})["id"] for i in range(3)]
    companies.both()
    before = {a: companies.link(salesforce_id=a).hubspot_id for a in accounts}
    advance_clocks(emulators, 60)
    for account in accounts:
        sf_person.Account.delete(account)
    companies.both()
    assert not companies.links().exists()
    advance_clocks(emulators, 60)
    for account in accounts:
        companies.sf_action("undelete", id=account)
    companies.both()
    companies.both()
    assert {a: companies.link(salesforce_id=a).hubspot_id for a in accounts} == before
    assert sorted(hs_company_ids(hs_person)) == sorted(before.values())
    assert not open_errors(), open_errors()


def test_a_deal_edit_made_while_its_opportunity_was_deleted_survives_the_restore(
    deals, sf_person, hs_person, emulators
):
    two_way("deals", "dealname", "description")
    deals.settings(salesforce_delete="nothing")
    opportunity = new_opportunity(sf_person, Name="Kept", Description="Old")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    deals()
    advance_clocks(emulators, 60)
    sf_person.Opportunity.delete(opportunity)
    deals()
    advance_clocks(emulators, 60)
    hs_deal_update(hs_person, deal, description="Edited in HubSpot meanwhile")
    deals()
    advance_clocks(emulators, 60)
    deals.sf_action("undelete", id=opportunity)
    deals()
    deals()
    assert deals.link(salesforce_id=opportunity).hubspot_id == deal
    assert hs_deal_get(hs_person, deal, "description")["description"] == (
        "Edited in HubSpot meanwhile"
    )
    assert sf_person.Opportunity.get(opportunity)["Description"] == "Edited in HubSpot meanwhile"


def test_a_ticket_edit_made_while_its_case_was_deleted_survives_the_restore(
    tickets, sf_person, hs_person, emulators
):
    from hubspot.crm.tickets import SimplePublicObjectInput as TicketInput

    two_way("tickets", "subject", "content")
    case = sf_person.Case.create({"Subject": "Kept", "Description": "Old", "Status": "New"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    tickets()
    advance_clocks(emulators, 60)
    sf_person.Case.delete(case)
    tickets()
    advance_clocks(emulators, 60)
    hs_person.crm.tickets.basic_api.update(
        ticket_id, TicketInput(properties={"content": "Edited in HubSpot meanwhile"})
    )
    tickets()
    advance_clocks(emulators, 60)
    tickets.sf_action("undelete", id=case)
    tickets()
    tickets()
    assert tickets.link(salesforce_id=case).hubspot_id == ticket_id
    assert ticket(hs_person, ticket_id, "content")["content"] == "Edited in HubSpot meanwhile"
    assert sf_person.Case.get(case)["Description"] == "Edited in HubSpot meanwhile"


@pytest.mark.xfail(strict=True, reason="documented: the kept record's edit makes a new project")
def test_a_project_edit_made_while_its_salesforce_record_was_deleted_survives_the_restore(
    projects, sf_person, emulators
):
    projects.settings(conflict_winner="hubspot")
    project = sf_person.Project__c.create({"Name": "Kept", "Description__c": "Old"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects()
    advance_clocks(emulators, 60)
    sf_person.Project__c.delete(project)
    projects()
    advance_clocks(emulators, 60)
    projects.update(record, notes="Edited in HubSpot meanwhile")
    projects()
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("undelete", id=project)
    projects()
    projects()
    assert sf_ids(sf_person, "Project__c") == [project]
    assert projects.link(salesforce_id=project).hubspot_id == record
    assert projects.get(record)["notes"] == "Edited in HubSpot meanwhile"
    assert sf_person.Project__c.get(project)["Description__c"] == "Edited in HubSpot meanwhile"


def test_a_company_restored_in_hubspot_gets_its_accounts_contacts_back(
    companies, sf_person, hs_person, emulators
):
    from .helpers import hs_get, hs_update
    from .test_companies import contact_on_an_account

    contact, account, hs_contact, company = contact_on_an_account(
        companies, sf_person, hs_person, "Lazarus"
    )
    hs_person.crm.companies.basic_api.archive(company)
    companies.both()
    hs_update(hs_person, hs_contact, associatedcompanyid="")  # HubSpot clears it
    companies.both()
    advance_clocks(emulators, 60)
    restore(companies, "companies", company)
    advance_clocks(emulators, 60)
    sf_person.Account.update(account, {"Name": "Lazarus Inc, edited"})
    companies.both()
    companies.both()
    assert hs_company_ids(hs_person) == [company]
    assert companies.link(salesforce_id=account).hubspot_id == company
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == company
    assert sf_person.Contact.get(contact)["AccountId"] == account
    assert not open_errors(), open_errors()


@pytest.mark.parametrize("listed", [False, True])
def test_a_project_restored_in_hubspot_around_its_deletes_listing_has_one_salesforce_record(
    projects, sf_person, emulators, listed
):
    from datetime import timedelta

    from django.utils import timezone

    from sync_engine.models import SyncCursor

    project = sf_person.Project__c.create({"Name": "Lazarus"})["id"]
    projects()
    record = projects.link(salesforce_id=project).hubspot_id
    projects.settings(hubspot_delete="delete")
    projects()  # the deletes listing starts from now
    projects.hs.crm.objects.basic_api.archive(projects.type, record)
    if listed:  # the listing deletes the project before the record is restored
        SyncCursor.objects.filter(stream__startswith="hubspot:deletes:").update(
            checked_at=timezone.now() - timedelta(minutes=10)
        )
        projects()
        assert sf_ids(sf_person, "Project__c") == []
    advance_clocks(emulators, 60)
    emulators.hubspot.app.run_action("restore", object_type=projects.type, id=record)
    SyncCursor.objects.filter(stream__startswith="hubspot:deletes:").update(
        checked_at=timezone.now() - timedelta(minutes=10)
    )
    projects()
    projects()
    [live] = sf_ids(sf_person, "Project__c")
    assert projects.ids() == [record]
    assert projects.link(hubspot_id=record).salesforce_id == live
    assert sf_person.Project__c.get(live)["Name"] == "Lazarus"
    assert not open_errors(), open_errors()
