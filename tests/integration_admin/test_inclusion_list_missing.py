"""The inclusion list chosen on the Contacts tab, deleted in HubSpot afterwards: Sync health
and the Contacts tab say that contacts are held, and why, until another list (or none) is
chosen; the next cycle then syncs as before."""

from __future__ import annotations

import re

import pytest

from emulators.testing import hubspot_client
from sync_engine.models import ApiCall, ResyncRequest
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.sync.helpers import hs_create

from .test_contacts import DEFAULT_FORM, HTMX, saved, sync_list

pytestmark = pytest.mark.django_db

MISSING = (
    "The inclusion list chosen on the Contacts tab (Sync to Salesforce) no longer exists in "
    "HubSpot: contacts are held until you choose another list, or none."
)


@pytest.fixture
def list_deleted(admin_client, live, emulators):
    """An admin chose "Sync to Salesforce" on the tab; someone then deleted it in HubSpot,
    and a cycle ran: the list's id."""
    list_id = sync_list(emulators)
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": list_id})
    assert saved(live)["inclusion_list_id"] == list_id
    hubspot_client(emulators, token="marketer-token").crm.lists.lists_api.remove(list_id)
    run = sync_cycle_run(integration=live, object_name="contacts")
    assert run.status == "succeeded", run.message
    return list_id


def test_sync_health_says_the_contacts_are_held_and_why(admin_client, list_deleted):
    html = admin_client.get("/sync-health/").content.decode()
    assert 'id="inclusion-list-missing"' in html
    notice = html[html.index('id="inclusion-list-missing"') :]
    notice = notice[: notice.index("</div>")]
    assert MISSING in notice
    assert "new Salesforce leads and contacts are still created in HubSpot" in notice
    assert 'href="/contacts/#limit"' in notice
    # The run says it too (not HubSpot's 404), having synced what it may.
    runs = html[html.index('id="sync-runs"') :]
    assert f"(HubSpot list {list_deleted}) no longer exists in HubSpot." in runs
    # (In the words shown: a timestamp's microseconds in an attribute may hold "404".)
    shown = re.sub(r"<[^>]+>", " ", runs).replace(f"HubSpot list {list_deleted}", "")
    assert not re.search(r"\b404\b", shown)
    assert '<span class="badge badge--succeeded">Succeeded</span>' in runs


def test_the_contacts_tab_shows_the_missing_list_by_its_name(admin_client, list_deleted):
    before = ApiCall.objects.filter(operation="lists.get").count()
    picker = admin_client.get(f"/objects/contacts/lists/?selected={list_deleted}", **HTMX)
    html = picker.content.decode()
    assert (
        f'<option value="{list_deleted}" selected>Sync to Salesforce (no longer exists in '
        "HubSpot)</option>"
    ) in html
    assert 'aria-invalid="true" aria-describedby="list-missing"' in html
    assert (
        "This list no longer exists in HubSpot (it was deleted there), so contacts are held "
        "until you choose another list, or none." in html
    )
    assert ApiCall.objects.filter(operation="lists.get").count() == before  # the run knew


def test_sync_a_contact_says_the_list_is_gone(admin_client, live, hs_person, list_deleted):
    contact = hs_create(hs_person, email="held@example.com", lastname="Held", jobtitle="Buyer")
    html = admin_client.post(
        "/contacts/sync/", {"contact": contact}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert (
        "The inclusion list (Sync to Salesforce) no longer exists in HubSpot, so no contact "
        "syncs to Salesforce. Choose another list above, or none to sync all contacts." in html
    )
    assert not ResyncRequest.objects.exists()


def test_choosing_no_list_ends_it_at_once(admin_client, live, list_deleted):
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": ""})
    assert saved(live)["inclusion_list_id"] is None
    # Sync health says so no longer at once, not a cycle later.
    assert 'id="inclusion-list-missing"' not in admin_client.get("/sync-health/").content.decode()
    run = sync_cycle_run(integration=live, object_name="contacts")
    assert (run.status, run.message) == ("succeeded", "")
    html = admin_client.get("/sync-health/").content.decode()
    assert 'id="inclusion-list-missing"' not in html
    html = admin_client.get("/objects/contacts/lists/?selected=", **HTMX).content.decode()
    assert "no longer exists" not in html


def test_another_list_chosen_is_shown_as_it_is_before_the_next_cycle(
    admin_client, live, emulators, lists, list_deleted
):
    admin_client.post("/contacts/", {**DEFAULT_FORM, "inclusion_list_id": lists["other"]})
    html = admin_client.get(
        f"/objects/contacts/lists/?selected={lists['other']}", **HTMX
    ).content.decode()
    assert f'<option value="{lists["other"]}" selected>Known emails' in html
    assert "no longer exists" not in html
    assert 'id="inclusion-list-missing"' not in admin_client.get("/sync-health/").content.decode()
    run = sync_cycle_run(integration=live, object_name="contacts")
    assert (run.status, run.message) == ("succeeded", "")
