"""Property history: who wrote each value (integration tokens vs people in the CRM UI)."""

from __future__ import annotations

from hubspot.crm.contacts import SimplePublicObjectInput, SimplePublicObjectInputForCreate

from emulators.testing import hubspot_client

from .conftest import control


def history(hs, contact_id, prop="firstname"):
    got = hs.crm.contacts.basic_api.get_by_id(contact_id, properties_with_history=[prop])
    return got.properties_with_history[prop]


def test_history_newest_first_with_integration_source(hs, app):
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "h@x.com", "firstname": "One"})
    )
    app.clock.advance(2)
    hs.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"firstname": "Two"})
    )
    entries = history(hs, contact.id)
    assert [e.value for e in entries] == ["Two", "One"]
    assert entries[0].timestamp > entries[1].timestamp
    assert {e.source_type for e in entries} == {"INTEGRATION"}
    app_id = str(app.state.users["integration-token"].app_id)
    assert {e.source_id for e in entries} == {app_id}


def test_each_token_is_its_own_user(emulators, hs, app):
    other = hubspot_client(emulators, token="someone-else")
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "t@x.com", "firstname": "Mine"})
    )
    other.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"firstname": "Theirs"})
    )
    newest, oldest = history(hs, contact.id)
    assert newest.source_type == oldest.source_type == "INTEGRATION"
    assert newest.source_id != oldest.source_id
    assert newest.source_id == str(app.state.users["someone-else"].app_id)


def test_ui_edit_over_the_control_plane_is_crm_ui(hs, app, base_url):
    owner = app.run_action(
        "create_owner", email="sanne@example.com", first_name="Sanne", last_name="Visser"
    )
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "ui@x.com", "firstname": "Api"})
    )
    app.clock.advance(1)
    response = control(
        base_url, "edit", object_type="contacts", id=contact.id, properties={"firstname": "Human"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["properties"]["firstname"] == "Human"
    newest = history(hs, contact.id)[0]
    assert newest.value == "Human" and newest.source_type == "CRM_UI"
    assert newest.updated_by_user_id == owner["userId"]
    assert newest.source_id == f"userId:{owner['userId']}"
    modified = hs.crm.contacts.basic_api.get_by_id(
        contact.id, properties=["lastmodifieddate", "hs_updated_by_user_id"]
    )
    assert modified.properties["lastmodifieddate"] > contact.properties["lastmodifieddate"]
    assert modified.properties["hs_updated_by_user_id"] == str(owner["userId"])


def test_invalid_ui_edit_answers_hubspot_error_over_http(hs, base_url):
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "v@x.com"})
    )
    response = control(
        base_url,
        "edit",
        object_type="contacts",
        id=contact.id,
        properties={"email": "not-an-email"},
    )
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    missing = control(base_url, "no_such_action")
    assert missing.status_code == 404


def test_cleared_values_appear_in_history(hs):
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "c@x.com", "firstname": "Gone"})
    )
    hs.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"firstname": ""})
    )
    assert [e.value for e in history(hs, contact.id)] == ["", "Gone"]
