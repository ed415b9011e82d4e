"""The mapping editor's pickers on a first visit, against the emulators: a pair whose schemas
were never read reads them once (the read Refresh makes, in the ledger like every call), so the
pickers and labels work the first time; reloading spends nothing; a read that fails shows why,
never a 500. And the pickers leave out what can never sync meaningfully."""

from __future__ import annotations

import re
from html import unescape

import pytest

from sync_engine.models import ApiCall, SalesforceConnection
from sync_engine.services import object_settings_update

pytestmark = pytest.mark.django_db


def calls(integration) -> dict[str, list[str]]:
    """The ledger's calls per system: what the page spent."""
    out: dict[str, list[str]] = {"salesforce": [], "hubspot": []}
    for system, operation in ApiCall.objects.filter(integration=integration).values_list(
        "system", "operation"
    ):
        out[system].append(operation)
    return out


def picker(html: str, name: str) -> list[str]:
    """The values a datalist of the Add-a-mapping form offers."""
    found = re.search(rf'<datalist id="{name}">(.*?)</datalist>', html, re.S)
    assert found, f"no {name} picker"
    return re.findall(r'<option value="([^"]+)"', found.group(1))


def mapping_row(html: str, hubspot_property: str) -> str:
    row = html[html.index(f'data-hubspot="{hubspot_property}"') :]
    return row[: row.index("</tr>")]


def switch_on(integration, object_name: str) -> None:
    object_settings_update(
        integration=integration, object_name=object_name, changes={}, enabled=True
    )


# --- (a) the first visit reads the schemas ---------------------------------------------------
@pytest.mark.parametrize(
    ("path", "object_name", "hubspot", "salesforce", "described"),
    [
        ("/contacts/", "contacts", "firstname", "LastName", 2),  # Lead and Contact
        ("/companies/", "companies", "domain", "Website", 1),
        ("/deals/", "deals", "dealname", "StageName", 1),
        ("/tickets/?step=3", "tickets", "subject", "Subject", 1),  # the wizard's step 3
    ],
)
def test_the_first_visit_fills_the_pickers_and_a_reload_spends_nothing(
    admin_client, live, path, object_name, hubspot, salesforce, described
):
    if object_name in ("companies", "deals"):
        switch_on(live, object_name)  # their mappings are editable while sync is on
    before = calls(live)
    html = admin_client.get(path).content.decode()
    assert "Properties and fields read just now." in html
    assert "not read yet" not in html and "refresh them above" not in html
    assert hubspot in picker(html, "hubspot-properties")
    assert salesforce in picker(html, "salesforce-fields")
    spent = calls(live)
    new_sf = spent["salesforce"][len(before["salesforce"]) :]
    new_hs = spent["hubspot"][len(before["hubspot"]) :]
    assert new_sf.count("sobject.describe") == described
    assert new_hs.count(f"{object_name}.properties.list") == 1
    # Reloading uses what was read.
    again = admin_client.get(path).content.decode()
    assert hubspot in picker(again, "hubspot-properties")
    assert calls(live) == spent


def test_the_rows_show_labels_on_the_first_visit(admin_client, live):
    html = admin_client.get("/contacts/").content.decode()
    row = mapping_row(html, "firstname")
    assert "First Name<div><code" in row  # HubSpot's label, the API name beside it
    assert "First Name <code" in row  # Salesforce's label too


def test_a_viewers_first_visit_reads_them_too(viewer_client, live):
    html = viewer_client.get("/contacts/").content.decode()
    assert "Properties and fields read just now." in html
    row = mapping_row(html, "firstname")
    assert "First Name<div><code" in row
    assert "Add a mapping" not in html  # still only an admin changes them


def test_a_failed_first_read_shows_why_and_a_reload_does_not_ask_again(
    admin_client, live, emulators
):
    emulators.salesforce.app.faults.add(path=r"/sobjects/Lead/describe", status=503)
    response = admin_client.get("/contacts/")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Properties and fields not read yet." in html
    assert "Couldn't read the schemas: salesforce 503" in html
    assert 'data-hubspot="email"' in html  # the table is still there
    spent = calls(live)
    response = admin_client.get("/contacts/")
    assert response.status_code == 200
    assert "Couldn't read the schemas: salesforce 503" in unescape(response.content.decode())
    assert calls(live) == spent  # kept a few minutes: no second try on every reload
    # Refresh asks at once, and fills them once Salesforce answers.
    emulators.salesforce.app.faults.clear()
    html = admin_client.post(
        "/objects/contacts/mappings/refresh/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "firstname" in picker(html, "hubspot-properties")


def test_a_disconnected_side_shows_why(admin_client, live):
    SalesforceConnection.objects.filter(integration=live).delete()
    response = admin_client.get("/contacts/")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Properties and fields not read yet." in html
    assert "Not connected to Salesforce" in html


def test_the_activities_tab_reads_no_schema(admin_client, live):
    """Activities have no mapping editor: showing their tab spends no call on one."""
    admin_client.get("/activities/")
    assert "sobject.describe" not in calls(live)["salesforce"]


# --- (b) what the pickers offer --------------------------------------------------------------
def test_the_pickers_leave_out_what_can_never_sync(admin_client, live):
    switch_on(live, "companies")
    admin_client.post("/objects/companies/mappings/refresh/")
    html = admin_client.get("/companies/").content.decode()
    fields = picker(html, "salesforce-fields")
    # The record id (the integration keeps it as the link), delete and merge bookkeeping,
    # the system change stamp, audit user ids, the integration user's own view dates, and a
    # compound address no HubSpot property can take.
    for name in (
        "Id",
        "IsDeleted",
        "MasterRecordId",
        "SystemModstamp",
        "CreatedById",
        "LastModifiedById",
        "LastViewedDate",
        "LastReferencedDate",
        "BillingAddress",
    ):
        assert name not in fields, name
    # Read-only fields that mean something stay: they map "Always use Salesforce".
    for name in ("Name", "Website", "CreatedDate", "LastModifiedDate", "LastActivityDate"):
        assert name in fields, name
    properties = picker(html, "hubspot-properties")
    # HubSpot's own bookkeeping (lists of its user, team and owner ids, merges, creation
    # keys) and calculations the engine can't map.
    for name in (
        "hs_all_owner_ids",
        "hs_all_team_ids",
        "hs_all_accessible_team_ids",
        "hs_user_ids_of_all_owners",
        "hs_shared_user_ids",
        "hs_merged_object_ids",
        "hs_unique_creation_key",
        "hs_pinned_engagement_id",
        "hs_read_only",
        "total_revenue",  # a rollup
        "days_to_close",  # an equation
    ):
        assert name not in properties, name
    # Read-only properties that may flow HubSpot → Salesforce stay.
    for name in ("hs_object_id", "num_associated_contacts", "createdate", "domain", "industry"):
        assert name in properties, name
    # A default mapping of a field left out still shows its label in the table.
    assert "Company name" in mapping_row(html, "name")
