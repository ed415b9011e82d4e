"""Connection page, as a demanding admin uses it: a HubSpot token HubSpot stopped taking is
replaced where the suspension says, a HubSpot address that can't be used is refused before
the Salesforce sign-in, and Disconnect stops the imports that were running."""

from __future__ import annotations

import pytest

from sync_engine import imports
from sync_engine.imports import import_run, import_start
from sync_engine.models import HubSpotConnection, ImportJob, Integration, SyncRun
from sync_engine.services import object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycles_run
from tests.integration_admin.test_connection import authorize
from tests.sync_engine.sync.helpers import hs_emails
from tests.sync_engine.test_imports import leads, seed

pytestmark = pytest.mark.django_db


def test_a_rejected_hubspot_token_is_replaced_on_the_connection_page(
    admin_client, live, emulators, page_form
):
    """The suspension says "Reconnect on the Connection tab": the tab takes a new HubSpot
    token (a private app's token rotated in HubSpot), without disconnecting first."""
    HubSpotConnection.objects.filter(integration=live).update(access_token="rotated-away-token")
    emulators.hubspot.app.run_action("expire_token", token="rotated-away-token")
    object_sync_get_or_create(integration=live, object_name="contacts")
    [run] = sync_cycles_run(integration=live, object_names=["contacts"])
    live.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED and live.state == Integration.State.SUSPENDED
    html = admin_client.get("/connection/").content.decode()
    assert "HubSpot: the credentials were rejected. Reconnect on the Connection tab." in html

    form = page_form(html, "connect-form")
    assert "hubspot_token" in form and "rotated-away-token" not in html
    # Offered in the HubSpot card, posted with Reconnect Salesforce.
    hubspot_card = html.split('id="hubspot-connection"')[1].split("</section>")[0]
    assert 'name="hubspot_token"' in hubspot_card
    form["hubspot_token"] = "new-private-app-token"
    response = admin_client.post("/connection/salesforce/connect/", form)
    back = authorize(emulators, response["Location"])
    admin_client.get(back.replace("http://testserver", ""))

    live.refresh_from_db()
    assert live.state == Integration.State.CONNECTED
    hubspot = HubSpotConnection.objects.get(integration=live)
    assert hubspot.access_token == "new-private-app-token"
    assert hubspot.base_url == emulators.hubspot.url
    html = admin_client.get("/connection/").content.decode()
    assert "Connected to Salesforce as Integration User" in html
    assert "new-private-app-token" not in html
    [run] = sync_cycles_run(integration=live, object_names=["contacts"])
    assert run.status == SyncRun.Status.SUCCEEDED, run.message


def test_reconnecting_without_a_new_hubspot_token_keeps_the_stored_one(
    admin_client, live, emulators, page_form
):
    stored = HubSpotConnection.objects.get(integration=live).access_token
    form = page_form(admin_client.get("/connection/").content, "connect-form")
    assert form["hubspot_token"] == ""  # offered, left empty
    response = admin_client.post("/connection/salesforce/connect/", form)
    back = authorize(emulators, response["Location"])
    admin_client.get(back.replace("http://testserver", ""))
    assert HubSpotConnection.objects.get(integration=live).access_token == stored
    assert Integration.objects.get().state == Integration.State.CONNECTED


@pytest.mark.parametrize(
    ("hubspot_url", "why"),
    [
        ("http://[::1", "is not a valid URL."),
        ("http://api.hubapi.com", "is not HubSpot&#x27;s API"),
        ("https://crm.example.com", "is not HubSpot&#x27;s API"),
    ],
)
def test_a_hubspot_address_that_cant_be_used_is_refused_before_the_salesforce_sign_in(
    admin_client, db, hubspot_url, why
):
    """Found after signing in at Salesforce, a malformed address was a server error (500)
    and the others a sign-in spent for nothing."""
    response = admin_client.post(
        "/connection/salesforce/connect/",
        {"hubspot_url": hubspot_url, "hubspot_token": "first-connect-app-token"},
    )
    assert response.status_code == 302 and response["Location"] == "/connection/"
    html = admin_client.get("/connection/").content.decode()
    assert hubspot_url in html
    assert why in html
    assert "first-connect-app-token" not in html


def test_disconnect_stops_a_running_import(admin_client, live, sf_person, hs_person, monkeypatch):
    """A running import holds the tokens in memory: after Disconnect ("nothing syncs") it
    mustn't go on writing to HubSpot. It stops after the batch in flight, resumable later."""
    monkeypatch.setattr(imports, "BATCH", 10)
    object_sync_get_or_create(integration=live, object_name="contacts")
    seed(sf_person, "Lead", leads(30))
    job = import_start(integration=live, object_name="leads", enqueue=False)

    def admin_disconnects_after_the_first_batch(current):
        if current.processed == 10 and Integration.objects.get().state != "disconnected":
            admin_client.post("/connection/disconnect/")

    import_run(job=job, progress=admin_disconnects_after_the_first_batch)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and job.processed == 10
    assert len(hs_emails(hs_person)) == 10
    html = admin_client.get("/connection/").content.decode()
    assert "Imports stopped: 1. Resume them on the Import page once connected again." in html
    assert imports.import_resumable(job)
