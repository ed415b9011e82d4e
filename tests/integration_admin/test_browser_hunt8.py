"""What a new admin saw in Chromium on Sync health with realistic content: a failed cycle's
raw message with a long unbroken token (an API address), and the Dutch cards column next to
an open error panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sync_engine.models import SyncRun

from .conftest import htmx_ready, log_in_as_admin, make_error, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failed_cycle_s_long_raw_message_leaves_the_run_counts_on_screen(
    page: Page, live_server, connected
):
    """A Salesforce error quoting an API address (no spaces) made the Details column as wide as
    the address: the history table scrolled sideways on a desktop window and every other
    cycle's counts were cut off at the card's edge."""
    now = timezone.now()
    url = "https://acme.my.salesforce.com/services/data/v59.0/composite/sobjects/Lead/" + "0" * 90
    SyncRun.objects.create(
        integration=connected, object="contacts", status="failed", finished_at=now,
        message=f"Salesforce answered 500 for {url}",
    )  # fmt: skip
    SyncRun.objects.create(
        integration=connected, object="companies", status="succeeded",
        finished_at=now - timedelta(minutes=1),
        counts={"read_salesforce": 123456, "read_hubspot": 98765, "updated_in_hubspot": 55555,
                "updated_in_salesforce": 44444, "unchanged": 99999, "skipped_no_email": 44},
    )  # fmt: skip
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in_as_admin(page, live_server)
    page.goto(f"{live_server.url}/sync-health/")
    htmx_ready(page)
    runs = page.locator("#sync-runs")
    expect(runs.locator("tbody tr")).to_have_count(2)
    wrap = runs.locator(".table-wrap")
    screenshot(page, "runs-long-message")
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), wrap.evaluate(
        "e => [e.scrollWidth, e.clientWidth]"
    )
    counts = runs.locator("tbody tr", has_text="Companies").locator("td[data-label='Details']")
    expect(counts).to_contain_text("Skipped: no email: 44")
    box, card = counts.bounding_box(), runs.bounding_box()
    assert box["x"] + box["width"] <= card["x"] + card["width"], (box, card)


def test_in_dutch_export_errors_stays_inside_the_cards_column_beside_the_panel(
    page: Page, live_server, connected, back_to_english
):
    """With an error panel open the cards get a narrow column: "Synchronisatiefouten" and
    "Fouten exporteren" didn't fit on one row, and the button stuck out past the card's edge
    over the gap before the panel."""
    make_error(connected, 2)
    page.set_viewport_size({"width": 1400, "height": 900})
    log_in_as_admin(page, live_server, next_path="/sync-health/errors/property_value/")
    page.click("footer button[value=nl]")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("#error-panel h2")).to_be_visible()
    htmx_ready(page)
    export = page.locator("#sync-errors .card__header a")
    expect(export).to_have_text("Fouten exporteren")
    screenshot(page, "nl-errors-column-with-panel")
    card = page.locator("#sync-errors").bounding_box()
    box = export.bounding_box()
    assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"], (
        box,
        card,
    )
    header = page.locator("#sync-errors .card__header")
    assert header.evaluate("e => e.scrollWidth <= e.clientWidth"), header.evaluate(
        "e => [e.scrollWidth, e.clientWidth]"
    )


def test_keyboard_focus_stays_in_the_error_panel_after_a_resync(page: Page, live_server, connected):
    """ "Resync selected" comes back disabled (nothing ticked any more): focus fell to the top
    of the page. "Resync all" gave its focus to "Resync selected" (the form's first submit
    button), disabled too."""
    make_error(connected, 3)
    log_in_as_admin(page, live_server, next_path="/sync-health/errors/property_value/")
    htmx_ready(page)
    panel = page.locator("#error-panel")
    panel.locator("input[name=ids]").first.check()
    selected = panel.get_by_role("button", name="Resync selected")
    selected.focus()
    page.keyboard.press("Enter")
    expect(panel.locator(".badge", has_text="Resync queued")).to_have_count(1)
    htmx_ready(page)
    assert page.evaluate(
        "document.getElementById('error-panel').contains(document.activeElement)"
    ), page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    page.once("dialog", lambda dialog: dialog.accept())
    every = panel.get_by_role("button", name="Resync all")
    every.focus()
    page.keyboard.press("Enter")
    expect(panel.locator(".badge", has_text="Resync queued")).to_have_count(3)
    htmx_ready(page)
    expect(panel.get_by_role("button", name="Resync all")).to_be_focused()
