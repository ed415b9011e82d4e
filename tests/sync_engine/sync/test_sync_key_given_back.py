"""A sync key emptied or retyped by hand on a linked HubSpot record, and nothing else edited:
the record's next sync gives the key back its Salesforce record's id. The key is what makes a
lost or retried create find the record instead of making a second one, so it can't wait for
some other edit to be put right."""

from __future__ import annotations

from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

from emulators.testing import advance_clocks

from .test_companies import hs_company_get
from .test_custom_objects import KEY as RECORD_KEY
from .test_custom_objects import Projects, set_up
from .test_deals import hs_deal_get, hs_deal_update, new_opportunity

DEAL_KEY = "salesforce_opportunity_id_sync"
COMPANY_KEY = "salesforce_account_id_sync"


def test_an_emptied_deal_key_is_given_back(deals, sf_person, hs_person):
    held = new_opportunity(sf_person, Name="Initech", Amount=1000, StageName="Needs Analysis")
    deals()
    deals()
    deal = deals.link(salesforce_id=held).hubspot_id
    advance_clocks(deals.emulators, 5)
    hs_deal_update(hs_person, deal, **{DEAL_KEY: ""})
    advance_clocks(deals.emulators, 5)
    run = deals()
    assert run.counts["updated_in_hubspot"] == 1
    assert hs_deal_get(hs_person, deal, DEAL_KEY)[DEAL_KEY] == held
    advance_clocks(deals.emulators, 5)
    assert "updated_in_hubspot" not in deals().counts  # in step: nothing written again


def test_a_retyped_company_key_is_given_back(companies, sf_person, hs_person):
    held = sf_person.Account.create({"Name": "Initech"})["id"]
    companies()
    company = companies.link(salesforce_id=held).hubspot_id
    advance_clocks(companies.emulators, 5)
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={COMPANY_KEY: "001000000000000AAA"})
    )
    advance_clocks(companies.emulators, 5)
    companies()
    assert hs_company_get(hs_person, company, COMPANY_KEY)[COMPANY_KEY] == held
    assert sf_person.Account.get(held)["Name"] == "Initech"


def test_an_emptied_custom_record_key_is_given_back(integration, emulators, hs_person, sf_person):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person)
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    held = sf_person.Project__c.create({"Name": "Apollo"})["id"]
    projects()
    record = projects.link(salesforce_id=held).hubspot_id
    advance_clocks(emulators, 5)
    projects.update(record, **{RECORD_KEY: ""})
    advance_clocks(emulators, 5)
    projects()
    assert projects.get(record)[RECORD_KEY] == held
