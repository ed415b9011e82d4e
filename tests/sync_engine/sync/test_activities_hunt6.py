"""Activities ⇄ tasks (spec §13) and the contacts' inclusion list (spec §6.5): what a
demanding admin with a small list runs into."""

from __future__ import annotations

from sync_engine.models import RecordLink, SyncError

from . import test_activities
from .helpers import hs_create
from .test_activities import engagement, tasks_of
from .test_activities_hunt2 import inclusion_list

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def open_errors() -> list[str]:
    return sorted(
        SyncError.objects.filter(object="activities", resolved_at__isnull=True).values_list(
            "record_label", flat=True
        )
    )


# --- 1. no "waiting" noise for contacts outside the list ----------------------------------
def test_activities_of_unsynced_contacts_outside_the_list_are_skipped_not_waiting(
    activities, linked_person, hs_person, sf_person, emulators
):
    """With a small inclusion list, a call with a HubSpot contact outside it (never synced,
    and not meant to) is skipped like the contact itself, not reported in Sync health as
    waiting. A call with a contact in the list that hasn't synced yet still waits, also when
    its other contact is synced but outside the list, and lands on the one in the list once
    it syncs."""
    ada_lead, ada = linked_person  # synced, outside the list
    inclusion_list(activities, emulators)
    outsider = hs_create(hs_person, email="out@example.com", lastname="Out", company="X",
                         jobtitle="Analyst")  # fmt: skip
    grace = hs_create(hs_person, email="grace@example.com", lastname="Hopper", company="Navy",
                      jobtitle="please sync")  # fmt: skip
    activities.settings(hubspot_calls=True)
    engagement(hs_person, "calls", outsider, hs_call_title="Cold call")
    engagement(hs_person, "calls", grace, hs_call_title="Intro call")
    group = engagement(hs_person, "calls", ada, hs_call_title="Group call")
    hs_person.crm.associations.v4.basic_api.create_default("calls", group, "contacts", grace)
    run = activities()
    assert run.counts["skipped_outside_list"] == 1, run.counts
    assert run.counts["waiting_for_contact"] == 2, run.counts
    assert open_errors() == ["Call: Group call", "Call: Intro call"]
    activities("contacts")  # Grace syncs (a lead); the outsider doesn't
    grace_lead = RecordLink.objects.get(object="contacts", hubspot_id=grace).salesforce_id
    run = activities()
    assert sorted(t["Subject"] for t in tasks_of(sf_person, grace_lead)) == [
        "Call: Group call",
        "Call: Intro call",
    ]
    assert tasks_of(sf_person, ada_lead) == []
    assert open_errors() == []


# --- 3. a Task the integration user logs by hand is theirs --------------------------------
def test_a_task_the_integration_user_logs_named_like_our_copies_syncs(
    activities, linked_person, hs_person, sf_person, emulators, integration
):
    """The admin connected with their own Salesforce user (the org has no HubSpot_Id__c on
    Task) and logs "Email: Renewal terms" on Ada's lead, the way Salesforce names a logged
    email. No copy of ours is unlinked (no create is pending), so it is theirs: it becomes a
    HubSpot task. Our own copies still never come back."""
    from emulators.testing import salesforce_client

    lead, contact = linked_person
    activities.settings(salesforce_tasks=True, hubspot_calls=True)
    engagement(hs_person, "calls", contact, hs_call_title="Intro call")
    as_integration = salesforce_client(
        emulators, token=integration.salesforce_connection.access_token
    )
    as_integration.Task.create({"WhoId": lead, "Subject": "Email: Renewal terms"})
    run = activities()
    assert run.counts["created_in_salesforce"] == 1, run.counts  # the call's Task
    assert run.counts["created_in_hubspot"] == 1, run.counts
    [task] = test_activities.engagements(hs_person, "tasks")
    subject = test_activities.engagement_get(hs_person, "tasks", task.id, "hs_task_subject")
    assert subject["hs_task_subject"] == "Email: Renewal terms"
    test_activities.assert_idle(activities)


def test_a_task_copy_whose_hubspot_task_was_deleted_stays_in_salesforce(
    activities, linked_person, hs_person, sf_person
):
    """Two-way tasks: a HubSpot task's Task copy outlives the task deleted in HubSpot
    (deletes delete nothing). Edited in Salesforce, it syncs no more: no new HubSpot task
    appears, however often it is edited."""
    lead, contact = linked_person
    activities.settings(**test_activities.BOTH_WAYS)
    task = engagement(hs_person, "tasks", contact, hs_task_subject="Send quote",
                      hs_task_status="NOT_STARTED")  # fmt: skip
    activities()
    copy = activities.link(hubspot_id=f"tasks:{task}").salesforce_id
    hs_person.crm.objects.basic_api.archive("tasks", task)
    sf_person.Task.update(copy, {"Status": "Completed"})
    activities()
    sf_person.Task.update(copy, {"Description": "Sent on Monday"})
    run = activities()
    assert run.counts["created_in_hubspot"] == 0, run.counts
    assert test_activities.engagements(hs_person, "tasks") == []
    assert sf_person.Task.get(copy)["Description"] == "Sent on Monday"
    assert open_errors() == []
