"""Limiting what syncs with an active HubSpot list (spec §6.5)."""

from emulators.testing import active_list

from .helpers import hs_create, hs_get, hs_update, new_lead

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
