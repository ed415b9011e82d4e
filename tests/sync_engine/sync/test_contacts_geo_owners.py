"""State/country matching (spec §12) and owners (spec §11)."""

import pytest

from .helpers import hs_create, hs_get, hs_update, new_lead, user_and_owner


@pytest.fixture
def picklists(emulators):
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)


def test_convert_mode_sends_standard_values_and_drops_states_of_stateless_countries(
    cycle, picklists, sf_person, hs_person
):
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    us = hs_create(
        hs_person, email="us@example.com", lastname="A", company="X", country="USA", state="ca"
    )
    nl = hs_create(
        hs_person,
        email="nl@example.com",
        lastname="B",
        company="X",
        country="Holland",
        state="Utrecht",
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 2, run.counts
    us_lead = sf_person.Lead.get(cycle.link(hubspot_id=us).salesforce_id)
    assert (us_lead["Country"], us_lead["State"]) == ("United States", "California")
    nl_lead = sf_person.Lead.get(cycle.link(hubspot_id=nl).salesforce_id)
    assert (nl_lead["Country"], nl_lead["State"]) == ("Netherlands", None)
    cycle()  # Salesforce's defaults for the new leads (e.g. Status) flow back once
    idle = cycle()
    assert not idle.counts.get("updated_in_salesforce") and not idle.counts.get(
        "updated_in_hubspot"
    )
    assert hs_get(hs_person, nl, "state")["state"] == "Utrecht"  # HubSpot keeps its text


def test_as_is_mode_lets_salesforce_reject_free_text(cycle, picklists, sf_person, hs_person):
    from sync_engine.models import SyncError

    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="as_is")
    contact = hs_create(
        hs_person, email="holland@example.com", lastname="C", company="X", country="Holland"
    )
    cycle()
    error = SyncError.objects.get(record_key=f"hubspot:{contact}", resolved_at__isnull=True)
    assert error.error_type == "picklist"
    assert "country" in error.message.lower()


def test_picklists_disabled_sends_text_unchanged(cycle, sf_person, hs_person):
    contact = hs_create(
        hs_person,
        email="free@example.com",
        lastname="D",
        company="X",
        country="Holland",
        state="Utrecht",
    )
    cycle()
    lead = sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
    assert (lead["Country"], lead["State"]) == ("Holland", "Utrecht")


def test_the_orgs_own_states_are_used_for_every_country_it_configures_them_for(
    cycle, picklists, sf_person, hs_person
):
    """Which countries have states comes from the org's describe (the dependent state
    picklist), not a fixed list: this org configures Japan's prefectures."""
    cycle.settings(salesforce_state_country="enabled", hubspot_state_country="convert")
    jp = hs_create(  # ISO's code for Osaka
        hs_person,
        email="jp@example.com",
        lastname="Sato",
        company="X",
        country="Japan",
        state="JP-27",
    )
    tokyo = hs_create(
        hs_person,
        email="tokyo@example.com",
        lastname="Ito",
        company="X",
        country="Japan",
        state="Tokyo",
    )
    cycle()
    lead = sf_person.Lead.get(cycle.link(hubspot_id=jp).salesforce_id)
    assert (lead["Country"], lead["State"], lead["StateCode"]) == ("Japan", "Osaka", "27")
    lead = sf_person.Lead.get(cycle.link(hubspot_id=tokyo).salesforce_id)
    assert (lead["Country"], lead["State"], lead["StateCode"]) == ("Japan", "Tokyo", "13")
    cycle()
    idle = cycle()
    assert not idle.counts.get("updated_in_salesforce") and not idle.counts.get(
        "updated_in_hubspot"
    )


def test_customised_picklists_get_the_orgs_codes(cycle, picklists, sf_person, hs_person):
    """The org's state codes, not ISO's: Salesforce calls Anhui "34" (ISO: CN-AH)."""
    cycle.settings(salesforce_state_country="customised", hubspot_state_country="convert")
    contact = hs_create(
        hs_person,
        email="cn@example.com",
        lastname="Li",
        company="X",
        country="China",
        state="Anhui",
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    lead = sf_person.Lead.get(cycle.link(hubspot_id=contact).salesforce_id)
    assert (lead["CountryCode"], lead["StateCode"], lead["State"]) == ("CN", "34", "Anhui")


def test_owners_match_on_name_and_email_and_unknown_owners_reset(
    cycle, emulators, sf_person, hs_person
):
    sf_user, sanne = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    stranger = emulators.hubspot.app.run_action(
        "create_owner", email="stranger@example.com", first_name="No", last_name="Match"
    )["id"]
    lead = new_lead(sf_person, Email="owned@example.com", OwnerId=sf_user)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == sanne

    hs_update(hs_person, contact, hubspot_owner_id=stranger)
    run = cycle()
    assert run.counts["owner_resets"] == 1
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == sanne
    assert sf_person.Lead.get(lead)["OwnerId"] == sf_user


def test_a_salesforce_owner_hubspot_has_no_owner_for_is_never_overwritten(
    cycle, emulators, sf_person, hs_person
):
    """Any Salesforce owner syncs into HubSpot, and on a first link Salesforce's owner wins
    (spec §11): a user without a HubSpot seat must not read as an owner to replace."""
    sanne_user, sanne = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    kees_user = emulators.salesforce.app.run_action(  # no HubSpot owner
        "create_user", first_name="Kees", last_name="Jansen", email="kees@example.com"
    )
    # Reassigned in Salesforce to a user HubSpot has no owner for: HubSpot's owner is cleared.
    lead = new_lead(sf_person, Email="moved@example.com", OwnerId=sanne_user)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == sanne
    sf_person.Lead.update(lead, {"OwnerId": kees_user})
    cycle()
    assert sf_person.Lead.get(lead)["OwnerId"] == kees_user
    assert not hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"]
    run = cycle()  # and stays so
    assert not run.counts.get("updated_in_salesforce") and not run.counts.get("owner_resets")
    assert sf_person.Lead.get(lead)["OwnerId"] == kees_user

    # First link of two existing people: Salesforce keeps its owner, HubSpot keeps its own.
    other = hs_create(hs_person, email="both@example.com", lastname="B", hubspot_owner_id=sanne)
    existing = new_lead(sf_person, Email="both@example.com", OwnerId=kees_user)
    cycle()
    assert cycle.link(hubspot_id=other).salesforce_id == existing
    assert sf_person.Lead.get(existing)["OwnerId"] == kees_user
    assert hs_get(hs_person, other, "hubspot_owner_id")["hubspot_owner_id"] == sanne


def test_a_hubspot_owner_matching_only_an_inactive_user_is_reset(
    cycle, emulators, sf_person, hs_person
):
    """Spec §11: a HubSpot owner syncs to Salesforce only when it matches an *active* user on
    name and email."""
    sanne_user, sanne = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    piet_user, piet = user_and_owner(emulators, "Piet", "Bakker", "piet@example.com")
    sf_person.User.update(piet_user, {"IsActive": False})
    lead = new_lead(sf_person, Email="inactive@example.com", OwnerId=sanne_user)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    hs_update(hs_person, contact, hubspot_owner_id=piet)
    run = cycle()
    assert run.counts["owner_resets"] == 1
    assert sf_person.Lead.get(lead)["OwnerId"] == sanne_user
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == sanne
