"""Companies ⇄ accounts: a demanding admin's scenarios (matching, primary companies)."""

from __future__ import annotations

from sync_engine.models import RecordLink

from .helpers import hs_create, hs_get
from .test_companies import hs_company, hs_company_get
from .test_companies_review import associate


def test_a_new_account_matches_its_contacts_primary_company_not_a_former_one(
    companies, sf_person, hs_person
):
    """Dana's former employer is still associated with her in HubSpot; her employer is her
    primary company. The account a rep makes for her employer links to that company, not
    to the former one (which would take the account's name, and become Dana's primary
    company)."""
    companies.settings(hubspot_creates=False)
    former = hs_company(hs_person, name="Former Employer")  # the lower id
    employer = hs_company(hs_person, name="Employer")
    dana = hs_create(hs_person, email="dana@employer.example", firstname="Dana", lastname="E")
    associate(companies, dana, employer)  # the first company is the primary one
    associate(companies, dana, former)
    companies.both()
    assert not companies.links().exists()
    sf_dana = RecordLink.objects.get(object="contacts", hubspot_id=dana).salesforce_id

    account = sf_person.Account.create({"Name": "Employer Inc"})["id"]
    sf_person.Contact.update(sf_dana, {"AccountId": account})
    companies.both()
    companies.both()

    assert companies.link(salesforce_id=account).hubspot_id == employer
    assert hs_company_get(hs_person, former, "name")["name"] == "Former Employer"
    assert hs_get(hs_person, dana, "associatedcompanyid")["associatedcompanyid"] == employer


def test_companies_made_in_hubspot_match_the_account_of_the_contact_they_are_primary_for(
    companies, sf_person, hs_person
):
    """Sam is on account Sam & Co in Salesforce. In HubSpot, his employer (his primary
    company) and a former employer are made and associated with him: the account is his
    employer's, whichever company the cycle reads first."""
    companies.settings(salesforce_creates=False, hubspot_creates=False)
    account = sf_person.Account.create({"Name": "Sam & Co"})["id"]
    sf_person.Contact.create(
        {"LastName": "S", "FirstName": "Sam", "Email": "sam@co.example", "AccountId": account}
    )
    companies.both()
    companies.both()
    sam = RecordLink.objects.get(object="contacts", salesforce_type="Contact").hubspot_id
    assert not companies.links().exists()

    former = hs_company(hs_person, name="Old Job")  # the lower id: read first
    employer = hs_company(hs_person, name="Sam and Co")
    associate(companies, sam, employer)  # the first company is the primary one
    associate(companies, sam, former)
    companies.both()
    companies.both()

    assert companies.link(salesforce_id=account).hubspot_id == employer
    assert hs_company_get(hs_person, former, "name")["name"] == "Old Job"
    assert hs_get(hs_person, sam, "associatedcompanyid")["associatedcompanyid"] == employer
