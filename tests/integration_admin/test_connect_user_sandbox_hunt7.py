"""Spec §1/§2: the Connection page's "Connect a different user" and "Connect to a new sandbox",
through the real OAuth flow against the Salesforce emulator (a second user; a new org id)."""

from __future__ import annotations

import pytest
from django.test import Client

from integration_admin import oauth
from sync_engine.models import (
    AuditEvent,
    HubSpotConnection,
    Integration,
    ObjectSync,
    RecordLink,
    SalesforceConnection,
    SyncCursor,
    SyncError,
)
from tests.integration_admin.conftest import make_error, make_link
from tests.integration_admin.test_connection import authorize
from tests.sync_engine.management.test_connect import connect

pytestmark = pytest.mark.django_db


def sign_in(client, emulators, path: str, data: dict | None = None):
    """Press the button at ``path``, sign in at the emulator, come back: the callback's answer."""
    response = client.post(path, data or {})
    assert response.status_code == 302, response.content
    back = authorize(emulators, response["Location"])
    return client.get(back.replace("http://testserver", ""))


def page(client) -> str:
    return client.get("/connection/").content.decode()


@pytest.fixture
def at_emulator(settings, emulators):
    settings.SALESFORCE_LOGIN_URL = emulators.salesforce.url
    settings.SALESFORCE_CA_FILE = str(emulators.ca_path)


@pytest.fixture
def oauth_connected(admin_client, live, emulators, at_emulator) -> Integration:
    """``live``, reconnected through OAuth: the emulator's integration user and org id."""
    sign_in(admin_client, emulators, "/connection/salesforce/connect/")
    connection = SalesforceConnection.objects.get(integration=live)
    assert connection.user_id and connection.organization_id
    return live


@pytest.fixture
def sandbox_connected(admin_client, db, emulators, settings) -> Integration:
    """A first connect with "Connect to a Salesforce sandbox" ticked; test.salesforce.com is
    the emulator here."""
    settings.SALESFORCE_LOGIN_URL = ""
    settings.SALESFORCE_CA_FILE = str(emulators.ca_path)
    settings.SALESFORCE_SANDBOX_LOGIN_URL = emulators.salesforce.url
    sign_in(
        admin_client,
        emulators,
        "/connection/salesforce/connect/",
        {"hubspot_url": emulators.hubspot.url, "hubspot_token": "app-token", "sandbox": "on"},
    )
    integration = Integration.objects.get()
    assert integration.state == Integration.State.CONNECTED
    return integration


def second_user(emulators, *, name: str = "Grace") -> str:
    """Another Salesforce user, whom the next OAuth sign-ins authorize as."""
    salesforce = emulators.salesforce.app
    user = salesforce.run_action(
        "create_user", last_name="Hopper", first_name=name, email=f"{name.lower()}@acme.example"
    )
    salesforce.run_action("set_oauth_user", user_id=user)
    return user


# --- Connect a different user --------------------------------------------------------------
def test_connect_a_different_user_stores_audits_and_warns_what_it_lacks(
    admin_client, admin_user, oauth_connected, emulators
):
    integration = oauth_connected
    old = SalesforceConnection.objects.get(integration=integration)
    ObjectSync.objects.update_or_create(
        integration=integration, object="deals", defaults={"enabled": True}
    )
    user = second_user(emulators)
    salesforce = emulators.salesforce.app
    salesforce.run_action("set_record_access", access="none", object="Opportunity", user_id=user)
    salesforce.run_action("set_record_access", access="read", object="Lead", user_id=user)
    html = page(admin_client)
    assert "Connect a different user" in html and "equal to or greater" in html

    response = sign_in(admin_client, emulators, "/connection/salesforce/user/")
    assert response["Location"] == "/connection/"

    new = SalesforceConnection.objects.get(integration=integration)
    assert new.user_id == user and new.user_name == "Grace Hopper"
    assert new.organization_id == old.organization_id
    assert HubSpotConnection.objects.get(integration=integration).access_token  # kept
    event = AuditEvent.objects.get(action="integration.user_changed")
    assert event.actor == admin_user
    assert event.details["from"].startswith("Integration User")
    assert event.details["to"] == f"Grace Hopper ({new.username})"
    html = page(admin_client)
    assert "The integration user is now Grace Hopper." in html
    assert "lacks permissions the sync needs: Lead (create, edit); Opportunity (read, create, " in (
        html
    )
    assert "Contact (" not in html  # it may use contacts
    audit = admin_client.get("/audit/").content.decode()
    assert "Integration user changed" in audit and "Grace Hopper" in audit


def test_signing_in_as_the_same_user_changes_nothing_and_says_so(
    admin_client, oauth_connected, emulators
):
    sign_in(admin_client, emulators, "/connection/salesforce/user/")
    html = page(admin_client)
    assert "who already is the integration user" in html
    assert not AuditEvent.objects.filter(action="integration.user_changed").exists()
    assert "lacks permissions" not in html


def test_a_different_org_is_refused_on_the_user_path(admin_client, oauth_connected, emulators):
    """Even without links: another org is the sandbox action's job."""
    old = SalesforceConnection.objects.get(integration=oauth_connected)
    assert not RecordLink.objects.exists()
    new_org = emulators.salesforce.app.run_action("new_org_id")
    second_user(emulators)
    sign_in(admin_client, emulators, "/connection/salesforce/user/")
    html = page(admin_client)
    assert f"you signed in to org {new_org}, not to org {old.organization_id}" in html
    assert "Connect to a new sandbox" in html  # the advice
    now = SalesforceConnection.objects.get(integration=oauth_connected)
    assert (now.organization_id, now.access_token) == (old.organization_id, old.access_token)
    assert not AuditEvent.objects.filter(action="integration.user_changed").exists()


def test_reconnect_as_another_user_is_audited_too(admin_client, oauth_connected, emulators):
    second_user(emulators, name="Ada")
    sign_in(admin_client, emulators, "/connection/salesforce/connect/")
    event = AuditEvent.objects.get(action="integration.user_changed")
    assert event.details["to"].startswith("Ada Hopper")


# --- Connect to a new sandbox --------------------------------------------------------------
def test_a_production_org_offers_no_new_sandbox_and_refuses_it(admin_client, oauth_connected):
    html = page(admin_client)
    assert "Connect a different user" in html
    assert "Connect to a new sandbox" not in html
    response = admin_client.post("/connection/salesforce/sandbox/")
    assert response["Location"] == "/connection/"
    assert "connected to a production Salesforce org" in page(admin_client)


def test_connect_to_a_new_sandbox_asks_first_then_resets_the_old_orgs_links(
    admin_client, admin_user, sandbox_connected, emulators
):
    integration = sandbox_connected
    old = SalesforceConnection.objects.get(integration=integration)
    html = page(admin_client)
    assert "Connect to a new sandbox" in html and "· sandbox" in html
    event = AuditEvent.objects.filter(action="integration.connected").latest("at")
    assert event.details["salesforce_sandbox"] is True
    make_link(integration, "101", "00Q5g00000AAAAAAA1", "Lead")
    make_link(integration, "102", "0035g00000AAAAAAA2", "Contact")
    SyncCursor.objects.create(integration=integration, stream="salesforce:Lead")
    make_error(integration, 3)
    # A first failure of a temporary error: not on Sync health yet, but the switch ends it too.
    make_error(integration, error_type="transient", hubspot_id="2000", record_label="Blip")
    new_org = emulators.salesforce.app.run_action("new_org_id")  # the sandbox was refreshed

    response = sign_in(admin_client, emulators, "/connection/salesforce/sandbox/")
    assert response["Location"] == "/connection/salesforce/sandbox/confirm/"
    # Nothing changed yet: the admin confirms first, seeing what goes.
    assert RecordLink.objects.count() == 2
    assert SalesforceConnection.objects.get(integration=integration).organization_id == (
        old.organization_id
    )
    html = admin_client.get(response["Location"]).content.decode()
    assert "Switch to the new sandbox?" in html
    assert old.organization_id in html and new_org in html
    assert "The links to the old sandbox's records are removed (2 links)." in html
    assert "Its current sync errors end (4)." in html
    assert "Contacts match their leads and contacts again by email" in html
    assert "an opportunity with a new id makes a new deal" in html

    response = admin_client.post("/connection/salesforce/sandbox/confirm/", {"confirm": "yes"})
    assert response["Location"] == "/connection/"
    now = SalesforceConnection.objects.get(integration=integration)
    assert now.organization_id == new_org
    assert not RecordLink.objects.exists() and not SyncCursor.objects.exists()
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    assert HubSpotConnection.objects.get(integration=integration).access_token == "app-token"
    event = AuditEvent.objects.get(action="integration.sandbox_changed")
    assert event.actor == admin_user
    assert event.details["from"] == old.organization_id and event.details["to"] == new_org
    assert event.details["links_removed"] == 2 and event.details["errors_ended"] == 4
    html = page(admin_client)
    assert f"Connected to the new sandbox (org {new_org})" in html
    assert "Connect to a new sandbox" in html  # still a sandbox
    audit = admin_client.get("/audit/").content.decode()
    assert "Connected to a new sandbox" in audit and "Links removed" in audit
    # The confirmation can't be replayed.
    again = admin_client.post("/connection/salesforce/sandbox/confirm/", {"confirm": "yes"})
    assert again["Location"] == "/connection/"
    assert AuditEvent.objects.filter(action="integration.sandbox_changed").count() == 1


def test_cancelling_the_new_sandbox_changes_nothing(admin_client, sandbox_connected, emulators):
    integration = sandbox_connected
    old = SalesforceConnection.objects.get(integration=integration)
    make_link(integration, "101", "00Q5g00000AAAAAAA1", "Lead")
    emulators.salesforce.app.run_action("new_org_id")
    sign_in(admin_client, emulators, "/connection/salesforce/sandbox/")
    admin_client.post("/connection/salesforce/sandbox/confirm/", {"confirm": "no"})
    assert RecordLink.objects.count() == 1
    now = SalesforceConnection.objects.get(integration=integration)
    assert (now.organization_id, now.access_token) == (old.organization_id, old.access_token)
    assert "Nothing changed" in page(admin_client)
    assert "salesforce_sandbox_pending" not in admin_client.session


def test_the_same_sandbox_again_is_a_plain_reconnect(admin_client, sandbox_connected, emulators):
    make_link(sandbox_connected, "101", "00Q5g00000AAAAAAA1", "Lead")
    response = sign_in(admin_client, emulators, "/connection/salesforce/sandbox/")
    assert response["Location"] == "/connection/"
    assert RecordLink.objects.count() == 1
    assert "nothing was reset" in page(admin_client)
    assert not AuditEvent.objects.filter(action="integration.sandbox_changed").exists()


def test_a_production_sign_in_on_the_sandbox_path_is_refused(
    admin_client, sandbox_connected, emulators, settings
):
    """Signed in somewhere that isn't test.salesforce.com nor a sandbox's host (a login host
    fixed by SALESFORCE_LOGIN_URL: a production My Domain, say)."""
    make_link(sandbox_connected, "101", "00Q5g00000AAAAAAA1", "Lead")
    settings.SALESFORCE_SANDBOX_LOGIN_URL = "https://test.salesforce.com"
    settings.SALESFORCE_LOGIN_URL = emulators.salesforce.url
    emulators.salesforce.app.run_action("new_org_id")
    sign_in(admin_client, emulators, "/connection/salesforce/sandbox/")
    assert "is not a Salesforce sandbox" in page(admin_client)
    assert RecordLink.objects.count() == 1


def test_only_admins_with_a_csrf_token_use_the_actions(
    viewer_client, admin_user, sandbox_connected
):
    html = page(viewer_client)
    assert "Connect a different user" not in html and "Connect to a new sandbox" not in html
    for path in (
        "/connection/salesforce/user/",
        "/connection/salesforce/sandbox/",
        "/connection/salesforce/sandbox/confirm/",
    ):
        assert viewer_client.post(path).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    for path in ("/connection/salesforce/user/", "/connection/salesforce/sandbox/"):
        assert strict.post(path).status_code == 403


def test_sandbox_hosts_are_told_from_production():
    for host in (
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://acme--uat.my.salesforce.com",
        "https://cs42.salesforce.com",
    ):
        assert oauth.is_sandbox(login_url="", instance_url=host)
    for host in ("https://acme.my.salesforce.com", "https://na1.salesforce.com"):
        assert not oauth.is_sandbox(login_url="", instance_url=host)
    assert oauth.is_sandbox(login_url="https://test.salesforce.com", instance_url="https://x")


def test_connect_from_the_shell_with_sandbox_offers_a_new_sandbox(admin_client, emulators):
    """``manage.py connect --sandbox``: the emulator's host is no sandbox host, so only the
    flag tells the Connection page the org is a sandbox."""
    connect(emulators)
    assert "Connect to a new sandbox" not in page(admin_client)
    connect(emulators, "--sandbox")
    html = page(admin_client)
    assert "Connect to a new sandbox" in html and "· sandbox" in html
