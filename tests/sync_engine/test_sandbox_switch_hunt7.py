"""*Connect to a new sandbox* (spec §2) and what the next cycles do: a sandbox whose records
came back with new ids (a new or developer sandbox, its data loaded again) relinks the
HubSpot records instead of duplicating them; one that kept the old ids (a copy) reunites by
them. Through the emulators: the switch is ``integration_connect(new_sandbox=True)`` after the
Salesforce emulator took a new org id."""

from __future__ import annotations

import pytest
from hubspot.crm.deals import SimplePublicObjectInput as DealInput

from sync_engine.models import RecordLink
from sync_engine.sync.companies import KEY_PROPERTY

from . import engine_harness
from .conftest import connect_to_emulators
from .sync.conftest import Companies
from .sync.helpers import company_sync_on, deal_sync_on

pytestmark = pytest.mark.django_db


@pytest.fixture
def companies(emulators):
    """A sandbox connected as ``manage.py connect --sandbox`` does, companies and contacts
    syncing (a contact creates a Salesforce contact)."""
    integration = connect_to_emulators(emulators, salesforce_sandbox=True)
    company_sync_on(integration, emulators)
    engine_harness.unthrottle(emulators)
    return Cycles(integration, emulators)


class Cycles(Companies):
    def all_pairs(self) -> None:
        """A cycle of each pair that is on, in the scheduler's order."""
        for name in ("contacts", "companies", "deals"):
            if self.integration.object_syncs.filter(object=name, enabled=True).exists():
                self(name)


def hs_companies(hs) -> dict[str, dict]:
    page = hs.crm.companies.basic_api.get_page(limit=100, properties=["name", KEY_PROPERTY])
    return {c.id: c.properties for c in page.results}


def account_with_contact(sf, name: str, email: str) -> tuple[str, str]:
    account = sf.Account.create({"Name": name})["id"]
    contact = sf.Contact.create({"LastName": "Lovelace", "Email": email, "AccountId": account})
    return account, contact["id"]


BIG_DEAL = {"StageName": "Prospecting", "CloseDate": "2026-12-31", "Name": "Big Deal"}


def synced_opportunity(companies, emulators, sf) -> tuple[str, str]:
    """Deal sync on, and an opportunity synced to its deal: (opportunity, deal)."""
    deal_sync_on(companies.integration, emulators)
    opportunity = sf.Opportunity.create(BIG_DEAL)["id"]
    companies.all_pairs()
    return opportunity, RecordLink.objects.get(object="deals", salesforce_id=opportunity).hubspot_id


def test_a_sandbox_whose_records_have_new_ids_relinks_the_companies(
    companies, sf_person, hs_person, emulators
):
    old_account, old_contact = account_with_contact(sf_person, "Acme", "ada@acme.example")
    companies("contacts")
    companies("companies")
    company_id = companies.link(salesforce_id=old_account).hubspot_id
    assert hs_companies(hs_person)[company_id][KEY_PROPERTY] == old_account

    emulators.salesforce.app.run_action("new_org_id")
    sf_person.Contact.delete(old_contact)
    sf_person.Account.delete(old_account)
    account, contact = account_with_contact(sf_person, "Acme", "ada@acme.example")
    connect_to_emulators(emulators, salesforce_sandbox=True, new_sandbox=True)
    assert not RecordLink.objects.exists()
    # The switch let go of the old sandbox's id: the company is free to match again.
    assert not hs_companies(hs_person)[company_id].get(KEY_PROPERTY)

    for _ in range(2):
        companies("contacts")
        companies("companies")

    assert set(hs_companies(hs_person)) == {company_id}
    assert hs_companies(hs_person)[company_id][KEY_PROPERTY] == account
    assert companies.link(salesforce_id=account).hubspot_id == company_id
    assert len(hs_person.crm.contacts.basic_api.get_page(limit=100).results) == 1
    assert RecordLink.objects.get(object="contacts").salesforce_id == contact


def test_a_sandbox_that_kept_the_ids_reunites_even_a_company_without_contacts(
    companies, sf_person, hs_person, emulators
):
    """A copy keeps the records' ids: a company keeps its key then, and an account without
    contacts (nothing else to match it by) finds its company again by that key."""
    account = sf_person.Account.create({"Name": "Initech"})["id"]
    companies("companies")
    company_id = companies.link(salesforce_id=account).hubspot_id

    emulators.salesforce.app.run_action("new_org_id")
    connect_to_emulators(emulators, salesforce_sandbox=True, new_sandbox=True)
    assert hs_companies(hs_person)[company_id][KEY_PROPERTY] == account

    companies("contacts")
    companies("companies")
    assert set(hs_companies(hs_person)) == {company_id}
    assert companies.link(salesforce_id=account).hubspot_id == company_id


def test_deals_come_again_beside_the_old_ones_which_stay_out_of_salesforce(
    companies, sf_person, hs_person, emulators
):
    """What the confirmation says of deals: matched by the opportunity's id only, a new
    sandbox's opportunity with another id makes a new deal; the old deal stays in HubSpot,
    synced no more, and is not sent to the new sandbox as an opportunity."""
    old, old_deal = synced_opportunity(companies, emulators, sf_person)

    emulators.salesforce.app.run_action("new_org_id")
    sf_person.Opportunity.delete(old)
    new = sf_person.Opportunity.create(BIG_DEAL)["id"]
    connect_to_emulators(emulators, salesforce_sandbox=True, new_sandbox=True)
    hs_person.crm.deals.basic_api.update(old_deal, DealInput(properties={"amount": "5"}))
    companies.all_pairs()
    companies.all_pairs()

    deals = hs_person.crm.deals.basic_api.get_page(limit=100).results
    assert len(deals) == 2
    new_deal = RecordLink.objects.get(object="deals", salesforce_id=new).hubspot_id
    assert {d.id for d in deals} == {old_deal, new_deal}
    assert not RecordLink.objects.filter(object="deals", hubspot_id=old_deal).exists()
    names = [r["Id"] for r in sf_person.query("SELECT Id FROM Opportunity")["records"]]
    assert names == [new]


def test_a_deal_whose_opportunity_kept_its_id_finds_it_again(
    companies, sf_person, hs_person, emulators
):
    opportunity, deal_id = synced_opportunity(companies, emulators, sf_person)

    emulators.salesforce.app.run_action("new_org_id")
    connect_to_emulators(emulators, salesforce_sandbox=True, new_sandbox=True)
    companies.all_pairs()
    assert [d.id for d in hs_person.crm.deals.basic_api.get_page(limit=100).results] == [deal_id]
    assert RecordLink.objects.get(object="deals", salesforce_id=opportunity).hubspot_id == deal_id
