"""Management commands given bad input, as a self-hosting admin's script might: a clear
message and a non-zero exit, never a traceback or something other than --help says."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from knox.models import AuthToken

from sync_engine.models import AuditEvent, Integration
from tests.integration_admin.management.test_api_token import create
from tests.sync_engine.management.test_connect import connect
from tests.sync_engine.management.test_ensure_admin import run as ensure_admin

pytestmark = pytest.mark.django_db


def test_revoking_an_empty_prefix_revokes_nothing_and_creates_no_token():
    """`api_token ops --revoke "$PREFIX"` with the variable empty: refused, where it used to
    make (and print) a new never-expiring token."""
    get_user_model().objects.create_user("ops", password="ops-pass-123")
    create("ops")
    with pytest.raises(CommandError, match="ops has no token with prefix ''"):
        call_command("api_token", "ops", "--revoke", "")
    assert AuthToken.objects.count() == 1
    assert AuditEvent.objects.filter(action="api_token.created").count() == 1
    with pytest.raises(CommandError, match="--expires-days only goes with creating a token"):
        call_command("api_token", "ops", "--revoke", "", "--expires-days", "3")
    assert AuthToken.objects.count() == 1


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("", "cannot be blank"),
        ("ops admin!", "Enter a valid username"),
        ("o" * 151, "at most 150 characters"),
    ],
)
def test_ensure_admin_refuses_a_username_nobody_could_log_in_with(username, reason):
    with pytest.raises(CommandError) as caught:
        ensure_admin("--username", username)
    assert "refused, nothing changed" in str(caught.value) and reason in str(caught.value)
    assert not get_user_model().objects.exists()
    assert not AuditEvent.objects.filter(action="admin.created").exists()


def test_connect_refuses_a_malformed_hubspot_url_with_a_message(emulators):
    """It was a ValueError traceback."""
    with pytest.raises(CommandError) as caught:
        connect(emulators, hubspot_url="http://[::1")
    message = str(caught.value)
    assert "http://[::1" in message and "Invalid IPv6 URL" in message
    assert "--hubspot-url" in message
    assert not Integration.objects.filter(state=Integration.State.CONNECTED).exists()
