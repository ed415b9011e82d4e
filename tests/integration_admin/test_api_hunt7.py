"""The pages' actions over the REST API (the Discover page says the API does what the pages
do): a record's Resync, *Sync a contact* / *Sync a company*, imports from Salesforce, *Sync
now*, the whole sync's switch, Disconnect, *Create view* and refreshing the field lists. Each
with a real token (no CSRF), audit-logged as on the page, admins only, 400 for bad input, and
in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone
from hubspot.crm.properties import PropertyCreate
from knox.models import AuthToken

from integration_admin.discover import FEATURES
from sync_engine.imports import import_run
from sync_engine.models import (
    AuditEvent,
    HubSpotConnection,
    ImportJob,
    Integration,
    ResyncRequest,
    SalesforceConnection,
    SyncError,
    SyncRun,
)
from sync_engine.services import object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.sync.helpers import hs_create, hs_update

from .conftest import make_error

pytestmark = pytest.mark.django_db
JSON = "application/json"


class TokenClient:
    """Calls the API as a script does: ``Authorization: Token <key>``, no session, no CSRF
    token (the client enforces CSRF, so a session would be refused)."""

    def __init__(self, user) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.auth = {"HTTP_AUTHORIZATION": f"Token {AuthToken.objects.create(user)[1]}"}

    def get(self, path: str):
        return self.client.get(path, **self.auth)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(path, body or {}, content_type=JSON, **self.auth)

    def patch(self, path: str, body: dict):
        return self.client.patch(path, body, content_type=JSON, **self.auth)


@pytest.fixture
def api(admin_user) -> TokenClient:
    return TokenClient(admin_user)


@pytest.fixture
def viewer_api(viewer_user) -> TokenClient:
    return TokenClient(viewer_user)


def salesforce_lead(sf, email: str) -> dict | None:
    soql = f"SELECT Id, Email FROM Lead WHERE Email = '{email}'"  # noqa: S608
    records = sf.query(soql)["records"]
    return records[0] if records else None


# --- a record's Resync ------------------------------------------------------------------------
def test_a_record_fixed_in_hubspot_syncs_at_once_on_its_resync(
    api, admin_user, live, sf_person, hs_person, celery_eager, django_capture_on_commit_callbacks
):
    """Sync errors' advice: fix the record, then Resync it (over the API, as on its page):
    a cycle starts now, and the record syncs."""
    contact = hs_create(hs_person, email="gold@example.com", lastname="Gold")
    sync_cycle_run(integration=live, object_name="contacts")
    error = SyncError.objects.get(record_key=f"hubspot:{contact}")
    assert "Company" in error.message and salesforce_lead(sf_person, "gold@example.com") is None
    hs_update(hs_person, contact, company="Acme")  # the fix

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(f"/api/v1/records/contacts/hubspot:{contact}/resync/")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "object": "contacts",
        "record": f"hubspot:{contact}",
        "errors_queued": 1,
        "syncs_now": True,
        "waits": None,
        "message": "This record syncs again now.",
    }
    assert callbacks  # the cycle it starts, here run at once
    assert SyncRun.objects.filter(trigger="resync", status="succeeded").exists()
    assert salesforce_lead(sf_person, "gold@example.com") is not None
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert not ResyncRequest.objects.exists()  # taken by that cycle
    event = AuditEvent.objects.get(action="record.resync_requested")
    assert event.actor == admin_user
    assert event.details == {"object": "contacts", "record": f"hubspot:{contact}"}
    assert AuditEvent.objects.get(action="errors.resync_requested").details["ids"] == [error.pk]


def test_a_records_resync_queues_its_errors_and_says_why_it_waits(
    api, connected, django_capture_on_commit_callbacks
):
    error = make_error(connected)[0]
    path = f"/api/v1/records/contacts/{error.record_key}/resync/"
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(path)
    assert response.status_code == 200, response.content
    assert response.json()["errors_queued"] == 1 and response.json()["syncs_now"] is True
    assert len(callbacks) == 2  # the errors' cycle and the record's
    error.refresh_from_db()
    assert error.next_retry_at <= timezone.now()  # retried on that cycle, not after a wait
    assert AuditEvent.objects.filter(action="errors.resync_requested").count() == 1
    assert ResyncRequest.objects.get().record_key == error.record_key
    # With sync off it is queued, and says it waits.
    Integration.objects.filter(pk=connected.pk).update(sync_enabled=False)
    answer = api.post(path).json()
    assert answer["syncs_now"] is False
    assert answer["waits"] == "Queued. Sync is off: it runs once sync is turned back on."


def test_a_records_resync_refuses_what_isnt_a_record(api, viewer_api, admin_user, connected):
    error = make_error(connected)[0]
    for path in (
        "/api/v1/records/contacts/hubspot:424242/resync/",  # nothing under that key
        "/api/v1/records/planets/hubspot:1000/resync/",
        "/api/v1/records/contacts/hubspot:10%2500/resync/",
        "/api/v1/records/contacts/1000/resync/",
    ):
        response = api.post(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
    path = f"/api/v1/records/contacts/{error.record_key}/resync/"
    assert api.post(path, {"now": True}).json() == {
        "now": ["Unknown field: this endpoint takes no fields."]
    }
    assert viewer_api.post(path).status_code == 403
    session = Client(enforce_csrf_checks=True)
    session.force_login(admin_user)
    response = session.post(path, content_type=JSON)
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not ResyncRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__contains="resync").exists()


# --- Sync a contact / Sync a company ----------------------------------------------------------
def test_sync_a_contact_over_the_api(
    api, admin_user, live, sf_person, hs_person, celery_eager, django_capture_on_commit_callbacks
):
    contact = hs_create(
        hs_person, email="olive@example.com", firstname="Olive", lastname="Out", company="Acme"
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post("/api/v1/contacts/sync/", {"contact": " Olive@Example.com "})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["syncs_now"] is True and body["object"] == "contacts"
    assert body["message"].startswith("Contact Olive Out <olive@example.com> syncs now")
    assert len(callbacks) == 1
    assert salesforce_lead(sf_person, "olive@example.com") is not None
    event = AuditEvent.objects.get(action="record.resync_requested")
    assert event.actor == admin_user and event.details["record"] == f"hubspot:{contact}"

    # Refused as on the tab, with the reason under "contact"; nothing queued.
    for typed, reason in (
        ("abc", "Enter the HubSpot contact's email address or record id"),
        ("nobody@example.com", "HubSpot has no contact nobody@example.com."),
    ):
        refused = api.post("/api/v1/contacts/sync/", {"contact": typed})
        assert refused.status_code == 400
        assert reason in refused.json()["contact"][0]
    assert api.post("/api/v1/contacts/sync/", {}).json() == {"contact": ["This field is required."]}
    assert AuditEvent.objects.filter(action="record.resync_requested").count() == 1


def test_sync_a_company_refuses_bad_input_and_a_pair_thats_off(api, viewer_api, connected):
    response = api.post("/api/v1/companies/sync/", {"company": "acme"})
    assert response.status_code == 400
    assert response.json() == {
        "company": ["Enter the HubSpot company's record id, or paste its address from HubSpot."]
    }
    off = api.post("/api/v1/companies/sync/", {"company": "123"})  # company sync starts off
    assert off.status_code == 400 and off.json() == {"company": ["Turn company sync on first."]}
    dutch = api.client.post(
        "/api/v1/companies/sync/", {"company": "123"}, content_type=JSON,
        HTTP_ACCEPT_LANGUAGE="nl", **api.auth,
    )  # fmt: skip
    assert dutch.json() == {"company": ["Turn company sync on first."]}  # the API's English
    extra = api.post("/api/v1/companies/sync/", {"company": "123", "company_id": "123"})
    assert extra.json() == {"company_id": ["Unknown field: this endpoint takes company."]}
    assert viewer_api.post("/api/v1/companies/sync/", {"company": "123"}).status_code == 403
    assert not ResyncRequest.objects.exists()


# --- imports from Salesforce ------------------------------------------------------------------
def test_an_import_started_over_the_api_runs_and_reports_its_summary(
    api, admin_user, live, sf_person, django_capture_on_commit_callbacks
):
    object_sync_get_or_create(integration=live, object_name="contacts")
    sf_person.Contact.create({"LastName": "One", "Email": "one@example.com"})
    sf_person.Contact.create({"LastName": "Nobody"})
    targets = {t["object"]: t for t in api.get("/api/v1/imports/targets/").json()}
    assert targets["contacts"]["pair_enabled"] is True
    assert targets["accounts"]["pair_off"].startswith("Company sync is off")

    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post("/api/v1/imports/", {"object": "contacts"})
    assert response.status_code == 201, response.content
    started = response.json()
    assert (started["object"], started["status"], started["started_by"]) == (
        "contacts",
        "queued",
        "ada",
    )
    assert started["label"] == "Salesforce contacts" and started["percent"] == 0
    assert len(callbacks) == 1  # run_import, once committed
    event = AuditEvent.objects.get(action="import.started")
    assert event.actor == admin_user and event.details["import"] == started["id"]
    again = api.post("/api/v1/imports/", {"object": "contacts"})
    assert again.status_code == 409 and "already running" in again.json()["detail"]

    import_run(job=ImportJob.objects.get(pk=started["id"]))  # what the worker does
    done = api.get(f"/api/v1/imports/{started['id']}/").json()
    assert (done["status"], done["percent"], done["total"]) == ("succeeded", 100, 2)
    assert (done["created"], done["skipped"]) == (1, 1)
    assert done["skipped_reasons"] == {"no_email": 1} and done["resumable"] is False
    listed = api.get("/api/v1/imports/").json()
    assert [job["id"] for job in listed] == [started["id"]]


def test_an_import_is_cancelled_and_resumed_over_the_api(
    api, admin_user, connected, django_capture_on_commit_callbacks
):
    job = ImportJob.objects.create(
        integration=connected, object="leads", status="running", total=100, processed=40
    )
    cancelled = api.post(f"/api/v1/imports/{job.pk}/cancel/")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["resumable"] is True
    assert api.post(f"/api/v1/imports/{job.pk}/cancel/").status_code == 409
    with django_capture_on_commit_callbacks() as callbacks:
        resumed = api.post(f"/api/v1/imports/{job.pk}/resume/")
    assert resumed.status_code == 200, resumed.content
    assert resumed.json()["status"] == "queued" and resumed.json()["processed"] == 40
    assert len(callbacks) == 1
    again = api.post(f"/api/v1/imports/{job.pk}/resume/")
    assert again.status_code == 409
    assert again.json()["detail"] == "Only a failed, cancelled or stalled import can be resumed."
    actions = AuditEvent.objects.filter(actor=admin_user, action__startswith="import.")
    assert sorted(actions.values_list("action", flat=True)) == [
        "import.cancelled",
        "import.resumed",
    ]
    assert api.get("/api/v1/imports/424242/").status_code == 404
    assert api.get(f"/api/v1/imports/{2**64}/").status_code == 404


def test_imports_refuse_bad_input_and_viewers(api, viewer_api, connected):
    unknown = api.post("/api/v1/imports/", {"object": "planets"})
    assert unknown.status_code == 400
    assert unknown.json()["object"][0].startswith("Unknown object to import: planets: use one of")
    off = api.post("/api/v1/imports/", {"object": "accounts"})  # company sync starts off
    assert off.status_code == 409 and "Company sync is off" in off.json()["detail"]
    assert api.post("/api/v1/imports/", {"object": "leads", "all": True}).status_code == 400
    assert api.get("/api/v1/imports/?status=running").status_code == 400
    assert viewer_api.post("/api/v1/imports/", {"object": "leads"}).status_code == 403
    assert viewer_api.get("/api/v1/imports/").status_code == 200  # viewers read
    assert not ImportJob.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="import.").exists()


# --- Sync now, the sync switch, Disconnect ----------------------------------------------------
def test_sync_now_over_the_api(
    api, viewer_api, admin_user, connected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post("/api/v1/sync-now/")
    assert response.status_code == 200, response.content
    assert response.json() == {"objects": ["contacts"]}  # the pairs switched on
    assert len(callbacks) == 1
    event = AuditEvent.objects.get(action="sync.requested")
    assert event.actor == admin_user
    assert event.details == {"objects": ["contacts"], "trigger": "manual"}
    assert viewer_api.post("/api/v1/sync-now/").status_code == 403
    assert api.post("/api/v1/sync-now/", {"objects": ["deals"]}).status_code == 400
    Integration.objects.filter(pk=connected.pk).update(sync_enabled=False)
    off = api.post("/api/v1/sync-now/")
    assert off.status_code == 409 and off.json()["detail"].startswith("Sync is off")
    Integration.objects.filter(pk=connected.pk).update(sync_enabled=True, state="suspended")
    suspended = api.post("/api/v1/sync-now/")
    assert suspended.status_code == 409 and "suspended" in suspended.json()["detail"]
    assert AuditEvent.objects.filter(action="sync.requested").count() == 1


def test_the_whole_sync_is_turned_off_and_on_over_the_api(api, viewer_api, admin_user, connected):
    response = api.post("/api/v1/integration/sync/", {"enabled": False})
    assert response.status_code == 200, response.content
    assert response.json()["sync_enabled"] is False and response.json()["sync_changed_by"] == "ada"
    event = AuditEvent.objects.get(action="integration.sync_turned_off")
    assert event.actor == admin_user
    assert api.post("/api/v1/integration/sync/", {"enabled": False}).status_code == 200
    assert AuditEvent.objects.filter(action="integration.sync_turned_off").count() == 1  # as was
    for body, errors in (
        ({}, {"enabled": ["This field is required."]}),
        ({"enabled": "maybe"}, {"enabled": ["Must be a valid boolean."]}),
        (
            {"enabled": True, "sync": "on"},
            {"sync": ["Unknown field: this endpoint takes enabled."]},
        ),
    ):
        assert api.post("/api/v1/integration/sync/", body).json() == errors
    assert viewer_api.post("/api/v1/integration/sync/", {"enabled": True}).status_code == 403
    # The integration's PATCH still refuses it, pointing here.
    refused = api.patch("/api/v1/integration/", {"sync_enabled": True, "allocated_to_hubspot": 9})
    assert "POST /api/v1/integration/sync/" in refused.json()["sync_enabled"][0]
    assert Integration.objects.get(pk=connected.pk).sync_enabled is False
    on = api.post("/api/v1/integration/sync/", {"enabled": True})
    assert on.json()["sync_enabled"] is True
    assert AuditEvent.objects.filter(action="integration.sync_turned_on", actor=admin_user).exists()


def test_disconnect_over_the_api(api, viewer_api, admin_user, connected):
    job = ImportJob.objects.create(integration=connected, object="leads", status="running")
    assert viewer_api.post("/api/v1/integration/disconnect/").status_code == 403
    response = api.post("/api/v1/integration/disconnect/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "disconnected" and body["salesforce"] is body["hubspot"] is None
    assert not SalesforceConnection.objects.exists() and not HubSpotConnection.objects.exists()
    assert AuditEvent.objects.get(action="integration.disconnected").actor == admin_user
    job.refresh_from_db()
    assert job.status == "cancelled"  # resumable once connected again
    again = api.post("/api/v1/integration/disconnect/")
    assert again.status_code == 409 and "isn't connected" in again.json()["detail"]


# --- Create view, refreshing the field lists --------------------------------------------------
def test_create_view_over_the_api(api, admin_user, live, hs_person, emulators):
    ids = [hs_create(hs_person, email=f"v{i}@example.com") for i in range(2)]
    for i, hubspot_id in enumerate(ids):
        make_error(live, 1, hubspot_id=hubspot_id, record_label=f"V {i}")
    response = api.post("/api/v1/errors/views/", {"error_type": "property_value"})
    assert response.status_code == 200, response.content
    [view] = response.json()["views"]
    assert view["records"] == 2 and view["hubspot_object"] == "contacts"
    assert view["url"] == f"{emulators.hubspot.url}/contacts/62515/objectLists/{view['list_id']}"
    found = hs_person.crm.lists.lists_api.get_by_id(view["list_id"]).list
    assert found.name == view["name"] and found.processing_type == "MANUAL"
    event = AuditEvent.objects.get(action="errors.view_created")
    assert event.actor == admin_user and event.details["lists"] == [view["list_id"]]
    bad = api.post("/api/v1/errors/views/", {"error_type": "nope"})
    assert bad.status_code == 400 and bad.json()["error_type"][0].startswith('"nope" is not')


def test_refreshing_the_field_lists_over_the_api(api, viewer_api, live, emulators, hs_person):
    """A Salesforce field added after the fields were read: a mapping to it is refused until
    the lists are refreshed."""
    hs_person.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(name="rank", label="Rank", type="string", field_type="text",
                       group_name="contactinformation"),
    )  # fmt: skip
    mapping = {"object": "contacts", "hubspot_property": "rank", "salesforce_field": "Rank__c"}
    assert api.post("/api/v1/mappings/refresh/", {"object": "contacts"}).json() == {
        "object": "contacts",
        "refreshed": True,
    }
    for sobject in ("Lead", "Contact"):
        emulators.salesforce.app.run_action("add_field", object=sobject, field="Rank")
    refused = api.post("/api/v1/mappings/", mapping)
    assert refused.status_code == 400, refused.json()
    assert list(refused.json()) == ["salesforce_field"]  # not in the fields read before
    assert viewer_api.post("/api/v1/mappings/refresh/", {"object": "contacts"}).status_code == 403
    assert api.post("/api/v1/mappings/refresh/", {"object": "contacts"}).status_code == 200
    added = api.post("/api/v1/mappings/", mapping)
    assert added.status_code == 201, added.json()
    for body in ({"object": "activities"}, {"object": "custom:1"}, {}):
        assert api.post("/api/v1/mappings/refresh/", body).status_code == 400


# --- documented ---------------------------------------------------------------------------------
def test_the_schema_documents_the_actions(logged_in):
    schema = logged_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    for path, method in (
        ("/api/v1/records/{object_name}/{record_key}/resync/", "post"),
        ("/api/v1/contacts/sync/", "post"),
        ("/api/v1/companies/sync/", "post"),
        ("/api/v1/imports/", "get"),
        ("/api/v1/imports/", "post"),
        ("/api/v1/imports/targets/", "get"),
        ("/api/v1/imports/{job_id}/", "get"),
        ("/api/v1/imports/{job_id}/cancel/", "post"),
        ("/api/v1/imports/{job_id}/resume/", "post"),
        ("/api/v1/sync-now/", "post"),
        ("/api/v1/integration/sync/", "post"),
        ("/api/v1/integration/disconnect/", "post"),
        ("/api/v1/errors/views/", "post"),
        ("/api/v1/mappings/refresh/", "post"),
    ):
        responses = paths[path][method]["responses"]
        assert "200" in responses or "201" in responses, path
        if method == "post":
            assert {"400", "403"} <= set(responses), path
    assert "409" in paths["/api/v1/imports/"]["post"]["responses"]
    assert "409" not in paths["/api/v1/imports/"]["get"]["responses"]
    assert "400" in paths["/api/v1/imports/"]["get"]["responses"]  # parameters are refused
    assert (
        "inclusion list"
        in paths["/api/v1/contacts/sync/"]["post"]["responses"]["400"]["description"]
    )
    assert "503" in paths["/api/v1/errors/views/"]["post"]["responses"]


def test_discover_says_what_the_api_leaves_to_the_browser(logged_in):
    [api] = [feature for feature in FEATURES if feature.url_name == "api_docs"]
    assert "Everything on these pages" not in str(api.text)
    assert "Connecting and the setup wizards stay in the browser." in str(api.text)
