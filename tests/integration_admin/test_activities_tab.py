"""The Activities tab: the activity-sync switch (off until an admin turns it on), one toggle
per type and direction in HubSpot's words, the no-backfill and owner notes, no mapping editor;
changes are admin-only, audit-logged and stamp when each type was turned on (spec §13)."""

from __future__ import annotations

import pytest

from sync_engine.models import AuditEvent, ObjectSync
from sync_engine.object_settings import ActivitySettings

from .conftest import assert_only_change

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def row(integration) -> ObjectSync:
    return ObjectSync.objects.get(integration=integration, object="activities")


def test_the_tab_shows_the_switch_off_every_toggle_and_the_notes(admin_client, connected):
    response = admin_client.get("/activities/")
    assert response.status_code == 200
    html = response.content.decode()
    assert row(connected).enabled is False
    assert 'name="enabled" value="on">' in html  # unchecked
    for name in ActivitySettings.TOGGLES:
        assert f'name="{name}" value="on">' in html, name  # every type starts off
    for text in (
        "HubSpot activities to Salesforce",
        "Salesforce activities to HubSpot",
        "Calls made",
        "Meetings booked",
        "Notes created",
        "Salesforce meetings (events)",
        "sync existing activities",
        "Import your Salesforce records to bring over history",
        "An activity's own owner doesn't sync",
        "belongs to the owner of its lead or contact",
        "Form submissions",
        "tasks sync two ways",
        "the company, deal or ticket it is related to",
    ):
        assert text in html, text
    assert "Add a mapping" not in html and 'id="mappings"' not in html
    assert 'name="turned_on_at"' not in html


def test_turning_types_on_is_audited_and_stamps_when(admin_client, connected):
    admin_client.get("/activities/")
    response = admin_client.post(
        "/activities/", {"enabled": "on", "hubspot_calls": "on", "salesforce_tasks": "on"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "HubSpot calls" in html and "Salesforce tasks" in html  # what changed
    saved = row(connected)
    assert saved.enabled is True
    assert saved.options["hubspot_calls"] is True and saved.options["salesforce_tasks"] is True
    assert saved.options["hubspot_notes"] is False
    stamps = saved.options["turned_on_at"]
    assert set(stamps) == {"enabled", "hubspot_calls", "salesforce_tasks"}
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert event.details["object"] == "activities"
    assert event.details["changes"]["hubspot_calls"] == {"from": False, "to": True}
    assert "turned_on_at" not in event.details["changes"]

    # Saving again doesn't move the stamps; turning a type off and on again does.
    admin_client.post(
        "/activities/", {"enabled": "on", "hubspot_calls": "on", "salesforce_tasks": "on"}
    )
    assert row(connected).options["turned_on_at"] == stamps
    admin_client.post("/activities/", {"enabled": "on", "salesforce_tasks": "on"})
    assert row(connected).options["hubspot_calls"] is False
    admin_client.post(
        "/activities/", {"enabled": "on", "hubspot_calls": "on", "salesforce_tasks": "on"}
    )
    again = row(connected).options["turned_on_at"]
    assert again["hubspot_calls"] > stamps["hubspot_calls"]
    assert again["salesforce_tasks"] == stamps["salesforce_tasks"]
    html = admin_client.get("/activities/").content.decode()
    assert 'name="hubspot_calls" value="on" checked>' in html


def test_viewer_sees_but_cannot_change_anything(viewer_client, connected):
    html = viewer_client.get("/activities/").content.decode()
    assert '<fieldset class="settings__body" disabled>' in html
    assert viewer_client.post("/activities/", {"enabled": "on"}).status_code == 403
    assert row(connected).enabled is False


def test_login_is_required(client, connected):
    response = client.get("/activities/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_tab_in_dutch(admin_client, connected):
    html = admin_client.get("/activities/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    for text in ("HubSpot-activiteiten naar Salesforce", "Gevoerde gesprekken"):
        assert text in html, text


def test_the_api_turns_types_on_and_refuses_to_set_the_stamps(admin_client, connected):
    response = admin_client.patch(
        "/api/v1/settings/activities/",
        {"enabled": True, "settings": {"hubspot_notes": True}},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["settings"]["hubspot_notes"] is True
    assert set(body["settings"]["turned_on_at"]) == {"enabled", "hubspot_notes"}
    response = admin_client.patch(
        "/api/v1/settings/activities/",
        {"settings": {"turned_on_at": {"hubspot_notes": "2000-01-01T00:00:00+00:00"}}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "set by the integration" in str(response.json()["settings"]["turned_on_at"])
    assert row(connected).options["turned_on_at"]["hubspot_notes"] > "2001"


def test_an_activity_error_has_a_record_page_with_resync(admin_client, connected):
    from sync_engine.models import ResyncRequest
    from sync_engine.services import sync_error_record

    sync_error_record(
        integration=connected,
        object_name="activities",
        error_type="waiting_for_contact",
        direction="to_salesforce",
        record_key="hubspot:calls:77",
        hubspot_id="77",
        salesforce_type="Task",
        record_label="Call: Intro",
        code="WAITING_FOR_CONTACT",
        message="HubSpot contact 5 hasn't synced to Salesforce yet",
    )
    html = admin_client.get("/records/activities/hubspot:calls:77/").content.decode()
    assert "Waiting for contact to sync" in html and "Call: Intro" in html
    admin_client.post("/records/activities/hubspot:calls:77/resync/")
    request = ResyncRequest.objects.get()
    assert (request.object, request.record_key) == ("activities", "hubspot:calls:77")


def test_a_stale_tab_does_not_turn_another_tabs_types_off(admin_client, connected, page_form):
    admin_client.post("/activities/", {"enabled": "on"})
    tab_a = page_form(admin_client.get("/activities/").content, "activity-settings")
    tab_b = dict(tab_a)
    admin_client.post("/activities/", {**tab_a, "hubspot_calls": "on"}, **HTMX)
    stamps = row(connected).options["turned_on_at"]
    # Tab B, drawn before calls were turned on, turns Salesforce tasks on.
    response = admin_client.post("/activities/", {**tab_b, "salesforce_tasks": "on"}, **HTMX)
    saved = row(connected)
    assert saved.options["hubspot_calls"] is True
    assert saved.options["salesforce_tasks"] is True
    assert saved.options["turned_on_at"]["hubspot_calls"] == stamps["hubspot_calls"]
    assert_only_change(response, "Salesforce tasks to HubSpot", "salesforce_tasks")
