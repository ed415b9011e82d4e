"""*Resync a list* (spec §5.2 "resyncing a whole list or segment", §8.2: how a new mapping
is backfilled; §4 item 10: at most 200,000 records at once), end to end through the
emulators: the confirmation makes one HubSpot call and a job; its task (run here as a worker
would) reads the members page by page and queues them as resync requests in bulk, going on
where a worker that died left it; the next cycles write their mapped values to Salesforce."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from emulators.testing import active_list
from sync_engine import services
from sync_engine.models import ApiCall, AuditEvent, ListResyncJob, ResyncRequest, System
from sync_engine.services import (
    LIST_EMPTY,
    LIST_NOT_FOUND,
    LIST_OTHER_OBJECT,
    LIST_RESYNC_RUNNING,
    LIST_TOO_LARGE,
    RECORD_PAIR_OFF,
    RECORD_UNAVAILABLE,
    list_resync_preview,
    list_resync_request,
    list_resync_run,
    object_settings_update,
    object_sync_get_or_create,
)
from sync_engine.tasks import run_list_resync

from .sync.conftest import counted_run
from .sync.helpers import handles_mapped_after_they_synced, hs_contacts, hs_create, hs_list
from .sync.test_contacts_inclusion_list import SYNC_FLAG

pytestmark = pytest.mark.django_db


def run(integration, object_name: str = "contacts"):
    """One cycle of the pair, with the Salesforce calls it made (``run.salesforce_calls``)."""
    done = counted_run(integration, object_name)
    done.salesforce_calls = done.calls[System.SALESFORCE]
    return done


def hubspot_calls(integration, since: int = 0) -> list[str]:
    """The HubSpot operations called since the ledger held ``since`` of them."""
    calls = ApiCall.objects.filter(integration=integration, system=System.HUBSPOT).order_by("id")
    return [c.operation for c in calls][since:]


def confirm(integration, list_id: str, object_name: str = "contacts", **kwargs):
    """The admin's confirmation: its job, not yet run (``enqueue=False``: nothing for a
    worker to pick up here)."""
    return list_resync_request(
        integration=integration, object_name=object_name, list_id=list_id, enqueue=False, **kwargs
    )


def work(outcome) -> ListResyncJob:
    """The worker's part: the task, run here as a worker runs it."""
    run_list_resync(outcome.job.pk)
    return ListResyncJob.objects.get(pk=outcome.job.pk)


def leads(sf_person, email: str) -> list[dict]:
    soql = f"SELECT Id, Description FROM Lead WHERE Email = '{email}'"  # noqa: S608
    return sf_person.query(soql)["records"]


def test_a_lists_resync_backfills_a_new_mapping_into_salesforce(
    connected, emulators, sf_person, hs_person, django_capture_on_commit_callbacks
):
    """The spec's backfill: a mapping added after the contacts synced sends nothing until they
    change; resyncing a list of them writes their values, and members not synced yet follow
    the pair's rules (one without an email is skipped, with the reason counted)."""
    integration = connected
    object_sync_get_or_create(integration=integration, object_name="contacts")
    # Only contacts whose job title says "sync" sync, for now.
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"inclusion_list_id": active_list(emulators, "Syncing", filter_branch=SYNC_FLAG)},
    )
    people = [
        hs_create(hs_person, email=f"p{i}@backfill.example", lastname=f"P{i}", company="Acme",
                  jobtitle="sync", twitterhandle=f"@p{i}")
        for i in range(3)
    ]  # fmt: skip
    # Members not synced yet: one the list kept out, and one without an email.
    outsider = hs_create(hs_person, email="out@backfill.example", lastname="Out", company="Acme",
                         jobtitle="Analyst", twitterhandle="@out")  # fmt: skip
    nameless = hs_create(hs_person, lastname="Nameless", twitterhandle="@none")
    assert run(integration).counts["skipped_outside_list"] >= 1
    assert [len(leads(sf_person, f"p{i}@backfill.example")) for i in range(3)] == [1, 1, 1]
    object_settings_update(
        integration=integration, object_name="contacts", changes={"inclusion_list_id": None}
    )
    handles_mapped_after_they_synced(integration, emulators)
    assert leads(sf_person, "p0@backfill.example")[0]["Description"] is None  # not retroactive
    assert leads(sf_person, "out@backfill.example") == []  # no change read sees it again
    list_id = hs_list(emulators, "Backfill Description", [*people, outsider, nameless])

    preview = list_resync_preview(integration=integration, object_name="contacts", list_id=list_id)
    assert preview.ok and (preview.name, preview.members) == ("Backfill Description", 5)
    assert preview.salesforce_calls == 6 and preview.cycles == 1
    assert not ResyncRequest.objects.exists()  # the confirmation queues nothing

    calls = len(hubspot_calls(integration))
    with django_capture_on_commit_callbacks() as callbacks:
        queued = list_resync_request(
            integration=integration, object_name="contacts", list_id=list_id
        )
    # The confirmation reads only the list (its size): a worker reads the members.
    assert queued.ok and queued.job.status == "queued" and queued.queued == 0
    assert hubspot_calls(integration, calls) == ["lists.get"]
    assert len(callbacks) == 1 and not ResyncRequest.objects.exists()  # the task, on commit
    event = AuditEvent.objects.get(action="records.list_resync_requested")
    assert event.details == {
        "object": "contacts",
        "list_id": list_id,
        "list": "Backfill Description",
        "records": 5,
        "job": queued.job.pk,
    }

    with django_capture_on_commit_callbacks() as callbacks:
        job = work(queued)
    assert (job.status, job.queued, job.members, job.refused) == ("succeeded", 5, 5, "")
    assert len(callbacks) == 1  # the first cycle starts once all are queued
    assert sorted(ResyncRequest.objects.values_list("record_key", flat=True)) == sorted(
        f"hubspot:{i}" for i in [*people, outsider, nameless]
    )
    assert AuditEvent.objects.filter(action="records.list_resync_requested").count() == 1

    done = run(integration)
    assert [leads(sf_person, f"p{i}@backfill.example")[0]["Description"] for i in range(3)] == [
        "@p0",
        "@p1",
        "@p2",
    ]
    assert [lead["Description"] for lead in leads(sf_person, "out@backfill.example")] == ["@out"]
    assert done.counts["retried"] == 5
    assert done.counts["skipped_no_email"] == 1
    assert done.counts["created_in_salesforce"] == 1
    assert not ResyncRequest.objects.exists()
    # What the confirmation said it would cost, at most (besides the cycle's change read).
    assert done.salesforce_calls - 1 <= preview.salesforce_calls, done.salesforce_calls


def test_members_are_read_page_by_page_and_stored_in_bulk(
    connected, emulators, django_assert_max_num_queries
):
    """600 members: three HubSpot calls (250 a page), never one per member; a request already
    queued for a member is kept as one."""
    integration = connected
    object_sync_get_or_create(integration=integration, object_name="contacts")
    ids = hs_contacts(emulators, 600, email="m{i}@bulk.example")
    list_id = hs_list(emulators, "Six hundred", ids)
    services.record_resync(
        integration=integration, object_name="contacts", record_key=f"hubspot:{ids[0]}"
    )
    before = len(hubspot_calls(integration))
    outcome = confirm(integration, list_id)
    with django_assert_max_num_queries(40):
        job = work(outcome)
    assert (job.status, job.queued) == ("succeeded", 600)
    # The confirmation's size, the worker's (the list may have grown since), three pages.
    assert hubspot_calls(integration, before) == ["lists.get"] * 2 + ["lists.memberships.list"] * 3
    assert ResyncRequest.objects.count() == 600


def test_a_worker_that_dies_leaves_a_job_the_next_one_goes_on_with(connected, emulators):
    """The job's position is committed with each page's requests: a worker killed after the
    first page leaves it *running*; once its lease runs out, a confirm of the same list (or
    the task's redelivery) goes on after that page, reading nothing twice and queueing no
    record twice. Meanwhile a second confirm of the list is refused, without a HubSpot call."""
    integration = connected
    object_sync_get_or_create(integration=integration, object_name="contacts")
    ids = hs_contacts(emulators, 600, email="k{i}@killed.example")
    list_id = hs_list(emulators, "Killed midway", ids)
    outcome = confirm(integration, list_id)
    job = list_resync_run(job=outcome.job, stop_after_pages=1)  # killed after its first page
    assert (job.status, job.queued, ResyncRequest.objects.count()) == ("running", 250, 250)

    before = len(hubspot_calls(integration))
    again = confirm(integration, list_id)  # its worker holds a live lease: it is running
    assert again.refused == LIST_RESYNC_RUNNING and again.job.pk == job.pk
    assert (again.queued, again.members) == (250, 600)
    assert (
        list_resync_preview(
            integration=integration, object_name="contacts", list_id=list_id
        ).refused
        == LIST_RESYNC_RUNNING
    )
    # A worker elsewhere holding the lease: the task leaves it alone.
    ListResyncJob.objects.filter(pk=job.pk).update(worker="elsewhere:1:x:y")
    assert work(again).queued == 250
    assert hubspot_calls(integration, before) == []
    assert ListResyncJob.objects.count() == 1

    # Its lease runs out: the admin's confirm takes it up again, after the first page.
    ListResyncJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=6)
    )
    resumed = confirm(integration, list_id)
    assert resumed.ok and resumed.job.pk == job.pk and resumed.job.status == "queued"
    job = work(resumed)
    assert (job.status, job.queued, job.members) == ("succeeded", 600, 600)
    assert hubspot_calls(integration, before) == ["lists.memberships.list"] * 2
    assert sorted(ResyncRequest.objects.values_list("record_key", flat=True)) == sorted(
        f"hubspot:{i}" for i in ids
    )
    assert ListResyncJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="records.list_resync_requested").count() == 1
    # Finished: the list can be resynced again, as a new job.
    assert confirm(integration, list_id).job.pk != job.pk


def test_one_list_has_one_running_resync_even_on_a_double_click():
    """Two confirms racing past the check both try to make the job: the database keeps one."""
    from sync_engine.models import Integration

    integration = Integration.objects.create()
    ListResyncJob.objects.create(integration=integration, object="contacts", list_id="7")
    with pytest.raises(IntegrityError), transaction.atomic():
        ListResyncJob.objects.create(integration=integration, object="contacts", list_id="7")
    ListResyncJob.objects.create(
        integration=integration, object="contacts", list_id="7", status="succeeded"
    )


def test_a_list_that_grows_past_the_cap_as_it_is_read_stops_saying_so(
    connected, emulators, monkeypatch
):
    """Refused whole when HubSpot's count is over the cap, at the confirmation or when the
    worker starts; a list that grows past it while read stops there, and says what it queued."""
    integration = connected
    object_sync_get_or_create(integration=integration, object_name="contacts")

    def people(n: int, start: int = 0) -> list[str]:
        return hs_contacts(emulators, n, start=start, email="g{i}@grow.example")

    list_id = hs_list(emulators, "Growing", people(600))
    monkeypatch.setattr(services, "LIST_RESYNC_MAX", 600)
    job = list_resync_run(job=confirm(integration, list_id).job, stop_after_pages=1)
    # Meanwhile 100 more join it in HubSpot; the worker dies, and the admin resumes.
    emulators.hubspot.app.run_action("add_to_list", list_id=list_id, record_ids=people(100, 600))
    ListResyncJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    job = work(confirm(integration, list_id))
    assert (job.status, job.refused, job.queued) == ("failed", LIST_TOO_LARGE, 500)
    assert job.members == 700
    assert ResyncRequest.objects.count() == 500

    # Over the cap before a page is read: nothing queued.
    ResyncRequest.objects.all().delete()
    monkeypatch.setattr(services, "LIST_RESYNC_MAX", 650)
    outcome = list_resync_preview(integration=integration, object_name="contacts", list_id=list_id)
    assert outcome.refused == LIST_TOO_LARGE
    monkeypatch.setattr(services, "LIST_RESYNC_MAX", 700)
    outcome = confirm(integration, list_id)
    monkeypatch.setattr(services, "LIST_RESYNC_MAX", 650)
    job = work(outcome)
    assert (job.status, job.refused, job.queued, job.members) == ("failed", LIST_TOO_LARGE, 0, 700)
    assert not ResyncRequest.objects.exists()


def test_what_a_list_resync_refuses(connected, emulators, hs_person, monkeypatch):
    integration = connected
    object_sync_get_or_create(integration=integration, object_name="contacts")
    contacts = hs_contacts(emulators, 3, email="r{i}@refused.example")
    company = emulators.hubspot.app.run_action(
        "create", object_type="companies", properties={"name": "Acme"}
    )["id"]

    def refused(list_id: str, object_name: str = "contacts") -> str:
        outcome = confirm(integration, list_id, object_name)
        assert not outcome.ok and outcome.queued == 0 and outcome.job is None
        return outcome.refused

    assert refused("987654") == LIST_NOT_FOUND
    assert refused("not a list") == LIST_NOT_FOUND
    assert refused(hs_list(emulators, "Companies", [company], "companies")) == LIST_OTHER_OBJECT
    assert refused(hs_list(emulators, "Nobody", [])) == LIST_EMPTY
    # Over the cap (HubSpot's 200,000; here 2): refused whole, never cut short.
    three = hs_list(emulators, "Three", contacts)
    monkeypatch.setattr(services, "LIST_RESYNC_MAX", 2)
    outcome = list_resync_preview(integration=integration, object_name="contacts", list_id=three)
    assert (outcome.refused, outcome.members, outcome.name) == (LIST_TOO_LARGE, 3, "Three")
    assert refused(three) == LIST_TOO_LARGE
    monkeypatch.setattr(services, "LIST_RESYNC_MAX", 200_000)
    # HubSpot failing the list's read: nothing is queued, and the outage is said.
    emulators.hubspot.app.faults.add(path=r"/crm/v3/lists/[0-9]+$", status=503, times=8)
    assert refused(three) == RECORD_UNAVAILABLE
    emulators.hubspot.app.faults.clear()
    # Company sync is off by default.
    assert refused(three, "companies") == RECORD_PAIR_OFF
    assert not ListResyncJob.objects.exists()
    assert not AuditEvent.objects.filter(action="records.list_resync_requested").exists()
    # HubSpot failing the members' read, on the worker: the job says why; nothing queued.
    outcome = confirm(integration, three)
    emulators.hubspot.app.faults.add(path=r"/crm/v3/lists/.*/memberships", status=503, times=8)
    job = work(outcome)
    emulators.hubspot.app.faults.clear()
    assert (job.status, job.refused, job.queued) == ("failed", RECORD_UNAVAILABLE, 0)
    assert job.error
    # The list deleted between the confirmation and the worker.
    outcome = confirm(integration, three)
    hs_person.crm.lists.lists_api.remove(three)
    assert work(outcome).refused == LIST_NOT_FOUND
    assert not ResyncRequest.objects.exists()


def test_a_company_lists_resync_creates_their_accounts(connected, emulators, sf_person):
    """A company's own Resync creates its Salesforce account even when no contact would (spec
    §9): so does a list of them."""
    integration = connected
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    made = [
        emulators.hubspot.app.run_action(
            "create", object_type="companies", properties={"name": f"Listed {i}"}
        )["id"]
        for i in range(2)
    ]
    run(integration, "companies")
    assert sf_person.query("SELECT Id FROM Account WHERE Name LIKE 'Listed%'")["totalSize"] == 0
    list_id = hs_list(emulators, "Key accounts", made, "companies")
    job = work(confirm(integration, list_id, "companies"))
    assert (job.status, job.queued) == ("succeeded", 2)
    done = run(integration, "companies")
    assert done.counts["created_in_salesforce"] == 2
    names = sf_person.query("SELECT Name FROM Account WHERE Name LIKE 'Listed%'")["records"]
    assert sorted(r["Name"] for r in names) == ["Listed 0", "Listed 1"]


def test_the_cost_it_confirms_is_an_upper_bound_for_a_large_backfill(
    connected, emulators, sf_person
):
    """A backfill's Salesforce calls stay within the confirmation's 'up to': 1,200 members,
    900 linked to leads (updated) and 300 new (looked up by email, then created), in one
    cycle; a list of 4,001 takes three cycles, each bounded by its share."""
    integration = connected
    object_sync_get_or_create(integration=integration, object_name="contacts")

    def people(prefix: str, count: int) -> list[str]:
        return hs_contacts(emulators, count, email=prefix + "{i}@cost.example", lastname="L{i}",
                           company="Acme", twitterhandle="@" + prefix + "{i}")  # fmt: skip

    linked = people("l", 900)
    run(integration)
    handles_mapped_after_they_synced(integration, emulators)
    newcomers = people("n", 300)
    list_id = hs_list(emulators, "Cost", [*linked, *newcomers])

    preview = list_resync_preview(integration=integration, object_name="contacts", list_id=list_id)
    assert (preview.members, preview.cycles) == (1200, 1)
    work(confirm(integration, list_id))
    done = run(integration)
    assert done.counts["updated_in_salesforce"] >= 900
    assert done.counts["created_in_salesforce"] == 300
    assert leads(sf_person, "l899@cost.example")[0]["Description"] == "@l899"
    # Within what the confirmation said (besides the cycle's own change read).
    assert done.salesforce_calls - 1 <= preview.salesforce_calls, (
        done.salesforce_calls,
        preview.salesforce_calls,
    )

    # A full cycle (2,000 members) costs at most 8 composite reads (leads' and contacts'
    # partners by id and by email, 200 a query, five queries a call) and 8 writes (their
    # updates and creates, 1,000 a call), and 2 reads of the campaigns of the people it
    # links (1,500 a call); the last cycle's single member, 6.
    big = services.ListResync(object_name="contacts", list_id="1", members=4001)
    assert (big.cycles, big.salesforce_calls) == (3, 2 * 18 + 6)
    largest = services.ListResync(object_name="companies", list_id="1", members=200_000)
    assert (largest.cycles, largest.salesforce_calls) == (100, 1600)
