"""The *Salesforce campaigns* contact property (spec §6.1, §17).

The campaigns a Salesforce lead or contact is a member of show, by name, in a HubSpot contact
property the integration creates and alone writes. Campaign members are one more change stream
of the contact sync: only the people whose memberships changed are read and written, in
batches, and an idle cycle costs nothing more."""

from __future__ import annotations

from collections import Counter

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, FieldMapping
from sync_engine.selectors import engine_key_properties
from sync_engine.sync.contacts import CAMPAIGNS_PROPERTY

from .helpers import hs_get, hs_update, new_lead


def campaign(sf, name: str) -> str:
    return sf.Campaign.create({"Name": name, "IsActive": True})["id"]


def join(sf, campaign_id: str, **person) -> str:
    return sf.CampaignMember.create({"CampaignId": campaign_id, **person})["id"]


def campaigns(hs, contact_id: str) -> str:
    return hs_get(hs, contact_id, CAMPAIGNS_PROPERTY).get(CAMPAIGNS_PROPERTY) or ""


def operations(run) -> Counter:
    return Counter(
        f"{c.system}:{c.operation}" for c in ApiCall.objects.filter(run=run.pk).order_by("pk")
    )


def test_a_lead_added_to_a_campaign_shows_it_and_loses_it_when_removed(
    cycle, integration, sf_person, hs_person
):
    spring = campaign(sf_person, "Spring Webinar")
    lead = new_lead(sf_person, Email="member@example.com")
    member = join(sf_person, spring, LeadId=lead)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert campaigns(hs_person, contact) == "Spring Webinar"

    sf_person.CampaignMember.delete(member)
    cycle()
    assert campaigns(hs_person, contact) == ""


def test_a_contact_in_two_campaigns_shows_both_and_edits_never_reach_salesforce(
    cycle, integration, sf_person, hs_person
):
    person = sf_person.Contact.create({"LastName": "Twice", "Email": "twice@example.com"})["id"]
    cycle()
    contact = cycle.link(salesforce_id=person).hubspot_id
    join(sf_person, campaign(sf_person, "Trade Show"), ContactId=person)
    join(sf_person, campaign(sf_person, "Autumn Mailing"), ContactId=person)
    run = cycle()
    assert campaigns(hs_person, contact) == "Autumn Mailing; Trade Show"
    # Both members in one read and one write.
    calls = operations(run)
    assert calls["hubspot:contacts.batch.update"] == 1, calls
    assert run.counts.get("campaigns_updated") == 1, run.counts

    # Someone edits the property in HubSpot: nothing goes to Salesforce (it isn't mappable).
    assert CAMPAIGNS_PROPERTY in engine_key_properties("contacts")
    assert not FieldMapping.objects.filter(hubspot_property=CAMPAIGNS_PROPERTY).exists()
    hs_update(hs_person, contact, **{CAMPAIGNS_PROPERTY: "Made up"})
    run = cycle()
    assert not run.counts.get("updated_in_salesforce"), run.counts


def test_people_linked_after_joining_get_their_campaigns_and_idle_cycles_cost_nothing_more(
    cycle, integration, emulators, sf_person, hs_person
):
    cycle()  # the look for people linked later begins
    cycle.settings(salesforce_create_update="nothing")
    lead = new_lead(sf_person, Email="later@example.com")
    join(sf_person, campaign(sf_person, "Early Bird"), LeadId=lead)
    cycle()  # read, but no HubSpot contact to write to
    cycle.settings(salesforce_create_update="create_or_update")
    sf_person.Lead.update(lead, {"Title": "CEO"})
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert campaigns(hs_person, contact) == "Early Bird"

    # Idle: the campaign members' stream rides in the people's composite call.
    advance_clocks(emulators, 600)
    cycle()
    advance_clocks(emulators, 61)
    run = cycle()
    calls = operations(run)
    assert (
        calls["salesforce:composite"] == 1
        and sum(n for op, n in calls.items() if op.startswith("salesforce:")) == 1
    ), calls
    assert not calls["hubspot:contacts.batch.update"], calls


def test_the_contacts_tab_says_the_property_exists(integration, admin_client):
    html = admin_client.get("/contacts/").content.decode()
    assert "Salesforce campaigns" in html and "never syncs back" in html
