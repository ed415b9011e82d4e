"""Activities ⇄ tasks (spec §13) and the contacts' inclusion list (spec §6.5): a contact
that enters the list brings its activities' edits along (spec §5.2)."""

from __future__ import annotations

from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from sync_engine.models import ApiCall, System

from . import test_activities
from .helpers import hs_update
from .test_activities import BOTH_WAYS, assert_idle, engagement, engagement_get, engagements
from .test_activities_hunt2 import inclusion_list, subjects

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def test_edits_made_while_outside_the_list_sync_once_the_contact_enters_it(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Ada's call, her Salesforce task and meeting, and her HubSpot task synced before the
    admin chose a list Ada isn't in. While she is outside, her call is retitled in HubSpot,
    her Salesforce task and meeting get notes, and the copy of her HubSpot task is renamed in
    Salesforce (tasks sync both ways): nothing goes across. Then she enters the list: the
    next cycle brings every one of those edits across, without her having to edit anything
    again, and the cycle after writes nothing."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, salesforce_meetings=True, **BOTH_WAYS)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro")
    sf_task = sf_person.Task.create({"WhoId": lead, "Subject": "Send deck"})["id"]
    sf_event = sf_person.Event.create({"WhoId": lead, "Subject": "Kickoff",
                                       "StartDateTime": "2026-05-06T14:00:00Z",
                                       "EndDateTime": "2026-05-06T15:00:00Z"})["id"]  # fmt: skip
    hs_task = engagement(hs_person, "tasks", contact, hs_task_subject="Book demo")
    activities()
    sf_copy = activities.link(hubspot_id=f"tasks:{hs_task}").salesforce_id
    hs_copy = activities.link(salesforce_id=sf_task).hubspot_id.split(":")[1]
    meeting = activities.link(salesforce_id=sf_event).hubspot_id.split(":")[1]
    inclusion_list(activities, emulators)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro (rescheduled)"})
    )
    sf_person.Task.update(sf_task, {"Description": "Deck v2 attached"})
    sf_person.Event.update(sf_event, {"Description": "Agenda: scope"})
    sf_person.Task.update(sf_copy, {"Subject": "Task: Book demo for Friday"})
    run = activities()
    assert not run.counts["updated_in_salesforce"] and not run.counts["updated_in_hubspot"]
    assert subjects(sf_person, lead) == ["Call: Intro", "Send deck", "Task: Book demo for Friday"]

    hs_update(hs_person, contact, jobtitle="please sync")  # Ada enters the list
    run = activities()
    assert subjects(sf_person, lead) == [
        "Call: Intro (rescheduled)",
        "Send deck",
        "Task: Book demo for Friday",
    ]
    body = engagement_get(hs_person, "tasks", hs_copy, "hs_task_body")["hs_task_body"]
    assert body == "Deck v2 attached"
    agenda = engagement_get(hs_person, "meetings", meeting, "hs_meeting_body")
    assert agenda["hs_meeting_body"] == "Agenda: scope"
    task = engagement_get(hs_person, "tasks", hs_task, "hs_task_subject")
    assert task["hs_task_subject"] == "Book demo for Friday"
    assert run.counts["created_in_salesforce"] == 0 and run.counts["created_in_hubspot"] == 0
    assert_idle(activities)


def test_entering_the_list_copies_no_activity_that_never_synced(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Ada is outside the list when a call is logged in HubSpot and a task in Salesforce:
    neither syncs. Her entering the list is no backfill (spec §13): they stay where they
    were made, and a cycle with the list unchanged asks Salesforce nothing."""
    lead, contact = linked_person
    inclusion_list(activities, emulators)
    activities.settings(hubspot_calls=True, **BOTH_WAYS)
    engagement(hs_person, "calls", contact, hs_call_title="Private call")
    sf_person.Task.create({"WhoId": lead, "Subject": "Private follow-up"})
    activities()
    hs_update(hs_person, contact, jobtitle="please sync")  # Ada enters the list
    run = activities()
    assert run.counts["created_in_salesforce"] == 0 and run.counts["created_in_hubspot"] == 0
    assert subjects(sf_person, lead) == ["Private follow-up"]
    assert engagements(hs_person, "tasks") == []
    # Nobody joins: the Task read, the engagements change feed (nothing new: no search) and
    # one HubSpot call for the list.
    run = activities()
    assert run.calls == {System.SALESFORCE: 1, System.HUBSPOT: 2}, run.calls
    joins = ApiCall.objects.filter(called_at__gte=run.started_at, system=System.HUBSPOT)
    assert sorted(c.operation for c in joins) == [
        "engagements.modified_after",
        "lists.memberships.join_order",
    ]
