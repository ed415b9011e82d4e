"""Activities (spec §13, §16): recurring series. Salesforce keeps a series' pattern as a
master record (``IsRecurrence`` true) beside one record per occurrence: the occurrences are
the meetings and tasks, the master is none of them (it repeats the first occurrence)."""

from __future__ import annotations

from sync_engine import services
from sync_engine.models import ObjectSync, RecordLink, SyncError
from sync_engine.services import record_resync
from tests.sync_engine.test_imports import run

from . import test_activities
from .helpers import new_lead
from .test_activities import engagement, engagement_get, engagements

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def weekly_meeting(sf, who: str) -> tuple[str, list[str]]:
    """A rep books a weekly meeting for three Mondays: the series master and its
    occurrences, as Salesforce makes them."""
    master = sf.Event.create(
        {"WhoId": who, "Subject": "Weekly check-in", "DurationInMinutes": 30,
         "StartDateTime": "2030-01-07T10:00:00.000+0000", "IsRecurrence": True,
         "RecurrenceStartDateTime": "2030-01-07T10:00:00.000+0000",
         "RecurrenceEndDateOnly": "2030-01-21", "RecurrenceType": "RecursWeekly",
         "RecurrenceInterval": 1, "RecurrenceDayOfWeekMask": 2}
    )["id"]  # fmt: skip
    occurrences = [
        r["Id"]
        for r in sf.query_all(
            f"SELECT Id FROM Event WHERE RecurrenceActivityId = '{master}' "  # noqa: S608
            "AND IsRecurrence = false"
        )["records"]
    ]
    return master, occurrences


def meeting_starts(hs) -> list[str]:
    return sorted(
        engagement_get(hs, "meetings", m.id, "hs_meeting_start_time")["hs_meeting_start_time"]
        for m in engagements(hs, "meetings")
    )


def test_a_recurring_event_becomes_one_meeting_per_occurrence(
    activities, linked_person, sf_person, hs_person
):
    lead, _ = linked_person
    activities.settings(salesforce_meetings=True)
    master, occurrences = weekly_meeting(sf_person, lead)
    assert len(occurrences) == 3
    run_ = activities()
    assert run_.counts["created_in_hubspot"] == 3, run_.counts
    # Three Mondays, each once: the master is not a fourth meeting on the first Monday.
    assert [s[:10] for s in meeting_starts(hs_person)] == [
        "2030-01-07", "2030-01-14", "2030-01-21"
    ]  # fmt: skip
    assert sorted(link.salesforce_id for link in activities.links()) == sorted(occurrences)
    assert not RecordLink.objects.filter(salesforce_id=master).exists()


def test_a_recurring_task_becomes_one_task_per_occurrence(
    activities, linked_person, sf_person, hs_person
):
    lead, _ = linked_person
    activities.settings(salesforce_tasks=True)
    master = sf_person.Task.create(
        {"WhoId": lead, "Subject": "Send the weekly report", "Status": "Not Started",
         "IsRecurrence": True, "RecurrenceStartDateOnly": "2030-01-07",
         "RecurrenceEndDateOnly": "2030-01-09", "RecurrenceType": "RecursDaily",
         "RecurrenceInterval": 1}
    )["id"]  # fmt: skip
    run_ = activities()
    assert run_.counts["created_in_hubspot"] == 3, run_.counts
    assert len(engagements(hs_person, "tasks")) == 3
    assert not RecordLink.objects.filter(salesforce_id=master).exists()


def test_an_events_import_brings_the_occurrences_not_the_master(
    activities, linked_person, sf_person, hs_person
):
    lead, _ = linked_person
    activities.settings(salesforce_meetings=True)
    weekly_meeting(sf_person, lead)
    job = run(activities.integration, "events")
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (3, 3, 0)
    assert len(meeting_starts(hs_person)) == 3


# --- read by id: retries, Resync, list entrants ---------------------------------------------
def daily_task_series(sf, who: str) -> str:
    """A rep sets a task to repeat for three days: the master's id."""
    return sf.Task.create(
        {"WhoId": who, "Subject": "Send the daily report", "Status": "Not Started",
         "IsRecurrence": True, "RecurrenceStartDateOnly": "2030-01-07",
         "RecurrenceEndDateOnly": "2030-01-09", "RecurrenceType": "RecursDaily",
         "RecurrenceInterval": 1}
    )["id"]  # fmt: skip


def test_a_resync_of_a_series_master_makes_no_extra_meeting(
    activities, linked_person, sf_person, hs_person
):
    lead, _ = linked_person
    activities.settings(salesforce_meetings=True)
    master, _ = weekly_meeting(sf_person, lead)
    assert activities().counts["created_in_hubspot"] == 3
    record_resync(integration=activities.integration, object_name="activities",
                  record_key=f"salesforce:{master}", salesforce_type="Event")  # fmt: skip
    run_ = activities()
    assert run_.counts["created_in_hubspot"] == 0, run_.counts
    assert run_.counts["skipped_series"] == 1, run_.counts
    assert [s[:10] for s in meeting_starts(hs_person)] == [
        "2030-01-07", "2030-01-14", "2030-01-21"
    ]  # fmt: skip
    assert not RecordLink.objects.filter(salesforce_id=master).exists()


def test_a_series_masters_error_from_before_ends_at_its_retry_without_a_task(
    activities, sf_person, hs_person
):
    """An older version read the master as a task of its own: it waited for its lead, as
    the occurrences do. The lead syncs: the occurrences do, the master's wait ends."""
    activities.settings(salesforce_tasks=True)
    ObjectSync.objects.filter(object="contacts").update(enabled=False)
    lead = new_lead(sf_person, Email="later@example.com")
    master = daily_task_series(sf_person, lead)
    assert activities().counts["waiting_for_contact"] == 3
    error = services.sync_error_record(
        integration=activities.integration, object_name="activities",
        error_type="waiting_for_contact", direction="to_hubspot", salesforce_id=master,
        salesforce_type="Task", code="WAITING_FOR_CONTACT", message="Waiting for the lead",
        values={"WhoId": lead},
    )  # fmt: skip
    ObjectSync.objects.filter(object="contacts").update(enabled=True)
    activities("contacts")
    run_ = activities()
    assert run_.counts["created_in_hubspot"] == 3, run_.counts
    assert run_.counts["skipped_series"] == 1, run_.counts
    assert len(engagements(hs_person, "tasks")) == 3
    assert not RecordLink.objects.filter(salesforce_id=master).exists()
    error.refresh_from_db()
    assert error.resolved_at is not None and error.ended_because == "not_syncing"
    assert not SyncError.objects.filter(object="activities", resolved_at__isnull=True).exists()


def test_a_series_master_linked_before_is_left_as_it_is(
    activities, linked_person, sf_person, hs_person
):
    """An older version copied the master to a meeting of its own and linked it: a Resync of
    it (after an edit of the series) changes nothing on either side."""
    lead, contact = linked_person
    activities.settings(salesforce_meetings=True)
    master, _ = weekly_meeting(sf_person, lead)
    activities()
    copy = engagement(hs_person, "meetings", contact, hs_meeting_title="Weekly check-in")
    RecordLink.objects.create(
        integration=activities.integration, object="activities",
        hubspot_id=f"meetings:{copy}", salesforce_id=master, salesforce_type="Event",
        snapshot={"__origin": "salesforce", "__contact": contact,
                  "hs_meeting_title": "Weekly check-in"},
    )  # fmt: skip
    sf_person.Event.update(master, {"Subject": "Weekly sync"})
    record_resync(integration=activities.integration, object_name="activities",
                  record_key=f"salesforce:{master}", salesforce_type="Event")  # fmt: skip
    run_ = activities()
    assert run_.counts["skipped_series"] == 1, run_.counts
    assert not any(k.startswith(("created_", "updated_")) for k in run_.counts), run_.counts
    title = engagement_get(hs_person, "meetings", copy, "hs_meeting_title")["hs_meeting_title"]
    assert title == "Weekly check-in"
    assert len(engagements(hs_person, "meetings")) == 4
    assert RecordLink.objects.filter(salesforce_id=master, hubspot_id=f"meetings:{copy}").exists()
    assert not SyncError.objects.filter(object="activities", resolved_at__isnull=True).exists()
