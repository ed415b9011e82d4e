"""A Salesforce campaign renamed or deleted reaches its members' *Salesforce campaigns*
property (spec §6.1) in the next cycle, batched, and an idle cycle still costs one
Salesforce call: campaigns are one more change stream, whose query rides in the cycle's
composite call or, when that call has no room, a getUpdated of campaigns stands in for it."""

from __future__ import annotations

from emulators.testing import advance_clocks
from sync_engine.models import RecordLink, SyncCursor

from .test_contacts_campaigns_hunt7 import campaign, campaigns, join, operations
from .test_cycle_probe import all_pairs  # noqa: F401 (a fixture)


def two_members(sf, run, name: str) -> tuple[str, list[str]]:
    """A campaign with two Salesforce contacts, synced by ``run``: (campaign, their HubSpot
    contacts)."""
    spring = campaign(sf, name)
    people = [
        sf.Contact.create({"LastName": f"Member {i}", "Email": f"member{i}@example.com"})["id"]
        for i in range(2)
    ]
    for person in people:
        join(sf, spring, ContactId=person)
    run()
    return spring, [RecordLink.objects.get(salesforce_id=p).hubspot_id for p in people]


def settle(cycle, emulators) -> None:
    """Ten quiet minutes (past the cursors' overlap), a cycle, and the schedule's minute."""
    advance_clocks(emulators, 600)
    cycle()
    advance_clocks(emulators, 61)


def salesforce_calls(run) -> int:
    return sum(n for op, n in operations(run).items() if op.startswith("salesforce:"))


def test_a_renamed_campaign_reaches_its_members_in_one_write_and_idle_stays_one_call(
    cycle, emulators, sf_person, hs_person
):
    spring, contacts = two_members(sf_person, cycle, "Spring Webinar")
    other = sf_person.Contact.create({"LastName": "Elsewhere", "Email": "else@example.com"})["id"]
    join(sf_person, campaign(sf_person, "Trade Show"), ContactId=other)
    cycle()
    assert [campaigns(hs_person, c) for c in contacts] == ["Spring Webinar"] * 2
    settle(cycle, emulators)

    sf_person.Campaign.update(spring, {"Name": "Spring Summit"})
    advance_clocks(emulators, 61)  # the next scheduled cycle
    run = cycle()
    assert [campaigns(hs_person, c) for c in contacts] == ["Spring Summit"] * 2
    calls = operations(run)
    assert calls["hubspot:contacts.batch.update"] == 1, calls  # both members, one write
    assert run.counts.get("campaigns_updated") == 2, run.counts
    other_contact = cycle.link(salesforce_id=other).hubspot_id
    assert campaigns(hs_person, other_contact) == "Trade Show"

    # Idle: the campaigns' getUpdated rides in the streams' one composite call.
    settle(cycle, emulators)
    run = cycle()
    assert salesforce_calls(run) == 1, operations(run)
    assert not operations(run)["hubspot:contacts.batch.update"], operations(run)


def test_a_campaign_edit_that_keeps_its_name_writes_nothing(cycle, emulators, sf_person, hs_person):
    spring, contacts = two_members(sf_person, cycle, "Kept Name")
    settle(cycle, emulators)
    sf_person.Campaign.update(spring, {"IsActive": False})
    advance_clocks(emulators, 61)
    run = cycle()
    assert not operations(run)["hubspot:contacts.batch.update"], operations(run)
    assert [campaigns(hs_person, c) for c in contacts] == ["Kept Name"] * 2
    names = SyncCursor.objects.get(stream="contacts:campaign-names").seen
    assert names[spring] == "Kept Name"


def test_a_deleted_campaign_drops_off_its_members(cycle, emulators, sf_person, hs_person):
    spring, contacts = two_members(sf_person, cycle, "Doomed Launch")
    first = cycle.link(hubspot_id=contacts[0]).salesforce_id
    join(sf_person, campaign(sf_person, "Survivor"), ContactId=first)
    cycle()
    assert campaigns(hs_person, contacts[0]) == "Doomed Launch; Survivor"
    settle(cycle, emulators)

    sf_person.Campaign.delete(spring)
    advance_clocks(emulators, 61)
    cycle()
    assert [campaigns(hs_person, c) for c in contacts] == ["Survivor", ""]


def idle_after_settling(emulators, cycle):
    """Two quiet cycles past the cursors' overlap, then the measured idle one a minute later:
    its runs and calls."""
    for _ in range(2):
        advance_clocks(emulators, 600)
        cycle()
    advance_clocks(emulators, 61)
    return cycle()


def test_over_every_pair_a_rename_reaches_members_and_idle_is_the_probe_alone(
    all_pairs,  # noqa: F811
    emulators,
    sf_person,
    hs_person,
):
    spring, contacts = two_members(sf_person, all_pairs, "Probe Webinar")
    _, calls = idle_after_settling(emulators, all_pairs)
    assert calls["salesforce"] == 1, calls

    sf_person.Campaign.update(spring, {"Name": "Probe Summit"})
    advance_clocks(emulators, 61)
    runs, _ = all_pairs()
    assert [campaigns(hs_person, c) for c in contacts] == ["Probe Summit"] * 2
    assert runs["contacts"].counts.get("campaigns_updated") == 2, runs["contacts"].counts

    runs, calls = idle_after_settling(emulators, all_pairs)
    assert calls["salesforce"] == 1, calls
    assert not runs["contacts"].counts.get("campaigns_updated"), runs["contacts"].counts


def test_the_contact_sync_alone_in_a_scheduled_cycle_reads_a_rename_too(
    integration, emulators, sf_person, hs_person
):
    """Alone, the contact sync's streams skip the probe; with lifecycle stages on they are
    five queries and the campaigns' getUpdated, in one call, and a rename costs one more."""
    from sync_engine.services import object_sync_get_or_create

    from .test_cycle_probe import AllPairs

    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    contacts_only = AllPairs(integration)
    spring, contacts = two_members(sf_person, contacts_only, "Solo Webinar")
    _, calls = idle_after_settling(emulators, contacts_only)
    assert calls["salesforce"] == 1, calls

    sf_person.Campaign.update(spring, {"Name": "Solo Summit"})
    advance_clocks(emulators, 61)
    runs, calls = contacts_only()
    assert [campaigns(hs_person, c) for c in contacts] == ["Solo Summit"] * 2
    # The streams with the getUpdated, the campaigns' query, the members' and their campaigns.
    assert calls["salesforce"] <= 4, calls
