"""What a browser walk at a phone's width (390px) found: the error panel and the audit log
stayed wide tables to scroll sideways, and Find a record's refusal sat under the Find button
instead of under the box it is about."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from integration_admin.roles import ADMINS
from sync_engine.budget import ALLOCATION_USED
from sync_engine.services import audit_event_record

from .conftest import htmx_ready, log_in_as_admin, make_error, person, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_NAME = (
    "Bartholomew Featherstonehaugh-Cholmondeley "
    "<bartholomew.featherstonehaugh-cholmondeley@very-long-subdomain.example-enterprises.com>"
)


def _labels_shown(page: Page, cells) -> list[str]:
    """The labels drawn above the cells (their ::before), as people see them."""
    return cells.evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content.replace(/^\"|\"$/g, ''))"
    )


def _off_screen(page: Page, selector: str) -> list[str]:
    """The cells reaching past the viewport's right edge, or scrolled inside their table."""
    return page.evaluate(
        """selector => [...document.querySelectorAll(selector)].filter(c => {
            const box = c.getBoundingClientRect();
            const wrap = c.closest('.table-wrap');
            return box.right > window.innerWidth || (wrap && wrap.scrollWidth > wrap.clientWidth);
        }).map(c => c.textContent.trim().slice(0, 40))""",
        selector,
    )


def test_the_error_panel_stacks_each_error_into_a_card_on_a_phone(
    page: Page, live_server, connected
):
    make_error(connected, 2, record_label=LONG_NAME)
    page.set_viewport_size(PHONE)
    log_in_as_admin(page, live_server, next_path="/sync-health/errors/property_value/")
    htmx_ready(page)
    panel = page.locator("#error-panel")
    row = panel.locator("tbody tr").first
    expect(row).to_contain_text("INVALID_EMAIL_ADDRESS")
    screenshot(page, "phone-error-panel")
    assert _labels_shown(page, row.locator("td[data-label]")) == [
        "Record", "Message", "First seen", "Last seen", "Attempts",
    ]  # fmt: skip
    assert _off_screen(page, "#error-panel td") == []
    row.scroll_into_view_if_needed()
    for cell in ("Message", "First seen", "Last seen", "Attempts"):
        expect(row.locator(f"td[data-label='{cell}']")).to_be_in_viewport(ratio=1)
    # The column headers make way for the labels; "Select all" stays, in words.
    expect(panel.locator("thead th", has_text="Message")).not_to_be_in_viewport()
    expect(panel.locator(".select-all")).to_have_text("Select all on this page")
    panel.locator(".select-all__text").click()  # the words tick the box too
    expect(panel.locator("input[name=ids]:checked")).to_have_count(2)


def test_the_error_panel_s_labels_are_dutch_in_dutch(
    page: Page, live_server, connected, back_to_english
):
    make_error(connected, 1, record_label=LONG_NAME)
    page.set_viewport_size(PHONE)
    log_in_as_admin(page, live_server, next_path="/sync-health/errors/property_value/")
    page.click("footer button[value=nl]")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    htmx_ready(page)
    row = page.locator("#error-panel tbody tr").first
    expect(row).to_be_visible()
    assert _labels_shown(page, row.locator("td[data-label]")) == [
        "Record", "Melding", "Eerst gezien", "Laatst gezien", "Pogingen",
    ]  # fmt: skip
    assert _off_screen(page, "#error-panel td") == []


def test_the_audit_log_stacks_each_change_into_a_card_on_a_phone(
    page: Page, live_server, connected
):
    grace = person("grace", ADMINS)
    audit_event_record(
        action="integration.allocation_changed", integration=connected, actor=grace,
        details={"from": 5000, "to": 12000},
    )  # fmt: skip
    audit_event_record(
        action="integration.state_changed", integration=connected,
        details={"from": "connected", "to": "paused", "reason": ALLOCATION_USED},
    )  # fmt: skip
    page.set_viewport_size(PHONE)
    log_in_as_admin(page, live_server, next_path="/audit/")
    table = page.locator("table.table--audit")
    row = table.locator("tr[data-action='integration.allocation_changed']")
    expect(row).to_contain_text("5,000")
    screenshot(page, "phone-audit-log")
    assert _labels_shown(page, row.locator("td[data-label]")) == [
        "When", "Who", "What", "Before → after",
    ]  # fmt: skip
    assert _off_screen(page, "table.table--audit td") == []
    expect(row.locator(".change__after")).to_be_in_viewport()
    expect(
        table.locator("tr[data-action='integration.state_changed'] .change__after")
    ).to_be_in_viewport()


@pytest.mark.parametrize("width", [390, 1400])
def test_find_a_record_s_refusal_sits_right_under_the_box(
    page: Page, live_server, connected, width
):
    page.set_viewport_size({"width": width, "height": 844})
    log_in_as_admin(page, live_server, next_path="/records/?q=Bartholomew")
    box = page.locator("#record-find-q")
    error = page.locator("#record-find-error")
    expect(error).to_contain_text("Enter an email address")
    expect(box).to_have_attribute("aria-describedby", "record-find-error")
    screenshot(page, f"find-refusal-{width}")
    field, message = box.bounding_box(), error.bounding_box()
    button = page.get_by_role("button", name="Find", exact=True).bounding_box()
    assert 0 <= message["y"] - (field["y"] + field["height"]) <= 8, (field, message)
    assert abs(message["x"] - field["x"]) < 1, (field, message)
    # Nothing between the box and its message: the button is beside the box or below both.
    assert button["y"] >= message["y"] + message["height"] or (
        button["x"] >= field["x"] + field["width"] and button["y"] < message["y"]
    ), (field, message, button)
