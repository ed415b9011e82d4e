"""A Salesforce record gone even from the recycle bin, found by two more writes: a HubSpot
primary company move written to ``Contact.AccountId``, and a custom object's HubSpot delete
sent to Salesforce. Either is handled as that record's delete, by its pair's rule, with no
error left that no retry can mend (see ``test_purged_in_salesforce_hunt_k``)."""

from __future__ import annotations

import pytest

from sync_engine.models import RecordLink
from sync_engine.services import object_settings_update

from .test_companies import contact_on_an_account, hs_company_ids
from .test_custom_objects import projects  # noqa: F401  (the fixture)
from .test_custom_objects_failures import deletes_due, deletes_on
from .test_purged_in_salesforce_hunt_k import everywhere, hard_delete, open_errors, retries_due


def move_in_hubspot(companies, hs_contact: str, company: str) -> None:
    """HubSpot makes ``company`` the contact's primary company."""
    companies.hs_action("associate", from_type="contacts", from_id=hs_contact,
                        to_type="companies", to_id=company, type_id=1)  # fmt: skip


def hs_contact_ids(hs) -> list[str]:
    return [c.id for c in hs.crm.contacts.basic_api.get_page(limit=100).results]


@pytest.mark.parametrize("setting", ["delete", "nothing"])
def test_a_purged_contact_moved_in_hubspot_is_handled_as_the_contact_s_delete(
    companies, integration, sf_person, hs_person, setting
):
    """The move's ``AccountId`` write finds the contact gone for good: by the contact pair's
    delete setting its HubSpot contact goes or stays, its link goes, and no error is left
    whose retry fails for ever."""
    contact, _, hs_contact, _ = contact_on_an_account(companies, sf_person, hs_person, "Purged")
    other = sf_person.Account.create({"Name": "Other Inc"})["id"]
    companies()
    target = companies.link(salesforce_id=other).hubspot_id
    object_settings_update(
        integration=integration, object_name="contacts", changes={"salesforce_delete": setting}
    )
    hard_delete(sf_person, "Contact", contact)

    move_in_hubspot(companies, hs_contact, target)
    run, contacts_run = companies.both()
    assert not run.counts.get("failed") and not contacts_run.counts.get("failed"), run.counts
    assert not open_errors(integration).exists(), list(open_errors(integration).values())
    assert not RecordLink.objects.filter(object="contacts", salesforce_id=contact).exists()
    if setting == "delete":
        assert hs_contact not in hs_contact_ids(hs_person)
    else:
        assert hs_contact in hs_contact_ids(hs_person)
    assert companies.link(salesforce_id=other).hubspot_id == target  # the account is fine

    retries_due(integration)
    run, contacts_run = companies.both()
    assert not run.counts.get("failed") and not contacts_run.counts.get("failed")
    assert not open_errors(integration).exists()
    assert everywhere(sf_person, "Contact") == 0


@pytest.mark.parametrize("setting", ["delete", "nothing"])
def test_a_contact_moved_to_a_purged_account_s_company_follows_the_account_delete_rule(
    companies, integration, sf_person, hs_person, setting
):
    """The account the contact is moved onto was purged: its company's link goes as for the
    account's delete (the company archived with *Delete*). The contact keeps its account:
    kept, the company is one without an account, and the contact waits for it as usual;
    deleted, the contact stays on its account as when a company is deleted in HubSpot. No
    error says Salesforce refused an id no retry can mend."""
    contact, account, hs_contact, _ = contact_on_an_account(
        companies, sf_person, hs_person, "Mover"
    )
    purged = sf_person.Account.create({"Name": "Purged Inc"})["id"]
    companies()
    target = companies.link(salesforce_id=purged).hubspot_id
    companies.settings(salesforce_delete=setting)
    hard_delete(sf_person, "Account", purged)

    move_in_hubspot(companies, hs_contact, target)
    run, _ = companies.both()
    assert not run.counts.get("failed"), run.counts
    assert run.counts["links_removed"] == 1, run.counts
    assert not companies.links().filter(salesforce_id=purged).exists()
    assert sf_person.Contact.get(contact)["AccountId"] == account
    errors = list(open_errors(integration).values_list("error_type", "record_key", "message"))
    if setting == "delete":
        assert run.counts["deleted_in_hubspot"] == 1, run.counts
        assert target not in hs_company_ids(hs_person)
        assert run.counts["kept_account_company_deleted"] == 1, run.counts
        assert not errors, errors
    else:
        assert target in hs_company_ids(hs_person)
        ((error_type, key, message),) = errors
        assert (error_type, key) == ("waiting_for_account", f"hubspot:{hs_contact}")
        assert f"Company {target} hasn't synced to Salesforce yet" in message

    retries_due(integration)
    run, _ = companies.both()
    assert not run.counts.get("failed"), run.counts
    assert sf_person.Contact.get(contact)["AccountId"] == account
    assert list(open_errors(integration).values_list("error_type", "record_key", "message")) == (
        errors
    )


def test_a_hubspot_delete_of_a_project_already_purged_in_salesforce_counts_as_done(
    projects,  # noqa: F811
    integration,
    sf_person,
):
    """With "a HubSpot delete deletes in Salesforce", the archived record's project was
    purged meanwhile: Salesforce answers for an id it doesn't have (not ENTITY_IS_DELETED),
    which is the delete done, not "Salesforce refused to delete it" with the link kept for a
    retry that can never delete it."""
    project, record = deletes_on(projects, sf_person)
    hard_delete(sf_person, "Project__c", project)
    projects.hs.crm.objects.basic_api.archive(projects.type, record)
    deletes_due()
    run = projects()
    assert not run.counts.get("failed"), run.counts
    assert not open_errors(integration).exists(), list(open_errors(integration).values())
    assert not projects.links().exists()
    retries_due(integration)
    deletes_due()
    run = projects()
    assert not run.counts.get("failed") and not run.counts.get("created_in_hubspot"), run.counts
    assert record not in projects.ids() and everywhere(sf_person, "Project__c") == 0
