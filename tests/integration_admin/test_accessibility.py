"""Every dashboard page through axe-core (WCAG 2.1 A and AA, and axe's best practices), as an
admin sees it with data in its tables and cards: the open error panel, the wizards' steps, a
phone-wide window and Dutch included. axe comes with ``axe-playwright-python`` and is
injected through ``page.evaluate`` (the DevTools protocol, which the page's
Content-Security-Policy doesn't cover), so the page runs as it is served."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from emulators.testing import hubspot_client
from integration_admin.roles import ADMINS
from sync_engine.models import ImportJob, Integration, RecordLink, SyncRun
from sync_engine.services import audit_event_record
from tests.sync_engine.everything import hubspot_projects_schema

from .conftest import (
    deal_pipeline_synced,
    htmx_ready,
    htmx_settled,
    log_in,
    make_custom_object,
    make_error,
    person,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
# WCAG 2.1 level A and AA, at every impact (minor and moderate too: the dashboard passes them
# all); with axe's best practices for landmarks, headings and tables, and its duplicate-id
# rules (obsolete in WCAG 2.2, but htmx swaps and labels go by id).
RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "rules": {"duplicate-id": {"enabled": True}, "duplicate-id-active": {"enabled": True}},
    "resultTypes": ["violations"],
}


def _described(violation: dict) -> str:
    lines = [f"  {violation['id']} ({violation['impact']}): {violation['help']}"]
    for node in violation["nodes"][:8]:
        lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:160]}")
        for check in node.get("any", []) + node.get("all", []) + node.get("none", []):
            lines.append(f"      - {check['message']}")
    if len(violation["nodes"]) > 8:
        lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


class Audit:
    """axe's findings page by page; the test asserts once, at the end, listing them all."""

    def __init__(self, page: Page) -> None:
        self.page, self.found = page, {}

    def check(self, name: str) -> None:
        # What htmx loads after the page (pickers, tables) is checked too.
        self.page.wait_for_load_state("networkidle")
        htmx_settled(self.page)
        violations = AXE.run(self.page, options=RULES).response["violations"]
        if violations:
            self.found[name] = violations
            screenshot(self.page, f"a11y-{name}")

    def assert_clean(self) -> None:
        report = "\n".join(
            f"{name}:\n" + "\n".join(map(_described, violations))
            for name, violations in self.found.items()
        )
        assert not self.found, f"axe found accessibility violations:\n{report}"


@pytest.fixture
def audit(page: Page) -> Audit:
    return Audit(page)


def seed_sync_health(integration, admin) -> None:
    """Cards, an error list, runs, records to find, audit entries and imports."""
    make_error(integration, 30)
    make_error(
        integration, 3, error_type="picklist", code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    )
    now = timezone.now()
    SyncRun.objects.create(
        integration=integration, object="contacts", status="succeeded",
        finished_at=now - timedelta(minutes=5), counts={"created_in_salesforce": 3},
    )  # fmt: skip
    SyncRun.objects.create(
        integration=integration, object="companies", status="failed",
        finished_at=now - timedelta(minutes=2), message="Boom",
    )  # fmt: skip
    for hubspot_id, salesforce_id, name in (("501", "00Q5g00000AbCdE", "Ann"),
                                            ("502", "00Q5g00000AbCdF", "Bob")):  # fmt: skip
        RecordLink.objects.create(
            integration=integration, object="contacts", hubspot_id=hubspot_id,
            salesforce_id=salesforce_id, salesforce_type="Lead",
            snapshot={"email": "twin@example.com", "firstname": name},
        )  # fmt: skip
    make_error(integration, hubspot_id="502", record_label="Bob <twin@example.com>")
    audit_event_record(
        action="settings.updated", integration=integration, actor=admin,
        details={"object": "activities", "changes": {"hubspot_calls": {"from": False, "to": True}}},
    )  # fmt: skip
    audit_event_record(action="record.resync_requested", integration=integration,
                       details={"object": "contacts", "record": "hubspot:7"})  # fmt: skip
    for label, status in (("Salesforce leads", "succeeded"), ("Salesforce contacts", "failed")):
        ImportJob.objects.create(
            integration=integration, object="leads", object_label=label, status=status,
            started_by=admin, total=386, processed=386, skipped=12, salesforce_calls=2,
            skipped_reasons={"no_email": 12},
        )  # fmt: skip


def test_the_login_page(page: Page, live_server, audit):
    person("ada", ADMINS)
    page.goto(f"{live_server.url}/login/")
    audit.check("login")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".alert--error")).to_be_visible()
    audit.check("login-refused")
    audit.assert_clean()


def test_sync_health_and_the_pages_it_leads_to(page: Page, live_server, live, audit):
    seed_sync_health(live, person("ada", ADMINS))
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/")
    audit.check("sync-health")
    page.locator(".error-card").first.click()
    expect(page.locator("#error-panel h2")).to_have_text("Invalid property value")
    audit.check("sync-health-error-panel")
    # An allocation refused: its error under the field.
    htmx_settled(page)
    page.fill("#id_allocation", "20000")
    page.click(".allocation-form button[type=submit]")
    expect(page.locator("#allocation-error")).to_be_visible()
    audit.check("sync-health-allocation-refused")
    page.goto(f"{live_server.url}/records/?q=twin@example.com")
    expect(page.locator(".record-name")).to_have_count(2)
    audit.check("find-a-record")
    page.goto(f"{live_server.url}/records/contacts/hubspot:1000/")
    expect(page.locator("h1")).to_contain_text("Person 0")
    audit.check("record")
    page.goto(f"{live_server.url}/connection/")
    audit.check("connection")
    page.goto(f"{live_server.url}/connection/disconnect/")
    audit.check("connection-confirm-disconnect")
    page.goto(f"{live_server.url}/discover/")
    audit.check("discover")
    page.goto(f"{live_server.url}/audit/")
    audit.check("audit-log")
    page.goto(f"{live_server.url}/import/")
    expect(page.locator("#import-history tbody tr")).to_have_count(2)
    audit.check("import")
    failed = ImportJob.objects.get(status="failed")
    page.goto(f"{live_server.url}/import/?job={failed.pk}")
    expect(page.locator("#import-progress")).to_be_visible()
    audit.check("import-progress")
    page.goto(f"{live_server.url}/records/contacts/hubspot:404404/")
    audit.check("not-found")
    # Suspended: the status bar and its pill in their red tints.
    Integration.objects.filter(pk=live.pk).update(
        state=Integration.State.SUSPENDED, state_reason="Salesforce refused the token."
    )
    page.goto(f"{live_server.url}/sync-health/")
    expect(page.locator(".statusbar--suspended")).to_be_visible()
    audit.check("sync-health-suspended")
    audit.assert_clean()


def test_the_object_tabs(page: Page, live_server, live, audit):
    person("ada", ADMINS)
    deal_pipeline_synced(live)
    log_in(page, live_server, "ada")
    for tab in ("contacts", "companies", "deals", "activities"):
        page.goto(f"{live_server.url}/{tab}/")
        audit.check(tab)
    # A saved settings card: what changed, next to Save.
    page.goto(f"{live_server.url}/contacts/")
    htmx_ready(page)
    page.check("#id_hubspot_creates_0")
    page.click("#contact-settings button[type=submit]")
    expect(page.locator("#settings-saved")).to_contain_text("Saved. What changed:")
    audit.check("contacts-saved")
    audit.assert_clean()


def test_the_tickets_wizard_and_tab(page: Page, live_server, live, audit):
    person("ada", ADMINS)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/tickets/")
    wizard = page.locator("#ticket-wizard")
    for step in range(1, 7):
        expect(wizard).to_have_attribute("data-step", str(step))
        htmx_ready(page)
        if step == 4:
            # A stage dropdown per case status, for an existing pipeline; then back to "new".
            pipeline = wizard.get_by_label("Pipeline for Master")
            pipeline.select_option(index=1)
            expect(wizard.locator(".stage-grid select")).to_have_count(4)
            audit.check("tickets-step-4-stages")
            pipeline.select_option("new")
            expect(wizard.locator(".stage-grid select")).to_have_count(0)
        audit.check(f"tickets-step-{step}")
        if step < 6:
            page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Finish and turn ticket sync on").click()
    expect(page.locator("#ticket-settings")).to_be_visible()
    audit.check("tickets-tab")
    audit.assert_clean()


def test_the_custom_objects_tab_and_wizard(page: Page, live_server, live, emulators, audit):
    person("ada", ADMINS)
    hs_type = hubspot_projects_schema(hubspot_client(emulators, strict=False))
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/custom-objects/")
    audit.check("custom-objects-empty")
    page.get_by_role("link", name="+ Sync custom object").click()
    expect(page.locator("#step-objects")).to_be_visible()
    audit.check("custom-objects-step-objects")
    page.get_by_label("Salesforce object").select_option("Project__c")
    page.get_by_label("HubSpot custom object").select_option(hs_type)
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#step-rules")).to_be_visible()
    audit.check("custom-objects-step-rules")
    page.get_by_role("button", name="Next").click()
    fields = page.locator("#step-fields")
    expect(fields).to_be_visible()
    audit.check("custom-objects-step-fields")
    # A refused step: its alert and the field it names.
    fields.locator("select[name='map:Name']").select_option("")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#step-fields").get_by_role("alert")).to_be_visible()
    audit.check("custom-objects-step-fields-refused")
    page.locator("#step-fields select[name='map:Name']").select_option("project_name")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#step-associations")).to_be_visible()
    audit.check("custom-objects-step-associations")
    page.get_by_role("button", name="Finish and sync").click()
    expect(page.locator("#custom-object-1")).to_be_visible()
    audit.check("custom-objects")
    page.locator("#custom-object-1").get_by_role("link", name="Remove sync…").click()
    expect(page.get_by_role("button", name="Remove sync")).to_be_visible()
    audit.check("custom-objects-confirm-remove")
    audit.assert_clean()


def test_a_phone_wide_window(page: Page, live_server, live, audit):
    person("ada", ADMINS)
    make_error(live, 3)
    make_custom_object(live)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/errors/property_value/")
    expect(page.locator("#error-panel tbody tr")).to_have_count(3)
    audit.check("phone-sync-health-error-panel")
    page.goto(f"{live_server.url}/contacts/")
    audit.check("phone-contacts")
    page.goto(f"{live_server.url}/custom-objects/")
    expect(page.locator("#custom-object-1")).to_be_visible()
    audit.check("phone-custom-objects")
    audit.assert_clean()


def test_in_dutch(page: Page, live_server, live, audit):
    seed_sync_health(live, person("ada", ADMINS))
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/errors/property_value/")
    page.click("footer button[value=nl]")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    audit.check("nl-sync-health-error-panel")
    page.goto(f"{live_server.url}/contacts/")
    audit.check("nl-contacts")
    audit.assert_clean()
