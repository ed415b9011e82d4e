"""The Connection page's *Suspension emails* card (spec §4: admins opt into an email when the
integration is suspended): an admin turns it on and off for themselves, with and without
htmx, the CSRF token checked and each change in the audit log; viewers don't get the card
and can't post it. Then a real suspension (HubSpot stops taking the token, a 401 from the
emulator) emails the admin what the status bar says, with a link that opens Sync health."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client

from sync_engine.models import AuditEvent, HubSpotConnection, Integration, SuspensionEmail
from sync_engine.services import object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycles_run

pytestmark = pytest.mark.django_db

CARD = 'id="suspension-email"'
TURN_ON = "Email me when syncing is suspended"
TURN_OFF = "Stop emailing me"


@pytest.fixture
def ada(admin_user):
    admin_user.email = "ada@example.com"
    admin_user.save()
    return admin_user


def card(html: str) -> str:
    return html[html.index(CARD) : html.index("</section>", html.index(CARD))]


def opt(client, page_form, choice: str, **headers):
    """Post the card's form as the Connection page draws it (its CSRF token included)."""
    form = page_form(client.get("/connection/").content, "suspension-email-form")
    return client.post(
        "/connection/suspension-email/", {**form, "suspension_email": choice}, **headers
    )


def test_an_admin_turns_the_email_on_and_off_and_each_change_is_audit_logged(
    ada, connected, page_form
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    html = client.get("/connection/").content.decode()
    assert "Suspension emails" in card(html)
    assert "You don't get these emails." in card(html) and TURN_ON in card(html)

    response = opt(client, page_form, "on")
    assert response.status_code == 302
    assert response["Location"] == "/connection/#suspension-email"
    html = client.get(response["Location"]).content.decode()
    assert "You'll get an email at ada@example.com when syncing is suspended." in unescape(html)
    assert "You get these emails." in card(html) and "They go to ada@example.com." in card(html)
    assert TURN_OFF in card(html) and TURN_ON not in card(html)
    assert SuspensionEmail.objects.filter(integration=connected, user=ada).exists()

    # A second tab still showing "Email me…": stays on, logged once.
    opt(client, page_form, "on")
    response = opt(client, page_form, "off")
    html = client.get(response["Location"]).content.decode()
    assert "You'll no longer get an email when syncing is suspended." in unescape(html)
    assert TURN_ON in card(html)
    assert not SuspensionEmail.objects.exists()

    events = AuditEvent.objects.filter(action__startswith="notifications.").order_by("pk")
    assert [(e.action, e.actor) for e in events] == [
        ("notifications.suspension_email_on", ada),
        ("notifications.suspension_email_off", ada),
    ]
    audit = client.get("/audit/").content.decode()
    assert "Suspension emails turned on" in audit and "Suspension emails turned off" in audit


def test_with_htmx_the_card_swaps_in_place_with_the_message(ada, connected, page_form):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    response = opt(client, page_form, "on", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert html.lstrip().startswith(f'<section class="card" {CARD}')
    assert TURN_OFF in html
    assert 'id="flash"' in html and 'hx-swap-oob="innerHTML"' in html
    assert "You'll get an email at ada@example.com when syncing is suspended." in html


def test_an_admin_without_an_address_is_told_no_email_can_be_sent(
    admin_client, admin_user, connected, page_form
):
    html = admin_client.get("/connection/").content.decode()
    assert "Your login has no email address" in card(html)
    response = opt(admin_client, page_form, "on")
    html = admin_client.get(response["Location"]).content.decode()
    assert "Saved. No email can be sent until your login has an email address." in html


def test_viewers_get_no_card_and_cannot_post(viewer_client, viewer_user, connected):
    assert CARD not in viewer_client.get("/connection/").content.decode()
    response = viewer_client.post("/connection/suspension-email/", {"suspension_email": "on"})
    assert response.status_code == 403
    assert not SuspensionEmail.objects.exists()


def test_the_post_needs_the_csrf_token_and_a_choice(ada, connected, admin_client):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    assert (
        client.post("/connection/suspension-email/", {"suspension_email": "on"}).status_code == 403
    )
    assert (
        admin_client.post("/connection/suspension-email/", {"suspension_email": "x"}).status_code
        == 400
    )
    assert admin_client.get("/connection/suspension-email/").status_code == 405
    assert not SuspensionEmail.objects.exists()


def test_a_dutch_admin_asks_in_dutch(ada, connected, admin_client, page_form, back_to_english):
    admin_client.cookies["django_language"] = "nl"
    opt(admin_client, page_form, "on")
    assert SuspensionEmail.objects.get(user=ada).language == "nl"


def test_a_real_suspension_emails_what_the_status_bar_says_with_a_link_to_sync_health(
    ada, live, emulators, page_form, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "http://testserver"
    client = Client()
    client.force_login(ada)
    opt(client, page_form, "on")

    HubSpotConnection.objects.filter(integration=live).update(access_token="rotated-away-token")
    emulators.hubspot.app.run_action("expire_token", token="rotated-away-token")
    object_sync_get_or_create(integration=live, object_name="contacts")
    with django_capture_on_commit_callbacks(execute=True):
        sync_cycles_run(integration=live, object_names=["contacts"])
    assert Integration.objects.get(pk=live.pk).state == Integration.State.SUSPENDED

    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == f"{live.name}: syncing is suspended"
    page = unescape(client.get("/connection/").content.decode())
    reason = re.search(r'statusbar__reason">([^<]+)<', page).group(1)
    advice = re.search(r'statusbar__advice">([^<]+)<', page).group(1)
    assert reason == "HubSpot: the credentials were rejected. Reconnect on the Connection tab."
    assert f"Reason: {reason}\nWhat to do: {advice}\n" in email.body
    [link] = re.findall(r"http://testserver(/sync-health/)", email.body)
    assert client.get(link).status_code == 200
    # Its own link back to the card turns it off.
    assert "http://testserver/connection/#suspension-email" in email.body

    # Still suspended at the next cycle: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        sync_cycles_run(integration=live, object_names=["contacts"])
    assert len(mail.outbox) == 1
