"""Activities ⇄ tasks (spec §13): a call's duration and direction go across both ways, with
its other values (HubSpot ``hs_call_duration`` in milliseconds and ``hs_call_direction`` ⇄
Salesforce ``CallDurationInSeconds`` and ``CallType``)."""

from __future__ import annotations

from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from sync_engine.models import SyncError
from sync_engine.services import record_resync

from . import test_activities
from .test_activities import assert_idle, engagement, engagement_get, writes_since

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person

CALL_PROPS = ("hs_call_title", "hs_call_duration", "hs_call_direction")


def task(sf, task_id: str) -> dict:
    return sf.Task.get(task_id)


def call_update(hs, call: str, **properties) -> None:
    hs.crm.objects.basic_api.update("calls", call, EngagementUpdate(properties=properties))


def forget_call_values(link) -> None:
    """The link as it was when calls carried neither value: its snapshot lacks them."""
    for key in ("CallDurationInSeconds", "CallType", "hs_call_duration", "hs_call_direction"):
        link.snapshot.pop(key, None)
    link.save(update_fields=["snapshot"])


def test_a_hubspot_calls_duration_and_direction_reach_its_task_and_its_edits_follow(
    activities, linked_person, hs_person, sf_person
):
    """An inbound call of 2 minutes 5.4 seconds becomes a Task of 125 seconds, call type
    Inbound; the duration edited in HubSpot updates the Task; the cycle after writes
    nothing (no echo)."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, salesforce_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro",
                      hs_call_duration="125400", hs_call_direction="INBOUND")  # fmt: skip
    run = activities()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    copy = activities.link(hubspot_id=f"calls:{call}").salesforce_id
    sf_task = task(sf_person, copy)
    assert sf_task["Subject"] == "Call: Intro" and sf_task["WhoId"] == lead
    assert sf_task["CallDurationInSeconds"] == 125 and sf_task["CallType"] == "Inbound"
    assert_idle(activities)

    call_update(hs_person, call, hs_call_duration="300000", hs_call_direction="OUTBOUND")
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    sf_task = task(sf_person, copy)
    assert sf_task["CallDurationInSeconds"] == 300 and sf_task["CallType"] == "Outbound"
    assert sf_task["Subject"] == "Call: Intro"
    assert_idle(activities)
    # Calls sync one way: the copy's duration edited in Salesforce stays on the copy.
    sf_person.Task.update(copy, {"CallDurationInSeconds": 10})
    run = activities()
    assert run.counts["updated_in_hubspot"] == 0, run.counts
    assert engagement_get(hs_person, "calls", call, *CALL_PROPS)["hs_call_duration"] == "300000"


def test_a_salesforce_call_tasks_duration_and_direction_reach_its_hubspot_call(
    activities, linked_person, hs_person, sf_person
):
    """An outbound call logged in Salesforce (90 seconds) becomes a HubSpot call of 90,000
    milliseconds, direction OUTBOUND; its duration edited in Salesforce follows, an
    Internal call has no HubSpot direction, and the cycle after writes nothing."""
    lead, _ = linked_person
    activities.settings(salesforce_calls=True, hubspot_calls=True)
    origin = sf_person.Task.create({"WhoId": lead, "Subject": "Called", "Status": "Completed",
                                    "TaskSubtype": "Call", "CallDurationInSeconds": 90,
                                    "CallType": "Outbound"})["id"]  # fmt: skip
    run = activities()
    assert run.counts["created_in_hubspot"] == 1, run.counts
    call = activities.link(salesforce_id=origin).hubspot_id.split(":")[1]
    props = engagement_get(hs_person, "calls", call, *CALL_PROPS)
    assert props["hs_call_title"] == "Called"
    assert props["hs_call_duration"] == "90000" and props["hs_call_direction"] == "OUTBOUND"
    assert_idle(activities)

    sf_person.Task.update(origin, {"CallDurationInSeconds": 45})
    run = activities()
    assert run.counts["updated_in_hubspot"] == 1, run.counts
    props = engagement_get(hs_person, "calls", call, *CALL_PROPS)
    assert props["hs_call_duration"] == "45000" and props["hs_call_direction"] == "OUTBOUND"
    assert_idle(activities)

    sf_person.Task.update(origin, {"CallType": "Internal"})
    run = activities()
    assert run.counts["updated_in_hubspot"] == 1, run.counts
    props = engagement_get(hs_person, "calls", call, *CALL_PROPS)
    assert not props.get("hs_call_direction") and props["hs_call_duration"] == "45000"
    assert_idle(activities)
    # Calls sync one way: the engagement's duration edited in HubSpot stays there.
    call_update(hs_person, call, hs_call_duration="1000")
    run = activities()
    assert run.counts["updated_in_salesforce"] == 0, run.counts
    assert task(sf_person, origin)["CallDurationInSeconds"] == 45


def test_links_synced_before_calls_carried_them_are_not_rewritten_until_edited(
    activities, linked_person, hs_person, sf_person
):
    """Calls synced before their duration and direction went across have links whose
    snapshot lacks them. A cycle that reads them again without an edit (a Resync) writes
    nothing and leaves them unknown; the origin's next edit carries them across."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, salesforce_calls=True)
    hs_call = engagement(hs_person, "calls", contact, hs_call_title="Old HubSpot call",
                         hs_call_duration="60000", hs_call_direction="INBOUND")  # fmt: skip
    sf_call = sf_person.Task.create({"WhoId": lead, "Subject": "Old Salesforce call",
                                     "Status": "Completed", "TaskSubtype": "Call",
                                     "CallDurationInSeconds": 30,
                                     "CallType": "Outbound"})["id"]  # fmt: skip
    activities()
    hs_link = activities.link(hubspot_id=f"calls:{hs_call}")
    sf_link = activities.link(salesforce_id=sf_call)
    engagement_id = sf_link.hubspot_id.split(":")[1]
    forget_call_values(hs_link)
    forget_call_values(sf_link)
    # The copies as the older sync made them: without those values.
    sf_person.Task.update(hs_link.salesforce_id, {"CallDurationInSeconds": None, "CallType": None})
    call_update(hs_person, engagement_id, hs_call_duration="", hs_call_direction="")

    for key in (f"hubspot:calls:{hs_call}", f"salesforce:{sf_call}"):
        record_resync(integration=activities.integration, object_name="activities",
                      record_key=key)  # fmt: skip
    run = activities()
    assert run.counts["updated_in_salesforce"] == 0 and run.counts["updated_in_hubspot"] == 0
    assert writes_since(run) == [], run.counts
    for link in (hs_link, sf_link):
        link.refresh_from_db()
        assert not {"CallDurationInSeconds", "hs_call_duration"} & set(link.snapshot)
    assert_idle(activities)

    # Each origin's next edit brings its call's values along: in HubSpot, of the duration
    # alone (the call's modified date is later than the link's); in Salesforce, of another
    # value (its modified dates are whole seconds).
    call_update(hs_person, hs_call, hs_call_duration="61000")
    sf_person.Task.update(sf_call, {"Description": "Notes"})
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1 and run.counts["updated_in_hubspot"] == 1
    sf_task = task(sf_person, hs_link.salesforce_id)
    assert sf_task["CallDurationInSeconds"] == 61 and sf_task["CallType"] == "Inbound"
    assert sf_task["Subject"] == "Call: Old HubSpot call"
    props = engagement_get(hs_person, "calls", engagement_id, *CALL_PROPS)
    assert props["hs_call_duration"] == "30000" and props["hs_call_direction"] == "OUTBOUND"
    assert_idle(activities)


def test_a_duration_salesforce_refuses_leaves_the_task_synced_with_an_error(
    activities, linked_person, hs_person, sf_person
):
    """A duration too long for the Task's field (8 digits of seconds): the Task is made
    without it and the call gets a typed error naming the field, which stays open while
    the duration is refused, and ends once an edit brings one Salesforce takes."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Marathon",
                      hs_call_duration=str(10**12), hs_call_direction="OUTBOUND")  # fmt: skip
    run = activities()
    assert run.counts["created_in_salesforce"] == 1 and run.counts["failed"] == 1, run.counts
    copy = activities.link(hubspot_id=f"calls:{call}").salesforce_id
    sf_task = task(sf_person, copy)
    assert sf_task["Subject"] == "Call: Marathon" and sf_task["CallType"] == "Outbound"
    assert sf_task["CallDurationInSeconds"] is None
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert error.record_key == f"hubspot:calls:{call}"
    assert error.fields == ["CallDurationInSeconds"] and error.code == "NUMBER_OUTSIDE_VALID_RANGE"
    # Its retry sends the duration again: still refused, the error stays.
    record_resync(integration=activities.integration, object_name="activities",
                  record_key=error.record_key)  # fmt: skip
    run = activities()
    assert run.counts["failed"] == 1 and run.counts["created_in_salesforce"] == 0, run.counts
    error.refresh_from_db()
    assert error.resolved_at is None and error.attempts == 2

    call_update(hs_person, call, hs_call_duration="7200000")
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    assert task(sf_person, copy)["CallDurationInSeconds"] == 7200
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert_idle(activities)


def test_call_fields_the_org_hides_are_left_out(
    activities, linked_person, hs_person, sf_person, emulators, sf_connection
):
    """Call Type hidden from the integration user (field-level security; describe doesn't
    list it): calls sync both ways with their duration, without a direction, no error."""
    lead, contact = linked_person
    emulators.salesforce.app.run_action(
        "set_field_permission", object="Task", field="CallType", access="hidden",
        token=sf_connection.access_token,
    )  # fmt: skip
    activities.settings(hubspot_calls=True, salesforce_calls=True)
    hs_call = engagement(hs_person, "calls", contact, hs_call_title="Hidden type",
                         hs_call_duration="5000", hs_call_direction="INBOUND")  # fmt: skip
    sf_call = sf_person.Task.create({"WhoId": lead, "Subject": "Logged", "Status": "Completed",
                                     "TaskSubtype": "Call", "CallDurationInSeconds": 7,
                                     "CallType": "Inbound"})["id"]  # fmt: skip
    run = activities()
    assert run.counts["created_in_salesforce"] == 1 and run.counts["created_in_hubspot"] == 1
    assert run.counts["failed"] == 0, run.counts
    copy = activities.link(hubspot_id=f"calls:{hs_call}").salesforce_id
    sf_task = task(sf_person, copy)
    assert sf_task["CallDurationInSeconds"] == 5 and not sf_task.get("CallType")
    engagement_id = activities.link(salesforce_id=sf_call).hubspot_id.split(":")[1]
    props = engagement_get(hs_person, "calls", engagement_id, *CALL_PROPS)
    assert props["hs_call_duration"] == "7000" and not props.get("hs_call_direction")
    assert_idle(activities)
