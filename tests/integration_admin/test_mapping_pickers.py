"""The mapping editor's pickers on a first visit, against the emulators: a pair whose schemas
were never read reads them once (the read Refresh makes, in the ledger like every call), so the
pickers and labels work the first time; reloading spends nothing; a read that fails shows why,
never a 500. And the pickers leave out what can never sync meaningfully."""

from __future__ import annotations

import re
from html import unescape

import pytest
from hubspot.crm.properties import PropertyCreate

from emulators.testing import hubspot_client
from sync_engine.models import ApiCall, FieldMapping, SalesforceConnection
from sync_engine.services import object_settings_update, schema_refresh

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
    assert admin_client.get("/activities/").status_code == 200
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


# --- (c) what typing a name by hand can't get past --------------------------------------------
HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = "application/json"


GROUPS = {"contacts": "contactinformation", "companies": "companyinformation"}


def new_property(emulators, object_name: str, name: str, kind: str, field_type: str) -> None:
    hubspot_client(emulators, strict=False).crm.properties.core_api.create(
        object_name,
        PropertyCreate(name=name, label=name.replace("_", " ").title(), type=kind,
                       field_type=field_type, group_name=GROUPS[object_name]),
    )  # fmt: skip


@pytest.fixture
def typed(live, emulators):
    """A writable HubSpot date property, and a writable text and multi-select field on Lead
    and Contact, read into the cache as a first visit would."""
    new_property(emulators, "contacts", "renewal_date", "datetime", "date")
    for sobject in ("Lead", "Contact"):
        emulators.salesforce.app.run_action("add_field", object=sobject, field="Colour")
        emulators.salesforce.app.run_action(
            "add_field", object=sobject, field="Tags", type="multipicklist", values=["a", "b"]
        )
    schema_refresh(integration=live, object_name="contacts")
    return live


def assert_the_api_refuses(client, mapping: tuple[str, str, str], errors: dict) -> None:
    """The REST API refuses the contacts ``mapping`` (HubSpot property, Salesforce field, rule)
    with exactly ``errors`` and stores nothing."""
    hubspot_property, salesforce_field, rule = mapping
    response = client.post(
        "/api/v1/mappings/",
        {"object": "contacts", "hubspot_property": hubspot_property,
         "salesforce_field": salesforce_field, "rule": rule},
        content_type=JSON,
    )  # fmt: skip
    assert response.status_code == 400, response.content
    assert response.json() == errors
    assert not FieldMapping.objects.filter(hubspot_property=hubspot_property).exists()


def test_a_salesforce_system_field_typed_by_hand_is_refused(admin_client, typed):
    """The picker leaves SystemModstamp out; a crafted post, or the API, can't map it either
    (it moves with every internal write, the integration's own too)."""
    data = {"hubspot_property": "renewal_date", "salesforce_field": "SystemModstamp",
            "rule": "always_use_salesforce"}  # fmt: skip
    check = admin_client.post("/objects/contacts/mappings/check/", data, **HTMX).content.decode()
    assert "SystemModstamp is a Salesforce system field: it can&#x27;t be mapped" in check
    html = admin_client.post("/objects/contacts/mappings/add/", data, **HTMX).content.decode()
    assert "SystemModstamp is a Salesforce system field: it can&#x27;t be mapped" in html
    assert_the_api_refuses(
        admin_client,
        ("renewal_date", "Id", "always_use_salesforce"),
        {"salesforce_field": ["Id is a Salesforce system field: it can't be mapped"]},
    )


def test_a_hubspot_bookkeeping_property_typed_by_hand_is_refused(admin_client, typed):
    assert_the_api_refuses(
        admin_client,
        ("hs_merged_object_ids", "Tags__c", "two_way"),
        {"hubspot_property": [
            "hs_merged_object_ids is HubSpot's own bookkeeping: it can't be mapped"
        ]},
    )  # fmt: skip


# --- (d) a read-only HubSpot property only flows to Salesforce --------------------------------
def test_a_read_only_hubspot_property_is_offered_only_the_rules_that_write_salesforce(
    admin_client, typed
):
    """hs_email_domain is computed by HubSpot: 'Always use Salesforce' would never sync it
    either way, so the form doesn't offer it, and adding it so is refused with why."""
    url = "/objects/contacts/mappings/check/"
    data = {"hubspot_property": "hs_email_domain", "salesforce_field": "Colour__c",
            "rule": "always_use_salesforce"}  # fmt: skip
    html = admin_client.post(url, data, **HTMX).content.decode()
    assert 'data-rules="prefer_salesforce_unless_blank two_way dont_sync"' in html
    assert "This HubSpot property is read-only" in html
    assert "Compatible: this pair can be mapped." in html
    html = admin_client.post("/objects/contacts/mappings/add/", data, **HTMX).content.decode()
    assert "Read-only in HubSpot" in html
    assert not FieldMapping.objects.filter(hubspot_property="hs_email_domain").exists()
    response = admin_client.post("/api/v1/mappings/", {"object": "contacts", **data},
                                 content_type=JSON)  # fmt: skip
    assert response.status_code == 400 and "Read-only in HubSpot" in str(response.json())
    # Two-way may carry it to Salesforce: accepted; the row offers only what can sync.
    admin_client.post("/objects/contacts/mappings/add/", {**data, "rule": "two_way"}, **HTMX)
    mapping = FieldMapping.objects.get(integration=typed, hubspot_property="hs_email_domain")
    row = mapping_row(admin_client.get("/contacts/").content.decode(), "hs_email_domain")
    assert 'value="two_way"' in row and 'value="prefer_salesforce_unless_blank"' in row
    assert 'value="always_use_salesforce"' not in row
    html = admin_client.post(
        f"/mappings/{mapping.pk}/rule/", {"rule": "always_use_salesforce"}, **HTMX
    ).content.decode()
    assert "row--error" in html and "Read-only in HubSpot" in html
    response = admin_client.patch(
        f"/api/v1/mappings/{mapping.pk}/", {"rule": "always_use_salesforce"}, content_type=JSON
    )
    assert response.status_code == 400 and "Read-only in HubSpot" in str(response.json())
    mapping.refresh_from_db()
    assert mapping.rule == "two_way"


def test_a_pair_read_only_on_both_sides_is_refused(admin_client, typed):
    data = {"hubspot_property": "createdate", "salesforce_field": "CreatedDate",
            "rule": "always_use_salesforce"}  # fmt: skip
    html = admin_client.post("/objects/contacts/mappings/add/", data, **HTMX).content.decode()
    assert "Read-only in both HubSpot and Salesforce: this pair can never sync" in html
    response = admin_client.post(
        "/api/v1/mappings/", {"object": "contacts", **data, "rule": "dont_sync"},
        content_type=JSON,
    )  # fmt: skip
    assert response.status_code == 400 and "can never sync" in str(response.json())
    assert not FieldMapping.objects.filter(hubspot_property="createdate").exists()


def test_mappings_stored_before_say_they_never_sync(admin_client, typed):
    """Mappings added before these checks (or through an older API) stay listed, with a
    warning saying why nothing moves."""
    for prop, field, kind in (
        ("hs_email_domain", "Colour__c", "string"),
        ("createdate", "CreatedDate", "datetime"),
    ):
        FieldMapping.objects.create(
            integration=typed, object="contacts", hubspot_property=prop,
            salesforce_field=field, salesforce_fields={"Lead": field, "Contact": field},
            rule="always_use_salesforce", salesforce_type=kind,
        )  # fmt: skip
    response = admin_client.get("/contacts/")
    assert response.status_code == 200
    html = unescape(response.content.decode())
    row = mapping_row(html, "hs_email_domain")
    assert "badge--warning" in row
    assert "Never syncs: read-only in HubSpot, and this rule only writes to HubSpot." in row
    row = mapping_row(html, "createdate")
    assert "badge--warning" in row
    assert "Never syncs: read-only in both HubSpot and Salesforce." in row
    assert "badge--warning" not in mapping_row(html, "firstname")


def test_a_mapping_whose_hubspot_property_was_deleted_says_it_never_syncs(
    admin_client, typed, emulators
):
    """The cycle leaves out a mapping whose HubSpot property is gone (deleted in HubSpot, seen
    at the next schema read): its row says so, instead of "OK"."""
    FieldMapping.objects.create(
        integration=typed, object="contacts", hubspot_property="renewal_date",
        salesforce_field="Colour__c", rule="two_way", salesforce_type="string",
        salesforce_fields={"Lead": "Colour__c", "Contact": "Colour__c"},
    )  # fmt: skip
    assert "badge--warning" not in mapping_row(
        unescape(admin_client.get("/contacts/").content.decode()), "renewal_date"
    )
    hubspot_client(emulators).crm.properties.core_api.archive("contacts", "renewal_date")
    schema_refresh(integration=typed, object_name="contacts")
    row = mapping_row(unescape(admin_client.get("/contacts/").content.decode()), "renewal_date")
    assert "badge--warning" in row
    assert "Never syncs: HubSpot no longer has this property." in row


def test_a_mapping_whose_salesforce_field_became_read_only_says_edits_never_reach_it(
    admin_client, typed, emulators
):
    """Edit access to the field taken from the integration user in Salesforce, seen at the
    next Refresh: a rule that writes Salesforce warns that HubSpot's edits never get there."""
    new_property(emulators, "contacts", "colour_note", "string", "text")
    for prop, rule in (("renewal_date", "two_way"), ("colour_note", "always_use_salesforce")):
        FieldMapping.objects.create(
            integration=typed, object="contacts", hubspot_property=prop,
            salesforce_field="Colour__c" if rule == "two_way" else "Tags__c", rule=rule,
            salesforce_type="string", salesforce_fields={},
        )  # fmt: skip
    for sobject in ("Lead", "Contact"):
        for field in ("Colour__c", "Tags__c"):
            emulators.salesforce.app.run_action(
                "set_field_permission", object=sobject, field=field, access="read",
                token=typed.salesforce_connection.access_token,
            )  # fmt: skip
    schema_refresh(integration=typed, object_name="contacts")
    html = unescape(admin_client.get("/contacts/").content.decode())
    row = mapping_row(html, "renewal_date")
    assert "badge--warning" in row
    assert "HubSpot edits never reach Salesforce: this field is read-only" in row
    assert "badge--warning" not in mapping_row(html, "colour_note")  # Salesforce's only


@pytest.mark.parametrize("read_only_on", ["Lead", "Contact"])
def test_a_contact_mapping_warns_when_its_field_is_read_only_on_one_object(
    admin_client, typed, emulators, read_only_on
):
    """A contact mapping writes a lead's field or a contact's, by the record it links: a field
    read-only on only one of them still loses that object's HubSpot edits, so the row warns."""
    FieldMapping.objects.create(
        integration=typed, object="contacts", hubspot_property="renewal_date",
        salesforce_field="Colour__c", rule="two_way", salesforce_type="string",
        salesforce_fields={"Lead": "Colour__c", "Contact": "Colour__c"},
    )  # fmt: skip
    emulators.salesforce.app.run_action(
        "set_field_permission", object=read_only_on, field="Colour__c", access="read",
        token=typed.salesforce_connection.access_token,
    )  # fmt: skip
    schema_refresh(integration=typed, object_name="contacts")
    row = mapping_row(unescape(admin_client.get("/contacts/").content.decode()), "renewal_date")
    assert "badge--warning" in row
    assert "HubSpot edits never reach Salesforce: this field is read-only" in row


def test_a_lead_only_mapping_does_not_warn_about_the_contact_field(admin_client, typed, emulators):
    """A mapping that writes only leads never writes a contact's field of that name: that
    field read-only on Contact is no reason to warn."""
    FieldMapping.objects.create(
        integration=typed, object="contacts", hubspot_property="renewal_date",
        salesforce_field="Colour__c", rule="two_way", salesforce_type="string",
        salesforce_fields={"Lead": "Colour__c"},
    )  # fmt: skip
    emulators.salesforce.app.run_action(
        "set_field_permission", object="Contact", field="Colour__c", access="read",
        token=typed.salesforce_connection.access_token,
    )  # fmt: skip
    schema_refresh(integration=typed, object_name="contacts")
    row = mapping_row(unescape(admin_client.get("/contacts/").content.decode()), "renewal_date")
    assert "badge--warning" not in row


# --- (e) the engine's own keys ---------------------------------------------------------------
def test_the_engines_own_keys_are_not_offered_nor_taken(admin_client, typed, emulators):
    html = admin_client.get("/contacts/").content.decode()
    properties = picker(html, "hubspot-properties")
    for name in ("salesforceleadid", "salesforcecontactid", "salesforceaccountid"):
        assert name not in properties, name
    assert "hs_email_domain" in properties  # read-only, but may flow to Salesforce
    assert_the_api_refuses(
        admin_client,
        ("salesforcecontactid", "Colour__c", "two_way"),
        {"hubspot_property": [
            "salesforcecontactid is the integration's own key: it links the records, so it "
            "can't be mapped"
        ]},
    )  # fmt: skip
    # The unique key the engine makes for idempotent upserts, and the deal link.
    switch_on(typed, "companies")
    new_property(emulators, "companies", "salesforce_account_id_sync", "string", "text")
    emulators.salesforce.app.run_action("add_field", object="Account", field="Colour")
    html = admin_client.post("/objects/companies/mappings/refresh/", **HTMX).content.decode()
    properties = picker(html, "hubspot-properties")
    assert "salesforce_account_id_sync" not in properties
    assert "salesforceaccountid" not in properties
    html = admin_client.post(
        "/objects/companies/mappings/add/",
        {"hubspot_property": "salesforce_account_id_sync", "salesforce_field": "Colour__c",
         "rule": "two_way"},
        **HTMX,
    ).content.decode()  # fmt: skip
    assert "the integration&#x27;s own key" in html
    assert not FieldMapping.objects.filter(object="companies", is_default=False).exists()
    switch_on(typed, "deals")
    html = admin_client.get("/deals/").content.decode()
    assert "hs_salesforceopportunityid" not in picker(html, "hubspot-properties")
    assert "dealname" in picker(html, "hubspot-properties")
