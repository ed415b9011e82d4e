"""Companies ⇄ accounts (spec §9), end to end through the official clients and emulators."""

from __future__ import annotations

import pytest
from django.utils import timezone
from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyCreate
from hubspot.crm.properties import PropertyCreate

from emulators.testing import advance_clocks, salesforce_client
from sync_engine.models import (
    FieldMapping,
    RecordLink,
    ResyncRequest,
    SchemaCache,
    SyncError,
)
from sync_engine.services import (
    object_settings_update,
    object_sync_get_or_create,
    record_resync,
    sync_errors_request_resync,
)
from sync_engine.sync.cycle import sync_cycle_run

from ..conftest import SF_TOKEN
from .helpers import hs_create, hs_get, hs_update, refuse_associations


def hs_company(hs, **properties) -> str:
    return hs.crm.companies.basic_api.create(CompanyCreate(properties=properties)).id


def hs_company_get(hs, company_id, *props) -> dict:
    return hs.crm.companies.basic_api.get_by_id(company_id, properties=list(props)).properties


def hs_company_ids(hs) -> list[str]:
    return [c.id for c in hs.crm.companies.basic_api.get_page(limit=100).results]


def test_company_sync_starts_off_and_an_off_cycle_reads_nothing(integration, sf_person):
    row = object_sync_get_or_create(integration=integration, object_name="companies")
    assert row.enabled is False
    sf_person.Account.create({"Name": "Off Corp"})
    run = sync_cycle_run(integration=integration, object_name="companies")
    assert run.message == "Sync is off for this object."
    assert not RecordLink.objects.filter(object="companies").exists()


def test_a_new_account_creates_a_company_and_an_idle_cycle_writes_nothing(
    companies, sf_person, hs_person
):
    account = sf_person.Account.create({"Name": "Globex", "Industry": "Energy"})["id"]
    run = companies()
    assert run.counts["created_in_hubspot"] == 1
    link = companies.link(salesforce_id=account)
    props = hs_company_get(hs_person, link.hubspot_id, "name", "salesforce_account_id_sync")
    assert props["name"] == "Globex" and props["salesforce_account_id_sync"] == account

    sf_person.Account.update(account, {"Name": "Globex Corporation"})
    run = companies()
    assert run.counts["updated_in_hubspot"] == 1
    assert hs_company_get(hs_person, link.hubspot_id, "name")["name"] == "Globex Corporation"
    # A two-way mapping carries HubSpot's edit back.
    FieldMapping.objects.filter(object="companies", hubspot_property="numberofemployees").update(
        rule="two_way"
    )
    hs_person.crm.companies.basic_api.update(
        link.hubspot_id, CompanyInput(properties={"numberofemployees": "42"})
    )
    run = companies()
    assert run.counts["updated_in_salesforce"] == 1
    assert sf_person.Account.get(account)["NumberOfEmployees"] == 42
    companies()
    idle = companies()
    assert not any(
        idle.counts.get(k)
        for k in ("created_in_hubspot", "updated_in_hubspot", "updated_in_salesforce")
    )
    # Accounts + contacts' AccountId in one composite call; company and contact searches.
    assert idle.calls == {"salesforce": 1, "hubspot": 2}


def test_accounts_from_before_the_switch_come_over_with_the_first_cycle(
    integration, sf_person, hs_person
):
    """Unlike HubSpot's own integration (spec §9: existing accounts need an import or an
    edit), the first cycle backfills, as the contact sync does; the Companies tab says so."""
    account = sf_person.Account.create({"Name": "Before The Switch"})["id"]
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    run = sync_cycle_run(integration=integration, object_name="companies")
    assert run.counts["created_in_hubspot"] == 1
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    assert hs_company_get(hs_person, company, "name")["name"] == "Before The Switch"


def test_the_website_becomes_the_company_domain_and_a_domain_becomes_a_website(
    companies, sf_person, hs_person
):
    """The default mapping pairs HubSpot's domain (a host name, which HubSpot matches
    contacts and duplicates on) with the account's Website (a URL)."""
    account = sf_person.Account.create(
        {"Name": "Web Co", "Website": "https://www.web.example/about"}
    )["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    assert hs_company_get(hs_person, company, "domain")["domain"] == "web.example"
    run = companies()
    assert not run.counts.get("updated_in_hubspot") and not run.counts.get("updated_in_salesforce")
    assert sf_person.Account.get(account)["Website"] == "https://www.web.example/about"

    blank = sf_person.Account.create({"Name": "No Site"})["id"]
    companies()
    other = companies.link(salesforce_id=blank).hubspot_id
    hs_person.crm.companies.basic_api.update(
        other, CompanyInput(properties={"domain": "nosite.example"})
    )
    companies()  # Salesforce is blank, so HubSpot's domain fills it
    assert sf_person.Account.get(blank)["Website"] == "https://nosite.example"
    run = companies()
    assert not run.counts.get("updated_in_hubspot") and not run.counts.get("updated_in_salesforce")
    assert hs_company_get(hs_person, other, "domain")["domain"] == "nosite.example"


def test_salesforce_creates_can_be_turned_off(companies, sf_person, hs_person):
    companies.settings(salesforce_creates=False)
    sf_person.Account.create({"Name": "Initech"})
    run = companies()
    assert run.counts["skipped_create_disabled"] == 1 and not companies.links().exists()


def test_an_account_matches_the_company_of_its_contacts_never_by_domain(
    companies, sf_person, hs_person
):
    # A company with the same domain but no shared contacts must not be taken.
    decoy = hs_company(hs_person, name="Decoy", domain="acme.example")
    company = hs_company(hs_person, name="Acme (HubSpot)")
    contact = hs_create(hs_person, email="wile@acme.example", firstname="Wile", lastname="E")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.settings(hubspot_creates=False)  # so the company doesn't create its own account
    companies.both()  # the contact syncs as a Salesforce contact
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    account = sf_person.Account.create({"Name": "Acme", "Website": "https://acme.example"})["id"]
    sf_person.Contact.update(sf_contact, {"AccountId": account})
    run = companies()
    assert run.counts["matched"] == 1 and run.counts.get("created_in_hubspot", 0) == 0
    assert companies.link(salesforce_id=account).hubspot_id == str(company)
    assert not companies.links().filter(hubspot_id=decoy).exists()
    assert sorted(hs_company_ids(hs_person)) == sorted([str(decoy), str(company)])


def test_a_company_creates_an_account_only_when_a_contact_syncs_as_a_salesforce_contact(
    companies, sf_person, hs_person
):
    lonely = hs_company(hs_person, name="No Contacts Ltd")
    with_contact = hs_company(hs_person, name="Private Contact Inc")
    contact = hs_create(hs_person, email="pat@private.example", firstname="Pat", lastname="P")
    first, _ = companies.both()  # the contact becomes a Salesforce contact with no account
    assert first.counts["skipped_no_contact"] == 2
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=with_contact)  # fmt: skip
    run = companies()
    assert run.counts["created_in_salesforce"] == 1
    account = companies.link(hubspot_id=str(with_contact)).salesforce_id
    assert sf_person.Account.get(account)["Name"] == "Private Contact Inc"
    # The "private" contact now belongs to the new account.
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account
    assert not companies.links().filter(hubspot_id=str(lonely)).exists()


def test_a_further_company_of_a_contact_already_on_an_account_creates_no_account(
    companies, sf_person, hs_person
):
    """Without an inclusion list only a "private" contact (no account) makes its company
    create an account (spec §9): a partner company of someone at Acme stays in HubSpot."""
    account = sf_person.Account.create({"Name": "Acme"})["id"]
    sf_contact = sf_person.Contact.create(
        {"LastName": "Ann", "Email": "ann@acme.example", "AccountId": account}
    )["id"]
    companies.both()
    companies.both()  # the contact links, then its account's company association
    contact = RecordLink.objects.get(object="contacts", salesforce_id=sf_contact).hubspot_id
    partner = hs_company(hs_person, name="Partner Agency")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=partner)  # fmt: skip
    run = companies()
    assert run.counts["skipped_no_contact"] == 1 and not run.counts.get("created_in_salesforce")
    assert [r["Name"] for r in sf_person.query("SELECT Name FROM Account")["records"]] == ["Acme"]
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account
    assert not companies.links().filter(hubspot_id=str(partner)).exists()


def test_leads_only_never_create_an_account_but_a_manual_sync_does(
    companies, integration, sf_person, hs_person
):
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "lead"}
    )
    company = hs_company(hs_person, name="Leads Only")
    contact = hs_create(hs_person, email="lee@leads.example", firstname="Lee", lastname="L")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.both()
    companies()
    assert not companies.links().exists()
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 0

    record_resync(integration=integration, object_name="companies", record_key=f"hubspot:{company}")
    # HubSpot failing the read (after the client's retries) keeps the request for next time.
    companies.emulators.hubspot.app.faults.add(
        path=r"/crm/v3/objects/companies/batch/read", status=503, times=4
    )
    run = sync_cycle_run(integration=integration, object_name="companies")
    assert run.status == "failed" and "Temporary failure" in run.message
    assert ResyncRequest.objects.exists()
    run = companies()
    assert run.counts["created_in_salesforce"] == 1
    assert companies.link(hubspot_id=str(company))
    assert not ResyncRequest.objects.exists()


def test_account_deletes_follow_the_setting_and_company_deletes_never_delete_accounts(
    companies, sf_person, hs_person
):
    kept = sf_person.Account.create({"Name": "Kept"})["id"]
    gone = sf_person.Account.create({"Name": "Gone"})["id"]
    companies()
    kept_company = companies.link(salesforce_id=kept).hubspot_id
    gone_company = companies.link(salesforce_id=gone).hubspot_id

    sf_person.Account.delete(kept)  # default: nothing happens in HubSpot
    companies()
    assert not companies.links().filter(salesforce_id=kept).exists()
    assert hs_company_get(hs_person, kept_company, "name")["name"] == "Kept"

    companies.settings(salesforce_delete="delete")
    sf_person.Account.delete(gone)
    run = companies()
    assert run.counts["deleted_in_hubspot"] == 1
    assert str(gone_company) not in hs_company_ids(hs_person)

    survivor = sf_person.Account.create({"Name": "Survivor"})["id"]
    companies()
    company = companies.link(salesforce_id=survivor).hubspot_id
    hs_person.crm.companies.basic_api.archive(company)
    companies()
    assert sf_person.Account.get(survivor)["Name"] == "Survivor"  # never deleted
    sf_person.Account.update(survivor, {"Name": "Survivor 2"})
    companies()  # Salesforce changes it: its company is created again
    again = companies.link(salesforce_id=survivor).hubspot_id
    assert again != company
    assert hs_company_get(hs_person, again, "name")["name"] == "Survivor 2"


def test_owner_is_two_way_and_a_new_account_without_a_valid_owner_gets_the_integration_user(
    companies, integration, sf_person, hs_person, emulators
):
    sf_user = emulators.salesforce.app.run_action(
        "create_user", first_name="Sanne", last_name="Visser", email="sanne@example.com"
    )
    hs = emulators.hubspot.app
    sanne = hs.run_action(
        "create_owner", email="sanne@example.com", first_name="Sanne", last_name="Visser"
    )["id"]
    stranger = hs.run_action(
        "create_owner", email="stranger@example.com", first_name="No", last_name="Match"
    )["id"]
    account = sf_person.Account.create({"Name": "Owned", "OwnerId": sf_user})["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    assert hs_company_get(hs_person, company, "hubspot_owner_id")["hubspot_owner_id"] == sanne
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"hubspot_owner_id": stranger})
    )
    run = companies()
    assert run.counts["owner_resets"] == 1
    assert hs_company_get(hs_person, company, "hubspot_owner_id")["hubspot_owner_id"] == sanne

    contact = hs_create(hs_person, email="own@owner.example", firstname="O", lastname="W")
    new_company = hs_company(hs_person, name="Unowned", hubspot_owner_id=stranger)
    companies.both()
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=new_company)  # fmt: skip
    companies()
    created = companies.link(hubspot_id=str(new_company)).salesforce_id
    assert sf_person.Account.get(created)["OwnerId"] == integration.salesforce_connection.user_id


def test_contact_account_follows_to_hubspot_and_waits_for_the_account(
    companies, sf_person, hs_person
):
    companies.settings(salesforce_creates=False)
    account = sf_person.Account.create({"Name": "Later Co"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Wait", "Email": "wait@later.example", "AccountId": account}
    )["id"]
    companies("contacts")
    run = companies()
    assert run.counts["waiting_for_account"] == 1
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account" and error.salesforce_id == contact
    assert error.record_label == "Wait <wait@later.example>"

    companies.settings(salesforce_creates=True)
    sf_person.Account.update(account, {"Name": "Later Co (now)"})
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == company
    error.refresh_from_db()
    assert error.resolved_at is not None


def contact_on_the_first_of_two_accounts(companies, sf_person) -> tuple[str, str, str, str]:
    """Accounts First and Second, a contact on First, all synced: (first, second, contact,
    its HubSpot id)."""
    first = sf_person.Account.create({"Name": "First"})["id"]
    second = sf_person.Account.create({"Name": "Second"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Mover", "Email": "mover@x.example", "AccountId": first}
    )["id"]
    companies.both()
    companies()
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    return first, second, contact, hs_contact


def test_hubspot_primary_company_sets_the_contact_account(companies, sf_person, hs_person):
    first, second, contact, hs_contact = contact_on_the_first_of_two_accounts(companies, sf_person)
    first_company = companies.link(salesforce_id=first).hubspot_id
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == (
        first_company
    )
    second_company = companies.link(salesforce_id=second).hubspot_id
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=second_company, type_id=1)  # fmt: skip
    run = companies()
    assert run.counts["associations_to_salesforce"] == 1
    assert sf_person.Contact.get(contact)["AccountId"] == second
    idle = companies()
    assert not idle.counts.get("associations_to_salesforce")
    assert not idle.counts.get("associations_to_hubspot")


def test_a_salesforce_account_move_is_not_undone_by_a_hubspot_edit_of_the_contact(
    companies, emulators, sf_person, hs_person
):
    """A rep moves the contact to another account while someone edits the HubSpot contact:
    the cycle moves the company in HubSpot, and the contact's HubSpot row, read before that
    move with the old company, doesn't read as a HubSpot move putting the account back."""
    _, second, contact, hs_contact = contact_on_the_first_of_two_accounts(companies, sf_person)
    companies.cycle()

    hs_update(hs_person, hs_contact, jobtitle="Manager")
    sf_person.Contact.update(contact, {"AccountId": second})
    advance_clocks(emulators, 61)
    companies.cycle()
    second_company = companies.link(salesforce_id=second).hubspot_id
    company = hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"]
    assert company == second_company
    assert sf_person.Contact.get(contact)["AccountId"] == second
    advance_clocks(emulators, 61)
    companies.cycle()
    assert sf_person.Contact.get(contact)["AccountId"] == second


def contact_on_an_account(companies, sf_person, hs_person, name: str):
    """A Salesforce contact on an account, both synced: (contact, account, their HubSpot
    ids)."""
    account = sf_person.Account.create({"Name": f"{name} Inc"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": name, "Email": f"{name.lower()}@acct.example", "AccountId": account}
    )["id"]
    companies.both()
    companies()
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    company = companies.link(salesforce_id=account).hubspot_id
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == company
    return contact, account, hs_contact, company


def test_deleting_a_company_in_hubspot_leaves_its_contacts_on_their_account(
    companies, sf_person, hs_person
):
    contact, account, hs_contact, company = contact_on_an_account(
        companies, sf_person, hs_person, "Kept"
    )
    hs_person.crm.companies.basic_api.archive(company)
    companies.both()
    assert sf_person.Contact.get(contact)["AccountId"] == account
    # HubSpot clears a deleted company from its contacts' primary company: still a delete,
    # not the contact taken off the company, so Salesforce keeps the account (spec §9).
    hs_update(hs_person, hs_contact, associatedcompanyid="")
    run, _ = companies.both()
    assert not run.counts.get("associations_to_salesforce")
    assert sf_person.Contact.get(contact)["AccountId"] == account
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account"
    assert error.record_key == f"salesforce:{contact}"
    idle, _ = companies.both()
    assert not idle.counts.get("associations_to_salesforce")

    # Edited in Salesforce, the account gets a company again, and the contact is on it.
    sf_person.Account.update(account, {"Name": "Kept Inc (again)"})
    companies()
    again = companies.link(salesforce_id=account).hubspot_id
    assert again != company
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == again
    assert sf_person.Contact.get(contact)["AccountId"] == account
    error.refresh_from_db()
    assert error.resolved_at is not None

    # Taking the contact off its (existing) company still takes it off the account.
    hs_update(hs_person, hs_contact, associatedcompanyid="")
    companies.both()
    assert sf_person.Contact.get(contact)["AccountId"] is None


def move_to_a_company_without_account(companies, hs_person, hs_contact) -> str:
    """HubSpot moves the contact to a new company that makes no account by itself (its only
    contact is on another account already): the new company's id."""
    beta = hs_company(hs_person, name="Beta (HubSpot only)")
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=beta, type_id=1)  # fmt: skip
    return beta


def test_a_contact_moved_to_a_company_without_an_account_waits_with_an_error_until_it_has_one(
    companies, sf_person, hs_person, integration
):
    contact, account, hs_contact, _ = contact_on_an_account(
        companies, sf_person, hs_person, "Waits"
    )
    beta = move_to_a_company_without_account(companies, hs_person, hs_contact)
    run, _ = companies.both()
    assert run.counts["waiting_for_account"] == 1
    assert sf_person.Contact.get(contact)["AccountId"] == account  # nothing cleared
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account" and error.direction == "to_salesforce"
    assert error.record_key == f"hubspot:{hs_contact}" and error.salesforce_id == contact
    assert f"Company {beta} hasn't synced to Salesforce yet" in error.message
    assert "'Sync a company' on the Companies tab" in error.message

    # Its retry finds the contact still waiting: the error stays.
    SyncError.objects.filter(pk=error.pk).update(next_retry_at=timezone.now())
    companies()
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 2

    # A manual Sync of the company creates its account: the contact follows, the error ends.
    record_resync(integration=integration, object_name="companies", record_key=f"hubspot:{beta}")
    run = companies()
    beta_account = companies.link(hubspot_id=str(beta)).salesforce_id
    assert sf_person.Contact.get(contact)["AccountId"] == beta_account
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    idle, _ = companies.both()
    assert not idle.counts.get("associations_to_salesforce")


def test_a_contact_moved_back_from_a_company_without_an_account_ends_its_wait(
    companies, sf_person, hs_person
):
    contact, account, hs_contact, company = contact_on_an_account(
        companies, sf_person, hs_person, "Back"
    )
    move_to_a_company_without_account(companies, hs_person, hs_contact)
    companies.both()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_account"

    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=company, type_id=1)  # fmt: skip
    run, _ = companies.both()
    assert not run.counts.get("associations_to_salesforce")  # nothing to write
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert sf_person.Contact.get(contact)["AccountId"] == account


def test_a_mapped_property_deleted_in_hubspot_is_a_mapping_error(
    companies, integration, sf_person, hs_person
):
    hs_person.crm.properties.core_api.create(
        "companies",
        PropertyCreate(name="sf_sic", label="SIC", type="string", field_type="text",
                       group_name="companyinformation"),
    )  # fmt: skip
    FieldMapping.objects.create(integration=integration, object="companies",
                                hubspot_property="sf_sic", salesforce_field="Sic",
                                rule="always_use_salesforce", hubspot_type="string",
                                hubspot_field_type="text", salesforce_type="string")  # fmt: skip
    SchemaCache.objects.filter(object="companies").delete()
    account = sf_person.Account.create({"Name": "Globex", "Sic": "one"})["id"]
    companies()
    hs_person.crm.properties.core_api.archive("companies", "sf_sic")
    sf_person.Account.update(account, {"Sic": "two"})
    companies()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.error_type == "missing_property" and "sf_sic" in error.message


def refuse_account_changes(emulators) -> str:
    """A Salesforce validation rule refusing any change of a contact's account (its name)."""
    return emulators.salesforce.app.run_action(
        "add_validation_rule", object="Contact", field="AccountId", operator="changed",
        message="Contacts may not change account via API", error_field="AccountId",
    )  # fmt: skip


def retry_now(emulators, rule: str) -> None:
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    SyncError.objects.filter(object="companies").update(next_retry_at=timezone.now())


def refused_move(companies, sf_person, emulators, name: str) -> tuple[str, str, str, str]:
    """A Salesforce contact on one account, synced, then moved in HubSpot to the other
    account's company while a validation rule refuses account changes; one company cycle
    tries it. (contact id, the other account id, the HubSpot contact id, the rule's name.)"""
    first = sf_person.Account.create({"Name": f"First {name}"})["id"]
    second = sf_person.Account.create({"Name": f"Second {name}"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": name, "Email": f"{name}@x.example", "AccountId": first}
    )["id"]
    companies.both()
    companies()
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    rule = refuse_account_changes(emulators)
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=companies.link(salesforce_id=second).hubspot_id,
                        type_id=1)  # fmt: skip
    companies()
    return contact, second, hs_contact, rule


def test_a_refused_primary_company_move_is_an_error_and_its_retry_moves_the_contact(
    companies, sf_person, hs_person, emulators
):
    contact, second, hs_contact, rule = refused_move(companies, sf_person, emulators, "mover")
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.record_key == f"hubspot:{hs_contact}" and error.salesforce_type == "Contact"
    assert "Contacts may not change account via API" in error.message

    retry_now(emulators, rule)
    run = companies()
    assert run.counts["associations_to_salesforce"] == 1
    assert sf_person.Contact.get(contact)["AccountId"] == second
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_the_error_of_a_record_deleted_before_its_retry_ends(
    companies, sf_person, hs_person, emulators
):
    _, _, hs_contact, rule = refused_move(companies, sf_person, emulators, "gone")
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    hs_person.crm.contacts.basic_api.archive(hs_contact)
    retry_now(emulators, rule)
    companies()
    error.refresh_from_db()
    assert error.resolved_at is not None and error.next_retry_at is None


def test_a_private_contact_salesforce_refuses_the_new_account_keeps_an_error_until_it_lands(
    companies, sf_person, hs_person, emulators
):
    company = hs_company(hs_person, name="Private Contact Inc")
    contact = hs_create(hs_person, email="pat@private.example", firstname="Pat", lastname="P")
    companies.both()
    rule = refuse_account_changes(emulators)
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    run = companies()
    assert run.counts["created_in_salesforce"] == 1 and not run.counts.get(
        "accounts_set_on_contacts"
    )
    account = companies.link(hubspot_id=str(company)).salesforce_id
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] is None
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.record_key == f"hubspot:{contact}" and error.salesforce_type == "Contact"

    retry_now(emulators, rule)
    companies()
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account
    error.refresh_from_db()
    assert error.resolved_at is not None


def moved_in_hubspot_between_cycles(companies, sf_person, name: str) -> tuple[str, str]:
    """A Salesforce contact on one account, synced by two cycles over both pairs, then moved
    to the other account's company in HubSpot: (contact id, the other account id)."""
    first = sf_person.Account.create({"Name": f"First {name}"})["id"]
    second = sf_person.Account.create({"Name": f"Second {name}"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": name, "Email": f"{name}@x.example", "AccountId": first}
    )["id"]
    companies.cycle()
    companies.cycle()
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    second_company = companies.link(salesforce_id=second).hubspot_id
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=second_company, type_id=1)  # fmt: skip
    return contact, second


def test_in_a_cycle_over_both_pairs_the_contact_search_serves_the_company_sync(
    companies, sf_person, hs_person
):
    """The contact sync's HubSpot search also reads each contact's primary company and hands
    it to the company sync after it: one contact search a cycle, not two."""
    contact, second = moved_in_hubspot_between_cycles(companies, sf_person, "shared")

    runs, operations = companies.cycle()

    assert runs["companies"].counts["associations_to_salesforce"] == 1
    assert sf_person.Contact.get(contact)["AccountId"] == second
    assert operations.count("contacts.search") == 1, operations
    _, idle = companies.cycle()
    assert idle.count("contacts.search") == 1, idle
    assert sf_person.Contact.get(contact)["AccountId"] == second


def test_a_company_create_lost_after_it_landed_is_not_duplicated(
    companies, sf_person, hs_person, emulators
):
    account = sf_person.Account.create({"Name": "Crashy"})["id"]
    emulators.hubspot.app.faults.add(
        path="/crm/v3/objects/companies/batch/upsert",
        apply_then_fail=True,
        error_code="BAD_GATEWAY",
        times=4,  # every retry of this cycle: it fails with the company created, unlinked
    )
    with pytest.raises(AssertionError):
        companies()
    companies()
    assert len(hs_company_ids(hs_person)) == 1
    assert companies.link(salesforce_id=account)


def test_an_account_create_lost_after_it_landed_is_not_duplicated(
    companies, sf_person, hs_person, emulators
):
    company = hs_company(hs_person, name="Crash Account")
    contact = hs_create(hs_person, email="c@crash.example", firstname="C", lastname="C")
    companies.settings(hubspot_creates=False)
    companies.both()
    companies.settings(hubspot_creates=True)
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    emulators.salesforce.app.faults.add(
        path="/composite/sobjects/Account",
        apply_then_fail=True,
        error_code="SERVER_UNAVAILABLE",
        times=4,
    )
    with pytest.raises(AssertionError):
        companies()  # the account landed, every answer was lost: the cycle fails unlinked
    companies()
    companies()
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 1
    assert companies.link(hubspot_id=str(company))


def test_contacts_run_before_companies_and_companies_before_deals():
    """The company sync sees the people linked this cycle and the contact changes the contact
    sync read; accounts are linked before opportunities need them."""
    from sync_engine.sync.registry import PAIR_CLASSES as PAIRS

    assert list(PAIRS)[:3] == ["contacts", "companies", "deals"]


def test_a_salesforce_contact_moving_account_moves_its_hubspot_company(
    companies, sf_person, hs_person
):
    first = sf_person.Account.create({"Name": "Old Home"})["id"]
    second = sf_person.Account.create({"Name": "New Home"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Mover", "Email": "move@home.example", "AccountId": first}
    )["id"]
    companies.both()
    companies()
    hs_contact = RecordLink.objects.get(object="contacts", salesforce_id=contact).hubspot_id
    second_company = companies.link(salesforce_id=second).hubspot_id

    sf_person.Contact.update(contact, {"AccountId": second})
    run = companies()
    assert run.counts["associations_to_hubspot"] == 2  # one removed, one added
    page = hs_person.crm.associations.v4.basic_api.get_page("contacts", hs_contact, "companies")
    assert [str(a.to_object_id) for a in page.results] == [second_company]
    props = hs_get(hs_person, hs_contact, "associatedcompanyid")
    assert props["associatedcompanyid"] == second_company

    sf_person.Contact.update(contact, {"AccountId": None})
    companies()
    page = hs_person.crm.associations.v4.basic_api.get_page("contacts", hs_contact, "companies")
    assert page.results == []
    idle = companies()
    assert not idle.counts.get("associations_to_hubspot")
    assert not idle.counts.get("associations_to_salesforce")


def test_a_refused_contact_association_is_an_error_on_that_contact_alone(
    companies, sf_person, hs_person, emulators
):
    account = sf_person.Account.create({"Name": "Crowded"})["id"]
    people = [
        sf_person.Contact.create({"LastName": name, "Email": f"{name}@crowded.example"})["id"]
        for name in ("full", "fine")
    ]
    companies.both()
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    for contact in people:
        sf_person.Contact.update(contact, {"AccountId": account})
    # HubSpot refuses the batch because one contact is at its association limit: the batch,
    # then that contact alone, come back 400.
    refuse_associations(emulators, "contacts", "companies")
    run = companies()
    assert run.status == "succeeded", run.message
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.error_type == "association_limit" and error.salesforce_type == "Contact"
    assert error.record_label in ("full <full@crowded.example>", "fine <fine@crowded.example>")
    refused = error.salesforce_id
    (landed,) = set(people) - {refused}
    hs_of = {
        c: RecordLink.objects.get(object="contacts", salesforce_id=c).hubspot_id for c in people
    }
    assert hs_get(hs_person, hs_of[landed], "associatedcompanyid")["associatedcompanyid"] == company
    assert not hs_get(hs_person, hs_of[refused], "associatedcompanyid").get("associatedcompanyid")

    # Room made in HubSpot, the admin resyncs: the association lands and the error clears.
    sync_errors_request_resync(integration=companies.integration, error_ids=[error.pk])
    companies()
    assert (
        hs_get(hs_person, hs_of[refused], "associatedcompanyid")["associatedcompanyid"] == company
    )
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_with_a_contact_inclusion_list_only_its_members_make_companies_create_accounts(
    companies, integration, emulators, sf_person, hs_person
):
    # Both contacts exist in Salesforce (as contacts, linked); only one is in the list.
    inside, outside, hs_in, hs_out = one_contact_in_the_list(
        companies, integration, emulators, sf_person, hs_person
    )
    in_company = hs_company(hs_person, name="Segment In")
    out_company = hs_company(hs_person, name="Segment Out")
    for contact, company in ((hs_in, in_company), (hs_out, out_company)):
        companies.hs_action("associate", from_type="contacts", from_id=contact,
                            to_type="companies", to_id=company)  # fmt: skip
    companies()
    assert companies.link(hubspot_id=str(in_company))
    assert not companies.links().filter(hubspot_id=str(out_company)).exists()


def test_with_the_contact_inclusion_list_deleted_in_hubspot_no_contact_makes_an_account(
    companies, integration, emulators, sf_person, hs_person
):
    """Gone from HubSpot, the list holds everyone (nobody counts as in it): the companies of
    its former members create no account, and both pairs' cycles say why instead of failing
    on HubSpot's 404."""
    from sync_engine.object_settings import settings_for
    from sync_engine.services import object_sync_get_or_create

    _, _, hs_in, _ = one_contact_in_the_list(
        companies, integration, emulators, sf_person, hs_person
    )
    contacts_row = object_sync_get_or_create(integration=integration, object_name="contacts")
    list_id = settings_for("contacts", contacts_row.options).inclusion_list_id
    hs_person.crm.lists.lists_api.remove(list_id)
    company = hs_company(hs_person, name="Segment Gone")
    companies.hs_action("associate", from_type="contacts", from_id=hs_in,
                        to_type="companies", to_id=company)  # fmt: skip
    runs, _ = companies.cycle()  # both succeeded (checked there)
    assert not companies.links().filter(hubspot_id=str(company)).exists()
    for run in runs.values():
        assert f"(HubSpot list {list_id}) no longer exists in HubSpot" in run.message


def test_without_an_external_id_a_lost_account_create_is_found_not_duplicated(
    companies, integration, sf_person, hs_person, emulators
):
    company = hs_company(hs_person, name="No External Id")
    contact = hs_create(hs_person, email="n@noext.example", firstname="N", lastname="E")
    companies.settings(hubspot_creates=False)
    companies.both()
    # An org without HubSpot_Id__c on Account: plain creates, never retried.
    cache = SchemaCache.objects.get(integration=integration, system="salesforce", object="Account")
    cache.data = [f for f in cache.data if f["name"] != "HubSpot_Id__c"]
    cache.save()
    companies.settings(hubspot_creates=True)
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    emulators.salesforce.app.faults.add(
        path="/composite/sobjects$", method="POST", apply_then_fail=True, drop=True, times=1
    )
    with pytest.raises(AssertionError):
        companies()  # the account landed, the answer was lost
    run = companies()
    assert run.counts["matched"] == 1 and not run.counts.get("created_in_salesforce")
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 1
    assert hs_company_ids(hs_person) == [str(company)]
    assert companies.link(hubspot_id=str(company))
    assert not companies().counts.get("created_in_salesforce")


def test_without_an_external_id_the_integration_users_own_account_gets_its_own_company(
    companies, integration, emulators, hs_person
):
    """Lost creates are looked for only among the creates the sync noted it was sending: an
    account someone makes while logged in as the integration user is not linked to an
    unrelated company of the same name (whose data it would overwrite)."""
    companies()
    cache = SchemaCache.objects.get(integration=integration, system="salesforce", object="Account")
    cache.data = [f for f in cache.data if f["name"] != "HubSpot_Id__c"]
    cache.save()
    bakery = hs_company(hs_person, name="Acme", description="Acme Bakery, Lyon")
    as_integration_user = salesforce_client(emulators, token=SF_TOKEN)
    account = as_integration_user.Account.create(
        {"Name": "Acme", "Description": "Acme Rockets, Arizona"}
    )["id"]
    run = companies()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    assert companies.link(salesforce_id=account).hubspot_id != str(bakery)
    assert hs_company_get(hs_person, bakery, "description")["description"] == "Acme Bakery, Lyon"


def test_an_external_id_naming_a_company_keyed_to_another_account_is_not_trusted(
    companies, sf_person, hs_person
):
    other = sf_person.Account.create({"Name": "Other"})["id"]
    companies()
    taken = companies.link(salesforce_id=other).hubspot_id
    companies.links().delete()  # e.g. the link was lost; the company still holds its key
    # Another portal's company id that happens to exist here too.
    stranger = sf_person.Account.create({"Name": "Stranger", "HubSpot_Id__c": taken})["id"]
    companies()
    assert companies.link(salesforce_id=stranger).hubspot_id != taken


def test_past_the_shared_read_cap_the_company_sync_searches_contacts_itself(
    companies, sf_person, hs_person, monkeypatch
):
    from sync_engine.sync import contacts as contact_sync

    monkeypatch.setattr(contact_sync, "SHARED_CONTACTS_MAX", 0)  # every read is "too big"
    contact, second = moved_in_hubspot_between_cycles(companies, sf_person, "capped")

    runs, operations = companies.cycle()

    assert runs["companies"].counts["associations_to_salesforce"] == 1
    assert sf_person.Contact.get(contact)["AccountId"] == second
    assert operations.count("contacts.search") == 2, operations


def test_with_salesforce_creates_off_an_account_still_matches_the_company_of_its_contacts(
    companies, sf_person, hs_person
):
    """The setting stops a new account creating a company, not matching an existing one."""
    company = hs_company(hs_person, name="Acme (HubSpot)")
    contact = hs_create(hs_person, email="wile@acme.example", firstname="Wile", lastname="E")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.settings(hubspot_creates=False, salesforce_creates=False)
    companies.both()
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    account = sf_person.Account.create({"Name": "Acme", "Industry": "Energy"})["id"]
    lonely = sf_person.Account.create({"Name": "No Contacts Ltd"})["id"]
    sf_person.Contact.update(sf_contact, {"AccountId": account})
    run = companies()
    assert run.counts["matched"] == 1 and run.counts["skipped_create_disabled"] == 1
    assert not run.counts.get("created_in_hubspot")
    assert companies.link(salesforce_id=account).hubspot_id == str(company)
    assert hs_company_get(hs_person, company, "industry")["industry"] == "Energy"
    assert not companies.links().filter(salesforce_id=lonely).exists()
    assert hs_get(hs_person, contact, "associatedcompanyid")["associatedcompanyid"] == company
    assert not SyncError.objects.filter(object="companies", resolved_at__isnull=True).exists()


def test_with_salesforce_creates_off_a_contact_moving_onto_an_unlinked_account_links_it(
    companies, sf_person, hs_person
):
    """The account was read (and not created) before the contact moved onto it: the move
    doesn't touch the account, so the contact waiting for it has the account looked at."""
    company = hs_company(hs_person, name="Later (HubSpot)")
    contact = hs_create(hs_person, email="road@later.example", firstname="Road", lastname="R")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.settings(hubspot_creates=False, salesforce_creates=False)
    companies.both()
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    account = sf_person.Account.create({"Name": "Later"})["id"]
    run = companies()
    assert run.counts["skipped_create_disabled"] == 1 and not companies.links().exists()

    sf_person.Contact.update(sf_contact, {"AccountId": account})
    run = companies()
    assert run.counts["matched"] == 1 and not run.counts.get("created_in_hubspot")
    assert companies.link(salesforce_id=account).hubspot_id == str(company)
    assert hs_get(hs_person, contact, "associatedcompanyid")["associatedcompanyid"] == company
    assert not SyncError.objects.filter(object="companies", resolved_at__isnull=True).exists()
    assert hs_company_ids(hs_person) == [str(company)]


def contacts_in_and_out_of_a_list(companies, integration, emulators, sf_person, hs_person):
    """Two Salesforce contacts on one account, synced with its company by two cycles over
    both pairs; then a contact inclusion list that only the first is in. Returns the two
    accounts and each contact as (Salesforce id, HubSpot id)."""
    from .test_contacts_inclusion_list import make_list

    first = sf_person.Account.create({"Name": "First"})["id"]
    second = sf_person.Account.create({"Name": "Second"})["id"]
    people = [
        sf_person.Contact.create(
            {"LastName": name, "Email": f"{name}@list.example", "AccountId": first}
        )["id"]
        for name in ("inside", "outside")
    ]
    companies.cycle()
    companies.cycle()
    inside, outside = [
        (c, RecordLink.objects.get(object="contacts", salesforce_id=c).hubspot_id) for c in people
    ]
    hs_person.crm.contacts.basic_api.update(inside[1], {"properties": {"jobtitle": "please sync"}})
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"inclusion_list_id": make_list(emulators)},
    )
    companies.cycle()
    return first, second, inside, outside


def test_a_hubspot_company_move_of_a_contact_outside_the_inclusion_list_is_not_pushed(
    companies, integration, emulators, sf_person, hs_person
):
    first, second, inside, outside = contacts_in_and_out_of_a_list(
        companies, integration, emulators, sf_person, hs_person
    )
    second_company = companies.link(salesforce_id=second).hubspot_id
    for _, hs_contact in (inside, outside):
        companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                            to_type="companies", to_id=second_company, type_id=1)  # fmt: skip
    runs, _ = companies.cycle()
    assert runs["companies"].counts["associations_to_salesforce"] == 1
    assert runs["companies"].counts["skipped_outside_list"] >= 1
    assert sf_person.Contact.get(inside[0])["AccountId"] == second
    assert sf_person.Contact.get(outside[0])["AccountId"] == first  # spec §6.5


def test_a_salesforce_account_move_of_a_contact_outside_the_inclusion_list_is_not_received(
    companies, integration, emulators, sf_person, hs_person
):
    first, second, inside, outside = contacts_in_and_out_of_a_list(
        companies, integration, emulators, sf_person, hs_person
    )
    for contact, _ in (inside, outside):
        sf_person.Contact.update(contact, {"AccountId": second})
    # The scheduled cycle comes a minute later: its change probe answers in whole minutes, so
    # a move in the minute the cycle runs in would be left to the cycle after.
    advance_clocks(emulators, 61)
    runs, _ = companies.cycle()
    assert runs["companies"].counts["skipped_outside_list"] >= 1
    company_of = {
        hs_contact: hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"]
        for _, hs_contact in (inside, outside)
    }
    assert company_of[inside[1]] == companies.link(salesforce_id=second).hubspot_id
    assert company_of[outside[1]] == companies.link(salesforce_id=first).hubspot_id  # spec §6.5


def test_a_new_account_is_not_given_to_a_private_contact_outside_the_inclusion_list(
    companies, integration, emulators, sf_person, hs_person
):
    # Both are Salesforce contacts without an account ("private"); only one is in the list.
    inside, outside, hs_in, hs_out = one_contact_in_the_list(
        companies, integration, emulators, sf_person, hs_person
    )
    company = hs_company(hs_person, name="Shared Private")
    for contact in (hs_in, hs_out):
        companies.hs_action("associate", from_type="contacts", from_id=contact,
                            to_type="companies", to_id=company)  # fmt: skip
    run = companies()
    assert run.counts["created_in_salesforce"] == 1
    account = companies.link(hubspot_id=str(company)).salesforce_id
    assert sf_person.Contact.get(inside)["AccountId"] == account
    assert sf_person.Contact.get(outside)["AccountId"] is None  # spec §6.5


class Killed(BaseException):
    """The worker dies here: nothing after this instant runs."""


def test_a_worker_killed_before_the_hand_over_still_gives_the_account_to_its_contacts(
    companies, sf_person, hs_person, integration, monkeypatch
):
    from sync_engine.sync.companies import CompanySync

    companies.settings(hubspot_creates=False)
    company = hs_company(hs_person, name="Private Contact Inc")
    contact = hs_create(hs_person, email="pat@private.example", firstname="Pat", lastname="P")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.both()
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] is None
    companies.settings(hubspot_creates=True)
    hs_person.crm.companies.basic_api.update(company, {"properties": {"description": "go"}})

    handed_over = CompanySync.give_accounts_to_private_contacts

    def killed(self, pairs):
        if pairs:  # right after the commit that stored the company ⇄ account link
            raise Killed()
        return handed_over(self, pairs)

    monkeypatch.setattr(CompanySync, "give_accounts_to_private_contacts", killed)
    with pytest.raises(Killed):
        sync_cycle_run(integration=integration, object_name="companies")
    monkeypatch.undo()
    account = companies.link(hubspot_id=str(company)).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] is None

    companies()
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account
    assert "__hand_over" not in companies.link(hubspot_id=str(company)).snapshot
    idle = companies()
    assert not idle.counts.get("accounts_set_on_contacts")


def one_contact_in_the_list(companies, integration, emulators, sf_person, hs_person):
    """Two linked Salesforce contacts without an account, and a contact inclusion list that
    holds only the first: their Salesforce ids (in, out), then their HubSpot ids."""
    from .test_contacts_inclusion_list import make_list

    inside = sf_person.Contact.create({"LastName": "In", "Email": "in@seg.example"})["id"]
    outside = sf_person.Contact.create({"LastName": "Out", "Email": "out@seg.example"})["id"]
    companies("contacts")
    hs_in = RecordLink.objects.get(object="contacts", salesforce_id=inside).hubspot_id
    hs_out = RecordLink.objects.get(object="contacts", salesforce_id=outside).hubspot_id
    hs_person.crm.contacts.basic_api.update(hs_in, {"properties": {"jobtitle": "please sync"}})
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"inclusion_list_id": make_list(emulators)},
    )
    return inside, outside, hs_in, hs_out


def test_always_use_salesforce_with_salesforce_blank_settles(
    companies, sf_person, hs_person, emulators
):
    """HubSpot's value of such a field goes nowhere: an edit elsewhere in HubSpot is no change
    (no Salesforce read), and Salesforce keeps its blank."""
    FieldMapping.objects.filter(object="companies", hubspot_property="industry").update(
        rule="always_use_salesforce"
    )
    account = sf_person.Account.create({"Name": "Globex"})["id"]  # no Industry
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"industry": "BANKING"})
    )
    advance_clocks(emulators, 600)
    companies()
    advance_clocks(emulators, 600)
    hs_person.crm.companies.basic_api.update(
        company,
        CompanyInput(properties={"founded_year": "1999"}),  # not mapped
    )
    run = companies()
    assert run.counts.get("unchanged") == 1, dict(run.counts)
    assert sf_person.Account.get(account)["Industry"] is None
