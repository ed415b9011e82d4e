"""Hunt 3: owners whose Salesforce name follows their locale (spec §11), lifecycle stages of
contacts that sync after their opportunities' events (spec §7)."""

from sync_engine.models import SyncError

from .helpers import due_now, hs_create, hs_get, hs_update, new_lead, user_and_owner
from .test_contacts_lifecycle import opportunity, stage


def refuse_contact_creates(emulators, times: int = 1) -> None:
    """HubSpot refuses the next contact upsert."""
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/contacts/batch/upsert$",
        status=400,
        body={
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Property values were not valid",
        },
        times=times,
    )


def test_a_contact_whose_hubspot_create_failed_gets_its_stage_once_it_syncs(
    cycle, emulators, sf_person, hs_person
):
    """The role is added while the contact's HubSpot create fails: once the retry creates
    the contact, it is an *opportunity* as its opportunity makes it (spec §7)."""
    opp, account = opportunity(sf_person)
    contact = sf_person.Contact.create(
        {"LastName": "Late", "Email": "late.sync@example.com", "AccountId": account}
    )["id"]
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    refuse_contact_creates(emulators)
    cycle()
    error = SyncError.objects.get(record_key=f"salesforce:{contact}", resolved_at__isnull=True)
    due_now(error)
    cycle()
    hs_contact = cycle.link(salesforce_id=contact).hubspot_id
    assert stage(hs_person, hs_contact) == "opportunity"


def test_a_hubspot_contact_linked_later_gets_the_customer_stage(
    cycle, emulators, sf_person, hs_person
):
    """Salesforce contacts don't create HubSpot contacts here ("Do nothing"): a HubSpot
    contact made later with the email of one whose opportunity was won links to it and
    becomes a *customer* (spec §7, retroactive)."""
    cycle.settings(salesforce_create_update="nothing")
    won, account = opportunity(sf_person, stage="Closed Won")
    contact = sf_person.Contact.create(
        {"LastName": "Buyer", "Email": "later@example.com", "AccountId": account}
    )["id"]
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=won, contact_id=contact)
    cycle()
    hs_contact = hs_create(hs_person, email="later@example.com", lastname="Buyer")
    cycle()
    assert cycle.link(hubspot_id=hs_contact).salesforce_id == contact
    assert hs_get(hs_person, hs_contact, "lifecyclestage")["lifecyclestage"] == "customer"


def test_a_hubspot_owner_matches_a_user_whose_locale_puts_the_family_name_first(
    cycle, emulators, sf_person, hs_person
):
    """Salesforce writes a Japanese-locale user's Name "Yamada Taro"; HubSpot's owner is
    Taro Yamada, the same person by name and email (spec §11): the owner reaches Salesforce
    and isn't reset."""
    sanne_user, sanne = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    taro_user, taro = user_and_owner(emulators, "Taro", "Yamada", "taro@example.com")
    sf_person.User.update(taro_user, {"LocaleSidKey": "ja_JP"})
    assert sf_person.User.get(taro_user)["Name"] == "Yamada Taro"
    lead = new_lead(sf_person, Email="order@example.com", OwnerId=sanne_user)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == sanne
    hs_update(hs_person, contact, hubspot_owner_id=taro)
    run = cycle()
    assert not run.counts.get("owner_resets"), run.counts
    assert sf_person.Lead.get(lead)["OwnerId"] == taro_user
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == taro


def test_a_contact_that_enters_the_inclusion_list_gets_the_stage_held_back(
    cycle, emulators, sf_person, hs_person
):
    """Outside the inclusion list a contact receives no stage (spec §6.5); once it enters
    the list it gets the one its opportunity gave meanwhile (spec §7)."""
    from .test_contacts_inclusion_list import make_list

    cycle.settings(inclusion_list_id=make_list(emulators))
    opp, account = opportunity(sf_person)
    contact = sf_person.Contact.create(
        {"LastName": "Outsider", "Email": "outsider@example.com", "AccountId": account}
    )["id"]
    cycle()  # created in HubSpot (creates still happen), outside the list
    hs_contact = cycle.link(salesforce_id=contact).hubspot_id
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert not stage(hs_person, hs_contact)  # held back
    hs_update(hs_person, hs_contact, jobtitle="please sync")  # enters the list
    cycle()
    assert stage(hs_person, hs_contact) == "opportunity"
