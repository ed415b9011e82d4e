"""Importing from a large, messy Salesforce org (spec §16), as a demanding admin does it: a
cancel that lands while a batch is being written, people whose emails moved between records,
a pair switched off while its import runs, a worker that went quiet and was resumed elsewhere,
a big HubSpot portal read before the first batch, and the summary of an import resumed a day
later. End to end through the official clients and the emulators, as ``test_imports.py``."""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from sync_engine import imports
from sync_engine.imports import import_run, import_start
from sync_engine.models import ImportJob, RecordLink
from sync_engine.services import object_settings_update
from tests.sync_engine import test_imports as base
from tests.sync_engine.sync.helpers import hs_emails, hs_get

integration = base.integration  # the same connected integration, contacts pair on
seed, leads, run, assert_adds_up = base.seed, base.leads, base.run, base.assert_adds_up


def test_a_cancel_while_a_batch_is_written_keeps_that_batch_in_the_counts(
    integration, sf_person, hs_person, monkeypatch
):
    """Cancel stops after the current batch, and what that batch did stays: in HubSpot and in
    the summary. Resumed, the import counts every record it created as created, once."""
    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(30))
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    heartbeat = imports._Runner.heartbeat

    def admin_cancels_while_the_second_batch_commits(runner):
        if runner.job.processed == 10:
            imports.import_cancel(job=ImportJob.objects.get(pk=runner.job.pk))
        heartbeat(runner)

    monkeypatch.setattr(imports._Runner, "heartbeat", admin_cancels_while_the_second_batch_commits)
    import_run(job=job)
    job.refresh_from_db()
    assert len(hs_emails(hs_person)) == 20  # the second batch went through
    assert job.status == "cancelled"
    assert (job.processed, job.created) == (20, 20)
    monkeypatch.setattr(imports._Runner, "heartbeat", heartbeat)
    imports.import_resume(job=job)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert (job.processed, job.created, job.skipped) == (30, 30, 0)
    assert_adds_up(job)
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 30


def test_a_linked_person_is_synced_when_an_older_record_takes_its_email(
    integration, sf_person, hs_person
):
    """Duplicate emails collapse into one contact, and the person already linked to it keeps
    it: an older lead given that email later is the duplicate, not both of them, and the
    linked lead's changes still reach HubSpot."""
    older, linked = seed(sf_person, "Lead", leads(2))
    sf_person.Lead.update(older, {"Email": None})
    first = run(integration, "leads")
    assert (first.created, first.skipped_reasons) == (1, {"no_email": 1})
    sf_person.Lead.update(older, {"Email": "lead1@import.example"})  # the linked lead's
    sf_person.Lead.update(linked, {"FirstName": "Renamed"})
    job = run(integration, "leads")
    assert (job.created, job.updated, job.failed) == (0, 1, 0)
    assert job.skipped_reasons == {"duplicate_email": 1}
    assert_adds_up(job)
    contact = RecordLink.objects.get(salesforce_id=linked).hubspot_id
    props = hs_get(hs_person, contact, "firstname", "email")
    assert (props["firstname"], props["email"]) == ("Renamed", "lead1@import.example")
    assert not RecordLink.objects.filter(salesforce_id=older).exists()
    assert len(hs_emails(hs_person)) == 1


def test_switching_the_pair_off_stops_its_running_import_until_it_is_on_again(
    integration, sf_person, hs_person, monkeypatch
):
    """Turning the contact sync off on its tab stops its writes, the import's too: the import
    stops after the batch in flight, says why, and resumes once the sync is on again."""
    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(30))
    job = import_start(integration=integration, object_name="leads", enqueue=False)

    def admin_switches_contact_sync_off(current):
        if current.processed == 10:
            object_settings_update(
                integration=integration, object_name="contacts", changes={}, enabled=False
            )

    import_run(job=job, progress=admin_switches_contact_sync_off)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.message == (
        "Sync is off for this object. Resume the import to continue where it stopped."
    )
    assert (job.processed, job.created) == (10, 10)
    assert len(hs_emails(hs_person)) == 10
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=True
    )
    imports.import_resume(job=job)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert (job.processed, job.created) == (30, 30)
    assert len(set(hs_emails(hs_person))) == 30


def test_a_quiet_worker_whose_import_was_resumed_elsewhere_leaves_it_to_the_new_worker(
    integration, sf_person, hs_person, monkeypatch
):
    """A worker that goes quiet past its lease (a paused VM, a long stall) shows the import
    as stalled, and the admin resumes it: a new worker takes it over and finishes it. The old
    worker, waking up, stops instead of importing the rest again and writing its own stale
    counts over the new worker's."""
    from sync_engine.sync import cycle

    monkeypatch.setattr(imports, "BATCH", 10)
    monkeypatch.setattr(cycle, "LEASE", timedelta(0))  # the pair's lease is up at once too
    seed(sf_person, "Lead", leads(30))
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    resumed = []

    def goes_quiet_and_is_resumed_elsewhere(current):
        if current.processed != 10 or resumed:
            return
        quiet_since = timezone.now() - imports.LEASE - timedelta(minutes=1)
        ImportJob.objects.filter(pk=current.pk).update(heartbeat_at=quiet_since)
        stalled = ImportJob.objects.get(pk=current.pk)
        assert imports.job_stalled(stalled)  # the page offers Resume
        resumed.append(imports.import_resume(job=stalled))
        import_run(job=resumed[0])  # another worker runs it to the end

    import_run(job=job, progress=goes_quiet_and_is_resumed_elsewhere)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert (job.processed, job.created, job.skipped, job.failed) == (30, 30, 0, 0)
    assert_adds_up(job)
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 30


def test_reading_a_big_portals_emails_first_keeps_the_import_alive(
    integration, sf_person, hs_person, emulators, monkeypatch
):
    """Before the first batch, an import into a portal with fewer contacts than it brings
    reads every HubSpot email (100 a call: minutes for a big portal). Meanwhile the import
    must not look stalled, or the page offers Resume and a second worker runs it too."""
    from hubspot.crm.contacts import (
        BatchInputSimplePublicObjectBatchInputForCreate,
        SimplePublicObjectBatchInputForCreate,
    )

    monkeypatch.setattr(imports, "LEASE", timedelta(seconds=2.5))
    people = [
        SimplePublicObjectBatchInputForCreate(properties={"email": f"hs{i}@portal.example"})
        for i in range(250)
    ]
    for start in range(0, 250, 100):
        hs_person.crm.contacts.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=people[start : start + 100])
        )
    seed(sf_person, "Lead", leads(500))
    # Three pages of HubSpot emails, each slow: longer than the lease together (with room
    # for a loaded machine between two pages).
    emulators.hubspot.app.faults.add(path=r"/crm/v3/objects/contacts$", method="GET", delay=1.0)
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    seen = []
    rest_query_rows = imports.rest_query_rows

    def first_read(salesforce, soql):  # what the page shows as the first batch is read
        seen.append(imports.job_stalled(ImportJob.objects.get(pk=job.pk)))
        return rest_query_rows(salesforce, soql)

    monkeypatch.setattr(imports, "rest_query_rows", first_read)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert job.created == 500
    assert seen == [False]


def test_an_import_resumed_a_day_later_reports_the_time_it_ran(integration, sf_person):
    """Stopped by the allocation yesterday and resumed today: the summary's seconds and
    records per second are the import's, not the day it stood still."""
    seed(sf_person, "Lead", leads(12))
    integration.salesforce_api_allocation = 2  # the COUNT() and one more
    integration.save()
    job = run(integration, "leads")
    assert job.status == "failed"
    yesterday = timedelta(days=1)
    ImportJob.objects.filter(pk=job.pk).update(
        started_at=job.started_at - yesterday,
        finished_at=job.finished_at - yesterday,
        heartbeat_at=job.heartbeat_at - yesterday,
    )
    integration.salesforce_api_allocation = 10_000
    integration.save()
    out = StringIO()
    call_command("import_salesforce", "--resume", str(job.pk), "--here", stdout=out)
    job.refresh_from_db()
    assert (job.status, job.processed) == ("succeeded", 12)
    progress = imports.import_progress(job)
    assert progress["seconds"] < 60 and progress["rate"] > 12 / 60
    headline = next(line for line in out.getvalue().splitlines() if "leads: Succeeded" in line)
    seconds = float(headline.split(" in ")[1].split(" s ")[0].replace(",", ""))
    assert seconds < 60, headline


def test_records_made_in_salesforce_while_an_import_stood_still_count_in_its_total(
    integration, sf_person, hs_person, monkeypatch
):
    """New leads keep arriving (web forms) while an import stands still (its worker died, or
    it ran out of calls); their ids come after its position, so the resumed import brings
    them too. The summary's total counts them: it never shows more records processed than
    there are in Salesforce."""
    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(20))
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    import_run(job=job, stop_after_batches=1)  # the worker dies after the first batch
    seed(sf_person, "Lead", leads(5, start=100))
    out = StringIO()  # a new worker takes the import over
    call_command("import_salesforce", "--resume", str(job.pk), "--here", stdout=out)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert (job.total, job.processed, job.created) == (25, 25, 25)
    assert_adds_up(job)
    shown = base.summary_rows(out.getvalue())
    assert (shown["records in Salesforce"], shown["processed"]) == (25, 25)
    assert "25/25 100%" in out.getvalue()


def test_a_cancel_while_salesforce_prepares_the_bulk_query_aborts_the_job(
    integration, sf_person, emulators, monkeypatch
):
    """Cancelled while Salesforce still runs the Bulk query: the job is aborted in Salesforce
    too (one call), rather than left running there for nothing."""
    from types import SimpleNamespace

    monkeypatch.setattr(imports, "BULK_THRESHOLD", 10)
    seed(sf_person, "Lead", leads(12))
    emulators.salesforce.app.run_action("configure_bulk", in_progress_polls=5)
    job = import_start(integration=integration, object_name="leads", enqueue=False)

    def sleep(seconds):  # between polls the admin presses Cancel
        imports.import_cancel(job=job)

    monkeypatch.setattr(imports, "time", SimpleNamespace(sleep=sleep, monotonic=time.monotonic))
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.processed == 0
    jobs = sf_person.restful("jobs/query", method="GET")["records"]
    assert [j["state"] for j in jobs] == ["Aborted"]


def test_a_resumed_import_whose_pair_went_off_before_it_ran_stays_resumable(
    integration, sf_person, hs_person, monkeypatch
):
    """Resumed, then the pair switched off before a worker took it: the records it didn't
    read aren't counted as skipped ("pair off") as if they had been looked at; it stops,
    resumable, as when the pair goes off while it runs."""
    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(30))
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    import_run(job=job, stop_after_batches=1)
    imports.import_cancel(job=job)
    imports.import_resume(job=job, enqueue=False)
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=False
    )
    import_run(job=job)
    job.refresh_from_db()
    assert (job.status, job.processed, job.skipped) == ("failed", 10, 0)
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=True
    )
    imports.import_resume(job=job, enqueue=False)
    import_run(job=job)
    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == ("succeeded", 30, 30)
