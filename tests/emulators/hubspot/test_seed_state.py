"""The demo seed, reset, snapshot/restore and the control plane over HTTP."""

from __future__ import annotations

import pickle
import time

import requests
from hubspot.crm.contacts import PublicObjectSearchRequest
from hubspot.crm.properties import PropertyCreate

from emulators import demo_data

SEED_OWNERS = {
    ("Sanne", "Visser", "sanne.visser@example.com"),
    ("Mark", "de Jong", "mark.dejong@example.com"),
    ("Priya", "Shah", "priya.shah@example.com"),
    ("Tom", "Becker", "tom.becker@example.com"),
    ("Lucia", "Romero", "lucia.romero@example.com"),
}


def seed_over_http(base_url) -> dict:
    started = time.perf_counter()
    response = requests.post(f"{base_url}/__emulator__/seed", json={"name": "demo"}, timeout=30)
    assert response.status_code == 200, response.text
    assert time.perf_counter() - started < 5
    return response.json()


def test_demo_seed_contents(hs, app, base_url):
    summary = seed_over_http(base_url)
    people = [p for p in demo_data.people() if p.side in {"hubspot", "both_lead", "both_contact"}]
    assert summary["contacts"] == len(people) and summary["owners"] == 5
    assert 90 <= summary["companies"] <= 120 and summary["deals"] >= 3
    owners = {(o.first_name, o.last_name, o.email) for o in hs.crm.owners.get_all()}
    assert owners == SEED_OWNERS
    contacts = hs.crm.contacts.get_all(
        properties=["email", "associatedcompanyid", "lifecyclestage", "jobtitle", "state"]
    )
    assert len(contacts) == len(people)
    assert all(c.properties["associatedcompanyid"] for c in contacts)
    emails = {c.properties["email"] for c in contacts}
    bad = [p for p in people if p.bad == "email"]
    assert bad and all(p.email in emails for p in bad)  # imported before validation existed
    assert any(len(c.properties["jobtitle"] or "") > 100 for c in contacts)
    assert any(c.properties["state"] == "Atlantis" for c in contacts)
    source = hs.crm.contacts.basic_api.get_by_id(contacts[0].id, properties_with_history=["email"])
    assert source.properties_with_history["email"][0].source_type == "IMPORT"


def test_demo_seed_lists_and_deals(hs, base_url):
    summary = seed_over_http(base_url)
    dynamic = hs.crm.lists.lists_api.get_by_name("Sync to Salesforce", "0-1").list
    assert dynamic.processing_type == "DYNAMIC"
    known = hs.crm.contacts.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "lifecyclestage", "operator": "HAS_PROPERTY"}]}
            ]
        )
    )
    assert dynamic.size == known.total > 0
    manual = hs.crm.lists.lists_api.get_by_id(summary["lists"]["manual"]).list
    assert manual.processing_type == "MANUAL" and manual.size > 0
    deals = hs.crm.deals.get_all(properties=["pipeline", "dealstage"], associations=["companies"])
    assert deals and all(d.properties["pipeline"] == "default" for d in deals)
    assert all(d.associations["companies"].results for d in deals)


def test_reset_keeps_the_schema_only(hs, app, base_url):
    seed_over_http(base_url)
    hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="temp_field",
            label="Temp",
            type="string",
            field_type="text",
            group_name="contactinformation",
        ),
    )
    response = requests.post(f"{base_url}/__emulator__/reset", timeout=10)
    assert response.status_code == 200
    assert hs.crm.contacts.get_all() == [] and hs.crm.owners.get_all() == []
    names = {p.name for p in hs.crm.properties.core_api.get_all("contacts").results}
    assert "email" in names and "temp_field" not in names
    assert hs.crm.pipelines.pipelines_api.get_all("deals").results[0].id == "default"


def test_snapshot_restore_round_trip(hs, app):
    kept = hs.crm.contacts.basic_api.create({"properties": {"email": "kept@x.com"}}).id
    snapshot = pickle.loads(pickle.dumps(app.snapshot()))  # noqa: S301 - our own bytes
    hs.crm.contacts.basic_api.create({"properties": {"email": "later@x.com"}})
    hs.crm.contacts.basic_api.update(kept, {"properties": {"firstname": "Changed"}})
    with app.lock:
        app.restore(snapshot)
    contacts = hs.crm.contacts.get_all(properties=["email", "firstname"])
    assert [(c.id, c.properties["firstname"]) for c in contacts] == [(kept, None)]
    # The restored state keeps working: indexes and id counters come back too.
    again = hs.crm.contacts.basic_api.create({"properties": {"email": "later@x.com"}})
    assert int(again.id) > int(kept)


def test_control_plane_lists_actions(base_url):
    actions = requests.get(f"{base_url}/__emulator__/actions", timeout=10).json()
    assert {
        "edit",
        "create",
        "archive",
        "restore",
        "merge",
        "add_to_list",
        "remove_from_list",
        "create_list",
        "set_deal_stage",
        "archive_owner",
        "create_owner",
        "expire_token",
        "set_search_lag",
        "set_batch_validation_mode",
    } <= set(actions)


def test_ui_create_archive_restore(hs, base_url):
    def act(action, **kwargs):
        response = requests.post(
            f"{base_url}/__emulator__/actions/{action}", json=kwargs, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()["result"]

    created = act("create", object_type="contacts", properties={"email": "ui@x.com"})
    act("archive", object_type="contacts", id=created["id"])
    assert hs.crm.contacts.get_all() == []
    act("restore", object_type="contacts", id=created["id"])
    restored = hs.crm.contacts.basic_api.get_by_id(created["id"], properties=["lastmodifieddate"])
    assert restored.properties["lastmodifieddate"] >= created["properties"]["lastmodifieddate"]


def test_demo_seed_has_a_projects_custom_object_to_pair_with_salesforce(hs, base_url):
    """The custom-object wizard needs a HubSpot custom object created first (spec §15)."""
    summary = seed_over_http(base_url)
    projects = next(s for s in hs.crm.schemas.core_api.get_all().results if s.name == "projects")
    assert projects.object_type_id in summary["custom_objects"]
    assert {"project_name", "project_status", "budget"} <= {p.name for p in projects.properties}
