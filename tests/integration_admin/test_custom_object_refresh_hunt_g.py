"""A custom object's own page (spec §15): its mappings as the object tabs list them, and the
tabs' *Refresh properties and fields*. A Salesforce field retyped or made read-only, or a
HubSpot property deleted, reached the cached schemas only when the wizard was saved again
(or through the API): until then the custom object's rows said nothing, while the cycle
failed record after record. Walked with the Django test client against the emulators."""

from __future__ import annotations

from html import unescape

import pytest
from django.test import Client

from emulators.salesforce.schema import new_field_raw
from emulators.testing import hubspot_client
from sync_engine.models import ApiCall, ObjectSync

from .test_custom_objects_wizard import projects_schema, walk_to_associations

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("back_to_english")]
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE = "/custom-objects/1/"
REFRESH = "/custom-objects/1/mappings/refresh/"


@pytest.fixture
def project(admin_client, live, emulators) -> str:
    """``custom:1``: Project__c ⇄ Projects, Name → project_name, Budget__c → budget and
    Description__c → notes, set up through the wizard (which caches both schemas)."""
    hs_type = projects_schema(emulators, ["CONTACT"])
    walk_to_associations(admin_client, hs_type)
    admin_client.post(
        "/custom-objects/wizard/fields/",
        {"map:Name": "project_name", "map:Budget__c": "budget", "map:Description__c": "notes"},
    )
    response = admin_client.post("/custom-objects/wizard/associations/", {})
    assert response["Location"] == "/custom-objects/"
    assert ObjectSync.objects.filter(integration=live, object="custom:1").exists()
    return hs_type


def retype_field(emulators, sobject: str, field: str, new_type: str) -> None:
    """Setup's Change Field Type on one of the object's own fields, undone by the next
    test's reset (which builds the schema afresh only after fields changed at runtime)."""
    app = emulators.salesforce.app
    raw = new_field_raw(field, app.schema.objects[sobject].fields[field].label, new_type)
    app.schema.add_field(sobject, raw)
    app.org.runtime_fields.append((sobject, raw))
    app._caches_changed()


def page(client, path: str = PAGE) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return unescape(response.content.decode())


def refresh(client) -> str:
    response = client.post(REFRESH, **HTMX)
    assert response.status_code == 200
    return unescape(response.content.decode())


def mapping_row(html: str, hubspot_property: str) -> str:
    row = html[html.index(f'data-hubspot="{hubspot_property}"') :]
    return row[: row.index("</tr>")]


def status(row: str) -> str:
    cell = row[row.index('class="cell--status"') :]
    return cell[: cell.index("</td>")]


def test_the_tab_links_each_custom_object_to_its_page_with_its_mappings(admin_client, project):
    html = page(admin_client, "/custom-objects/")
    assert f'href="{PAGE}"' in html
    html = page(admin_client)
    assert "Project ⇄ Projects" in html
    # Its rules as the wizard set them (step 2's words).
    assert "<dt>Conflict winner</dt><dd>HubSpot wins conflicts</dd>" in html
    for prop in ("project_name", "budget", "notes"):
        assert "badge--succeeded" in status(mapping_row(html, prop)), prop
    assert "Budget <code" in mapping_row(html, "budget")  # labels, with the API names
    assert "Refresh properties and fields" in html
    # Its mappings stay the wizard's: no add form, rule picker or delete here.
    assert "Add a mapping" not in html and "/mappings/add/" not in html
    assert 'name="rule"' not in html and "/delete/" not in html
    assert 'href="/custom-objects/1/edit/"' in html


def test_a_retyped_salesforce_field_shows_mismatched_types_after_refresh(
    admin_client, project, live, emulators
):
    retype_field(emulators, "Project__c", "Description__c", "date")
    # A view reads nothing: the page knows of it only once refreshed.
    spent = ApiCall.objects.filter(integration=live).count()
    assert "Mismatched types" not in page(admin_client)
    assert ApiCall.objects.filter(integration=live).count() == spent

    html = refresh(admin_client)
    assert html.lstrip().startswith('<div id="mapping-editor"')
    assert "Properties and fields refreshed from HubSpot and Salesforce." in html
    cell = status(mapping_row(html, "notes"))
    assert "Mismatched types" in cell and "badge--warning" in cell
    assert "The Salesforce field is now Date, and a HubSpot Multi-line text property" in cell
    assert "badge--succeeded" in status(mapping_row(html, "budget"))
    # The page says so from then on, and only on that row.
    html = page(admin_client)
    assert "Mismatched types" in status(mapping_row(html, "notes"))
    assert html.count("Mismatched types") == 1


def test_a_field_made_read_only_and_a_deleted_property_show_after_refresh(
    admin_client, project, live, emulators
):
    emulators.salesforce.app.run_action(
        "set_field_permission", object="Project__c", field="Budget__c", access="read",
        token=live.salesforce_connection.access_token,
    )  # fmt: skip
    hubspot_client(emulators, strict=False).crm.properties.core_api.archive(project, "notes")
    html = page(admin_client)
    assert "badge--succeeded" in status(mapping_row(html, "budget"))
    assert "badge--succeeded" in status(mapping_row(html, "notes"))

    html = refresh(admin_client)
    budget = status(mapping_row(html, "budget"))
    assert "badge--warning" in budget
    assert "Read-only in Salesforce: syncs to HubSpot only" in budget
    notes = status(mapping_row(html, "notes"))
    assert "Never syncs: HubSpot no longer has this property." in notes
    assert "badge--succeeded" in status(mapping_row(html, "project_name"))
    # In the reader's language, as the wizard says it.
    dutch = unescape(admin_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="nl").content.decode())
    assert "Alleen-lezen in Salesforce: synchroniseert alleen naar HubSpot" in dutch
    assert "Ingesteld door de synchronisatieregels van het aangepaste object" in dutch

    # Edit access given back: the warning goes with the next refresh (it isn't the one
    # stored when the wizard saved the mapping).
    emulators.salesforce.app.run_action(
        "set_field_permission", object="Project__c", field="Budget__c", access="edit",
        token=live.salesforce_connection.access_token,
    )  # fmt: skip
    assert "badge--succeeded" in status(mapping_row(refresh(admin_client), "budget"))


def test_a_read_only_field_saved_so_is_no_warning_once_editable(admin_client, project, live):
    """The warning the wizard stored with a mapping of a then read-only field says what the
    schema said then; the rows say what it says now."""
    mapping = live.mappings.get(object="custom:1", hubspot_property="budget")
    mapping.warning = "Read-only in Salesforce: it syncs to HubSpot only"
    mapping.save()
    assert "badge--succeeded" in status(mapping_row(page(admin_client), "budget"))


def test_without_htmx_refresh_goes_back_to_the_page(admin_client, project):
    response = admin_client.post(REFRESH)
    assert response.status_code == 302 and response["Location"] == PAGE
    assert "Properties and fields refreshed from HubSpot and Salesforce." in page(admin_client)


def test_a_failed_refresh_says_why_and_keeps_the_schemas(admin_client, project, emulators):
    emulators.salesforce.app.faults.add(path=r"/describe", status=503, body=[
        {"errorCode": "SERVER_UNAVAILABLE", "message": "down for maintenance"}
    ], times=5)  # fmt: skip
    html = refresh(admin_client)
    assert "Couldn't refresh the schemas:" in html
    assert "badge--succeeded" in status(mapping_row(html, "budget"))


def test_viewers_see_the_rows_but_cannot_refresh(viewer_client, project, live):
    html = page(viewer_client)
    assert 'data-hubspot="budget"' in html
    assert "Refresh properties and fields" not in html and "Edit sync" not in html
    spent = ApiCall.objects.filter(integration=live).count()
    assert viewer_client.post(REFRESH, **HTMX).status_code == 403
    assert ApiCall.objects.filter(integration=live).count() == spent


def test_refresh_needs_a_csrf_token(admin_user, project):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(REFRESH, **HTMX).status_code == 403
    html = client.get(PAGE).content.decode()
    token = html.split('hx-headers=\'{"X-CSRFToken": "')[1].split('"')[0]
    response = client.post(REFRESH, HTTP_X_CSRFTOKEN=token, **HTMX)
    assert response.status_code == 200


def test_an_unknown_or_removed_custom_object_is_404(admin_client, project):
    assert admin_client.get("/custom-objects/2/").status_code == 404
    assert admin_client.post("/custom-objects/2/mappings/refresh/", **HTMX).status_code == 404
    # Not through the object tabs' route either (its mappings are the wizard's).
    assert admin_client.post("/objects/custom:1/mappings/refresh/", **HTMX).status_code == 404
