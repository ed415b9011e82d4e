"""The Connection tab, and Connect / Reconnect through Salesforce's real OAuth web-server flow
(the Salesforce emulator's /services/oauth2/authorize and /token)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session

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
    assert "Integration User" in html and "integration@acme.example" in html
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
