"""Remote text is escaped wherever the Companies, Deals, Tickets, Custom objects and Import pages
show it: HubSpot pipeline, stage, property, list, company and object labels, Salesforce picklist
values, record type and field labels, and the CRMs' own error messages. Each is made in the
emulators with a script tag in it; every page that shows it must show the tag as text (so the
page is known to show that text at all), never as markup."""

from __future__ import annotations

import re

import pytest
from hubspot.crm.properties import PropertyCreate
from hubspot.crm.schemas import ObjectSchemaEgg, ObjectTypeDefinitionLabels

from emulators.testing import active_list, hubspot_client, salesforce_client
from sync_engine.services import object_settings_update, object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
TAG = "<script>alert(1)</script>"


def remote(what: str) -> str:
    """Remote text with a script tag in it, told apart by ``what``."""
    return f"{TAG}{what}"


def escaped(what: str) -> str:
    """``remote(what)`` as an escaping template writes it."""
    return f"&lt;script&gt;alert(1)&lt;/script&gt;{what}"


def assert_shown_escaped(html: str, *whats: str) -> None:
    """No script tag of ours in ``html`` (nor any other script tag than the page's own,
    which load a file), and each of ``whats`` shown, as text."""
    assert "<script>alert" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline script tag"
    for what in whats:
        assert escaped(what) in html, what


@pytest.fixture
def sf(emulators):
    return salesforce_client(emulators, token="support-agent-token")


@pytest.fixture
def hs(emulators):
    return hubspot_client(emulators, token="marketer-token", strict=False)


# --- Tickets: case statuses and record types, HubSpot ticket pipelines and stages ----------
def test_the_tickets_wizard_and_tab_escape_pipelines_stages_and_statuses(
    admin_client, viewer_client, live, emulators, hs, sf
):
    salesforce = emulators.salesforce.app
    salesforce.run_action("set_case_status", value=remote("status"))
    salesforce.run_action("add_record_type", object="Case", label=remote("process"))
    sf.Case.create({"Subject": "Leak", "Status": remote("status")})
    pipeline = hs.crm.pipelines.pipelines_api.create(
        "tickets",
        {
            "label": remote("pipeline"),
            "displayOrder": 5,
            "stages": [
                {
                    "label": remote("stage"),
                    "displayOrder": 0,
                    "metadata": {"ticketState": "OPEN"},
                }
            ],
        },
    )
    stage = pipeline.stages[0].id

    for client in (admin_client, viewer_client):
        html = client.get("/tickets/?step=4").content.decode()
        assert_shown_escaped(html, "pipeline", "process")
        stages = client.get(
            "/tickets/stages/", {"process": "master", "pipeline_master": pipeline.id}, **HTMX
        ).content.decode()
        assert_shown_escaped(stages, "stage", "status")

    # The admin picks that pipeline and its one stage for every status, and finishes.
    picks = {name: stage for name in re.findall(r'name="(stage_master_\d+)"', stages)}
    for number, data in (
        (1, {"salesforce_delete": "nothing"}),
        (2, {}),
        (3, {}),
        (4, {"pipeline_master": pipeline.id, **picks}),
    ):
        response = admin_client.post("/tickets/", {"step": number, "action": "next", **data})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert_shown_escaped(admin_client.get("/tickets/?step=5").content.decode(), "pipeline")
    response = admin_client.post("/tickets/", {"step": 6, "action": "finish"})
    assert response.status_code == 302 and response["Location"] == "/tickets/"

    # The settings tab, and the audit log that names the pipeline and stage chosen.
    for client in (admin_client, viewer_client):
        html = client.get("/tickets/").content.decode()
        assert_shown_escaped(html, "pipeline", "status", "process")
        assert_shown_escaped(client.get("/audit/").content.decode(), "pipeline", "stage")


# --- Companies and Deals: property and field labels, lists, company names, pipelines -------
def _property(hs, object_type: str, group: str) -> None:
    hs.crm.properties.core_api.create(
        object_type,
        PropertyCreate(name="xss_note", label=remote("property"), type="string",
                       field_type="text", group_name=group),
    )  # fmt: skip


def test_the_mapping_editors_escape_property_and_field_labels(
    admin_client, viewer_client, live, emulators, hs
):
    salesforce = emulators.salesforce.app
    for tab, hs_object, group, sobject in (
        ("companies", "companies", "companyinformation", "Account"),
        ("deals", "deals", "dealinformation", "Opportunity"),
    ):
        _property(hs, hs_object, group)
        salesforce.run_action(
            "add_field", object=sobject, field="Xss_Note", type="string", label=remote("field")
        )
        object_sync_get_or_create(integration=live, object_name=tab)
        object_settings_update(integration=live, object_name=tab, changes={}, enabled=True)
        response = admin_client.post(f"/objects/{tab}/mappings/refresh/", **HTMX)
        assert response.status_code == 200
        assert_shown_escaped(response.content.decode(), "property", "field")  # the pickers
        response = admin_client.post(
            f"/objects/{tab}/mappings/add/",
            {"hubspot_property": "xss_note", "salesforce_field": "Xss_Note__c",
             "rule": "two_way"},
            **HTMX,
        )  # fmt: skip
        assert response.status_code == 200
        html = response.content.decode()
        assert 'data-hubspot="xss_note"' in html, html[:2000]
        assert_shown_escaped(html, "property", "field")  # the new row, and "Mapped … to …"
        for client in (admin_client, viewer_client):
            assert_shown_escaped(client.get(f"/{tab}/").content.decode(), "property", "field")
    assert_shown_escaped(admin_client.get("/audit/").content.decode(), "property", "field")


def test_the_companies_tab_escapes_list_and_company_names(
    admin_client, viewer_client, live, emulators
):
    object_sync_get_or_create(integration=live, object_name="companies")
    object_settings_update(integration=live, object_name="companies", changes={}, enabled=True)
    active_list(emulators, remote("list"), object_type="companies")
    for client in (admin_client, viewer_client):
        html = client.get("/objects/companies/lists/", **HTMX).content.decode()
        assert_shown_escaped(html, "list")

    company = emulators.hubspot.app.run_action(
        "create", object_type="companies", properties={"name": remote("company")}
    )
    response = admin_client.post("/companies/sync/", {"company_id": company["id"]}, **HTMX)
    assert response.status_code == 200
    assert_shown_escaped(response.content.decode(), "company")  # "Company … syncs now"
    response = admin_client.post("/companies/sync/", {"company_id": company["id"]})
    assert response.status_code == 302
    assert_shown_escaped(admin_client.get(response["Location"]).content.decode(), "company")
    assert_shown_escaped(admin_client.get("/audit/").content.decode())


def test_the_deals_tab_escapes_record_types_and_hubspots_refusal(
    admin_client, viewer_client, live, emulators, sf
):
    """A real deal cycle: one Salesforce record type named with a tag gets its pipeline, the
    other's pipeline HubSpot refuses with a message with a tag in it."""
    from tests.sync_engine.sync.helpers import deal_sync_on

    salesforce = emulators.salesforce.app
    named = salesforce.run_action("add_record_type", object="Opportunity", label=remote("type"))
    refused = salesforce.run_action("add_record_type", object="Opportunity", label="Renewal")
    emulators.hubspot.app.faults.add(
        path="^/crm/v3/pipelines/deals$", method="POST", after=1, status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": remote("refusal")},
    )  # fmt: skip
    for record_type in (named, refused):
        sf.Opportunity.create({"Name": "Big Deal", "StageName": "Prospecting",
                               "CloseDate": "2026-12-31", "RecordTypeId": record_type})  # fmt: skip
    deal_sync_on(live, emulators)
    run = sync_cycle_run(integration=live, object_name="deals")
    assert run.counts.get("pipelines_refused") == 1, (run.status, run.message, run.counts)
    for client in (admin_client, viewer_client):
        assert_shown_escaped(client.get("/deals/").content.decode(), "type", "refusal")


# --- Custom objects: object, property and field labels, through the wizard and after -------
def test_the_custom_objects_wizard_and_pages_escape_object_and_field_labels(
    admin_client, viewer_client, live, emulators, hs
):
    hs_type = hs.crm.schemas.core_api.create(
        ObjectSchemaEgg(
            name="projects",
            labels=ObjectTypeDefinitionLabels(singular=remote("object"), plural=remote("object")),
            primary_display_property="project_name",
            required_properties=["project_name"],
            associated_objects=["CONTACT"],
            properties=[
                {"name": "project_name", "label": "Project name", "type": "string",
                 "fieldType": "text"},
                {"name": "xss_note", "label": remote("property"), "type": "string",
                 "fieldType": "text"},
            ],
        )
    ).object_type_id  # fmt: skip
    emulators.salesforce.app.run_action(
        "add_field", object="Project__c", field="Xss_Note", type="string", label=remote("field")
    )

    assert admin_client.get("/custom-objects/new/").status_code == 302
    html = admin_client.get("/custom-objects/wizard/objects/").content.decode()
    assert_shown_escaped(html, "object")
    response = admin_client.post(
        "/custom-objects/wizard/objects/",
        {"salesforce_object": "Project__c", "hubspot_object": hs_type},
    )
    assert response["Location"] == "/custom-objects/wizard/rules/"
    assert_shown_escaped(admin_client.get("/custom-objects/wizard/rules/").content.decode())
    response = admin_client.post(
        "/custom-objects/wizard/rules/",
        {"salesforce_to_hubspot": "create_or_update", "salesforce_delete": "nothing",
         "hubspot_to_salesforce": "create_or_update", "hubspot_delete": "nothing",
         "conflict_winner": "hubspot"},
    )  # fmt: skip
    assert response["Location"] == "/custom-objects/wizard/fields/"
    html = admin_client.get("/custom-objects/wizard/fields/").content.decode()
    assert_shown_escaped(html, "property", "field")
    # Refused (a property HubSpot requires left unmapped): drawn again with the labels.
    html = admin_client.post(
        "/custom-objects/wizard/fields/", {"map:Xss_Note__c": "xss_note"}
    ).content.decode()
    assert_shown_escaped(html, "property", "field")
    response = admin_client.post(
        "/custom-objects/wizard/fields/",
        {"map:Name": "project_name", "map:Xss_Note__c": "xss_note"},
    )
    assert response["Location"] == "/custom-objects/wizard/associations/"
    assert_shown_escaped(admin_client.get("/custom-objects/wizard/associations/").content.decode())
    response = admin_client.post(
        "/custom-objects/wizard/associations/", {"association:contacts": "Contact__c"}
    )
    assert response["Location"] == "/custom-objects/"
    assert_shown_escaped(admin_client.get("/custom-objects/").content.decode(), "object")

    for client in (admin_client, viewer_client):
        assert_shown_escaped(client.get("/custom-objects/").content.decode(), "object")
        assert_shown_escaped(client.get("/custom-objects/1/").content.decode(), "property", "field")
        assert_shown_escaped(client.get("/import/").content.decode(), "object")
        assert_shown_escaped(client.get("/audit/").content.decode(), "property", "field")
    html = admin_client.get("/custom-objects/1/remove/").content.decode()
    assert_shown_escaped(html, "object")  # "Remove … ?"
    response = admin_client.post("/custom-objects/1/remove/")
    assert response.status_code == 302
    assert_shown_escaped(admin_client.get("/custom-objects/").content.decode(), "object")


# --- The CRMs' error messages ----------------------------------------------------------------
def _hubspot_refuses(emulators, path: str, what: str, method: str = "GET"):
    return emulators.hubspot.app.faults.add(
        path=path, method=method, status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": remote(what)},
    )  # fmt: skip


def _salesforce_refuses(emulators, path: str, what: str):
    return emulators.salesforce.app.faults.add(
        path=path, status=400, body=[{"errorCode": "INVALID_TYPE", "message": remote(what)}]
    )


def test_hubspot_errors_are_escaped_on_the_tickets_wizard(admin_client, live, emulators):
    _hubspot_refuses(emulators, r"^/crm/v3/pipelines/tickets", "pipelines")
    html = admin_client.get("/tickets/?step=4").content.decode()
    assert_shown_escaped(html, "pipelines")
    response = admin_client.get(
        "/tickets/stages/", {"process": "master", "pipeline_master": "0"}, **HTMX
    )
    assert_shown_escaped(response.content.decode(), "pipelines")  # in the flash


def test_crm_errors_are_escaped_on_the_custom_objects_wizard(admin_client, live, emulators):
    _hubspot_refuses(emulators, r"/schemas", "schemas")
    assert admin_client.get("/custom-objects/new/").status_code == 302
    html = admin_client.get("/custom-objects/wizard/objects/").content.decode()
    assert_shown_escaped(html, "schemas")


def test_crm_errors_are_escaped_on_the_companies_tab(admin_client, live, emulators):
    object_sync_get_or_create(integration=live, object_name="companies")
    object_settings_update(integration=live, object_name="companies", changes={}, enabled=True)
    _salesforce_refuses(emulators, r"/sobjects/Account/describe", "describe")
    response = admin_client.post("/objects/companies/mappings/refresh/", **HTMX)
    assert_shown_escaped(response.content.decode(), "describe")
    response = admin_client.post("/objects/companies/mappings/refresh/")
    assert_shown_escaped(admin_client.get(response["Location"]).content.decode(), "describe")

    _hubspot_refuses(emulators, r"^/crm/v3/lists", "lists", method="POST")
    html = admin_client.get("/objects/companies/lists/", {"q": "a"}, **HTMX).content.decode()
    assert_shown_escaped(html, "lists")

    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/companies", method="POST", status=403,
        body={"status": "error", "category": "MISSING_SCOPES", "message": remote("companies")},
    )  # fmt: skip
    response = admin_client.post("/companies/sync/", {"company_id": "123"}, **HTMX)
    assert_shown_escaped(response.content.decode(), "companies")


def test_salesforce_errors_are_escaped_on_the_import_page(
    admin_client, viewer_client, live, emulators, django_capture_on_commit_callbacks
):
    from sync_engine.imports import import_run
    from sync_engine.models import ImportJob

    _salesforce_refuses(emulators, r"/query", "query")
    html = admin_client.get("/import/", {"campaigns": "1"}, **HTMX).content.decode()
    assert_shown_escaped(html, "query")  # "Couldn't read Salesforce's campaigns: …"
    object_sync_get_or_create(integration=live, object_name="contacts")
    with django_capture_on_commit_callbacks():
        response = admin_client.post("/import/start/", {"object": "contacts"}, **HTMX)
    assert response.status_code == 200
    job = import_run(job=ImportJob.objects.get())
    assert job.status == ImportJob.Status.FAILED, (job.status, job.message)
    for client in (admin_client, viewer_client):
        assert_shown_escaped(client.get(f"/import/?job={job.pk}").content.decode(), "query")
        html = client.get(f"/import/{job.pk}/", **HTMX).content.decode()
        assert_shown_escaped(html, "query")
