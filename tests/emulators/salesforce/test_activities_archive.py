"""Archived activities (only queryAll returns them) and group events' child copies."""

# ruff: noqa: S608 - the f-strings here build SOQL for an in-memory emulator, not SQL

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def ids(result: dict) -> set[str]:
    return {r["Id"] for r in result["records"]}


def days_ago(app, days: int) -> str:
    return (app.clock.now() - timedelta(days=days)).date().isoformat()


def bulk_ids(page: str) -> set[str]:
    return {row["Id"] for row in csv.DictReader(io.StringIO(page))}


@pytest.fixture
def contact(sf) -> str:
    return sf.Contact.create({"LastName": "Doe"})["id"]


def test_closed_tasks_and_events_over_a_year_old_are_archived(sf, app, contact):
    old_done = sf.Task.create(
        {"Subject": "Old call", "WhoId": contact, "Status": "Completed",
         "ActivityDate": days_ago(app, 400)}
    )["id"]  # fmt: skip
    old_open = sf.Task.create(
        {"Subject": "Old to-do", "WhoId": contact, "ActivityDate": days_ago(app, 400)}
    )["id"]
    recent = sf.Task.create(
        {"Subject": "Recent call", "WhoId": contact, "Status": "Completed",
         "ActivityDate": days_ago(app, 300)}
    )["id"]  # fmt: skip
    old_event = sf.Event.create(
        {"Subject": "Old demo", "WhoId": contact, "DurationInMinutes": 30,
         "ActivityDateTime": f"{days_ago(app, 500)}T10:00:00Z"}
    )["id"]  # fmt: skip
    deleted = sf.Task.create(
        {"Subject": "Deleted", "WhoId": contact, "Status": "Completed",
         "ActivityDate": days_ago(app, 400)}
    )["id"]  # fmt: skip
    sf.Task.delete(deleted)

    tasks = "SELECT Id, IsArchived FROM Task"
    assert ids(sf.query(tasks)) == {old_open, recent}
    assert sf.query("SELECT COUNT() FROM Task")["totalSize"] == 2
    every = sf.query(tasks, include_deleted=True)["records"]
    assert {r["Id"]: r["IsArchived"] for r in every} == {
        old_done: True, old_open: False, recent: False, deleted: True
    }  # fmt: skip
    live = sf.query(f"{tasks} WHERE IsDeleted = false", include_deleted=True)
    assert ids(live) == {old_done, old_open, recent}
    assert ids(sf.query("SELECT Id FROM Event")) == set()
    assert ids(sf.query("SELECT Id FROM Event WHERE IsArchived = true", include_deleted=True)) == {
        old_event
    }
    # A retrieve by id still answers an archived activity.
    assert sf.Task.get(old_done)["IsArchived"] is True
    # Related lists of a normal query leave them out too.
    (person,) = sf.query(f"SELECT Id, (SELECT Id FROM Tasks) FROM Contact WHERE Id = '{contact}'")[
        "records"
    ]
    assert ids(person["Tasks"]) == {old_open, recent}


def test_activities_archive_as_the_clock_passes_the_year(sf, app, contact):
    task = sf.Task.create(
        {"Subject": "Call", "WhoId": contact, "Status": "Completed",
         "ActivityDate": days_ago(app, 360)}
    )["id"]  # fmt: skip
    assert ids(sf.query("SELECT Id FROM Task")) == {task}
    app.clock.advance(timedelta(days=10).total_seconds())
    assert ids(sf.query("SELECT Id FROM Task")) == set()
    assert ids(sf.query("SELECT Id FROM Task WHERE IsArchived = true", include_deleted=True)) == {
        task
    }


def test_bulk_query_all_reads_archived_activities(sf, app, contact):
    old = sf.Task.create(
        {"Subject": "Old call", "WhoId": contact, "Status": "Completed",
         "ActivityDate": days_ago(app, 400)}
    )["id"]  # fmt: skip
    (page,) = list(sf.bulk2.Task.query("SELECT Id FROM Task", wait=0))
    assert bulk_ids(page) == set()
    (page,) = list(sf.bulk2.Task.query_all("SELECT Id FROM Task", wait=0))
    assert bulk_ids(page) == {old}


def test_is_child_and_is_archived_cannot_be_written_through_the_api(sf, contact):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Event.create(
            {"Subject": "Demo", "WhoId": contact, "DurationInMinutes": 30, "IsChild": True,
             "ActivityDateTime": "2030-01-01T10:00:00Z"}
        )  # fmt: skip
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(SalesforceMalformedRequest):
        sf.Task.create({"Subject": "Call", "WhoId": contact, "IsArchived": True})


def test_an_invitee_gets_a_child_copy_of_the_event(sf, app, contact):
    parent = sf.Event.create(
        {"Subject": "Demo", "WhoId": contact, "DurationInMinutes": 45,
         "ActivityDateTime": "2030-01-01T10:00:00Z", "Location": "Teams"}
    )["id"]  # fmt: skip
    invitee = app.run_action("create_user", last_name="Becker", email="tom@example.com")
    child = app.run_action("invite_to_event", event_id=parent, invitee_id=invitee)
    rows = sf.query(
        "SELECT Id, Subject, WhoId, StartDateTime, EndDateTime, Location, OwnerId, IsChild, "
        "IsGroupEvent FROM Event ORDER BY IsChild"
    )["records"]
    assert [(r["Id"], r["IsChild"], r["IsGroupEvent"]) for r in rows] == [
        (parent, False, True),
        (child, True, True),
    ]
    assert rows[1]["OwnerId"] == invitee != rows[0]["OwnerId"]
    same = ("Subject", "WhoId", "StartDateTime", "EndDateTime", "Location")
    assert [rows[1][k] for k in same] == [rows[0][k] for k in same]
    assert ids(sf.query("SELECT Id FROM Event WHERE IsChild = false")) == {parent}
    with pytest.raises(ValueError, match="parent event"):
        app.run_action("invite_to_event", event_id=child, invitee_id=invitee)
