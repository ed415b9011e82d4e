"""Activities deleted and restored (Salesforce's recycle bin, HubSpot's restore), moved to
another person, and edited again while a write waits for its retry: one copy each, and the
newest values."""

from __future__ import annotations

from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from emulators.testing import advance_clocks

from . import test_activities
from .helpers import open_errors
from .test_activities import (
    BOTH_WAYS,
    assert_idle,
    copied_task,
    engagement,
    engagement_get,
    engagements,
    tasks_of,
)

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def test_a_task_deleted_and_restored_keeps_its_one_engagement(
    activities, linked_person, hs_person, sf_person, emulators
):
    lead, contact = linked_person
    activities.settings(salesforce_tasks=True)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Call back")
    advance_clocks(emulators, 60)
    sf_person.Task.delete(origin)
    activities()
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("undelete", id=origin)
    activities()
    assert [e.id for e in engagements(hs_person, "tasks")] == [copy]
    sf_person.Task.update(origin, {"Subject": "Call back, restored"})
    activities()
    assert [e.id for e in engagements(hs_person, "tasks")] == [copy]
    assert engagement_get(hs_person, "tasks", copy, "hs_task_subject")["hs_task_subject"] == (
        "Call back, restored"
    )
    assert not open_errors(), open_errors()
    assert_idle(activities)


def test_a_two_way_task_restored_after_its_copy_was_edited_syncs_with_that_copy_again(
    activities, linked_person, hs_person, sf_person, emulators
):
    """The origin deleted, its copy edited (the edit stays on the copy: nothing to send it
    to), then the origin restored from the recycle bin: it syncs with its copy again, which
    gives it the edit made meanwhile. Never a second HubSpot task."""
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Call back")
    advance_clocks(emulators, 60)
    sf_person.Task.delete(origin)
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_status": "COMPLETED"})
    )
    activities()
    assert not open_errors(), open_errors()
    advance_clocks(emulators, 60)
    emulators.salesforce.app.run_action("undelete", id=origin)
    activities()
    activities()
    assert [e.id for e in engagements(hs_person, "tasks")] == [copy]
    [task] = tasks_of(sf_person, lead)
    assert (task["Id"], task["Status"]) == (origin, "Completed")
    assert not open_errors(), open_errors()
    assert_idle(activities)

    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"Subject": "Call back, restored"})
    activities()
    assert engagement_get(hs_person, "tasks", copy, "hs_task_subject")["hs_task_subject"] == (
        "Call back, restored"
    )
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_body": "Edited on the copy"})
    )
    activities()
    assert sf_person.Task.get(origin)["Description"] == "Edited on the copy"
    assert [e.id for e in engagements(hs_person, "tasks")] == [copy]
    assert_idle(activities)


def test_a_hubspot_task_restored_after_its_copy_was_edited_syncs_with_that_copy_again(
    activities, linked_person, hs_person, sf_person, emulators
):
    """The HubSpot origin deleted, its Task copy edited (the edit stays on the copy), then the
    origin restored in HubSpot, unedited: the copy is its copy again, and the edits made to it
    reach the origin: the one made meanwhile and the ones made since."""
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    task = engagement(hs_person, "tasks", contact, hs_task_subject="Send quote",
                      hs_task_status="NOT_STARTED")  # fmt: skip
    assert activities().counts["created_in_salesforce"] == 1
    copy = activities.link(hubspot_id=f"tasks:{task}").salesforce_id
    advance_clocks(emulators, 60)
    hs_person.crm.objects.basic_api.archive("tasks", task)
    sf_person.Task.update(copy, {"Status": "Completed"})
    activities()
    assert not open_errors(), open_errors()
    advance_clocks(emulators, 60)
    emulators.hubspot.app.run_action("restore", object_type="tasks", id=task)
    activities()
    activities()
    assert [t["Id"] for t in tasks_of(sf_person, lead)] == [copy]
    assert [e.id for e in engagements(hs_person, "tasks")] == [task]
    assert engagement_get(hs_person, "tasks", task, "hs_task_status")["hs_task_status"] == (
        "COMPLETED"
    )
    assert_idle(activities)

    advance_clocks(emulators, 60)
    sf_person.Task.update(copy, {"Description": "Edited on the copy since"})
    activities()
    assert engagement_get(hs_person, "tasks", task, "hs_task_body")["hs_task_body"] == (
        "Edited on the copy since"
    )
    hs_person.crm.objects.basic_api.update(
        "tasks", task, EngagementUpdate(properties={"hs_task_subject": "Send the quote"})
    )
    activities()
    assert sf_person.Task.get(copy)["Subject"] == "Task: Send the quote"
    assert [t["Id"] for t in tasks_of(sf_person, lead)] == [copy]
    assert not open_errors(), open_errors()
    assert_idle(activities)


def test_a_restored_hubspot_call_keeps_its_one_task(
    activities, linked_person, hs_person, sf_person, emulators
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro", hs_call_body="hi")
    activities()
    copy = activities.link(hubspot_id=f"calls:{call}").salesforce_id
    hs_person.crm.objects.basic_api.archive("calls", call)
    activities()
    advance_clocks(emulators, 60)
    emulators.hubspot.app.run_action("restore", object_type="calls", id=call)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro, restored"})
    )
    activities()
    [task] = tasks_of(sf_person, lead)
    assert task["Id"] == copy and task["Subject"] == "Call: Intro, restored"
    assert not open_errors(), open_errors()
    assert_idle(activities)


# --- moves --------------------------------------------------------------------------------
def two_people(activities, sf_person, linked_person) -> tuple[str, str, str, str]:
    """Ada (synced by ``linked_person``) and Grace, both synced: (lead, contact) of each."""
    from sync_engine.models import RecordLink

    from .helpers import new_lead

    lead, contact = linked_person
    other_lead = new_lead(sf_person, FirstName="Grace", LastName="Hopper",
                          Email="grace@example.com")  # fmt: skip
    activities("contacts")
    other = RecordLink.objects.get(object="contacts", salesforce_id=other_lead).hubspot_id
    return lead, contact, other_lead, other


def test_a_task_moved_back_after_a_crash_cut_its_move_short_is_on_its_person(
    activities, linked_person, hs_person, sf_person, emulators, monkeypatch
):
    """The worker dies after a Task's engagement moved to Grace, before the move's commit;
    the rep then puts the Task back on Ada: its engagement ends on Ada, not on Grace."""
    import pytest

    from sync_engine.sync.activities import ActivitySync

    from .helpers import Crash
    from .test_activities import engagement_contacts

    lead, contact, other_lead, other = two_people(activities, sf_person, linked_person)
    activities.settings(salesforce_tasks=True)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Wrong person")
    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"WhoId": other_lead})
    original = ActivitySync.commit_items

    def crash(self, items, origin_side, cursor, handled):
        if any("moves" in i.extra for i in items):
            raise Crash("worker died before the move's commit")
        return original(self, items, origin_side, cursor, handled)

    monkeypatch.setattr(ActivitySync, "commit_items", crash)
    with pytest.raises(Crash):
        activities()
    monkeypatch.setattr(ActivitySync, "commit_items", original)
    assert engagement_contacts(hs_person, "tasks", copy) == [other]  # the move landed
    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"WhoId": lead})
    activities()
    assert engagement_contacts(hs_person, "tasks", copy) == [contact]
    assert [e.id for e in engagements(hs_person, "tasks")] == [copy]
    assert not open_errors(), open_errors()
    assert_idle(activities)


def test_a_call_moved_back_after_a_crash_cut_its_tasks_move_short_is_on_its_person(
    activities, linked_person, hs_person, sf_person, emulators, monkeypatch
):
    """The worker dies after a call's Task moved to Grace's lead, before the move's commit;
    the marketer then puts the call back on Ada and edits it: its Task ends on Ada."""
    import pytest

    from sync_engine.sync.activities import ActivitySync

    from .helpers import Crash

    lead, contact, other_lead, other = two_people(activities, sf_person, linked_person)
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro call")
    assert activities().counts["created_in_salesforce"] == 1
    associations = hs_person.crm.associations.v4.basic_api
    associations.archive("calls", call, "contacts", contact)
    associations.create_default("calls", call, "contacts", other)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_body": "Spoke to Grace"})
    )
    original = ActivitySync.commit_items

    def crash(self, items, origin_side, cursor, handled):
        if any("who" in i.extra for i in items):
            raise Crash("worker died before the move's commit")
        return original(self, items, origin_side, cursor, handled)

    monkeypatch.setattr(ActivitySync, "commit_items", crash)
    with pytest.raises(Crash):
        activities()
    monkeypatch.setattr(ActivitySync, "commit_items", original)
    assert [t["Id"] for t in tasks_of(sf_person, other_lead)]  # the move landed
    associations.archive("calls", call, "contacts", other)
    associations.create_default("calls", call, "contacts", contact)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_body": "It was Ada after all"})
    )
    activities()
    assert tasks_of(sf_person, other_lead) == []
    [task] = tasks_of(sf_person, lead)
    assert task["Description"] == "It was Ada after all"
    assert not open_errors(), open_errors()
    assert_idle(activities)


def test_a_task_moved_back_after_its_refused_move_is_on_its_person_without_errors(
    activities, linked_person, hs_person, sf_person, emulators
):
    """HubSpot refuses the engagement's move to Grace (an association limit); the rep puts the
    Task back on Ada before the retry: nothing is left to move, and the error ends."""
    from .helpers import refuse_associations
    from .test_activities import engagement_contacts

    lead, contact, other_lead, other = two_people(activities, sf_person, linked_person)
    activities.settings(salesforce_tasks=True)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Wrong person")
    advance_clocks(emulators, 60)
    refuse_associations(emulators, "tasks", "contacts", times=1)  # one input: no split
    sf_person.Task.update(origin, {"WhoId": other_lead})
    activities()
    assert [e[2] for e in open_errors()] != [], open_errors()
    assert engagement_contacts(hs_person, "tasks", copy) == [contact]
    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"WhoId": lead, "Subject": "Right person"})
    activities()
    assert engagement_contacts(hs_person, "tasks", copy) == [contact]
    assert engagement_get(hs_person, "tasks", copy, "hs_task_subject")["hs_task_subject"] == (
        "Right person"
    )
    assert not open_errors(), open_errors()
    assert_idle(activities)


def test_a_task_related_back_after_a_crash_cut_its_move_short_is_on_its_deal(
    activities, linked_person, hs_person, sf_person, emulators, monkeypatch, integration
):
    """As for a person: the Task's Related To moved to another opportunity, the engagement's
    deal association written, the worker dead before the commit, and the rep puts it back."""
    import pytest

    from sync_engine.models import RecordLink
    from sync_engine.sync.activities import ActivitySync

    from .helpers import Crash, deal_sync_on
    from .test_activities import engagement_contacts
    from .test_deals import new_opportunity

    deal_sync_on(integration, emulators)
    lead, contact = linked_person
    first = new_opportunity(sf_person, Name="First")
    second = new_opportunity(sf_person, Name="Second")
    activities("deals")
    deal = dict(
        RecordLink.objects.filter(object="deals").values_list("salesforce_id", "hubspot_id")
    )
    activities.settings(salesforce_tasks=True)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Quote", WhatId=first)
    assert engagement_contacts(hs_person, "tasks", copy, "deals") == [deal[first]]
    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"WhatId": second})
    original = ActivitySync.commit_items

    def crash(self, items, origin_side, cursor, handled):
        if any("moves" in i.extra for i in items):
            raise Crash("worker died before the move's commit")
        return original(self, items, origin_side, cursor, handled)

    monkeypatch.setattr(ActivitySync, "commit_items", crash)
    with pytest.raises(Crash):
        activities()
    monkeypatch.setattr(ActivitySync, "commit_items", original)
    assert engagement_contacts(hs_person, "tasks", copy, "deals") == [deal[second]]
    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"WhatId": first})
    activities()
    assert engagement_contacts(hs_person, "tasks", copy, "deals") == [deal[first]]
    assert engagement_contacts(hs_person, "tasks", copy) == [contact]
    assert not open_errors(), open_errors()
    assert_idle(activities)
