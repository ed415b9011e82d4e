"""Change cursors survive late commits and search lag (stamps are coarse, commits land late)."""

import time

from .helpers import hs_create, new_lead


def test_a_late_salesforce_commit_with_an_earlier_stamp_still_syncs(cycle, emulators, sf_person):
    sf = emulators.salesforce.app
    sf.run_action("late_commit", seconds=60, count=1)
    late = new_lead(sf_person, Email="late@example.com")  # stamped now, visible in a minute
    on_time = new_lead(sf_person, Email="ontime@example.com")
    run = cycle()
    assert run.counts["created_in_hubspot"] == 1
    cycle.link(salesforce_id=on_time)
    sf.clock.advance(61)
    run = cycle()
    assert run.counts["created_in_hubspot"] == 1
    cycle.link(salesforce_id=late)


def test_hubspot_search_lag_does_not_lose_changes(cycle, emulators, hs_person):
    hs = emulators.hubspot.app
    hs.run_action("set_search_lag", ms=1500)
    contact = hs_create(hs_person, email="lagging@example.com", lastname="Lag", company="X")
    first = cycle()
    assert not first.counts.get("created_in_salesforce")  # not searchable yet
    time.sleep(1.6)
    second = cycle()
    assert second.counts["created_in_salesforce"] == 1
    cycle.link(hubspot_id=contact)


def test_many_records_in_one_second_are_all_read_once(cycle, sf_person, emulators):
    emulators.salesforce.app.clock.freeze()  # every record gets the same SystemModstamp
    records = [
        {
            "attributes": {"type": "Lead"},
            "LastName": f"L{i}",
            "Company": "C",
            "Email": f"same-second-{i}@example.com",
        }
        for i in range(450)
    ]
    for start in range(0, 450, 200):
        sf_person.restful(
            "composite/sobjects",
            method="POST",
            json={"allOrNone": False, "records": records[start : start + 200]},
        )
    run = cycle()
    assert run.counts["created_in_hubspot"] == 450
    again = cycle()
    assert not again.counts.get("created_in_hubspot") and not again.counts.get("updated_in_hubspot")


def test_writes_during_a_read_do_not_make_it_skip_records(cycle, sf_person, hs_person):
    """HubSpot pages by modification date: writing to the records already read moves them to
    the end of that order, which must not make the read skip the ones after them."""
    shared = [
        {
            "attributes": {"type": "Lead"},
            "LastName": f"S{i}",
            "Company": "C",
            "Email": f"shared-{i}@example.com",
            "Title": "From Salesforce",
        }
        for i in range(1000)
    ]
    for start in range(0, len(shared), 200):
        sf_person.restful(
            "composite/sobjects",
            method="POST",
            json={"allOrNone": False, "records": shared[start : start + 200]},
        )
    batch = hs_person.crm.contacts.batch_api
    for start in range(0, 1000, 100):  # the same people in HubSpot, with other titles
        batch.create(
            {
                "inputs": [
                    {
                        "properties": {
                            "email": f"shared-{i}@example.com",
                            "lastname": f"S{i}",
                            "jobtitle": "From HubSpot",
                        }
                    }
                    for i in range(start, start + 100)
                ]
            }
        )
    for start in (0, 75):  # then people only HubSpot has, read on the last pages
        batch.create(
            {
                "inputs": [
                    {
                        "properties": {
                            "email": f"only-{i}@example.com",
                            "lastname": f"O{i}",
                            "company": "C",
                        }
                    }
                    for i in range(start, start + 75)
                ]
            }
        )
    run = cycle()
    assert run.counts["created_in_salesforce"] == 150, run.counts
    assert run.counts["updated_in_hubspot"] >= 1000  # Salesforce's titles went to HubSpot
