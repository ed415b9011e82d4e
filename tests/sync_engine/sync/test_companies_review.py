"""Companies ⇄ accounts: scenarios an admin of HubSpot's own integration runs into."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import FieldMapping, RecordLink, SyncError
from sync_engine.services import record_resync, sync_errors_request_resync

from .helpers import due_now, hs_create, hs_get
from .test_companies import contact_on_an_account, hs_company, hs_company_get, hs_company_ids


def associate(sync, contact, company, **kw):
    sync.hs_action(
        "associate", from_type="contacts", from_id=contact, to_type="companies", to_id=company, **kw
    )


def company_ids_of(hs, contact) -> list[str]:
    page = hs.crm.associations.v4.basic_api.get_page("contacts", contact, "companies")
    return sorted(str(a.to_object_id) for a in page.results)


def hs_contact_at(companies, hs, company_name: str, **contact) -> tuple[str, str]:
    """A new HubSpot contact whose primary company is a new one: (the contact, the
    company)."""
    company = hs_company(hs, name=company_name)
    person = hs_create(hs, **contact)
    associate(companies, person, company)
    return person, company


def test_an_account_merged_in_salesforce_moves_its_contacts_to_the_survivors_company(
    companies, sf_person, hs_person, emulators
):
    master = sf_person.Account.create({"Name": "Master"})["id"]
    contact, loser, hs_contact, loser_company = contact_on_an_account(
        companies, sf_person, hs_person, "Loser"
    )
    master_company = companies.link(salesforce_id=master).hubspot_id
    assert company_ids_of(hs_person, hs_contact) == [loser_company]

    emulators.salesforce.app.run_action(
        "merge", object="Account", master_id=master, loser_ids=[loser]
    )
    companies.both()
    companies.both()
    assert sf_person.Contact.get(contact)["AccountId"] == master
    assert company_ids_of(hs_person, hs_contact) == [master_company]
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == (
        master_company
    )
    assert companies.link(salesforce_id=master).hubspot_id == master_company
    assert not companies.links().filter(salesforce_id=loser).exists()
    assert sorted(hs_company_ids(hs_person)) == sorted([master_company, loser_company])
    # The loser's company stays (delete setting *Do nothing*): it says why it syncs no more.
    error = SyncError.objects.get(resolved_at__isnull=True)
    assert (error.error_type, error.record_key) == (
        "merged_in_salesforce",
        f"hubspot:{loser_company}",
    )
    assert master in error.message and f"HubSpot company {master_company}" in error.message


def test_an_account_merged_into_an_unlinked_one_keeps_its_company(
    companies, sf_person, hs_person, emulators
):
    loser = sf_person.Account.create({"Name": "Loser"})["id"]
    companies()
    loser_company = companies.link(salesforce_id=loser).hubspot_id
    companies.settings(salesforce_creates=False)
    master = sf_person.Account.create({"Name": "Master"})["id"]
    companies()
    companies.settings(salesforce_creates=True)
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action(
        "merge", object="Account", master_id=master, loser_ids=[loser]
    )
    companies()
    companies()
    assert companies.link(salesforce_id=master).hubspot_id == loser_company
    props = hs_company_get(hs_person, loser_company, "salesforce_account_id_sync")
    assert props["salesforce_account_id_sync"] == master
    assert hs_company_ids(hs_person) == [loser_company]


def test_a_company_synced_by_hand_twice_makes_one_account(
    companies, integration, sf_person, hs_person
):
    company = hs_company(hs_person, name="By Hand")
    companies()
    for _ in range(2):
        record_resync(
            integration=integration, object_name="companies", record_key=f"hubspot:{company}"
        )
        companies()
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 1
    assert companies.link(hubspot_id=str(company))


def test_a_company_seen_before_its_contact_synced_creates_its_account_once_it_does(
    companies, integration, sf_person, hs_person
):
    contact, company = hs_contact_at(
        companies,
        hs_person,
        "Early Co",
        email="early@early.example",
        firstname="E",
        lastname="Arly",
    )
    companies()  # company sync first: the contact isn't in Salesforce yet
    assert not companies.links().exists()
    companies.both()
    companies.both()
    account = companies.link(hubspot_id=str(company)).salesforce_id
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account


def test_a_private_contact_on_two_companies_gets_its_primary_companys_account(
    companies, sf_person, hs_person
):
    contact = hs_create(hs_person, email="two@two.example", firstname="Two", lastname="Co")
    companies.both()  # a Salesforce contact with no account
    other = hs_company(hs_person, name="Other Co")
    primary = hs_company(hs_person, name="Primary Employer")
    associate(companies, contact, primary)  # the first company is the primary one
    associate(companies, contact, other)
    assert hs_get(hs_person, contact, "associatedcompanyid")["associatedcompanyid"] == primary
    companies.both()
    companies.both()
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    account = companies.link(hubspot_id=str(primary)).salesforce_id
    assert sf_person.Contact.get(sf_contact)["AccountId"] == account
    assert hs_get(hs_person, contact, "associatedcompanyid")["associatedcompanyid"] == primary


def test_syncing_a_contacts_other_company_by_hand_leaves_it_on_its_primary_company(
    companies, integration, sf_person, hs_person
):
    """An admin syncs a partner company of a "private" contact by hand: the new account is
    not the contact's; its AccountId follows its primary company."""
    contact = hs_create(hs_person, email="pat@agency.example", firstname="Pat", lastname="A")
    employer = hs_company(hs_person, name="Employer")
    partner = hs_company(hs_person, name="Partner Agency")
    associate(companies, contact, employer)  # the first company is the primary one
    associate(companies, contact, partner)
    companies.settings(hubspot_creates=False)
    companies.both()
    sf_contact = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    record_resync(integration=integration, object_name="companies", record_key=f"hubspot:{partner}")
    companies()
    assert companies.link(hubspot_id=str(partner))
    assert sf_person.Contact.get(sf_contact)["AccountId"] is None
    companies.both()
    assert sf_person.Contact.get(sf_contact)["AccountId"] is None
    assert hs_get(hs_person, contact, "associatedcompanyid")["associatedcompanyid"] == employer


def test_a_company_whose_contacts_span_two_accounts_matches_the_one_still_free(
    companies, sf_person, hs_person
):
    """Company C's contacts: one on account A (already Acme's), one on account B (no
    company yet). C is B's company, whichever side is read first; no third account."""
    companies.settings(salesforce_creates=False, hubspot_creates=False)
    bee = sf_person.Account.create({"Name": "Bee"})["id"]  # the smaller id
    ay = sf_person.Account.create({"Name": "Ay"})["id"]
    acme = hs_company(hs_person, name="Acme")
    x = hs_create(hs_person, email="x@acme.example", firstname="X", lastname="X")
    z = hs_create(hs_person, email="z@bee.example", firstname="Z", lastname="Z")
    associate(companies, x, acme)
    companies.both()
    sf_x = RecordLink.objects.get(object="contacts", hubspot_id=x).salesforce_id
    sf_z = RecordLink.objects.get(object="contacts", hubspot_id=z).salesforce_id
    sf_person.Contact.update(sf_x, {"AccountId": ay})
    sf_person.Contact.update(sf_z, {"AccountId": bee})
    companies.both()
    assert companies.link(salesforce_id=ay).hubspot_id == acme
    assert not companies.links().filter(salesforce_id=bee).exists()

    c = hs_company(hs_person, name="Bee (HubSpot)")
    associate(companies, z, c)
    associate(companies, x, c)  # X also works with C: not its primary company
    companies.both()
    companies.both()
    assert companies.link(salesforce_id=bee).hubspot_id == c
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 2


def test_an_account_deleted_then_restored_in_salesforce_finds_its_company_again(
    companies, sf_person, hs_person, emulators
):
    _, account, hs_contact, company = contact_on_an_account(
        companies, sf_person, hs_person, "Phoenix"
    )
    advance_clocks(emulators, 60)
    sf_person.Account.delete(account)
    companies.both()
    assert not companies.links().exists()
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("undelete", id=account)
    companies.both()
    companies.both()
    assert companies.link(salesforce_id=account).hubspot_id == company
    assert hs_company_ids(hs_person) == [company]
    assert hs_get(hs_person, hs_contact, "associatedcompanyid")["associatedcompanyid"] == company
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_an_account_whose_website_is_no_address_fails_alone(
    companies, sf_person, hs_person, emulators
):
    """Salesforce's Website takes any text: one that is no address at all is an error on
    that account's domain, not a company cycle that fails for every account."""
    good = sf_person.Account.create({"Name": "Good", "Website": "https://good.example"})["id"]
    bad = sf_person.Account.create({"Name": "Bad", "Website": "http://[intranet"})["id"]
    companies()
    company = companies.link(salesforce_id=good).hubspot_id
    assert hs_company_get(hs_person, company, "domain")["domain"] == "good.example"
    bad_company = companies.link(salesforce_id=bad).hubspot_id
    assert hs_company_get(hs_person, bad_company, "name")["name"] == "Bad"
    companies()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{bad}"
    assert error.message == "Website: 'http://[intranet' is not a web address"

    advance_clocks(emulators, 60)
    sf_person.Account.update(bad, {"Website": "https://bad.example"})
    companies()
    companies()
    assert hs_company_get(hs_person, bad_company, "domain")["domain"] == "bad.example"
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_changes_made_while_company_sync_was_off_follow_once_it_is_on_again(
    companies, integration, sf_person, hs_person, emulators
):
    from sync_engine.services import object_settings_update

    second = sf_person.Account.create({"Name": "Second"})["id"]
    mover, _, hs_mover, _ = contact_on_an_account(companies, sf_person, hs_person, "Mover")
    second_company = companies.link(salesforce_id=second).hubspot_id

    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=False
    )
    advance_clocks(emulators, 60)
    sf_person.Contact.update(mover, {"AccountId": second})
    newcomer, newco = hs_contact_at(
        companies, hs_person, "Newco", email="new@off.example", firstname="New", lastname="Comer"
    )
    companies("contacts")  # the contact sync goes on: a Salesforce contact, no account
    companies("contacts")
    advance_clocks(emulators, 60)
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    companies.both()
    companies.both()
    assert company_ids_of(hs_person, hs_mover) == [second_company]
    account = companies.link(hubspot_id=str(newco)).salesforce_id
    sf_newcomer = RecordLink.objects.get(object="contacts", hubspot_id=newcomer).salesforce_id
    assert sf_person.Contact.get(sf_newcomer)["AccountId"] == account
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_a_company_whose_account_was_deleted_gets_a_new_one_when_synced_by_hand(
    companies, integration, sf_person, hs_person, emulators
):
    _, company = hs_contact_at(
        companies,
        hs_person,
        "Deleted Account Co",
        email="pat@deleted.example",
        firstname="Pat",
        lastname="D",
    )
    companies.both()
    companies.both()
    old = companies.link(hubspot_id=str(company)).salesforce_id
    advance_clocks(emulators, 60)
    sf_person.Account.delete(old)
    companies.both()
    companies.both()
    assert not companies.links().exists()
    record_resync(integration=integration, object_name="companies", record_key=f"hubspot:{company}")
    companies()
    new = companies.link(hubspot_id=str(company)).salesforce_id
    assert new != old
    assert sf_person.Account.get(new)["Name"] == "Deleted Account Co"
    assert (
        hs_company_get(hs_person, company, "salesforce_account_id_sync")[
            "salesforce_account_id_sync"
        ]
        == new
    )
    companies.both()
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 1


def test_with_deletes_on_a_merged_accounts_company_goes_and_its_contacts_follow_the_master(
    companies, sf_person, hs_person, emulators
):
    companies.settings(salesforce_delete="delete")
    master = sf_person.Account.create({"Name": "Master"})["id"]
    contact, loser, hs_contact, _ = contact_on_an_account(companies, sf_person, hs_person, "Lou")
    master_company = companies.link(salesforce_id=master).hubspot_id
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action(
        "merge", object="Account", master_id=master, loser_ids=[loser]
    )
    companies.both()
    companies.both()
    assert hs_company_ids(hs_person) == [master_company]
    assert company_ids_of(hs_person, hs_contact) == [master_company]
    assert sf_person.Contact.get(contact)["AccountId"] == master
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_a_synced_company_merged_into_a_duplicate_in_hubspot_keeps_its_account(
    companies, sf_person, hs_person, emulators
):
    contact, account, hs_contact, synced = contact_on_an_account(
        companies, sf_person, hs_person, "Acme"
    )
    duplicate = hs_company(hs_person, name="Acme Inc (duplicate)")
    companies()
    advance_clocks(emulators, 60)
    companies.hs_action("merge", object_type="companies", primary_id=duplicate, merged_id=synced)
    companies.both()
    companies.both()
    assert hs_company_ids(hs_person) == [duplicate]
    assert companies.link(salesforce_id=account).hubspot_id == duplicate
    assert company_ids_of(hs_person, hs_contact) == [duplicate]
    assert sf_person.Contact.get(contact)["AccountId"] == account
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 1
    # The surviving company's edits reach the account.
    FieldMapping.objects.filter(object="companies", hubspot_property="numberofemployees").update(
        rule="two_way"
    )
    hs_person.crm.companies.basic_api.update(duplicate, {"properties": {"numberofemployees": "42"}})
    companies()
    assert sf_person.Account.get(account)["NumberOfEmployees"] == 42


def test_a_converted_lead_brings_its_hubspot_company_to_the_new_account(
    companies, integration, sf_person, hs_person, emulators
):
    """A lead's company creates no account (spec §9); once Salesforce converts the lead, the
    new account is that company's, not a second company."""
    from sync_engine.services import object_settings_update

    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "lead"}
    )
    contact, company = hs_contact_at(
        companies,
        hs_person,
        "Convert Co",
        email="lee@convert.example",
        firstname="Lee",
        lastname="C",
        company="Convert Co",
    )
    companies.both()
    companies.both()
    lead = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert not companies.links().exists()
    advance_clocks(emulators, 60)
    converted = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, create_opportunity=False
    )
    companies.both()
    companies.both()
    account = converted["account_id"]
    assert companies.link(salesforce_id=account).hubspot_id == company
    assert hs_company_ids(hs_person) == [company]
    assert hs_get(hs_person, contact, "associatedcompanyid")["associatedcompanyid"] == company
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def account_names(sf) -> list[str]:
    return sorted(r["Name"] for r in sf.query("SELECT Name FROM Account")["records"])


def kept_company_with_a_new_contact(companies, sf_person, hs_person, emulators):
    """An account merged in Salesforce into one that syncs with another company, its company
    kept (delete setting *Do nothing*); then a rep puts a new contact on the kept company,
    which would make it create an account (a "private" Salesforce contact, spec §9):
    ``(kept company, master account, master's company, the *Merged in Salesforce* error)``."""
    master = sf_person.Account.create({"Name": "Master"})["id"]
    _, loser, _, kept = contact_on_an_account(companies, sf_person, hs_person, "Loser")
    master_company = companies.link(salesforce_id=master).hubspot_id
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action(
        "merge", object="Account", master_id=master, loser_ids=[loser]
    )
    companies.both()
    error = SyncError.objects.get(
        object="companies", error_type="merged_in_salesforce", resolved_at__isnull=True
    )
    newbie = hs_create(hs_person, email="newbie@kept.example", lastname="Newbie")
    associate(companies, newbie, kept, type_id=1)
    advance_clocks(emulators, 60)
    companies.both()
    companies.both()
    return kept, master, master_company, error


def test_a_company_kept_after_its_account_was_merged_never_makes_the_account_again_by_itself(
    companies, sf_person, hs_person, emulators
):
    kept, master, master_company, error = kept_company_with_a_new_contact(
        companies, sf_person, hs_person, emulators
    )
    assert account_names(sf_person) == ["Master"]
    assert not companies.links().filter(hubspot_id=kept).exists()
    assert (error.hubspot_id, error.direction, error.next_retry_at) == (
        kept,
        "to_salesforce",
        None,
    )
    assert master in error.message and f"HubSpot company {master_company}" in error.message
    error.refresh_from_db()
    assert error.resolved_at is None
    # The new contact waits for the company's account, and its error says why none comes.
    wait = SyncError.objects.get(error_type="waiting_for_account", resolved_at__isnull=True)
    assert f"Company {kept} syncs with no account: its account was merged" in wait.message
    assert "meets the account creation rules" not in wait.message


@pytest.mark.parametrize("end", ["merge", "delete"])
def test_the_merged_in_salesforce_error_ends_once_the_kept_company_is_merged_or_deleted(
    companies, sf_person, hs_person, emulators, end
):
    kept, _, master_company, error = kept_company_with_a_new_contact(
        companies, sf_person, hs_person, emulators
    )
    if end == "merge":
        companies.hs_action(
            "merge", object_type="companies", primary_id=master_company, merged_id=kept
        )
    else:
        hs_person.crm.companies.basic_api.archive(kept)
    companies.both()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert account_names(sf_person) == ["Master"]


def test_a_resync_of_the_kept_company_syncs_it_under_the_creation_rules(
    companies, sf_person, hs_person, emulators
):
    """An admin's Resync of the error says the company is another one after all: the error
    ends, and the company syncs as any company without an account would. Its new contact is
    a private Salesforce contact, so it creates its account (spec §9)."""
    kept, master, _, error = kept_company_with_a_new_contact(
        companies, sf_person, hs_person, emulators
    )
    sync_errors_request_resync(integration=companies.integration, error_ids=[error.pk])
    companies()
    error.refresh_from_db()
    assert error.resolved_at is not None
    account = companies.link(hubspot_id=kept).salesforce_id
    assert account != master
    assert account_names(sf_person) == ["Loser Inc", "Master"]


def test_a_due_account_error_creates_no_company_once_creation_is_off(
    companies, integration, sf_person, hs_person
):
    """An account whose company HubSpot refused, retried after an admin turned account
    creation off: the retry follows the setting (the error ends; no company), while an
    admin's Sync of the account still creates it, as *Sync a company* does."""
    from hubspot.crm.properties import PropertyCreate

    from sync_engine.models import SchemaCache

    sic = PropertyCreate(name="sf_sic", label="SIC", type="string", field_type="text",
                         group_name="companyinformation")  # fmt: skip
    hs_person.crm.properties.core_api.create("companies", sic)
    FieldMapping.objects.create(integration=integration, object="companies",
                                hubspot_property="sf_sic", salesforce_field="Sic",
                                rule="always_use_salesforce", hubspot_type="string",
                                hubspot_field_type="text", salesforce_type="string")  # fmt: skip
    SchemaCache.objects.filter(object="companies").delete()
    companies()  # the schema, read with the property
    hs_person.crm.properties.core_api.archive("companies", "sf_sic")
    account = sf_person.Account.create({"Name": "Niche", "Sic": "one"})["id"]
    companies()
    error = SyncError.objects.get(object="companies", resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{account}" and hs_company_ids(hs_person) == []
    # HubSpot's admin makes the property again; Salesforce's turns account creation off.
    hs_person.crm.properties.core_api.create("companies", sic)
    companies.settings(salesforce_creates=False)
    due_now(error)
    companies()
    assert hs_company_ids(hs_person) == []
    error.refresh_from_db()
    assert error.resolved_at is not None
    # An admin's Sync of the account creates its company all the same.
    record_resync(
        integration=integration, object_name="companies",
        record_key=f"salesforce:{account}", salesforce_type="Account",
    )  # fmt: skip
    companies()
    assert len(hs_company_ids(hs_person)) == 1


def test_an_account_edit_finds_its_company_merged_into_a_duplicate(
    companies, sf_person, hs_person, emulators
):
    """The account changes before any HubSpot read sees the merge: reading the merged-away
    company answers with the survivor, which the link follows. No third company is made."""
    _, account, _, synced = contact_on_an_account(companies, sf_person, hs_person, "Acme")
    duplicate = hs_company(hs_person, name="Acme Inc (duplicate)")
    companies()
    advance_clocks(emulators, 60)
    companies.hs_action("merge", object_type="companies", primary_id=duplicate, merged_id=synced)
    sf_person.Account.update(account, {"Description": "Rep edit"})
    advance_clocks(emulators, 60)
    companies()
    companies.both()
    assert hs_company_ids(hs_person) == [duplicate]
    assert companies.link(salesforce_id=account).hubspot_id == duplicate
    assert hs_company_get(hs_person, duplicate, "description")["description"] == "Rep edit"
    assert sf_person.query("SELECT Id FROM Account")["totalSize"] == 1
