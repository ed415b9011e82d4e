from io import StringIO

import pytest
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from sync_engine.models import AuditEvent

pytestmark = pytest.mark.django_db


def authenticate(**credentials):
    """As the login page does: with the request (the lock-out backend needs it)."""
    return django_authenticate(RequestFactory().post("/login/"), **credentials)


def run(*args) -> str:
    out = StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue()


def test_generates_and_prints_a_password():
    output = run()
    password = output.split("Password:")[1].strip()
    assert "Created admin user 'admin'" in output
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_staff and user.is_superuser


def test_resets_an_existing_admin():
    run("--username", "ops", "--password", "first-Pass-123")
    output = run("--username", "ops", "--password", "second-Pass-456")
    assert "Reset the password of admin user 'ops'" in output
    assert authenticate(username="ops", password="first-Pass-123") is None
    assert authenticate(username="ops", password="second-Pass-456") is not None


def test_refuses_a_password_the_password_rules_refuse():
    """AUTH_PASSWORD_VALIDATORS apply here too: a short or common password is refused with
    the rule it breaks, and nothing is created or changed."""
    with pytest.raises(CommandError) as caught:
        run("--username", "ops", "--password", "short")
    message = str(caught.value)
    assert "Password refused" in message and "too short" in message and "8 characters" in message
    assert not get_user_model().objects.filter(username="ops").exists()

    run("--username", "ops", "--password", "first-Pass-123")
    with pytest.raises(CommandError, match="too common"):
        run("--username", "ops", "--password", "password123")
    assert authenticate(username="ops", password="first-Pass-123") is not None
    assert not AuditEvent.objects.filter(action="admin.password_reset").exists()
