"""Importing Salesforce records into HubSpot (spec §16), end to end through the official clients
and the emulators: the REST and Bulk reads, idempotent re-runs, resuming after a crash, skip
reasons, the pairs' order of operations and what an import costs in API calls."""

from __future__ import annotations

import math
import time
from functools import partial

import pytest

from sync_engine import imports
from sync_engine.imports import ImportRefused, import_run, import_start
from sync_engine.models import ApiCall, AuditEvent, ImportJob, RecordLink, SyncError, System
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.engine_harness import chunks
from tests.sync_engine.sync.helpers import crash_on_creates, hs_create, hs_emails, hs_get
from tests.sync_engine.sync.test_deals_pipelines import pipeline_stages


@pytest.fixture
def integration(sf_connection, hs_connection, emulators):
    integration = sf_connection.integration
    user = emulators.salesforce.app.run_action("user_for_token", token=sf_connection.access_token)
    sf_connection.user_id = user or ""
    sf_connection.save()
    object_sync_get_or_create(integration=integration, object_name="contacts")
    return integration


def seed(sf, sobject: str, records: list[dict]) -> list[str]:
    ids = []
    for batch in chunks(records, 200):
        body = {
            "allOrNone": False,
            "records": [{"attributes": {"type": sobject}, **r} for r in batch],
        }
        results = sf.restful("composite/sobjects", method="POST", json=body)
        assert all(r["success"] for r in results), results[:2]
        ids += [r["id"] for r in results]
    return ids


def leads(n: int, start: int = 0, **extra) -> list[dict]:
    return [
        {
            "FirstName": f"First{i}",
            "LastName": f"Last{i}",
            "Company": f"Co {i}",
            "Email": f"lead{i}@import.example",
            **extra,
        }
        for i in range(start, start + n)
    ]


def run(integration, object_name: str, **kwargs) -> ImportJob:
    job = import_start(integration=integration, object_name=object_name, enqueue=False)
    import_run(job=job, **kwargs)
    job.refresh_from_db()
    return job


def calls(integration, system: str) -> int:
    return ApiCall.objects.filter(integration=integration, system=system).count()


def test_a_small_lead_import_reads_by_rest_creates_and_links(integration, sf_person, hs_person):
    ids = seed(sf_person, "Lead", leads(25))
    sf_before = calls(integration, System.SALESFORCE)
    job = run(integration, "leads")
    assert job.status == "succeeded", job.message
    assert job.method == "rest"
    assert (job.total, job.processed, job.created, job.updated, job.skipped, job.failed) == (
        25, 25, 25, 0, 0, 0,
    )  # fmt: skip
    assert job.position == max(ids)
    assert job.salesforce_calls == calls(integration, System.SALESFORCE) - sf_before
    links = RecordLink.objects.filter(integration=integration, object="contacts")
    assert links.count() == 25
    link = links.get(salesforce_id=ids[3])
    props = hs_get(hs_person, link.hubspot_id, "email", "firstname", "company")
    assert props["email"] == "lead3@import.example" and props["firstname"] == "First3"
    assert props["company"] == "Co 3"
    assert AuditEvent.objects.filter(action="import.started", details__object="leads").exists()
    # The regular sync treats them as linked: nothing left to do.
    run_ = sync_cycle_run(integration=integration, object_name="contacts")
    assert run_.counts.get("created_in_hubspot", 0) == 0
    assert run_.counts.get("updated_in_hubspot", 0) == 0
    assert sorted(hs_emails(hs_person)) == sorted(f"lead{i}@import.example" for i in range(25))


def test_a_large_import_reads_by_bulk_query_and_costs_few_salesforce_calls(
    integration, sf_person, hs_person, monkeypatch
):
    monkeypatch.setattr(imports, "BULK_THRESHOLD", 100)
    monkeypatch.setattr(imports, "BULK_PAGE", 120)  # result pages of 120 rows (maxRecords)
    monkeypatch.setattr(imports, "BATCH", 100)
    seed(sf_person, "Lead", leads(300))
    job = run(integration, "leads")
    assert job.status == "succeeded", job.message
    assert job.method == "bulk"
    assert (job.processed, job.created, job.failed) == (300, 300, 0)
    operations = list(
        ApiCall.objects.filter(integration=integration, system=System.SALESFORCE)
        .order_by("id")
        .values_list("operation", flat=True)
    )
    # COUNT(), two describes (the pair's first schema read), the owners' users, then the job:
    # create, one poll, ceil(300 / 120) = 3 result pages.
    assert operations.count("bulk2.query") == 1 + 1 + 3, str(operations)
    assert operations.count("query") == 2  # COUNT() and the users
    assert job.salesforce_calls == len(operations) == 1 + 2 + 1 + 1 + 1 + 3
    assert len(set(hs_emails(hs_person))) == 300
    # Typed like REST: the links' snapshots equal what the next cycle reads, so it is idle.
    idle = sync_cycle_run(integration=integration, object_name="contacts")
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get("created_in_hubspot")


def test_a_slow_bulk_query_keeps_the_import_alive_and_says_why_it_waits(
    integration, sf_person, hs_person, emulators, monkeypatch
):
    import time
    from datetime import timedelta
    from types import SimpleNamespace

    monkeypatch.setattr(imports, "BULK_THRESHOLD", 10)
    monkeypatch.setattr(imports, "LEASE", timedelta(seconds=0.3))
    seed(sf_person, "Lead", leads(12))
    emulators.salesforce.app.run_action("configure_bulk", in_progress_polls=3)
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    seen = []

    def sleep(seconds):  # between polls: what the page would show now, then a lease's wait
        current = ImportJob.objects.get(pk=job.pk)
        seen.append((imports.job_stalled(current), current.message))
        time.sleep(seconds + 0.3)

    monkeypatch.setattr(imports, "time", SimpleNamespace(sleep=sleep, monotonic=time.monotonic))
    import_run(job=job)
    job.refresh_from_db()
    assert seen == [(False, imports.PREPARING)] * 3
    assert job.status == "succeeded" and (job.method, job.created) == ("bulk", 12)
    assert job.message == ""


def test_import_cost_formula():
    """What a 100,000-record import costs in Salesforce calls, by the read it picks: COUNT(),
    then Bulk (create, poll, one page per 50,000) — the bench measures the real thing."""

    def cost(n: int) -> int:
        if n > imports.BULK_THRESHOLD:
            return 1 + 1 + 1 + math.ceil(n / imports.BULK_PAGE)
        return 1 + max(1, math.ceil(n / imports.REST_PAGE))

    assert cost(100_000) == 5 <= 20
    assert cost(10_000) == 6
    assert cost(1_000) == 2


def test_re_running_an_import_duplicates_nothing_and_skips_what_is_in_sync(
    integration, sf_person, hs_person
):
    seed(sf_person, "Lead", leads(30))
    first = run(integration, "leads")
    assert first.created == 30
    hs_calls = calls(integration, System.HUBSPOT)
    again = run(integration, "leads")
    assert again.status == "succeeded"
    assert (again.created, again.updated, again.failed) == (0, 0, 0)
    assert again.skipped == 30 and again.skipped_reasons == {"already_in_sync": 30}
    # Unchanged: one HubSpot read (the linked contacts looked up, in case one was deleted
    # there), no write.
    assert calls(integration, System.HUBSPOT) == hs_calls + math.ceil(30 / 100)
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 30
    assert RecordLink.objects.filter(integration=integration).count() == 30


def test_an_import_that_stops_midway_resumes_after_its_position(
    integration, sf_person, hs_person, monkeypatch, emulators
):
    monkeypatch.setattr(imports, "BATCH", 10)
    ids = seed(sf_person, "Lead", leads(45))
    # The last lead repeats the first one's email: a duplicate across the restart.
    seed(
        sf_person, "Lead", [{"LastName": "Again", "Company": "X", "Email": "Lead0@import.example"}]
    )
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    import_run(job=job, stop_after_batches=2)  # the worker "dies" after two batches
    job.refresh_from_db()
    assert job.status == "running" and job.processed == 20
    assert job.position == sorted(ids)[19]
    assert len(hs_emails(hs_person)) == 20
    with pytest.raises(ImportRefused):  # one import of an object at a time
        import_start(integration=integration, object_name="leads", enqueue=False)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert (job.total, job.processed, job.created, job.skipped) == (46, 46, 45, 1)
    assert job.skipped_reasons == {"duplicate_email": 1}
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 45
    resumed = [q for q in soql_seen(emulators) if "ORDER BY Id" in q]
    assert len(resumed) == 2 and f"Id > '{sorted(ids)[19]}'" in resumed[1]


def soql_seen(emulators) -> list[str]:
    from urllib.parse import parse_qs

    return [
        parse_qs(e.query).get("q", [""])[0]
        for e in emulators.salesforce.app.ledger.entries()
        if e.path.rstrip("/").endswith("/query")
    ]


def test_skipped_records_are_counted_with_their_reasons(integration, sf_person, hs_person):
    seed(sf_person, "Lead", leads(5))
    seed(
        sf_person,
        "Lead",
        [
            {"LastName": "Nomail", "Company": "X"},
            {"LastName": "Twin", "Company": "X", "Email": "LEAD1@import.example"},
        ],
    )
    seed(sf_person, "Contact", [{"LastName": "Also", "Email": "lead2@import.example"}])
    job = run(integration, "leads")
    assert (job.total, job.processed, job.created, job.failed) == (7, 7, 5, 0)
    assert job.skipped == 2
    assert job.skipped_reasons == {"no_email": 1, "duplicate_email": 1}
    # Contacts: the one whose email an imported lead already has is a duplicate too; the
    # lead keeps its HubSpot contact.
    contacts = run(integration, "contacts")
    assert (contacts.total, contacts.created, contacts.updated) == (1, 0, 0)
    assert contacts.skipped_reasons == {"duplicate_email": 1}
    assert RecordLink.objects.get(
        integration=integration, hubspot_id__isnull=False, salesforce_id__startswith="00Q",
        snapshot__email="lead2@import.example",
    )  # fmt: skip
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 5


def test_a_record_hubspot_rejects_fails_alone_as_a_typed_sync_error(
    integration, sf_person, hs_person, emulators
):
    ids = seed(sf_person, "Lead", leads(3))
    rule = emulators.hubspot.app.faults.add(
        path=r"/batch/upsert$",
        status=400,
        body={
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": "Property values were not valid",
        },
    )
    job = run(integration, "leads")
    assert job.status == "succeeded"
    assert (job.processed, job.created, job.failed) == (3, 0, 3)
    errors = SyncError.objects.filter(integration=integration, resolved_at__isnull=True)
    assert sorted(e.record_key for e in errors) == sorted(f"salesforce:{i}" for i in ids)
    assert {e.direction for e in errors} == {"to_hubspot"}
    emulators.hubspot.app.faults.remove(rule.id)
    again = run(integration, "leads")
    assert (again.created, again.failed) == (3, 0)
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


REJECTED = {
    "path": r"/batch/upsert$",  # creates; updates go to /batch/update
    "status": 400,
    "body": {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": "Property values were not valid",
    },
}


def open_errors(integration) -> set[str]:
    """The Salesforce records Sync health shows a current error for."""
    return set(
        SyncError.objects.filter(integration=integration, resolved_at__isnull=True).values_list(
            "salesforce_id", flat=True
        )
    )


def assert_adds_up(job: ImportJob) -> None:
    """Each record read is in exactly one outcome; each skipped one has a reason with a label."""
    assert job.created + job.updated + job.skipped + job.failed == job.processed == job.total
    assert sum(job.skipped_reasons.values()) == job.skipped
    assert set(job.skipped_reasons) <= set(imports.SKIP_REASONS)


def summary_rows(text: str) -> dict[str, int]:
    """The command's summary lines: label -> number."""
    rows = {}
    for line in text.splitlines():
        label, _, value = line.rpartition(" ")
        if value.replace(",", "").isdigit():
            rows[label.strip()] = int(value.replace(",", ""))
    return rows


def test_records_already_in_sync_do_not_hide_the_records_hubspot_rejects(
    integration, sf_person, hs_person, emulators
):
    seed(sf_person, "Lead", leads(3))
    assert run(integration, "leads").created == 3
    new = seed(sf_person, "Lead", leads(2, start=10))
    emulators.hubspot.app.faults.add(**REJECTED)
    job = run(integration, "leads")
    assert (job.processed, job.created, job.updated, job.skipped, job.failed) == (5, 0, 0, 3, 2)
    assert job.skipped_reasons == {"already_in_sync": 3}
    assert open_errors(integration) == set(new)
    assert_adds_up(job)


def test_the_summary_counts_each_record_once_and_the_command_shows_it(
    integration, sf_person, hs_person, emulators
):
    from io import StringIO

    from django.core.management import call_command

    synced = seed(sf_person, "Lead", leads(4))
    assert run(integration, "leads").created == 4
    for lead in synced[:2]:  # changed since: updated
        sf_person.Lead.update(lead, {"FirstName": "Changed"})
    new = seed(sf_person, "Lead", leads(3, start=10))
    seed(
        sf_person,
        "Lead",
        [
            {"LastName": "Nomail", "Company": "X"},
            {"LastName": "Twin", "Company": "X", "Email": "lead2@import.example"},
        ],
    )
    # Refused: the three creates together, then the first alone and the other two together;
    # those two, sent one by one, go through.
    emulators.hubspot.app.faults.add(**REJECTED, times=3)
    out = StringIO()
    call_command("import_salesforce", "leads", "--here", stdout=out)
    job = ImportJob.objects.filter(object="leads").latest("created_at")
    assert (job.processed, job.created, job.updated, job.skipped, job.failed) == (9, 2, 2, 4, 1)
    assert job.skipped_reasons == {"already_in_sync": 2, "no_email": 1, "duplicate_email": 1}
    assert len(open_errors(integration)) == 1 and open_errors(integration) < set(new)
    assert_adds_up(job)
    shown = summary_rows(out.getvalue())
    expected = {
        "created in HubSpot": 2,
        "updated in HubSpot": 2,
        "skipped": 4,
        "Already synced and unchanged": 2,
        "No email address": 1,
        "Email address of an earlier record": 1,
        "failed (see Sync health)": 1,
    }
    assert {label: shown.get(label) for label in expected} == expected


def test_accounts_need_company_sync_on_and_then_become_companies(integration, sf_person, hs_person):
    ids = seed(sf_person, "Account", [{"Name": f"Account {i}"} for i in range(4)])
    sf_before = calls(integration, System.SALESFORCE)
    # Refused up front, in the Import page's words: no job, no call.
    with pytest.raises(ImportRefused, match="^Company sync is off: turn it on first on the Co"):
        import_start(integration=integration, object_name="accounts", enqueue=False)
    assert not ImportJob.objects.filter(object="accounts").exists()
    assert calls(integration, System.SALESFORCE) == sf_before
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    on = run(integration, "accounts")
    assert (on.total, on.created, on.failed) == (4, 4, 0)
    links = RecordLink.objects.filter(integration=integration, object="companies")
    assert sorted(links.values_list("salesforce_id", flat=True)) == sorted(ids)
    names = {
        c.properties["name"]
        for c in hs_person.crm.companies.basic_api.get_page(limit=100, properties=["name"]).results
    }
    assert {f"Account {i}" for i in range(4)} <= names
    assert run(integration, "accounts").skipped_reasons == {"already_in_sync": 4}


def test_a_cancelled_import_stops_and_can_be_resumed(
    integration, sf_person, hs_person, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(30))
    job = import_start(integration=integration, object_name="leads", enqueue=False)

    def cancel_after_first_batch(current):
        if current.processed == 10:
            imports.import_cancel(job=current)

    import_run(job=job, progress=cancel_after_first_batch)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.processed == 10
    assert AuditEvent.objects.filter(action="import.cancelled").exists()
    imports.import_resume(job=job)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded" and (job.processed, job.created) == (30, 30)
    assert len(set(hs_emails(hs_person))) == 30


def test_a_stopped_import_whose_pair_was_turned_off_is_not_resumed(
    integration, sf_person, hs_person, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(20))
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    import_run(job=job, stop_after_batches=1)
    imports.import_cancel(job=job)
    object_settings_update(
        integration=integration, object_name="contacts", changes={}, enabled=False
    )
    with pytest.raises(ImportRefused, match="^Contact sync is off"):
        imports.import_resume(job=job)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.processed == 10
    assert not AuditEvent.objects.filter(action="import.resumed").exists()


def test_an_import_stops_at_the_allocation_and_resumes_later(integration, sf_person, hs_person):
    seed(sf_person, "Lead", leads(12))
    integration.salesforce_api_allocation = 2  # the COUNT() and one more
    integration.save()
    job = run(integration, "leads")
    assert job.status == "failed"
    assert "resume" in job.message and job.processed == 0
    integration.salesforce_api_allocation = 10_000
    integration.save()
    imports.import_resume(job=job)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded" and (job.total, job.created) == (12, 12)


def test_the_command_runs_an_import_with_a_progress_bar_and_a_summary(integration, sf_person):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    seed(sf_person, "Lead", leads(3) + [{"LastName": "Nomail", "Company": "X"}])
    out = StringIO()
    call_command("import_salesforce", "leads", "--here", stdout=out)
    text = out.getvalue()
    assert "\r[" in text and "4/4 100%" in text  # the bar, redrawn in place
    assert "leads: Succeeded" in text
    for line in ("created in HubSpot", "skipped", "No email address", "Salesforce API calls"):
        assert line in text
    created = next(line for line in text.splitlines() if "created in HubSpot" in line)
    assert created.split()[-1] == "3"
    with pytest.raises(CommandError, match="Unknown object"):
        call_command("import_salesforce", "planets", "--here", stdout=StringIO())
    queued = StringIO()
    call_command("import_salesforce", "contacts", stdout=queued)  # for a worker
    assert "A worker runs it" in queued.getvalue()
    assert ImportJob.objects.filter(object="contacts", status="queued").exists()


# --- the other pairs --------------------------------------------------------------------------
@pytest.fixture
def fast_search(emulators):
    emulators.hubspot.app.configure_budget(search_per_second=1000)


def test_opportunities_after_accounts_become_deals_with_their_company(
    integration, sf_person, hs_person, fast_search
):
    account = seed(sf_person, "Account", [{"Name": "Globex"}])[0]
    opportunities = seed(
        sf_person,
        "Opportunity",
        [
            {"Name": f"Deal {i}", "StageName": "Prospecting", "CloseDate": "2026-12-31",
             "AccountId": account}
            for i in range(3)
        ],
    )  # fmt: skip
    with pytest.raises(ImportRefused, match="^Deal sync is off"):
        run(integration, "opportunities")
    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=True)
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    assert run(integration, "accounts").created == 1
    job = run(integration, "opportunities")
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (3, 3, 0)
    links = RecordLink.objects.filter(integration=integration, object="deals")
    assert sorted(links.values_list("salesforce_id", flat=True)) == sorted(opportunities)
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    deal = links.first().hubspot_id
    page = hs_person.crm.associations.v4.basic_api.get_page("deals", deal, "companies")
    assert [str(r.to_object_id) for r in page.results] == [company]
    assert run(integration, "opportunities").skipped_reasons == {"already_in_sync": 3}


def test_opportunities_imported_again_after_their_accounts_get_their_company(
    integration, sf_person, hs_person, fast_search
):
    """Opportunities imported before their accounts wait for them; imported again once the
    accounts are, they are associated with their companies then, not skipped as in step."""
    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=True)
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    account = seed(sf_person, "Account", [{"Name": "Initech"}])[0]
    seed(sf_person, "Opportunity", [{"Name": "Early", "StageName": "Prospecting",
                                     "CloseDate": "2026-12-31", "AccountId": account}])  # fmt: skip
    first = run(integration, "opportunities")
    # The deal is made; its company association waits (counted failed, with a typed error).
    assert (first.created, first.failed) == (0, 1)
    assert RecordLink.objects.filter(object="deals").count() == 1
    waiting = SyncError.objects.filter(
        object="deals", error_type="waiting_for_account", resolved_at__isnull=True
    )
    assert waiting.count() == 1
    assert run(integration, "accounts").created == 1
    job = run(integration, "opportunities")
    assert job.status == "succeeded" and not job.skipped_reasons, job.skipped_reasons
    deal = RecordLink.objects.get(object="deals").hubspot_id
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    page = hs_person.crm.associations.v4.basic_api.get_page("deals", deal, "companies")
    assert [str(r.to_object_id) for r in page.results] == [company]
    assert not waiting.exists()


def test_a_deal_moved_to_an_unsynced_pipeline_is_skipped_for_that_reason(
    integration, sf_person, hs_person, fast_search
):
    """A deal moved out of the synced pipelines opted out (spec §10): its opportunity's
    change is skipped, with that reason, not counted as updated or failed."""
    from hubspot.crm.deals import SimplePublicObjectInput

    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=True)
    ids = seed(
        sf_person,
        "Opportunity",
        [{"Name": f"Deal {i}", "StageName": "Prospecting", "CloseDate": "2026-12-31"}
         for i in range(3)],
    )  # fmt: skip
    assert run(integration, "opportunities").created == 3
    moved = RecordLink.objects.get(object="deals", salesforce_id=ids[0]).hubspot_id
    hs_person.crm.deals.basic_api.update(
        moved,
        SimplePublicObjectInput(properties={"pipeline": "default", "dealstage": "qualifiedtobuy"}),
    )
    sf_person.Opportunity.update(ids[0], {"Name": "Renamed in Salesforce"})
    job = run(integration, "opportunities")
    assert job.status == "succeeded", job.message
    assert (job.created, job.updated, job.skipped, job.failed) == (0, 0, 3, 0)
    assert job.skipped_reasons == {"already_in_sync": 2, "unsynced_pipeline": 1}
    assert_adds_up(job)
    assert str(imports.SKIP_REASONS["unsynced_pipeline"]) == "Deal in a pipeline that isn't synced"
    deal = hs_person.crm.deals.basic_api.get_by_id(moved, properties=["dealname"])
    assert deal.properties["dealname"] == "Deal 0"
    assert not open_errors(integration)


def test_cases_become_tickets(integration, sf_person, fast_search):
    seed(sf_person, "Case", [{"Subject": f"Case {i}", "Status": "New"} for i in range(4)])
    object_settings_update(
        integration=integration,
        object_name="tickets",
        changes={"setup_complete": True},
        enabled=True,
    )
    job = run(integration, "cases")
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (4, 4, 0)
    assert RecordLink.objects.filter(object="tickets").count() == 4


def lead_imported_and_task_sync_on(integration) -> None:
    """The seeded lead imported (activities go on it), then Salesforce task sync on."""
    assert run(integration, "leads").created == 1
    object_settings_update(
        integration=integration,
        object_name="activities",
        changes={"salesforce_tasks": True},
        enabled=True,
    )


def test_tasks_of_imported_people_become_engagements_even_from_before_the_toggle(
    integration, sf_person, hs_person, fast_search
):
    lead = seed(sf_person, "Lead", leads(1))[0]
    seed(
        sf_person,
        "Task",
        [{"WhoId": lead, "Subject": f"Call back {i}", "Status": "Completed"} for i in range(2)]
        + [{"Subject": "On no one", "Status": "Completed"}],  # no lead or contact to go on
    )
    lead_imported_and_task_sync_on(integration)
    job = run(integration, "tasks")
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (3, 2, 0)
    assert job.skipped_reasons == {"no_contact": 1}
    tasks = hs_person.crm.objects.basic_api.get_page(
        "tasks", limit=10, properties=["hs_task_subject"]
    )
    assert sorted(t.properties["hs_task_subject"] for t in tasks.results) == [
        "Call back 0",
        "Call back 1",
    ]


def test_events_become_meetings_on_their_contacts_once_the_meetings_toggle_is_on(
    integration, sf_person, hs_person, fast_search
):
    lead = seed(sf_person, "Lead", leads(1))[0]
    seed(
        sf_person,
        "Event",
        [
            {
                "WhoId": lead,
                "Subject": f"Lunch {i}",
                "StartDateTime": f"2026-05-0{i + 1}T12:00:00.000+0000",
                "EndDateTime": f"2026-05-0{i + 1}T13:00:00.000+0000",
                "DurationInMinutes": 60,
            }
            for i in range(2)
        ],
    )
    lead_imported_and_task_sync_on(integration)
    before = calls(integration, "salesforce")
    # Meetings are off: the import would read every event only to skip it, so it is refused
    # before any call, saying what to turn on.
    with pytest.raises(ImportRefused, match="^Salesforce meetings are off on the Activities tab"):
        run(integration, "events")
    assert calls(integration, "salesforce") == before
    assert not ImportJob.objects.filter(object="events").exists()
    object_settings_update(
        integration=integration, object_name="activities", changes={"salesforce_meetings": True}
    )
    job = run(integration, "events")
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (2, 2, 0)
    contact = RecordLink.objects.get(object="contacts", salesforce_id=lead).hubspot_id
    meetings = hs_person.crm.objects.basic_api.get_page(
        "meetings", limit=10, properties=["hs_meeting_title", "hs_meeting_start_time"],
        associations=["contacts"],
    )  # fmt: skip
    got = sorted(
        (m.properties["hs_meeting_title"], m.properties["hs_meeting_start_time"][:16],
         [a.id for a in m.associations["contacts"].results])
        for m in meetings.results
    )  # fmt: skip
    assert got == [
        ("Lunch 0", "2026-05-01T12:00", [contact]),
        ("Lunch 1", "2026-05-02T12:00", [contact]),
    ]


def test_a_custom_object_pair_imports_its_salesforce_object(
    integration, sf_person, hs_person, fast_search
):
    from tests.sync_engine.sync.test_custom_objects import set_up

    _, name = set_up(integration, hs_person)
    object_settings_update(integration=integration, object_name=name, changes={}, enabled=True)
    seed(sf_person, "Project__c", [{"Name": f"Apollo {i}"} for i in range(3)])
    job = run(integration, name)
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (3, 3, 0)
    assert RecordLink.objects.filter(object=name).count() == 3


def test_an_import_whose_custom_object_was_removed_says_only_that(
    integration, sf_person, hs_person
):
    """A failure that already says what to do isn't told to resume as well (resuming an
    import of a pairing that is gone can't help)."""
    from sync_engine.services import custom_object_delete
    from tests.sync_engine.sync.test_custom_objects import set_up

    _, name = set_up(integration, hs_person)
    object_settings_update(integration=integration, object_name=name, changes={}, enabled=True)
    job = import_start(integration=integration, object_name=name, enqueue=False)
    custom_object_delete(integration=integration, object_name=name)
    job = import_run(job=ImportJob.objects.get(pk=job.pk))
    assert job.status == "failed"
    assert job.message == f"Nothing to import for '{name}'."


def test_the_celery_task_runs_a_queued_import_and_ignores_finished_ones(integration, sf_person):
    from sync_engine.tasks import run_import

    seed(sf_person, "Contact", [{"LastName": "Task", "Email": "task@import.example"}])
    job = import_start(integration=integration, object_name="contacts", enqueue=False)
    run_import(job.pk)
    job.refresh_from_db()
    assert (job.status, job.created) == ("succeeded", 1)
    finished_at = job.finished_at
    run_import(job.pk)  # a redelivered message: nothing happens
    run_import(987654)
    job.refresh_from_db()
    assert job.finished_at == finished_at


def test_an_import_held_by_a_worker_elsewhere_is_looked_at_again_when_its_lease_runs_out(
    integration, sf_person
):
    """A worker restarted on another host (a redeploy) gets the import's redelivered task
    while the old lease still runs: instead of giving up for good (stalled until an admin
    resumes it), the task is queued again for when that lease runs out."""
    import uuid
    from datetime import datetime, timedelta

    from django.utils import timezone

    from integration_admin.celery import app
    from sync_engine.tasks import run_import

    from .engine_processes import route_tasks

    seed(sf_person, "Contact", [{"LastName": "Later", "Email": "later@import.example"}])
    job = import_start(integration=integration, object_name="contacts", enqueue=False)
    held = timezone.now() - timedelta(minutes=2)
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", worker="old-host:7:space:abcd1234", heartbeat_at=held
    )
    name = f"recheck-{uuid.uuid4().hex[:8]}"  # this test's own queue: nobody else's messages
    routes = route_tasks({run_import.name: {"queue": name}})
    try:
        run_import(job.pk)
    finally:
        route_tasks(routes)
    job.refresh_from_db()
    assert (job.status, job.created) == ("running", 0)  # untouched: not this worker's
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue(name)
        message = queue.get(timeout=5)
        message.ack()
        queue.close()
    assert message.headers["task"] == run_import.name
    assert message.payload[0] == [job.pk]
    eta = datetime.fromisoformat(message.headers["eta"])
    expected = held + imports.LEASE + timedelta(seconds=5)
    assert abs((eta - expected).total_seconds()) < 3


def test_a_large_people_import_reads_hubspot_emails_once_instead_of_per_batch(
    integration, sf_person, hs_person, monkeypatch
):
    monkeypatch.setattr(imports, "BATCH", 100)
    seed(sf_person, "Lead", leads(300))
    existing = hs_create(hs_person, email="lead5@import.example", firstname="Old")
    job = run(integration, "leads")
    assert (job.created, job.updated, job.failed) == (299, 1, 0)
    operations = list(
        ApiCall.objects.filter(integration=integration, system=System.HUBSPOT).values_list(
            "operation", flat=True
        )
    )
    assert operations.count("contacts.list") == 1  # every HubSpot email, once
    assert operations.count("contacts.batch.read") == 1  # only the batch with lead5
    assert operations.count("contacts.batch.upsert") == 3
    assert hs_get(hs_person, existing, "firstname")["firstname"] == "First5"
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 300


def test_an_import_creates_even_when_the_sync_does_not_create(integration, sf_person, hs_person):
    """ "Do nothing" stops the sync creating HubSpot contacts for new Salesforce people; an
    import is the admin asking for exactly that (spec §6.1)."""
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"salesforce_create_update": "nothing"},
    )
    seed(
        sf_person,
        "Contact",
        [{"LastName": f"C{i}", "Email": f"c{i}@import.example"} for i in range(2)],
    )
    idle = sync_cycle_run(integration=integration, object_name="contacts")
    assert idle.counts.get("skipped_create_disabled") == 2
    job = run(integration, "contacts")
    assert (job.created, job.skipped) == (2, 0)
    assert sorted(hs_emails(hs_person)) == ["c0@import.example", "c1@import.example"]


# --- one campaign's members (spec §16, §17) ---------------------------------------------------
def campaign(sf, name: str, *, active: bool = True, leads_: list[str] = (), contacts=()) -> str:
    """A Salesforce campaign with these leads and contacts as its members."""
    campaign_id = seed(sf, "Campaign", [{"Name": name, "IsActive": active}])[0]
    members = [{"CampaignId": campaign_id, "LeadId": i} for i in leads_]
    members += [{"CampaignId": campaign_id, "ContactId": i} for i in contacts]
    seed(sf, "CampaignMember", [{**m, "Status": "Sent"} for m in members])
    return campaign_id


def people(n: int, prefix: str, **extra) -> list[dict]:
    return [{"LastName": f"{prefix}{i}", "Email": f"{prefix}{i}@camp.example", **extra}
            for i in range(n)]  # fmt: skip


def test_a_campaign_import_brings_its_contacts_and_unconverted_leads_as_contacts(
    integration, sf_person, hs_person, emulators
):
    lead_ids = seed(sf_person, "Lead", [{**p, "Company": "X"} for p in people(4, "lead")])
    contact_ids = seed(sf_person, "Contact", people(3, "contact"))
    no_email = seed(sf_person, "Lead", [{"LastName": "Nomail", "Company": "X"}])
    twin = seed(sf_person, "Lead", [{"LastName": "Twin", "Company": "X",
                                     "Email": "CONTACT0@camp.example"}])  # fmt: skip
    converted = seed(sf_person, "Lead", [{"LastName": "Conv", "Company": "X",
                                          "Email": "conv@camp.example"}])  # fmt: skip
    emulators.salesforce.app.run_action(
        "convert_lead", lead_id=converted[0], contact_id=contact_ids[2], create_opportunity=False
    )
    # Not members: these stay out of HubSpot.
    seed(sf_person, "Lead", [{"LastName": "Out", "Company": "X", "Email": "out@camp.example"}])
    seed(sf_person, "Contact", [{"LastName": "Out", "Email": "outc@camp.example"}])
    members = lead_ids[:3] + no_email + twin + converted
    cid = campaign(sf_person, "Partner Summit", leads_=members, contacts=contact_ids)
    campaign(sf_person, "Other", leads_=lead_ids[3:])  # another campaign's member
    sf_before = calls(integration, System.SALESFORCE)
    job = run(integration, f"campaign:{cid}")
    assert job.status == "succeeded", job.message
    assert (job.object, job.object_label, job.method) == (
        f"campaign:{cid}",
        "Partner Summit",
        "rest",
    )
    # 3 contacts, then 5 unconverted leads: 3 created, one without email, one whose email a
    # member contact has (contacts are read first, so the contact keeps it).
    assert (job.total, job.processed, job.created, job.updated, job.failed) == (8, 8, 6, 0, 0)
    assert job.skipped_reasons == {"no_email": 1, "duplicate_email": 1}
    assert sorted(hs_emails(hs_person)) == sorted(
        [f"contact{i}@camp.example" for i in range(3)] + [f"lead{i}@camp.example" for i in range(3)]
    )
    links = RecordLink.objects.filter(integration=integration, object="contacts")
    assert sorted(links.values_list("salesforce_id", flat=True)) == sorted(
        contact_ids + lead_ids[:3]
    )
    assert job.part == 1 and job.position == max(lead_ids[:3] + no_email + twin)
    assert job.salesforce_calls == calls(integration, System.SALESFORCE) - sf_before
    soqls = soql_seen(emulators)
    assert any("IsActive FROM Campaign WHERE Id" in q for q in soqls)  # checked when started
    reads = [q for q in soqls if "ORDER BY Id" in q]
    assert [q.split(" FROM ")[1].split()[0] for q in reads] == ["Contact", "Lead"]
    assert "SELECT LeadId FROM CampaignMember" in reads[1] and "IsConverted = false" in reads[1]
    composite = ApiCall.objects.filter(integration=integration, operation="composite")
    assert composite.count() == 1  # both parts' COUNT() in one call
    assert AuditEvent.objects.filter(
        action="import.started", details__object=f"campaign:{cid}"
    ).exists()


def test_only_an_active_campaign_can_be_imported(integration, sf_person):
    lead = seed(sf_person, "Lead", leads(1))
    inactive = campaign(sf_person, "Spring Webinar", active=False, leads_=lead)
    with pytest.raises(ImportRefused, match="Spring Webinar isn't active"):
        import_start(integration=integration, object_name=f"campaign:{inactive}", enqueue=False)
    for gone in (inactive[:12] + "999", inactive[:-3] + "ZZZ"):  # no record; a bad checksum
        with pytest.raises(ImportRefused, match=f"Salesforce has no campaign {gone}"):
            import_start(integration=integration, object_name=f"campaign:{gone}", enqueue=False)
    with pytest.raises(ImportRefused, match="Unknown object"):
        import_start(integration=integration, object_name="campaign:x' OR Id != '", enqueue=False)
    assert not ImportJob.objects.exists()
    active = campaign(sf_person, "Partner Summit", leads_=lead)
    job = import_start(
        integration=integration, object_name=f"campaign:{active[:15]}", enqueue=False
    )
    assert job.object == f"campaign:{active}"  # the 18-character id, whichever was given
    with pytest.raises(ImportRefused, match="Campaign members: Partner Summit is already running"):
        import_start(integration=integration, object_name=f"campaign:{active}", enqueue=False)


def test_a_stopped_campaign_import_resumes_in_the_part_it_stopped_in(
    integration, sf_person, hs_person, monkeypatch, emulators
):
    monkeypatch.setattr(imports, "BATCH", 5)
    contact_ids = seed(sf_person, "Contact", people(7, "contact"))
    lead_ids = seed(sf_person, "Lead", [{**p, "Company": "X"} for p in people(12, "lead")])
    cid = campaign(sf_person, "Partner Summit", leads_=lead_ids, contacts=contact_ids)
    job = import_start(integration=integration, object_name=f"campaign:{cid}", enqueue=False)
    import_run(job=job, stop_after_batches=2)  # dies after the contacts (5 + 2)
    job.refresh_from_db()
    assert (job.status, job.processed, job.part, job.position) == (
        "running", 7, 0, max(contact_ids),
    )  # fmt: skip
    import_run(job=job, stop_after_batches=1)  # dies again after the first 5 leads
    job.refresh_from_db()
    assert (job.processed, job.part, job.position) == (12, 1, sorted(lead_ids)[4])
    assert len(hs_emails(hs_person)) == 12
    before = len(soql_seen(emulators))
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert (job.total, job.processed, job.created, job.skipped, job.failed) == (19, 19, 19, 0, 0)
    # The last run read only the rest of the leads: no contact again, no lead twice.
    reads = [q for q in soql_seen(emulators)[before:] if "ORDER BY Id" in q]
    assert len(reads) == 1 and " FROM Lead " in reads[0]
    assert f"Id > '{sorted(lead_ids)[4]}'" in reads[0]
    emails = hs_emails(hs_person)
    assert len(emails) == len(set(emails)) == 19
    assert RecordLink.objects.filter(integration=integration).count() == 19


def test_a_large_campaign_reads_each_part_with_a_bulk_query(
    integration, sf_person, hs_person, monkeypatch
):
    monkeypatch.setattr(imports, "BULK_THRESHOLD", 5)
    contact_ids = seed(sf_person, "Contact", people(4, "contact"))
    lead_ids = seed(sf_person, "Lead", [{**p, "Company": "X"} for p in people(4, "lead")])
    seed(sf_person, "Lead", [{"LastName": "Out", "Company": "X", "Email": "out@camp.example"}])
    cid = campaign(sf_person, "Partner Summit", leads_=lead_ids, contacts=contact_ids)
    job = run(integration, f"campaign:{cid}")
    assert job.status == "succeeded", job.message
    assert (job.method, job.total, job.created, job.failed) == ("bulk", 8, 8, 0)
    operations = list(
        ApiCall.objects.filter(integration=integration, system=System.SALESFORCE).values_list(
            "operation", flat=True
        )
    )
    assert operations.count("composite") == 1  # both COUNT()s
    assert operations.count("bulk2.query") == 2 * 3  # a job a part: create, poll, one page
    assert "out@camp.example" not in hs_emails(hs_person)


def test_the_command_imports_a_campaign(integration, sf_person):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    contact = seed(sf_person, "Contact", people(2, "contact"))
    active = campaign(sf_person, "Partner Summit", contacts=contact)
    out = StringIO()
    call_command("import_salesforce", f"campaign:{active}", "--here", stdout=out)
    text = out.getvalue()
    assert "of Campaign members: Partner Summit started." in text and "2/2 100%" in text
    assert f"campaign:{active}: Succeeded" in text
    inactive = campaign(sf_person, "Spring Webinar", active=False, contacts=contact)
    with pytest.raises(CommandError, match="isn't active"):
        call_command("import_salesforce", f"campaign:{inactive}", "--here", stdout=StringIO())


def test_a_task_import_that_died_after_creating_engagements_resumes_without_duplicates(
    integration, sf_person, hs_person, fast_search, monkeypatch
):
    """The batch in flight when an import stopped may have landed in HubSpot: the resumed
    import looks for those engagements first, even after a cycle in between cleared the
    activities' own pending-create marker."""
    lead = seed(sf_person, "Lead", leads(1))[0]
    seed(
        sf_person,
        "Task",
        [{"WhoId": lead, "Subject": f"Call back {i}", "Status": "Completed"} for i in range(2)],
    )
    # History, as the import is for: stamped (whole seconds) before the toggle, so the cycle
    # in between leaves the tasks to the import instead of finding their copies itself.
    time.sleep(1.1)
    lead_imported_and_task_sync_on(integration)
    revive = crash_on_creates(monkeypatch)
    job = run(integration, "tasks")
    assert job.status == "failed"
    revive()
    assert len(hs_person.crm.objects.basic_api.get_page("tasks", limit=10).results) == 2
    between = sync_cycle_run(integration=integration, object_name="activities")
    assert not between.counts.get("matched"), between.counts  # it didn't look for them

    imports.import_resume(job=job)
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert len(hs_person.crm.objects.basic_api.get_page("tasks", limit=10).results) == 2
    assert RecordLink.objects.filter(object="activities").count() == 2


# --- importing again what is in step (companies, deals) ---------------------------------------
WRITES = ("create", "update", "upsert", "archive", "delete")


def last_call(integration) -> int:
    return (
        ApiCall.objects.filter(integration=integration)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
        or 0
    )


def hubspot_calls_since(integration, mark: int, *, writes: bool = False) -> list[str]:
    """The HubSpot operations the ledger counted after ``mark`` (only writes, with ``writes``)."""
    operations = ApiCall.objects.filter(
        integration=integration, system=System.HUBSPOT, id__gt=mark
    ).values_list("operation", flat=True)
    return [o for o in operations if not writes or o.rsplit(".", 1)[-1] in WRITES]


def pairs_on(integration, *names: str) -> None:
    for name in names:
        object_settings_update(integration=integration, object_name=name, changes={}, enabled=True)


def assert_in_step_again(integration, object_name: str, count: int) -> None:
    """A re-import of ``count`` records nobody changed: all already in sync, no HubSpot write;
    the only HubSpot calls look the linked records up (one batch read per 100), in case one
    was deleted there."""
    mark = last_call(integration)
    again = run(integration, object_name)
    assert again.status == "succeeded", again.message
    assert (again.created, again.updated, again.failed) == (0, 0, 0)
    assert again.skipped_reasons == {"already_in_sync": count}
    assert again.hubspot_calls == math.ceil(count / 100)
    operations = hubspot_calls_since(integration, mark)
    assert len(operations) == math.ceil(count / 100), operations
    assert all(o.endswith(".batch.read") for o in operations), operations


def test_dropdown_values_hubspot_names_otherwise_are_in_step_after_an_accounts_import(
    integration, sf_person, hs_person, fast_search
):
    """Salesforce's "Banking" is written as the HubSpot option labelled so ("BANKING"): both
    sides hold the same choice, so neither the next cycle nor a re-import writes it again, and
    a HubSpot edit reaches Salesforce under Salesforce's own name for it."""
    from hubspot.crm.companies import SimplePublicObjectInput

    from tests.sync_engine.sync.helpers import set_rule

    pairs_on(integration, "companies")
    ids = seed(
        sf_person,
        "Account",
        [
            {"Name": "Bank", "Industry": "Banking", "Type": "Prospect"},
            {"Name": "Shop", "Industry": "Retail", "Type": "Other"},
            {"Name": "Soft", "Industry": "Technology", "Type": "Customer - Direct"},
        ],
    )
    assert run(integration, "accounts").created == 3
    bank = RecordLink.objects.get(object="companies", salesforce_id=ids[0]).hubspot_id
    company = hs_person.crm.companies.basic_api.get_by_id(bank, properties=["industry", "type"])
    assert (company.properties["industry"], company.properties["type"]) == ("BANKING", "PROSPECT")
    mark = last_call(integration)
    idle = sync_cycle_run(integration=integration, object_name="companies")
    assert not idle.counts.get("updated_in_hubspot"), dict(idle.counts)
    assert hubspot_calls_since(integration, mark, writes=True) == []
    assert_in_step_again(integration, "accounts", 3)
    # A two-way industry edited in HubSpot: Salesforce gets its picklist value, not HubSpot's
    # internal option name.
    set_rule(integration, "industry", "two_way")
    hs_person.crm.companies.basic_api.update(
        bank, SimplePublicObjectInput(properties={"industry": "RETAIL"})
    )
    sync_cycle_run(integration=integration, object_name="companies")
    assert sf_person.Account.get(ids[0])["Industry"] == "Retail"
    assert_in_step_again(integration, "accounts", 3)


def test_re_importing_accounts_with_a_read_only_hubspot_property_mapped_writes_nothing(
    integration, sf_person, hs_person, fast_search
):
    """A mapping to a property HubSpot computes itself (the company's Create date) can't be
    written: Salesforce's value for it is no change to sync, so the records stay in step.
    (The editor now refuses such a pair, read-only on both sides; one stored before stays.)"""
    from sync_engine.models import FieldMapping

    pairs_on(integration, "companies")
    FieldMapping.objects.create(
        integration=integration,
        object="companies",
        hubspot_property="createdate",
        salesforce_field="CreatedDate",
        salesforce_fields={"Account": "CreatedDate"},
        rule="always_use_salesforce",
        hubspot_type="datetime",
        hubspot_field_type="date",
        salesforce_type="datetime",
    )
    seed(sf_person, "Account", [{"Name": f"Account {i}"} for i in range(3)])
    assert run(integration, "accounts").created == 3
    assert_in_step_again(integration, "accounts", 3)
    mark = last_call(integration)
    sync_cycle_run(integration=integration, object_name="companies")
    assert hubspot_calls_since(integration, mark, writes=True) == []
    assert_in_step_again(integration, "accounts", 3)


def opportunities(sf, n: int, **extra) -> list[str]:
    return seed(
        sf,
        "Opportunity",
        [{"Name": f"Deal {i}", "StageName": "Prospecting", "CloseDate": "2026-12-31", **extra}
         for i in range(n)],
    )  # fmt: skip


def test_re_importing_opportunities_with_a_read_only_hubspot_property_mapped_writes_nothing(
    integration, sf_person, hs_person, fast_search
):
    """Probability mapped to the deal's stage probability, which HubSpot computes from the
    stage: nothing to write, so a re-import finds every deal in step."""
    from sync_engine.services import mapping_create

    pairs_on(integration, "deals")
    mapping_create(
        integration=integration,
        object_name="deals",
        hubspot_property="hs_deal_stage_probability",
        salesforce_field="Probability",
    )
    opportunities(sf_person, 3)
    assert run(integration, "opportunities").created == 3
    assert_in_step_again(integration, "opportunities", 3)
    mark = last_call(integration)
    sync_cycle_run(integration=integration, object_name="deals")
    assert hubspot_calls_since(integration, mark, writes=True) == []
    assert_in_step_again(integration, "opportunities", 3)


def test_an_always_salesforce_mapping_added_later_settles_on_salesforce_blank(
    integration, sf_person, hs_person, fast_search
):
    """*Always use Salesforce* leaves HubSpot's value alone while Salesforce's is blank (it
    only clears HubSpot once Salesforce is cleared later): that is the field in step, so once
    looked at, the deals aren't read again on every import."""
    from hubspot.crm.deals import SimplePublicObjectInput
    from hubspot.crm.properties import PropertyCreate

    from sync_engine.services import mapping_create, schema_refresh

    pairs_on(integration, "deals")
    ids = opportunities(sf_person, 3)
    assert run(integration, "opportunities").created == 3
    hs_person.crm.properties.core_api.create(
        "deals",
        PropertyCreate(
            name="next_step", label="Next step", type="string", field_type="text",
            group_name="dealinformation",
        ),
    )  # fmt: skip
    deals = [RecordLink.objects.get(object="deals", salesforce_id=i).hubspot_id for i in ids]
    for deal in deals:
        hs_person.crm.deals.basic_api.update(
            deal, SimplePublicObjectInput(properties={"next_step": "Call the buyer"})
        )
    sync_cycle_run(integration=integration, object_name="deals")
    schema_refresh(integration=integration, object_name="deals")
    mapping_create(
        integration=integration,
        object_name="deals",
        hubspot_property="next_step",
        salesforce_field="NextStep",
        rule="always_use_salesforce",
    )
    mark = last_call(integration)
    first = run(integration, "opportunities")  # the new mapping is looked at once
    assert (first.created, first.failed) == (0, 0)
    assert hubspot_calls_since(integration, mark, writes=True) == []
    assert_in_step_again(integration, "opportunities", 3)
    deal = hs_person.crm.deals.basic_api.get_by_id(deals[0], properties=["next_step"])
    assert deal.properties["next_step"] == "Call the buyer"
    sf_person.Opportunity.update(ids[0], {"NextStep": "Send the quote"})
    changed = run(integration, "opportunities")
    assert (changed.updated, changed.skipped) == (1, 2)
    deal = hs_person.crm.deals.basic_api.get_by_id(deals[0], properties=["next_step"])
    assert deal.properties["next_step"] == "Send the quote"


# --- two imports of one pair ------------------------------------------------------------------
def test_an_import_waits_for_another_import_of_its_pair_however_long_that_runs(
    integration, sf_person, hs_person, monkeypatch
):
    """Leads and contacts both go through the contact sync: a contacts import started while a
    big leads import runs waits for it (not ten minutes, then fails blaming a sync cycle), says
    what it waits for, stops waiting when cancelled, and resumes afterwards."""
    from types import SimpleNamespace

    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(20))
    seed(
        sf_person,
        "Contact",
        [{"LastName": f"C{i}", "Email": f"c{i}@import.example"} for i in range(3)],
    )
    first = import_start(integration=integration, object_name="leads", enqueue=False)
    second = import_start(integration=integration, object_name="contacts", enqueue=False)
    clock, seen = [0.0], []

    def sleep(seconds):  # the contacts import's wait, on a clock that runs fast
        clock[0] += 60
        current = ImportJob.objects.get(pk=second.pk)
        seen.append((current.status, current.message))
        if clock[0] > 3 * imports.PAIR_WAIT_SECONDS:  # the admin gives up waiting for it
            imports.import_cancel(job=current)

    monkeypatch.setattr(imports, "time", SimpleNamespace(sleep=sleep, monotonic=lambda: clock[0]))

    def halfway(job):  # a worker picks the contacts import up while the leads one runs
        if job.processed == 10 and not seen:
            import_run(job=second)

    import_run(job=first, progress=halfway)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.created) == ("succeeded", 20)
    assert second.status == "cancelled", second.message
    assert seen and {s for s, _ in seen} == {"running"}
    assert {m for _, m in seen} == {"Waiting for the running import of Leads to finish…"}
    assert second.processed == 0 and not ApiCall.objects.filter(operation="bulk2.query").exists()
    imports.import_resume(job=second)
    import_run(job=second)
    second.refresh_from_db()
    assert (second.status, second.created, second.message) == ("succeeded", 3, "")
    assert {f"c{i}@import.example" for i in range(3)} <= set(hs_emails(hs_person))


def test_a_bulk_query_salesforce_prepares_for_minutes_costs_few_polls(
    integration, sf_person, hs_person, emulators, monkeypatch
):
    """Each poll of a Bulk query job is an API call: one Salesforce keeps preparing for ten
    minutes costs a few dozen, not one every two seconds (300), which would make Bulk dearer
    than the REST pages it replaces."""
    from types import SimpleNamespace

    monkeypatch.setattr(imports, "BULK_THRESHOLD", 10)
    seed(sf_person, "Lead", leads(12))
    emulators.salesforce.app.run_action("configure_bulk", in_progress_polls=10_000)
    job = import_start(integration=integration, object_name="leads", enqueue=False)
    clock = [0.0]

    def sleep(seconds):  # Salesforce's ten minutes, on a clock that runs fast
        clock[0] += seconds
        if clock[0] >= 600:
            imports.import_cancel(job=job)

    monkeypatch.setattr(imports, "time", SimpleNamespace(sleep=sleep, monotonic=lambda: clock[0]))
    import_run(job=job)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.method == "bulk"
    # The card's "Salesforce API calls used": COUNT(), the schema, the job's create, its polls.
    assert job.salesforce_calls == calls(integration, System.SALESFORCE) <= 40


def test_an_import_of_old_opportunities_in_deactivated_stages_gives_them_their_stages(
    integration, sf_person, hs_person, fast_search, emulators, monkeypatch
):
    """History sits in values deactivated long ago: each batch's deactivated values get a
    stage in the pipeline (after the import's first describe), so every deal is created."""
    monkeypatch.setattr(imports, "BATCH", 10)
    stage = partial(emulators.salesforce.app.run_action, "set_opportunity_stage")
    stage(value="Old review", probability=20)
    stage(value="Old loss", closed=True)
    values = ["Prospecting"] * 10 + ["Old review"] * 5 + ["Old loss"] * 5
    seed(
        sf_person,
        "Opportunity",
        [
            {"Name": f"Deal {i}", "StageName": value, "CloseDate": "2020-12-31"}
            for i, value in enumerate(values)
        ],
    )
    stage(value="Old review", active=False)
    stage(value="Old loss", active=False)
    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=True)
    job = run(integration, "opportunities")
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (20, 20, 0)
    assert pipeline_stages(hs_person)[-2:] == ["Old review", "Old loss"]


def test_imported_opportunities_bring_their_currency_in_a_multi_currency_org(
    integration, sf_person, hs_person, emulators, fast_search
):
    emulators.salesforce.app.run_action("enable_multi_currency", corporate="USD",
                                        currencies=["EUR"])  # fmt: skip
    emulators.hubspot.app.run_action("set_currencies", company="USD", additional=["EUR"])
    ids = seed(sf_person, "Opportunity", [
        {"Name": "Euros", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 900,
         "CurrencyIsoCode": "EUR"},
        {"Name": "Dollars", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 50},
    ])  # fmt: skip
    object_settings_update(integration=integration, object_name="deals", changes={}, enabled=True)
    job = run(integration, "opportunities")
    assert (job.status, job.created, job.failed) == ("succeeded", 2, 0), job.message
    for opportunity, expected in zip(ids, (("900", "EUR"), ("50", "USD")), strict=True):
        deal = RecordLink.objects.get(object="deals", salesforce_id=opportunity).hubspot_id
        props = hs_person.crm.deals.basic_api.get_by_id(
            deal, properties=["amount", "deal_currency_code"]
        ).properties
        assert (props["amount"].removesuffix(".0"), props["deal_currency_code"]) == expected
