"""Leases, archived activities and HubSpot's scopes.

An activities cycle (or an import) whose lease another worker took over stops before it
commits again; an activity Salesforce archived is still there when a retry or a Resync reads
it; a HubSpot 403 suspends the integration with HubSpot's advice, not Salesforce's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from emulators.testing import advance_clocks
from sync_engine.models import ApiCall, ObjectSync, RecordLink, SyncError, SyncRun
from sync_engine.services import record_resync
from sync_engine.sync.cycle import sync_cycle_run

from ..test_imports import leads, seed
from . import test_activities
from .helpers import due_now, hs_create, hs_emails
from .test_activities import engagement_get, engagements

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def task_copy(activities, sf_person, lead: str, **fields) -> tuple[str, str]:
    """A Salesforce task on ``lead`` that one cycle copies to HubSpot: (its id, the copy's)."""
    task = sf_person.Task.create({"WhoId": lead, "Status": "Not Started", **fields})["id"]
    assert activities().counts["created_in_hubspot"] == 1
    return task, activities.link(salesforce_id=task).hubspot_id.split(":")[1]


# --- an activities cycle that stalled past its lease ------------------------------------------
def test_an_activities_cycle_whose_lease_was_taken_over_commits_nothing(
    activities, linked_person, sf_person, hs_person, monkeypatch
):
    """Cycle A copies a rep's edit of a task to HubSpot and stalls before its commit for
    longer than its lease. Another worker takes the pair over and syncs the edit itself.
    When A wakes up it stops: its commit doesn't land over the other worker's, it calls
    neither system again, and its run says another worker took over."""
    from sync_engine.sync.activities import ActivitySync

    lead, _ = linked_person
    activities.settings(salesforce_tasks=True)
    task, copy = task_copy(activities, sf_person, lead, Subject="Send quote")
    sf_person.Task.update(task, {"Subject": "Send the signed quote"})

    row = ObjectSync.objects.filter(integration=activities.integration, object="activities")
    original = ActivitySync.commit_items
    taken_over: dict = {}

    def stalls(self, items, origin, cursor, handled):
        if items and not taken_over:
            taken_over["run"] = None  # once
            row.update(lock_expires_at=timezone.now() - timedelta(seconds=1))
            taken_over["run"] = sync_cycle_run(
                integration=activities.integration, object_name="activities"
            )
            taken_over["calls"] = ApiCall.objects.count()
            taken_over["link"] = activities.link(salesforce_id=task).last_synced_at
        return original(self, items, origin, cursor, handled)

    monkeypatch.setattr(ActivitySync, "commit_items", stalls)
    stale = sync_cycle_run(integration=activities.integration, object_name="activities")
    monkeypatch.undo()

    assert taken_over["run"].status == SyncRun.Status.SUCCEEDED, taken_over["run"].message
    assert stale.status == SyncRun.Status.FAILED
    assert stale.message.startswith("Stopped: another worker took over"), stale.message
    assert ApiCall.objects.count() == taken_over["calls"]  # nothing after it woke up
    # Its commit didn't land over the other worker's.
    assert activities.link(salesforce_id=task).last_synced_at == taken_over["link"]
    assert row.get().lock_holder == ""

    idle = activities()
    assert not idle.counts["updated_in_hubspot"] and not idle.counts["created_in_hubspot"]
    assert len(engagements(hs_person, "tasks")) == 1
    subject = engagement_get(hs_person, "tasks", copy, "hs_task_subject")["hs_task_subject"]
    assert subject == "Send the signed quote"


# --- an import that stalled past the pair's lease ------------------------------------------
def test_an_import_whose_pair_lease_was_taken_over_stops_resumable(
    cycle, integration, sf_person, hs_person, monkeypatch
):
    """A leads import stalls in its second batch, before its commit, for longer than its
    lease on the contacts pair; a contacts cycle takes the pair over meanwhile. The import
    stops there, committing nothing of that batch, and says why; resumed, it brings every
    lead over once."""
    from sync_engine import imports
    from sync_engine.sync.pair import PairSync

    monkeypatch.setattr(imports, "BATCH", 10)
    seed(sf_person, "Lead", leads(30))
    row = ObjectSync.objects.filter(integration=integration, object="contacts")
    original = PairSync.commit
    commits: list = []

    def stalls(self, pairs, *args, **kwargs):
        if pairs and self.ctx.run.trigger == "import":
            commits.append(len(pairs))
            if len(commits) == 2:
                row.update(lock_expires_at=timezone.now() - timedelta(seconds=1))
                commits.append(sync_cycle_run(integration=integration, object_name="contacts"))
        return original(self, pairs, *args, **kwargs)

    monkeypatch.setattr(PairSync, "commit", stalls)
    job = imports.import_start(integration=integration, object_name="leads", enqueue=False)
    imports.import_run(job=job)
    monkeypatch.undo()
    job.refresh_from_db()

    assert commits[2].status == SyncRun.Status.SUCCEEDED, commits[2].message
    assert job.status == "failed", job.message
    assert job.message == imports.PAIR_TAKEN_OVER.format(pair="contacts")
    assert job.processed == 10  # the stalled batch isn't counted: a resume reads it again
    assert row.get().lock_holder == ""

    imports.import_resume(job=job)
    imports.import_run(job=job)
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert job.processed == 30 and job.failed == 0
    emails = hs_emails(hs_person)
    assert sorted(emails) == sorted(f"lead{i}@import.example" for i in range(30))
    assert RecordLink.objects.filter(integration=integration, object="contacts").count() == 30


# --- activities Salesforce archived ----------------------------------------------------------
@pytest.fixture
def nearly_a_year_ago(emulators) -> str:
    """A day 364 days before the emulators' today: a closed task due then is archived by
    Salesforce two days from now."""
    today = emulators.salesforce.app.clock.now().date()
    return (today - timedelta(days=364)).isoformat()


def test_an_archived_task_with_an_open_error_syncs_when_retried_not_ends_as_deleted(
    activities, linked_person, sf_person, hs_person, emulators, nearly_a_year_ago
):
    """A rep logs a call from nearly a year ago; HubSpot refuses its copy once. By the time
    the retry comes, Salesforce has archived the task (closed, over a year old): it is still
    there, so the retry copies it, and its error doesn't end as deleted in Salesforce."""
    lead, _ = linked_person
    activities.settings(salesforce_tasks=True)
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/tasks/batch/create$", error_code="VALIDATION_ERROR", times=1
    )
    task = sf_person.Task.create(
        {"WhoId": lead, "Subject": "Kick-off call", "Status": "Completed",
         "ActivityDate": nearly_a_year_ago}
    )["id"]  # fmt: skip
    activities()
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{task}"
    assert engagements(hs_person, "tasks") == []

    advance_clocks(emulators, 2 * 24 * 3600)  # Salesforce archives it
    soql = f"SELECT IsArchived FROM Task WHERE Id = '{task}'"  # noqa: S608
    assert sf_person.query(soql)["records"] == []  # only queryAll has it now
    assert sf_person.query_all(soql, include_deleted=True)["records"][0]["IsArchived"] is True
    due_now(error)
    activities()

    error.refresh_from_db()
    assert error.resolved_at is not None
    assert error.ended_because != SyncError.EndedBecause.DELETED
    (copy,) = engagements(hs_person, "tasks")
    subject = engagement_get(hs_person, "tasks", copy.id, "hs_task_subject")["hs_task_subject"]
    assert subject == "Kick-off call"
    assert activities.link(salesforce_id=task).hubspot_id == f"tasks:{copy.id}"


def test_a_resync_of_an_archived_task_copies_it(activities, linked_person, sf_person, hs_person):
    """Turning task sync on copies no history; an admin resyncs a call a rep logged over a
    year ago, which Salesforce has archived: it is copied to HubSpot like any other."""
    lead, _ = linked_person
    day = (timezone.now().date() - timedelta(days=400)).isoformat()
    task = sf_person.Task.create(
        {"WhoId": lead, "Subject": "Kick-off call", "Status": "Completed", "ActivityDate": day}
    )["id"]
    activities.settings(salesforce_tasks=True)
    assert activities().counts["created_in_hubspot"] == 0
    record_resync(
        integration=activities.integration,
        object_name="activities",
        record_key=f"salesforce:{task}",
    )
    assert activities().counts["created_in_hubspot"] == 1
    (copy,) = engagements(hs_person, "tasks")
    subject = engagement_get(hs_person, "tasks", copy.id, "hs_task_subject")["hs_task_subject"]
    assert subject == "Kick-off call"
    assert activities.link(salesforce_id=task).hubspot_id == f"tasks:{copy.id}"
    assert not SyncError.objects.filter(object="activities").exists()


# --- a HubSpot app without a scope --------------------------------------------------------------
def test_a_hubspot_scope_refused_suspends_with_hubspot_s_advice(
    cycle, integration, emulators, hs_person, client, django_user_model
):
    """HubSpot answers 403 MISSING_SCOPES to the contacts cycle: the integration is
    suspended, and the status bar tells the admin to give the HubSpot app the scope and
    reconnect, not to give a Salesforce user permissions."""
    from html import escape

    from sync_engine.models import Integration

    hs_create(hs_person, email="scoped@example.com", lastname="Scoped")
    emulators.hubspot.app.faults.add(path=r"^/crm/", error_code="MISSING_SCOPES")
    run = sync_cycle_run(integration=integration, object_name="contacts")
    emulators.hubspot.app.faults.clear()
    assert run.status == SyncRun.Status.FAILED
    assert "MISSING_SCOPES" in run.message
    integration.refresh_from_db()
    assert integration.state == Integration.State.SUSPENDED
    assert integration.state_reason.startswith("HubSpot: access denied (MISSING_SCOPES)")

    client.force_login(django_user_model.objects.create_user("reader", password="x-pass-123"))
    html = client.get("/connection/").content.decode()
    bar = html[html.index('id="statusbar"') : html.index('class="statusbar__syncs"')]
    assert escape("add the scope to the app in HubSpot (for a private app: its Scopes tab)") in bar
    assert escape("reconnect on the Connection tab with the new token") in bar
    # No Salesforce advice for HubSpot's refusal, in the reason or the advice under it.
    assert "integration user" not in bar and "API Enabled" not in bar
