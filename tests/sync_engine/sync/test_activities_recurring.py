"""Activities (spec §13, §16): recurring series. Salesforce keeps a series' pattern as a
master record (``IsRecurrence`` true) beside one record per occurrence: the occurrences are
the meetings and tasks, the master is none of them (it repeats the first occurrence)."""

from __future__ import annotations

from sync_engine.models import RecordLink
from tests.sync_engine.test_imports import run

from . import test_activities
from .test_activities import engagement_get, engagements

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
