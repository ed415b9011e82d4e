"""`manage.py connect` against the emulators: success, and failures that say what to do."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler, HTTPServer
from io import StringIO
from threading import Thread

import pytest
from django.core.management import CommandError, call_command

from sync_engine.models import AuditEvent, Integration, SalesforceConnection

pytestmark = pytest.mark.django_db


def connect(emulators, *flags: str, start: bool = True, **overrides) -> str:
    """``manage.py connect`` to the emulators; ``start``: with ``--start`` (a first connection
    otherwise waits for an admin to start the sync, see test_first_sync_review_hunt8)."""
    options = {
        "salesforce_url": emulators.salesforce.url,
        "salesforce_token": "cli-sf-token",
        "salesforce_ca": str(emulators.ca_path),
        "hubspot_url": emulators.hubspot.url,
        "hubspot_token": "cli-hs-token",
        **overrides,
    }
    args = []
    for key, value in options.items():
        if value is not None:
            args += [f"--{key.replace('_', '-')}", value]
    out = StringIO()
    call_command("connect", *args, *flags, *(["--start"] if start else []), stdout=out)
    return out.getvalue()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connect_stores_and_verifies_both_sides(emulators):
    output = connect(emulators)
    assert "Connected." in output
    integration = Integration.objects.get()
    assert integration.state == Integration.State.CONNECTED
    assert integration.salesforce_api_limit  # read from the org's limits
    sf = integration.salesforce_connection
    assert sf.instance_url == emulators.salesforce.url
    assert sf.access_token == "cli-sf-token"
    assert "BEGIN CERTIFICATE" in sf.ca_bundle
    assert sf.last_verified_at is not None
    assert integration.hubspot_connection.base_url == emulators.hubspot.url
    event = AuditEvent.objects.get(action="integration.connected")
    assert "cli-sf-token" not in str(event.details)
    # One verification call each, plus the optional identity look-ups.
    sf_paths = [e.path.rstrip("/") for e in emulators.salesforce.app.ledger.entries()]
    assert sf_paths == ["/services/data/v59.0/limits", "/services/oauth2/userinfo"]
    assert sf.user_id and sf.username and sf.user_name
    hs_paths = [e.path.rstrip("/") for e in emulators.hubspot.app.ledger.entries()]
    assert hs_paths == ["/crm/v3/owners", "/account-info/v3/details"]
    assert integration.hubspot_connection.portal_id


def test_connecting_again_replaces_the_connection(emulators):
    connect(emulators)
    connect(emulators, salesforce_token="second-token")
    assert SalesforceConnection.objects.get().access_token == "second-token"
    assert Integration.objects.count() == 1


def test_unreachable_salesforce(emulators):
    url = f"https://127.0.0.1:{closed_port()}"
    with pytest.raises(CommandError) as caught:
        connect(emulators, salesforce_url=url)
    message = str(caught.value)
    assert "Salesforce" in message and "could not reach" in message and url in message
    assert "What to do" in message
    assert not SalesforceConnection.objects.exists()


def test_untrusted_certificate_points_at_the_ca_option(emulators):
    with pytest.raises(CommandError) as caught:
        connect(emulators, salesforce_ca=None)
    message = str(caught.value)
    assert "certificate" in message and "--salesforce-ca" in message


def test_unreadable_ca_file(emulators, tmp_path):
    with pytest.raises(CommandError, match="can't read the CA file"):
        connect(emulators, salesforce_ca=str(tmp_path / "missing.pem"))
    not_pem = tmp_path / "x.pem"
    not_pem.write_text("hello")
    with pytest.raises(CommandError, match="not a PEM"):
        connect(emulators, salesforce_ca=str(not_pem))


def test_rejected_salesforce_token(emulators):
    emulators.salesforce.app.run_action("expire_token", token="stale-token")
    with pytest.raises(CommandError) as caught:
        connect(emulators, salesforce_token="stale-token")
    message = str(caught.value)
    assert "Salesforce" in message and "401" in message and "--salesforce-token" in message
    assert not Integration.objects.filter(state=Integration.State.CONNECTED).exists()


def test_unreachable_hubspot(emulators):
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(CommandError) as caught:
        connect(emulators, hubspot_url=url)
    message = str(caught.value)
    assert "HubSpot" in message and url in message and "--hubspot-url" in message
    assert not SalesforceConnection.objects.exists()  # nothing stored when one side fails


def test_hubspot_over_plain_http_is_refused_off_this_machine(emulators):
    with pytest.raises(CommandError) as caught:
        connect(emulators, hubspot_url="http://api.hubapi.example")
    message = str(caught.value)
    assert "HubSpot" in message and "is not an https:// URL" in message
    assert not SalesforceConnection.objects.exists()


def test_a_hubspot_url_off_hubspot_is_refused_before_any_call(emulators, settings):
    """The token goes to that address and its answer is shown: only HubSpot's hosts, this
    machine, or the operator's HUBSPOT_API_URL."""
    settings.HUBSPOT_API_URL = "https://api.hubapi.com"
    for url in ("https://intranet.example/wiki?", "https://hubapi.com.evil.example"):
        with pytest.raises(CommandError) as caught:
            connect(emulators, hubspot_url=url)
        assert "is not HubSpot's API" in str(caught.value)
    assert not SalesforceConnection.objects.exists()


def test_a_token_echoed_by_the_server_is_not_shown(emulators):
    """A server that answers with the request's headers doesn't get the token onto the page."""

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = f"no such API; you sent {self.headers['Authorization']}".encode()
            self.send_response(400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Echo)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(CommandError) as caught:
            url = f"http://127.0.0.1:{server.server_port}"
            connect(emulators, hubspot_url=url, hubspot_token="pat-na1-very-secret-token")
    finally:
        server.shutdown()
    message = str(caught.value)
    assert "400" in message and "you sent Bearer …" in message
    assert "very-secret" not in message


def test_rejected_hubspot_token(emulators):
    emulators.hubspot.app.run_action("expire_token", token="stale-hs-token")
    with pytest.raises(CommandError) as caught:
        connect(emulators, hubspot_token="stale-hs-token")
    message = str(caught.value)
    assert "HubSpot" in message and "401" in message and "--hubspot-token" in message


def test_refresh_token_needs_a_client_id(emulators):
    with pytest.raises(CommandError, match="--salesforce-client-id"):
        connect(emulators, salesforce_refresh_token="r")


def test_salesforce_needs_https(emulators):
    with pytest.raises(CommandError, match="not an https:// URL"):
        connect(emulators, salesforce_url="http://127.0.0.1:1")


def test_another_org_than_the_links_were_made_with_is_refused_unless_asked_for(emulators):
    """Links pair records of one org with one account: connecting another org (or account)
    over them would pair unrelated records. A disconnect between doesn't change that."""
    from sync_engine.models import HubSpotConnection, RecordLink
    from sync_engine.services import integration_disconnect

    connect(emulators)
    integration = Integration.objects.get()
    RecordLink.objects.create(
        integration=integration, object="contacts", hubspot_id="1", salesforce_id="00Q1",
        salesforce_type="Lead",
    )  # fmt: skip
    org = SalesforceConnection.objects.get().organization_id
    assert org  # the emulator says which org it is
    SalesforceConnection.objects.update(organization_id="00D000000000OLD")  # synced before
    with pytest.raises(CommandError, match="is not org 00D000000000OLD") as refused:
        connect(emulators)
    assert "fresh installation" in str(refused.value)
    integration_disconnect(integration=integration)
    with pytest.raises(CommandError, match="is not org 00D000000000OLD"):
        connect(emulators)
    assert "Connected." in connect(emulators, "--another-account")
    assert SalesforceConnection.objects.get().organization_id == org
    HubSpotConnection.objects.update(portal_id="999")
    with pytest.raises(CommandError, match="HubSpot account .* is not account 999"):
        connect(emulators)
