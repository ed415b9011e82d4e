"""Limiting what syncs with an active HubSpot list (spec §6.5)."""

import copy

from emulators.testing import active_list

from .helpers import hs_create, hs_get, hs_update, new_lead, set_rule

SYNC_FLAG = {
    "filterBranchType": "OR",
    "filterBranches": [
        {
            "filterBranchType": "AND",
            "filters": [
                {
                    "filterType": "PROPERTY",
                    "property": "jobtitle",
                    "operation": {
                        "operationType": "STRING",
                        "operator": "CONTAINS",
                        "values": ["sync"],
                    },
                }
            ],
        }
    ],
}


def make_list(emulators):
    return active_list(emulators, "Sync to Salesforce", filter_branch=SYNC_FLAG)


def test_only_list_members_sync_and_entering_the_list_syncs(cycle, emulators, sf_person, hs_person):
    cycle.settings(inclusion_list_id=make_list(emulators))
    outside = hs_create(
        hs_person, email="out@example.com", lastname="Out", company="X", jobtitle="Analyst"
    )
    inside = hs_create(
        hs_person, email="in@example.com", lastname="In", company="X", jobtitle="please sync me"
    )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 1
    assert run.counts["skipped_outside_list"] >= 1
    cycle.link(hubspot_id=inside)
    hs_update(hs_person, outside, jobtitle="sync now")  # enters the active list
    cycle()
    lead = sf_person.Lead.get(cycle.link(hubspot_id=outside).salesforce_id)
    assert lead["Email"] == "out@example.com"


def test_contacts_that_leave_the_list_stop_receiving_salesforce_updates(
    cycle, emulators, sf_person, hs_person
):
    list_id = make_list(emulators)
    lead = new_lead(sf_person, Email="leaver@example.com", Title="sync lead")
    cycle()  # no list yet: everyone syncs
    contact = cycle.link(salesforce_id=lead).hubspot_id
    cycle.settings(inclusion_list_id=list_id)
    hs_update(hs_person, contact, jobtitle="left the list")
    cycle()
    sf_person.Lead.update(lead, {"Phone": "+1 555 0199"})
    cycle()
    assert hs_get(hs_person, contact, "phone")["phone"] in (None, "")
    assert sf_person.Lead.get(lead)["Title"] == "sync lead"  # and nothing goes out either


def test_salesforce_creates_still_happen_for_people_outside_the_list(
    cycle, emulators, sf_person, hs_person
):
    cycle.settings(inclusion_list_id=make_list(emulators))
    lead = new_lead(sf_person, Email="newcomer@example.com", Title="Buyer")
    run = cycle()
    assert run.counts["created_in_hubspot"] == 1
    contact = cycle.link(salesforce_id=lead).hubspot_id
    assert hs_get(hs_person, contact, "email")["email"] == "newcomer@example.com"


def widen(hs_person, list_id, word):
    """Someone changes the active list's filter in HubSpot: contacts enter it without being
    edited."""
    branch = copy.deepcopy(SYNC_FLAG)
    branch["filterBranches"][0]["filters"][0]["operation"]["values"] = [word]
    hs_person.crm.lists.lists_api.update_list_filters(list_id, {"filterBranch": branch})


def test_contacts_entering_the_list_unedited_sync(cycle, emulators, sf_person, hs_person):
    """§5.2: 'any contact, new or existing, that enters the inclusion segment' syncs, also
    when the list changed rather than the contact; a linked one then gets what Salesforce
    held back while it was outside. An unchanged list costs one HubSpot call a cycle."""
    list_id = make_list(emulators)
    lead = new_lead(sf_person, Email="kept@example.com", Title="Analyst")
    cycle()  # no list yet: everyone syncs
    kept = cycle.link(salesforce_id=lead).hubspot_id
    cycle.settings(inclusion_list_id=list_id)
    hs_create(hs_person, email="ana@example.com", lastname="Ana", company="X", jobtitle="Analyst")
    sf_person.Lead.update(lead, {"Phone": "+1 555 0199"})
    cycle()
    assert not sf_person.query("SELECT Id FROM Lead WHERE Email = 'ana@example.com'")["records"]
    assert hs_get(hs_person, kept, "phone")["phone"] in (None, "")
    widen(hs_person, list_id, "Analyst")
    run = cycle()
    leads = sf_person.query("SELECT Title FROM Lead WHERE Email = 'ana@example.com'")["records"]
    assert [r["Title"] for r in leads] == ["Analyst"]
    assert hs_get(hs_person, kept, "phone")["phone"] == "+1 555 0199"
    assert run.counts["list_entrants"] == 2
    assert not cycle().counts.get("list_entrants")  # entered once, synced once
    idle = cycle()  # the changes, and the list's last page of joins
    assert (idle.calls["salesforce"], idle.calls["hubspot"]) == (1, 2), idle.calls


def test_members_leaving_never_hide_those_who_join(integration, hs_person):
    """The list's memberships are read in join order from the last page read before; members
    leaving can move that page past new ones (its paging counts positions), which the list's
    reading notices and reads the list whole to find them."""
    from hubspot.crm.contacts import (
        BatchInputSimplePublicObjectBatchInputForCreate,
        SimplePublicObjectBatchInputForCreate,
    )

    from sync_engine.connectors.hubspot import HubSpotConnector
    from sync_engine.sync.changes import hubspot_list_joins

    ids = []
    for start in range(0, 300, 100):
        made = hs_person.crm.contacts.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(properties={"email": f"m{i}@example.com"})
                    for i in range(start, start + 100)
                ]
            )
        )
        ids += sorted((str(o.id) for o in made.results), key=int)
    list_id = hs_person.crm.lists.lists_api.create(
        {"name": "Hand-picked", "objectTypeId": "0-1", "processingType": "MANUAL"}
    ).list.list_id
    hs_person.crm.lists.memberships_api.add(list_id, ids[:280])
    hubspot = HubSpotConnector(integration=integration)
    entrants, state = hubspot_list_joins(hubspot, list_id, {})
    assert entrants == []  # a list just chosen starts no sync
    assert hubspot_list_joins(hubspot, list_id, state)[0] == []
    hs_person.crm.lists.memberships_api.remove(list_id, ids[:100])
    hs_person.crm.lists.memberships_api.add(list_id, ids[280:285])
    entrants, state = hubspot_list_joins(hubspot, list_id, state)
    assert entrants == ids[280:285]
    hs_person.crm.lists.memberships_api.add(list_id, ids[285:])
    assert hubspot_list_joins(hubspot, list_id, state)[0] == ids[285:]


def test_lifecycle_stages_never_reach_contacts_outside_the_list(
    cycle, emulators, sf_person, hs_person
):
    """§6.5: contacts outside the list receive no Salesforce updates, lifecycle stages from
    opportunities (§7) included."""
    from .test_contacts_lifecycle import opportunity, stage

    cycle.settings(inclusion_list_id=make_list(emulators))
    opp, account = opportunity(sf_person)
    outside = sf_person.Contact.create(
        {"LastName": "Out", "Email": "out@example.com", "AccountId": account, "Title": "Analyst"}
    )["id"]
    inside = sf_person.Contact.create(
        {"LastName": "In", "Email": "in@example.com", "AccountId": account, "Title": "sync me"}
    )["id"]
    cycle()  # both created in HubSpot (Salesforce creates always happen)
    app = emulators.salesforce.app
    for contact in (outside, inside):
        app.run_action("add_contact_role", opportunity_id=opp, contact_id=contact)
    cycle()
    assert stage(hs_person, cycle.link(salesforce_id=inside).hubspot_id) == "opportunity"
    assert stage(hs_person, cycle.link(salesforce_id=outside).hubspot_id) != "opportunity"


# --- the chosen list deleted in HubSpot -------------------------------------------------------
def list_reads(integration) -> int:
    """The HubSpot reads of a list's members (either order) so far."""
    from sync_engine.models import ApiCall

    return ApiCall.objects.filter(
        integration=integration, operation__startswith="lists.memberships."
    ).count()


def test_a_list_deleted_in_hubspot_holds_every_contact_and_the_run_says_why(
    cycle, emulators, sf_person, hs_person
):
    """While the chosen list is gone nobody counts as in it: nothing goes out to Salesforce
    and no contact receives Salesforce updates, but new Salesforce people are still created
    in HubSpot (§6.5), and the run says why instead of failing on HubSpot's 404. Choosing
    another list makes it all sync again on the next cycle."""
    set_rule(cycle.integration, "lastname", "two_way")  # HubSpot's edits go out
    list_id = make_list(emulators)
    cycle.settings(inclusion_list_id=list_id)
    member = hs_create(
        hs_person, email="member@example.com", lastname="Member", company="X", jobtitle="sync"
    )
    cycle()
    lead = cycle.link(hubspot_id=member).salesforce_id
    hs_person.crm.lists.lists_api.remove(list_id)  # deleted in HubSpot; the sync wasn't told
    hs_update(hs_person, member, lastname="Renamed")
    hs_create(
        hs_person, email="joiner@example.com", lastname="Joiner", company="X", jobtitle="sync"
    )
    sf_person.Lead.update(lead, {"Phone": "+1 555 0100"})
    from_salesforce = new_lead(sf_person, Email="from-sf@example.com")
    before = list_reads(cycle.integration)
    run = cycle()  # succeeded (the fixture checks), not failed on the 404
    assert "no longer exists in HubSpot" in run.message and f"list {list_id}" in run.message
    assert run.counts["skipped_outside_list"] >= 2
    assert list_reads(cycle.integration) == before + 1  # found gone once, not asked again
    assert sf_person.Lead.get(lead)["LastName"] == "Member"
    assert not sf_person.query("SELECT Id FROM Lead WHERE Email = 'joiner@example.com'")["records"]
    assert hs_get(hs_person, member, "phone")["phone"] in (None, "")
    created = cycle.link(salesforce_id=from_salesforce).hubspot_id
    assert hs_get(hs_person, created, "email")["email"] == "from-sf@example.com"
    assert "no longer exists in HubSpot" in cycle().message  # every cycle, until it's fixed

    cycle.settings(inclusion_list_id=make_list(emulators))  # another list: the member's in it
    hs_update(hs_person, member, lastname="Back")
    sf_person.Lead.update(lead, {"Phone": "+1 555 0111"})
    run = cycle()
    assert run.message == ""
    assert sf_person.Lead.get(lead)["LastName"] == "Back"
    assert hs_get(hs_person, member, "phone")["phone"] == "+1 555 0111"


def test_with_a_deleted_list_chosen_no_list_lets_everyone_sync_again(
    cycle, emulators, sf_person, hs_person
):
    list_id = make_list(emulators)
    cycle.settings(inclusion_list_id=list_id)
    cycle()
    hs_person.crm.lists.lists_api.remove(list_id)
    assert "no longer exists in HubSpot" in cycle().message
    cycle.settings(inclusion_list_id=None)
    hs_create(hs_person, email="anyone@example.com", lastname="Anyone", company="X")
    run = cycle()
    assert run.message == "" and run.counts["created_in_salesforce"] == 1


def test_a_list_read_failing_for_a_while_is_retried_and_never_taken_for_a_deleted_list(
    cycle, integration, emulators, hs_person
):
    """Only HubSpot's 404 means the list is gone: a 5xx is retried within the cycle as every
    read is, and one that persists fails the cycle as a temporary failure (next cycle tries
    again), without holding anyone."""
    from sync_engine.sync.cycle import sync_cycle_run

    cycle.settings(inclusion_list_id=make_list(emulators))
    hs_create(hs_person, email="in@example.com", lastname="In", company="X", jobtitle="sync")
    faults = emulators.hubspot.app.faults
    once = faults.add(path=r"/crm/v3/lists/\d+/memberships", status=503, times=1)
    run = cycle()
    assert run.message == "" and run.counts["created_in_salesforce"] == 1
    faults.remove(once.id)
    faults.add(path=r"/crm/v3/lists/\d+/memberships", status=503)
    run = sync_cycle_run(integration=integration, object_name="contacts", trigger="manual")
    assert run.status == "failed"
    assert run.message.startswith("Temporary failure") and "no longer exists" not in run.message
