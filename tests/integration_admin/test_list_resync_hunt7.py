"""*Resync a list* on the Contacts and Companies tabs and over the REST API (spec §5.2
"resyncing a whole list or segment", §8.2: how a new mapping is backfilled): pick a HubSpot
list, confirm what it costs, the members are queued, audit-logged, and the next cycle writes
their values to Salesforce. Admins only, with the form's CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

from emulators.testing import advance_clocks
from sync_engine.models import AuditEvent, ResyncRequest
from sync_engine.services import (
    mapping_create,
    object_settings_update,
    object_sync_get_or_create,
)
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.sync.helpers import hs_create

from .test_api_hunt7 import TokenClient

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "list-resync"}
URL = "/contacts/list-resync/"


def hs_list(emulators, name: str, record_ids, object_type: str = "contacts") -> str:
    made = emulators.hubspot.app.run_action(
        "create_list",
        list_name=name,
        object_type=object_type,
        record_ids=[str(i) for i in record_ids],
    )
    return str(made["listId"])


def descriptions(sf, emails) -> dict[str, str | None]:
    quoted = ", ".join(f"'{e}'" for e in emails)
    soql = f"SELECT Email, Description FROM Lead WHERE Email IN ({quoted})"  # noqa: S608
    return {r["Email"]: r["Description"] for r in sf.query(soql)["records"]}


@pytest.fixture
def backfill(live, emulators, hs_person, sf_person):
    """Three contacts synced before a mapping of their Twitter handle to the lead's
    Description was added: nothing backfilled. Returns their emails and the list of them."""
    object_sync_get_or_create(integration=live, object_name="contacts")
    emails = [f"b{i}@backfill.example" for i in range(3)]
    ids = [
        hs_create(hs_person, email=e, lastname="B", company="Acme", twitterhandle=f"@{e[:2]}")
        for e in emails
    ]
    sync_cycle_run(integration=live, object_name="contacts")
    advance_clocks(emulators, 600)
    sync_cycle_run(integration=live, object_name="contacts")
    mapping_create(
        integration=live,
        object_name="contacts",
        hubspot_property="twitterhandle",
        salesforce_field="Description",
    )
    sync_cycle_run(integration=live, object_name="contacts")
    assert descriptions(sf_person, emails) == dict.fromkeys(emails)
    return emails, hs_list(emulators, "Backfill <handles>", ids)


def test_an_admin_resyncs_a_list_from_the_contacts_tab(
    admin_client, admin_user, live, backfill, sf_person, django_capture_on_commit_callbacks
):
    emails, list_id = backfill
    # The tab draws the card, which asks for HubSpot's lists once shown.
    html = admin_client.get("/contacts/").content.decode()
    assert 'id="list-resync"' in html and f'hx-get="{URL}" hx-trigger="load"' in html
    html = admin_client.get(URL, **HTMX).content.decode()
    assert html.lstrip().startswith('<section class="card" id="list-resync"')
    assert f'<option value="{list_id}">Backfill &lt;handles&gt; (3 records)</option>' in html
    assert 'hx-trigger="load"' not in html

    # Review: what will happen and what it costs; nothing queued yet.
    html = admin_client.post(URL, {"list_id": list_id}, **HTMX).content.decode()
    assert (
        "3 contacts in Backfill &lt;handles&gt; will be synced again: their mapped values are "
        "compared and written where the sync rules say" in html
    )
    assert "This costs about 5 Salesforce calls, over 1 sync cycle." in html
    assert ">Resync 3 contacts</button>" in html
    assert not ResyncRequest.objects.exists()

    # Confirm: queued (the cycle it starts runs here at once), audit-logged.
    with django_capture_on_commit_callbacks() as callbacks:
        html = admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, **HTMX).content.decode()
    assert (
        'role="status">Queued 3 contacts from Backfill &lt;handles&gt;; they sync over the '
        "next cycles.</div>" in html
    )
    assert len(callbacks) == 1 and ResyncRequest.objects.count() == 3
    event = AuditEvent.objects.get(action="records.list_resync_requested")
    assert event.actor == admin_user and event.details["records"] == 3
    audit = admin_client.get("/audit/").content.decode()
    assert "List resync" in audit and "Contacts · Backfill &lt;handles&gt;" in audit

    run = sync_cycle_run(integration=live, object_name="contacts")
    assert run.counts["retried"] == 3
    assert descriptions(sf_person, emails) == {e: f"@{e[:2]}" for e in emails}
    assert not ResyncRequest.objects.exists()


def test_without_htmx_the_tab_confirms_and_says_what_was_queued(admin_client, live, backfill):
    _, list_id = backfill
    response = admin_client.post(URL, {"list_id": list_id})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<h1 class="page__title">Contacts</h1>' in html  # the whole tab, with the confirmation
    assert 'name="confirm" value="1"' in html and "3 contacts in Backfill" in html
    response = admin_client.post(URL, {"list_id": list_id, "confirm": "1"}, follow=True)
    assert "Queued 3 contacts from Backfill &lt;handles&gt;" in response.content.decode()
    assert ResyncRequest.objects.count() == 3


def test_the_card_says_why_it_queues_nothing(admin_client, live, emulators):
    object_sync_get_or_create(integration=live, object_name="contacts")
    company = emulators.hubspot.app.run_action(
        "create", object_type="companies", properties={"name": "Acme"}
    )["id"]
    companies = hs_list(emulators, "Key accounts", [company], "companies")

    def refused(list_id: str) -> str:
        response = admin_client.post(URL, {"list_id": list_id}, **HTMX)
        assert response.status_code == 200  # htmx swaps in only a 2xx answer
        html = response.content.decode()
        assert 'aria-invalid="true"' in html
        return html

    assert 'role="alert">HubSpot has no list 424242.</div>' in refused("424242")
    assert "HubSpot list Key accounts isn&#x27;t a contact list." in refused(companies)
    assert "Nobody has no members" in refused(hs_list(emulators, "Nobody", []))
    # A contact list isn't offered on the Companies tab's card, nor taken there.
    object_settings_update(integration=live, object_name="companies", changes={}, enabled=True)
    html = admin_client.get("/companies/list-resync/", **HTMX).content.decode()
    assert "Key accounts" in html
    html = admin_client.post("/companies/list-resync/", {"list_id": companies}, **HTMX)
    assert "1 company in Key accounts will be synced again" in html.content.decode()
    assert not ResyncRequest.objects.exists()


def test_the_card_is_for_admins_only_and_needs_the_forms_csrf_token(
    viewer_client, admin_user, live, emulators
):
    object_sync_get_or_create(integration=live, object_name="contacts")
    list_id = hs_list(emulators, "Anyone", [])
    assert 'id="list-resync"' not in viewer_client.get("/contacts/").content.decode()
    assert viewer_client.get(URL, **HTMX).status_code == 403
    for data in ({"list_id": list_id}, {"list_id": list_id, "confirm": "1"}):
        assert viewer_client.post(URL, data).status_code == 403
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(URL, {"list_id": list_id, "confirm": "1"}).status_code == 403
    assert admin_client_404(admin_user)
    assert not ResyncRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="records.list_resync_requested").exists()


def admin_client_404(admin_user) -> bool:
    """Only contacts and companies are resynced by list."""
    client = Client()
    client.force_login(admin_user)
    return client.get("/deals/list-resync/").status_code == 404


# --- the REST API ----------------------------------------------------------------------------
API = "/api/v1/lists/resync/"


def test_the_api_resyncs_a_list(admin_user, viewer_user, live, backfill, sf_person):
    emails, list_id = backfill
    api = TokenClient(admin_user)
    dry = api.post(API, {"object": "contacts", "list_id": list_id, "dry_run": True})
    assert dry.status_code == 200, dry.content
    assert dry.json() == {
        "object": "contacts",
        "list_id": list_id,
        "list_name": "Backfill <handles>",
        "members": 3,
        "queued": 0,
        "salesforce_calls": 5,
        "cycles": 1,
        "syncs_now": False,
        "waits": None,
        "message": dry.json()["message"],
    }
    assert dry.json()["message"].startswith("3 contacts in Backfill <handles> will be synced")
    assert not ResyncRequest.objects.exists()

    # Viewers read only; unknown fields and bad values are refused; nothing queued.
    assert (
        TokenClient(viewer_user).post(API, {"object": "contacts", "list_id": list_id}).status_code
        == 403
    )
    bogus = api.post(API, {"object": "contacts", "list_id": list_id, "bogus": 1})
    assert bogus.status_code == 400 and "bogus" in bogus.json()
    assert api.post(API, {"object": "deals", "list_id": list_id}).status_code == 400
    assert api.post(API, {"object": "contacts", "list_id": "abc"}).json() == {
        "list_id": ["A HubSpot list id: digits only."]
    }
    assert api.post(API, {"object": "contacts", "list_id": "424242"}).json() == {
        "list_id": ["HubSpot has no list 424242."]
    }
    assert api.post(API, {"object": "companies", "list_id": list_id}).json() == {
        "object": ["Turn company sync on first."]
    }
    assert not ResyncRequest.objects.exists()

    done = api.post(API, {"object": "contacts", "list_id": list_id})
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["queued"], body["members"], body["syncs_now"]) == (3, 3, True)
    assert body["message"] == (
        "Queued 3 contacts from Backfill <handles>; they sync over the next cycles."
    )
    assert AuditEvent.objects.get(action="records.list_resync_requested").actor == admin_user
    sync_cycle_run(integration=live, object_name="contacts")
    assert descriptions(sf_person, emails) == {e: f"@{e[:2]}" for e in emails}


def test_the_endpoint_is_in_the_schema(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][API]["post"]
    assert {"200", "400", "403", "503"} <= set(operation["responses"])
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(body["properties"]) == {"object", "list_id", "dry_run"}
