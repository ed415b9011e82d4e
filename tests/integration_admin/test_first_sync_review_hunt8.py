"""A first connection waits for an admin to review the settings before the first sync (the
first cycle syncs the records both CRMs already hold: an inclusion list chosen after it would
come too late). Started on the Connection page, or with ``manage.py connect --start``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sync_engine.models import AuditEvent, Integration, RecordLink, SyncRun
from sync_engine.sync.cycle import sync_cycles_run
from sync_engine.sync.schedule import due_cycles
from tests.sync_engine.management.test_connect import connect

from .test_connection import authorize, statusbar

pytestmark = pytest.mark.django_db


def header(html: str) -> str:
    """The status bar with its actions."""
    start = html.index('<div class="statusbar ')
    return html[start : html.index("statusbar__actions", start) + 600]


def connect_in_the_browser(admin_client, emulators, settings) -> Integration:
    settings.SALESFORCE_LOGIN_URL = emulators.salesforce.url
    settings.SALESFORCE_CA_FILE = str(emulators.ca_path)
    response = admin_client.post(
        "/connection/salesforce/connect/",
        {"hubspot_url": emulators.hubspot.url, "hubspot_token": "first-connect-app-token"},
    )
    back = authorize(emulators, response["Location"])
    landed = admin_client.get(back.replace("http://testserver", ""), follow=True)
    assert "Sync hasn&#x27;t started: review what will sync" in landed.content.decode()
    return Integration.objects.get()


def test_a_first_connect_waits_until_an_admin_starts_the_sync(
    admin_client, admin_user, emulators, settings, sf_person
):
    integration = connect_in_the_browser(admin_client, emulators, settings)
    assert integration.state == Integration.State.CONNECTED
    assert not integration.sync_enabled and integration.sync_not_started
    connected = AuditEvent.objects.get(action="integration.connected")
    assert connected.details["sync_waits_for_start"] is True

    html = admin_client.get("/connection/").content.decode()
    assert "Sync hasn't started yet." in html and "Turned off" not in html
    assert "Start syncing" in html and 'name="sync" value="on"' in html
    assert "when sync is back on" not in html  # nothing was on before
    bar = statusbar(html)
    assert "<strong>Not started</strong>" in bar
    assert "which HubSpot contacts sync" in bar
    start = 'href="/connection/#sync-switch">Review and start…</a>'
    assert start in header(html)
    assert start in header(admin_client.get("/contacts/").content.decode())  # on every page
    answer = admin_client.get("/api/v1/integration/").json()
    assert answer["sync_not_started"] is True and answer["sync_enabled"] is False

    # Nothing runs meanwhile, however much there is to sync.
    lead = sf_person.Lead.create(
        {"LastName": "Lovelace", "Company": "Engines", "Email": "ada@example.com"}
    )["id"]
    assert due_cycles() == []
    assert not SyncRun.objects.exists()

    response = admin_client.post("/connection/sync/", {"sync": "on"}, follow=True)
    assert "Sync started: the first cycle runs within a minute." in response.content.decode()
    integration.refresh_from_db()
    assert integration.sync_enabled and not integration.sync_not_started
    started = AuditEvent.objects.get(action="integration.sync_turned_on")
    assert started.actor == admin_user
    assert (integration.pk, "contacts") in due_cycles()
    runs = sync_cycles_run(integration=integration, object_names=["contacts"])
    assert [r.status for r in runs] == [SyncRun.Status.SUCCEEDED]
    assert RecordLink.objects.filter(integration=integration, salesforce_id=lead).exists()

    # Turned off later, it is an admin's "off", not "not started".
    admin_client.post("/connection/sync/", {"sync": "off"})
    html = admin_client.get("/connection/").content.decode()
    assert 'name="sync" value="on">Start syncing' not in html and "Turned off by" in html


def test_viewers_see_it_waits_but_cannot_start_it(admin_client, viewer_client, emulators, settings):
    connect_in_the_browser(admin_client, emulators, settings)
    html = viewer_client.get("/connection/").content.decode()
    assert "Sync hasn't started yet." in html and 'name="sync" value="on"' not in html
    assert "Review and start…" not in html  # admins only
    assert viewer_client.post("/connection/sync/", {"sync": "on"}).status_code == 403
    assert Integration.objects.get().sync_not_started


def test_a_reconnect_keeps_the_switch_as_it_was(admin_client, emulators, settings):
    """Only a first connection waits: a reconnect of an integration that synced, or that an
    admin turned on, changes nothing."""
    integration = connect_in_the_browser(admin_client, emulators, settings)
    admin_client.post("/connection/sync/", {"sync": "on"})
    admin_client.post("/connection/disconnect/")
    connect_again = admin_client.post(
        "/connection/salesforce/connect/",
        {"hubspot_url": emulators.hubspot.url, "hubspot_token": "again-app-token"},
    )
    admin_client.get(
        authorize(emulators, connect_again["Location"]).replace("http://testserver", "")
    )
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED and integration.sync_enabled


def test_manage_py_connect_waits_too_unless_told_to_start(emulators):
    output = connect(emulators, start=False)
    assert "Sync hasn't started: review what will sync" in output
    assert "--start" in output
    integration = Integration.objects.get()
    assert integration.sync_not_started and due_cycles() == []
    with pytest.raises(CommandError, match="Sync hasn't started yet"):
        call_command("sync_now", stdout=StringIO())
    assert not SyncRun.objects.exists()

    # Connecting again with --start starts a sync an earlier connect held.
    output = connect(emulators)  # with --start
    assert "Sync hasn't started" not in output
    integration.refresh_from_db()
    assert integration.sync_enabled
    assert AuditEvent.objects.filter(action="integration.sync_turned_on").count() == 1


def test_manage_py_connect_start_syncs_from_the_first_connection(emulators):
    connect(emulators)  # with --start
    integration = Integration.objects.get()
    assert integration.sync_enabled and not integration.sync_not_started
    assert not AuditEvent.objects.get(action="integration.connected").details.get(
        "sync_waits_for_start"
    )


def test_the_sync_card_says_what_the_first_cycle_will_read_and_make(
    admin_client, emulators, sf_person
):
    from emulators.testing import active_list
    from sync_engine.models import ApiCall
    from sync_engine.services import object_settings_update
    from tests.sync_engine.sync.helpers import hs_contacts
    from tests.sync_engine.sync.test_contacts_inclusion_list import SYNC_FLAG

    connect(emulators, start=False)
    integration = Integration.objects.get()
    for n in range(3):
        sf_person.Lead.create({"LastName": f"Lead {n}", "Company": "Acme"})
    sf_person.Contact.create({"LastName": "Contact"})
    hs_contacts(emulators, 2, email="out{i}@example.com")
    hs_contacts(emulators, 2, start=2, email="in{i}@example.com", jobtitle="sync me")
    html = admin_client.get("/connection/").content.decode()
    card = html[html.index('id="first-sync"') :]
    assert "Salesforce holds 3 leads (not converted) and 1 contacts." in card
    assert "HubSpot holds 4 contacts." in card
    assert "All of them sync: no inclusion list is chosen." in card
    assert "A HubSpot contact Salesforce lacks becomes a Salesforce lead." in card
    assert "No other object is switched on" in card

    # Kept a few minutes: the page asks again only once the choice changes.
    calls = ApiCall.objects.count()
    admin_client.get("/connection/")
    assert ApiCall.objects.count() == calls

    listed = active_list(emulators, "Sync to <Salesforce>", filter_branch=SYNC_FLAG)
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"inclusion_list_id": listed, "hubspot_creates": "contact"},
    )
    object_settings_update(
        integration=integration, object_name="companies", changes={}, enabled=True
    )
    card = admin_client.get("/connection/").content.decode()
    card = card[card.index('id="first-sync"') :]
    assert "Only the 2 members of the inclusion list “Sync to &lt;Salesforce&gt;” sync." in card
    assert "A HubSpot contact Salesforce lacks becomes a Salesforce contact." in card
    assert "Also switched on, and synced the same way: Companies." in card

    # Started, the card no longer guesses.
    admin_client.post("/connection/sync/", {"sync": "on"})
    assert 'id="first-sync"' not in admin_client.get("/connection/").content.decode()


def test_counts_that_cant_be_read_say_so_and_the_page_still_shows(admin_client, connected):
    """The fixture's connections point at hosts nobody listens on."""
    Integration.objects.filter(pk=connected.pk).update(sync_enabled=False, sync_changed_at=None)
    html = admin_client.get("/connection/").content.decode()
    assert "the leads and contacts couldn't be counted just now." in html
    assert "the contacts couldn't be counted just now." in html
    assert "Start syncing" in html
