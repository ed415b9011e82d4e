"""After a disconnect every page still answers: settings, mappings, links and errors are kept
(``integration_disconnect``), so they are shown; what needs a live read says it needs a
connection instead of failing."""

from __future__ import annotations

import pytest

from sync_engine.models import Integration
from sync_engine.services import integration_disconnect, object_sync_get_or_create

from .conftest import make_custom_object, make_error

PAGES = [
    "/",
    "/sync-health/",
    "/sync-health/errors/property_value/",
    "/contacts/",
    "/companies/",
    "/deals/",
    "/tickets/",
    "/tickets/stages/",
    "/activities/",
    "/custom-objects/",
    "/custom-objects/new/",
    "/objects/contacts/lists/",
    "/objects/contacts/mappings/",
    "/objects/companies/mappings/",
    "/records/?q=1000",
    "/records/contacts/hubspot:1000/",
    "/import/",
    "/import/?campaigns=1&object=leads",
    "/runs/",
    "/connection/",
    "/audit/",
    "/api/v1/settings/contacts/",
    "/api/v1/settings/companies/",
]


@pytest.fixture
def disconnected(connected) -> Integration:
    for name in ("contacts", "companies", "deals", "tickets", "activities"):
        object_sync_get_or_create(integration=connected, object_name=name)
    make_custom_object(connected)
    make_error(connected)
    return integration_disconnect(integration=connected)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_after_a_disconnect(admin_client, disconnected, path):
    response = admin_client.get(path, follow=True)
    assert response.status_code in (200, 404), (path, response.status_code)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_a_viewer_after_a_disconnect(viewer_client, disconnected, path):
    response = viewer_client.get(path, follow=True)
    assert response.status_code in (200, 403, 404), (path, response.status_code)


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/objects/contacts/lists/", "Not connected to HubSpot: connect it again"),
        ("/custom-objects/new/", "Not connected to Salesforce: connect it again"),
        ("/import/?campaigns=1&object=leads", "Not connected to Salesforce: connect it again"),
        ("/tickets/stages/", "Not connected to HubSpot: connect it again"),
    ],
)
def test_what_needs_a_live_read_says_it_needs_the_connection(
    admin_client, disconnected, path, says
):
    assert says in admin_client.get(path, follow=True).content.decode()


def test_kept_settings_mappings_and_errors_are_shown(admin_client, disconnected):
    html = admin_client.get("/contacts/").content.decode()
    assert 'name="lifecycle_transitions"' in html  # the settings card
    assert "firstname" in html  # the mappings
    assert "Person 0" in admin_client.get("/sync-health/errors/property_value/").content.decode()


def test_a_resync_while_disconnected_says_it_waits_for_the_connection(admin_client, disconnected):
    """Not "syncs again now": nothing runs until Salesforce and HubSpot are connected again."""
    from sync_engine.models import SyncError

    error = SyncError.objects.get()
    waits = "Queued. Not connected: it runs once Salesforce and HubSpot are connected again."
    html = admin_client.post(
        "/sync-health/errors/resync/", {"ids": [error.pk]}, follow=True
    ).content.decode()
    assert waits in html and "the next sync cycle starts now" not in html
    html = admin_client.post(
        f"/records/contacts/{error.record_key}/resync/", follow=True
    ).content.decode()
    assert waits in html and "This record syncs again now." not in html
