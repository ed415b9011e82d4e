"""The change probe with every pair on: 21 getUpdated/getDeleted subrequests leave room for four
queries aboard its call, and an object whose streams all ride is asked no getDeleted, which
makes room for a fifth (its queries read the deletes themselves)."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink

from ..everything import fill_both_sides, switch_everything_on, writes
from .test_cycle_probe import AllPairs


@pytest.fixture
def everything(integration, emulators, sf_person, hs_person):
    """Every pair on, filled on both sides, synced until a cycle writes nothing, then ten
    quiet minutes and the schedule's next cycle a minute later."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    projects = switch_everything_on(integration, hs_person)
    cycle = AllPairs(integration)
    cycle(trigger="manual")  # pipelines, key properties
    fill_both_sides(sf_person, hs_person, people=20, projects_type=projects, seed=11)
    for _ in range(5):
        runs, _ = cycle()
        if not writes(runs.values()):
            break
    advance_clocks(emulators, 600)
    cycle()
    advance_clocks(emulators, 60)
    cycle()
    return cycle


def linked(cycle, object_name: str, count: int) -> list[RecordLink]:
    return list(
        RecordLink.objects.filter(integration=cycle.integration, object=object_name)[:count]
    )


def test_a_burst_of_our_own_writes_costs_no_salesforce_call_after_its_cycle(
    everything, emulators, hs_person
):
    """HubSpot edits of people, companies and deals reach Salesforce; the next cycle's probe
    reports those writes (they are newer than it), and their streams' queries ride in its
    call: one call, as idle. The one after starts where that probe stopped."""
    for link in linked(everything, "contacts", 3):
        hs_person.crm.contacts.basic_api.update(
            link.hubspot_id, {"properties": {"jobtitle": "Edited in HubSpot"}}
        )
    for link in linked(everything, "companies", 3):
        hs_person.crm.companies.basic_api.update(
            link.hubspot_id, {"properties": {"description": "Edited in HubSpot"}}
        )
    for link in linked(everything, "deals", 3):
        hs_person.crm.deals.basic_api.update(
            link.hubspot_id, {"properties": {"description": "Edited in HubSpot"}}
        )
    advance_clocks(emulators, 60)
    runs, _ = everything()
    written = {n: r.counts.get("updated_in_salesforce", 0) for n, r in runs.items()}
    assert written["contacts"] and written["companies"] and written["deals"], written

    costs = []
    for _ in range(2):
        advance_clocks(emulators, 60)
        runs, calls = everything()
        assert not writes(runs.values())
        costs.append(calls["salesforce"])
    assert costs == [1, 1]


def test_a_delete_of_an_object_whose_streams_ride_is_read_though_no_getdeleted_asked(
    everything, emulators, sf_person
):
    """An object whose every stream rides in the probe's call is asked getUpdated only, so
    the probe can't vouch for it: a delete with no update beside it is read from the ride."""
    lonely = sf_person.Account.create({"Name": "Lonely Corp"})["id"]  # no contacts to cascade
    advance_clocks(emulators, 60)
    everything()  # the account is the latest change of every stream: accounts ride
    link = RecordLink.objects.get(integration=everything.integration, salesforce_id=lonely)
    advance_clocks(emulators, 600)
    everything()
    advance_clocks(emulators, 60)
    everything()
    sf_person.Account.delete(lonely)
    advance_clocks(emulators, 60)
    # A rule that fails nothing: it counts the probe's getDeleted subrequests of accounts.
    asked = emulators.salesforce.app.faults.add(path=r"/sobjects/Account/deleted", subrequest=True)
    runs, calls = everything()
    assert asked.seen == 0
    assert calls["salesforce"] == 1  # the probe, the accounts' page aboard
    assert not RecordLink.objects.filter(pk=link.pk).exists()
    assert runs["companies"].counts.get("links_removed") == 1
