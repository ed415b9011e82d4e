"""Contacts ⇄ leads/contacts: owners changed on both sides, HubSpot's unsubscribes."""

import time

from sync_engine.models import SyncError

from .helpers import hs_get, hs_update, new_lead, user_and_owner

WRITES = ("updated_in_salesforce", "updated_in_hubspot", "created_in_hubspot", "owner_resets")


def writes(run) -> dict[str, int]:
    return {k: run.counts[k] for k in WRITES if run.counts.get(k)}


def test_an_owner_changed_on_both_sides_follows_the_later_change(
    cycle, emulators, sf_person, hs_person
):
    """The owner is two-way (spec §11): when both sides reassign the person between two
    cycles, the later change wins, HubSpot's too."""
    sanne_user, sanne = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    piet_user, piet = user_and_owner(emulators, "Piet", "Bakker", "piet@example.com")
    kees_user, kees = user_and_owner(emulators, "Kees", "Jansen", "kees@example.com")
    lead = new_lead(sf_person, Email="owned@example.com", OwnerId=sanne_user)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id

    sf_person.Lead.update(lead, {"OwnerId": piet_user})
    time.sleep(1.1)  # Salesforce stamps whole seconds
    hs_update(hs_person, contact, hubspot_owner_id=kees)
    cycle()
    assert sf_person.Lead.get(lead)["OwnerId"] == kees_user
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == kees
    assert not writes(cycle())

    # The other way round: Salesforce's later reassignment wins.
    hs_update(hs_person, contact, hubspot_owner_id=piet)
    time.sleep(1.1)
    sf_person.Lead.update(lead, {"OwnerId": sanne_user})
    cycle()
    assert sf_person.Lead.get(lead)["OwnerId"] == sanne_user
    assert hs_get(hs_person, contact, "hubspot_owner_id")["hubspot_owner_id"] == sanne


def unsubscribe(emulators, contact: str) -> None:
    """The person unsubscribes from all email: HubSpot itself sets the read-only
    ``hs_email_optout`` (no API call can)."""
    from emulators.hubspot.store import Actor

    app = emulators.hubspot.app
    with app.lock:
        contacts = app.crm.object_type("contacts")
        record = app.crm.require(contacts, str(contact), archived=False)
        actor = Actor("EMAIL", "unsubscribe")
        app.crm.update(contacts, record, {"hs_email_optout": "true"}, actor, app.now_ms())
        app.dirty = True


def test_an_unsubscribe_in_hubspot_checks_email_opt_out_in_salesforce(
    cycle, emulators, sf_person, hs_person
):
    """The default mapping *Unsubscribed from all email* → *Email Opt Out* (Prefer Salesforce
    unless blank): HubSpot's unsubscribe reaches Salesforce, whose unchecked box is its
    blank; a rep who unchecks it later is preferred, and nothing goes back and forth."""
    lead = new_lead(sf_person, Email="optout@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert sf_person.Lead.get(lead)["HasOptedOutOfEmail"] is False

    unsubscribe(emulators, contact)
    cycle()
    assert sf_person.Lead.get(lead)["HasOptedOutOfEmail"] is True
    assert not writes(cycle())

    sf_person.Lead.update(lead, {"HasOptedOutOfEmail": False})
    cycle()
    assert sf_person.Lead.get(lead)["HasOptedOutOfEmail"] is False
    assert hs_get(hs_person, contact, "hs_email_optout")["hs_email_optout"] == "true"
    assert not writes(cycle())
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_a_contact_outside_the_inclusion_list_stays_when_its_lead_is_deleted(
    cycle, emulators, sf_person, hs_person
):
    """With *Delete* on, a Salesforce delete deletes the HubSpot contact, but not one outside
    the inclusion list: those receive no Salesforce changes (spec §6.4, §6.5)."""
    from .test_contacts_deletes_merges import hs_exists
    from .test_contacts_inclusion_list import make_list

    cycle.settings(salesforce_delete="delete")
    list_id = make_list(emulators)
    member = new_lead(sf_person, Email="member@example.com", Title="sync lead")
    leaver = new_lead(sf_person, Email="leaver@example.com", Title="sync lead")
    cycle()  # no list yet: everyone syncs
    member_contact = cycle.link(salesforce_id=member).hubspot_id
    leaver_contact = cycle.link(salesforce_id=leaver).hubspot_id
    cycle.settings(inclusion_list_id=list_id)
    hs_update(hs_person, leaver_contact, jobtitle="left the list")
    cycle()

    sf_person.Lead.delete(member)
    sf_person.Lead.delete(leaver)
    run = cycle()
    assert not hs_exists(hs_person, member_contact)
    assert hs_exists(hs_person, leaver_contact)
    assert hs_get(hs_person, leaver_contact, "email")["email"] == "leaver@example.com"
    assert run.counts["skipped_outside_list"] >= 1
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_employees_go_to_hubspot_as_the_range_they_fall_in_and_ranges_stay_there(
    cycle, sf_person, hs_person
):
    """The default Number of Employees mapping pairs HubSpot's dropdown of ranges ("25-50")
    with Salesforce's number: a number fills the range it falls in (no new option per
    number), and a range, which names no number, isn't written to Salesforce nor an error."""
    big = new_lead(sf_person, Email="big@example.com", NumberOfEmployees=250)
    edge = new_lead(sf_person, Email="edge@example.com", NumberOfEmployees=50)
    huge = new_lead(sf_person, Email="huge@example.com", NumberOfEmployees=12000)
    cycle()
    ranges = {
        lead: hs_get(hs_person, cycle.link(salesforce_id=lead).hubspot_id, "numemployees")
        for lead in (big, edge, huge)
    }
    assert {k: v["numemployees"] for k, v in ranges.items()} == {
        big: "100-500",
        edge: "25-50",
        huge: "1000+",
    }
    options = hs_person.crm.properties.core_api.get_by_name("contacts", "numemployees").options
    assert [o.value for o in options] == ["1-5", "5-25", "25-50", "50-100", "100-500",
                                          "500-1000", "1000+"]  # fmt: skip
    small = new_lead(sf_person, Email="small@example.com")
    cycle()
    hs_update(hs_person, cycle.link(salesforce_id=small).hubspot_id, numemployees="5-25")
    cycle()
    assert sf_person.Lead.get(small)["NumberOfEmployees"] is None
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert not writes(cycle())
    sf_person.Lead.update(big, {"NumberOfEmployees": 600})
    cycle()
    big_contact = cycle.link(salesforce_id=big).hubspot_id
    assert hs_get(hs_person, big_contact, "numemployees")["numemployees"] == "500-1000"


def test_a_range_chosen_in_hubspot_under_two_way_is_not_undone_by_salesforces_number(
    cycle, sf_person, hs_person
):
    from .helpers import set_rule

    set_rule(cycle.integration, "numemployees", "two_way")
    lead = new_lead(sf_person, Email="two@example.com", NumberOfEmployees=250)
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    hs_update(hs_person, contact, numemployees="1000+")
    cycle()
    sf_person.Lead.update(lead, {"Title": "CFO"})  # read again, its number unchanged
    cycle()
    assert hs_get(hs_person, contact, "numemployees")["numemployees"] == "1000+"
    assert sf_person.Lead.get(lead)["NumberOfEmployees"] == 250
    assert not writes(cycle())


def test_a_lost_lead_create_then_an_email_change_makes_no_second_lead(
    cycle, emulators, sf_person, hs_person
):
    """Salesforce made the lead but its answer was lost; the contact's email changed before
    the next cycle. That lead is the contact's (the email it was created with is noted), not
    a stranger's to leave, and no second lead is made."""
    from sync_engine.sync.cycle import sync_cycle_run

    from .helpers import hs_create

    cycle.settings(hubspot_creates="lead")
    contact = hs_create(hs_person, email="first@example.com", lastname="Lost", company="Acme")
    emulators.salesforce.app.faults.add(
        path=r"/composite/sobjects$", method="POST", apply_then_fail=True, drop=True, times=1
    )
    sync_cycle_run(integration=cycle.integration, object_name="contacts")
    assert len(sf_person.query_all("SELECT Id FROM Lead")["records"]) == 1  # it landed
    hs_update(hs_person, contact, email="second@example.com")
    cycle()
    cycle()
    leads = sf_person.query_all("SELECT Id, Email FROM Lead")["records"]
    assert len(leads) == 1 and cycle.link(hubspot_id=contact).salesforce_id == leads[0]["Id"]
    page = hs_person.crm.contacts.basic_api.get_page(limit=10, properties=["email"])
    assert [c.id for c in page.results] == [contact]
    # Then as if the answer had come: Email is "Prefer Salesforce unless blank".
    assert leads[0]["Email"] == page.results[0].properties["email"] == "first@example.com"


def test_an_echo_of_a_lead_with_employees_costs_no_read_of_its_partner(cycle, sf_person, hs_person):
    """The range compares as the range in the echo checks too: the cycle after the write
    finds its own echo unchanged on both sides and reads no partner for it."""
    new_lead(sf_person, Email="echo@example.com", NumberOfEmployees=250)
    cycle()
    echo = cycle()  # the echo of the first cycle's writes: both sides in step
    # The contact is our create read back; the lead, read again in the overlap, unchanged.
    counts = (echo.counts["own_writes_read_back"], echo.counts["unchanged"])
    assert counts == (1, 1) and not writes(echo), dict(echo.counts)
    assert echo.calls == {"salesforce": 1, "hubspot": 1}  # no partner read
