"""Activities ⇄ tasks (spec §13) as a demanding admin uses them: every type on, both ways.

Moves of a Salesforce activity's Name and Related To, several contacts on one HubSpot
activity, two-way edits on both sides in one cycle, records deleted on the other side,
long and non-ASCII text, lost answers and toggles switched off and on."""

from __future__ import annotations

import pytest
from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycle_run, sync_cycles_run

from . import test_activities
from .helpers import deal_sync_on, hs_create, hs_update, new_lead
from .test_activities import (
    ALL_HUBSPOT,
    ALL_SALESFORCE,
    BOTH_WAYS,
    assert_idle,
    copied_task,
    engagement,
    engagement_contacts,
    engagement_get,
    engagements,
    tasks_of,
)

# The fixtures of the activities scenarios.
activities = test_activities.activities
linked_person = test_activities.linked_person


def copy_of(activities, salesforce_id: str) -> str:
    return activities.link(salesforce_id=salesforce_id).hubspot_id.split(":")[1]


def companies_on(integration) -> None:
    object_settings_update(integration=integration, object_name="companies", changes={},
                           enabled=True)  # fmt: skip


def open_errors() -> list[tuple[str, str]]:
    return list(
        SyncError.objects.filter(resolved_at__isnull=True).values_list("error_type", "message")
    )


# --- HubSpot → Salesforce -----------------------------------------------------------------
def test_a_call_with_two_contacts_keeps_its_task_when_the_other_contact_syncs_later(
    activities, hs_person, sf_person
):
    """A call logged with Ada and Grace, whose contact has no email yet (so it doesn't sync):
    its Task goes on Ada's lead. Grace gets an email and syncs. The call's next edit updates
    the Task where it is: the call is still on Ada. (It used to move the Task to Grace, whose
    contact id is lower, taking the call out of Ada's activity history.)"""
    grace = hs_create(hs_person, lastname="Hopper", company="Navy")
    ada_lead = new_lead(sf_person, FirstName="Ada", LastName="Lovelace", Email="ada@example.com")
    activities("contacts")
    ada = RecordLink.objects.get(object="contacts", salesforce_id=ada_lead).hubspot_id
    assert int(grace) < int(ada)
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", ada, hs_call_title="Group call")
    hs_person.crm.associations.v4.basic_api.create_default("calls", call, "contacts", grace)
    assert activities().counts["created_in_salesforce"] == 1
    hs_update(hs_person, grace, email="grace@example.com")
    activities("contacts")
    grace_lead = RecordLink.objects.get(object="contacts", hubspot_id=grace).salesforce_id
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_body": "Both came"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1, run.counts
    [task] = tasks_of(sf_person, ada_lead)
    assert (task["Subject"], task["Description"]) == ("Call: Group call", "Both came")
    assert tasks_of(sf_person, grace_lead) == []
    assert_idle(activities)


def test_long_and_non_ascii_text_fits_salesforce_and_settles(
    activities, linked_person, hs_person, sf_person
):
    """Salesforce keeps 255 characters of a Subject and 32,000 of a Description; HubSpot's
    titles and bodies are longer. A long call arrives cut to fit, accents and emoji intact;
    a long subject given a Salesforce task's copy in HubSpot (two-way tasks) goes back cut
    to fit. Neither side is written again afterwards (no ping-pong over the cut-off part)."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, **BOTH_WAYS)
    title = "Überraschung 🎉 " + "é" * 300
    body = "<p>Grüße aus Zürich 🇨🇭</p>" + "ü" * 40000
    engagement(hs_person, "calls", contact, hs_call_title=title, hs_call_body=body)
    origin, copy = copied_task(
        activities, sf_person, lead, Subject="Kurz", ActivityDate="2026-05-06"
    )
    [call_task] = [t for t in tasks_of(sf_person, lead) if t["TaskSubtype"] == "Call"]
    assert call_task["Subject"] == f"Call: {title}"[:255]
    assert call_task["Description"] == ("Grüße aus Zürich 🇨🇭\n" + "ü" * 40000)[:32000]
    assert_idle(activities)
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_subject": title})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1 and not run.counts["failed"], run.counts
    assert sf_person.Task.get(origin)["Subject"] == title[:255]
    assert_idle(activities)
    assert not open_errors()


def test_a_type_switched_off_and_on_again_backfills_nothing_and_duplicates_nothing(
    activities, linked_person, hs_person, sf_person
):
    """A call synced, calls switched off, the call edited, calls switched on again: the edit
    made while off doesn't sync (no backfill); the call's next edit updates its Task, the
    one it had (no second Task)."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro")
    assert activities().counts["created_in_salesforce"] == 1
    activities.settings(hubspot_calls=False, hubspot_notes=True)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro (while off)"})
    )
    activities()
    activities.settings(hubspot_calls=True)
    assert_idle(activities)
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: Intro"]
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Intro (on again)"})
    )
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1 and not run.counts["created_in_salesforce"]
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: Intro (on again)"]


@pytest.mark.parametrize(
    "fault",
    [
        {"drop": True, "apply_then_fail": True},
        {"error_code": "SERVER_UNAVAILABLE", "apply_then_fail": True},
    ],
)
def test_a_task_create_whose_answer_is_lost_lands_exactly_once(
    activities, linked_person, hs_person, sf_person, emulators, fault
):
    """Salesforce creates the Tasks but the answer never arrives (the connection drops, or a
    503 after the work was done). The next cycle finds them, even three calls alike (no
    title, same day, same lead), and creates nothing more."""
    lead, contact = linked_person
    activities.settings(hubspot_calls=True, salesforce_tasks=True)
    for _ in range(3):
        engagement(hs_person, "calls", contact)
    emulators.salesforce.app.faults.add(
        path=r"/composite/sobjects$", method="POST", times=1, **fault
    )
    run = sync_cycle_run(integration=activities.integration, object_name="activities")
    assert run.status == "failed" and len(tasks_of(sf_person, lead)) == 3
    run = activities()
    assert run.counts["matched"] == 3 and not run.counts["created_in_salesforce"], run.counts
    assert not run.counts["created_in_hubspot"]  # our own Tasks never come back
    assert [t["Subject"] for t in tasks_of(sf_person, lead)] == ["Call: (no title)"] * 3
    assert len({link.salesforce_id for link in activities.links()}) == 3
    assert_idle(activities)


# --- two-way tasks ------------------------------------------------------------------------
def test_edits_on_both_sides_of_a_two_way_task_in_one_cycle_keep_both(
    activities, linked_person, hs_person, sf_person
):
    """Between two cycles the rep renames the Task in Salesforce and rewrites its comments,
    while a colleague completes the task in HubSpot and rewrites its notes. Both edits stay:
    Salesforce's subject, HubSpot's status, and for the field both changed HubSpot's value."""
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    task = engagement(hs_person, "tasks", contact, hs_task_subject="Send quote",
                      hs_task_status="NOT_STARTED", hs_task_body="Nine seats")  # fmt: skip
    activities()
    copy = activities.link(hubspot_id=f"tasks:{task}").salesforce_id
    sf_person.Task.update(copy, {"Subject": "Task: Send the quote", "Description": "Ten seats"})
    hs_person.crm.objects.basic_api.update(
        "tasks", task, EngagementUpdate(properties={"hs_task_status": "COMPLETED",
                                                    "hs_task_body": "Eleven seats"})
    )  # fmt: skip
    run = activities()
    assert run.counts["updated_in_salesforce"] == 1 and run.counts["updated_in_hubspot"] == 1
    hubspot = engagement_get(hs_person, "tasks", task, "hs_task_subject", "hs_task_status",
                             "hs_task_body")  # fmt: skip
    assert (hubspot["hs_task_subject"], hubspot["hs_task_status"], hubspot["hs_task_body"]) == (
        "Send the quote", "COMPLETED", "Eleven seats"
    )  # fmt: skip
    [salesforce] = tasks_of(sf_person, lead)
    assert (salesforce["Subject"], salesforce["Status"], salesforce["Description"]) == (
        "Task: Send the quote", "Completed", "Eleven seats"
    )  # fmt: skip
    assert_idle(activities)


def test_a_salesforce_task_without_a_due_date_completed_in_hubspot_gets_no_due_date(
    activities, linked_person, hs_person, sf_person
):
    """A Salesforce task with no due date shows in HubSpot on the day it was made (a HubSpot
    task always has a date). With two-way tasks, nobody having changed that date, the Task
    keeps having none, also once ticked done in HubSpot. (The next cycle used to read the new
    copy's date as an edit and give the Task that day as due date.)"""
    lead, contact = linked_person
    activities.settings(**BOTH_WAYS)
    origin, copy = copied_task(activities, sf_person, lead, Subject="Someday")
    assert_idle(activities)
    assert sf_person.Task.get(origin)["ActivityDate"] is None
    hs_person.crm.objects.basic_api.update(
        "tasks", copy, EngagementUpdate(properties={"hs_task_status": "COMPLETED"})
    )
    assert activities().counts["updated_in_salesforce"] == 1
    task = sf_person.Task.get(origin)
    assert (task["Status"], task["ActivityDate"]) == ("Completed", None)
    assert_idle(activities)


# --- Salesforce → HubSpot: who and what an activity is on --------------------------------
def test_a_task_moved_to_another_person_after_its_engagement_was_deleted_is_copied_again(
    activities, linked_person, hs_person, sf_person
):
    """The HubSpot copy of a Task is deleted; then the Task is given another Name, nothing
    else. Like any edit of a Task whose copy is gone, it is copied again, onto the new
    person's contact, without an error. (It used to fail for ever: the engagement to move
    was gone.)"""
    lead, contact = linked_person
    grace = new_lead(sf_person, FirstName="Grace", LastName="Hopper", Email="grace@example.com")
    activities("contacts")
    grace_contact = RecordLink.objects.get(object="contacts", salesforce_id=grace).hubspot_id
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Send quote"})["id"]
    activities()
    gone = copy_of(activities, task)
    hs_person.crm.objects.basic_api.archive("tasks", gone)
    sf_person.Task.update(task, {"WhoId": grace})
    run = activities()
    assert run.counts["created_in_hubspot"] == 1 and not run.counts["failed"], run.counts
    [again] = engagements(hs_person, "tasks")
    assert again.id != gone and copy_of(activities, task) == again.id
    assert engagement_contacts(hs_person, "tasks", again.id) == [grace_contact]
    assert not open_errors()
    assert_idle(activities)


def person_on_a_synced_account(activities, sf_person, integration, name: str):
    """Company sync on; an account ``name`` and a contact on it, both synced: (account,
    contact, their HubSpot contact, their HubSpot company)."""
    companies_on(integration)
    account = sf_person.Account.create({"Name": name})["id"]
    person = sf_person.Contact.create({"LastName": "Ng", "Email": "ng@example.com",
                                       "AccountId": account})["id"]  # fmt: skip
    activities("contacts")
    activities("companies")
    contact = RecordLink.objects.get(object="contacts", salesforce_id=person).hubspot_id
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    return account, person, contact, company


def test_a_task_on_an_account_alone_given_a_name_later_goes_on_that_contact_too(
    activities, hs_person, sf_person, integration
):
    """A Task related to a synced account and to no person is on the account's company
    alone. Given a Name later, its engagement goes on that person's contact too. (It used to
    stay on the company alone: only a Name changed from one person to another moved it.)"""
    account, person, contact, company = person_on_a_synced_account(
        activities, sf_person, integration, "Related Co"
    )
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhatId": account, "Subject": "Account review"})["id"]
    assert activities().counts["created_in_hubspot"] == 1
    sf_person.Task.update(task, {"WhoId": person})
    run = activities()
    assert run.counts["moved_in_hubspot"] == 1 and not run.counts["failed"], run.counts
    copy = copy_of(activities, task)
    assert engagement_contacts(hs_person, "tasks", copy, "contacts") == [contact]
    assert engagement_contacts(hs_person, "tasks", copy, "companies") == [company]
    assert_idle(activities)


def test_a_tasks_related_to_follows_it_to_the_company_then_the_deal(
    activities, hs_person, sf_person, integration, emulators
):
    """Spec §13: Related To comes across, and the Task's origin, Salesforce, owns it. A task
    related to an account whose company doesn't exist yet goes on its contact alone; once the
    company exists, the Task's next edit puts it on the company too; related to an
    opportunity instead, it leaves the company for the opportunity's deal. (The related
    record used to be set only when the engagement was created.)"""
    account = sf_person.Account.create({"Name": "Later Co"})["id"]
    person = sf_person.Contact.create({"LastName": "Ng", "Email": "ng@example.com",
                                       "AccountId": account})["id"]  # fmt: skip
    activities("contacts")
    contact = RecordLink.objects.get(object="contacts", salesforce_id=person).hubspot_id
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhoId": person, "WhatId": account, "Subject": "Quote"})["id"]
    assert activities().counts["created_in_hubspot"] == 1
    copy = copy_of(activities, task)
    assert engagement_contacts(hs_person, "tasks", copy, "companies") == []
    companies_on(integration)
    activities("companies")
    company = RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id
    sf_person.Task.update(task, {"Description": "Nine seats"})
    run = activities()
    assert run.counts["updated_in_hubspot"] == 1 and run.counts["moved_in_hubspot"] == 1
    assert engagement_contacts(hs_person, "tasks", copy, "companies") == [company]
    assert_idle(activities)

    opportunity = sf_person.Opportunity.create({"Name": "Nine seats", "AccountId": account,
                                                "StageName": "Prospecting",
                                                "CloseDate": "2026-06-30"})["id"]  # fmt: skip
    deal_sync_on(integration, emulators)
    activities("deals")
    deal = RecordLink.objects.get(object="deals", salesforce_id=opportunity).hubspot_id
    sf_person.Task.update(task, {"WhatId": opportunity})
    run = activities()
    assert run.counts["moved_in_hubspot"] == 1 and not run.counts["failed"], run.counts
    assert engagement_contacts(hs_person, "tasks", copy, "deals") == [deal]
    assert engagement_contacts(hs_person, "tasks", copy, "companies") == []
    assert engagement_contacts(hs_person, "tasks", copy, "contacts") == [contact]
    assert len(engagements(hs_person, "tasks")) == 1
    assert_idle(activities)


def test_a_lead_converted_with_an_opportunity_puts_its_tasks_on_the_deal_too(
    activities, linked_person, hs_person, sf_person, integration, emulators
):
    """Converting a lead with a new opportunity moves its Tasks to the new contact and relates
    them to the opportunity. In HubSpot the task stays on the same contact (no duplicate, no
    move) and goes on the opportunity's deal as well."""
    lead, contact = linked_person
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhoId": lead, "Subject": "Send quote"})["id"]
    assert activities().counts["created_in_hubspot"] == 1
    copy = copy_of(activities, task)
    converted = emulators.salesforce.app.run_action("convert_lead", lead_id=lead)
    companies_on(integration)
    deal_sync_on(integration, emulators)
    runs = {run.object: run for run in sync_cycles_run(integration=integration)}
    assert all(run.status == "succeeded" for run in runs.values())
    deal = RecordLink.objects.get(
        object="deals", salesforce_id=converted["opportunity_id"]
    ).hubspot_id
    assert not runs["activities"].counts.get("failed"), runs["activities"].counts
    assert engagement_contacts(hs_person, "tasks", copy, "contacts") == [contact]
    assert engagement_contacts(hs_person, "tasks", copy, "deals") == [deal]
    assert len(engagements(hs_person, "tasks")) == 1
    assert_idle(activities)


def test_a_task_related_to_a_company_deleted_in_hubspot_still_goes_on_its_contact(
    activities, hs_person, sf_person, integration
):
    """A company is deleted in HubSpot; its account stays (HubSpot deletes never change
    Salesforce) and the company sync retires its link only when the account next changes.
    A new Task on one of its contacts, related to the account, goes on the contact; one
    related to the account alone has nowhere to go and is skipped, as one on a record that
    doesn't sync. (Both used to fail, for ever, with "company … does not exist".)"""
    account, person, contact, company = person_on_a_synced_account(
        activities, sf_person, integration, "Gone Co"
    )
    hs_person.crm.companies.basic_api.archive(company)
    activities("companies")
    activities.settings(salesforce_tasks=True)
    task = sf_person.Task.create({"WhoId": person, "WhatId": account, "Subject": "Both"})["id"]
    sf_person.Task.create({"WhatId": account, "Subject": "Account only"})
    run = activities()
    assert run.counts["created_in_hubspot"] == 1 and run.counts["skipped_no_contact"] == 1
    assert not run.counts["failed"] and not open_errors(), open_errors()
    copy = copy_of(activities, task)
    assert engagement_contacts(hs_person, "tasks", copy, "contacts") == [contact]
    assert not RecordLink.objects.filter(object="companies", hubspot_id=company).exists()
    assert_idle(activities)


def test_every_type_both_ways_settles_after_one_cycle(
    activities, linked_person, hs_person, sf_person
):
    """Every toggle on: each HubSpot type becomes one Task, each Salesforce Task and Event
    one engagement, none comes back as a copy of a copy, and the next cycle writes nothing."""
    lead, contact = linked_person
    activities.settings(**ALL_HUBSPOT, **ALL_SALESFORCE)
    for kind, title in (
        ("calls", "hs_call_title"),
        ("emails", "hs_email_subject"),
        ("meetings", "hs_meeting_title"),
        ("tasks", "hs_task_subject"),
    ):
        engagement(hs_person, kind, contact, **{title: f"HubSpot {kind}"})  # fmt: skip
    engagement(hs_person, "notes", contact, hs_note_body="HubSpot note")
    for subtype in ("Task", "Call", "Email"):
        sf_person.Task.create({"WhoId": lead, "Subject": f"Salesforce {subtype}",
                               "TaskSubtype": subtype, "Status": "Completed"})  # fmt: skip
    sf_person.Event.create({"WhoId": lead, "Subject": "Salesforce event",
                            "StartDateTime": "2026-05-07T12:00:00.000+0000",
                            "EndDateTime": "2026-05-07T13:00:00.000+0000"})  # fmt: skip
    run = activities()
    assert run.counts["created_in_salesforce"] == 5 and run.counts["created_in_hubspot"] == 4
    assert not run.counts["failed"], open_errors()
    assert len(tasks_of(sf_person, lead)) == 8
    assert sum(len(engagements(hs_person, k)) for k in ("calls", "emails", "meetings",
                                                          "tasks", "notes")) == 9  # fmt: skip
    assert_idle(activities)
