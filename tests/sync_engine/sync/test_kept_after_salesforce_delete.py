"""A company or deal made in HubSpot whose account or opportunity is then deleted in Salesforce,
while a Salesforce delete keeps the HubSpot record: the integration's own write of the sync key
to it (read back by the next cycles) never creates the account or opportunity again."""

from __future__ import annotations

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink

from .test_companies_review import hs_contact_at
from .test_deals import deal_from_hubspot


def test_a_kept_deal_never_brings_its_deleted_opportunity_back_by_our_own_write(
    deals,
    sf_person,
    hs_person,
    emulators,
):
    deals.settings(salesforce_delete="nothing")
    deals()  # pipelines
    _, opportunity = deal_from_hubspot(
        deals, hs_person, dealname="Kept deal", closedate="2026-10-01"
    )
    advance_clocks(emulators, 5)
    sf_person.Opportunity.delete(opportunity)
    advance_clocks(emulators, 5)
    for _ in range(2):
        run = deals()
        assert not run.counts.get("created_in_salesforce"), run.counts
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 0


def test_a_kept_company_never_brings_its_deleted_account_back_by_our_own_write(
    companies,
    sf_person,
    hs_person,
    emulators,
):
    contact, company = hs_contact_at(
        companies,
        hs_person,
        "Kept company",
        email="pat@kept.example",
        firstname="Pat",
        lastname="P",
    )
    companies.both()
    companies.both()
    account = companies.link(hubspot_id=str(company)).salesforce_id
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account
    advance_clocks(emulators, 5)
    sf_person.Account.delete(account)  # its contact goes to the recycle bin with it
    advance_clocks(emulators, 5)
    for _ in range(2):
        run, contacts_run = companies.both()
        assert not run.counts.get("created_in_salesforce"), run.counts
        assert not contacts_run.counts.get("created_in_salesforce"), contacts_run.counts
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 0
