"""The Connection tab, and Connect / Reconnect through Salesforce's real OAuth web-server flow
(the Salesforce emulator's /services/oauth2/authorize and /token)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from emulators.testing import salesforce_session
from integration_admin.oauth import SESSION_KEY
from sync_engine.models import AuditEvent, HubSpotConnection, Integration, SalesforceConnection

pytestmark = pytest.mark.django_db


def authorize(emulators, location: str) -> str:
    """What the browser does at Salesforce: the emulator approves and sends it back."""
    assert location.startswith(emulators.salesforce.url + "/services/oauth2/authorize?")
    response = salesforce_session(emulators.ca_path).get(location, allow_redirects=False)
    assert response.status_code == 302
    return response.headers["Location"]


def test_connection_page_shows_the_integration_user(viewer_client, connected):
    html = viewer_client.get("/connection/").content.decode()
    assert "Integration User" in html
    assert "(integration@<wbr>acme<wbr>.example)" in html  # wraps after @ or before a dot
    assert "https://acme.my.salesforce.com" in html and "https://api.hubapi.com" in html
    assert "Reconnect Salesforce" not in html  # viewers can't


def test_reconnect_runs_the_oauth_flow(admin_client, admin_user, live, emulators):
    old_token = live.salesforce_connection.access_token
    response = admin_client.post("/connection/salesforce/connect/")
    assert response.status_code == 302
    location = response["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["hubspot-salesforce-sync"]
    assert query["redirect_uri"] == ["http://testserver/connection/salesforce/callback/"]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0]

    back = authorize(emulators, location)
    assert back.startswith("http://testserver/connection/salesforce/callback/?code=")
    response = admin_client.get(back.replace("http://testserver", ""))
    assert response.status_code == 302 and response["Location"] == "/connection/"

    salesforce = SalesforceConnection.objects.get(integration=live)
    assert salesforce.access_token != old_token
    assert salesforce.refresh_token and salesforce.client_id == "hubspot-salesforce-sync"
    assert salesforce.user_name.startswith("Integration User")
    assert salesforce.instance_url == emulators.salesforce.url
    # HubSpot is kept as it was.
    assert HubSpotConnection.objects.get(integration=live).base_url == emulators.hubspot.url
    event = AuditEvent.objects.filter(action="integration.connected").latest("at")
    assert event.actor == admin_user
    html = admin_client.get("/connection/").content.decode()
    assert "Connected to Salesforce as Integration User" in html
    assert "Token refresh</dt><dd>automatic" in html
    assert salesforce.access_token not in html and salesforce.refresh_token not in html


def test_first_connect_from_the_browser(admin_client, emulators, settings):
    settings.SALESFORCE_LOGIN_URL = emulators.salesforce.url
    settings.SALESFORCE_CA_FILE = str(emulators.ca_path)
    html = admin_client.get("/connection/").content.decode()
    assert 'name="hubspot_token"' in html and "Connect Salesforce" in html
    response = admin_client.post(
        "/connection/salesforce/connect/",
        {"hubspot_url": emulators.hubspot.url, "hubspot_token": "first-connect-app-token"},
    )
    # While Salesforce's sign-in is open, the token waits in the session table encrypted.
    stored = Session.objects.get(session_key=admin_client.session.session_key)
    assert "first-connect-app-token" not in json.dumps(stored.get_decoded())
    back = authorize(emulators, response["Location"])
    admin_client.get(back.replace("http://testserver", ""))
    integration = Integration.objects.get()
    assert integration.state == "connected"
    assert integration.salesforce_connection.ca_bundle  # trusts the emulator's CA from now on
    assert integration.hubspot_connection.access_token == "first-connect-app-token"
    assert SESSION_KEY not in admin_client.session  # the HubSpot token left the session


def test_a_first_connect_can_sign_in_to_a_sandbox(admin_client, db, settings):
    """Spec §1: installing can target a Salesforce sandbox."""
    settings.SALESFORCE_LOGIN_URL = ""
    html = admin_client.get("/connection/").content.decode()
    assert 'name="sandbox"' in html
    response = admin_client.post(
        "/connection/salesforce/connect/", {"hubspot_token": "t", "sandbox": "on"}
    )
    assert response["Location"].startswith("https://test.salesforce.com/services/oauth2/")
    response = admin_client.post("/connection/salesforce/connect/", {"hubspot_token": "t"})
    assert response["Location"].startswith("https://login.salesforce.com/services/oauth2/")


def test_first_connect_needs_the_hubspot_token(admin_client, db):
    response = admin_client.post("/connection/salesforce/connect/", {"hubspot_token": ""})
    assert response["Location"] == "/connection/"
    assert (
        "Enter the HubSpot access token first." in admin_client.get("/connection/").content.decode()
    )


def test_callback_refuses_a_forged_state(admin_client, live, emulators):
    location = admin_client.post("/connection/salesforce/connect/")["Location"]
    back = authorize(emulators, location)
    forged = back.replace("state=", "state=forged")
    admin_client.get(forged.replace("http://testserver", ""))
    html = admin_client.get("/connection/").content.decode()
    assert "The sign-in expired or didn&#x27;t start here." in html
    assert SalesforceConnection.objects.get(integration=live).refresh_token == ""


def test_callback_reports_a_refusal(admin_client, live):
    session = admin_client.session
    session[SESSION_KEY] = {"state": "s", "verifier": "v", "login_url": "x", "redirect_uri": "y",
                            "ca_pem": ""}  # fmt: skip
    session.save()
    admin_client.get(
        "/connection/salesforce/callback/?error=access_denied&error_description=end-user+denied+authorization&state=s"
    )
    assert (
        "Salesforce refused: end-user denied authorization"
        in admin_client.get("/connection/").content.decode()
    )


def test_a_forged_refusal_neither_shows_its_text_nor_ends_the_sign_in(
    admin_client, live, emulators
):
    """A crafted callback link can't put its words on the dashboard or cancel a sign-in."""
    location = admin_client.post("/connection/salesforce/connect/")["Location"]
    admin_client.get(
        "/connection/salesforce/callback/?error=access_denied&state=forged"
        "&error_description=Your+HubSpot+token+was+revoked"
    )
    html = admin_client.get("/connection/").content.decode()
    assert "The sign-in expired or didn&#x27;t start here." in html
    assert "token was revoked" not in html
    back = authorize(emulators, location)  # the admin's own sign-in still finishes
    admin_client.get(back.replace("http://testserver", ""))
    assert SalesforceConnection.objects.get(integration=live).refresh_token


def test_a_used_code_is_refused_by_salesforce(admin_client, live, emulators):
    location = admin_client.post("/connection/salesforce/connect/")["Location"]
    back = authorize(emulators, location)
    code = parse_qs(urlsplit(back).query)["code"][0]
    # Someone swaps the code first.
    requests_session = salesforce_session(emulators.ca_path)
    requests_session.post(
        emulators.salesforce.url + "/services/oauth2/token",
        data={"grant_type": "authorization_code", "code": code,
              "client_id": "hubspot-salesforce-sync"},
    )  # fmt: skip
    admin_client.get(back.replace("http://testserver", ""))
    assert "invalid authorization code" in admin_client.get("/connection/").content.decode()


def test_viewers_cannot_connect(viewer_client, live):
    assert viewer_client.post("/connection/salesforce/connect/").status_code == 403
    assert viewer_client.get("/connection/salesforce/callback/?code=x&state=y").status_code == 403


def test_unreachable_login_host_is_reported(admin_client, live, settings):
    settings.SALESFORCE_LOGIN_URL = "https://127.0.0.1:1"
    location = admin_client.post("/connection/salesforce/connect/")["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    admin_client.get(f"/connection/salesforce/callback/?code=abc&state={state}")
    assert (
        "Couldn&#x27;t reach Salesforce to finish signing in"
        in admin_client.get("/connection/").content.decode()
    )


# --- the whole sync's on/off switch -------------------------------------------------------
def statusbar(html: str) -> str:
    start = html.index('<div class="statusbar ')
    return html[start : html.index("</ul>", start)]


def test_admins_turn_the_whole_sync_off_and_on(admin_client, admin_user, connected):
    html = admin_client.get("/connection/").content.decode()
    assert "Sync is on." in html and 'name="sync" value="off"' in html
    response = admin_client.post("/connection/sync/", {"sync": "off"})
    assert response.status_code == 302 and response["Location"] == "/connection/"
    connected.refresh_from_db()
    assert not connected.sync_enabled and connected.state == Integration.State.CONNECTED
    event = AuditEvent.objects.get(action="integration.sync_turned_off")
    assert event.actor == admin_user and event.integration == connected

    html = admin_client.get("/connection/").content.decode()
    assert "Sync is off: nothing syncs until you turn it back on." in html  # the message
    assert "Sync is off." in html and 'name="sync" value="on"' in html
    # Every page's header says so: who, when, and what to do.
    bar = statusbar(admin_client.get("/discover/").content.decode())
    assert "statusbar--sync_off" in bar and "<strong>Sync off</strong>" in bar
    assert "Turned off by ada on " in bar
    assert "Turn sync back on on the Connection page." in bar
    audit = admin_client.get("/audit/").content.decode()
    assert "Sync turned off" in audit

    admin_client.post("/connection/sync/", {"sync": "on"})
    connected.refresh_from_db()
    assert connected.sync_enabled
    assert AuditEvent.objects.get(action="integration.sync_turned_on").actor == admin_user
    bar = statusbar(admin_client.get("/discover/").content.decode())
    assert "Sync off" not in bar and "<strong>Connected</strong>" in bar


def test_sync_off_outranks_a_pause_in_the_header_until_it_is_back_on(admin_client, connected):
    Integration.objects.filter(pk=connected.pk).update(
        state="paused", state_reason="The Salesforce API allocation is used up."
    )
    admin_client.post("/connection/sync/", {"sync": "off"})
    bar = statusbar(admin_client.get("/discover/").content.decode())
    assert "<strong>Sync off</strong>" in bar and "allocation is used up" not in bar
    admin_client.post("/connection/sync/", {"sync": "on"})
    bar = statusbar(admin_client.get("/discover/").content.decode())
    assert "<strong>Paused</strong>" in bar


def test_sync_now_says_sync_is_off_instead_of_starting_a_cycle(admin_client, connected):
    admin_client.post("/connection/sync/", {"sync": "off"})
    response = admin_client.post("/sync-now/", {"next": "/discover/"})
    assert response.status_code == 302
    html = admin_client.get("/discover/").content.decode()
    assert "Sync is off, so nothing syncs. Turn it back on on the Connection page." in html
    assert not AuditEvent.objects.filter(action="sync.requested").exists()


def test_the_api_shows_whether_sync_is_on(admin_client, connected):
    assert admin_client.get("/api/v1/integration/").json()["sync_enabled"] is True
    admin_client.post("/connection/sync/", {"sync": "off"})
    body = admin_client.get("/api/v1/integration/").json()
    assert body["sync_enabled"] is False and body["sync_changed_by"] == "ada"
    assert body["sync_changed_at"]
    # Read-only there: the switch is the Connection page's.
    admin_client.patch(
        "/api/v1/integration/",
        {"allocated_to_hubspot": 4000, "sync_enabled": True},
        content_type="application/json",
    )
    connected.refresh_from_db()
    assert not connected.sync_enabled


def test_viewers_can_neither_switch_sync_nor_disconnect(viewer_client, connected):
    html = viewer_client.get("/connection/").content.decode()
    assert "Sync is on." in html
    assert 'name="sync"' not in html and "/connection/disconnect/" not in html
    assert viewer_client.post("/connection/sync/", {"sync": "off"}).status_code == 403
    assert viewer_client.get("/connection/disconnect/").status_code == 403
    assert viewer_client.post("/connection/disconnect/").status_code == 403
    connected.refresh_from_db()
    assert connected.sync_enabled and connected.state == Integration.State.CONNECTED
    assert SalesforceConnection.objects.exists() and HubSpotConnection.objects.exists()
    assert not AuditEvent.objects.filter(action__in=[
        "integration.sync_turned_off", "integration.disconnected"]).exists()  # fmt: skip


def test_the_switch_and_disconnect_need_a_csrf_token(admin_user, connected):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/connection/sync/", {"sync": "off"}).status_code == 403
    assert client.post("/connection/disconnect/").status_code == 403
    page = client.get("/connection/disconnect/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert (
        client.post("/connection/sync/", {"sync": "off", "csrfmiddlewaretoken": token})["Location"]
        == "/connection/"
    )
    connected.refresh_from_db()
    assert not connected.sync_enabled


# --- disconnect -----------------------------------------------------------------------------
def test_disconnect_asks_first_then_deletes_the_tokens(admin_client, admin_user, connected):
    html = admin_client.get("/connection/").content.decode()
    assert 'href="/connection/disconnect/"' in html
    assert 'action="/connection/disconnect/"' not in html  # not without asking
    html = admin_client.get("/connection/disconnect/").content.decode()
    assert "Disconnect from Salesforce and HubSpot?" in html
    assert 'action="/connection/disconnect/"' in html and "csrfmiddlewaretoken" in html
    assert SalesforceConnection.objects.exists()  # asking changed nothing

    response = admin_client.post("/connection/disconnect/")
    assert response.status_code == 302 and response["Location"] == "/connection/"
    connected.refresh_from_db()
    assert connected.state == Integration.State.DISCONNECTED
    assert not SalesforceConnection.objects.exists() and not HubSpotConnection.objects.exists()
    event = AuditEvent.objects.get(action="integration.disconnected")
    assert event.actor == admin_user
    assert event.details["salesforce_url"] == "https://acme.my.salesforce.com"
    assert event.details["hubspot_account"] == "4242"

    html = admin_client.get("/connection/").content.decode()
    assert "Disconnected: the stored Salesforce and HubSpot tokens were deleted" in html
    assert "Disconnected by ada on " in html
    assert "https://acme.my.salesforce.com" in html  # what was connected, to connect it again
    assert "python manage.py connect" in html and "Connect Salesforce" in html
    assert 'name="hubspot_token"' in html
    assert "Connecting a different org or account needs care" in html
    # The form and the command start from what was connected; no sync switch to flip.
    hubspot_before = event.details["hubspot_url"]
    assert f'name="hubspot_url" value="{hubspot_before}"' in html
    assert f"--hubspot-url {hubspot_before}" in html and "--salesforce-ca" in html
    assert 'id="sync-switch"' not in html and "Sync is on." not in html
    assert "sf-secret-never-shown" not in html and "hs-secret-never-shown" not in html
    bar = statusbar(html)
    assert "<strong>Disconnected</strong>" in bar
    assert "the stored tokens were deleted" in bar
    assert "Connect Salesforce and HubSpot on the Connection tab." in bar
    assert "Disconnected" in admin_client.get("/audit/").content.decode()
    # Nothing left to disconnect.
    assert admin_client.get("/connection/disconnect/")["Location"] == "/connection/"


def test_connect_again_from_the_browser_after_a_disconnect_and_sync(
    admin_client, live, emulators, sf_person, settings
):
    from sync_engine.models import RecordLink, SyncRun
    from sync_engine.services import object_sync_get_or_create
    from sync_engine.sync.cycle import sync_cycles_run
    from sync_engine.sync.schedule import due_cycles

    settings.SALESFORCE_LOGIN_URL = emulators.salesforce.url
    settings.SALESFORCE_CA_FILE = str(emulators.ca_path)
    object_sync_get_or_create(integration=live, object_name="contacts")
    admin_client.post("/connection/disconnect/")
    live.refresh_from_db()
    assert live.state == Integration.State.DISCONNECTED and due_cycles() == []

    # The first-connect form again: the HubSpot token, then Salesforce's sign-in.
    response = admin_client.post(
        "/connection/salesforce/connect/",
        {"hubspot_url": emulators.hubspot.url, "hubspot_token": "reconnected-app-token"},
    )
    back = authorize(emulators, response["Location"])
    admin_client.get(back.replace("http://testserver", ""))
    integration = Integration.objects.get()
    assert integration.pk == live.pk and integration.state == Integration.State.CONNECTED
    assert integration.hubspot_connection.access_token == "reconnected-app-token"
    assert "Disconnected by" not in admin_client.get("/connection/").content.decode()

    lead = sf_person.Lead.create(
        {"LastName": "Lovelace", "Company": "Engines", "Email": "ada@example.com"}
    )["id"]
    assert due_cycles() == [(integration.pk, "contacts")]
    [run] = sync_cycles_run(integration=integration, object_names=["contacts"])
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert RecordLink.objects.filter(integration=integration, salesforce_id=lead).exists()


def test_a_resync_asked_for_while_sync_is_off_says_when_it_runs(admin_client, connected):
    from .conftest import make_error

    make_error(connected, 2)
    admin_client.post("/connection/sync/", {"sync": "off"})
    connected.refresh_from_db()
    assert not connected.sync_enabled
    response = admin_client.post(
        "/sync-health/errors/resync/", {"error_type": "property_value", "scope": "all"},
        follow=True,
    )  # fmt: skip
    html = response.content.decode()
    assert "Queued. Sync is off: it runs once sync is turned back on." in html
    assert "the next sync cycle starts now" not in html


def test_the_header_offers_no_sync_now_while_sync_is_off(admin_client, connected):
    assert 'action="/sync-now/"' in admin_client.get("/connection/").content.decode()
    admin_client.post("/connection/sync/", {"sync": "off"})
    html = admin_client.get("/connection/").content.decode()
    assert "statusbar--sync_off" in html and 'action="/sync-now/"' not in html


def test_each_side_says_when_it_last_answered(admin_client, connected):
    """Not only the connect's check: the last call the CRM answered with success."""
    from datetime import timedelta

    from django.utils import timezone

    from sync_engine.models import ApiCall, SalesforceConnection

    long_ago = timezone.now() - timedelta(days=3)
    SalesforceConnection.objects.filter(integration=connected).update(last_verified_at=long_ago)
    for status, minutes in ((200, 5), (500, 1)):  # a failed call says nothing of the kind
        ApiCall.objects.create(
            integration=connected, system="salesforce", operation="query", status=status,
            called_at=timezone.now() - timedelta(minutes=minutes),
        )  # fmt: skip
    html = admin_client.get("/connection/").content.decode()
    salesforce, hubspot = html.split("<h2>HubSpot</h2>", 1)
    assert "Last answered</dt><dd>5\xa0minutes ago" in salesforce
    assert "Last answered</dt><dd>never" in hubspot


def test_sync_now_while_paused_starts_a_cycle_that_looks_at_the_allocation_again(
    admin_client, connected, django_capture_on_commit_callbacks
):
    Integration.objects.filter(pk=connected.pk).update(state="paused", state_reason="used up")
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post("/sync-now/", {"next": "/discover/"})
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(action="sync.requested").exists()
    assert "Sync started for Contacts." in admin_client.get("/discover/").content.decode()


def test_sync_now_while_suspended_says_so_and_the_header_offers_clearing_instead(
    admin_client, connected, django_capture_on_commit_callbacks
):
    Integration.objects.filter(pk=connected.pk).update(state="suspended", state_reason="401")
    html = admin_client.get("/connection/").content.decode()
    assert 'action="/sync-now/"' not in html and "Clear suspension" in html
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post("/sync-now/", {"next": "/discover/"})
    assert callbacks == [] and not AuditEvent.objects.filter(action="sync.requested").exists()
    html = admin_client.get("/discover/").content.decode()
    assert "Syncing is suspended (see the status bar), so nothing can sync" in html
    assert "isn't connected" not in html


def test_sync_now_while_the_allocation_is_still_used_up_says_so_instead_of_starting(
    admin_client, connected, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from tests.sync_engine.factories import ApiCallFactory

    Integration.objects.filter(pk=connected.pk).update(
        state="paused", state_reason="used up", salesforce_api_allocation=5
    )
    ApiCallFactory.create_batch(5, integration=connected, called_at=timezone.now())
    with django_capture_on_commit_callbacks() as callbacks:
        admin_client.post("/sync-now/", {"next": "/discover/"})
    assert callbacks == [] and not AuditEvent.objects.filter(action="sync.requested").exists()
    html = admin_client.get("/discover/").content.decode()
    assert "The API call allocation is still used up" in html
