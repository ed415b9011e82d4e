"""A mapping whose field or property changed type after it was made (spec §4 item 7, §8.1):
an admin makes a Salesforce Text field a Number, or a HubSpot number property single-line
text. Once the editor's Refresh reads the schemas again, the mapping's row says "Mismatched
types", naming the types that now meet as HubSpot's and Salesforce's screens do, and the fix;
a page view alone reads nothing from either system. Defaults and unchanged mappings stay OK.
"""

from __future__ import annotations

from html import unescape

import pytest
from hubspot.crm.properties import PropertyCreate, PropertyUpdate

from emulators.salesforce.schema import new_field_raw
from emulators.testing import hubspot_client
from sync_engine.models import ApiCall, FieldMapping
from sync_engine.services import (
    mapping_create,
    object_settings_update,
    object_sync_get_or_create,
    schema_refresh,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("back_to_english")]
HTMX = {"HTTP_HX_REQUEST": "true"}

# tab, pair, its Salesforce objects, the HubSpot group for a new property
TABS = [
    ("/contacts/", "contacts", ("Lead", "Contact"), "contactinformation"),
    ("/companies/", "companies", ("Account",), "companyinformation"),
    ("/deals/", "deals", ("Opportunity",), "dealinformation"),
    ("/tickets/?step=3", "tickets", ("Case",), "ticketinformation"),
]


def mapping_row(html: str, hubspot_property: str) -> str:
    row = html[html.index(f'data-hubspot="{hubspot_property}"') :]
    return row[: row.index("</tr>")]


def status(row: str) -> str:
    cell = row[row.index('class="cell--status"') :]
    return cell[: cell.index("</td>")]


def editable(integration, object_name: str) -> None:
    """Companies' and deals' mappings change while their sync is on (tickets': while the
    wizard is open, as it is at first)."""
    object_sync_get_or_create(integration=integration, object_name=object_name)
    if object_name in ("companies", "deals"):
        object_settings_update(
            integration=integration, object_name=object_name, changes={}, enabled=True
        )


def new_property(emulators, object_name, group, name, kind, field_type) -> None:
    hubspot_client(emulators, strict=False).crm.properties.core_api.create(
        object_name,
        PropertyCreate(name=name, label=name.replace("_", " ").title(), type=kind,
                       field_type=field_type, group_name=group),
    )  # fmt: skip


def retype_field(emulators, sobject: str, field: str, new_type: str) -> None:
    """Setup's Change Field Type: the field keeps its name and label, with another type."""
    app = emulators.salesforce.app
    old = app.schema.objects[sobject].fields[field]
    app.schema.add_field(sobject, new_field_raw(field, old.label, new_type))
    app._caches_changed()


def refresh(client, object_name: str) -> str:
    """The editor's Refresh properties and fields button."""
    response = client.post(f"/objects/{object_name}/mappings/refresh/", **HTMX)
    assert response.status_code == 200
    return unescape(response.content.decode())


def page(client, path: str, **headers) -> str:
    response = client.get(path, **headers)
    assert response.status_code == 200
    return unescape(response.content.decode())


@pytest.mark.parametrize(("path", "object_name", "sobjects", "group"), TABS)
def test_a_salesforce_field_made_a_number_shows_mismatched_types(
    admin_client, live, emulators, path, object_name, sobjects, group
):
    editable(live, object_name)
    new_property(emulators, object_name, group, "plan_note", "string", "text")
    run = emulators.salesforce.app.run_action
    for sobject in sobjects:
        run("add_field", object=sobject, field="Plan_Note", type="string")
    schema_refresh(integration=live, object_name=object_name)
    mapping_create(
        integration=live, object_name=object_name, hubspot_property="plan_note",
        salesforce_field="Plan_Note__c", rule="always_use_salesforce",
    )  # fmt: skip
    assert "badge--succeeded" in status(mapping_row(page(admin_client, path), "plan_note"))

    for sobject in sobjects:
        retype_field(emulators, sobject, "Plan_Note__c", "double")
    # Until the schemas are read again the page knows nothing of it: a view reads nothing.
    spent = ApiCall.objects.filter(integration=live).count()
    assert "Mismatched types" not in page(admin_client, path)
    assert ApiCall.objects.filter(integration=live).count() == spent

    cell = status(mapping_row(refresh(admin_client, object_name), "plan_note"))
    assert "Mismatched types" in cell and "badge--warning" in cell
    assert (
        "The Salesforce field is now Number, and a HubSpot Single-line text property can't "
        "map to it: this mapping doesn't sync until then. Change the field type back in "
        "Salesforce, then Refresh properties and fields; or map another field." in cell
    )
    # The tab itself says so too, from what was read, and only on that row.
    html = page(admin_client, path)
    assert "Mismatched types" in status(mapping_row(html, "plan_note"))
    assert html.count("Mismatched types") == 1


def test_a_hubspot_number_property_made_text_shows_mismatched_types_in_dutch_too(
    admin_client, live, emulators
):
    editable(live, "deals")
    new_property(emulators, "deals", "dealinformation", "seat_count", "number", "number")
    emulators.salesforce.app.run_action(
        "add_field", object="Opportunity", field="Seat_Count", type="double"
    )
    schema_refresh(integration=live, object_name="deals")
    mapping_create(
        integration=live, object_name="deals", hubspot_property="seat_count",
        salesforce_field="Seat_Count__c", rule="two_way",
    )  # fmt: skip
    hubspot_client(emulators, strict=False).crm.properties.core_api.update(
        "deals", "seat_count", PropertyUpdate(type="string", field_type="text")
    )
    cell = status(mapping_row(refresh(admin_client, "deals"), "seat_count"))
    assert "Mismatched types" in cell
    assert (
        "The HubSpot property is now Single-line text, which can't map to a Salesforce Number "
        "field: this mapping doesn't sync until then. Change the property type back in "
        "HubSpot, then Refresh properties and fields; or map another property." in cell
    )
    # In Dutch the types are named as HubSpot's and Salesforce's Dutch screens name them.
    dutch = status(
        mapping_row(page(admin_client, "/deals/", HTTP_ACCEPT_LANGUAGE="nl"), "seat_count")
    )
    assert "badge--warning" in dutch
    assert "Tekst met één regel" in dutch and "Getal" in dutch
    assert "Single-line text" not in dutch


def test_both_sides_changed_and_a_change_that_still_fits(admin_client, live, emulators):
    """Both types changed: the row names both; a change §8.1 still allows (Text to Text
    Area) is no mismatch; a mapping set to Don't sync moves nothing, so nothing to warn of."""
    for name in ("both_note", "area_note", "idle_note"):
        new_property(emulators, "contacts", "contactinformation", name, "string", "text")
    run = emulators.salesforce.app.run_action
    for sobject in ("Lead", "Contact"):
        for field in ("Both_Note", "Area_Note", "Idle_Note"):
            run("add_field", object=sobject, field=field, type="string")
    schema_refresh(integration=live, object_name="contacts")
    for prop, field, rule in (
        ("both_note", "Both_Note__c", "two_way"),
        ("area_note", "Area_Note__c", "two_way"),
        ("idle_note", "Idle_Note__c", "dont_sync"),
    ):
        mapping_create(
            integration=live, object_name="contacts", hubspot_property=prop,
            salesforce_field=field, rule=rule,
        )  # fmt: skip
    properties = hubspot_client(emulators, strict=False).crm.properties.core_api
    for prop in ("both_note", "idle_note"):
        properties.update("contacts", prop, PropertyUpdate(type="number", field_type="number"))
    for sobject in ("Lead", "Contact"):
        retype_field(emulators, sobject, "Both_Note__c", "boolean")
        retype_field(emulators, sobject, "Area_Note__c", "textarea")
        retype_field(emulators, sobject, "Idle_Note__c", "boolean")
    html = refresh(admin_client, "contacts")
    assert (
        "The HubSpot property is now Number and the Salesforce field Checkbox, types that "
        "can't map to each other" in status(mapping_row(html, "both_note"))
    )
    assert "badge--succeeded" in status(mapping_row(html, "area_note"))
    assert "Mismatched types" not in status(mapping_row(html, "idle_note"))


def test_a_lead_field_changed_type_warns_on_the_contact_mapping(admin_client, live, emulators):
    """A contact mapping writes a lead's field or a contact's: only Lead's changed type is
    still a mismatch for the leads it syncs."""
    new_property(emulators, "contacts", "contactinformation", "plan_note", "string", "text")
    run = emulators.salesforce.app.run_action
    for sobject in ("Lead", "Contact"):
        run("add_field", object=sobject, field="Plan_Note", type="string")
    schema_refresh(integration=live, object_name="contacts")
    mapping_create(
        integration=live, object_name="contacts", hubspot_property="plan_note",
        salesforce_field="Plan_Note__c", rule="two_way",
    )  # fmt: skip
    retype_field(emulators, "Lead", "Plan_Note__c", "date")
    cell = status(mapping_row(refresh(admin_client, "contacts"), "plan_note"))
    assert "The Salesforce field is now Date, and a HubSpot Single-line text" in cell


@pytest.mark.parametrize(("path", "object_name", "sobjects", "group"), TABS)
def test_default_mappings_are_no_mismatch(admin_client, live, path, object_name, sobjects, group):
    """The defaults as HubSpot makes them, some of which the engine converts itself (a
    contact's employee-range dropdown and a lead's number), never read as changed types."""
    editable(live, object_name)
    html = page(admin_client, path)
    assert FieldMapping.objects.filter(integration=live, object=object_name).exists()
    assert "Mismatched types" not in html
