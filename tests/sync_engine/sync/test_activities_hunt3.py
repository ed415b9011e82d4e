"""Activities (spec §13, §16): group events' invitee copies and the history import of
activities Salesforce has archived."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync_engine import imports
from sync_engine.models import RecordLink
from tests.sync_engine.test_imports import run

from . import test_activities
from .test_activities import ALL_SALESFORCE, engagement_contacts, engagement_get, engagements

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


@pytest.fixture
def invitees(emulators) -> list[str]:
    """Two colleagues in Salesforce a rep can invite to a meeting."""
    app = emulators.salesforce.app
    return [
        app.run_action("create_user", first_name="Tom", last_name="Becker",
                       email="tom.becker@example.com"),
        app.run_action("create_user", first_name="Priya", last_name="Shah",
                       email="priya.shah@example.com"),
    ]  # fmt: skip


def group_event(sf, emulators, who: str, invitees: list[str], subject: str = "Demo") -> str:
    """A meeting a rep books in Salesforce with colleagues invited: the parent event, plus a
    child copy for each invitee that Salesforce makes itself."""
    event = sf.Event.create(
        {"WhoId": who, "Subject": subject, "DurationInMinutes": 60,
         "StartDateTime": "2030-01-01T10:00:00.000+0000"}
    )["id"]  # fmt: skip
    for user in invitees:
        emulators.salesforce.app.run_action("invite_to_event", event_id=event, invitee_id=user)
    return event


def meeting_titles(hs) -> list[str]:
    return sorted(
        engagement_get(hs, "meetings", m.id, "hs_meeting_title")["hs_meeting_title"]
        for m in engagements(hs, "meetings")
    )


def test_a_group_event_becomes_one_meeting_not_one_per_invitee(
    activities, linked_person, sf_person, hs_person, emulators, invitees
):
    lead, contact = linked_person
    activities.settings(**ALL_SALESFORCE)
    event = group_event(sf_person, emulators, lead, invitees[:1])
    run = activities()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    assert meeting_titles(hs_person) == ["Demo"]
    (link,) = activities.links()
    assert link.salesforce_id == event
    assert engagement_contacts(hs_person, "meetings", link.hubspot_id.split(":")[1]) == [contact]
    # Another colleague invited later: still the one meeting.
    emulators.salesforce.app.run_action("invite_to_event", event_id=event, invitee_id=invitees[1])
    activities()
    assert meeting_titles(hs_person) == ["Demo"]
    assert activities.links().count() == 1


def test_an_events_import_brings_a_group_event_once(
    activities, linked_person, sf_person, hs_person, emulators, invitees
):
    lead, _ = linked_person
    activities.settings(salesforce_meetings=True)
    group_event(sf_person, emulators, lead, invitees)
    job = run(activities.integration, "events")
    assert job.status == "succeeded", job.message
    assert (job.total, job.created, job.failed) == (1, 1, 0)
    assert meeting_titles(hs_person) == ["Demo"]


@pytest.mark.parametrize("method", ["rest", "bulk"])
def test_a_history_import_brings_activities_salesforce_archived(
    activities, linked_person, sf_person, hs_person, emulators, monkeypatch, method
):
    """Salesforce archives closed activities over a year old; the import brings them (but
    not the deleted ones), as bringing history over is what it is for."""
    if method == "bulk":
        monkeypatch.setattr(imports, "BULK_THRESHOLD", 0)
    lead, contact = linked_person
    activities.settings(salesforce_tasks=True, salesforce_meetings=True)
    today = emulators.salesforce.app.clock.now().date()
    long_ago = (today - timedelta(days=400)).isoformat()

    def task(subject: str, day: str) -> str:
        return sf_person.Task.create(
            {"WhoId": lead, "Subject": subject, "Status": "Completed", "ActivityDate": day}
        )["id"]

    task("Kick-off call", long_ago)
    task("Follow-up call", today.isoformat())
    sf_person.Task.delete(task("Deleted call", long_ago))
    visit = sf_person.Event.create(
        {"WhoId": lead, "Subject": "First visit", "DurationInMinutes": 60,
         "StartDateTime": f"{(today - timedelta(days=500)).isoformat()}T10:00:00.000+0000"}
    )["id"]  # fmt: skip

    job = run(activities.integration, "tasks")
    assert job.status == "succeeded", job.message
    assert job.method == method
    assert (job.total, job.created, job.failed) == (2, 2, 0)
    subjects = sorted(
        engagement_get(hs_person, "tasks", t.id, "hs_task_subject")["hs_task_subject"]
        for t in engagements(hs_person, "tasks")
    )
    assert subjects == ["Follow-up call", "Kick-off call"]
    job = run(activities.integration, "events")
    assert (job.total, job.created, job.failed) == (1, 1, 0)
    assert meeting_titles(hs_person) == ["First visit"]
    meeting = RecordLink.objects.get(object="activities", salesforce_id=visit)
    assert engagement_contacts(hs_person, "meetings", meeting.hubspot_id.split(":")[1]) == [contact]


def test_an_invitee_s_copy_read_by_id_is_no_meeting_of_its_own(
    activities, linked_person, sf_person, hs_person, emulators, invitees
):
    """The change reads leave an invitee's copy of a group event out; one read by id (an
    admin's Resync of it, a retry) is left out as well: the parent is the meeting."""
    from sync_engine.services import record_resync

    lead, _ = linked_person
    activities.settings(**ALL_SALESFORCE)
    event = sf_person.Event.create(
        {"WhoId": lead, "Subject": "Demo", "DurationInMinutes": 60,
         "StartDateTime": "2030-01-01T10:00:00.000+0000"}
    )["id"]  # fmt: skip
    child = emulators.salesforce.app.run_action(
        "invite_to_event", event_id=event, invitee_id=invitees[0]
    )
    activities()
    record_resync(
        integration=activities.integration,
        object_name="activities",
        record_key=f"salesforce:{child}",
        salesforce_type="Event",
    )
    run = activities()
    assert not run.counts.get("created_in_hubspot"), run.counts
    assert meeting_titles(hs_person) == ["Demo"]
    assert [link.salesforce_id for link in activities.links()] == [event]
