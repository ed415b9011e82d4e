"""A company inclusion list (spec §6.5: "segments apply to contacts, companies (on the new
company sync)…"), mirroring the contacts' one, end to end through the emulators."""

from __future__ import annotations

import copy

import pytest
from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

from emulators.testing import active_list
from sync_engine.models import FieldMapping, RecordLink, SyncError
from sync_engine.object_settings import SettingsError
from sync_engine.selectors import inclusion_list_missing
from sync_engine.services import object_settings_update

from .helpers import hs_create
from .test_companies import hs_company, hs_company_get
from .test_contacts_inclusion_list import SYNC_FLAG as CONTACTS_FLAG


def linkedinbio_contains(word: str) -> dict:
    """The contacts' list filter (job title contains …) on the companies' ``linkedinbio``
    (companies have no job title): the companies whose bio contains ``word``."""
    branch = copy.deepcopy(CONTACTS_FLAG)
    condition = branch["filterBranches"][0]["filters"][0]
    condition["property"] = "linkedinbio"
    condition["operation"]["values"] = [word]
    return branch


def company_list(emulators, name: str = "Companies to Salesforce") -> str:
    return active_list(
        emulators, name, object_type="companies", filter_branch=linkedinbio_contains("sync")
    )


def widen(hs, list_id: str, word: str) -> None:
    """Someone changes the active list's filter in HubSpot: companies enter it unedited."""
    hs.crm.lists.lists_api.update_list_filters(
        list_id, {"filterBranch": linkedinbio_contains(word)}
    )


def hs_company_update(hs, company_id: str, **properties) -> None:
    hs.crm.companies.basic_api.update(company_id, CompanyInput(properties=properties))


def two_way(integration, prop: str) -> None:
    FieldMapping.objects.filter(
        integration=integration, object="companies", hubspot_property=prop
    ).update(rule="two_way")


def test_only_companies_in_the_list_push_and_receive_updates_and_none_raises_errors(
    companies, integration, emulators, sf_person, hs_person
):
    """Accounts still create their companies (Salesforce-originated creation, §6.5); later
    updates in both directions reach only the companies in the list; the others are counted
    as skipped, never as errors."""
    two_way(integration, "description")
    companies.settings(inclusion_list_id=company_list(emulators))
    inside = sf_person.Account.create({"Name": "Inside Co"})["id"]
    outside = sf_person.Account.create({"Name": "Outside Co"})["id"]
    run = companies()
    assert run.counts["created_in_hubspot"] == 2  # creation isn't held back
    hs_in = companies.link(salesforce_id=inside).hubspot_id
    hs_out = companies.link(salesforce_id=outside).hubspot_id
    hs_company_update(hs_person, hs_in, linkedinbio="please sync")  # joins the active list
    companies()

    for account in (inside, outside):
        sf_person.Account.update(account, {"Phone": "+1 555 0100"})
    run = companies()
    assert hs_company_get(hs_person, hs_in, "phone")["phone"] == "+1 555 0100"
    assert hs_company_get(hs_person, hs_out, "phone")["phone"] in (None, "")
    assert run.counts["skipped_outside_list"] >= 1

    for company in (hs_in, hs_out):
        hs_company_update(hs_person, company, description="Edited in HubSpot")
    run = companies()
    assert sf_person.Account.get(inside)["Description"] == "Edited in HubSpot"
    assert sf_person.Account.get(outside)["Description"] in (None, "")
    assert run.counts["skipped_outside_list"] >= 1
    assert not SyncError.objects.filter(object="companies").exists()


def test_a_company_outside_the_list_makes_no_account_until_it_enters_unedited(
    companies, integration, emulators, sf_person, hs_person
):
    """A company whose contact would make it create an account (§9) doesn't while it is
    outside the list; entering the list (the list's filter changed, the company unedited)
    syncs it, once. Choosing the list started nothing, and an unchanged list costs one
    HubSpot call a cycle, no Salesforce call."""
    list_id = company_list(emulators)
    company = hs_company(hs_person, name="Waiting Room Ltd", linkedinbio="Analyst")
    contact = hs_create(hs_person, email="wes@waiting.example", firstname="Wes", lastname="W")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.settings(inclusion_list_id=list_id)
    first, _ = companies.both()
    assert first.counts["skipped_outside_list"] >= 1
    assert not first.counts.get("created_in_salesforce")
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 0
    assert not SyncError.objects.filter(object="companies").exists()

    widen(hs_person, list_id, "Analyst")
    run = companies()
    assert run.counts["list_entrants"] == 1
    assert run.counts["created_in_salesforce"] == 1
    account = companies.link(hubspot_id=str(company)).salesforce_id
    assert sf_person.Account.get(account)["Name"] == "Waiting Room Ltd"
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account  # its private contact's
    assert not companies().counts.get("list_entrants")  # entered once, synced once
    idle = companies()
    # Accounts and contacts' accounts (one composite call); the two searches and the list.
    assert idle.calls == {"salesforce": 1, "hubspot": 3}, idle.calls


def test_a_linked_company_entering_the_list_gets_what_salesforce_held_back(
    companies, integration, emulators, sf_person, hs_person
):
    list_id = company_list(emulators)
    account = sf_person.Account.create({"Name": "Held Back Inc"})["id"]
    companies()  # no list yet: it syncs
    company = companies.link(salesforce_id=account).hubspot_id
    hs_company_update(hs_person, company, linkedinbio="Prospect")
    companies.settings(inclusion_list_id=list_id)
    companies()  # the list is read whole once: nobody joins by being chosen
    sf_person.Account.update(account, {"Phone": "+1 555 0142"})
    run = companies()
    assert run.counts["skipped_outside_list"] == 1
    assert hs_company_get(hs_person, company, "phone")["phone"] in (None, "")

    widen(hs_person, list_id, "Prospect")
    run = companies()
    assert run.counts["list_entrants"] == 1
    assert hs_company_get(hs_person, company, "phone")["phone"] == "+1 555 0142"


def test_a_salesforce_delete_leaves_a_company_outside_the_list(
    companies, integration, emulators, sf_person, hs_person
):
    companies.settings(salesforce_delete="delete", inclusion_list_id=company_list(emulators))
    account = sf_person.Account.create({"Name": "Kept Ltd"})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    sf_person.Account.delete(account)
    run = companies()
    assert run.counts["skipped_outside_list"] == 1
    assert hs_company_get(hs_person, company, "name")["name"] == "Kept Ltd"  # not archived
    assert not companies.links().filter(salesforce_id=account).exists()


def test_a_company_list_deleted_in_hubspot_holds_every_company_and_the_run_says_why(
    companies, integration, emulators, sf_person, hs_person
):
    two_way(integration, "description")
    list_id = company_list(emulators)
    companies.settings(inclusion_list_id=list_id)
    account = sf_person.Account.create({"Name": "Member Co"})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    hs_company_update(hs_person, company, linkedinbio="sync me")
    companies()
    hs_person.crm.lists.lists_api.remove(list_id)  # deleted in HubSpot; the sync wasn't told
    hs_company_update(hs_person, company, description="Gone list edit")
    sf_person.Account.update(account, {"Phone": "+1 555 0177"})
    newcomer = sf_person.Account.create({"Name": "Newcomer"})["id"]
    run = companies()
    assert f"Companies tab (HubSpot list {list_id}) no longer exists in HubSpot" in run.message
    assert run.counts["skipped_outside_list"] >= 1
    assert sf_person.Account.get(account)["Description"] in (None, "")
    assert hs_company_get(hs_person, company, "phone")["phone"] in (None, "")
    assert companies.link(salesforce_id=newcomer)  # Salesforce creation still creates
    assert inclusion_list_missing(integration=integration, object_name="companies") == list_id
    assert inclusion_list_missing(integration=integration) is None  # the contacts' is fine
    assert not SyncError.objects.filter(object="companies").exists()

    companies.settings(inclusion_list_id=None)  # no list: everyone syncs again
    assert inclusion_list_missing(integration=integration, object_name="companies") is None
    hs_company_update(hs_person, company, description="Back again")
    run = companies()
    assert run.message == ""
    assert sf_person.Account.get(account)["Description"] == "Back again"


def test_only_an_active_company_list_can_be_chosen(companies, integration, emulators, hs_person):
    contacts_list = active_list(emulators, "People")
    with pytest.raises(SettingsError) as refused:
        companies.settings(inclusion_list_id=contacts_list)
    assert "isn't a company list" in refused.value.errors["inclusion_list_id"]
    static = hs_person.crm.lists.lists_api.create(
        {"name": "Hand-picked companies", "objectTypeId": "0-2", "processingType": "MANUAL"}
    ).list.list_id
    with pytest.raises(SettingsError) as refused:
        companies.settings(inclusion_list_id=static)
    assert "static list" in refused.value.errors["inclusion_list_id"]
    with pytest.raises(SettingsError) as refused:
        companies.settings(inclusion_list_id="987654")
    assert "active company lists" in refused.value.errors["inclusion_list_id"]
    good = company_list(emulators)
    companies.settings(inclusion_list_id=int(good))
    assert companies.options["inclusion_list_id"] == good
    # The contacts' list still takes contact lists only.
    with pytest.raises(SettingsError):
        object_settings_update(
            integration=integration, object_name="contacts", changes={"inclusion_list_id": good}
        )


def test_the_account_creation_conditions_still_follow_the_contact_list(
    companies, integration, emulators, sf_person, hs_person
):
    """A company in the company list still creates an account only under §9's conditions,
    which look at the contacts (and the contacts' list): alone, it creates none."""
    companies.settings(inclusion_list_id=company_list(emulators))
    company = hs_company(hs_person, name="Listed Alone", linkedinbio="sync")
    run, _ = companies.both()
    assert run.counts["skipped_no_contact"] == 1
    assert not RecordLink.objects.filter(object="companies", hubspot_id=company).exists()
