"""What a new admin saw in Chromium on a first walk through the dashboard: how an import's
progress bar draws, where a started import's card is, the custom-object wizard's cards and a
long integration-user email on the Connection page."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Page, expect

from sync_engine.models import ImportJob, SalesforceConnection
from sync_engine.services import object_sync_get_or_create

from .conftest import htmx_ready, log_in_as_admin, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEAN_COLOUR = """async ([src, inset]) => {
  const img = new Image();
  img.src = src;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(inset, inset, img.width - 2 * inset, img.height - 2 * inset).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) {
    sum[0] += data[i]; sum[1] += data[i + 1]; sum[2] += data[i + 2];
  }
  return sum.map(v => v / (data.length / 4));
}"""


def drawn_colour(page: Page, selector: str) -> tuple[float, float, float]:
    """The mean colour Chromium drew inside ``selector``'s box (its edge left out), decoded in
    a blank page: the dashboard's Content-Security-Policy allows no data: images."""
    png = base64.b64encode(page.locator(selector).screenshot()).decode()
    blank = page.context.new_page()
    try:
        return tuple(blank.evaluate(MEAN_COLOUR, [f"data:image/png;base64,{png}", 3]))
    finally:
        blank.close()


def luminance(rgb) -> float:
    """WCAG's relative luminance of an sRGB colour (0-255 channels)."""

    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_an_import_bar_at_0_percent_looks_empty(page: Page, live_server, connected):
    """Chromium draws a <progress> with a light accent-color on a dark track: at 0% the bar was
    a solid near-black stripe that read as "done"."""
    job = ImportJob.objects.create(
        integration=connected, object="leads", status="running", total=2000, processed=0
    )
    log_in_as_admin(page, live_server)
    page.goto(f"{live_server.url}/import/?job={job.pk}")
    bar = page.locator("#import-bar")
    expect(bar).to_have_attribute("value", "0")
    empty = drawn_colour(page, "#import-bar")
    screenshot(page, "import-bar-empty")
    assert luminance(empty) > 0.75, empty  # a pale track: nothing done yet
    # Full, the bar is the strong orange, told from the empty track at 3:1 (WCAG 1.4.11).
    ImportJob.objects.filter(pk=job.pk).update(processed=2000)
    expect(bar).to_have_attribute("value", "100")
    full = drawn_colour(page, "#import-bar")
    assert full[0] > full[1] + 80 and full[0] > full[2] + 80, full  # orange, not grey or black
    assert contrast(empty, full) >= 3, (empty, full)


def test_a_started_import_s_card_comes_into_view_and_its_started_flash_goes(
    page: Page, live_server, live, sf_person, celery_eager
):
    """After "Start import" the progress card (below the start form) is scrolled into view;
    once it says the import finished, "Import of … started." is no longer shown above."""
    object_sync_get_or_create(integration=live, object_name="contacts")
    sf_person.Lead.create({"LastName": "One", "Company": "Acme", "Email": "one@example.com"})
    page.set_viewport_size({"width": 1280, "height": 700})
    log_in_as_admin(page, live_server)
    page.goto(f"{live_server.url}/import/")
    htmx_ready(page)
    progress = page.locator("#import-progress")
    page.check("#import-leads")
    page.click("#import-start button[type=submit]")
    expect(page.locator("#import-progress h2")).to_have_text("Import of Salesforce leads")
    expect(progress).to_be_in_viewport(ratio=0.9)  # the whole card, not its top edge
    expect(progress).to_have_attribute("data-status", "succeeded")
    expect(progress.locator('[data-field="summary"]')).to_contain_text("The import is finished.")
    expect(page.locator("#flash")).not_to_contain_text("started")
    screenshot(page, "import-started-in-view")


def test_the_custom_object_wizard_s_card_opens_without_a_rule(
    page: Page, live_server, live, emulators
):
    """Each wizard step is one section, the first thing in its card: no divider above it. The
    settings cards keep theirs between the on/off switch and their sections."""
    log_in_as_admin(page, live_server)
    page.goto(f"{live_server.url}/custom-objects/new/")
    section = page.locator("#step-objects")
    expect(section).to_be_visible()
    screenshot(page, "custom-object-wizard-card")
    assert section.evaluate("e => getComputedStyle(e).borderTopStyle") == "none"
    page.goto(f"{live_server.url}/contacts/")
    first = page.locator("#contact-settings .settings__section").first
    assert first.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"


LINES = """el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const lines = [];
  let top = null, node;
  while ((node = walker.nextNode())) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const at = Math.round(range.getBoundingClientRect().top);
      if (at !== top) { lines.push(''); top = at; }
      lines[lines.length - 1] += node.data[i];
    }
  }
  return lines;
}"""


def test_a_long_integration_user_email_wraps_at_its_at_sign_or_dots(
    page: Page, live_server, connected
):
    """The Connection page broke the email wherever the cell ended ("…example.co / m")."""
    email = "integration.hubspot.salesforce.sync@emulator.example.com"
    SalesforceConnection.objects.filter(integration=connected).update(username=email)
    log_in_as_admin(page, live_server)
    for width in (1100, 800, 600, 375):  # each once broke it inside a word
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/connection/")
        cell = page.locator("#salesforce-connection .facts dd").first
        expect(cell).to_contain_text(email)
        lines = cell.locator("span.muted").evaluate(LINES)
        assert "".join(lines) == f"({email})"
        assert len(lines) > 1, (width, lines)  # the cell is narrower than the address: it wraps…
        for before, after in zip(lines, lines[1:], strict=False):
            # …after the @ or before a dot
            assert before.endswith("@") or after.startswith("."), (width, lines)
    screenshot(page, "connection-long-email")
