"""Activities ⇄ tasks (spec §13), end to end through the official clients and emulators."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate
from hubspot.crm.objects import SimplePublicObjectInputForCreate as EngagementCreate

from sync_engine.budget import budget_used
from sync_engine.models import (
    ApiCall,
    Integration,
    ObjectSync,
    RecordLink,
    SchemaCache,
    SyncCursor,
    SyncError,
    System,
)
from sync_engine.services import object_settings_update, object_sync_get_or_create, record_resync
from sync_engine.sync.activities import INTENT_STREAM as INTENT
from sync_engine.sync.changes import parse_time
from sync_engine.sync.cycle import sync_cycle_run

from .helpers import Crash, crash_on_creates, due_now, hs_create, new_lead, user_and_owner

TO_CONTACT = {"calls": 194, "emails": 198, "meetings": 200, "notes": 202, "tasks": 204}
NOW_MS = lambda: str(int(time.time() * 1000))  # noqa: E731
NEW_YORK = ZoneInfo("America/New_York")


class Activities:
    """Run activity and contact cycles; read both sides."""

    def __init__(self, integration, emulators):
        self.integration = integration
        self.emulators = emulators

    def __call__(self, object_name: str = "activities"):
        before = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count()
            for s in System.values
        }
        run = sync_cycle_run(integration=self.integration, object_name=object_name)
        assert run.status == "succeeded", run.message
        run.counts = Counter(run.counts)
        run.calls = {
            s: ApiCall.objects.filter(integration=self.integration, system=s).count() - before[s]
            for s in System.values
        }
        return run

    def settings(self, **changes):
        object_settings_update(
            integration=self.integration, object_name="activities", changes=changes
        )

    def links(self):
        return RecordLink.objects.filter(integration=self.integration, object="activities")

    def link(self, **filters):
        return self.links().get(**filters)


@pytest.fixture
def activities(integration, emulators):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    object_sync_get_or_create(integration=integration, object_name="contacts")
    object_settings_update(
        integration=integration, object_name="activities", changes={}, enabled=True
    )
    return Activities(integration, emulators)


def engagement(hs, kind: str, contact: str | None, **properties) -> str:
    properties.setdefault("hs_timestamp", NOW_MS())
    associations = (
        [
            {
                "to": {"id": contact},
                "types": [
                    {
                        "associationCategory": "HUBSPOT_DEFINED",
                        "associationTypeId": TO_CONTACT[kind],
                    }
                ],
            }
        ]
        if contact
        else None
    )
    body = EngagementCreate(properties=properties, associations=associations)
    return hs.crm.objects.basic_api.create(kind, body).id


def engagement_get(hs, kind: str, engagement_id: str, *props) -> dict:
    return hs.crm.objects.basic_api.get_by_id(
        kind, engagement_id, properties=list(props)
    ).properties


def engagements(hs, kind: str) -> list:
    return hs.crm.objects.basic_api.get_page(kind, limit=100, properties=["hs_timestamp"]).results


def engagement_contacts(hs, kind: str, engagement_id: str, to_type: str = "contacts") -> list[str]:
    """The HubSpot contacts (or records of ``to_type``) an engagement is associated with."""
    page = hs.crm.associations.v4.basic_api.get_page(kind, engagement_id, to_type)
    return [str(r.to_object_id) for r in page.results]


def tasks_of(sf, who: str) -> list[dict]:
    return sf.query_all(
        "SELECT Id, Subject, Status, ActivityDate, WhoId, Description, TaskSubtype "  # noqa: S608
        f"FROM Task WHERE WhoId = '{who}'"
    )["records"]


@pytest.fixture
def linked_person(activities, sf_person, hs_person):
    """A lead created in Salesforce and synced to a HubSpot contact (the contacts pair)."""
    lead = new_lead(sf_person, FirstName="Ada", LastName="Lovelace", Email="ada@example.com")
    activities("contacts")
    link = RecordLink.objects.get(object="contacts", salesforce_id=lead)
    return lead, link.hubspot_id


ALL_HUBSPOT = {f"hubspot_{k}": True for k in ("calls", "emails", "meetings", "notes", "tasks")}
ALL_SALESFORCE = {f"salesforce_{k}": True for k in ("tasks", "calls", "emails", "meetings")}


# --- HubSpot → Salesforce -----------------------------------------------------------------
def test_activity_sync_starts_off_with_every_type_off(integration):
    row = object_sync_get_or_create(integration=integration, object_name="activities")
    assert row.enabled is False
    assert not any(v for k, v in row.options.items() if k != "turned_on_at")
    run = sync_cycle_run(integration=integration, object_name="activities")
    assert run.message == "Sync is off for this object."


def test_each_hubspot_type_becomes_a_completed_task_on_the_linked_lead(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(**ALL_HUBSPOT)
    day = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    stamp = str(int(day.timestamp() * 1000))
    engagement(hs_person, "calls", contact, hs_call_title="Intro call", hs_call_body="<p>Hi</p>",
               hs_timestamp=stamp)  # fmt: skip
    engagement(hs_person, "emails", contact, hs_email_subject="Proposal", hs_email_text="See att.",
               hs_timestamp=stamp)  # fmt: skip
    engagement(hs_person, "meetings", contact, hs_meeting_title="Demo", hs_timestamp=stamp)
    engagement(hs_person, "notes", contact,
               hs_note_body="<p>Met at the fair, wants a quote for nine seats next month</p>",
               hs_timestamp=stamp)  # fmt: skip
    engagement(hs_person, "tasks", contact, hs_task_subject="Send quote",
               hs_task_status="NOT_STARTED", hs_timestamp=stamp)  # fmt: skip
    run = activities()
    assert run.counts["created_in_salesforce"] == 5, run.counts
    tasks = {t["Subject"]: t for t in tasks_of(sf_person, lead)}
    assert set(tasks) == {
        "Call: Intro call",
        "Email: Proposal",
        "Meeting: Demo",
        "Note: Met at the fair, wants a quote for…",
        "Task: Send quote",
    }
    for subject, task in tasks.items():
        assert task["WhoId"] == lead
        assert task["ActivityDate"] == "2026-03-04"
        expected = "Not Started" if subject.startswith("Task:") else "Completed"
        assert task["Status"] == expected, subject
    assert tasks["Call: Intro call"]["Description"] == "Hi"
    assert tasks["Call: Intro call"]["TaskSubtype"] == "Call"
    assert tasks["Email: Proposal"]["TaskSubtype"] == "Email"
    assert activities.links().count() == 5


def test_an_idle_cycle_writes_nothing_and_an_edit_updates_the_task(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro call")
    activities()
    run = activities()
    assert run.counts["created_in_salesforce"] == 0 and run.counts["updated_in_salesforce"] == 0
    assert run.calls[System.SALESFORCE] == 0 and run.calls[System.HUBSPOT] == 1  # one search
    writes = ApiCall.objects.filter(
        operation__contains="collections", called_at__gte=run.started_at
    )
    assert not writes.exists()
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro call (moved)"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: Intro call (moved)"]


def test_toggles_off_sync_nothing(activities, linked_person, hs_person, sf_person):
    lead, contact = linked_person
    activities.settings(hubspot_notes=True)  # only notes
    engagement(hs_person, "calls", contact, hs_call_title="Not synced")
    sf_person.Task.create({"WhoId": lead, "Subject": "Not synced either", "Status": "Completed"})
    run = activities()
    assert run.counts["created_in_salesforce"] == 0 and run.counts["created_in_hubspot"] == 0
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Not synced either"]
    assert engagements(hs_person, "tasks") == []


def test_activities_from_before_the_toggle_are_not_backfilled(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    old_call = engagement(hs_person, "calls", contact, hs_call_title="Old call")
    sf_person.Task.create({"WhoId": lead, "Subject": "Old task", "Status": "Completed"})
    time.sleep(1.1)  # Salesforce stamps are whole seconds
    activities.settings(hubspot_calls=True, salesforce_tasks=True)
    stamps = ObjectSync.objects.get(object="activities").options["turned_on_at"]
    assert {"hubspot_calls", "salesforce_tasks", "enabled"} <= set(stamps)
    run = activities()
    assert run.counts["created_in_salesforce"] == 0 and run.counts["created_in_hubspot"] == 0
    engagement(hs_person, "calls", contact, hs_call_title="New call")
    run = activities()
    assert run.counts["created_in_salesforce"] == 1
    subjects = sorted(t["Subject"] for t in tasks_of(sf_person, lead))
    assert subjects == ["Call: New call", "Old task"]
    # An old activity edited after the toggle syncs (spec §13: "when next updated").
    hs_person.crm.objects.basic_api.update(
        "calls", old_call, EngagementUpdate(properties={"hs_call_body": "follow-up"})
    )
    assert activities().counts["created_in_salesforce"] == 1


def test_a_task_from_a_hubspot_activity_belongs_to_the_owner_of_its_lead(
    activities, hs_person, sf_person, emulators, integration
):
    """Spec §13: Owner = the record's owner, or the integration user as fallback (an owner
    who is no longer active can't own a new Task). No call per record: the owners come from
    the contact pair's links, the users are read once."""
    kees = emulators.salesforce.app.run_action(
        "create_user", first_name="Kees", last_name="Jansen", email="kees@example.com"
    )
    piet = emulators.salesforce.app.run_action(
        "create_user", first_name="Piet", last_name="Bakker", email="piet@example.com"
    )
    keeps = new_lead(sf_person, Email="keeps@example.com", OwnerId=kees)
    left = new_lead(sf_person, Email="left@example.com", OwnerId=piet)
    activities("contacts")
    sf_person.User.update(piet, {"IsActive": False})  # left the company
    contacts = {
        lead: RecordLink.objects.get(object="contacts", salesforce_id=lead).hubspot_id
        for lead in (keeps, left)
    }
    activities.settings(hubspot_calls=True, hubspot_notes=True)
    for contact in contacts.values():
        engagement(hs_person, "calls", contact, hs_call_title="Intro call")
        engagement(hs_person, "notes", contact, hs_note_body="Met at the fair")
    run = activities()
    assert run.counts["created_in_salesforce"] == 4, run.counts

    def owners(lead):
        return {t["OwnerId"] for t in sf_person.query_all(
            f"SELECT OwnerId FROM Task WHERE WhoId = '{lead}'"  # noqa: S608
        )["records"]}  # fmt: skip

    assert owners(keeps) == {kees}
    assert owners(left) == {integration.salesforce_connection.user_id}
    calls = ApiCall.objects.filter(system=System.SALESFORCE, called_at__gte=run.started_at)
    operations = sorted(calls.values_list("operation", flat=True))
    # A create per type, the users read once (the owners' status), the first cycle's describes.
    assert operations == ["collections.create"] * 2 + ["query"] + ["sobject.describe"] * 2


def test_the_sales_emails_toggle_copies_only_the_emails_the_rep_sent(
    activities, linked_person, hs_person, sf_person
):
    """The toggle is "Sales emails sent" (spec §13: sales email sends): a reply from the
    contact, or mail forwarded into HubSpot, isn't one."""
    lead, contact = linked_person
    activities.settings(hubspot_emails=True)
    engagement(hs_person, "emails", contact, hs_email_subject="Proposal",
               hs_email_direction="EMAIL")  # fmt: skip
    engagement(hs_person, "emails", contact, hs_email_subject="Re: Proposal",
               hs_email_direction="INCOMING_EMAIL")  # fmt: skip
    engagement(hs_person, "emails", contact, hs_email_subject="Fwd: Invoice",
               hs_email_direction="FORWARDED_EMAIL")  # fmt: skip
    run = activities()
    assert run.counts["created_in_salesforce"] == 1, run.counts
    assert run.counts["skipped_type_off"] == 2, run.counts
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Email: Proposal"]


def test_a_plain_text_body_arrives_as_it_is_and_html_as_plain_text(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(hubspot_notes=True, hubspot_calls=True)
    plain = "Press <Enter> on the form\n\nThen  wait for   the reply"
    engagement(hs_person, "notes", contact, hs_note_body=plain)
    html = "<p>Asked for a <b>quote</b> &amp; a demo</p><p>Call back</p>"
    engagement(hs_person, "calls", contact, hs_call_title="Rang", hs_call_body=html)
    assert activities().counts["created_in_salesforce"] == 2
    bodies = {t["TaskSubtype"]: t["Description"] for t in tasks_of(sf_person, lead)}
    assert bodies == {"Task": plain, "Call": "Asked for a quote & a demo\nCall back"}


# --- Salesforce → HubSpot -----------------------------------------------------------------
def test_salesforce_tasks_calls_emails_and_events_become_engagements(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(**ALL_SALESFORCE)
    sf_person.Task.create({"WhoId": lead, "Subject": "Follow up", "Status": "In Progress",
                           "ActivityDate": "2026-05-06", "Description": "Call back"})  # fmt: skip
    sf_person.Task.create({"WhoId": lead, "Subject": "Called", "Status": "Completed",
                           "TaskSubtype": "Call"})  # fmt: skip
    sf_person.Task.create({"WhoId": lead, "Subject": "Mailed", "Status": "Completed",
                           "TaskSubtype": "Email"})  # fmt: skip
    sf_person.Event.create({"WhoId": lead, "Subject": "Lunch",
                            "StartDateTime": "2026-05-07T12:00:00.000+0000",
                            "EndDateTime": "2026-05-07T13:00:00.000+0000",
                            "DurationInMinutes": 60})  # fmt: skip
    run = activities()
    assert run.counts["created_in_hubspot"] == 4, run.counts
    by_kind = {link.snapshot["__type"]: link for link in activities.links()}
    assert set(by_kind) == {"tasks", "calls", "emails", "meetings"}
    for kind, link in by_kind.items():
        hs_id = link.hubspot_id.split(":")[1]
        assert engagement_contacts(hs_person, kind, hs_id) == [contact]
    ids = {kind: link.hubspot_id.split(":")[1] for kind, link in by_kind.items()}
    props = ["hs_task_subject", "hs_task_body", "hs_task_status", "hs_timestamp"]
    task = engagement_get(hs_person, "tasks", ids["tasks"], *props)
    assert task["hs_task_subject"] == "Follow up" and task["hs_task_body"] == "Call back"
    assert task["hs_task_status"] == "IN_PROGRESS"
    assert task["hs_timestamp"].startswith("2026-05-06")
    call = engagement_get(hs_person, "calls", ids["calls"], "hs_call_title", "hs_call_status")
    assert call["hs_call_title"] == "Called" and call["hs_call_status"] == "COMPLETED"
    email = engagement_get(hs_person, "emails", ids["emails"], "hs_email_subject")
    assert email["hs_email_subject"] == "Mailed"
    meeting = engagement_get(
        hs_person, "meetings", ids["meetings"], "hs_meeting_title", "hs_meeting_start_time"
    )
    assert meeting["hs_meeting_title"] == "Lunch"
    assert meeting["hs_meeting_start_time"].startswith("2026-05-07T12:00")
    # Idle: nothing is written; an edit in Salesforce updates the engagement.
    run = activities()
    assert run.counts["created_in_hubspot"] == 0 and run.counts["updated_in_hubspot"] == 0
    sf_person.Task.update(by_kind["tasks"].salesforce_id, {"Status": "Completed"})
    run = activities()
    assert run.counts["updated_in_hubspot"] == 1
    status = engagement_get(hs_person, "tasks", ids["tasks"], "hs_task_status")
    assert status["hs_task_status"] == "COMPLETED"


def test_related_to_an_account_puts_the_engagement_on_its_company_too(
    activities, linked_person, hs_person, sf_person, integration
):
    """Spec §13: "Related To" comes across. A task on a synced account is on its company as
    well as its contact; one on the account alone is on the company alone; one related to a
    record that doesn't sync, and on no person, is skipped as such."""
    lead, contact = linked_person
    object_settings_update(integration=integration, object_name="companies", changes={},
                           enabled=True)  # fmt: skip
    account = sf_person.Account.create({"Name": "Related Co"})["id"]
    activities("companies")
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    object_settings_update(integration=integration, object_name="companies", changes={},
                           enabled=False)  # fmt: skip
    unsynced = sf_person.Account.create({"Name": "Not Synced"})["id"]
    activities.settings(salesforce_tasks=True)
    both = sf_person.Task.create({"WhoId": lead, "WhatId": account, "Subject": "Both"})["id"]
    alone = sf_person.Task.create({"WhatId": account, "Subject": "Account only"})["id"]
    sf_person.Task.create({"WhatId": unsynced, "Subject": "Nowhere"})
    run = activities()
    assert run.counts["created_in_hubspot"] == 2 and run.counts["skipped_no_contact"] == 1

    def on(task_id, to_type):
        hs_id = activities.link(salesforce_id=task_id).hubspot_id.split(":")[1]
        page = hs_person.crm.associations.v4.basic_api.get_page("tasks", hs_id, to_type)
        return [str(r.to_object_id) for r in page.results]

    assert (on(both, "contacts"), on(both, "companies")) == ([contact], [company])
    assert (on(alone, "contacts"), on(alone, "companies")) == ([], [company])
    run = activities()
    assert not run.counts.get("created_in_hubspot") and not run.counts.get("updated_in_hubspot")


def test_a_salesforce_tasks_assigned_to_becomes_the_hubspot_tasks_owner(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Spec §13: Assigned To comes across, as the HubSpot owner with that user's email (spec
    §11); a user HubSpot has no owner for leaves the task without one."""
    lead, contact = linked_person
    sanne_user, sanne = user_and_owner(emulators, "Sanne", "Visser", "sanne@example.com")
    kees = emulators.salesforce.app.run_action(  # no HubSpot seat
        "create_user", first_name="Kees", last_name="Jansen", email="kees@example.com"
    )
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Follow up", "OwnerId": sanne_user,
                                  "Status": "Not Started"})["id"]  # fmt: skip
    sf_person.Task.create({"WhoId": lead, "Subject": "Unseated", "OwnerId": kees,
                           "Status": "Not Started"})  # fmt: skip
    run = activities()
    assert run.counts["created_in_hubspot"] == 2, run.counts
    owners = {
        e.properties["hs_task_subject"]: e.properties["hubspot_owner_id"]
        for e in hs_person.crm.objects.basic_api.get_page(
            "tasks", properties=["hs_task_subject", "hubspot_owner_id"]
        ).results
    }
    assert owners == {"Follow up": sanne, "Unseated": None}
    assert_idle(activities)
    # Reassigned in Salesforce: the HubSpot task follows.
    sf_person.Task.update(task, {"OwnerId": kees})
    assert activities().counts["updated_in_hubspot"] == 1
    copy = activities.link(salesforce_id=task).hubspot_id.split(":")[1]
    assert not engagement_get(hs_person, "tasks", copy, "hubspot_owner_id")["hubspot_owner_id"]
    assert_idle(activities)


def test_no_echo_in_either_direction(activities, linked_person, hs_person, sf_person):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, hubspot_tasks=True, **ALL_SALESFORCE)
    engagement(hs_person, "calls", contact, hs_call_title="From HubSpot")
    sf_person.Task.create({"WhoId": lead, "Subject": "From Salesforce", "Status": "Completed"})
    run = activities()
    assert run.counts["created_in_salesforce"] == 1 and run.counts["created_in_hubspot"] == 1
    for _ in range(2):
        run = activities()
        assert run.counts["created_in_salesforce"] == 0, run.counts
        assert run.counts["created_in_hubspot"] == 0, run.counts
    # Idle with both directions on: one Salesforce read, and for HubSpot only the engagements
    # change feed, which shows both types unchanged (no search).
    assert run.calls[System.SALESFORCE] == 1 and run.calls[System.HUBSPOT] == 1, run.calls
    assert len(tasks_of(sf_person, lead)) == 2
    assert len(engagements(hs_person, "calls")) == 1
    assert len(engagements(hs_person, "tasks")) == 1
    # Calls sync one way: editing a call's copy changes nothing on the origin side.
    copy = activities.link(snapshot__Subject="Call: From HubSpot").salesforce_id
    sf_person.Task.update(copy, {"Description": "edited the copy"})
    run = activities()
    assert run.counts["updated_in_hubspot"] == 0 and run.counts["created_in_hubspot"] == 0


# --- two-way tasks ------------------------------------------------------------------------
BOTH_WAYS = {"hubspot_tasks": True, "salesforce_tasks": True}


def writes_since(run) -> list[str]:
    calls = ApiCall.objects.filter(called_at__gte=run.started_at)
    return [
        c.operation
        for c in calls
        if "collections" in c.operation or ".batch.update" in c.operation
        or ".batch.create" in c.operation
    ]  # fmt: skip


def assert_idle(activities):
    """A cycle after the copies are in step writes nothing, either way (no echo)."""
    run = activities()
    for count in ("created_in_hubspot", "created_in_salesforce", "updated_in_hubspot",
                  "updated_in_salesforce", "failed"):  # fmt: skip
        assert run.counts[count] == 0, run.counts
    assert writes_since(run) == []


def copied_task(activities, sf, who: str, **fields) -> tuple[str, str]:
    """A Salesforce task on ``who`` that one cycle copies to HubSpot: (its id, the copy's)."""
    origin = sf.Task.create({"WhoId": who, "Status": "Not Started", **fields})["id"]
    assert activities().counts["created_in_hubspot"] == 1
    return origin, activities.link(salesforce_id=origin).hubspot_id.split(":")[1]


def test_salesforce_edits_to_the_copy_of_a_hubspot_task_go_back_when_tasks_sync_both_ways(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    task = engagement(hs_person, "tasks", contact, hs_task_subject="Send quote",
                      hs_task_status="NOT_STARTED")  # fmt: skip
    assert activities().counts["created_in_salesforce"] == 1
    copy = activities.link(hubspot_id=f"tasks:{task}").salesforce_id
    assert_idle(activities)
    sf_person.Task.update(copy, {"Status": "Completed"})
    run = activities()
    assert run.counts["updated_in_hubspot"] == 1 and run.counts["created_in_hubspot"] == 0
    assert engagement_get(hs_person, "tasks", task, "hs_task_status")["hs_task_status"] == (
        "COMPLETED"
    )
    assert_idle(activities)
    # Subject (without our prefix), description and due date go back too.
    sf_person.Task.update(copy, {"Subject": "Task: Send the quote", "Description": "Nine seats",
                                 "ActivityDate": "2026-04-01"})  # fmt: skip
    run = activities()
    assert run.counts["updated_in_hubspot"] == 1, run.counts
    props = engagement_get(hs_person, "tasks", task, "hs_task_subject", "hs_task_body",
                           "hs_timestamp", "hs_task_status")  # fmt: skip
    assert props["hs_task_subject"] == "Send the quote" and props["hs_task_body"] == "Nine seats"
    assert props["hs_timestamp"].startswith("2026-04-01") and props["hs_task_status"] == "COMPLETED"
    assert_idle(activities)
    # The origin's own edits still update the copy.
    hs_person.crm.objects.basic_api.update(
        "tasks", task, EngagementUpdate(properties={"hs_task_status": "IN_PROGRESS"})
    )
    assert activities().counts["updated_in_salesforce"] == 1
    [copy_task] = tasks_of(sf_person, lead)
    assert copy_task["Status"] == "In Progress" and copy_task["Subject"] == "Task: Send the quote"
    assert_idle(activities)
    assert len(engagements(hs_person, "tasks")) == 1 and len(tasks_of(sf_person, lead)) == 1


def test_hubspot_edits_to_the_copy_of_a_salesforce_task_go_back_when_tasks_sync_both_ways(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    origin, copy = copied_task(
        activities, sf_person, lead, Subject="Follow up", ActivityDate="2026-05-06"
    )
    assert_idle(activities)
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_status": "COMPLETED"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1 and run.counts["created_in_salesforce"] == 0
    [task] = tasks_of(sf_person, lead)
    assert task["Status"] == "Completed"
    assert_idle(activities)
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={
            "hs_task_subject": "Follow up soon", "hs_task_body": "<p>Ring <b>first</b></p>",
            "hs_timestamp": "2026-05-08T15:00:00Z"})
    )  # fmt: skip
    assert activities().counts["updated_in_salesforce"] == 1
    [task] = tasks_of(sf_person, lead)
    assert (task["Subject"], task["Description"], task["ActivityDate"], task["Status"]) == (
        "Follow up soon", "Ring first", "2026-05-08", "Completed"
    )  # fmt: skip
    assert_idle(activities)
    assert len(engagements(hs_person, "tasks")) == 1 and len(tasks_of(sf_person, lead)) == 1


def test_a_status_edit_to_the_copy_of_a_salesforce_task_keeps_its_comments(
    activities, linked_person, hs_person, sf_person
):
    """The copy's body holds the Description as it is: a status edit in HubSpot sends the
    status alone, and never spoils the Comments (blank lines, spacing, "<Enter>")."""
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    comments = "Press <Enter> on the form\n\nThen  wait for   the reply"
    origin, copy = copied_task(activities, sf_person, lead, Subject="Follow up",
                               Description=comments)  # fmt: skip
    assert engagement_get(hs_person, "tasks", copy, "hs_task_body")["hs_task_body"] == comments
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_status": "COMPLETED"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    [task] = tasks_of(sf_person, lead)
    assert (task["Status"], task["Description"]) == ("Completed", comments)
    assert_idle(activities)


def test_an_edit_to_an_activity_whose_task_copy_was_deleted_copies_it_again(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro", hs_call_body="hi")
    activities()
    sf_person.Task.delete(activities.link(hubspot_id=f"calls:{call}").salesforce_id)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro, again"})
    )
    run = activities()
    assert run.counts["failed"] == 0 and run.counts["created_in_salesforce"] == 1, run.counts
    [task] = tasks_of(sf_person, lead)
    assert task["Subject"] == "Call: Intro, again"
    assert activities.link(hubspot_id=f"calls:{call}").salesforce_id == task["Id"]
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert_idle(activities)


def test_an_edit_to_a_task_whose_engagement_copy_was_deleted_copies_it_again(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Follow up", "Status": "Not Started"})
    activities()
    gone = activities.link(salesforce_id=task["id"]).hubspot_id.split(":")[1]
    hs_person.crm.objects.basic_api.archive("tasks", gone)
    sf_person.Task.update(task["id"], {"Subject": "Follow up again"})
    run = activities()
    assert run.counts["failed"] == 0 and run.counts["created_in_hubspot"] == 1, run.counts
    [copy] = engagements(hs_person, "tasks")
    assert copy.id != gone
    assert engagement_get(hs_person, "tasks", copy.id, "hs_task_subject")["hs_task_subject"] == (
        "Follow up again"
    )
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert_idle(activities)


def test_an_edit_to_a_copy_whose_origin_was_deleted_stays_on_the_copy(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Call back")
    sf_person.Task.delete(origin)  # deletes delete nothing: the copy stays
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_status": "COMPLETED"})
    )
    run = activities()
    assert run.counts["failed"] == 0 and run.counts["created_in_salesforce"] == 0, run.counts
    assert tasks_of(sf_person, lead) == []  # (the link stays, marked: see origins_back)
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert_idle(activities)


def test_with_tasks_synced_one_way_edits_to_a_copy_stay_on_the_copy(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    # HubSpot tasks → Salesforce only (Salesforce Tasks are still read, for calls).
    activities.settings(hubspot_tasks=True, salesforce_calls=True)
    task = engagement(hs_person, "tasks", contact, hs_task_subject="Send quote",
                      hs_task_status="NOT_STARTED")  # fmt: skip
    activities()
    sf_person.Task.update(activities.link(hubspot_id=f"tasks:{task}").salesforce_id,
                          {"Status": "Completed"})  # fmt: skip
    run = activities()
    assert run.counts["updated_in_hubspot"] == 0, run.counts
    assert engagement_get(hs_person, "tasks", task, "hs_task_status")["hs_task_status"] == (
        "NOT_STARTED"
    )
    # Salesforce tasks → HubSpot only (HubSpot tasks aren't read; calls are).
    activities.settings(hubspot_tasks=False, hubspot_calls=True, salesforce_tasks=True)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Follow up")
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_status": "COMPLETED"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 0, run.counts
    assert sf_person.Task.get(origin)["Status"] == "Not Started"
    # Both directions on: the copy's next edit goes back to its origin.
    activities.settings(hubspot_tasks=True)
    time.sleep(0.01)  # HubSpot stamps are milliseconds
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_status": "IN_PROGRESS"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    assert sf_person.Task.get(origin)["Status"] == "In Progress"


# --- the HubSpot account's time zone ---------------------------------------------------------
@pytest.fixture
def new_york(activities, emulators):
    """A HubSpot account in New York, connected (connecting reads its time zone)."""
    from ..conftest import connect_to_emulators

    emulators.hubspot.app.run_action("set_time_zone", time_zone="America/New_York")
    connect_to_emulators(emulators)


def test_an_evening_activity_in_new_york_becomes_a_task_on_that_day(
    new_york, activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, hubspot_tasks=True, salesforce_tasks=True)
    evening = datetime(2026, 3, 4, 21, 30, tzinfo=NEW_YORK)  # 02:30 UTC on 5 March
    stamp = str(int(evening.timestamp() * 1000))
    engagement(hs_person, "calls", contact, hs_call_title="Evening call", hs_timestamp=stamp)
    task = engagement(hs_person, "tasks", contact, hs_task_subject="Late task",
                      hs_task_status="NOT_STARTED", hs_timestamp=stamp)  # fmt: skip
    assert activities().counts["created_in_salesforce"] == 2
    dates = {t["Subject"]: t["ActivityDate"] for t in tasks_of(sf_person, lead)}
    assert dates == {"Call: Evening call": "2026-03-04", "Task: Late task": "2026-03-04"}
    assert_idle(activities)
    # Moved in Salesforce (two-way tasks): HubSpot shows the new day in New York.
    copy = activities.link(hubspot_id=f"tasks:{task}").salesforce_id
    sf_person.Task.update(copy, {"ActivityDate": "2026-03-10"})
    assert activities().counts["updated_in_hubspot"] == 1
    moved = parse_time(engagement_get(hs_person, "tasks", task, "hs_timestamp")["hs_timestamp"])
    assert moved.astimezone(NEW_YORK).date() == date(2026, 3, 10)
    assert_idle(activities)


def test_a_salesforce_due_date_is_that_day_in_the_hubspot_accounts_time_zone(
    new_york, activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    origin, copy = copied_task(
        activities, sf_person, lead, Subject="Due on the 4th", ActivityDate="2026-03-04"
    )
    stamp = parse_time(engagement_get(hs_person, "tasks", copy, "hs_timestamp")["hs_timestamp"])
    assert stamp == datetime(2026, 3, 4, tzinfo=NEW_YORK)  # midnight in New York: 05:00 UTC
    assert_idle(activities)
    # Moved to an evening in HubSpot (two-way tasks): that evening's day in Salesforce.
    evening = datetime(2026, 3, 6, 22, 0, tzinfo=NEW_YORK)  # 03:00 UTC on 7 March
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_timestamp": evening.isoformat()})
    )
    assert activities().counts["updated_in_salesforce"] == 1
    assert sf_person.Task.get(origin)["ActivityDate"] == "2026-03-06"
    assert_idle(activities)


@pytest.mark.parametrize("kept", ["nothing", "a day-old UTC"])
def test_the_accounts_time_zone_is_read_again_when_not_kept_or_a_day_old(
    activities, linked_person, hs_person, sf_person, emulators, integration, kept
):
    """A connection made before the time zone was kept (or whose read failed), or an account
    whose time zone changed since: the next day's activities are dated in the zone it has."""
    account = SchemaCache.objects.filter(integration=integration, object="account-info")
    if kept == "nothing":
        account.delete()
    else:
        account.update(data={"timeZone": ""}, fetched_at=timezone.now() - timedelta(days=2))
    emulators.hubspot.app.run_action("set_time_zone", time_zone="America/New_York")
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    evening = datetime(2026, 3, 4, 21, 30, tzinfo=NEW_YORK)  # 02:30 UTC on 5 March
    engagement(hs_person, "calls", contact, hs_call_title="Evening call",
               hs_timestamp=str(int(evening.timestamp() * 1000)))  # fmt: skip
    assert activities().counts["created_in_salesforce"] == 1
    assert [t["ActivityDate"] for t in tasks_of(sf_person, lead)] == ["2026-03-04"]
    assert account.get().data == {"timeZone": "America/New_York", "companyCurrency": "EUR"}
    # Kept for a day: the next cycles don't ask again.
    before = ApiCall.objects.filter(operation="account.details").count()
    activities()
    assert ApiCall.objects.filter(operation="account.details").count() == before


# --- unlinked contacts ----------------------------------------------------------------------
def test_an_activity_of_an_unlinked_contact_waits_and_syncs_once_the_contact_has(
    activities, hs_person, sf_person, integration
):
    activities.settings(hubspot_calls=True)
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "lead"}
    )
    contact = hs_create(hs_person, email="grace@example.com", firstname="Grace", company="Navy",
                        lastname="Hopper")  # fmt: skip
    call = engagement(hs_person, "calls", contact, hs_call_title="Waiting call")
    engagement(hs_person, "calls", None, hs_call_title="Nobody's call")
    run = activities()
    assert run.counts["waiting_for_contact"] == 1 and run.counts["skipped_no_contact"] == 1
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert error.error_type == "waiting_for_contact"
    assert error.record_key == f"hubspot:calls:{call}"
    activities("contacts")  # the contact syncs (as a lead)
    lead = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    SyncError.objects.filter(pk=error.pk).update(next_retry_at=datetime.now(UTC) - timedelta(1))
    run = activities()
    assert run.counts["created_in_salesforce"] == 1
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: Waiting call"]
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_a_salesforce_task_of_an_unlinked_lead_waits(activities, sf_person):
    activities.settings(salesforce_tasks=True)
    contact_sync = ObjectSync.objects.get(object="contacts")
    contact_sync.enabled = False
    contact_sync.save()
    lead = new_lead(sf_person, Email="unsynced@example.com")
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Call them", "Status": "Completed"})
    sf_person.Task.create({"Subject": "No one", "Status": "Completed"})
    run = activities()
    assert run.counts["waiting_for_contact"] == 1 and run.counts["skipped_no_contact"] == 1
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert error.record_key == f"salesforce:{task['id']}"
    assert error.direction == "to_hubspot"


def test_a_waiting_hubspot_activity_syncs_in_the_cycle_after_its_contact_does(
    activities, hs_person, sf_person, integration
):
    """Not at its 20-minute (later nightly) retry: the wait is looked at every cycle."""
    activities.settings(hubspot_calls=True)
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "lead"}
    )
    contact = hs_create(hs_person, email="kay@example.com", lastname="Kay", company="Xerox")
    engagement(hs_person, "calls", contact, hs_call_title="Early call")
    assert activities().counts["waiting_for_contact"] == 1
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert error.values == {"contacts": [contact]}  # whom it waits for, with the error
    assert activities().counts["created_in_salesforce"] == 0  # nobody synced: not retried
    error.refresh_from_db()
    assert error.attempts == 1 and error.next_retry_at > timezone.now()
    activities("contacts")
    lead = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    assert activities().counts["created_in_salesforce"] == 1
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: Early call"]
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_a_waiting_salesforce_task_syncs_in_the_cycle_after_its_lead_does(
    activities, sf_person, hs_person
):
    activities.settings(salesforce_tasks=True)
    ObjectSync.objects.filter(object="contacts").update(enabled=False)
    lead = new_lead(sf_person, Email="later@example.com")
    sf_person.Task.create({"WhoId": lead, "Subject": "Follow up", "Status": "Completed"})
    assert activities().counts["waiting_for_contact"] == 1
    assert SyncError.objects.get(object="activities").values == {"WhoId": lead}
    ObjectSync.objects.filter(object="contacts").update(enabled=True)
    activities("contacts")
    contact = RecordLink.objects.get(object="contacts", salesforce_id=lead).hubspot_id
    assert activities().counts["created_in_hubspot"] == 1
    assert [engagement_get(hs_person, "tasks", t.id, "hs_task_subject")["hs_task_subject"]
            for t in engagements(hs_person, "tasks")] == ["Follow up"]  # fmt: skip
    assert engagement_contacts(hs_person, "tasks", engagements(hs_person, "tasks")[0].id) == [
        contact
    ]
    assert not SyncError.objects.filter(object="activities", resolved_at__isnull=True).exists()


# --- crash safety ---------------------------------------------------------------------------
def task_external_id(emulators) -> None:
    """The org gets ``Task.HubSpot_Id__c``, a unique external id Task creates upsert by."""
    emulators.salesforce.app.run_action(
        "add_field", object="Task", field="HubSpot_Id__c", type="string", length=60,
        external_id=True, unique=True,
    )  # fmt: skip


def cycle_dies_before_its_links(activities, monkeypatch) -> None:
    """A cycle whose worker dies after its creates landed, before their links were stored."""
    revive = crash_on_creates(monkeypatch)
    with pytest.raises(Crash):
        sync_cycle_run(integration=activities.integration, object_name="activities")
    revive()


def test_a_crash_after_creating_tasks_creates_no_duplicate(
    activities, linked_person, hs_person, sf_person, monkeypatch
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, salesforce_tasks=True)
    engagement(hs_person, "calls", contact, hs_call_title="Once")
    revive = crash_on_creates(monkeypatch)
    with pytest.raises(Crash):
        sync_cycle_run(integration=activities.integration, object_name="activities")
    assert len(tasks_of(sf_person, lead)) == 1  # the create landed, its link didn't
    revive()
    run = activities()
    assert run.counts["matched"] == 1 and run.counts["created_in_salesforce"] == 0, run.counts
    assert run.counts["created_in_hubspot"] == 0  # our own Task never comes back
    assert len(tasks_of(sf_person, lead)) == 1
    assert activities.links().count() == 1
    assert activities().counts["created_in_salesforce"] == 0


def test_a_crash_then_an_edit_of_the_activity_makes_no_second_task_and_loses_no_edit(
    activities, linked_person, hs_person, sf_person, monkeypatch
):
    """Without ``HubSpot_Id__c`` the lost Task is found by what was sent, not by the
    activity's values now: edited since, it would no longer match."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="First title")
    cycle_dies_before_its_links(activities, monkeypatch)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Second title"})
    )
    run = activities()
    assert run.counts["matched"] == 1 and run.counts["created_in_salesforce"] == 0, run.counts
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: Second title"]
    assert activities.links().count() == 1
    assert activities().counts["updated_in_salesforce"] == 0  # in step


def test_a_crash_then_an_edit_of_the_task_reaches_the_engagement_found(
    activities, linked_person, hs_person, sf_person, monkeypatch
):
    lead, contact = linked_person
    activities.settings(salesforce_calls=True)
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Rang once", "Status": "Completed",
                                  "TaskSubtype": "Call"})["id"]  # fmt: skip
    cycle_dies_before_its_links(activities, monkeypatch)
    sf_person.Task.update(task, {"Subject": "Rang twice"})
    run = activities()
    assert run.counts["matched"] == 1 and run.counts["created_in_hubspot"] == 0, run.counts
    [call] = engagements(hs_person, "calls")
    assert engagement_get(hs_person, "calls", call.id, "hs_call_title")["hs_call_title"] == (
        "Rang twice"
    )
    assert activities().counts["updated_in_hubspot"] == 0  # in step


def test_a_crash_then_a_cleared_description_clears_the_engagement_found(
    activities, linked_person, hs_person, sf_person, monkeypatch
):
    lead, contact = linked_person
    activities.settings(salesforce_calls=True)
    task = sf_person.Task.create(
        {"WhoId": lead, "Subject": "Rang", "Status": "Completed", "TaskSubtype": "Call",
         "Description": "Left a message"}
    )["id"]  # fmt: skip
    cycle_dies_before_its_links(activities, monkeypatch)
    [call] = engagements(hs_person, "calls")
    body = engagement_get(hs_person, "calls", call.id, "hs_call_body")["hs_call_body"]
    assert body == "Left a message"  # the lost create carried it
    sf_person.Task.update(task, {"Description": None})
    assert activities().counts["matched"] == 1
    assert not engagement_get(hs_person, "calls", call.id, "hs_call_body").get("hs_call_body")


def test_a_crash_then_an_edit_reaches_the_task_found_by_its_external_id(
    activities, linked_person, hs_person, sf_person, emulators, monkeypatch
):
    lead, contact = linked_person
    task_external_id(emulators)
    activities.settings(hubspot_notes=True)
    note = engagement(hs_person, "notes", contact, hs_note_body="Prefers email")
    cycle_dies_before_its_links(activities, monkeypatch)
    hs_person.crm.objects.basic_api.update(
        "notes", note, EngagementUpdate(properties={"hs_note_body": "Prefers phone"})
    )
    assert activities().counts["matched"] == 1
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Note: Prefers phone"]


def test_a_crash_after_creating_engagements_creates_no_duplicate(
    activities, linked_person, hs_person, sf_person, monkeypatch
):
    lead, contact = linked_person
    activities.settings(salesforce_calls=True, hubspot_calls=True)
    sf_person.Task.create({"WhoId": lead, "Subject": "Rang", "Status": "Completed",
                           "TaskSubtype": "Call"})  # fmt: skip
    revive = crash_on_creates(monkeypatch)
    with pytest.raises(Crash):
        sync_cycle_run(integration=activities.integration, object_name="activities")
    assert len(engagements(hs_person, "calls")) == 1
    revive()
    run = activities()
    assert run.counts["matched"] == 1 and run.counts["created_in_hubspot"] == 0, run.counts
    assert run.counts["created_in_salesforce"] == 0  # our own engagement never goes back
    assert len(engagements(hs_person, "calls")) == 1
    assert activities.links().count() == 1


def test_with_an_external_id_on_task_creates_are_upserts_that_survive_a_crash(
    activities, linked_person, hs_person, sf_person, emulators, monkeypatch
):
    lead, contact = linked_person
    task_external_id(emulators)
    activities.settings(hubspot_notes=True, salesforce_tasks=True)
    note = engagement(hs_person, "notes", contact, hs_note_body="Prefers email")
    cycle_dies_before_its_links(activities, monkeypatch)
    run = activities()
    assert run.counts["matched"] == 1 and run.counts["created_in_salesforce"] == 0, run.counts
    assert run.counts["created_in_hubspot"] == 0  # our Task isn't echoed
    tasks = sf_person.query_all(
        f"SELECT Id, Subject, HubSpot_Id__c FROM Task WHERE WhoId = '{lead}'"  # noqa: S608
    )["records"]
    assert [(t["Subject"], t["HubSpot_Id__c"]) for t in tasks] == [
        ("Note: Prefers email", f"notes:{note}")
    ]
    assert activities.link(salesforce_id=tasks[0]["Id"]).hubspot_id == f"notes:{note}"


PADDING = "calls made by others"


def past_retry_ceiling(integration) -> int:
    """Make the Salesforce calls of the last 24 hours 80% of a 100-call allocation (automatic
    retries stop past 75%, spec §3.3); returns the allocation it had."""
    allocation = Integration.objects.get(pk=integration.pk).salesforce_api_allocation
    used = budget_used(integration=integration, system=System.SALESFORCE)
    ApiCall.objects.bulk_create(
        ApiCall(integration=integration, system=System.SALESFORCE, operation=PADDING, status=200)
        for _ in range(80 - used)
    )
    Integration.objects.filter(pk=integration.pk).update(salesforce_api_allocation=100)
    return allocation


def allocation_set(integration, allocation: int) -> None:
    """Back below the retry ceiling."""
    ApiCall.objects.filter(integration=integration, operation=PADDING).delete()
    Integration.objects.filter(pk=integration.pk).update(salesforce_api_allocation=allocation)


def marker(integration) -> dict:
    return SyncCursor.objects.get(integration=integration, stream=INTENT).seen or {}


def test_a_crash_after_a_retry_creates_a_task_no_duplicate_after_a_run_without_retries(
    activities, hs_person, sf_person, integration, monkeypatch
):
    activities.settings(hubspot_calls=True)
    object_settings_update(
        integration=integration, object_name="contacts", changes={"hubspot_creates": "lead"}
    )
    contact = hs_create(hs_person, email="grace@example.com", firstname="Grace", company="Navy",
                        lastname="Hopper")  # fmt: skip
    engagement(hs_person, "calls", contact, hs_call_title="Waiting call")
    assert activities().counts["waiting_for_contact"] == 1
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    activities("contacts")  # the contact syncs (as a lead)
    lead = RecordLink.objects.get(object="contacts", hubspot_id=contact).salesforce_id
    SyncError.objects.filter(pk=error.pk).update(next_retry_at=datetime.now(UTC) - timedelta(1))
    revive = crash_on_creates(monkeypatch)
    with pytest.raises(Crash):  # the retry creates the Task; its link is never stored
        sync_cycle_run(integration=integration, object_name="activities")
    revive()
    assert len(tasks_of(sf_person, lead)) == 1 and marker(integration)
    allocation = past_retry_ceiling(integration)
    run = activities()  # no automatic retries: nobody looks for the Task yet
    assert not run.counts["retried"] and not run.counts["created_in_salesforce"], run.counts
    assert marker(integration)  # kept for the next cycle that retries
    allocation_set(integration, allocation)
    run = activities()
    assert run.counts["retried"] == 1, run.counts
    assert run.counts["matched"] == 1 and run.counts["created_in_salesforce"] == 0, run.counts
    [task] = tasks_of(sf_person, lead)
    assert task["Subject"] == "Call: Waiting call"
    assert activities.link(hubspot_id__startswith="calls:").salesforce_id == task["Id"]
    error.refresh_from_db()
    assert error.resolved_at is not None and marker(integration) == {}
    assert activities().counts["created_in_salesforce"] == 0


def test_a_crash_after_a_retry_creates_an_engagement_no_duplicate_after_a_run_without_retries(
    activities, hs_person, sf_person, integration, monkeypatch
):
    activities.settings(salesforce_calls=True)
    contact_sync = ObjectSync.objects.get(object="contacts")
    contact_sync.enabled = False
    contact_sync.save()
    lead = new_lead(sf_person, FirstName="Ada", LastName="Lovelace", Email="ada@example.com")
    sf_person.Task.create({"WhoId": lead, "Subject": "Rang", "Status": "Completed",
                           "TaskSubtype": "Call"})  # fmt: skip
    assert activities().counts["waiting_for_contact"] == 1
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    contact_sync.enabled = True
    contact_sync.save()
    activities("contacts")  # the lead syncs
    assert RecordLink.objects.filter(object="contacts", salesforce_id=lead).exists()
    SyncError.objects.filter(pk=error.pk).update(next_retry_at=datetime.now(UTC) - timedelta(1))
    revive = crash_on_creates(monkeypatch)
    with pytest.raises(Crash):  # the retry creates the engagement; its link is never stored
        sync_cycle_run(integration=integration, object_name="activities")
    revive()
    assert len(engagements(hs_person, "calls")) == 1 and marker(integration)
    allocation = past_retry_ceiling(integration)
    run = activities()  # no automatic retries
    assert not run.counts["retried"] and not run.counts["created_in_hubspot"], run.counts
    assert marker(integration)
    allocation_set(integration, allocation)
    run = activities()
    assert run.counts["matched"] == 1 and run.counts["created_in_hubspot"] == 0, run.counts
    assert len(engagements(hs_person, "calls")) == 1
    error.refresh_from_db()
    assert error.resolved_at is not None and marker(integration) == {}


def test_a_run_without_retries_clears_the_marker_of_creates_it_read_again(
    activities, linked_person, hs_person, sf_person, integration, monkeypatch
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    engagement(hs_person, "calls", contact, hs_call_title="Once")
    revive = crash_on_creates(monkeypatch)
    with pytest.raises(Crash):  # a create of the change read: read again by every cycle
        sync_cycle_run(integration=integration, object_name="activities")
    revive()
    past_retry_ceiling(integration)
    run = activities()
    assert run.counts["matched"] == 1 and run.counts["created_in_salesforce"] == 0, run.counts
    assert marker(integration) == {}  # the next cycles' creates look for nothing
    assert len(tasks_of(sf_person, lead)) == 1


def test_one_rejected_task_fails_alone_with_a_typed_error_and_resyncs(
    activities, linked_person, hs_person, sf_person, emulators
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    rule = emulators.salesforce.app.run_action(
        "add_validation_rule", object="Task", field="Subject", operator="contains",
        value="forbidden", message="No forbidden calls",
    )  # fmt: skip
    bad = engagement(hs_person, "calls", contact, hs_call_title="A forbidden call")
    engagement(hs_person, "calls", contact, hs_call_title="A fine call")
    run = activities()
    assert run.counts["created_in_salesforce"] == 1 and run.counts["failed"] == 1
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: A fine call"]
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert error.error_type == "salesforce_custom_code"
    assert error.record_key == f"hubspot:calls:{bad}" and error.hubspot_id == bad
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    record_resync(
        integration=activities.integration, object_name="activities", record_key=error.record_key
    )
    run = activities()
    assert run.counts["created_in_salesforce"] == 1
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert len(tasks_of(sf_person, lead)) == 2


def test_everything_is_batched(activities, linked_person, hs_person, sf_person):
    from hubspot.crm.objects import BatchInputSimplePublicObjectBatchInputForCreate as BatchCreate
    from hubspot.crm.objects import SimplePublicObjectBatchInputForCreate as BatchItem

    lead, contact = linked_person
    activities.settings(hubspot_calls=True, salesforce_tasks=True)
    association = [
        {
            "to": {"id": contact},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}],
        }
    ]
    for start in range(0, 250, 100):
        inputs = [
            BatchItem(
                properties={"hs_call_title": f"Call {n}", "hs_timestamp": NOW_MS()},
                associations=association,
            )
            for n in range(start, min(start + 100, 250))
        ]
        hs_person.crm.objects.batch_api.create("calls", BatchCreate(inputs=inputs))
    for start in range(0, 250, 200):
        records = [
            {"attributes": {"type": "Task"}, "WhoId": lead, "Subject": f"Task {n}",
             "Status": "Completed"}
            for n in range(start, min(start + 200, 250))
        ]  # fmt: skip
        sf_person.restful(
            "composite/sobjects", method="POST", json={"allOrNone": False, "records": records}
        )
    run = activities()
    assert run.counts["created_in_salesforce"] == 250 and run.counts["created_in_hubspot"] == 250
    calls = ApiCall.objects.filter(
        integration=activities.integration, called_at__gte=run.started_at
    )
    operations = [c.operation for c in calls]
    assert operations.count("collections.create") == 2  # 200 per call
    assert operations.count("tasks.batch.create") == 3  # 100 per call, associations inline
    # Salesforce: one composite change read, two collections, two describes (first cycle),
    # and the users once (the owner directory: the Tasks' owners, both ways).
    assert run.calls[System.SALESFORCE] == 6, sorted(operations)
    # HubSpot: two search pages, an association read per page, three batch creates, the
    # key property created once and the owners once.
    assert run.calls[System.HUBSPOT] == 9, sorted(operations)


def test_activities_run_in_a_cycle_over_every_pair(activities, linked_person, sf_person, hs_person):
    from sync_engine.sync.cycle import sync_cycles_run

    lead, contact = linked_person
    activities.settings(salesforce_tasks=True, salesforce_meetings=True)
    sf_person.Task.create({"WhoId": lead, "Subject": "Probe me", "Status": "Completed"})
    runs = sync_cycles_run(integration=activities.integration)
    by_name = {r.object: r for r in runs}
    assert by_name["activities"].counts.get("created_in_hubspot") == 1
    runs = sync_cycles_run(integration=activities.integration)
    assert all(r.status == "succeeded" for r in runs), [(r.object, r.message) for r in runs]
    idle = {r.object: r for r in runs}["activities"].counts
    assert not idle.get("created_in_hubspot") and not idle.get("updated_in_hubspot"), idle
    assert len(engagements(hs_person, "tasks")) == 1


def test_tasks_automation_creates_as_the_integration_user_still_sync(
    activities, linked_person, hs_person, emulators, integration
):
    from emulators.testing import salesforce_client

    lead, contact = linked_person
    activities.settings(salesforce_tasks=True)
    as_integration = salesforce_client(
        emulators, token=integration.salesforce_connection.access_token
    )
    as_integration.Task.create({"WhoId": lead, "Subject": "Welcome call", "Status": "Completed"})
    # Looks like one of our copies, but no create of ours is pending (every copy is linked):
    # it is the user's own, and syncs too (see test_activities_hunt6).
    as_integration.Task.create({"WhoId": lead, "Subject": "Call: Intro", "Status": "Completed"})
    run = activities()
    assert run.counts["created_in_hubspot"] == 2 and not run.counts["skipped_own"], run.counts
    subjects = [
        engagement_get(hs_person, "tasks", t.id, "hs_task_subject")["hs_task_subject"]
        for t in engagements(hs_person, "tasks")
    ]
    assert sorted(subjects) == ["Call: Intro", "Welcome call"]


# --- lost in transit ---------------------------------------------------------------------
def test_a_failed_engagement_create_is_retried_on_the_next_cycle(
    activities,
    linked_person,
    hs_person,
    sf_person,
    emulators,
):
    lead, _contact = linked_person
    activities.settings(**ALL_SALESFORCE)
    sf_person.Task.create({"WhoId": lead, "Subject": "Follow up", "Status": "Not Started"})
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/tasks/batch/create$", error_code="SERVICE_UNAVAILABLE", times=1
    )
    from sync_engine.sync.cycle import sync_cycle_run

    first = sync_cycle_run(integration=activities.integration, object_name="activities")
    assert first.status == "failed" or first.counts.get("failed") == 1, first.counts
    second = activities()
    assert second.counts.get("created_in_hubspot") == 1, second.counts
    assert len(engagements(hs_person, "tasks")) == 1
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize(
    "fault",
    [
        {"drop": True},
        {"drop": True, "apply_then_fail": True},
        {"error_code": "BAD_GATEWAY", "apply_then_fail": True},
        {"error_code": "RATE_LIMIT"},
    ],
)
def test_an_engagement_create_lost_in_transit_lands_exactly_once(
    activities,
    linked_person,
    hs_person,
    sf_person,
    emulators,
    fault,
):
    from sync_engine.sync.cycle import sync_cycle_run

    lead, _contact = linked_person
    activities.settings(**ALL_SALESFORCE)
    for n in range(3):
        sf_person.Task.create({"WhoId": lead, "Subject": f"Follow up {n}", "Status": "Not Started"})
    emulators.hubspot.app.faults.add(path=r"^/crm/v3/objects/tasks/batch/create$", times=1, **fault)
    sync_cycle_run(integration=activities.integration, object_name="activities")
    for _ in range(3):
        sync_cycle_run(integration=activities.integration, object_name="activities")
    assert len(engagements(hs_person, "tasks")) == 3
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


# --- found by an admin's day to day -----------------------------------------------------------
def test_an_all_day_salesforce_event_is_a_meeting_on_that_day_in_the_accounts_time_zone(
    new_york, activities, linked_person, hs_person, sf_person
):
    """Salesforce stores an all-day event at midnight UTC: in New York that is the evening
    before. HubSpot must show the meeting on the day the event is on."""
    lead, contact = linked_person
    activities.settings(salesforce_meetings=True)
    event = sf_person.Event.create({"WhoId": lead, "Subject": "Trade fair", "IsAllDayEvent": True,
                                    "ActivityDate": "2026-03-04"})["id"]  # fmt: skip
    assert activities().counts["created_in_hubspot"] == 1
    meeting = activities.link(salesforce_id=event).hubspot_id.split(":")[1]
    props = engagement_get(hs_person, "meetings", meeting, "hs_timestamp",
                           "hs_meeting_start_time", "hs_meeting_end_time")  # fmt: skip
    start = parse_time(props["hs_meeting_start_time"]).astimezone(NEW_YORK)
    assert start.date() == date(2026, 3, 4), start
    assert parse_time(props["hs_timestamp"]).astimezone(NEW_YORK).date() == date(2026, 3, 4)
    end = parse_time(props["hs_meeting_end_time"]).astimezone(NEW_YORK)
    assert start < end <= datetime(2026, 3, 5, tzinfo=NEW_YORK), end
    run = activities()
    assert run.counts["updated_in_hubspot"] == 0 and run.counts["created_in_hubspot"] == 0


def test_an_html_email_reads_as_text_in_salesforce(activities, linked_person, hs_person, sf_person):
    """An email logged with only its HTML (as mail clients send it): the Task's comments are
    its text, without the style sheet, the page title or the script, and with table rows,
    cells and headings apart."""
    lead, contact = linked_person
    activities.settings(hubspot_emails=True, hubspot_notes=True)
    mail = (
        "<html><head><title>Newsletter</title><style>p { color: red; }</style></head><body>"
        "<!-- tracking --><h2>Your quote</h2><p>Hello Ada,</p>"
        "<table><tr><td>Seats</td><td>9</td></tr><tr><td>Total</td><td>€900</td></tr></table>"
        "<script>track()</script></body></html>"
    )
    engagement(hs_person, "emails", contact, hs_email_subject="Quote", hs_email_html=mail,
               hs_email_direction="EMAIL")  # fmt: skip
    engagement(hs_person, "notes", contact, hs_note_body="<h3>Visit</h3>Liked the demo")
    assert activities().counts["created_in_salesforce"] == 2
    bodies = {t["Subject"]: t["Description"] for t in tasks_of(sf_person, lead)}
    assert bodies["Email: Quote"] == "Your quote\nHello Ada,\nSeats 9\nTotal €900"
    assert bodies["Note: Visit Liked the demo"] == "Visit\nLiked the demo"


def test_a_waiting_activity_of_a_type_turned_off_stops_waiting(
    activities, hs_person, sf_person, integration
):
    """A Salesforce task waits for its lead; the admin turns Salesforce tasks off. The error
    ends at its next retry (the task no longer syncs) instead of being read again and left
    open every cycle."""
    activities.settings(salesforce_tasks=True)
    contact_sync = ObjectSync.objects.get(object="contacts")
    contact_sync.enabled = False
    contact_sync.save()
    lead = new_lead(sf_person, Email="unsynced@example.com")
    sf_person.Task.create({"WhoId": lead, "Subject": "Call them", "Status": "Completed"})
    assert activities().counts["waiting_for_contact"] == 1
    activities.settings(salesforce_tasks=False, salesforce_calls=True)
    SyncError.objects.filter(object="activities").update(
        next_retry_at=datetime.now(UTC) - timedelta(1)
    )
    activities()
    assert not SyncError.objects.filter(object="activities", resolved_at__isnull=True).exists()
    # The record's history says why: it no longer syncs, not that it synced.
    assert SyncError.objects.get(object="activities").ended_because == "not_syncing"
    run = activities()
    reads = ApiCall.objects.filter(system=System.SALESFORCE, called_at__gte=run.started_at)
    assert reads.count() == 1, list(reads.values_list("operation", flat=True))  # changes only
    assert not RecordLink.objects.filter(object="activities").exists()


def test_a_waiting_hubspot_activity_of_a_type_turned_off_stops_waiting(
    activities, hs_person, integration
):
    activities.settings(hubspot_calls=True)
    contact = hs_create(hs_person, email="grace@example.com", lastname="Hopper")
    engagement(hs_person, "calls", contact, hs_call_title="Waiting call")
    assert activities().counts["waiting_for_contact"] == 1
    activities.settings(hubspot_calls=False, hubspot_notes=True)
    SyncError.objects.filter(object="activities").update(
        next_retry_at=datetime.now(UTC) - timedelta(1)
    )
    activities()
    assert not SyncError.objects.filter(object="activities", resolved_at__isnull=True).exists()
    # The record's history says why: it no longer syncs, not that it synced.
    assert SyncError.objects.get(object="activities").ended_because == "not_syncing"


def test_a_waiting_hubspot_activity_deleted_in_hubspot_says_so(activities, hs_person, integration):
    """A HubSpot call waits for its contact, then is deleted in HubSpot: its retry finds it
    gone, and its history says it went from HubSpot (not a Salesforce delete)."""
    activities.settings(hubspot_calls=True)
    contact = hs_create(hs_person, email="ada@example.com", lastname="Lovelace")
    call = engagement(hs_person, "calls", contact, hs_call_title="Gone call")
    assert activities().counts["waiting_for_contact"] == 1
    hs_person.crm.objects.basic_api.archive("calls", call)
    due_now(SyncError.objects.get(object="activities"))
    activities()
    error = SyncError.objects.get(object="activities")
    assert error.resolved_at is not None
    assert error.ended_because == "gone_from_hubspot"


def test_a_lead_converted_after_its_tasks_synced_duplicates_nothing(
    activities, linked_person, hs_person, sf_person, emulators
):
    """Converting a lead moves its Tasks to the new contact (Salesforce reparents them, which
    edits them): the engagements aren't copied again, the HubSpot call's Task is updated in
    place, and new activities go on the contact."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, salesforce_tasks=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro call")
    sf_person.Task.create({"WhoId": lead, "Subject": "Follow up", "Status": "Not Started"})
    run = activities()
    assert run.counts["created_in_salesforce"] == 1 and run.counts["created_in_hubspot"] == 1
    converted = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=lead, create_opportunity=False
    )["contact_id"]
    assert tasks_of(sf_person, lead) == []  # convertLead moved them to the contact
    activities("contacts")
    run = activities()
    assert run.counts["created_in_hubspot"] == 0 and run.counts["failed"] == 0, run.counts
    assert run.counts["created_in_salesforce"] == 0, run.counts
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro call (notes)"})
    )
    engagement(hs_person, "calls", contact, hs_call_title="After conversion")
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1 and run.counts["created_in_salesforce"] == 1
    subjects = sorted(t["Subject"] for t in tasks_of(sf_person, converted))
    assert subjects == ["Call: After conversion", "Call: Intro call (notes)", "Follow up"]
    assert len(engagements(hs_person, "tasks")) == 1
    assert_idle(activities)


def test_a_salesforce_task_without_a_subject_or_date_still_syncs(
    activities, linked_person, hs_person, sf_person
):
    lead, contact = linked_person
    activities.settings(salesforce_tasks=True, salesforce_meetings=True)
    sf_person.Task.create({"WhoId": lead, "Status": "Not Started"})
    run = activities()
    assert run.counts["created_in_hubspot"] == 1 and run.counts["failed"] == 0, run.counts
    assert_idle(activities)


def test_a_call_moved_to_another_contact_moves_its_task_when_next_edited(
    activities, linked_person, hs_person, sf_person
):
    """A call logged on the wrong contact, then moved to the right one in HubSpot and edited:
    its Task moves to that contact's lead (HubSpot, the call's origin, says who it is on)."""
    lead, contact = linked_person
    other_lead = new_lead(sf_person, FirstName="Grace", LastName="Hopper",
                          Email="grace@example.com")  # fmt: skip
    activities("contacts")
    other = RecordLink.objects.get(object="contacts", salesforce_id=other_lead).hubspot_id
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro call")
    assert activities().counts["created_in_salesforce"] == 1
    associations = hs_person.crm.associations.v4.basic_api
    associations.archive("calls", call, "contacts", contact)
    associations.create_default("calls", call, "contacts", other)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_body": "Spoke to Grace"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1 and run.counts["created_in_salesforce"] == 0
    assert tasks_of(sf_person, lead) == []
    [task] = tasks_of(sf_person, other_lead)
    assert (task["Subject"], task["Description"]) == ("Call: Intro call", "Spoke to Grace")
    assert_idle(activities)


def test_a_salesforce_task_moved_to_another_person_moves_its_engagement(
    activities, linked_person, hs_person, sf_person, emulators
):
    """A Task logged on the wrong lead, then given the right Name in Salesforce: its HubSpot
    task leaves the first contact for the second (Salesforce, its origin, says who it is on).
    Converting the lead later moves the Task to the contact, the same HubSpot contact: no
    move, and nothing is written."""
    lead, contact = linked_person
    other_lead = new_lead(sf_person, FirstName="Grace", LastName="Hopper",
                          Email="grace@example.com")  # fmt: skip
    activities("contacts")
    other = RecordLink.objects.get(object="contacts", salesforce_id=other_lead).hubspot_id
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Send quote", "Status": "Not Started"})
    assert activities().counts["created_in_hubspot"] == 1
    [copy] = engagements(hs_person, "tasks")
    assert engagement_contacts(hs_person, "tasks", copy.id) == [contact]

    sf_person.Task.update(task["id"], {"WhoId": other_lead})
    run = activities()
    assert run.counts["moved_in_hubspot"] == 1 and not run.counts.get("failed"), run.counts
    assert engagement_contacts(hs_person, "tasks", copy.id) == [other]
    assert len(engagements(hs_person, "tasks")) == 1
    assert_idle(activities)

    converted = emulators.salesforce.app.run_action(
        "convert_lead", lead_id=other_lead, create_opportunity=False
    )["contact_id"]
    activities("contacts")
    assert RecordLink.objects.get(object="contacts", hubspot_id=other).salesforce_id == converted
    run = activities()
    assert not run.counts.get("moved_in_hubspot") and not run.counts.get("failed"), run.counts
    assert engagement_contacts(hs_person, "tasks", copy.id) == [other]
