"""Activities ⇄ tasks (spec §13): more of what a demanding admin runs into."""

from __future__ import annotations

from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from sync_engine.models import RecordLink
from sync_engine.services import object_settings_update

from . import test_activities
from .helpers import hs_create, hs_update, new_lead
from .test_activities import (
    BOTH_WAYS,
    assert_idle,
    engagement,
    engagement_contacts,
    engagement_get,
    engagements,
    tasks_of,
)
from .test_contacts_inclusion_list import make_list

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def inclusion_list(activities, emulators) -> None:
    """The demo's "Sync to Salesforce" list: contacts whose job title says "sync"."""
    object_settings_update(
        integration=activities.integration,
        object_name="contacts",
        changes={"inclusion_list_id": make_list(emulators)},
    )


def subjects(sf, who: str) -> list[str]:
    return sorted(t["Subject"] for t in tasks_of(sf, who))


# --- the inclusion list (spec §6.5) -------------------------------------------------------
def test_activities_of_a_contact_outside_the_inclusion_list_sync_in_neither_direction(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Ada's lead was created in Salesforce, so her HubSpot contact exists and is linked, but
    she isn't in the inclusion list: nothing of hers syncs either way (spec §6.5), her
    activities neither. A call logged in HubSpot makes no Task on her lead; a task logged on
    her lead in Salesforce makes no HubSpot task. Once she enters the list, the next ones
    do (and the earlier ones aren't backfilled)."""
    lead, contact = linked_person
    inclusion_list(activities, emulators)
    activities.settings(hubspot_calls=True, salesforce_tasks=True)
    engagement(hs_person, "calls", contact, hs_call_title="Private call")
    sf_person.Task.create({"WhoId": lead, "Subject": "Private follow-up"})
    run = activities()
    assert subjects(sf_person, lead) == ["Private follow-up"]
    assert engagements(hs_person, "tasks") == []
    assert run.counts["skipped_outside_list"] == 2, run.counts
    hs_update(hs_person, contact, jobtitle="please sync")  # enters the list
    engagement(hs_person, "calls", contact, hs_call_title="Intro call")
    sf_person.Task.create({"WhoId": lead, "Subject": "Send deck"})
    run = activities()
    assert subjects(sf_person, lead) == ["Call: Intro call", "Private follow-up", "Send deck"]
    [task] = engagements(hs_person, "tasks")
    assert (
        engagement_get(hs_person, "tasks", task.id, "hs_task_subject")["hs_task_subject"]
        == "Send deck"
    )


def test_edits_to_synced_activities_stop_once_their_contact_leaves_the_list(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Ada's activities synced while there was no list (everyone synced). The admin then
    chooses a list Ada isn't in: later edits of her call, of her Salesforce task, and of
    either side of her two-way task stay where they were made."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, **BOTH_WAYS)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro")
    sf_task = sf_person.Task.create({"WhoId": lead, "Subject": "Send deck"})["id"]
    hs_task = engagement(hs_person, "tasks", contact, hs_task_subject="Book demo")
    activities()
    sf_copy = activities.link(hubspot_id=f"tasks:{hs_task}").salesforce_id
    hs_copy = activities.link(salesforce_id=sf_task).hubspot_id.split(":")[1]
    assert subjects(sf_person, lead) == ["Call: Intro", "Send deck", "Task: Book demo"]
    inclusion_list(activities, emulators)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro (private)"})
    )
    hs_person.crm.objects.basic_api.update(
        "tasks", hs_copy, EngagementUpdate(properties={"hs_task_subject": "Deck (private)"})
    )
    sf_person.Task.update(sf_copy, {"Subject": "Task: Demo (private)"})
    sf_person.Task.update(sf_task, {"Description": "Private notes"})
    run = activities()
    assert not run.counts["updated_in_salesforce"] and not run.counts["updated_in_hubspot"]
    assert subjects(sf_person, lead) == ["Call: Intro", "Send deck", "Task: Demo (private)"]
    assert (
        engagement_get(hs_person, "tasks", hs_task, "hs_task_subject")["hs_task_subject"]
        == "Book demo"
    )
    copy = engagement_get(hs_person, "tasks", hs_copy, "hs_task_subject", "hs_task_body")
    assert (copy["hs_task_subject"], copy.get("hs_task_body") or "") == ("Deck (private)", "")


def test_a_call_with_two_contacts_goes_on_the_one_in_the_inclusion_list(
    activities, hs_person, sf_person, emulators
):
    """A call logged with Ada (created in Salesforce, outside the list, and the lower id)
    and Grace (in the list): its Task goes on Grace's lead, not on Ada's."""
    ada_lead = new_lead(sf_person, FirstName="Ada", LastName="Lovelace", Email="ada@example.com")
    activities("contacts")
    ada = RecordLink.objects.get(object="contacts", salesforce_id=ada_lead).hubspot_id
    inclusion_list(activities, emulators)
    grace = hs_create(hs_person, email="grace@example.com", lastname="Hopper",
                      company="Navy", jobtitle="sync")  # fmt: skip
    activities("contacts")
    grace_lead = RecordLink.objects.get(object="contacts", hubspot_id=grace).salesforce_id
    assert int(ada) < int(grace)
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", ada, hs_call_title="Group call")
    hs_person.crm.associations.v4.basic_api.create_default("calls", call, "contacts", grace)
    assert activities().counts["created_in_salesforce"] == 1
    assert subjects(sf_person, grace_lead) == ["Call: Group call"]
    assert tasks_of(sf_person, ada_lead) == []
    assert_idle(activities)


# --- Salesforce events --------------------------------------------------------------------
def test_an_event_the_integration_user_books_named_like_our_tasks_still_syncs(
    activities, linked_person, hs_person, emulators, integration
):
    """The admin connected the integration with their own Salesforce user and books
    "Meeting: Kickoff" on Ada's lead. The integration only ever makes Tasks (a HubSpot
    meeting is a "Meeting: …" Task), never Events: the event is a meeting in HubSpot."""
    from emulators.testing import salesforce_client

    lead, contact = linked_person
    activities.settings(salesforce_meetings=True)
    as_integration = salesforce_client(
        emulators, token=integration.salesforce_connection.access_token
    )
    as_integration.Event.create({"WhoId": lead, "Subject": "Meeting: Kickoff",
                                 "StartDateTime": "2026-05-06T14:00:00Z",
                                 "EndDateTime": "2026-05-06T15:00:00Z"})  # fmt: skip
    run = activities()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    [meeting] = engagements(hs_person, "meetings")
    title = engagement_get(hs_person, "meetings", meeting.id, "hs_meeting_title")
    assert title["hs_meeting_title"] == "Meeting: Kickoff"
    assert engagement_contacts(hs_person, "meetings", meeting.id) == [contact]
