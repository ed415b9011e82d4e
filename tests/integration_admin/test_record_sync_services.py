"""The syncs asked for by hand are services the pages and the API share (a record's Resync,
*Sync a contact* / *Sync a company*, *Sync now*, Disconnect): both answer alike, and the API
tells a HubSpot outage (503: try again) from bad input (400)."""

from __future__ import annotations

import pytest
from django.test import Client
from knox.models import AuthToken

from sync_engine.models import AuditEvent, ImportJob, Integration, ResyncRequest
from sync_engine.services import object_sync_get_or_create
from tests.sync_engine.sync.helpers import hs_create

pytestmark = pytest.mark.django_db
JSON = "application/json"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def api(admin_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {AuthToken.objects.create(admin_user)[1]}"
    return client


def hubspot_down(emulators) -> None:
    emulators.hubspot.app.faults.add(
        path=r"/batch/read",
        status=503,
        body={"status": "error", "message": "Service down", "category": "UNAVAILABLE"},
    )


def test_a_hubspot_outage_is_a_503_over_the_api_and_a_card_error_on_the_tab(
    api, admin_client, live, hs_person, emulators
):
    contact = hs_create(hs_person, email="down@example.com", lastname="Down")
    companies = object_sync_get_or_create(integration=live, object_name="companies")
    companies.enabled = True
    companies.save()
    hubspot_down(emulators)

    for path, body in (
        ("/api/v1/contacts/sync/", {"contact": contact}),
        ("/api/v1/companies/sync/", {"company": "123"}),
    ):
        response = api.post(path, body, content_type=JSON)
        assert response.status_code == 503, (path, response.content)
        assert response.json()["detail"].startswith("Couldn't reach HubSpot: "), path
    # The tab's card says the same, and keeps what was typed.
    html = admin_client.post("/contacts/sync/", {"contact": contact}, **HTMX).content.decode()
    assert "Couldn&#x27;t reach HubSpot: " in html and f'value="{contact}"' in html
    html = admin_client.post("/companies/sync/", {"company_id": "123"}, **HTMX).content.decode()
    assert "Couldn&#x27;t reach HubSpot: " in html
    assert not ResyncRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="record.resync_requested").exists()


def test_sync_a_contact_answers_alike_on_the_tab_and_over_the_api(
    api, admin_client, live, hs_person
):
    contact = hs_create(hs_person, email="alike@example.com", firstname="Al", lastname="Ike")
    html = admin_client.post("/contacts/sync/", {"contact": contact}, **HTMX).content.decode()
    said = "Contact Al Ike &lt;alike@example.com&gt; syncs now; if no Salesforce lead or contact"
    assert said in html
    body = api.post("/api/v1/contacts/sync/", {"contact": contact}, content_type=JSON).json()
    assert body["syncs_now"] is True and body["waits"] is None
    assert body["message"] == (
        "Contact Al Ike <alike@example.com> syncs now; if no Salesforce lead or contact has "
        "its email, one is created."
    )
    assert ResyncRequest.objects.get().record_key == f"hubspot:{contact}"
    assert AuditEvent.objects.filter(action="record.resync_requested").count() == 2


def test_sync_now_refusals_and_start_alike_on_the_page_and_over_the_api(
    api, admin_client, connected
):
    Integration.objects.filter(pk=connected.pk).update(state=Integration.State.SUSPENDED)
    response = api.post("/api/v1/sync-now/", content_type=JSON)
    assert response.status_code == 409 and "suspended" in response.json()["detail"]
    page = admin_client.post("/sync-now/", follow=True).content.decode()
    assert "Syncing is suspended (see the status bar)" in page
    assert not AuditEvent.objects.filter(action="sync.requested").exists()

    Integration.objects.filter(pk=connected.pk).update(state=Integration.State.CONNECTED)
    assert api.post("/api/v1/sync-now/", content_type=JSON).json() == {"objects": ["contacts"]}
    page = admin_client.post("/sync-now/", follow=True).content.decode()
    assert "Sync started for Contacts." in page
    assert AuditEvent.objects.filter(action="sync.requested").count() == 2


@pytest.mark.parametrize("over_the_api", [False, True])
def test_disconnect_stops_the_running_imports(api, admin_client, connected, over_the_api):
    running = ImportJob.objects.create(
        integration=connected, object="leads", status=ImportJob.Status.RUNNING
    )
    done = ImportJob.objects.create(
        integration=connected, object="contacts", status=ImportJob.Status.SUCCEEDED
    )
    if over_the_api:
        response = api.post("/api/v1/integration/disconnect/", content_type=JSON)
        assert response.status_code == 200 and response.json()["state"] == "disconnected"
    else:
        page = admin_client.post("/connection/disconnect/", follow=True).content.decode()
        assert "Imports stopped: 1. Resume them on the Import page" in page
    running.refresh_from_db()
    done.refresh_from_db()
    assert running.status == ImportJob.Status.CANCELLED
    assert done.status == ImportJob.Status.SUCCEEDED
    assert AuditEvent.objects.get(action="import.cancelled").details["import"] == running.pk
    assert AuditEvent.objects.filter(action="integration.disconnected").count() == 1


def test_the_schema_documents_the_outage_answer(logged_in):
    schema = logged_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in ("/api/v1/contacts/sync/", "/api/v1/companies/sync/"):
        responses = schema["paths"][path]["post"]["responses"]
        assert "nothing was queued" in responses["503"]["description"], path
        assert "unreachable" not in responses["400"]["description"], path
