"""The suspension email (spec §4), as the engine sends it: the integration admins who asked
get one email when a cycle suspends the integration (here: Salesforce stops taking the
token, a real 401 from the emulator), with the reason, what to do and a link to Sync health;
no second one while it stays suspended, another once it was cleared and suspends again. A
mail server that fails is logged and the cycle ends as it would have."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from integration_admin.roles import ADMINS, VIEWERS
from sync_engine.models import Integration, SyncRun
from sync_engine.notifications import suspension_email_set, suspension_notify
from sync_engine.services import integration_set_state, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run, sync_cycles_run

from .conftest import SF_TOKEN

pytestmark = pytest.mark.django_db

REASON = "Salesforce: the credentials were rejected. Reconnect on the Connection tab."


def person(django_user_model, name: str, *, group: str = ADMINS, email: str = "", **extra):
    user = django_user_model.objects.create_user(
        name, email=email if email is not None else "", password=f"{name}-pass-123", **extra
    )
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def opted_in(integration, user, language: str = "en"):
    suspension_email_set(integration=integration, user=user, wanted=True, language=language)
    return user


@pytest.fixture
def ada(connected, django_user_model):
    """An integration admin who asked for the suspension email."""
    return opted_in(connected, person(django_user_model, "ada", email="ada@example.com"))


@pytest.fixture
def token_rejected(connected, emulators):
    """Salesforce no longer takes the integration user's token (revoked, expired)."""
    object_sync_get_or_create(integration=connected, object_name="contacts")
    emulators.salesforce.app.run_action("expire_token", token=SF_TOKEN)
    return connected


def suspending_cycle(integration, capture) -> SyncRun:
    """One contacts cycle, its after-commit work run as a worker's would be."""
    with capture(execute=True):
        run = sync_cycle_run(integration=integration, object_name="contacts")
    return run


def test_a_suspension_emails_the_admins_who_asked_once_with_the_reason_and_the_fix(
    token_rejected, ada, django_user_model, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://sync.example.com/"
    person(django_user_model, "bob", email="bob@example.com")  # an admin who didn't ask
    run = suspending_cycle(token_rejected, django_capture_on_commit_callbacks)

    token_rejected.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert token_rejected.state == Integration.State.SUSPENDED
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == f"{token_rejected.name}: syncing is suspended"
    # The reason as the status bar says it (the system by its name).
    assert f"Reason: {REASON}" in email.body
    # What the status bar says to do about it.
    assert (
        "What to do: Fix the cause above, then clear the suspension. If it persists, reconnect."
        in email.body
    )
    assert "https://sync.example.com/sync-health/" in email.body
    assert "https://sync.example.com/connection/#suspension-email" in email.body

    # Later cycles find it suspended: no second email.
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            sync_cycles_run(integration=token_rejected)
    assert len(mail.outbox) == 1


def test_cleared_and_suspended_again_emails_again(
    token_rejected, ada, django_capture_on_commit_callbacks
):
    suspending_cycle(token_rejected, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    # An admin clears the suspension while the token is still refused: the next cycle
    # suspends again, a new suspension with its own email.
    integration_set_state(integration=token_rejected, state=Integration.State.CONNECTED, actor=ada)
    run = suspending_cycle(token_rejected, django_capture_on_commit_callbacks)
    assert run.status == SyncRun.Status.FAILED
    assert Integration.objects.get(pk=token_rejected.pk).state == Integration.State.SUSPENDED
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["ada@example.com"]


def test_two_cycles_suspending_together_send_one_email(
    token_rejected, ada, django_capture_on_commit_callbacks
):
    """Two pairs' cycles read the integration connected, and both suspend it (the second
    with a reason of its own): one suspension, one email."""
    read_before = Integration.objects.get(pk=token_rejected.pk)
    suspending_cycle(token_rejected, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        integration_set_state(
            integration=read_before,
            state=Integration.State.SUSPENDED,
            reason="HubSpot: the credentials were rejected. Reconnect on the Connection tab.",
        )
        assert suspension_notify(integration=read_before) is False
    assert len(mail.outbox) == 1


def test_only_admins_who_asked_and_have_an_address_get_it(
    token_rejected, django_user_model, django_capture_on_commit_callbacks
):
    integration = token_rejected
    opted_in(integration, person(django_user_model, "ada", email="ada@example.com"))
    opted_in(integration, person(django_user_model, "noaddress", email=""))
    opted_in(integration, person(django_user_model, "gone", email="gone@example.com"))
    django_user_model.objects.filter(username="gone").update(is_active=False)
    # Asked as an admin, moved to Viewers since.
    demoted = opted_in(integration, person(django_user_model, "vic", email="vic@example.com"))
    demoted.groups.set([Group.objects.get_or_create(name=VIEWERS)[0]])
    root = person(django_user_model, "root", group="", email="root@example.com", is_superuser=True)
    opted_in(integration, root)
    # Asked, then changed their mind.
    carl = opted_in(integration, person(django_user_model, "carl", email="carl@example.com"))
    suspension_email_set(integration=integration, user=carl, wanted=False)

    suspending_cycle(integration, django_capture_on_commit_callbacks)
    assert sorted(address for email in mail.outbox for address in email.to) == [
        "ada@example.com",
        "root@example.com",
    ]


def test_a_mail_server_that_fails_is_logged_and_the_cycle_ends_as_it_would_have(
    token_rejected, ada, django_capture_on_commit_callbacks, settings, caplog
):
    import socket

    with socket.socket() as probe:  # a port on this machine nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    with caplog.at_level(logging.ERROR):
        run = suspending_cycle(token_rejected, django_capture_on_commit_callbacks)
    assert run.status == SyncRun.Status.FAILED
    assert run.message  # what the cycle says, as without email
    assert Integration.objects.get(pk=token_rejected.pk).state == Integration.State.SUSPENDED
    assert "The suspension emails were not sent" in caplog.text
    assert mail.outbox == []
