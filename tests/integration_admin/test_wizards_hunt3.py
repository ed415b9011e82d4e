"""The Tickets and Custom objects wizards as demanding admins use them: two admins (or two
tabs) at once, the Previous step button, and what step 3 warns of before creates fail."""

from __future__ import annotations

import pytest
from django.test import Client

from integration_admin.roles import ADMINS
from sync_engine.models import AuditEvent, FieldMapping, ObjectSync
from sync_engine.services import object_settings_update

from .conftest import person
from .test_custom_objects_wizard import (
    RULES,
    projects_schema,
    selected_options,
    walk_to_associations,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hs_type(live, emulators) -> str:
    return projects_schema(emulators, ["CONTACT"])


@pytest.fixture
def other_admin_client(db) -> Client:
    client = Client()
    client.force_login(person("grace", ADMINS))
    return client


def custom_row() -> ObjectSync:
    return ObjectSync.objects.get(object="custom:1")


def synced_projects(client, hs_type: str) -> None:
    """Project__c ⇄ Projects set up through the wizard (RULES; Name and Budget mapped)."""
    walk_to_associations(client, hs_type)
    response = client.post("/custom-objects/wizard/associations/", {})
    assert response["Location"] == "/custom-objects/"


# --- custom objects -------------------------------------------------------------------------
def test_a_stale_switch_button_leaves_the_custom_object_as_both_admins_wanted(
    admin_client, other_admin_client, live, hs_type, page_form
):
    """Two admins have the tab open with the custom object on; both press *Switch sync
    off*. The second press must not switch it back on."""
    synced_projects(admin_client, hs_type)
    page = admin_client.get("/custom-objects/").content.decode()
    assert "Switch sync off" in page
    form = page_form(page.split('action="/custom-objects/1/switch/"', 1)[1].split("</form>")[0])
    other_admin_client.post("/custom-objects/1/switch/", form)
    assert custom_row().enabled is False
    response = admin_client.post("/custom-objects/1/switch/", form, follow=True)
    assert custom_row().enabled is False
    assert "no longer syncs" in response.content.decode()
    # One change, one audit entry: the stale press changed nothing.
    switched = AuditEvent.objects.filter(action="settings.updated", details__object="custom:1")
    assert switched.count() == 1


def test_editing_a_custom_object_keeps_what_another_admin_saved_meanwhile(
    admin_client, other_admin_client, live, hs_type
):
    """Ada opens the edit wizard; meanwhile Grace makes Salesforce win conflicts and maps
    Description. Ada then changes only the delete rule: Grace's changes stay."""
    synced_projects(admin_client, hs_type)
    assert custom_row().options["conflict_winner"] == "hubspot"
    admin_client.get("/custom-objects/1/edit/")  # Ada's pages show RULES, Name and Budget

    other_admin_client.get("/custom-objects/1/edit/")
    other_admin_client.post(
        "/custom-objects/wizard/rules/", {**RULES, "conflict_winner": "salesforce"}
    )
    other_admin_client.post(
        "/custom-objects/wizard/fields/",
        {"map:Name": "project_name", "map:Budget__c": "budget", "map:Description__c": "notes"},
    )
    other_admin_client.post("/custom-objects/wizard/associations/", {})
    assert custom_row().options["conflict_winner"] == "salesforce"

    admin_client.post("/custom-objects/wizard/rules/", {**RULES, "salesforce_delete": "nothing"})
    admin_client.post(
        "/custom-objects/wizard/fields/", {"map:Name": "project_name", "map:Budget__c": "budget"}
    )
    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response["Location"] == "/custom-objects/"

    options = custom_row().options
    assert options["salesforce_delete"] == "nothing"  # Ada's change
    assert options["conflict_winner"] == "salesforce"  # Grace's, not put back
    mappings = dict(
        FieldMapping.objects.filter(object="custom:1").values_list(
            "salesforce_field", "hubspot_property"
        )
    )
    assert mappings == {"Name": "project_name", "Budget__c": "budget", "Description__c": "notes"}
    event = AuditEvent.objects.filter(action="custom_object.updated").latest("pk")
    assert list(event.details["changes"]) == ["salesforce_delete"]


def test_an_edit_still_removes_a_mapping_and_an_association_it_was_started_with(
    admin_client, live, hs_type
):
    synced_projects(admin_client, hs_type)
    admin_client.get("/custom-objects/1/edit/")
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    admin_client.post("/custom-objects/wizard/fields/", {"map:Name": "project_name"})
    admin_client.post("/custom-objects/wizard/associations/", {})
    assert list(
        FieldMapping.objects.filter(object="custom:1").values_list("salesforce_field", flat=True)
    ) == ["Name"]
    admin_client.get("/custom-objects/1/edit/")
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    admin_client.post("/custom-objects/wizard/fields/", {"map:Name": "project_name"})
    admin_client.post(
        "/custom-objects/wizard/associations/", {"association:contacts": "Contact__c"}
    )
    assert custom_row().options["associations"] == {"contacts": "Contact__c"}
    admin_client.get("/custom-objects/1/edit/")
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    admin_client.post("/custom-objects/wizard/fields/", {"map:Name": "project_name"})
    admin_client.post("/custom-objects/wizard/associations/", {})
    assert custom_row().options["associations"] == {}


def test_previous_step_keeps_the_answers_of_the_step_it_leaves(admin_client, live, hs_type):
    """Step 3 opens with suggestions (Name and Budget). The admin keeps only Name and goes
    back to step 2; coming forward again, step 3 shows their choice, not the suggestions.
    Likewise step 4: a suggested association turned off stays off after going back."""
    admin_client.get("/custom-objects/new/")
    admin_client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type},
    )
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    html = admin_client.get("/custom-objects/wizard/fields/").content.decode()
    assert selected_options(html) == {"map:Name": "project_name", "map:Budget__c": "budget"}
    response = admin_client.post(
        "/custom-objects/wizard/fields/", {"map:Name": "project_name", "back": "1"}
    )
    assert response["Location"] == "/custom-objects/wizard/rules/"
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    html = admin_client.get("/custom-objects/wizard/fields/").content.decode()
    assert selected_options(html) == {"map:Name": "project_name"}

    admin_client.post("/custom-objects/wizard/fields/", {"map:Name": "project_name"})
    html = admin_client.get("/custom-objects/wizard/associations/").content.decode()
    assert selected_options(html) == {"association:contacts": "Contact__c"}  # suggested
    admin_client.post("/custom-objects/wizard/associations/", {"back": "1"})  # Don't sync
    admin_client.post("/custom-objects/wizard/fields/", {"map:Name": "project_name"})
    html = admin_client.get("/custom-objects/wizard/associations/").content.decode()
    assert selected_options(html) == {}
    admin_client.post("/custom-objects/wizard/associations/", {})
    assert custom_row().options["associations"] == {}


def test_step_3_warns_of_a_required_lookup_no_mapping_can_fill(admin_client, live, hs_type):
    """Campaign members need their Campaign, a lookup: lookups aren't mapped and a campaign
    has no HubSpot association, so HubSpot records can never create campaign members. Step
    3 says so, as it does for other required fields, instead of every create failing
    unannounced."""
    admin_client.get("/custom-objects/new/")
    response = admin_client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "CampaignMember", "hubspot_object": hs_type},
    )
    assert response["Location"] == "/custom-objects/wizard/rules/"
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    html = admin_client.get("/custom-objects/wizard/fields/").content.decode()
    assert "Salesforce requires Campaign ID to create a record, a lookup that doesn" in html
    assert 'name="map:CampaignId"' not in html  # still not offered as a mapping
    # Without creates in Salesforce there is nothing to warn of.
    admin_client.post("/custom-objects/wizard/fields/", {"back": "1", "map:Name": ""})
    admin_client.post(
        "/custom-objects/wizard/rules/", {**RULES, "hubspot_to_salesforce": "nothing"}
    )
    html = admin_client.get("/custom-objects/wizard/fields/").content.decode()
    assert "Salesforce requires Campaign ID" not in html


# --- tickets --------------------------------------------------------------------------------
def ticket_options(integration) -> dict:
    return ObjectSync.objects.get(integration=integration, object="tickets").options


def test_a_stale_associations_step_does_not_undo_another_admins_change(
    admin_client, other_admin_client, live, page_form
):
    """After setup Ada reopens step 2 (both associations on). Grace turns contact
    associations off on the settings. Ada turns account associations off on her page and
    saves: the contact association stays off."""
    object_settings_update(
        integration=live, object_name="tickets", changes={"setup_complete": True}, enabled=True
    )
    step_2 = page_form(admin_client.get("/tickets/?step=2").content, "ticket-step-form")
    assert step_2["sync_account_association"] == step_2["sync_contact_association"] == "on"

    settings = page_form(other_admin_client.get("/tickets/").content, "ticket-settings")
    other_admin_client.post(
        "/tickets/", {k: v for k, v in settings.items() if k != "sync_contact_association"}
    )
    assert ticket_options(live)["sync_contact_association"] is False

    posted = {k: v for k, v in step_2.items() if k != "sync_account_association"}
    response = admin_client.post("/tickets/", {**posted, "action": "save"})
    assert response.status_code == 302
    options = ticket_options(live)
    assert options["sync_account_association"] is False  # Ada's change
    assert options["sync_contact_association"] is False  # Grace's, not put back
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert list(event.details["changes"]) == ["sync_account_association"]


def test_a_stale_rules_step_does_not_undo_another_admins_delete_rule(
    admin_client, other_admin_client, live, page_form
):
    object_settings_update(
        integration=live, object_name="tickets", changes={"setup_complete": True}, enabled=True
    )
    step_1 = page_form(admin_client.get("/tickets/?step=1").content, "ticket-step-form")
    assert step_1["salesforce_delete"] == "nothing"
    other_admin_client.post(
        "/tickets/", {"step": 1, "action": "save", "salesforce_delete": "delete"}
    )
    assert ticket_options(live)["salesforce_delete"] == "delete"
    admin_client.post("/tickets/", {**step_1, "action": "save"})  # saved unchanged
    assert ticket_options(live)["salesforce_delete"] == "delete"


def test_back_from_the_associations_step_keeps_the_choice(admin_client, live, page_form):
    step_2 = page_form(admin_client.get("/tickets/?step=2").content, "ticket-step-form")
    posted = {k: v for k, v in step_2.items() if k != "sync_contact_association"}
    response = admin_client.post("/tickets/", {**posted, "action": "back"})
    assert response["Location"].endswith("?step=1")
    assert ticket_options(live)["sync_contact_association"] is False
    html = admin_client.get("/tickets/?step=2").content.decode()
    assert page_form(html, "ticket-step-form").get("sync_contact_association") is None
