"""Security and the settings API for the pairs added after contacts: companies, deals, tickets
(and their wizard), activities, custom objects (and theirs), imports and the "Sync a company"
card. Every change is refused to viewers and to people who aren't logged in, and leaves nothing
behind; `/api/v1/settings/<pair>/` reads and changes each pair as its tab does, with clear
400s; the audit log says what changed in the words of the tab that changed it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from hubspot.crm.properties import PropertyCreate

from emulators.testing import hubspot_client
from sync_engine.models import AuditEvent, FieldMapping, ObjectSync, SchemaCache
from sync_engine.object_settings import PairRemoved
from sync_engine.services import (
    custom_object_delete,
    object_settings_update,
    object_sync_get_or_create,
)
from sync_engine.sync.cycle import sync_cycle_run, sync_cycles_run

from .conftest import everything_stored, form_on_page

pytestmark = pytest.mark.django_db
JSON = "application/json"
HTMX = {"HTTP_HX_REQUEST": "true"}


# --- who may change what ----------------------------------------------------------------------
def _changes(ids: dict) -> list[tuple[str, dict]]:
    """Every POST of these tabs, with a body an admin's would be."""
    mapping = {"hubspot_property": "name", "salesforce_field": "Name", "rule": "two_way"}
    return [
        ("/companies/", {"enabled": "on", "salesforce_delete": "delete"}),
        ("/companies/sync/", {"company_id": "1"}),
        ("/deals/", {"enabled": "", "salesforce_delete": "nothing"}),
        ("/activities/", {"enabled": "on", "hubspot_calls": "on"}),
        ("/tickets/", {"action": "settings", "enabled": "on", "salesforce_delete": "delete"}),
        ("/tickets/", {"step": "1", "salesforce_delete": "delete"}),
        ("/tickets/", {"step": "2", "sync_account_association": "on"}),
        ("/tickets/", {"step": "4", "pipeline_master": "new"}),
        ("/tickets/", {"step": "6"}),
        *[
            (f"/objects/{name}/mappings/add/", mapping)
            for name in ("companies", "deals", "tickets")
        ],
        *[(f"/objects/{name}/mappings/refresh/", {}) for name in ("companies", "deals")],
        (f"/mappings/{ids['mapping']}/rule/", {"rule": "two_way"}),
        (f"/mappings/{ids['mapping']}/delete/", {}),
        ("/custom-objects/new/", {}),
        ("/custom-objects/1/edit/", {}),
        ("/custom-objects/wizard/rules/", {"conflict_winner": "hubspot"}),
        ("/custom-objects/wizard/associations/", {}),
        ("/custom-objects/1/switch/", {}),
        ("/custom-objects/1/remove/", {}),
        ("/import/start/", {"object": "accounts"}),
        (f"/import/{ids['job']}/cancel/", {}),
        (f"/import/{ids['job']}/resume/", {}),
        ("/records/companies/hubspot:1/resync/", {}),
    ]


def test_viewers_and_people_without_a_role_change_nothing(every_pair, viewer_client, logged_in):
    before = everything_stored()
    for client in (viewer_client, logged_in):
        for path, data in _changes(every_pair):
            for extra in ({}, HTMX):
                response = client.post(path, data, **extra)
                assert response.status_code == 403, (path, extra)
                assert "Only integration admins can change settings" in response.content.decode()
    assert everything_stored() == before


def test_nobody_logged_out_changes_anything(every_pair, client):
    before = everything_stored()
    for path, data in _changes(every_pair):
        response = client.post(path, data, **HTMX)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
    assert everything_stored() == before


def test_every_change_needs_the_csrf_token(every_pair, admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = everything_stored()
    for path, data in _changes(every_pair):
        assert client.post(path, data, **HTMX).status_code == 403, path
    for name in ("companies", "deals", "tickets", "activities", "custom:1"):
        response = client.patch(f"/api/v1/settings/{name}/", {"enabled": False}, content_type=JSON)
        assert response.status_code == 403 and "CSRF" in response.json()["detail"], name
    assert everything_stored() == before


# --- the settings API, pair by pair -----------------------------------------------------------
# A change for each pair, and how its tab then shows it (its settings form as drawn, or text).
API_CHANGES = {
    "companies": (
        {"enabled": True, "settings": {"salesforce_creates": False, "salesforce_delete": "delete"}},
        ("/companies/", "company-settings", {"enabled": "on", "salesforce_delete": "delete"},
         ["salesforce_creates"]),
    ),
    "deals": (
        {"enabled": True, "settings": {"salesforce_delete": "nothing"}},
        ("/deals/", "deal-settings", {"enabled": "on", "salesforce_delete": "nothing"}, []),
    ),
    "activities": (
        {"enabled": True, "settings": {"hubspot_notes": True, "salesforce_meetings": True}},
        ("/activities/", "activity-settings",
         {"enabled": "on", "hubspot_notes": "on", "salesforce_meetings": "on"}, ["hubspot_calls"]),
    ),
    "tickets": (
        {"enabled": False, "settings": {"salesforce_delete": "delete",
                                        "sync_contact_association": False}},
        ("/tickets/", "ticket-settings", {"salesforce_delete": "delete"},
         ["enabled", "sync_contact_association"]),
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(API_CHANGES))
def test_the_api_changes_a_pair_as_its_tab_shows_it(
    name, every_pair, admin_client, viewer_client, admin_user
):
    body, (tab, form_id, shown, unchecked) = API_CHANGES[name]
    ObjectSync.objects.filter(object=name).update(enabled=name == "tickets")
    refused = viewer_client.patch(f"/api/v1/settings/{name}/", body, content_type=JSON)
    assert refused.status_code == 403
    assert viewer_client.get(f"/api/v1/settings/{name}/").status_code == 200

    response = admin_client.patch(f"/api/v1/settings/{name}/", body, content_type=JSON)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["enabled"] is body["enabled"]
    assert {k: answer["settings"][k] for k in body["settings"]} == body["settings"]
    event = AuditEvent.objects.get(action="settings.updated")
    assert event.actor == admin_user and event.details["object"] == name
    assert set(event.details["changes"]) == set(answer["changed"])

    form = form_on_page(admin_client.get(tab).content, form_id)
    for field, value in shown.items():
        assert form.get(field) == value, field
    for field in unchecked:
        assert field not in form, field


def test_the_api_changes_a_custom_object_as_its_tab_shows_it(
    every_pair, admin_client, viewer_client, admin_user
):
    body = {"enabled": False, "settings": {"conflict_winner": "hubspot"}}
    assert (
        viewer_client.patch("/api/v1/settings/custom:1/", body, content_type=JSON).status_code
        == 403
    )
    response = admin_client.patch("/api/v1/settings/custom:1/", body, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == {
        "conflict_winner": {"from": "salesforce", "to": "hubspot"},
        "enabled": {"from": True, "to": False},
    }
    assert AuditEvent.objects.get(action="settings.updated").actor == admin_user
    row = admin_client.get("/custom-objects/").content.decode().split('id="custom-object-1"')[1]
    assert "HubSpot wins conflicts" in row and "Switch sync on" in row


@pytest.mark.parametrize("name", ["contacts", "companies", "tickets", "custom:1"])
def test_a_switch_sent_among_the_settings_says_where_it_goes(name, every_pair, admin_client):
    before = everything_stored()
    response = admin_client.patch(
        f"/api/v1/settings/{name}/", {"settings": {"enabled": False}}, content_type=JSON
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "settings": {
            "enabled": ['not a setting: send "enabled" at the top level, beside "settings"']
        }
    }
    assert everything_stored() == before


@pytest.mark.parametrize(
    ("name", "takes"),
    [
        ("companies", "salesforce_creates, hubspot_creates, salesforce_delete, inclusion_list_id"),
        ("deals", "salesforce_delete"),
        ("tickets", "salesforce_delete, sync_account_association, sync_contact_association"),
        ("activities", "hubspot_calls, hubspot_emails, hubspot_meetings, hubspot_notes, "
                       "hubspot_tasks, salesforce_tasks, salesforce_calls, salesforce_emails, "
                       "salesforce_meetings"),
        ("custom:1", "salesforce_to_hubspot, hubspot_to_salesforce, salesforce_delete, "
                     "hubspot_delete, conflict_winner"),
    ],
)  # fmt: skip
def test_an_unknown_setting_names_the_settings_the_pair_takes(
    name, takes, every_pair, admin_client
):
    before = everything_stored()
    response = admin_client.patch(
        f"/api/v1/settings/{name}/",
        {"enabled": False, "settings": {"salesforce_creat": True}},
        content_type=JSON,
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "settings": {"salesforce_creat": [f"unknown setting: this pair's settings are {takes}"]}
    }
    assert everything_stored() == before


def test_activities_have_no_mappings_to_add(every_pair, admin_client):
    ObjectSync.objects.filter(object="activities").update(enabled=True)
    response = admin_client.post(
        "/api/v1/mappings/",
        {
            "object": "activities",
            "hubspot_property": "hs_call_title",
            "salesforce_field": "Subject",
        },
        content_type=JSON,
    )
    assert response.status_code == 400, response.content
    assert response.json() == {
        "object": [
            "Activities have no field mappings: every activity of a selected type syncs with "
            "its subject, body, date and status."
        ]
    }
    # Nor does the dashboard take one (the Activities tab has no mapping editor).
    for path in ("/objects/activities/mappings/", "/objects/activities/mappings/add/"):
        assert admin_client.post(path, {"hubspot_property": "hs_call_title"}).status_code == 404
    assert not FieldMapping.objects.filter(object="activities").exists()
    assert not AuditEvent.objects.exists()


def test_a_mapping_whose_schemas_cant_be_read_says_so(every_pair, admin_client):
    """No schema is cached yet, so adding a mapping reads them first: here that fails."""
    before = everything_stored()
    response = admin_client.post(
        "/api/v1/mappings/",
        {"object": "companies", "hubspot_property": "name", "salesforce_field": "Name"},
        content_type=JSON,
    )
    assert response.status_code == 503, response.content
    message = response.json()["detail"]
    assert message == (
        "Couldn't read the schemas to check this mapping (HubSpot: connection refused): "
        "nothing was added. Try again later."
    )
    assert everything_stored() == before


def test_the_schema_documents_that_answer(logged_in):
    response = logged_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    operations = response.json()["paths"]["/api/v1/mappings/"]
    assert "couldn't be read" in operations["post"]["responses"]["503"]["description"]
    assert "503" not in operations["get"]["responses"]


def test_a_cycle_queued_for_a_removed_custom_object_brings_no_pair_back(
    every_pair, admin_client, connected
):
    """A cycle queued before its custom object was removed finds it gone: it makes no row (an
    empty one would be a pair without objects), and neither the API nor the tab's actions
    know such a pair."""
    custom_object_delete(integration=connected, object_name="custom:1")
    assert sync_cycles_run(integration=connected, object_names=["custom:1"]) == []
    with pytest.raises(PairRemoved):
        sync_cycle_run(integration=connected, object_name="custom:1")
    assert not ObjectSync.objects.filter(integration=connected, object="custom:1").exists()
    before = everything_stored()
    assert admin_client.get("/api/v1/settings/custom:1/").status_code == 404
    response = admin_client.patch(
        "/api/v1/settings/custom:1/", {"enabled": True}, content_type=JSON
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "No custom object pair 'custom:1'."}
    for path in ("/custom-objects/1/switch/", "/custom-objects/1/edit/"):
        assert admin_client.post(path).status_code == 404, path
    assert everything_stored() == before


@pytest.mark.parametrize("method", ["get", "patch"])
def test_a_custom_pair_removed_while_its_api_request_runs_is_a_404(
    every_pair, admin_client, connected, monkeypatch, method
):
    """The pair exists when the request is checked and is removed (in another request) before
    it is read or changed: a 404, and no empty pair row made again."""
    from integration_admin.api import views

    checked = views.object_sync_get

    def removed_right_after_the_check(**kwargs):
        row = checked(**kwargs)
        custom_object_delete(integration=connected, object_name="custom:1")
        return row

    monkeypatch.setattr(views, "object_sync_get", removed_right_after_the_check)
    call = getattr(admin_client, method)
    response = call("/api/v1/settings/custom:1/", {"enabled": True}, content_type=JSON)
    assert response.status_code == 404
    assert response.json() == {"detail": "No custom object pair 'custom:1'."}
    assert not ObjectSync.objects.filter(integration=connected, object="custom:1").exists()


# --- the audit log says what changed, as the tabs name it -----------------------------------
def _audit_rows(client) -> list[str]:
    """Each audit row's "what" and "before → after", as text."""
    html = client.get("/audit/").content.decode()
    rows = re.findall(r"<tr data-action=[^>]*>(.*?)</tr>", html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_custom_object_changes_are_audited_in_the_wizards_words(live, emulators, admin_client):
    from .test_custom_objects_wizard import RULES, projects_schema, walk_to_associations

    hs_type = projects_schema(emulators, ["CONTACT"])
    walk_to_associations(admin_client, hs_type)
    admin_client.post(
        "/custom-objects/wizard/associations/", {"association:contacts": "Contact__c"}
    )
    # Edited: HubSpot wins conflicts now, Budget no longer syncs, nor the contact lookup.
    admin_client.get("/custom-objects/1/edit/")
    admin_client.post("/custom-objects/wizard/rules/", {**RULES, "conflict_winner": "salesforce"})
    admin_client.post("/custom-objects/wizard/fields/", {"map:Name": "project_name"})
    admin_client.post("/custom-objects/wizard/associations/", {})
    admin_client.post("/custom-objects/1/switch/")
    response = admin_client.patch(
        "/api/v1/settings/custom:1/",
        {"settings": {"salesforce_delete": "nothing"}},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    labels = {
        f["name"]: f["label"]
        for f in SchemaCache.objects.get(system="salesforce", object="Project__c").data
    }
    # As the mapping tables name fields: "Label (API name)", or the name alone when it's both.
    name, budget, contact = (
        f if labels[f] == f else f"{labels[f]} ({f})" for f in ("Name", "Budget__c", "Contact__c")
    )

    api, switched, edited, added = _audit_rows(admin_client)[:4]
    assert "Custom object sync added" in added
    assert f"Mapping : — → Project name (project_name) ⇄ {name}" in added
    assert f"Mapping : — → Budget (budget) ⇄ {budget}" in added
    # …and the rules and associations it was set up with.
    assert "Conflict winner : — → HubSpot wins conflicts" in added
    assert "When a HubSpot record is deleted, in Salesforce : — → Do nothing" in added
    assert f"Associations : — → Contacts ⇄ {contact}" in added
    assert "Custom object sync changed" in edited
    assert "Conflict winner : HubSpot wins conflicts → Salesforce wins conflicts" in edited
    assert f"Mapping : Budget (budget) ⇄ {budget} → —" in edited
    assert f"Associations : Contacts ⇄ {contact} → —" in edited
    assert "Settings changed · Projects Sync : On → Off" in switched
    assert "When a Salesforce record is deleted, in HubSpot : Delete the record → Do nothing" in api
    for raw in ("conflict_winner", "salesforce_delete", "enabled", "create_or_update", "mappings"):
        assert raw not in " ".join((api, switched, edited, added)), raw


@pytest.mark.parametrize(
    ("name", "group", "sobject"),
    [
        ("companies", "companyinformation", "Account"),
        ("deals", "dealinformation", "Opportunity"),
        ("tickets", "ticketinformation", "Case"),
    ],
)
def test_mapping_changes_on_these_tabs_are_audited_with_who_made_them(
    name, group, sobject, live, emulators, admin_client, admin_user
):
    """Added, its rule changed, deleted, on the tab and then through the API: one entry each,
    naming the admin, and the audit page says so in the tab's words (the ticket wizard's
    mappings are editable during setup)."""
    hubspot_client(emulators, strict=False).crm.properties.core_api.create(
        name,
        PropertyCreate(name="audit_note", label="Audit note", type="string",
                       field_type="text", group_name=group),
    )  # fmt: skip
    emulators.salesforce.app.run_action(
        "add_field", object=sobject, field="Audit_Note", type="string", label="Audit note"
    )
    object_sync_get_or_create(integration=live, object_name=name)
    if name != "tickets":
        object_settings_update(integration=live, object_name=name, changes={}, enabled=True)
    response = admin_client.post(
        f"/objects/{name}/mappings/add/",
        {"hubspot_property": "audit_note", "salesforce_field": "Audit_Note__c",
         "rule": "two_way"},
        **HTMX,
    )  # fmt: skip
    assert response.status_code == 200
    mapping = FieldMapping.objects.get(object=name, hubspot_property="audit_note")
    admin_client.post(f"/mappings/{mapping.pk}/rule/", {"rule": "always_use_salesforce"}, **HTMX)
    admin_client.post(f"/mappings/{mapping.pk}/delete/", **HTMX)
    assert not FieldMapping.objects.filter(pk=mapping.pk).exists()

    events = AuditEvent.objects.filter(action__startswith="mapping.").order_by("pk")
    assert [e.action for e in events] == ["mapping.created", "mapping.rule_changed",
                                          "mapping.deleted"]  # fmt: skip
    for event in events:
        assert event.actor == admin_user and event.details["object"] == name
        assert event.details["hubspot"] == "audit_note"
    deleted, changed, added = _audit_rows(admin_client)[:3]
    assert "Mapping deleted" in deleted and "Audit note" in deleted
    assert "Sync rule changed" in changed and "Mapping added" in added

    body = {"object": name, "hubspot_property": "audit_note", "salesforce_field": "Audit_Note__c",
            "rule": "two_way"}  # fmt: skip
    response = admin_client.post("/api/v1/mappings/", body, content_type=JSON)
    assert response.status_code == 201, response.content
    url = f"/api/v1/mappings/{response.json()['id']}/"
    rule = {"rule": "prefer_salesforce_unless_blank"}
    response = admin_client.patch(url, rule, content_type=JSON)
    assert response.status_code == 200 and response.json()["rule"] == rule["rule"]
    assert admin_client.delete(url).status_code == 204
    events = AuditEvent.objects.filter(action__startswith="mapping.").order_by("pk")[3:]
    assert [e.action for e in events] == ["mapping.created", "mapping.rule_changed",
                                          "mapping.deleted"]  # fmt: skip
    assert all(e.actor == admin_user and e.details["object"] == name for e in events)
