"""A cycle over every pair shares one Salesforce change probe: idle costs one call."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, RecordLink, SyncCursor, System
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycles_run

from .helpers import new_lead, set_rule


class AllPairs:
    def __init__(self, integration):
        self.integration = integration

    def __call__(self, trigger: str = "schedule"):
        before = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count()
            for s in System.values
        }
        runs = sync_cycles_run(integration=self.integration, trigger=trigger)
        for run in runs:
            assert run.status == "succeeded", (run.object, run.message)
        calls = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count() - before[s]
            for s in System.values
        }
        return {run.object: run for run in runs}, calls


@pytest.fixture
def all_pairs(integration, emulators):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    return AllPairs(integration)


def _settle(cycle, emulators):
    """After a cycle with writes: the next reads them back once, ten quiet minutes pass, one
    cycle re-reads what is left in the overlap, and the schedule's next cycle comes a minute
    later. Returns that last cycle's runs and calls."""
    cycle()
    advance_clocks(emulators, 600)  # ten quiet minutes: the writes leave the overlap
    cycle()
    advance_clocks(emulators, 60)
    return cycle()


def _changes_in_two_pairs(cycle, emulators, sf_person, name: str) -> tuple[str, str]:
    """After a settled cycle over an account and a lead, a new account and a new lead (the
    company and contact syncs' streams change) a minute before the next cycle."""
    sf_person.Account.create({"Name": "Before Corp"})
    new_lead(sf_person, Email="before@example.com")
    cycle()
    _settle(cycle, emulators)
    # The settled cycle marks the members read up to its whole minute: a lead created in that
    # same second may have members read already, so it would be looked up (a call more).
    now = emulators.salesforce.app.clock.now()
    if now.second < 3:
        advance_clocks(emulators, 3 - now.second)
    account = sf_person.Account.create({"Name": f"{name.title()} Corp"})["id"]
    lead = new_lead(sf_person, Email=f"{name}@example.com")
    advance_clocks(emulators, 61)
    return account, lead


def test_pairs_run_in_dependency_order_and_an_idle_cycle_costs_one_salesforce_call(
    all_pairs, emulators, sf_person
):
    account = sf_person.Account.create({"Name": "Probe Corp"})["id"]
    lead = new_lead(sf_person, Email="probe@example.com")
    runs, _ = all_pairs()
    assert list(runs) == ["contacts", "companies"]
    assert runs["companies"].counts["created_in_hubspot"] == 1
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=account)
    RecordLink.objects.get(salesforce_id=lead)

    # The first cycle after a burst re-reads it (the probe reports ids still inside the
    # overlap window, and only a query can tell which versions are new); then the window moves.
    runs, calls = _settle(all_pairs, emulators)
    assert calls["salesforce"] == 1  # the probe; every stream answered from it
    assert sum(run.counts.get("streams_unchanged", 0) for run in runs.values()) >= 4
    assert not any(
        run.counts.get(k)
        for run in runs.values()
        for k in ("created_in_hubspot", "updated_in_hubspot", "read_salesforce")
    )


def test_a_change_the_probe_sees_is_read_and_one_in_the_current_minute_is_not_lost(
    all_pairs, emulators, sf_person, hs_person
):
    new_lead(sf_person, Email="first@example.com")
    all_pairs()
    _settle(all_pairs, emulators)

    # A change whose minute has passed: the probe reports it and the stream is queried.
    changed = new_lead(sf_person, Email="seen@example.com")
    emulators.salesforce.app.clock.advance(61)
    runs, calls = all_pairs()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=changed)
    assert calls["salesforce"] >= 2

    # A change in the current minute isn't covered by the probe yet; the cursor must not move
    # past it, so a later cycle still reads it.
    advance_clocks(emulators, 600)  # ten quiet minutes: the writes leave the overlap
    all_pairs()
    clock = emulators.salesforce.app.clock
    clock.advance(120 - clock.now().second + 5)  # 5 s into a minute, over a minute later
    late = new_lead(sf_person, Email="current-minute@example.com")
    runs, _ = all_pairs()
    assert not RecordLink.objects.filter(salesforce_id=late).exists()
    position = SyncCursor.objects.get(stream="salesforce:Lead")
    assert position.checked_at is not None and position.checked_at <= clock.now()
    emulators.salesforce.app.clock.advance(61)
    runs, _ = all_pairs()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=late)


def test_sync_now_reads_a_change_made_seconds_ago(all_pairs, emulators, sf_person):
    """The probe speaks in whole minutes, which a scheduled cycle can wait for; someone who
    edits a record and clicks Sync now can't: a manual cycle queries every stream."""
    new_lead(sf_person, Email="first@example.com")
    all_pairs()
    _settle(all_pairs, emulators)
    clock = emulators.salesforce.app.clock
    clock.advance(120 - clock.now().second + 25)  # 25 s into a minute, over a minute later
    lead = new_lead(sf_person, Email="just-now@example.com")
    runs, calls = all_pairs(trigger="manual")
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=lead)
    # The streams' reads still share composite calls (seven streams with the campaign
    # members': the probe's rider, then five and one).
    assert calls["salesforce"] <= 4


def test_back_to_back_cycles_query_rather_than_wait_for_the_minute(all_pairs, sf_person):
    """The probe speaks in whole minutes: a stream read seconds ago is queried again, so a
    'Sync now' right after a cycle still sees a change made in between."""
    all_pairs()
    lead = new_lead(sf_person, Email="right-away@example.com")
    runs, _ = all_pairs()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=lead)


def test_a_failing_probe_falls_back_to_querying(all_pairs, emulators, sf_person):
    new_lead(sf_person, Email="before@example.com")
    all_pairs()
    advance_clocks(emulators, 600)  # ten quiet minutes: the writes leave the overlap
    lead = new_lead(sf_person, Email="after@example.com")
    emulators.salesforce.app.clock.advance(61)
    # The probe is the cycle's first composite call; every attempt at it fails.
    emulators.salesforce.app.faults.add(
        path="/composite$", error_code="SERVER_UNAVAILABLE", times=4
    )
    runs, _ = all_pairs()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=lead)


@pytest.mark.parametrize(
    "failing",
    [
        {"path": r"/sobjects/Account/updated/?$", "status": 500, "error_code": "UNKNOWN_EXCEPTION"},
        {"path": r"/queryAll/?$", "status": 400, "error_code": "QUERY_TIMEOUT", "times": 1},
    ],
    ids=["getUpdated", "one query"],
)
def test_a_failed_subrequest_of_the_probe_or_its_reads_loses_no_change(
    all_pairs, emulators, sf_person, failing
):
    """Salesforce answers a composite call whose subrequests fail one by one: a getUpdated
    that fails vouches for nothing, a first page read up front that fails is read again."""
    account, lead = _changes_in_two_pairs(all_pairs, emulators, sf_person, "failing")
    fault = emulators.salesforce.app.faults.add(subrequest=True, **failing)
    runs, _ = all_pairs()
    assert fault.fired
    assert runs["companies"].counts["created_in_hubspot"] == 1
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=account)
    RecordLink.objects.get(salesforce_id=lead)


def test_a_query_salesforce_keeps_failing_fails_the_run_and_loses_nothing(
    all_pairs, emulators, sf_person
):
    new_lead(sf_person, Email="before@example.com")
    all_pairs()
    _settle(all_pairs, emulators)
    lead = new_lead(sf_person, Email="timed-out@example.com")
    advance_clocks(emulators, 61)
    fault = emulators.salesforce.app.faults.add(
        path=r"/queryAll/?$", subrequest=True, error_code="QUERY_TIMEOUT", status=400
    )
    runs = {run.object: run for run in sync_cycles_run(integration=all_pairs.integration)}
    assert runs["contacts"].status == "failed"
    assert "QUERY_TIMEOUT" in runs["contacts"].message or "too long" in runs["contacts"].message
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()

    emulators.salesforce.app.faults.remove(fault.id)
    runs, _ = all_pairs()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=lead)


def test_streams_read_longer_ago_than_getupdated_reaches_are_queried(
    all_pairs, emulators, sf_person
):
    new_lead(sf_person, Email="old@example.com")
    all_pairs()
    # Salesforce answers getUpdated for 30 days back only: after 31 quiet days the probe can't
    # vouch for the stream, so it is read with a query.
    advance_clocks(emulators, 31 * 86_400)
    lead = new_lead(sf_person, Email="month-later@example.com")
    runs, calls = all_pairs()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=lead)


def test_changes_in_several_pairs_are_read_up_front_in_one_call(all_pairs, emulators, sf_person):
    """The streams the probe finds changed are queried together, five to a composite call,
    with the query each ran last time, instead of a call per pair."""
    account, lead = _changes_in_two_pairs(all_pairs, emulators, sf_person, "up-front")
    runs, calls = all_pairs()
    assert runs["companies"].counts["created_in_hubspot"] == 1
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=account)
    RecordLink.objects.get(salesforce_id=lead)
    # The probe, whose call also carries the first pages of the five streams that changed
    # last (the Account and Lead streams among them: a call per pair before, then one for
    # the prefetch), then the company sync's own work: the new account's contacts, looked up
    # to match it (none waits for it, so none is looked up to associate), and the owner
    # directory.
    assert calls["salesforce"] == 3
    assert runs["companies"].counts.get("streams_unchanged") == 1  # contacts' AccountId

    # A stream whose query changed since (a new field mapped, say) runs its own.
    SyncCursor.objects.filter(stream="salesforce:Lead").update(
        query={"sobject": "Lead", "fields": ["Id"], "where": "", "all": True}
    )
    lead = new_lead(sf_person, Email="own-query@example.com")
    advance_clocks(emulators, 61)
    runs, calls = all_pairs()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=lead)
    # The probe (carrying a first page read with the old query), the pair's own query, the
    # owner directory.
    assert calls["salesforce"] == 3


def test_a_cycle_of_five_streams_or_fewer_queries_them_instead_of_probing(
    integration, emulators, sf_person
):
    """The contact sync alone reads four streams: their queries fit in the one composite call
    the probe would cost, and see a change of the current minute straight away."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    contacts_only = AllPairs(integration)
    new_lead(sf_person, Email="earlier@example.com")
    contacts_only()
    runs, calls = _settle(contacts_only, emulators)
    assert calls["salesforce"] == 1  # idle: the four queries in one composite call

    # A second later (created in the second the last read began, it would have its campaign
    # members looked up: some may have been read while it was unlinked).
    advance_clocks(emulators, 1)
    lead = new_lead(sf_person, Email="this-minute@example.com")
    runs, calls = contacts_only()
    assert runs["contacts"].counts["created_in_hubspot"] == 1
    RecordLink.objects.get(salesforce_id=lead)
    assert "streams_unchanged" not in runs["contacts"].counts  # no probe answered anything
    assert calls["salesforce"] == 2  # the queries, then the owner directory for the new lead


def test_a_hubspot_edit_survives_a_salesforce_edit_of_the_same_person_in_one_cycle(
    all_pairs, emulators, sf_person, hs_person
):
    """A person edited on both sides before one cycle over every pair (more streams than five,
    so the probe reads first pages up front): HubSpot's new job title (a two-way mapping) goes
    to Salesforce and Salesforce's new phone to HubSpot, and neither undoes the other. The
    contact sync reads its Salesforce pages after its HubSpot half has written: a page read
    before would still hold the old title, which against the snapshot the write just updated
    looks like a Salesforce edit (the kill test caught that when the first read went ahead)."""
    set_rule(all_pairs.integration, "jobtitle", "two_way")
    lead = new_lead(sf_person, Email="both@example.com", Title="Engineer", Phone="111")
    all_pairs()
    _settle(all_pairs, emulators)
    hubspot_id = RecordLink.objects.get(salesforce_id=lead).hubspot_id

    hs_person.crm.contacts.basic_api.update(
        hubspot_id, {"properties": {"jobtitle": "Chief Engineer"}}
    )
    sf_person.Lead.update(lead, {"Phone": "222"})
    advance_clocks(emulators, 61)
    runs, _ = all_pairs()
    all_pairs()

    assert sf_person.Lead.get(lead)["Title"] == "Chief Engineer"
    props = hs_person.crm.contacts.basic_api.get_by_id(
        hubspot_id, properties=["jobtitle", "phone"]
    ).properties
    assert (props["jobtitle"], props["phone"]) == ("Chief Engineer", "222")


def test_the_probe_carries_the_contact_syncs_read_of_what_changed_in_hubspot(
    all_pairs, emulators, sf_person, hs_person
):
    """A cycle over every pair whose HubSpot contacts changed: the contact sync's read of
    their Salesforce side goes aboard the probe's call (its own streams it reads only after
    its writes), so the edit costs the probe and the write."""
    set_rule(all_pairs.integration, "jobtitle", "two_way")
    lead = new_lead(sf_person, Email="aboard@example.com", Title="Engineer")
    all_pairs()
    _settle(all_pairs, emulators)
    hubspot_id = RecordLink.objects.get(salesforce_id=lead).hubspot_id

    hs_person.crm.contacts.basic_api.update(
        hubspot_id, {"properties": {"jobtitle": "Chief Engineer"}}
    )
    advance_clocks(emulators, 61)
    emulators.salesforce.app.ledger.clear()
    runs, calls = all_pairs()

    assert runs["contacts"].counts["updated_in_salesforce"] == 1
    assert sf_person.Lead.get(lead)["Title"] == "Chief Engineer"
    assert calls["salesforce"] == 2  # the probe with the lead's read aboard, the update
    paths = [e.path for e in emulators.salesforce.app.ledger.entries()]
    assert paths[0].endswith("/composite") and "/composite/sobjects" in paths[1]
    runs, calls = _settle(all_pairs, emulators)
    assert calls["salesforce"] == 1
    assert not runs["contacts"].counts.get("updated_in_hubspot")


def _a_minute_apart(cycle, emulators, cycles: int) -> list[tuple[dict, dict]]:
    """``cycles`` scheduled cycles, a minute apart: each one's runs and calls."""
    done = []
    for _ in range(cycles):
        advance_clocks(emulators, 60)
        done.append(cycle())
    return done


def test_our_own_writes_are_read_back_once_then_the_probe_answers_for_them(
    all_pairs, emulators, sf_person, hs_person
):
    """Our writes are newer than the probe before them, so the next cycle's probe reports
    them and a query reads them back. The cycle after starts its probe where that read's
    probe stopped (Salesforce's latestDateCovered), not the query's overlap before it, so
    nothing is read again: not a re-read every minute until the overlap has passed."""
    set_rule(all_pairs.integration, "jobtitle", "two_way")
    lead = new_lead(sf_person, Email="echo@example.com", Title="Engineer")
    all_pairs()
    _settle(all_pairs, emulators)
    hubspot_id = RecordLink.objects.get(salesforce_id=lead).hubspot_id
    hs_person.crm.contacts.basic_api.update(hubspot_id, {"properties": {"jobtitle": "Lead"}})
    advance_clocks(emulators, 61)
    runs, _ = all_pairs()
    assert runs["contacts"].counts["updated_in_salesforce"] == 1
    assert sf_person.Lead.get(lead)["Title"] == "Lead"

    (reread, _), *after = _a_minute_apart(all_pairs, emulators, 3)
    assert reread["contacts"].counts["read_salesforce"] >= 1  # our write, once more
    for runs, calls in after:
        assert not runs["contacts"].counts.get("read_salesforce")
        assert calls["salesforce"] == 1  # the probe
    assert SyncCursor.objects.get(stream="salesforce:Lead").probed_until is not None


def test_a_change_committing_late_is_read_though_probes_start_where_the_last_stopped(
    all_pairs, emulators, sf_person, hs_person
):
    """A transaction still open at a probe holds its latestDateCovered at the transaction's
    start, so the next probe, starting there, reports the change once it commits (it is
    stamped before the probe that couldn't see it)."""
    lead = new_lead(sf_person, Email="slow@example.com", Title="Engineer")
    all_pairs()
    _settle(all_pairs, emulators)
    clock = emulators.salesforce.app.clock
    advance_clocks(emulators, 60 - clock.now().second + 10)  # 10 s into a minute
    emulators.salesforce.app.run_action("late_commit", seconds=90, count=1)
    sf_person.Lead.update(lead, {"Title": "Director"})  # stamped now, seen in 90 s
    advance_clocks(emulators, 60)
    runs, _ = all_pairs()
    assert not runs["contacts"].counts.get("updated_in_hubspot")  # not committed yet
    hubspot_id = RecordLink.objects.get(salesforce_id=lead).hubspot_id
    updated = 0
    for _ in range(3):
        advance_clocks(emulators, 60)
        runs, _ = all_pairs()
        updated += runs["contacts"].counts.get("updated_in_hubspot", 0)
    assert updated == 1
    contact = hs_person.crm.contacts.basic_api.get_by_id(hubspot_id, properties=["jobtitle"])
    assert contact.properties["jobtitle"] == "Director"
