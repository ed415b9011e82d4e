"""The Custom objects tab and its wizard (spec §15), walked with the Django test client against
the emulators: Salesforce's ``Project__c`` and a HubSpot custom object made through the
schemas API."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from hubspot.crm.schemas import ObjectSchemaEgg, ObjectTypeDefinitionLabels

from emulators.testing import hubspot_client
from sync_engine.models import AuditEvent, FieldMapping, ObjectSync
from sync_engine.object_settings import MAX_CUSTOM_OBJECTS

PROPERTIES = [
    {"name": "project_name", "label": "Project name", "type": "string", "fieldType": "text"},
    {"name": "budget", "label": "Budget", "type": "number", "fieldType": "number"},
    {"name": "notes", "label": "Notes", "type": "string", "fieldType": "textarea"},
]


def projects_schema(emulators, associated: list[str]) -> str:
    hs = hubspot_client(emulators, token="marketer-token", strict=False)
    egg = ObjectSchemaEgg(
        name="projects",
        labels=ObjectTypeDefinitionLabels(singular="Project", plural="Projects"),
        primary_display_property="project_name",
        required_properties=["project_name"],
        associated_objects=associated,
        properties=PROPERTIES,
    )
    return hs.crm.schemas.core_api.create(egg).object_type_id


@pytest.fixture
def hs_type(live, emulators) -> str:
    return projects_schema(emulators, ["CONTACT"])


def walk_to_associations(client, hs_type: str) -> None:
    response = client.get("/custom-objects/new/")
    assert response.status_code == 302 and response["Location"] == "/custom-objects/wizard/objects/"
    client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type},
    )
    client.post("/custom-objects/wizard/rules/", RULES)
    client.post(
        "/custom-objects/wizard/fields/",
        {"map:Name": "project_name", "map:Budget__c": "budget"},
    )


def selected_options(html: str) -> dict[str, str]:
    """``{select name: selected value}`` for the selects with a selected option."""
    chosen = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        value = re.search(r'<option value="([^"]*)" selected>', body)
        if value and value.group(1):
            chosen[name] = value.group(1)
    return chosen


RULES = {
    "salesforce_to_hubspot": "create_or_update",
    "salesforce_delete": "delete",
    "hubspot_to_salesforce": "create_or_update",
    "hubspot_delete": "nothing",
    "conflict_winner": "hubspot",
}


def test_walk_the_wizard_as_admin(admin_client, live, hs_type, admin_user):
    html = admin_client.get("/custom-objects/").content.decode()
    assert "No custom objects sync yet" in html and "+ Sync custom object" in html

    # 1. Map objects: queryable, updateable objects, not those the standard tabs sync.
    assert admin_client.get("/custom-objects/new/").status_code == 302
    html = admin_client.get("/custom-objects/wizard/objects/").content.decode()
    assert 'value="Project__c"' in html and f'value="{hs_type}"' in html
    assert 'value="Lead"' not in html and 'value="Account"' not in html
    assert "csrfmiddlewaretoken" in html
    response = admin_client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type},
    )
    assert response["Location"] == "/custom-objects/wizard/rules/"

    # 2. Sync rules.
    html = admin_client.get("/custom-objects/wizard/rules/").content.decode()
    assert "Resolve sync conflict" in html
    response = admin_client.post("/custom-objects/wizard/rules/", RULES)
    assert response["Location"] == "/custom-objects/wizard/fields/"

    # 3. Field mappings: lookups aren't offered; the compatibility matrix is enforced.
    html = admin_client.get("/custom-objects/wizard/fields/").content.decode()
    assert 'name="map:Budget__c"' in html and 'name="map:Name"' in html
    assert 'name="map:Account__c"' not in html and 'name="map:Contact__c"' not in html
    assert 'name="map:SystemModstamp"' not in html
    # Suggested until answered: same label (Budget), and Name for the required Project name.
    assert selected_options(html) == {"map:Name": "project_name", "map:Budget__c": "budget"}
    assert "HubSpot requires Project name" not in html
    html = admin_client.post("/custom-objects/wizard/fields/", {"map:Budget__c": "notes"}).content
    assert "HubSpot requires Project name to create a record" in html.decode()
    html = admin_client.post(
        "/custom-objects/wizard/fields/",
        {"map:Name": "project_name", "map:Budget__c": "notes"},
    ).content.decode()
    assert "can&#x27;t map to a Salesforce Currency field" in html
    assert "HubSpot requires Project name" not in html
    html = admin_client.post(
        "/custom-objects/wizard/fields/",
        {"map:Contact__c": "project_name"},
    ).content.decode()
    assert "can&#x27;t be mapped here" in html
    response = admin_client.post(
        "/custom-objects/wizard/fields/",
        {"map:Name": "project_name", "map:Budget__c": "budget", "map:Description__c": "notes"},
    )
    assert response["Location"] == "/custom-objects/wizard/associations/"

    # 4. Associations: the object's Contact lookup stands for HubSpot contacts (suggested:
    # it is the object's only lookup to contacts).
    html = admin_client.get("/custom-objects/wizard/associations/").content.decode()
    assert 'name="association:contacts"' in html and 'value="Contact__c"' in html
    assert selected_options(html) == {"association:contacts": "Contact__c"}
    # The HubSpot object has no association definition with companies (only contacts).
    assert 'value="Account__c"' not in html and "no association with this object" in html
    # Project__c has no lookup to opportunities or cases: deals and tickets aren't offered.
    assert 'name="association:deals"' not in html and "HubSpot tickets" not in html
    response = admin_client.post(
        "/custom-objects/wizard/associations/", {"association:contacts": "Contact__c"}
    )
    assert response["Location"] == "/custom-objects/"

    row = ObjectSync.objects.get(object="custom:1")
    assert row.enabled is True
    assert row.options["salesforce_object"] == "Project__c"
    assert row.options["hubspot_object"] == hs_type
    assert row.options["conflict_winner"] == "hubspot"
    assert row.options["salesforce_delete"] == "delete"
    assert row.options["associations"] == {"contacts": "Contact__c"}
    mappings = dict(
        FieldMapping.objects.filter(object="custom:1").values_list(
            "salesforce_field", "hubspot_property"
        )
    )
    assert mappings == {"Name": "project_name", "Budget__c": "budget", "Description__c": "notes"}
    event = AuditEvent.objects.get(action="custom_object.created")
    assert event.actor == admin_user and event.details["object"] == "custom:1"
    audit = admin_client.get("/audit/").content.decode()
    assert "Custom object sync added" in audit
    # Named as people know them, not by their API ids.
    assert f"{row.options['salesforce_label']} ⇄ {row.options['hubspot_label']}" in audit
    assert f"Project__c ⇄ {hs_type}" not in audit

    html = admin_client.get("/custom-objects/").content.decode()
    assert 'id="custom-object-1"' in html and "Project__c" in html and "HubSpot wins" in html

    # Edit: the wizard from step 2, objects fixed.
    response = admin_client.get("/custom-objects/1/edit/")
    assert response["Location"] == "/custom-objects/wizard/rules/"
    admin_client.post("/custom-objects/wizard/rules/", {**RULES, "conflict_winner": "salesforce"})
    admin_client.post("/custom-objects/wizard/fields/", {"map:Name": "project_name"})
    admin_client.post("/custom-objects/wizard/associations/", {})
    row.refresh_from_db()
    assert row.options["conflict_winner"] == "salesforce" and row.options["associations"] == {}
    assert list(FieldMapping.objects.filter(object="custom:1").values_list("salesforce_field"))
    assert FieldMapping.objects.filter(object="custom:1").count() == 1
    assert AuditEvent.objects.filter(action="custom_object.updated").exists()

    # Switch off, and on again.
    admin_client.post("/custom-objects/1/switch/")
    row.refresh_from_db()
    assert row.enabled is False
    assert "Switch sync on" in admin_client.get("/custom-objects/").content.decode()
    admin_client.post("/custom-objects/1/switch/")
    row.refresh_from_db()
    assert row.enabled is True

    # Remove.
    response = admin_client.post("/custom-objects/1/remove/")
    assert response["Location"] == "/custom-objects/"
    assert not ObjectSync.objects.filter(object="custom:1").exists()
    assert not FieldMapping.objects.filter(object="custom:1").exists()
    assert AuditEvent.objects.filter(action="custom_object.deleted").exists()


def test_an_opportunity_lookup_is_offered_for_the_deal_association(admin_client, live, emulators):
    # An admin added an Opportunity lookup to Project__c, and the HubSpot object has an
    # association definition with deals.
    from tests.sync_engine.sync.test_custom_objects import add_opportunity_lookup

    add_opportunity_lookup(emulators)
    hs_type = projects_schema(emulators, ["CONTACT", "DEAL"])
    walk_to_associations(admin_client, hs_type)

    html = admin_client.get("/custom-objects/wizard/associations/").content.decode()
    assert "HubSpot deals ⇄ an opportunity lookup" in html
    assert 'name="association:deals"' in html and 'value="Opportunity__c"' in html
    # Suggested, like the contact lookup: each is the object's only lookup to its object.
    assert selected_options(html) == {
        "association:contacts": "Contact__c",
        "association:deals": "Opportunity__c",
    }
    assert "HubSpot tickets" not in html  # no lookup to cases
    response = admin_client.post(
        "/custom-objects/wizard/associations/",
        {"association:contacts": "Contact__c", "association:deals": "Opportunity__c"},
    )
    assert response["Location"] == "/custom-objects/"
    row = ObjectSync.objects.get(object="custom:1")
    assert row.options["associations"] == {"contacts": "Contact__c", "deals": "Opportunity__c"}


def test_without_a_hubspot_custom_object_the_wizard_explains_it(admin_client, live):
    admin_client.get("/custom-objects/new/")
    html = admin_client.get("/custom-objects/wizard/objects/").content.decode()
    assert "no custom objects yet" in html and "Create the custom object in HubSpot first" in html


def _fill(integration, count: int) -> None:
    for n in range(1, count + 1):
        ObjectSync.objects.create(
            integration=integration,
            object=f"custom:{n}",
            enabled=True,
            options={"salesforce_object": f"Thing{n}__c", "hubspot_object": f"2-{n}"},
        )


def test_the_eleventh_custom_object_is_refused(admin_client, live, hs_type):
    _fill(live, MAX_CUSTOM_OBJECTS)
    html = admin_client.get("/custom-objects/").content.decode()
    assert "+ Sync custom object" not in html
    assert "All 10 custom objects are in use" in html
    response = admin_client.get("/custom-objects/new/", follow=True)
    assert "Up to 10 custom objects can sync" in response.content.decode()
    assert ObjectSync.objects.filter(object__startswith="custom:").count() == MAX_CUSTOM_OBJECTS


def test_the_limit_is_checked_again_when_the_wizard_finishes(admin_client, live, hs_type):
    _fill(live, MAX_CUSTOM_OBJECTS - 1)
    walk_to_associations(admin_client, hs_type)
    ObjectSync.objects.create(
        integration=live,
        object="custom:10",
        options={"salesforce_object": "Other__c", "hubspot_object": "2-99"},
    )
    response = admin_client.post("/custom-objects/wizard/associations/", {}, follow=True)
    assert "Up to 10 custom objects can sync" in response.content.decode()
    assert ObjectSync.objects.filter(object__startswith="custom:").count() == MAX_CUSTOM_OBJECTS


def test_a_viewer_sees_the_tab_but_cannot_change_it(viewer_client, admin_client, live, hs_type):
    walk_to_associations(admin_client, hs_type)
    admin_client.post("/custom-objects/wizard/associations/", {})
    assert ObjectSync.objects.filter(object="custom:1").exists()

    html = viewer_client.get("/custom-objects/").content.decode()
    assert 'id="custom-object-1"' in html
    assert "+ Sync custom object" not in html and "/custom-objects/1/remove/" not in html
    assert viewer_client.get("/custom-objects/new/").status_code == 403
    assert viewer_client.get("/custom-objects/1/edit/").status_code == 403
    assert viewer_client.get("/custom-objects/wizard/objects/").status_code == 403
    assert viewer_client.post("/custom-objects/1/switch/").status_code == 403
    assert viewer_client.post("/custom-objects/1/remove/").status_code == 403
    row = ObjectSync.objects.get(object="custom:1")
    assert row.enabled is True


def test_objects_that_already_sync_are_marked_and_cannot_be_picked(admin_client, live, hs_type):
    """Step 1 offered the paired objects again and refused them only after Next."""
    walk_to_associations(admin_client, hs_type)
    admin_client.post("/custom-objects/wizard/associations/", {})
    assert ObjectSync.objects.filter(object="custom:1").exists()
    admin_client.get("/custom-objects/new/")
    html = admin_client.get("/custom-objects/wizard/objects/").content.decode()
    assert (
        '<option value="Project__c" disabled>Project (Project__c) (already syncs)</option>' in html
    )
    assert f'<option value="{hs_type}" disabled>Projects (already syncs)</option>' in html
    # Other objects stay selectable.
    assert re.search(r'<option value="Campaign">[^<]+</option>', html)


def test_forms_need_the_csrf_token(admin_user, live):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post("/custom-objects/new/").status_code in (403, 405)
    _fill(live, 1)
    assert client.post("/custom-objects/1/remove/").status_code == 403
    assert ObjectSync.objects.filter(object="custom:1").exists()


def test_login_required(client, live):
    response = client.get("/custom-objects/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_custom_object_error_opens_from_sync_health(admin_client, connected):
    from .conftest import make_error

    make_error(
        connected, 1, object_name="custom:1", salesforce_type="Project__c", record_label="Apollo"
    )
    html = admin_client.get("/sync-health/errors/property_value/").content.decode()
    assert "/records/custom:1/hubspot:1000/" in html
    response = admin_client.get("/records/custom:1/hubspot:1000/")
    assert response.status_code == 200 and "Apollo" in response.content.decode()
    response = admin_client.post("/records/custom:1/hubspot:1000/resync/")
    assert response.status_code == 302
    assert admin_client.get("/records/nonsense/hubspot:1000/").status_code == 404


def test_the_tab_runs_a_constant_number_of_queries(
    viewer_client, connected, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        assert viewer_client.get("/custom-objects/").status_code == 200
    _fill(connected, MAX_CUSTOM_OBJECTS)
    with django_assert_max_num_queries(8):
        html = viewer_client.get("/custom-objects/").content.decode()
    assert html.count('id="custom-object-') == MAX_CUSTOM_OBJECTS


def test_a_cycle_for_a_custom_object_not_there_leaves_no_row(admin_client, live, hs_type):
    """A cycle queued before a removal (here: of one never added) makes no empty row that
    would count towards the ten, or take the next pair's number."""
    from sync_engine.object_settings import PairRemoved
    from sync_engine.sync.cycle import sync_cycle_run

    _fill(live, MAX_CUSTOM_OBJECTS - 1)
    with pytest.raises(PairRemoved):
        sync_cycle_run(integration=live, object_name="custom:10")
    assert not ObjectSync.objects.filter(object="custom:10").exists()
    html = admin_client.get("/custom-objects/").content.decode()
    assert 'id="custom-object-10"' not in html and "+ Sync custom object" in html
    walk_to_associations(admin_client, hs_type)
    admin_client.post("/custom-objects/wizard/associations/", {})
    assert ObjectSync.objects.get(object="custom:10").options["salesforce_object"] == "Project__c"


def test_editing_a_custom_object_removed_meanwhile_saves_nothing(admin_client, live, hs_type):
    walk_to_associations(admin_client, hs_type)
    admin_client.post("/custom-objects/wizard/associations/", {})
    admin_client.get("/custom-objects/1/edit/")
    ObjectSync.objects.filter(object="custom:1").delete()
    response = admin_client.post("/custom-objects/wizard/rules/", RULES, follow=True)
    assert "removed meanwhile" in response.content.decode()
    assert not ObjectSync.objects.filter(object__startswith="custom:").exists()


def test_the_settings_api_reaches_custom_objects_but_not_their_objects(
    admin_client, viewer_client, live
):
    _fill(live, 1)
    body = admin_client.get("/api/v1/settings/custom:1/").json()
    assert body["object"] == "custom:1" and body["settings"]["salesforce_object"] == "Thing1__c"
    response = admin_client.patch(
        "/api/v1/settings/custom:1/",
        {"enabled": False, "settings": {"conflict_winner": "hubspot"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    row = ObjectSync.objects.get(object="custom:1")
    assert row.enabled is False and row.options["conflict_winner"] == "hubspot"
    response = admin_client.patch(
        "/api/v1/settings/custom:1/",
        {"settings": {"salesforce_object": "Account"}},
        content_type="application/json",
    )
    assert response.status_code == 400 and "salesforce_object" in response.json()["settings"]
    assert admin_client.get("/api/v1/settings/custom:2/").status_code == 404
    assert not ObjectSync.objects.filter(object="custom:2").exists()
    assert (
        viewer_client.patch(
            "/api/v1/settings/custom:1/", {"enabled": True}, content_type="application/json"
        ).status_code
        == 403
    )


def test_removing_a_custom_object_asks_first(admin_client, viewer_client, connected):
    """Removing forgets which records belong together, for good: the tab's "Remove sync…"
    opens a confirm step (as Disconnect does); only its form, with the CSRF token, removes."""
    from .conftest import make_custom_object

    make_custom_object(connected)
    html = admin_client.get("/custom-objects/").content.decode()
    assert 'href="/custom-objects/1/remove/"' in html and "Remove sync…" in html
    assert 'action="/custom-objects/1/remove/"' not in html  # no one-click removal
    assert 'id="confirm-remove"' not in html

    response = admin_client.get("/custom-objects/1/remove/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="confirm-remove"' in html and "Remove the sync of Project ⇄ Projects?" in html
    assert "This can't be undone." in html
    form = re.search(
        r'<form method="post" action="/custom-objects/1/remove/".*?</form>', html, re.S
    )
    assert form and 'name="csrfmiddlewaretoken"' in form.group(0)
    assert 'href="/custom-objects/">Cancel</a>' in form.group(0)
    assert ObjectSync.objects.filter(object="custom:1").exists()  # asking removed nothing

    # Viewers are refused the question as well as the removal; an unknown one is a 404.
    assert viewer_client.get("/custom-objects/1/remove/").status_code == 403
    assert admin_client.get("/custom-objects/2/remove/").status_code == 404

    response = admin_client.post("/custom-objects/1/remove/", follow=True)
    assert "Project ⇄ Projects was removed." in response.content.decode()
    assert not ObjectSync.objects.filter(object="custom:1").exists()


def test_a_page_of_a_wizard_started_again_in_another_tab_saves_nothing(admin_client, live, hs_type):
    """Tab A is at step 2 of a new pairing; tab B starts the wizard again. A's Next then
    saves nothing into B's wizard, and says why."""
    admin_client.get("/custom-objects/new/")
    admin_client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type},
    )
    tab_a = admin_client.get("/custom-objects/wizard/rules/").content.decode()
    wizard_a = re.search(r'name="wizard" value="([0-9a-f]+)"', tab_a).group(1)
    admin_client.get("/custom-objects/new/")  # tab B
    response = admin_client.post(
        "/custom-objects/wizard/rules/", {**RULES, "wizard": wizard_a}, follow=True
    )
    html = response.content.decode()
    assert "started again since (in another tab or window), so nothing was saved" in html
    state = admin_client.session["custom_object_wizard"]
    assert state["id"] != wizard_a and state["settings"]["salesforce_object"] == ""
    assert response.redirect_chain[-1][0] == "/custom-objects/wizard/objects/"
    # B's own pages go on as usual.
    tab_b = admin_client.get("/custom-objects/wizard/objects/").content.decode()
    wizard_b = re.search(r'name="wizard" value="([0-9a-f]+)"', tab_b).group(1)
    response = admin_client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type, "wizard": wizard_b},
    )
    assert response["Location"] == "/custom-objects/wizard/rules/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_row_actions_are_on_screen(page, live_server, connected):
    """At 375 px each synced custom object is a small card (like the deal pipelines): its
    actions are in the window, not past it in a table scrolled sideways."""
    from playwright.sync_api import expect

    from .conftest import log_in_as_admin, make_custom_object, screenshot

    make_custom_object(connected)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in_as_admin(page, live_server, next_path="/custom-objects/")
    row = page.locator("#custom-object-1")
    expect(row).to_contain_text("Project")
    screenshot(page, "phone-custom-objects")
    for name in ("Edit sync", "Switch sync off", "Remove sync…"):
        action = row.get_by_role("link", name=name).or_(row.get_by_role("button", name=name))
        expect(action).to_be_visible()
        box = action.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (name, box)
    # Each value under its label, and nothing in the table scrolls sideways.
    expect(row.locator("td[data-label='Conflict winner']")).to_contain_text("Salesforce wins")
    sideways = page.locator("#custom-objects-title + .table-wrap").evaluate(
        "w => w.scrollWidth - w.clientWidth"
    )
    assert sideways <= 0, sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_custom_object_added_after_one_was_removed_starts_its_own_history(
    admin_client, live, hs_type
):
    """A removed pair's number is never given again: its runs (kept for the Sync history)
    and audit entries stay its own, not the next pair's."""
    from sync_engine.models import SyncRun
    from sync_engine.sync.cycle import sync_cycle_run

    walk_to_associations(admin_client, hs_type)
    admin_client.post("/custom-objects/wizard/associations/", {})
    sync_cycle_run(integration=live, object_name="custom:1")
    admin_client.post("/custom-objects/1/remove/")
    assert SyncRun.objects.filter(object="custom:1").exists()  # the history keeps its runs
    walk_to_associations(admin_client, hs_type)
    admin_client.post("/custom-objects/wizard/associations/", {})
    assert list(ObjectSync.objects.values_list("object", flat=True)) == ["custom:2"]
    assert not SyncRun.objects.filter(object="custom:2").exists()
    html = admin_client.get("/custom-objects/").content.decode()
    assert 'id="custom-object-2"' in html and 'id="custom-object-1"' not in html
    # The removed pair's entries still name it, by the labels they noted.
    admin_client.post("/custom-objects/2/remove/")
    audit = admin_client.get("/audit/").content.decode()
    assert "custom:1" not in audit and "custom:2" not in audit


def test_the_edit_wizard_ends_with_save_changes_not_finish_and_sync(admin_client, live, hs_type):
    """The new-pair wizard ends with "Finish and sync"; editing a pair only saves its changes,
    so its last step says so."""
    walk_to_associations(admin_client, hs_type)
    assert (
        "Finish and sync"
        in admin_client.get("/custom-objects/wizard/associations/").content.decode()
    )
    admin_client.post("/custom-objects/wizard/associations/", {})
    admin_client.get("/custom-objects/1/edit/")
    admin_client.post("/custom-objects/wizard/rules/", RULES)
    admin_client.post(
        "/custom-objects/wizard/fields/", {"map:Name": "project_name", "map:Budget__c": "budget"}
    )
    html = admin_client.get("/custom-objects/wizard/associations/").content.decode()
    assert "Save changes" in html and "Finish and sync" not in html
