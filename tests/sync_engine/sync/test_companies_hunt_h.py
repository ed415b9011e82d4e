"""Companies ⇄ accounts: a demanding admin's scenarios (matching, primary companies)."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink, SyncError
from sync_engine.services import sync_errors_request_resync

from .helpers import Crash, hs_create, hs_get, refuse_associations
from .test_companies import (
    contact_on_an_account,
    contact_on_the_first_of_two_accounts,
    hs_company,
    hs_company_get,
)
from .test_companies_review import associate
from .test_crash_hunt3 import die_once


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


def test_a_move_hubspot_refuses_leaves_the_contact_on_its_old_company_and_new_account(
    companies, sf_person, hs_person, emulators
):
    """A rep moves Max to another account; HubSpot refuses his new company (association
    limit). He keeps his old company in HubSpot until the move lands, and the next cycles
    never take him off his new account in Salesforce."""
    contact, _, hs_contact, old_company = contact_on_an_account(
        companies, sf_person, hs_person, "Max"
    )
    new_account = sf_person.Account.create({"Name": "Full House"})["id"]
    companies()
    new_company = companies.link(salesforce_id=new_account).hubspot_id

    sf_person.Contact.update(contact, {"AccountId": new_account})
    refuse_associations(emulators, "contacts", "companies", times=1)
    companies.both()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.error_type == "association_limit"
    company = hs_get(hs_person, hs_contact, "associatedcompanyid").get("associatedcompanyid")
    assert company == old_company

    advance_clocks(emulators, 60)
    companies.both()
    companies.both()
    assert sf_person.Contact.get(contact)["AccountId"] == new_account

    # Room made in HubSpot: the retry moves him.
    sync_errors_request_resync(integration=companies.integration, error_ids=[error.pk])
    companies.both()
    company = hs_get(hs_person, hs_contact, "associatedcompanyid").get("associatedcompanyid")
    assert company == new_company
    assert sf_person.Contact.get(contact)["AccountId"] == new_account


def test_a_move_whose_old_company_removal_never_went_out_removes_it_next_cycle(
    companies, sf_person, hs_person, emulators, monkeypatch
):
    """The worker dies after the contact's new company landed, before the old one's removal:
    the next cycle removes it, as the move would have."""
    from sync_engine.sync.companies import CompanySync

    _, second, contact, hs_contact = contact_on_the_first_of_two_accounts(companies, sf_person)
    second_company = companies.link(salesforce_id=second).hubspot_id
    sf_person.Contact.update(contact, {"AccountId": second})
    die_once(monkeypatch, CompanySync, "hubspot_dissociate")
    with pytest.raises(Crash):
        companies()
    advance_clocks(emulators, 61)
    companies()
    companies()
    page = hs_person.crm.associations.v4.basic_api.get_page("contacts", hs_contact, "companies")
    assert [str(a.to_object_id) for a in page.results] == [second_company]
    assert sf_person.Contact.get(contact)["AccountId"] == second


def test_a_waiting_contact_deleted_in_hubspot_ends_its_wait_without_an_error(
    companies, sf_person, hs_person, emulators
):
    """Wim waits for his account's company; meanwhile a marketer deletes him in HubSpot.
    When the account gets its company, Sync health shows no error for him (neither a
    "no contact with id" one nor the wait, whose account now has its company); his
    Salesforce contact's next edit makes him again, on that company."""
    companies.settings(salesforce_creates=False)
    account = sf_person.Account.create({"Name": "Later Co"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Wim", "Email": "wim@later.example", "AccountId": account}
    )["id"]
    companies.both()
    wait = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    hs_person.crm.contacts.basic_api.archive(hs_contact)
    advance_clocks(emulators, 60)
    companies.both()

    companies.settings(salesforce_creates=True)
    sf_person.Account.update(account, {"Name": "Later Co (now)"})
    companies.both()
    companies.both()
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    wait.refresh_from_db()
    assert wait.ended_because == SyncError.EndedBecause.GONE_FROM_HUBSPOT

    company = companies.link(salesforce_id=account).hubspot_id
    sf_person.Contact.update(contact, {"Title": "Back"})
    companies.both()
    companies.both()
    again = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    assert again != hs_contact
    assert hs_get(hs_person, again, "associatedcompanyid")["associatedcompanyid"] == company
