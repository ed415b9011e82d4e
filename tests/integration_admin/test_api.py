"""The REST API under /api/v1/: every endpoint, for viewers and admins, by session and by token;
the OpenAPI schema and its docs served from local files."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from django.utils import timezone
from hubspot.crm.properties import PropertyCreate
from knox.models import AuthToken

from emulators.testing import hubspot_client
from sync_engine.models import ApiCall, AuditEvent, FieldMapping, SyncError, SyncRun
from tests.sync_engine.factories import (
    ApiCallFactory,
    HubSpotConnectionFactory,
    IntegrationFactory,
    SalesforceConnectionFactory,
)

from .conftest import make_error

pytestmark = pytest.mark.django_db
JSON = "application/json"
SYNC_SWITCH_ELSEWHERE = (
    "Can't be changed here: turn sync on or off with POST /api/v1/integration/sync/ (or on the "
    "Connection page)."
)


def test_integration_before_connecting(logged_in):
    response = logged_in.get("/api/v1/integration/")
    assert response.status_code == 404
    assert "connect" in response.json()["detail"]


def test_integration_state_usage_and_forecast(logged_in):
    integration = IntegrationFactory(salesforce_api_allocation=100, salesforce_api_limit=15000)
    SalesforceConnectionFactory(integration=integration, access_token="never-shown")
    HubSpotConnectionFactory(integration=integration, access_token="never-shown-either")
    ApiCallFactory.create_batch(3, integration=integration)
    SyncRun.objects.create(
        integration=integration, object="contacts", status="succeeded", finished_at=timezone.now()
    )
    response = logged_in.get("/api/v1/integration/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "connected"
    assert body["api_usage"]["salesforce_calls_last_24h"] == 3
    assert body["api_usage"]["allocated_to_hubspot"] == 100
    assert body["api_usage"]["remaining"] == 97
    assert body["api_usage"]["limited_by_salesforce"] == 15000
    # 3 calls an hour never fill 100 in any 24 hours.
    assert body["forecast"] == {
        "state": "enough",
        "pace_per_hour": 3,
        "runs_out_at": None,
        "paced": False,
    }
    assert len(body["calls_per_hour"]) == 24 and body["calls_per_hour"][-1]["salesforce"] == 3
    assert set(body["last_synced"]) == {"contacts"}
    assert body["salesforce"]["instance_url"] == "https://127.0.0.1:1"
    assert "never-shown" not in response.content.decode()


def test_admin_changes_the_allocation(admin_client, admin_user, connected):
    response = admin_client.patch(
        "/api/v1/integration/", {"allocated_to_hubspot": 9000}, content_type=JSON
    )
    assert response.status_code == 200
    assert response.json()["api_usage"]["allocated_to_hubspot"] == 9000
    assert AuditEvent.objects.get(action="integration.allocation_changed").actor == admin_user


@pytest.mark.parametrize(
    ("value", "message"),
    [(0, "greater than or equal to 1"), (15001, "limit of 15,000"), ("x", "valid integer")],
)
def test_allocation_is_validated(admin_client, connected, value, message):
    response = admin_client.patch(
        "/api/v1/integration/", {"allocated_to_hubspot": value}, content_type=JSON
    )
    assert response.status_code == 400
    assert message in str(response.json()["allocated_to_hubspot"])
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 5000


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        # The whole sync's switch is the Connection page's: refused, not silently dropped.
        ({"allocated_to_hubspot": 9000, "sync_enabled": False},
         {"sync_enabled": [SYNC_SWITCH_ELSEWHERE]}),
        ({"allocated_to_hubspot": 9000, "state": "connected"},
         {"state": ["Can't be changed here: the integration sets it."]}),
        ({"allocated_to_hubspot": 9000, "allocation": 1},
         {"allocation": ["Unknown field: this endpoint takes allocated_to_hubspot."]}),
        ({"sync_enabled": False}, {
            "allocated_to_hubspot": ["This field is required."],
            "sync_enabled": [SYNC_SWITCH_ELSEWHERE],
        }),
        ({}, {"allocated_to_hubspot": ["This field is required."]}),
    ],
)  # fmt: skip
def test_integration_fields_it_doesnt_take_are_refused(admin_client, connected, body, errors):
    response = admin_client.patch("/api/v1/integration/", body, content_type=JSON)
    assert response.status_code == 400, response.content
    assert response.json() == errors
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 5000 and connected.sync_enabled is True
    assert not AuditEvent.objects.exclude(action="integration.created").exists()


def test_viewer_reads_but_cannot_change_anything(viewer_client, connected):
    mapping_id = _a_mapping(viewer_client, connected)
    error = make_error(connected, 1)[0]
    for path in (
        "/api/v1/integration/",
        "/api/v1/settings/contacts/",
        "/api/v1/mappings/",
        f"/api/v1/mappings/{mapping_id}/",
        "/api/v1/errors/",
        "/api/v1/errors/summary/",
        "/api/v1/errors/export/",
        "/api/v1/runs/",
        "/api/v1/audit/",
    ):
        assert viewer_client.get(path).status_code == 200, path
    for method, path, body in (
        ("patch", "/api/v1/integration/", {"allocated_to_hubspot": 10}),
        ("patch", "/api/v1/settings/contacts/", {"settings": {"salesforce_delete": "delete"}}),
        ("post", "/api/v1/mappings/", {"object": "contacts", "hubspot_property": "a",
                                       "salesforce_field": "b"}),
        ("patch", f"/api/v1/mappings/{mapping_id}/", {"rule": "two_way"}),
        ("delete", f"/api/v1/mappings/{mapping_id}/", None),
        ("post", "/api/v1/errors/resync/", {"ids": [error.pk]}),
    ):  # fmt: skip
        response = getattr(viewer_client, method)(path, body, content_type=JSON)
        assert response.status_code == 403, (method, path)
        assert "Only integration admins" in response.json()["detail"]
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 5000 and connected.sync_enabled is True
    assert not AuditEvent.objects.exclude(action="integration.created").exists()


def _a_mapping(client, integration) -> int:
    client.get("/api/v1/settings/contacts/")  # creates the defaults
    return FieldMapping.objects.get(integration=integration, hubspot_property="jobtitle").pk


# --- settings -------------------------------------------------------------------------------
def test_settings_read_and_partial_update(admin_client, live, lists):
    body = admin_client.get("/api/v1/settings/contacts/").json()
    assert body["object"] == "contacts" and body["enabled"] is True
    assert body["settings"]["hubspot_creates"] == "lead"
    list_id = lists["active"]
    response = admin_client.patch(
        "/api/v1/settings/contacts/",
        {
            "enabled": False,
            "settings": {"hubspot_creates": "contact", "inclusion_list_id": list_id},
        },
        content_type=JSON,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["settings"]["hubspot_creates"] == "contact" and body["enabled"] is False
    assert body["changed"] == {
        "hubspot_creates": {"from": "lead", "to": "contact"},
        "inclusion_list_id": {"from": None, "to": list_id},
        "enabled": {"from": True, "to": False},
    }


def _list_reads(integration) -> int:
    return ApiCall.objects.filter(integration=integration, operation="lists.get").count()


@pytest.mark.parametrize("list_id", ["abc", "<script>", "12abc", "-5", "1.5", 1.5, True, ["1"]])
def test_an_inclusion_list_id_that_is_no_number_is_refused(admin_client, live, list_id):
    response = admin_client.patch(
        "/api/v1/settings/contacts/",
        {"settings": {"inclusion_list_id": list_id}},
        content_type=JSON,
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "settings": {
            "inclusion_list_id": ["must be a HubSpot list id (a number), or empty for no list"]
        }
    }
    assert _list_reads(live) == 0  # refused before asking HubSpot
    assert not AuditEvent.objects.filter(action="settings.updated").exists()
    body = admin_client.get("/api/v1/settings/contacts/").json()
    assert body["settings"]["inclusion_list_id"] is None


def test_an_inclusion_list_is_checked_with_hubspot_once_when_it_changes(
    admin_client, live, lists, emulators
):
    def patch(list_id):
        return admin_client.patch(
            "/api/v1/settings/contacts/",
            {"settings": {"inclusion_list_id": list_id}},
            content_type=JSON,
        )

    # A list HubSpot doesn't have: 400, saying so; nothing saved or logged.
    response = patch(999999)
    assert response.status_code == 400, response.content
    message = response.json()["settings"]["inclusion_list_id"][0]
    assert message.startswith("HubSpot has no list 999999.")
    assert _list_reads(live) == 1
    assert not AuditEvent.objects.filter(action="settings.updated").exists()
    # Not a contact list, or not an active one: refused too.
    companies = emulators.hubspot.app.run_action(
        "create_list", list_name="Big accounts", object_type="companies"
    )
    response = patch(str(companies["listId"]))
    assert response.status_code == 400
    assert "isn't a contact list" in str(response.json())
    response = patch(lists["manual"])
    assert response.status_code == 400
    assert "is a static list" in str(response.json())
    assert _list_reads(live) == 3

    # A real list, as a JSON number: stored as its id's text, after one read.
    response = patch(int(lists["active"]))
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == {
        "inclusion_list_id": {"from": None, "to": lists["active"]}
    }
    assert _list_reads(live) == 4
    # The same list again (as text, or with leading zeros) is no change: HubSpot isn't asked.
    for same in (lists["active"], f"00{lists['active']}", int(lists["active"])):
        response = patch(same)
        assert response.status_code == 200 and response.json()["changed"] == {}
    assert _list_reads(live) == 4
    # Clearing the list needs no HubSpot call either.
    for empty in ("", None):
        response = patch(empty)
        assert response.status_code == 200
        assert response.json()["settings"]["inclusion_list_id"] is None
    assert _list_reads(live) == 4
    events = AuditEvent.objects.filter(action="settings.updated").order_by("pk")
    assert [e.details["changes"]["inclusion_list_id"] for e in events] == [
        {"from": None, "to": lists["active"]},
        {"from": lists["active"], "to": None},
    ]


def test_an_inclusion_list_hubspot_cannot_be_asked_about_is_not_saved(admin_client, connected):
    # Nothing listens at the stored HubSpot address: the change is refused, not saved blind.
    hubspot = connected.hubspot_connection
    hubspot.base_url = "http://127.0.0.1:1"
    hubspot.save()
    response = admin_client.patch(
        "/api/v1/settings/contacts/",
        {"settings": {"inclusion_list_id": "12"}},
        content_type=JSON,
    )
    assert response.status_code == 400, response.content
    message = response.json()["settings"]["inclusion_list_id"][0]
    assert message.startswith("HubSpot couldn't be asked whether list 12 exists")
    assert (
        admin_client.get("/api/v1/settings/contacts/").json()["settings"]["inclusion_list_id"]
        is None
    )


def test_settings_errors_name_each_setting_and_save_nothing(admin_client, connected):
    response = admin_client.patch(
        "/api/v1/settings/contacts/",
        {"settings": {"hubspot_creates": "account", "salesforce_delete": "delete", "bogus": 1}},
        content_type=JSON,
    )
    assert response.status_code == 400
    errors = response.json()["settings"]
    assert "must be one of lead, contact" in str(errors["hubspot_creates"])
    assert "unknown setting" in str(errors["bogus"])
    assert (
        admin_client.get("/api/v1/settings/contacts/").json()["settings"]["salesforce_delete"]
        == "nothing"
    )
    # A setting sent at the top level (a misspelt key) is refused, not ignored.
    response = admin_client.patch(
        "/api/v1/settings/contacts/", {"salesforce_delete": "delete"}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json() == {
        "salesforce_delete": ['Unknown field: send settings inside "settings": '
                              '{"salesforce_delete": …}.']
    }  # fmt: skip
    # So are other unknown keys, and the object pair (it's the one in the URL).
    response = admin_client.patch(
        "/api/v1/settings/contacts/",
        {"enabled": False, "object": "deals", "enabeld": True},
        content_type=JSON,
    )
    assert response.status_code == 400
    assert response.json() == {
        "object": ["Can't be changed: the object pair is the one in the URL."],
        "enabeld": ["Unknown field: this endpoint takes enabled, settings."],
    }
    assert admin_client.get("/api/v1/settings/contacts/").json()["enabled"] is True


@pytest.mark.parametrize("name", ["deals", "tickets", "activities"])
def test_other_pairs_are_exposed_and_start_switched_off(admin_client, connected, name):
    body = admin_client.get(f"/api/v1/settings/{name}/").json()
    assert body["object"] == name and body["enabled"] is False
    assert "salesforce_delete" in body["settings"] or "hubspot_calls" in body["settings"]


def test_what_a_wizard_checks_is_not_set_through_the_api(admin_client, connected):
    response = admin_client.patch(
        "/api/v1/settings/tickets/",
        {"settings": {"pipelines": "garbage", "setup_complete": True}},
        content_type=JSON,
    )
    assert response.status_code == 400
    errors = response.json()["settings"]
    assert errors == {
        "pipelines": ["Set in the Tickets wizard."],
        "setup_complete": ["Set in the Tickets wizard."],
    }
    body = admin_client.get("/api/v1/settings/tickets/").json()["settings"]
    assert body["pipelines"] == {} and body["setup_complete"] is False


def test_ticket_sync_is_switched_on_only_after_its_wizard(admin_client, connected):
    response = admin_client.patch("/api/v1/settings/tickets/", {"enabled": True}, content_type=JSON)
    assert response.status_code == 400, response.content
    # Filed under the field that was sent, not under "settings".
    assert response.json() == {"enabled": ["Finish the Tickets wizard first."]}
    assert admin_client.get("/api/v1/settings/tickets/").json()["enabled"] is False


def test_unknown_object_is_404(admin_client, connected):
    assert admin_client.get("/api/v1/settings/planets/").status_code == 404


# --- mappings -------------------------------------------------------------------------------
def test_mappings_list_filter_and_rule_change(admin_client, connected):
    mapping_id = _a_mapping(admin_client, connected)
    body = admin_client.get("/api/v1/mappings/?object=contacts").json()
    assert body["count"] >= 20
    assert {"hubspot_property", "salesforce_field", "rule", "is_default"} <= set(body["results"][0])
    assert admin_client.get("/api/v1/mappings/?object=deals").json()["count"] == 0
    response = admin_client.patch(
        f"/api/v1/mappings/{mapping_id}/", {"rule": "two_way"}, content_type=JSON
    )
    assert response.status_code == 200 and response.json()["rule"] == "two_way"
    response = admin_client.patch(
        f"/api/v1/mappings/{mapping_id}/", {"rule": "sometimes"}, content_type=JSON
    )
    assert response.status_code == 400


def test_a_mappings_fields_other_than_its_rule_cant_be_changed(admin_client, connected):
    mapping_id = _a_mapping(admin_client, connected)
    response = admin_client.patch(
        f"/api/v1/mappings/{mapping_id}/",
        {"rule": "two_way", "salesforce_field": "Title", "is_default": False, "bogus": 1},
        content_type=JSON,
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    assert errors["salesforce_field"] == [
        "Can't be changed: only a mapping's rule can. To map other fields, delete this mapping "
        "and add a new one."
    ]
    assert errors["is_default"] == ["Can't be changed here: the integration sets it."]
    assert errors["bogus"] == ["Unknown field: this endpoint takes rule."]
    mapping = FieldMapping.objects.get(pk=mapping_id)
    assert mapping.rule != "two_way" and mapping.salesforce_field == "Title"
    assert not AuditEvent.objects.filter(action__startswith="mapping.").exists()
    # The rule is what a PATCH is for: leaving it out is refused, as the schema says.
    response = admin_client.patch(f"/api/v1/mappings/{mapping_id}/", {}, content_type=JSON)
    assert response.status_code == 400 and response.json() == {"rule": ["This field is required."]}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"bogus": 1}, {"bogus": ["Unknown field: this endpoint takes object, hubspot_property, "
                                  "salesforce_field, rule."]}),
        ({"id": 7}, {"id": ["Can't be changed here: the integration sets it."]}),
        ({"object": "leads"}, {"object": ['"leads" is not an object pair: use one of contacts, '
                                          "companies, deals, tickets, activities."]}),
        ({"object": 5}, {"object": ['"5" is not an object pair: use one of contacts, companies, '
                                    "deals, tickets, activities."]}),
        ({"object": "custom:1"}, {"object": ["A custom object pair's mappings are set in the "
                                             "Custom objects wizard."]}),
    ],
)  # fmt: skip
def test_adding_a_mapping_refuses_what_it_doesnt_take(admin_client, connected, body, errors):
    mapping = {"object": "contacts", "hubspot_property": "a", "salesforce_field": "b", **body}
    response = admin_client.post("/api/v1/mappings/", mapping, content_type=JSON)
    assert response.status_code == 400, response.content
    assert response.json() == errors
    assert not FieldMapping.objects.filter(hubspot_property="a").exists()


def test_default_mappings_cannot_be_deleted(admin_client, connected):
    mapping_id = _a_mapping(admin_client, connected)
    response = admin_client.delete(f"/api/v1/mappings/{mapping_id}/")
    assert response.status_code == 400
    assert "Default mappings can't be deleted" in str(response.json())
    assert admin_client.get("/api/v1/mappings/999999/").status_code == 404


def test_create_mapping_with_the_editors_validation(admin_client, live, emulators):
    properties = hubspot_client(emulators, strict=False).crm.properties.core_api
    for name, kind in (("tier", "text"), ("seats", "number")):
        properties.create(
            "contacts",
            PropertyCreate(name=name, label=name, type="string" if kind == "text" else "number",
                           field_type=kind, group_name="contactinformation"),
        )  # fmt: skip
    for sobject in ("Lead", "Contact"):
        emulators.salesforce.app.run_action("add_field", object=sobject, field="Tier")
    bad = admin_client.post(
        "/api/v1/mappings/",
        {"object": "contacts", "hubspot_property": "seats", "salesforce_field": "Tier__c"},
        content_type=JSON,
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "salesforce_field": [
            "A HubSpot number (number) property can't map to a Salesforce string field"
        ]
    }
    taken = admin_client.post(
        "/api/v1/mappings/",
        {"object": "contacts", "hubspot_property": "email", "salesforce_field": "Tier__c"},
        content_type=JSON,
    )
    assert taken.status_code == 400 and "already mapped" in str(taken.json())
    good = admin_client.post(
        "/api/v1/mappings/",
        {"object": "contacts", "hubspot_property": "tier", "salesforce_field": "Tier__c",
         "rule": "two_way"},
        content_type=JSON,
    )  # fmt: skip
    assert good.status_code == 201, good.content
    created = good.json()
    assert created["is_default"] is False and created["rule"] == "two_way"
    assert created["salesforce_fields"] == {"Lead": "Tier__c", "Contact": "Tier__c"}
    assert admin_client.delete(f"/api/v1/mappings/{created['id']}/").status_code == 204
    assert not FieldMapping.objects.filter(pk=created["id"]).exists()


# --- errors, runs, audit ----------------------------------------------------------------------
def test_errors_list_filters_summary_and_export(viewer_client, connected):
    make_error(connected, 3)
    make_error(connected, 2, error_type="picklist")
    old = make_error(connected, 1, error_type="owner", hubspot_id="99")[0]
    SyncError.objects.filter(pk=old.pk).update(resolved_at=timezone.now())
    assert viewer_client.get("/api/v1/errors/").json()["count"] == 5
    body = viewer_client.get("/api/v1/errors/?type=picklist").json()
    assert body["count"] == 2 and body["results"][0]["error_type"] == "picklist"
    assert viewer_client.get("/api/v1/errors/?q=Person 2").json()["count"] == 1
    assert viewer_client.get("/api/v1/errors/?resolved=true").json()["count"] == 1
    summary = viewer_client.get("/api/v1/errors/summary/").json()
    assert [(c["error_type"], c["errors"], c["records"]) for c in summary] == [
        ("property_value", 3, 3),
        ("picklist", 2, 2),
    ]
    assert summary[0]["title"] == "Invalid property value" and summary[0]["fix"]
    response = viewer_client.get("/api/v1/errors/export/?type=picklist")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 3


@pytest.mark.parametrize(
    ("path", "param", "allowed"),
    [
        ("/api/v1/mappings/?object=foo", "object", "contacts, companies, deals, tickets, "
                                                   "activities or custom:<n>"),
        ("/api/v1/errors/?object=foo", "object", "contacts, companies, deals, tickets, "
                                                 "activities or custom:<n>"),
        ("/api/v1/errors/?type=nonsense", "type", "association_limit, waiting_for_account"),
        ("/api/v1/errors/export/?type=nonsense", "type", "property_value, missing_property"),
        ("/api/v1/errors/?resolved=maybe", "resolved", "valid boolean"),
        ("/api/v1/runs/?object=leads", "object", "activities or custom:<n>"),
        ("/api/v1/runs/?status=bogus", "status", "running, succeeded, paused, failed"),
    ],
)  # fmt: skip
def test_unknown_filter_values_are_refused_naming_the_allowed_ones(
    viewer_client, connected, path, param, allowed
):
    make_error(connected, 1)
    response = viewer_client.get(path)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    errors = response.json()
    assert list(errors) == [param] and allowed in errors[param][0]


def test_known_filter_values_still_filter(viewer_client, connected):
    make_error(connected, 2)
    make_error(connected, 1, object_name="custom:1", error_type="picklist", hubspot_id="77")
    SyncRun.objects.create(integration=connected, object="custom:1", status="paused")
    assert viewer_client.get("/api/v1/errors/?object=custom:1").json()["count"] == 1
    assert viewer_client.get("/api/v1/errors/?object=&type=").json()["count"] == 3
    assert viewer_client.get("/api/v1/errors/?resolved=false").json()["count"] == 3
    assert viewer_client.get("/api/v1/runs/?object=custom:1&status=paused").json()["count"] == 1
    assert viewer_client.get("/api/v1/mappings/?object=custom:1").json()["count"] == 0


def test_resync_refuses_unknown_fields_and_error_types(admin_client, connected):
    error = make_error(connected, 1)[0]
    response = admin_client.post(
        "/api/v1/errors/resync/", {"ids": [error.pk], "id": error.pk}, content_type=JSON
    )
    assert response.status_code == 400
    assert response.json() == {
        "id": ["Unknown field: this endpoint takes ids, error_type, all, q."]
    }
    response = admin_client.post(
        "/api/v1/errors/resync/", {"all": True, "error_type": "nonsense"}, content_type=JSON
    )
    assert response.status_code == 400 and "property_value" in response.json()["error_type"][0]
    assert not AuditEvent.objects.filter(action="errors.resync_requested").exists()


def _token(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {AuthToken.objects.create(user)[1]}"}


@pytest.mark.parametrize(
    "accept", ["text/csv", "*/*", "text/csv;charset=utf-8", "application/json;q=0.5, text/csv"]
)
def test_the_error_export_answers_a_csv_accept_header(viewer_user, connected, accept):
    make_error(connected, 2)
    client = Client(enforce_csrf_checks=True)
    response = client.get("/api/v1/errors/export/", HTTP_ACCEPT=accept, **_token(viewer_user))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="sync-errors.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 3


def test_the_error_exports_errors_are_json(viewer_user, connected):
    client = Client()
    csv_please = {"HTTP_ACCEPT": "text/csv"}
    response = client.get("/api/v1/errors/export/", **csv_please)
    assert response.status_code == 401 and response["Content-Type"] == "application/json"
    assert "credentials were not provided" in response.json()["detail"]
    response = client.get(
        "/api/v1/errors/export/?object=leads", **csv_please, **_token(viewer_user)
    )
    assert response.status_code == 400 and "not an object pair" in response.json()["object"][0]
    response = client.get(
        "/api/v1/errors/export/", HTTP_ACCEPT="application/json", **_token(viewer_user)
    )
    assert response.status_code == 406 and response["Content-Type"] == "application/json"


def test_resync_by_ids_or_all(admin_client, connected, django_capture_on_commit_callbacks):
    errors = make_error(connected, 3)
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            "/api/v1/errors/resync/", {"ids": [errors[0].pk]}, content_type=JSON
        )
    assert response.json() == {"queued": 1} and len(callbacks) == 1
    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            "/api/v1/errors/resync/", {"all": True, "error_type": "property_value"},
            content_type=JSON,
        )  # fmt: skip
    assert response.json() == {"queued": 3}
    response = admin_client.post("/api/v1/errors/resync/", {}, content_type=JSON)
    assert response.status_code == 400


def test_runs_and_audit(admin_client, connected):
    SyncRun.objects.create(integration=connected, object="contacts", status="failed",
                           message="boom", counts={"read_hubspot": 4})  # fmt: skip
    SyncRun.objects.create(integration=connected, object="contacts", status="succeeded")
    runs = admin_client.get("/api/v1/runs/").json()
    assert runs["count"] == 2 and runs["results"][0]["status"] == "succeeded"
    assert admin_client.get("/api/v1/runs/?status=failed").json()["results"][0]["counts"] == {
        "read_hubspot": 4
    }
    admin_client.patch("/api/v1/integration/", {"allocated_to_hubspot": 42}, content_type=JSON)
    audit = admin_client.get("/api/v1/audit/?action=integration.allocation").json()
    assert audit["count"] == 1
    assert audit["results"][0]["actor"] == "ada"
    assert audit["results"][0]["details"] == {"from": 5000, "to": 42}


# --- authentication, schema, docs -------------------------------------------------------------
def test_token_authentication_with_api_token(admin_user, connected):
    out = io.StringIO()
    call_command("api_token", admin_user.username, stdout=out)
    printed = out.getvalue()
    token = re.search(r"^  ([0-9a-f]{64})$", printed, re.MULTILINE)[1]
    assert "won't be shown again" in printed and "Authorization: Token <token>" in printed
    # Only knox's digest and short prefix are stored, never the token.
    row = AuthToken.objects.get(user=admin_user)
    assert token.startswith(row.token_key) and len(row.token_key) < len(token)
    assert not AuthToken.objects.filter(Q(digest__contains=token) | Q(token_key=token)).exists()
    client = Client(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.get("/api/v1/integration/", **auth).status_code == 200
    response = client.patch(
        "/api/v1/integration/", {"allocated_to_hubspot": 1234}, content_type=JSON, **auth
    )
    assert response.status_code == 200  # no CSRF needed with a token
    anonymous = client.get("/api/v1/integration/")
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Token"
    for bad in ("Token nope", f"Token {row.token_key}{'0' * 49}"):  # unknown; right prefix only
        assert client.get("/api/v1/integration/", HTTP_AUTHORIZATION=bad).status_code == 401
    listed = io.StringIO()
    call_command("api_token", admin_user.username, "--list", stdout=listed)
    assert row.token_key in listed.getvalue() and token not in listed.getvalue()
    call_command("api_token", admin_user.username, "--revoke-all", stdout=io.StringIO())
    assert client.get("/api/v1/integration/", **auth).status_code == 401


def test_session_writes_need_csrf(admin_user, connected):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.patch(
        "/api/v1/integration/", {"allocated_to_hubspot": 1234}, content_type=JSON
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_schema_lists_every_endpoint(logged_in):
    response = logged_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"].startswith("HubSpot")
    for path in (
        "/api/v1/integration/",
        "/api/v1/settings/{object_name}/",
        "/api/v1/mappings/",
        "/api/v1/mappings/{mapping_id}/",
        "/api/v1/errors/",
        "/api/v1/errors/summary/",
        "/api/v1/errors/resync/",
        "/api/v1/errors/export/",
        "/api/v1/runs/",
        "/api/v1/audit/",
    ):
        assert path in schema["paths"], path
    assert schema["components"]["securitySchemes"]["knoxApiToken"]["name"] == "Authorization"


def _schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node or "allOf" in node:
        node = node["allOf"][0] if "allOf" in node else node
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_schema_documents_the_error_answers(logged_in):
    schema = _schema(logged_in)
    error = {"$ref": "#/components/schemas/Error"}
    invalid = {"$ref": "#/components/schemas/ValidationError"}
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert responses["401"]["content"]["application/json"]["schema"] == error, path
            if method in ("post", "patch", "delete"):
                assert responses["403"]["content"]["application/json"]["schema"] == error
                # Messages per field, or a body that isn't JSON (``detail``).
                assert responses["400"]["content"]["application/json"]["schema"] == {
                    "oneOf": [invalid, error]
                }
                assert responses["415"]["content"]["application/json"]["schema"] == error
            if path != "/api/v1/audit/":
                assert responses["404"]["content"]["application/json"]["schema"] == error
    for path in ("/api/v1/errors/", "/api/v1/errors/export/", "/api/v1/runs/", "/api/v1/mappings/"):
        assert "400" in schema["paths"][path]["get"]["responses"], path  # the filters
    assert (
        "no such mapping"
        in (
            schema["paths"]["/api/v1/mappings/{mapping_id}/"]["get"]["responses"]["404"][
                "description"
            ]
        )
    )
    export = schema["paths"]["/api/v1/errors/export/"]["get"]["responses"]
    assert list(export["200"]["content"]) == ["text/csv"]
    assert list(export["400"]["content"]) == ["application/json"]


def test_schema_types_each_pairs_settings(logged_in):
    schema = _schema(logged_in)
    components = schema["components"]["schemas"]
    settings = components["ObjectSettings"]["properties"]["settings"]
    assert [ref["$ref"].rsplit("/", 1)[1] for ref in settings["oneOf"]] == [
        "ContactsSettings",
        "CompaniesSettings",
        "DealsSettings",
        "TicketsSettings",
        "ActivitiesSettings",
        "CustomObjectSettings",
    ]
    contacts = components["ContactsSettings"]["properties"]
    assert _resolve(schema, contacts["hubspot_creates"])["enum"] == ["lead", "contact"]
    assert contacts["hubspot_creates"]["default"] == "lead"
    assert contacts["lifecycle_transitions"] == {"type": "boolean", "default": True}
    assert contacts["inclusion_list_id"]["nullable"] is True
    assert components["CompaniesSettings"]["properties"]["hubspot_creates"]["type"] == "boolean"
    tickets = components["TicketsSettings"]["properties"]
    assert (
        tickets["pipelines"]["readOnly"] and "Tickets wizard" in tickets["pipelines"]["description"]
    )
    # A change takes only what the API may change: no wizard's or integration's own settings.
    update = components["ObjectSettingsUpdateRequest"]["properties"]["settings"]
    assert len(update["anyOf"]) == 6
    assert "pipelines" not in components["TicketsSettingsChanges"]["properties"]
    assert "turned_on_at" not in components["ActivitiesSettingsChanges"]["properties"]
    assert "salesforce_object" not in components["CustomObjectSettingsChanges"]["properties"]
    assert not components["ContactsSettingsChanges"].get("required")


def test_schema_object_names_include_custom_pairs(logged_in):
    schema = _schema(logged_in)
    pattern = schema["components"]["schemas"]["ObjectSettings"]["properties"]["object"]["pattern"]
    for name in ("contacts", "activities", "custom:1", "custom:12"):
        assert re.fullmatch(pattern, name), name
    for name in ("leads", "custom:", "custom:x"):
        assert not re.fullmatch(pattern, name), name
    assert "ObjectEnum" not in schema["components"]["schemas"]


def test_schema_says_what_a_patch_requires(logged_in):
    schema = _schema(logged_in)
    components = schema["components"]["schemas"]
    # Both PATCH bodies need their one field (a PATCH without it changes nothing).
    integration = schema["paths"]["/api/v1/integration/"]["patch"]["requestBody"]
    assert integration["required"] is True
    body = integration["content"]["application/json"]
    allocation = components[body["schema"]["$ref"].rsplit("/", 1)[1]]
    assert allocation["required"] == ["allocated_to_hubspot"]
    assert body["examples"]["AnAllocation"]["value"] == {"allocated_to_hubspot": 5000}
    mapping = schema["paths"]["/api/v1/mappings/{mapping_id}/"]["patch"]["requestBody"]
    assert mapping["required"] is True
    ref = mapping["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert components[ref]["required"] == ["rule"]
    assert not any(name.startswith("Patched") for name in components)


def test_schema_says_what_the_api_covers(logged_in):
    description = _schema(logged_in)["info"]["description"]
    assert "Everything the dashboard" not in description
    covered, not_here = description.split("Not here")
    for words in ("connecting (Salesforce's sign-in is in the browser)", "Tickets and Custom"):
        assert words in not_here, words
    for words in ("imports from Salesforce", "*Sync now*", "disconnecting", "on/off switch"):
        assert words in covered, words


def test_docs_send_a_browser_to_the_login_page(client):
    response = client.get("/api/docs/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/api/docs/"
    assert client.get("/api/docs/").status_code == 401  # not a browser: the API's answer


@pytest.mark.parametrize(
    "path", ["/api/v1/mappings/abc/", "/api/v1/nothing-here/", "/api/v1/", "/api/v1/errors/1/"]
)
def test_unknown_api_paths_answer_json(logged_in, client, connected, path):
    response = logged_in.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": f"No API endpoint at {path}: see /api/docs/ for the endpoints."
    }
    assert logged_in.delete(path).status_code == 404
    client.logout()
    assert client.get(path).status_code == 401  # nothing told before logging in


def test_docs_are_served_from_local_static_files(logged_in):
    for path in ("/api/docs/",):
        html = logged_in.get(path).content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, path
        assert all(s.startswith("/") or s.startswith("data:") for s in sources), sources
        for src in sources:
            if src.startswith("/static/"):
                assert logged_in.get(src).status_code == 200, src


# --- review: the forecast, Swagger's example body, error answers ------------------------------
def test_the_api_forecasts_at_the_pace_the_dashboard_does(admin_client, connected):
    """Cycles slowed down to last: the page and the API both say the allocation lasts."""
    from datetime import timedelta

    from sync_engine.models import ObjectSync

    ObjectSync.objects.update_or_create(
        integration=connected, object="contacts", defaults={"enabled": True}
    )
    for _ in range(3):
        SyncRun.objects.create(
            integration=connected, object="contacts", finished_at=timezone.now(),
            salesforce_calls=40,
        )  # fmt: skip
    at = timezone.now() - timedelta(minutes=5)
    ApiCall.objects.bulk_create(
        ApiCall(integration=connected, system="salesforce", operation="query", status=200,
                called_at=at)
        for _ in range(4_000)
    )  # fmt: skip
    assert 'data-forecast="enough"' in admin_client.get("/sync-health/").content.decode()
    forecast = admin_client.get("/api/v1/integration/").json()["forecast"]
    assert (forecast["state"], forecast["runs_out_at"], forecast["paced"]) == ("enough", None, True)


def test_swaggers_example_change_body_changes_nothing(admin_client, connected):
    """Try it out fills a body from the schema's defaults: on a change there are none, so the
    settings the admin didn't mean to touch aren't reset."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    changes = schema["components"]["schemas"]["ContactsSettingsChanges"]["properties"]
    assert not any("default" in prop for prop in changes.values())
    settings = schema["components"]["schemas"]["ContactsSettings"]["properties"]
    assert settings["hubspot_creates"]["default"] == "lead"  # the stored settings say theirs


def test_a_body_that_isnt_json_is_answered_as_the_schema_says(admin_client, connected):
    from drf_spectacular.generators import SchemaGenerator

    response = admin_client.patch("/api/v1/integration/", "{bad", content_type="application/json")
    assert response.status_code == 400 and set(response.json()) == {"detail"}
    assert admin_client.post("/api/v1/errors/resync/", {"all": "true"}).status_code == 415
    schema = SchemaGenerator().get_schema(request=None, public=True)
    patch = schema["paths"]["/api/v1/integration/"]["patch"]["responses"]
    assert "415" in patch
    assert len(patch["400"]["content"]["application/json"]["schema"]["oneOf"]) == 2
