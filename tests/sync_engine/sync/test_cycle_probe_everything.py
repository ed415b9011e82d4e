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


def test_the_contact_syncs_write_carries_the_streams_it_reads_after_it(
    everything, emulators, sf_person, hs_person
):
    """With the probe gone early (it carried the contact sync's read of its HubSpot edits),
    the streams still to read ride in that pair's Salesforce write, after it: the pair reads
    its own writes back from there, and the company sync takes its accounts' page from it."""
    people = [
        link for link in linked(everything, "contacts", 20) if link.salesforce_type == "Contact"
    ]
    for link in people[:2]:
        hs_person.crm.contacts.basic_api.update(
            link.hubspot_id, {"properties": {"jobtitle": "Edited in HubSpot"}}
        )
    sf_person.Contact.update(people[2].salesforce_id, {"Phone": "+31 20 555 0100"})
    account = linked(everything, "companies", 1)[0]
    sf_person.Account.update(account.salesforce_id, {"Description": "Edited in Salesforce"})
    advance_clocks(emulators, 60)
    runs, calls = everything()

    # The probe (the contacts' read aboard), then the write with the streams' pages after it.
    assert calls["salesforce"] == 2
    assert runs["contacts"].counts["updated_in_salesforce"] == 2
    assert runs["contacts"].counts["own_writes_read_back"] == 2
    assert runs["companies"].counts["updated_in_hubspot"] == 1
    phone = hs_person.crm.contacts.basic_api.get_by_id(people[2].hubspot_id, properties=["phone"])
    assert phone.properties["phone"] == "+31 20 555 0100"
    for link in people[:2]:
        assert sf_person.Contact.get(link.salesforce_id)["Title"] == "Edited in HubSpot"
    company = hs_person.crm.companies.basic_api.get_by_id(
        account.hubspot_id, properties=["description"]
    )
    assert company.properties["description"] == "Edited in Salesforce"
    advance_clocks(emulators, 60)
    runs, calls = everything()
    assert not writes(runs.values())
    assert calls["salesforce"] == 1


def test_a_page_that_rode_in_a_write_is_read_again_after_a_later_write_of_its_object(
    everything, emulators, sf_person, hs_person
):
    """Salesforce refuses one value of a HubSpot edit (a title too long), so the person's
    update is sent again without it. The contacts' page that rode in the first update shows
    the person before the second: it is dropped and read again after that one, never taken
    for a Salesforce edit that blanks the new mobile phone in HubSpot."""
    person = next(
        link for link in linked(everything, "contacts", 20) if link.salesforce_type == "Contact"
    )
    sf_person.Contact.update(person.salesforce_id, {"Phone": "+31 20 555 0100"})
    hs_person.crm.contacts.basic_api.update(
        person.hubspot_id,
        {"properties": {"jobtitle": "T" * 200, "mobilephone": "+31 6 1234 5678"}},  # max 128
    )
    advance_clocks(emulators, 60)
    runs, _ = everything()

    record = sf_person.Contact.get(person.salesforce_id)
    assert record["MobilePhone"] == "+31 6 1234 5678"
    assert not record["Title"]
    contact = hs_person.crm.contacts.basic_api.get_by_id(
        person.hubspot_id, properties=["jobtitle", "phone", "mobilephone"]
    )
    assert contact.properties["mobilephone"] == "+31 6 1234 5678"
    assert contact.properties["phone"] == "+31 20 555 0100"
    assert contact.properties["jobtitle"] == "T" * 200  # held back, its error open
    assert runs["contacts"].counts["updated_in_salesforce"] == 1
    assert runs["contacts"].counts["own_writes_read_back"] == 1
