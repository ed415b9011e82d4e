"""An activity's sync error links to its engagement in HubSpot, as every other record's does:
``…/record/<type>/<id>`` with the engagement's own type (calls 0-48, emails 0-49, meetings
0-47, notes 0-46, tasks 0-27). End to end: the engine records the error against the
emulators, and the link, followed, shows the engagement in HubSpot."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from hubspot.crm.objects import SimplePublicObjectInput as EngagementUpdate

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import object_settings_update
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.sync.test_activities import engagement

from .test_contacts import HTMX
from .test_record_links import new_tab_links

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls_synced(live, emulators, sf_person):
    """``lead_with_calls_syncing``'s HubSpot contact."""
    return lead_with_calls_syncing(live, emulators, sf_person)[1]


def lead_with_calls_syncing(live, emulators, sf_person) -> tuple[str, str, str]:
    """A lead synced to a HubSpot contact, HubSpot calls syncing to Salesforce as Tasks, and a
    validation rule on Task refusing subjects with "forbidden": ``(lead id, contact id, rule
    name)``."""
    connection = live.salesforce_connection
    connection.user_id = emulators.salesforce.app.run_action(
        "user_for_token", token=connection.access_token
    )
    connection.save()
    lead = sf_person.Lead.create({"FirstName": "Ada", "LastName": "Lovelace", "Company": "Acme",
                                  "Email": "ada@example.com"})["id"]  # fmt: skip
    assert sync_cycle_run(integration=live, object_name="contacts").status == "succeeded"
    contact = RecordLink.objects.get(object="contacts", salesforce_id=lead).hubspot_id
    object_settings_update(
        integration=live, object_name="activities", changes={"hubspot_calls": True}, enabled=True
    )
    rule = emulators.salesforce.app.run_action(
        "add_validation_rule", object="Task", field="Subject", operator="contains",
        value="forbidden", message="No forbidden calls",
    )  # fmt: skip
    return lead, contact, rule


def call_made(hs_person, contact: str, title: str) -> str:
    return engagement(
        hs_person, "calls", contact, hs_call_title=title, hs_timestamp="1767225600000"
    )


def shows_in_hubspot(url: str, text: str) -> bool:
    """A browser following ``url`` (no token) sees ``text`` on the record's page."""
    page = requests.get(url, timeout=10)
    return page.status_code == 200 and text in page.text


def test_a_call_salesforce_refused_links_to_the_call_in_hubspot(
    viewer_client, live, emulators, hs_person, calls_synced
):
    """Never copied (Salesforce refused the Task): the error keeps the call's bare id and
    names its type in its key, ``hubspot:calls:<id>``."""
    call = call_made(hs_person, calls_synced, "A forbidden call")
    assert sync_cycle_run(integration=live, object_name="activities").status == "succeeded"
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    assert (error.record_key, error.hubspot_id) == (f"hubspot:calls:{call}", call)
    hubspot = f"{emulators.hubspot.url}/contacts/62515/record/0-48/{call}"

    panel = viewer_client.get(f"/sync-health/errors/{error.error_type}/", **HTMX).content.decode()
    assert "No forbidden calls" in panel
    assert new_tab_links(panel) == [hubspot]  # no Task in Salesforce to link to
    assert shows_in_hubspot(hubspot, "A forbidden call")

    export = b"".join(viewer_client.get("/sync-health/errors/export/").streaming_content)
    (row,) = csv.DictReader(io.StringIO(export.decode("utf-8-sig")))
    assert row["HubSpot link"] == hubspot


def test_a_synced_call_whose_edit_salesforce_refused_links_to_both_records(
    viewer_client, live, emulators, hs_person, calls_synced
):
    """Copied to a Task, then an edit refused: the panel and the record's page link to the
    call in HubSpot (the link names it ``calls:<id>``) and to its Task in Salesforce."""
    call = call_made(hs_person, calls_synced, "Intro call")
    assert sync_cycle_run(integration=live, object_name="activities").status == "succeeded"
    link = RecordLink.objects.get(object="activities")
    assert link.hubspot_id == f"calls:{call}"
    hs_person.crm.objects.basic_api.update(
        "calls", call, EngagementUpdate(properties={"hs_call_title": "A forbidden call"})
    )
    assert sync_cycle_run(integration=live, object_name="activities").status == "succeeded"
    error = SyncError.objects.get(object="activities", resolved_at__isnull=True)
    hubspot = f"{emulators.hubspot.url}/contacts/62515/record/0-48/{call}"
    salesforce = f"{emulators.salesforce.url}/lightning/r/Task/{link.salesforce_id}/view"

    panel = viewer_client.get(f"/sync-health/errors/{error.error_type}/", **HTMX).content.decode()
    assert "No forbidden calls" in panel
    assert new_tab_links(panel) == [hubspot, salesforce]

    page = viewer_client.get(f"/records/activities/{error.record_key}/").content.decode()
    assert "No forbidden calls" in page
    assert new_tab_links(page) == [hubspot, salesforce]
    assert shows_in_hubspot(hubspot, "A forbidden call")
