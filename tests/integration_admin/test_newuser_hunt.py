"""What a new admin found walking the demo end to end: on a phone the Tickets tab's pipelines
and the import history stayed wide tables to scroll sideways (the statuses and every count
out of sight), numbers in stacked cards sat at the right edge away from their labels, and
right after the ticket wizard the Tickets tab listed no case status for the pipeline the
first sync creates, though step 4 had said it gets one stage per status."""

from __future__ import annotations

import re
from html import unescape

import pytest
from playwright.sync_api import Page, expect

from sync_engine.models import ImportJob
from sync_engine.services import schema_refresh

from .conftest import log_in_as_admin, screenshot
from .test_browser_hunt9 import PHONE, _labels_shown, _off_screen
from .test_tickets_hunt import SUPPORT, support_pipeline
from .test_tickets_wizard import _set_up

NEW_PIPELINE = {
    "master": {"label": "Master", "pipeline": "", "pipeline_label": "", "stages": {},
               "managed": True},
}  # fmt: skip


def _finished_import(integration) -> ImportJob:
    return ImportJob.objects.create(
        integration=integration, object="tasks", status=ImportJob.Status.SUCCEEDED,
        total=1234, processed=1234, created=1000, updated=200, skipped=30, failed=4,
        salesforce_calls=3,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_tickets_tab_lists_the_statuses_a_pipeline_made_at_the_first_sync_gets(
    admin_client, live
):
    schema_refresh(integration=live, object_name="tickets")  # as the wizard's step 3 reads it
    _set_up(live, pipelines=NEW_PIPELINE)
    html = unescape(admin_client.get("/tickets/").content.decode())
    row = re.search(r'<tr data-process="master">(.*?)</tr>', html, re.S).group(1)
    assert "A new pipeline, created at the first sync" in row
    assert "New, Working, Escalated, Closed" in row


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_tickets_tab_s_pipelines_stack_into_cards_on_a_phone(page: Page, live_server, live):
    schema_refresh(integration=live, object_name="tickets")  # the statuses in Salesforce's order
    _set_up(live, pipelines=support_pipeline(dict(SUPPORT)))
    page.set_viewport_size(PHONE)
    log_in_as_admin(page, live_server, next_path="/tickets/")
    row = page.locator("#ticket-pipelines tr[data-process='master']")
    expect(row).to_contain_text("Support Pipeline")
    screenshot(page, "phone-ticket-pipelines")
    assert _labels_shown(page, row.locator("td[data-label]")) == [
        "Case process", "HubSpot ticket pipeline", "Case statuses with a stage",
    ]  # fmt: skip
    assert _off_screen(page, "#ticket-pipelines td") == []
    expect(row.locator("td").last).to_contain_text("New, Working, Escalated, Closed")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_import_history_stacks_into_cards_on_a_phone(page: Page, live_server, live):
    job = _finished_import(live)
    page.set_viewport_size(PHONE)
    log_in_as_admin(page, live_server, next_path="/import/")
    row = page.locator(f"#import-history tr[data-import='{job.pk}']")
    expect(row).to_contain_text("1,234 / 1,234")
    screenshot(page, "phone-import-history")
    assert _labels_shown(page, row.locator("td[data-label]")) == [
        "Started", "Object", "Started by", "Status", "Records read", "Created in HubSpot",
        "Updated in HubSpot", "Skipped records", "Failed records", "Salesforce calls",
    ]  # fmt: skip
    assert _off_screen(page, "#import-history td") == []
    failed = row.locator("td[data-label='Failed records']")
    expect(failed).to_have_text("4")
    failed.scroll_into_view_if_needed()
    expect(failed).to_be_in_viewport(ratio=1)
    # A count sits under its label, on the left, not at the card's far edge.
    assert failed.evaluate("c => getComputedStyle(c).textAlign") in ("left", "start")
