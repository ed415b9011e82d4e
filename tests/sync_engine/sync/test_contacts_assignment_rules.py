"""Salesforce's lead assignment rules (spec §11): they give an owner to a lead created without
a valid one, and never take a synced lead or an owner HubSpot chose away."""

import pytest

from .helpers import hs_create, hs_get, hs_update, new_lead, user_and_owner


@pytest.fixture
def queue_user(emulators):
    """The user an active lead assignment rule hands every lead it runs on."""
    salesforce = emulators.salesforce.app
    user = salesforce.run_action(
        "create_user", first_name="Lead", last_name="Queue", email="queue@example.com"
    )
    return lambda: salesforce.run_action("set_assignment_rule", object="Lead", owner_id=user)


def test_a_new_lead_without_a_valid_owner_is_assigned_by_the_rules(
    cycle, queue_user, sf_person, hs_person, emulators
):
    sanne_user, sanne = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    rule_owner = queue_user()
    owned = hs_create(
        hs_person, email="owned@example.com", lastname="A", company="X", hubspot_owner_id=sanne
    )
    ownerless = hs_create(hs_person, email="ownerless@example.com", lastname="B", company="X")
    run = cycle()
    assert run.counts["created_in_salesforce"] == 2, run.counts
    owned_lead = sf_person.Lead.get(cycle.link(hubspot_id=owned).salesforce_id)
    ownerless_lead = sf_person.Lead.get(cycle.link(hubspot_id=ownerless).salesforce_id)
    assert owned_lead["OwnerId"] == sanne_user  # the rule didn't override HubSpot's owner
    assert ownerless_lead["OwnerId"] == rule_owner


def test_updating_a_synced_lead_does_not_run_the_rules(
    cycle, queue_user, sf_person, hs_person, emulators
):
    sanne_user, _ = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    lead = new_lead(sf_person, Email="kept@example.com", OwnerId=sanne_user)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    queue_user()
    hs_update(hs_person, contact, firstname="Renamed")
    run = cycle()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    record = sf_person.Lead.get(lead)
    assert (record["FirstName"], record["OwnerId"]) == ("Renamed", sanne_user)
    assert hs_get(hs_person, contact, "firstname")["firstname"] == "Renamed"
