"""The Connection page tells a sandbox by the connection's ``sandbox`` field (set by the
OAuth callback), not by the audit log: deleted audit events change nothing. Through the real
OAuth flow against the Salesforce emulator."""

from __future__ import annotations

import pytest

from sync_engine.models import AuditEvent, SalesforceConnection
from tests.integration_admin.test_connect_user_sandbox_hunt7 import (  # noqa: F401 (fixtures)
    at_emulator,
    oauth_connected,
    page,
    sandbox_connected,
    sign_in,
)

pytestmark = pytest.mark.django_db


def test_a_sandbox_sign_in_marks_the_connection(sandbox_connected):  # noqa: F811 (the fixture)
    assert SalesforceConnection.objects.get(integration=sandbox_connected).sandbox is True


def test_a_production_sign_in_does_not_mark_it(
    admin_client,
    oauth_connected,  # noqa: F811 (the fixture)
):
    assert SalesforceConnection.objects.get(integration=oauth_connected).sandbox is False
    assert "Connect to a new sandbox" not in page(admin_client)


def test_the_page_offers_a_new_sandbox_from_the_field_not_the_audit_log(
    admin_client,
    sandbox_connected,  # noqa: F811 (the fixture)
    emulators,
):
    AuditEvent.objects.all().delete()
    html = page(admin_client)
    assert "Connect to a new sandbox" in html and "· sandbox" in html
    response = admin_client.post("/connection/salesforce/sandbox/")
    assert response["Location"].startswith(emulators.salesforce.url + "/services/oauth2/")

    # Reconnected where it lives, it stays a sandbox.
    sign_in(admin_client, emulators, "/connection/salesforce/connect/")
    assert SalesforceConnection.objects.get(integration=sandbox_connected).sandbox is True
    assert "Connect to a new sandbox" in page(admin_client)


def test_a_production_connection_with_a_sandbox_audit_event_is_not_offered_one(
    admin_client,
    oauth_connected,  # noqa: F811 (the fixture)
):
    """Only the field counts: an audit event claiming a sandbox (an old connect's) doesn't."""
    AuditEvent.objects.create(
        integration=oauth_connected,
        action="integration.connected",
        details={"salesforce_sandbox": True},
    )
    assert "Connect to a new sandbox" not in page(admin_client)
    response = admin_client.post("/connection/salesforce/sandbox/")
    assert response["Location"] == "/connection/"
