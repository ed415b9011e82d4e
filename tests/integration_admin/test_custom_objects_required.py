"""The custom-object wizard refuses a pairing that leaves a property HubSpot requires to create
a record (the schema's ``requiredProperties``, e.g. *Project name*) unmapped while Salesforce
records create HubSpot records: every create would fail with "project_name is required".
Walked with the Django test client against the emulators."""

from __future__ import annotations

import pytest

from sync_engine.models import FieldMapping, ObjectSync

from .test_custom_objects_wizard import RULES, projects_schema

pytestmark = pytest.mark.django_db
FIELDS = "/custom-objects/wizard/fields/"
REFUSED = (
    "HubSpot requires Project name to create a record. Map a Salesforce field to it, or set "
    "“When a Salesforce record is created or updated” to “Do nothing” in step 2."
)
NO_NAME = {"map:Name": "", "map:Budget__c": "budget"}  # Name set to "Don't sync"


@pytest.fixture
def hs_type(live, emulators) -> str:
    return projects_schema(emulators, ["CONTACT"])


def walk_to_fields(client, hs_type: str, **rules) -> None:
    client.get("/custom-objects/new/")
    client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type},
    )
    response = client.post("/custom-objects/wizard/rules/", {**RULES, **rules})
    assert response["Location"] == FIELDS


def test_the_fields_step_refuses_leaving_a_required_property_unmapped(admin_client, hs_type):
    walk_to_fields(admin_client, hs_type)
    response = admin_client.post(FIELDS, NO_NAME)
    assert response.status_code == 200  # the step again, not the next one
    html = response.content.decode()
    assert (
        f'<div class="alert alert--error" role="alert" data-mapping-error>{REFUSED}</div>' in html
    )
    # The refusal replaces the warning, and no field is blamed for it.
    assert "without a mapping, Salesforce records can&#x27;t create HubSpot records" not in html
    assert "Some mappings can't be saved; see below." not in html
    assert 'aria-invalid="true"' not in html
    # What was picked stays picked, and nothing moved on.
    assert 'value="budget" selected' in html
    assert admin_client.session["custom_object_wizard"]["mappings"] == {}
    assert admin_client.get("/custom-objects/wizard/associations/").status_code == 200
    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response.status_code == 200
    assert not ObjectSync.objects.filter(object__startswith="custom:").exists()

    # Said alongside the step's other refusals.
    html = admin_client.post(FIELDS, {"map:Budget__c": "notes"}).content.decode()
    assert REFUSED in html and "can&#x27;t map to a Salesforce Currency field" in html
    assert "Some mappings can't be saved; see below." in html

    # Mapped: the step moves on, and the pair syncs.
    response = admin_client.post(FIELDS, {**NO_NAME, "map:Name": "project_name"})
    assert response["Location"] == "/custom-objects/wizard/associations/"
    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response["Location"] == "/custom-objects/"
    mappings = FieldMapping.objects.filter(object="custom:1")
    assert set(mappings.values_list("hubspot_property", flat=True)) == {"project_name", "budget"}


def test_without_creates_in_hubspot_the_property_need_not_be_mapped(admin_client, hs_type):
    walk_to_fields(admin_client, hs_type, salesforce_to_hubspot="nothing")
    html = admin_client.get(FIELDS).content.decode()
    assert "HubSpot requires Project name" not in html
    response = admin_client.post(FIELDS, NO_NAME)
    assert response["Location"] == "/custom-objects/wizard/associations/"

    # Turning creates on in step 2 afterwards: finishing without the fields step is refused
    # too (the service checks the whole pairing), and nothing is saved.
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response.status_code == 200
    assert "HubSpot requires Project name (project_name)" in response.content.decode()
    assert not ObjectSync.objects.filter(object__startswith="custom:").exists()

    admin_client.post(
        "/custom-objects/wizard/rules/", {**RULES, "salesforce_to_hubspot": "nothing"}
    )
    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response["Location"] == "/custom-objects/"
    row = ObjectSync.objects.get(object="custom:1")
    assert row.options["salesforce_to_hubspot"] == "nothing"
    assert not FieldMapping.objects.filter(object="custom:1", hubspot_property="project_name")


def test_editing_and_the_settings_api_keep_the_required_property_mapped(admin_client, hs_type):
    walk_to_fields(admin_client, hs_type, salesforce_to_hubspot="nothing")
    admin_client.post(FIELDS, NO_NAME)
    admin_client.post("/custom-objects/wizard/associations/", {})
    row = ObjectSync.objects.get(object="custom:1")

    # The settings API can't let Salesforce create HubSpot records while it's unmapped.
    response = admin_client.patch(
        "/api/v1/settings/custom:1/",
        {"settings": {"salesforce_to_hubspot": "create_or_update"}},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    message = response.json()["settings"]["salesforce_to_hubspot"][0]
    assert message.startswith("HubSpot requires Project name (project_name) to create a record")
    row.refresh_from_db()
    assert row.options["salesforce_to_hubspot"] == "nothing"

    # Nor can the wizard's edit.
    assert (
        admin_client.get("/custom-objects/1/edit/")["Location"] == "/custom-objects/wizard/rules/"
    )
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    html = admin_client.get(FIELDS).content.decode()
    assert "HubSpot requires Project name to create a record: without a mapping" in html
    response = admin_client.post(FIELDS, NO_NAME)
    assert response.status_code == 200 and REFUSED in response.content.decode()
    admin_client.post(FIELDS, {**NO_NAME, "map:Name": "project_name"})
    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response["Location"] == "/custom-objects/"
    row.refresh_from_db()
    assert row.options["salesforce_to_hubspot"] == "create_or_update"
    assert FieldMapping.objects.filter(object="custom:1", hubspot_property="project_name").exists()
