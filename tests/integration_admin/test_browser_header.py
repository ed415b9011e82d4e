"""The page header in Chromium at desktop widths: the brand, the connection (status pill and
both systems' hosts) and the person's links, in English and in Dutch (longer labels)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import log_in_as_admin, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the header shows, item by item: none of these may break inside itself.
ITEMS = ".topbar__brand, .topbar__status > *, .topbar__user > *"


def header_rows(page: Page, selector: str) -> list[list[str]]:
    """The items ``selector`` matches, grouped into the rows they are drawn on, top to bottom:
    the header centres each row's items on one line, so a row's items share their middle."""
    items = page.eval_on_selector_all(
        selector,
        """items => items.map(e => {
          const b = e.getBoundingClientRect();
          return [b.top + b.height / 2, e.innerText.replace(/\\s+/g, ' ').trim()];
        })""",
    )
    rows: list[tuple[float, list[str]]] = []
    for middle, text in sorted(items):
        if rows and middle - rows[-1][0] < 6:
            rows[-1][1].append(text)
        else:
            rows.append((middle, [text]))
    return [texts for _, texts in rows]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_header_keeps_one_row_at_1280_and_wraps_whole_groups_below(
    page: Page, live_server, connected, language
):
    """At 1280 px the brand, the connection (pill, Salesforce's and HubSpot's hosts) and the
    links share one row; narrower, a whole group moves to the next row, never one host or one
    link on its own."""
    log_in_as_admin(page, live_server)
    if language == "nl":
        page.click("footer button[value=nl]")
        expect(page.locator("html")).to_have_attribute("lang", "nl")
    for path in ("/sync-health/", "/contacts/"):
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{live_server.url}{path}")
        expect(page.locator(".topbar__status .system--on")).to_have_count(2)
        rows = header_rows(page, ITEMS)
        assert len(rows) == 1, (language, path, rows)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        screenshot(page, f"header-1280-{language}-{path.strip('/')}")

        page.set_viewport_size({"width": 1024, "height": 800})
        for group in (".topbar__status > *", ".topbar__user > *"):
            assert len(header_rows(page, group)) == 1, (language, path, header_rows(page, ITEMS))
        # The links, as a whole, are what moves to the next row.
        rows = header_rows(page, ITEMS)
        links = header_rows(page, ".topbar__user > *")[0]
        assert len(rows) == 2 and rows[1] == links, (language, path, rows)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
        screenshot(page, f"header-1024-{language}-{path.strip('/')}")
