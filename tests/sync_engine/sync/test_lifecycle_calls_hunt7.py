"""Hunt 7: contacts linked in the cycle whose lifecycle streams moved them already (spec §7;
issue #5, "Speed"): the look for newly linked contacts reads and writes only what the streams
can't have given them."""

from collections import Counter

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall

from .helpers import hs_create
from .test_contacts_lifecycle import opportunity, stage


def operations(run) -> Counter:
    return Counter(
        f"{c.system}:{c.operation}" for c in ApiCall.objects.filter(run=run.pk).order_by("pk")
    )


def new_buyer(sf_person, emulators, email, opp, account) -> str:
    contact = sf_person.Contact.create({"LastName": "Buyer", "Email": email, "AccountId": account})
    emulators.salesforce.app.run_action(
        "add_contact_role", opportunity_id=opp, contact_id=contact["id"]
    )
    return contact["id"]


def test_a_first_read_of_the_streams_leaves_nothing_for_the_newly_linked_look(
    cycle, emulators, sf_person, hs_person
):
    """The streams' first read sees every role: the contacts linked before it get their
    stage from it, with no second read of their roles, opportunities or HubSpot stages."""
    cycle()  # empty CRMs: the look for new links begins; the streams handled nothing yet
    advance_clocks(emulators, 1)  # the people come after the campaign members' read
    won, account = opportunity(sf_person, stage="Closed Won")
    opp, _ = opportunity(sf_person)
    buyer = new_buyer(sf_person, emulators, "first.buyer@example.com", won, account)
    prospect = new_buyer(sf_person, emulators, "first.prospect@example.com", opp, account)
    run = cycle()
    assert stage(hs_person, cycle.link(salesforce_id=buyer).hubspot_id) == "customer"
    assert stage(hs_person, cycle.link(salesforce_id=prospect).hubspot_id) == "opportunity"
    calls = operations(run)
    # The streams' reads and their look at the opportunities and the won one's roles; no
    # second read of the contacts' roles and opportunities (6 calls before).
    assert calls["salesforce:query"] + calls["salesforce:composite"] == 4, calls
    # One read of the people written, one of the stages (4 before: the opportunity stream's
    # win and the newly linked look read the contacts' stages again).
    assert calls["hubspot:contacts.batch.read"] == 2, calls
    assert run.counts.get("lifecycle_updates") == 2, run.counts


def test_a_contact_the_stream_moved_this_cycle_is_not_read_in_hubspot_again(
    cycle, emulators, sf_person, hs_person
):
    """Past the first read, a contact linked this cycle has its roles read again (an older
    one may have found it unlinked), but the stage the stream just wrote isn't read back."""
    opp, account = opportunity(sf_person)
    first = new_buyer(sf_person, emulators, "early@example.com", opp, account)
    cycle()
    cycle()  # linked, then an *opportunity*: the streams have handled events
    assert stage(hs_person, cycle.link(salesforce_id=first).hubspot_id) == "opportunity"
    later = new_buyer(sf_person, emulators, "later@example.com", opp, account)
    run = cycle()
    assert stage(hs_person, cycle.link(salesforce_id=later).hubspot_id) == "opportunity"
    calls = operations(run)
    # One read of the people written, one of the stages by the stream; not again (3 before).
    assert calls["hubspot:contacts.batch.read"] == 2, calls
    assert run.counts.get("lifecycle_updates") == 1, run.counts


def test_an_older_won_role_still_reaches_a_contact_the_stream_moved_less_far(
    cycle, emulators, sf_person, hs_person
):
    """A won opportunity's role came while the contact had no HubSpot partner; in the cycle
    a HubSpot contact with its email links to it, a new role on an open opportunity makes
    the stream write *opportunity*: the look for newly linked contacts still makes it a
    *customer* (spec §7, retroactive)."""
    cycle.settings(salesforce_create_update="nothing")
    won, account = opportunity(sf_person, stage="Closed Won")
    contact = new_buyer(sf_person, emulators, "older.role@example.com", won, account)
    cycle()
    cycle()  # the won role is handled: nobody to move
    opp, _ = opportunity(sf_person)
    emulators.salesforce.app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    hs_contact = hs_create(hs_person, email="older.role@example.com", lastname="Buyer")
    cycle()
    assert cycle.link(hubspot_id=hs_contact).salesforce_id == contact
    assert stage(hs_person, hs_contact) == "customer"
