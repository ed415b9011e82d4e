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
