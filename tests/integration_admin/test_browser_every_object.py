"""Issue #5's "Done when", the way a new user tries it: after connecting (as ``make run``
does), an admin switches every object on in Chromium — Companies, Deals and Activities with
their tab's switch, Tickets through the six-step wizard, a custom object through the
"+ Sync custom object" wizard — each tab then shows its settings and mappings, and one cycle
over every pair carries records of each kind into the other app (checked through the official
clients against the emulators)."""

from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from hubspot.crm.objects import SimplePublicObjectInputForCreate
from playwright.sync_api import Page, expect

from sync_engine.models import Integration, ObjectSync, RecordLink
from sync_engine.sync.cycle import sync_cycles_run
from tests.sync_engine.everything import hubspot_projects_schema
from tests.sync_engine.sync.helpers import hs_create

from .conftest import htmx_ready, log_in_as_admin, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE_TO_CONTACT = 202  # HubSpot's note → contact association type
TASK_TO_CONTACT = 204


def connect_as_make_run_does(emulators) -> Integration:
    """``scripts/run_demo.py``: ``manage.py connect`` against the emulators, then the contact
    setting the demo org needs."""
    call_command(
        "connect",
        "--salesforce-url", emulators.salesforce.url,
        "--salesforce-token", "demo-integration-user",
        "--salesforce-ca", str(emulators.ca_path),
        "--hubspot-url", emulators.hubspot.url,
        "--hubspot-token", "demo-integration-app",
        "--start",
    )  # fmt: skip
    call_command("sync_settings", "contacts", "salesforce_state_country=enabled")
    return Integration.objects.get()


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Integration settings").get_by_role(
        "link", name=name, exact=True
    ).click()
    expect(page.locator("h1")).to_have_text(name)
    htmx_ready(page)  # the tab's forms and pickers are htmx's only once it has loaded


def switch_on_and_save(page: Page, form: str, *labels: str) -> None:
    """Tick the tab's switch (and any type toggles), save, and wait for what changed."""
    settings = page.locator(form)
    for label in labels:
        box = settings.get_by_label(label, exact=True)
        expect(box).not_to_be_checked()
        box.check()
    settings.get_by_role("button", name="Save").click()
    saved = page.locator(f"{form} #settings-saved")
    expect(saved).to_contain_text("Saved. What changed:")
    for label in labels:
        expect(page.locator(form).get_by_label(label, exact=True)).to_be_checked()


def walk_the_tickets_wizard(page: Page) -> None:
    open_tab(page, "Tickets")
    wizard = page.locator("#ticket-wizard")
    expect(wizard).to_have_attribute("data-step", "1")
    expect(wizard.get_by_role("heading", name="Sync rules")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(wizard).to_have_attribute("data-step", "2")
    wizard.get_by_label("Associate tickets with the case's account").check()
    page.get_by_role("button", name="Next").click()
    expect(wizard).to_have_attribute("data-step", "3")
    # The required ticket properties come mapped.
    for prop in ("subject", "hs_pipeline_stage"):
        expect(wizard.locator(f"#mapping-editor tr[data-hubspot={prop}]")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(wizard).to_have_attribute("data-step", "4")
    htmx_ready(page)  # a pipeline picked before htmx is loaded asks for no stage table
    pipeline = wizard.get_by_label("Pipeline for Master")
    expect(pipeline).to_have_value("new")
    # An existing pipeline lists a stage dropdown per case status, in one aligned column.
    pipeline.select_option(index=1)
    stages = wizard.locator(".stage-grid select")
    expect(stages).to_have_count(4)  # New, Working, Escalated, Closed
    expect(stages.first).to_be_visible()
    boxes = [stages.nth(i).bounding_box() for i in range(stages.count())]
    assert len({round(b["x"]) for b in boxes}) == 1 and len({round(b["width"]) for b in boxes}) == 1
    screenshot(page, "every-object-tickets-stages")
    pipeline.select_option("new")
    expect(stages).to_have_count(0)
    page.get_by_role("button", name="Next").click()
    expect(wizard).to_have_attribute("data-step", "5")
    expect(wizard.locator("#ticket-preview")).to_contain_text("1 case will create a ticket.")
    page.get_by_role("button", name="Next").click()
    expect(wizard).to_have_attribute("data-step", "6")
    screenshot(page, "every-object-tickets-finish")
    page.get_by_role("button", name="Finish and turn ticket sync on").click()
    expect(page.locator("#ticket-settings")).to_be_visible()
    expect(page.locator("#ticket-wizard")).to_have_count(0)
    expect(page.locator("#ticket-settings").get_by_label("Sync tickets")).to_be_checked()


def walk_the_custom_object_wizard(page: Page, hs_type: str) -> None:
    open_tab(page, "Custom objects")
    expect(page.get_by_text("No custom objects sync yet")).to_be_visible()
    page.get_by_role("link", name="+ Sync custom object").click()
    expect(page.locator("#step-objects")).to_be_visible()
    page.get_by_label("Salesforce object").select_option("Project__c")
    page.get_by_label("HubSpot custom object").select_option(hs_type)
    page.get_by_role("button", name="Next").click()
    rules = page.locator("#step-rules")
    expect(rules).to_be_visible()
    expect(rules).to_contain_text("Resolve sync conflict")
    # The rules come filled in; make the answers explicit, as a careful admin would.
    for question in (
        "When a Salesforce record is created or updated, in HubSpot:",
        "When a HubSpot record is created or updated, in Salesforce:",
    ):
        rules.locator(".setting", has_text=question).get_by_label(
            "Create or update the record"
        ).check()
    rules.get_by_label("Salesforce wins conflicts").check()
    page.get_by_role("button", name="Next").click()
    fields = page.locator("#step-fields")
    expect(fields).to_be_visible()
    # Same-named pairs come suggested, so the required Name is mapped already.
    expect(fields.locator("select[name='map:Name']")).to_have_value("project_name")
    expect(fields.locator("select[name='map:Budget__c']")).to_have_value("budget")
    expect(fields).not_to_contain_text("HubSpot requires Name to create a record")
    fields.locator("select[name='map:Name']").select_option("")
    expect(page.locator("#step-fields select[name='map:Name']")).to_have_value("")
    page.get_by_role("button", name="Next").click()
    # Salesforce records create HubSpot records, and each needs a name: the step refuses.
    fields = page.locator("#step-fields")
    expect(fields.get_by_role("alert")).to_contain_text(
        "HubSpot requires Name to create a record. Map a Salesforce field to it"
    )
    fields.locator("select[name='map:Name']").select_option("project_name")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#step-associations")).to_be_visible()
    screenshot(page, "every-object-custom-associations")
    page.get_by_role("button", name="Finish and sync").click()
    expect(page.locator("h1")).to_have_text("Custom objects")
    row = page.locator("#custom-object-1")
    expect(row).to_contain_text("Project__c")
    expect(row).to_contain_text(hs_type)
    expect(row).to_contain_text("Salesforce wins conflicts")
    expect(row.locator(".badge")).to_have_text("On")
    # Name, Budget, Status and Description: the suggested pairs the admin kept.
    expect(row.locator("td.num")).to_have_text("4")


def hubspot_engagement(hs, kind: str, contact: str, association: int, **properties) -> str:
    properties.setdefault("hs_timestamp", str(int(time.time() * 1000)))
    body = SimplePublicObjectInputForCreate(
        properties=properties,
        associations=[
            {
                "to": {"id": contact},
                "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association}
                ],
            }
        ],
    )
    return hs.crm.objects.basic_api.create(kind, body).id


def associated(hs, kind: str, record: str, to: str) -> list[str]:
    page = hs.crm.associations.v4.basic_api.get_page(kind, record, to)
    return [str(r.to_object_id) for r in page.results]


def cycle(integration) -> dict:
    runs = sync_cycles_run(integration=integration, trigger="manual")
    for run in runs:
        assert run.status == "succeeded", (run.object, run.message)
        assert not run.counts.get("failed"), (run.object, run.counts)
    return {run.object: run for run in runs}


def link(integration, object_name: str, **filters) -> RecordLink:
    return RecordLink.objects.get(integration=integration, object=object_name, **filters)


def test_a_new_admin_switches_every_object_on_in_the_browser_and_one_cycle_syncs_them(
    page: Page, live_server, emulators, sf_person, hs_person
):
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    integration = connect_as_make_run_does(emulators)
    hs_type = hubspot_projects_schema(hs_person)  # created in HubSpot first, as the tab says

    # What already exists in Salesforce and HubSpot before anything is switched on.
    account = sf_person.Account.create({"Name": "Globex"})["id"]
    contact = sf_person.Contact.create(
        {"LastName": "Simpson", "FirstName": "Homer", "Email": "homer@globex.example",
         "AccountId": account}
    )["id"]  # fmt: skip
    opportunity = sf_person.Opportunity.create(
        {"Name": "Globex renewal", "StageName": "Prospecting", "CloseDate": "2027-01-31",
         "Amount": 5000, "AccountId": account}
    )["id"]  # fmt: skip
    case = sf_person.Case.create(
        {"Subject": "Reactor leak", "Status": "New", "AccountId": account}
    )["id"]
    project = sf_person.Project__c.create({"Name": "Apollo", "Budget__c": 12500.0})["id"]
    hs_contact = hs_create(
        hs_person, email="marge@example.com", firstname="Marge", lastname="Bouvier", company="Kwik"
    )

    log_in_as_admin(page, live_server)

    # Companies: the tab's switch.
    open_tab(page, "Companies")
    switch_on_and_save(page, "#company-settings", "Sync companies between HubSpot and Salesforce")
    expect(page.locator("#company-settings #settings-saved")).to_contain_text("Sync companies")
    screenshot(page, "every-object-companies")

    # Deals: the tab's switch.
    open_tab(page, "Deals")
    expect(page.locator("#no-pipelines")).to_be_visible()
    switch_on_and_save(page, "#deal-settings", "Sync deals between HubSpot and Salesforce")

    # Activities: the switch, a HubSpot type and a Salesforce type.
    open_tab(page, "Activities")
    switch_on_and_save(
        page,
        "#activity-settings",
        "Sync activities between HubSpot and Salesforce",
        "Notes created",
        "Salesforce tasks",
    )
    saved = page.locator("#activity-settings #settings-saved")
    expect(saved).to_contain_text("HubSpot notes to Salesforce")
    expect(saved).to_contain_text("Salesforce tasks to HubSpot")
    screenshot(page, "every-object-activities")

    # Tickets: the six steps, then Finish.
    walk_the_tickets_wizard(page)

    # A custom object: the wizard from the Custom objects tab.
    walk_the_custom_object_wizard(page, hs_type)
    screenshot(page, "every-object-custom-objects")

    enabled = set(
        ObjectSync.objects.filter(integration=integration, enabled=True).values_list(
            "object", flat=True
        )
    )
    assert enabled >= {"contacts", "companies", "deals", "activities", "tickets", "custom:1"}

    # One cycle over every pair: the people link, and the records made before sync was on
    # arrive in the other app.
    runs = cycle(integration)
    assert set(runs) >= {"contacts", "companies", "deals", "activities", "tickets", "custom:1"}

    # Activities made after the types were switched on, on people linked by that cycle.
    hs_lead = link(integration, "contacts", hubspot_id=hs_contact).salesforce_id
    homer = link(integration, "contacts", salesforce_id=contact).hubspot_id
    note = hubspot_engagement(
        hs_person, "notes", hs_contact, NOTE_TO_CONTACT, hs_note_body="Wants the blue brochure"
    )
    task = sf_person.Task.create(
        {"WhoId": contact, "Subject": "Call Homer back", "Status": "Not Started",
         "ActivityDate": "2027-01-15"}
    )["id"]  # fmt: skip
    runs = cycle(integration)
    assert runs["activities"].counts["created_in_salesforce"] == 1, runs["activities"].counts
    assert runs["activities"].counts["created_in_hubspot"] == 1, runs["activities"].counts

    # The account has its company.
    company = link(integration, "companies", salesforce_id=account).hubspot_id
    props = hs_person.crm.companies.basic_api.get_by_id(company, properties=["name"]).properties
    assert props["name"] == "Globex"
    # The opportunity has its deal, in the "Salesforce – …" pipeline.
    deal = link(integration, "deals", salesforce_id=opportunity).hubspot_id
    props = hs_person.crm.deals.basic_api.get_by_id(
        deal, properties=["dealname", "amount", "pipeline"]
    ).properties
    assert props["dealname"] == "Globex renewal" and float(props["amount"]) == 5000
    pipelines = {
        p.id: p.label for p in hs_person.crm.pipelines.pipelines_api.get_all("deals").results
    }
    assert pipelines[props["pipeline"]].startswith("Salesforce – "), pipelines
    assert associated(hs_person, "deals", deal, "companies") == [company]
    # The case has its ticket, with the account's company.
    ticket = link(integration, "tickets", salesforce_id=case).hubspot_id
    props = hs_person.crm.tickets.basic_api.get_by_id(ticket, properties=["subject"]).properties
    assert props["subject"] == "Reactor leak"
    assert associated(hs_person, "tickets", ticket, "companies") == [company]
    # The project has its HubSpot custom-object record.
    record = link(integration, "custom:1", salesforce_id=project).hubspot_id
    props = hs_person.crm.objects.basic_api.get_by_id(
        hs_type, record, properties=["project_name", "budget"]
    ).properties
    assert props["project_name"] == "Apollo" and float(props["budget"]) == 12500
    # The HubSpot note became a Salesforce task on the lead of its contact.
    tasks = sf_person.query_all(
        f"SELECT Id, Subject, WhoId FROM Task WHERE WhoId = '{hs_lead}'"  # noqa: S608
    )["records"]
    assert [t["Subject"] for t in tasks] == ["Note: Wants the blue brochure"]
    assert link(integration, "activities", salesforce_id=tasks[0]["Id"]).hubspot_id == (
        f"notes:{note}"
    )
    # The Salesforce task became a HubSpot task on the contact's HubSpot contact.
    engagement = link(integration, "activities", salesforce_id=task).hubspot_id
    kind, engagement_id = engagement.split(":")
    assert kind == "tasks"
    props = hs_person.crm.objects.basic_api.get_by_id(
        "tasks", engagement_id, properties=["hs_task_subject"]
    ).properties
    assert props["hs_task_subject"] == "Call Homer back"
    assert associated(hs_person, "tasks", engagement_id, "contacts") == [homer]

    # Each tab now shows its settings and its mappings.
    open_tab(page, "Companies")
    expect(
        page.get_by_label("Sync companies between HubSpot and Salesforce", exact=True)
    ).to_be_checked()
    expect(page.locator("#company-sync")).to_be_visible()
    companies_editor = page.locator("#mappings #mapping-editor")
    expect(companies_editor.locator("tr[data-hubspot=name]")).to_contain_text("Name")
    expect(page.locator("#mappings-locked")).to_have_count(0)

    open_tab(page, "Deals")
    expect(
        page.get_by_label("Sync deals between HubSpot and Salesforce", exact=True)
    ).to_be_checked()
    pipeline_list = page.locator("#pipeline-list")
    expect(pipeline_list).to_be_visible()
    expect(pipeline_list.locator("tbody tr").first).to_contain_text("Salesforce – ")
    deals_editor = page.locator("#mappings #mapping-editor")
    expect(deals_editor.locator("tr[data-hubspot=dealname]")).to_contain_text("Name")
    expect(deals_editor.locator("tr[data-hubspot=amount]")).to_contain_text("Amount")
    expect(page.locator("#mappings-locked")).to_have_count(0)
    screenshot(page, "every-object-deals")

    open_tab(page, "Tickets")
    expect(page.locator("#ticket-wizard")).to_have_count(0)
    expect(page.locator("#ticket-settings").get_by_label("Sync tickets")).to_be_checked()
    expect(
        page.get_by_label("Associate tickets with the case's account", exact=True)
    ).to_be_checked()
    expect(page.locator("#ticket-pipelines")).to_contain_text("Salesforce cases: Master")
    tickets_editor = page.locator("#mappings #mapping-editor")
    expect(tickets_editor.locator("tr[data-hubspot=subject]")).to_contain_text("Subject")
    expect(page.locator("#mappings-locked")).to_have_count(0)
    screenshot(page, "every-object-tickets")

    open_tab(page, "Activities")
    for label in (
        "Sync activities between HubSpot and Salesforce",
        "Notes created",
        "Salesforce tasks",
    ):
        expect(page.get_by_label(label, exact=True)).to_be_checked()
    expect(page.get_by_label("Calls made", exact=True)).not_to_be_checked()
    expect(page.locator("#note-mappings")).to_be_visible()

    open_tab(page, "Custom objects")
    row = page.locator("#custom-object-1")
    expect(row).to_contain_text("Project__c")
    expect(row.locator(".badge")).to_have_text("On")
    expect(row.get_by_role("link", name="Edit sync")).to_be_visible()
    screenshot(page, "every-object-custom-objects-after")
