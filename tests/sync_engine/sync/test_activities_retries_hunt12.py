"""Activities changed again while their previous write failed and waits for its retry: the
newer values win, the retry never sends the older ones, and no copy is made twice."""

from __future__ import annotations

import pytest
from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from emulators.testing import advance_clocks
from sync_engine.sync.cycle import sync_cycle_run

from . import test_activities
from .helpers import all_due, open_errors
from .test_activities import (
    assert_idle,
    copied_task,
    engagement,
    engagement_get,
    engagements,
    tasks_of,
)

activities = test_activities.activities
linked_person = test_activities.linked_person


def refuse_subjects_saying(emulators, word: str) -> str:
    return emulators.salesforce.app.run_action(
        "add_validation_rule", object="Task", field="Subject", operator="contains",
        value=word, message=f"No {word} tasks",
    )  # fmt: skip


@pytest.mark.parametrize("rule_stays", [True, False])
def test_a_refused_call_edit_overtaken_by_a_newer_one_is_not_resent(
    activities, linked_person, hs_person, sf_person, emulators, rule_stays
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    call = engagement(hs_person, "calls", contact, hs_call_title="Intro")
    activities()
    rule = refuse_subjects_saying(emulators, "Blocked")
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Blocked intro"})
    )
    activities()
    assert [e[1] for e in open_errors()] == [f"hubspot:calls:{call}"], open_errors()
    advance_clocks(emulators, 5)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Fine intro"})
    )
    if not rule_stays:
        emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    all_due()
    activities()
    all_due()
    activities()
    [task] = tasks_of(sf_person, lead)
    assert task["Subject"] == "Call: Fine intro"
    assert not open_errors(), open_errors()
    assert_idle(activities)


def test_a_task_edit_hubspot_refused_overtaken_by_a_newer_one_is_not_resent(
    activities, linked_person, hs_person, sf_person, emulators
):
    lead, contact = linked_person
    activities.settings(salesforce_tasks=True)
    origin, copy = copied_task(activities, sf_person, lead, Subject="First")
    advance_clocks(emulators, 60)
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/tasks/batch/update$", status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Refused"},
        times=1,
    )  # fmt: skip
    sf_person.Task.update(origin, {"Subject": "Second"})
    activities()
    assert [e[1] for e in open_errors()] == [f"salesforce:{origin}"], open_errors()
    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"Subject": "Third"})
    all_due()
    activities()
    all_due()
    activities()
    assert engagement_get(hs_person, "tasks", copy, "hs_task_subject")["hs_task_subject"] == (
        "Third"
    )
    assert [e.id for e in engagements(hs_person, "tasks")] == [copy]
    assert not open_errors(), open_errors()
    assert_idle(activities)


@pytest.mark.parametrize("fault", [{"status": 400}, {"drop": True, "apply_then_fail": True}])
def test_a_task_whose_engagement_create_failed_and_was_edited_since_has_one_copy(
    activities, linked_person, hs_person, sf_person, emulators, fault
):
    lead, contact = linked_person
    activities.settings(salesforce_tasks=True)
    origin = sf_person.Task.create({"WhoId": lead, "Subject": "First", "Status": "Not Started"})[
        "id"
    ]
    emulators.hubspot.app.faults.add(path=r"^/crm/v3/objects/tasks/batch/create$", times=1, **fault)
    sync_cycle_run(integration=activities.integration, object_name="activities")
    advance_clocks(emulators, 60)
    sf_person.Task.update(origin, {"Subject": "Second"})
    all_due()
    activities()
    activities()
    [copy] = engagements(hs_person, "tasks")
    assert engagement_get(hs_person, "tasks", copy.id, "hs_task_subject")["hs_task_subject"] == (
        "Second"
    )
    assert not open_errors(), open_errors()
    assert_idle(activities)


@pytest.mark.parametrize("fault", ["refused", "lost"])
def test_a_call_whose_task_create_failed_and_was_edited_since_has_one_task(
    activities, linked_person, hs_person, sf_person, emulators, fault
):
    lead, contact = linked_person
    activities.settings(hubspot_calls=True)
    if fault == "refused":
        rule = refuse_subjects_saying(emulators, "Blocked")
    else:
        emulators.salesforce.app.faults.add(
            path="/composite/sobjects$", method="POST", apply_then_fail=True, drop=True, times=1
        )
    call = engagement(hs_person, "calls", contact, hs_call_title="Blocked call")
    sync_cycle_run(integration=activities.integration, object_name="activities")
    if fault == "refused":
        emulators.salesforce.app.run_action("remove_validation_rule", rule_name=rule)
    advance_clocks(emulators, 60)
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "Fine call"})
    )
    all_due()
    activities()
    activities()
    [task] = tasks_of(sf_person, lead)
    assert task["Subject"] == "Call: Fine call"
    assert not open_errors(), open_errors()
    assert_idle(activities)
