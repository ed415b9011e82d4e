"""Deletes, lead conversion and merges on either side (spec §6.2, §6.4)."""

import pytest

from sync_engine.models import RecordLink

from .helpers import hs_create, hs_emails, hs_get, hs_update, new_lead


def hs_exists(hs, contact_id) -> bool:
    from hubspot.crm.contacts.exceptions import NotFoundException

    try:
        hs.crm.contacts.basic_api.get_by_id(contact_id)
    except NotFoundException:
        return False
    return True


@pytest.mark.parametrize("setting", ["delete", "nothing"])
def test_salesforce_delete(cycle, sf_person, hs_person, setting):
    cycle.settings(salesforce_delete=setting)
    lead = new_lead(sf_person, Email="gone@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    sf_person.Lead.delete(lead)
    cycle()
    assert hs_exists(hs_person, contact) is (setting == "nothing")
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()


def test_deleting_in_hubspot_never_deletes_in_salesforce(cycle, sf_person, hs_person):
    lead = new_lead(sf_person, Email="stay@example.com")
    cycle()
    hs_person.crm.contacts.basic_api.archive(cycle.link(salesforce_id=lead).hubspot_id)
    cycle()
    assert sf_person.Lead.get(lead)["Email"] == "stay@example.com"


def test_lead_conversion_moves_the_link_to_the_contact(cycle, emulators, sf_person, hs_person):
    lead = new_lead(sf_person, Email="convert@example.com", LastName="Turing")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    result = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, create_opportunity=False
    )
    cycle()
    link = cycle.link(hubspot_id=contact)
    assert link.salesforce_type == "Contact"
    assert link.salesforce_id == result["contact_id"]
    hs_update(hs_person, contact, mobilephone="+44 20 7946 0000")
    cycle()
    assert sf_person.Contact.get(link.salesforce_id)["MobilePhone"] == "+44 20 7946 0000"
    assert hs_emails(hs_person).count("convert@example.com") == 1


def test_salesforce_merge_keeps_the_hubspot_contact_on_the_survivor(
    cycle, emulators, sf_person, hs_person
):
    loser = new_lead(sf_person, Email="dupe@example.com", LastName="Loser")
    cycle()
    contact = cycle.link(salesforce_id=loser).hubspot_id
    master = new_lead(sf_person, Email="master@example.com", LastName="Master")
    emulators.salesforce.app.run_action("merge", object="Lead", master_id=master, loser_ids=[loser])
    cycle()
    # The master had no HubSpot contact of its own: the loser's contact follows it.
    assert cycle.link(hubspot_id=contact).salesforce_id == master
    assert hs_get(hs_person, contact, "lastname")["lastname"] == "Master"


def test_hubspot_merge_repoints_the_link(cycle, emulators, sf_person, hs_person):
    lead = new_lead(sf_person, Email="merged@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    survivor = hs_create(
        hs_person, email="survivor@example.com", lastname="Survivor", company="Acme"
    )
    emulators.hubspot.app.run_action(
        "merge", object_type="contacts", primary_id=survivor, merged_id=contact
    )
    cycle()
    assert cycle.link(salesforce_id=lead).hubspot_id == survivor
    assert sf_person.query("SELECT COUNT() FROM Lead")["totalSize"] == 1  # no new lead


def leads_with(sf, email) -> list[str]:
    found = sf.query(f"SELECT Id FROM Lead WHERE Email = '{email}'")["records"]  # noqa: S608
    return [r["Id"] for r in found]


def test_a_contact_deleted_and_made_again_in_hubspot_takes_over_the_link(
    cycle, sf_person, hs_person
):
    """Deleted in HubSpot, then made again with the same email (a form fill): Salesforce's
    lead already has the email, so no second lead is made (§6.2, §20.4); the new contact
    links to it as at a first sync."""
    first = hs_create(hs_person, email="sam@example.com", lastname="Sam", company="Acme")
    hs_update(hs_person, first, jobtitle="Buyer")
    cycle()
    lead = cycle.link(hubspot_id=first).salesforce_id
    hs_person.crm.contacts.basic_api.archive(first)
    again = hs_create(
        hs_person, email="sam@example.com", lastname="Sam", company="Acme", phone="+1 555 0142"
    )
    cycle()
    assert leads_with(sf_person, "sam@example.com") == [lead]
    assert cycle.link(salesforce_id=lead).hubspot_id == again
    assert hs_get(hs_person, again, "jobtitle")["jobtitle"] == "Buyer"
    assert sf_person.Lead.get(lead)["Phone"] == "+1 555 0142"


def test_a_second_hubspot_contact_with_a_synced_email_is_an_error_not_a_second_lead(
    cycle, sf_person, hs_person
):
    """The email's lead syncs with a HubSpot contact that still exists: the new contact with
    that email is an *Email already in use* error, and Salesforce gets no second lead."""
    from sync_engine.models import SyncError

    first = hs_create(hs_person, email="ana@example.com", lastname="Ana", company="Acme")
    cycle()
    lead = cycle.link(hubspot_id=first).salesforce_id
    hs_update(hs_person, first, email="ana.private@example.com")  # frees the email in HubSpot
    second = hs_create(hs_person, email="ana@example.com", lastname="Ana", company="Acme")
    cycle()
    assert leads_with(sf_person, "ana@example.com") == [lead]
    assert cycle.link(salesforce_id=lead).hubspot_id == first
    error = SyncError.objects.get(record_key=f"hubspot:{second}", resolved_at__isnull=True)
    assert (error.error_type, error.salesforce_id) == ("email_in_use", lead)
