"""The dashboard in Chromium (Debian's build, through pytest-playwright), against the live
server and the emulators. Each test saves screenshots under test-results/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from emulators.testing import hubspot_client, salesforce_client
from integration_admin.roles import ADMINS, VIEWERS
from sync_engine.models import ImportJob, Integration, SyncError, SyncRun
from sync_engine.services import object_sync_get_or_create
from sync_engine.sync.cycle import sync_cycle_run
from tests.sync_engine.sync.helpers import hs_create, hs_update

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


@pytest.fixture
def synced(live, emulators):
    """The live integration with its contact settings and the integration user's id."""
    sf = live.salesforce_connection
    sf.user_id = emulators.salesforce.app.run_action("user_for_token", token=sf.access_token)
    sf.save()
    object_sync_get_or_create(integration=live, object_name="contacts")
    return live


def test_login_and_sync_health(page: Page, live_server, connected):
    person("ada", ADMINS)
    page.goto(f"{live_server.url}/sync-health/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/sync-health/")
    screenshot(page, "login")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".alert--error")).to_contain_text("didn't match")
    page.fill("#id_password", "ada-pass-123")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/sync-health/")
    expect(page.locator("h1")).to_have_text("Sync health")
    expect(page.locator('[data-stat="limit"]')).to_have_text("15,000")
    expect(page.locator("svg.chart__svg rect.bar")).to_have_count(48)
    screenshot(page, "sync-health")


def test_viewer_is_refused_a_change(page: Page, live_server, connected):
    person("vic", VIEWERS)
    log_in(page, live_server, "vic")
    page.goto(f"{live_server.url}/sync-health/")
    expect(page.locator(".readonly-note")).to_be_visible()
    allocation = page.locator("#id_allocation")
    expect(allocation).to_be_disabled()
    # A viewer who forces the form anyway is turned away by the server.
    page.evaluate(
        "() => document.querySelectorAll('.allocation-form [disabled]')"
        ".forEach(e => e.disabled = false)"
    )
    allocation.fill("9999")
    page.click(".allocation-form button[type=submit]")
    expect(page.locator("#flash")).to_contain_text("Only integration admins can change settings")
    screenshot(page, "viewer-refused")
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 5000


def test_changing_the_allocation(page: Page, live_server, connected):
    person("ada", ADMINS)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/")
    allocation = page.locator("#id_allocation")
    allocation.fill("20000")
    page.click(".allocation-form button[type=submit]")
    expect(page.locator("#allocation-error")).to_contain_text(
        "can't be more than Salesforce's limit of 15,000"
    )
    expect(page.locator("#id_allocation")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "allocation-invalid")
    # The form was just swapped in: a submit before it settles would post without htmx.
    htmx_settled(page)
    page.locator("#id_allocation").fill("0")
    page.click(".allocation-form button[type=submit]")
    expect(page.locator("#allocation-error")).to_contain_text("at least 1 call")
    htmx_settled(page)
    page.locator("#id_allocation").fill("12000")
    page.click(".allocation-form button[type=submit]")
    expect(page.locator(".field-ok")).to_contain_text("Saved: 5,000 → 12,000")
    screenshot(page, "allocation-saved")
    connected.refresh_from_db()
    assert connected.salesforce_api_allocation == 12000
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("tr[data-action='integration.allocation_changed']")).to_contain_text(
        "5,000 → 12,000"
    )
    screenshot(page, "audit-log")


def test_error_card_panel_and_export(page: Page, live_server, connected):
    person("ada", ADMINS)
    make_error(connected, 30)
    make_error(connected, 1, hubspot_id="9", record_label="=cmd|'/c calc'!A1", message="@evil")
    make_error(connected, 3, error_type="picklist", code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/")
    cards = page.locator(".error-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Invalid property value")
    expect(cards.first).to_contain_text("31 current errors")
    cards.first.click()
    panel = page.locator("#error-panel")
    expect(panel.locator("h2")).to_have_text("Invalid property value")
    expect(panel).to_contain_text("Correct the value shown in the error on the record")
    expect(page).to_have_url(f"{live_server.url}/sync-health/errors/property_value/")
    expect(panel.locator("tbody tr")).to_have_count(25)
    expect(
        panel.locator("a[href^='https://app.hubspot.com/contacts/4242/record/0-1/']")
    ).to_have_count(25)
    # The panel sits to the right of the cards.
    cards_box = page.locator("#sync-errors").bounding_box()
    panel_box = panel.bounding_box()
    assert panel_box["x"] > cards_box["x"] + cards_box["width"] - 1
    screenshot(page, "error-panel")
    htmx_settled(page)
    page.fill("#error-search", "Person 2")
    expect(panel.locator("tbody tr")).to_have_count(11)
    page.fill("#error-search", "")
    expect(panel.locator("tbody tr")).to_have_count(25)
    # Next is in the list just swapped in: clicked before it settles, it is a plain link
    # (with "?q=&page=2" in the address, not "?page=2").
    htmx_settled(page)
    panel.locator("a:has-text('Next')").click()
    expect(panel).to_contain_text("26–31 of 31")
    # Selecting enables "Resync selected".
    resync_selected = panel.locator("button:has-text('Resync selected')")
    expect(resync_selected).to_be_disabled()
    panel.locator("input[name=ids]").first.check()
    expect(resync_selected).to_be_enabled()
    with page.expect_download() as download:
        panel.locator("a:has-text('Export errors')").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("Error type,Object,Direction,Record")
    assert "'=cmd|'/c calc'!A1" in text and "'@evil" in text
    assert text.count("\n") == 32  # header and 31 errors; the picklist ones are not in it
    # Back, after opening another card, restores the whole page (htmx asks for it again),
    # at the page of errors the admin was on (paging shows in the address).
    cards.nth(1).click()
    expect(panel.locator("h2")).to_have_text("Picklist value not allowed")
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/sync-health/errors/property_value/?page=2")
    expect(page.locator(".error-card")).to_have_count(2)
    expect(page.locator("#error-panel h2")).to_have_text("Invalid property value")
    expect(page.locator("#error-panel")).to_contain_text("26–31 of 31")
    # And Back from a record opened in a panel that was just opened.
    page.goto(f"{live_server.url}/sync-health/")
    page.locator(".error-card").first.click()
    expect(page.locator("#error-panel h2")).to_have_text("Invalid property value")
    page.locator("#error-panel a[href^='/records/']").first.click()
    expect(page.locator("h1.page__title")).to_be_visible()
    page.go_back()
    expect(page.locator(".error-card")).to_have_count(2)
    expect(page.locator(".topbar__user")).to_have_count(1)


def test_switching_company_sync_on_opens_its_mappings_at_once(page: Page, live_server, connected):
    person("ada", ADMINS)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/companies/")
    expect(page.locator("#mappings-locked")).to_be_visible()
    page.locator("input[name=enabled]").check()
    page.locator("button:has-text('Save')").click()
    expect(page.locator("#settings-saved")).to_contain_text("Saved. What changed:")
    expect(page.locator("#mappings-locked")).to_have_count(0)
    expect(page.locator("#company-sync")).to_be_visible()
    expect(page.locator(".topbar__user")).to_have_count(1)  # one page, not a page in a page


def pick_a_blocked_pair(page: Page, live_server, emulators) -> None:
    """An admin on the Contacts mapping editor picks HubSpot's number ``loyalty_score`` and
    Salesforce's text ``Colour__c`` (a pair that can't map); ``Loyalty__c`` (a number) is
    there too."""
    from hubspot.crm.properties import PropertyCreate

    person("ada", ADMINS)
    hubspot_client(emulators, strict=False).crm.properties.core_api.create(
        "contacts",
        PropertyCreate(name="loyalty_score", label="Loyalty score", type="number",
                       field_type="number", group_name="contactinformation"),
    )  # fmt: skip
    for sobject in ("Lead", "Contact"):
        emulators.salesforce.app.run_action("add_field", object=sobject, field="Colour")
        emulators.salesforce.app.run_action(
            "add_field", object=sobject, field="Loyalty", type="double"
        )
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/contacts/#mappings")
    page.click("button:has-text('Refresh properties and fields')")
    expect(page.locator("#flash")).to_contain_text("Properties and fields refreshed")
    expect(page.locator("#hubspot-properties option[value=loyalty_score]")).to_have_count(1)
    htmx_settled(page)  # the editor was swapped in: its pickers' check is wired on settling
    page.fill("#id_hubspot_property", "loyalty_score")
    page.fill("#id_salesforce_field", "Colour__c")
    page.locator("#id_salesforce_field").dispatch_event("change")


def test_incompatible_mapping_shows_the_inline_error(page: Page, live_server, live, emulators):
    pick_a_blocked_pair(page, live_server, emulators)
    check = page.locator("#mapping-check")
    expect(check).to_contain_text("A HubSpot Number property can't map to a Salesforce Text field")
    # The button stays enabled (a disabled one would swallow the click that, by moving focus
    # off a picker, runs the check again); the server gives the same answer, storing nothing.
    add = page.locator(".mapping-add button[type=submit]")
    expect(add).to_be_enabled()
    screenshot(page, "mapping-incompatible")
    # The inline check's own error is a ".field-error" too: the server's answer is the editor
    # it swaps in. The click also runs the check again; both are answered before the database
    # is read (or the test's database emptied).
    page.evaluate("document.getElementById('mapping-editor').dataset.before = ''")
    with (
        page.expect_response(lambda r: "/mappings/check/" in r.url),
        page.expect_response(lambda r: "/mappings/add/" in r.url),
    ):
        add.click()
    expect(page.locator("#mapping-editor[data-before]")).to_have_count(0)
    expect(page.locator(".mapping-add .field-error")).to_contain_text("can't map")
    assert not live.mappings.filter(hubspot_property="loyalty_score").exists()


def test_after_a_blocked_pair_the_first_click_on_add_mapping_adds(
    page: Page, live_server, live, emulators
):
    pick_a_blocked_pair(page, live_server, emulators)
    expect(page.locator("#mapping-check")).to_contain_text("can't map")
    # The admin picks another field and clicks at once: the field's change (the check) and
    # the click come together, and that one click adds the mapping.
    page.fill("#id_salesforce_field", "Loyalty__c")
    with page.expect_response(lambda r: "/mappings/check/" in r.url):  # answered before the end
        page.click(".mapping-add button[type=submit]")
    expect(page.locator("tr[data-hubspot=loyalty_score]")).to_contain_text("Loyalty__c")
    assert live.mappings.filter(hubspot_property="loyalty_score").count() == 1


def test_a_read_only_field_narrows_the_rules_before_adding(
    page: Page, live_server, live, emulators
):
    """Spec §8.2 in the add form: picking a read-only Salesforce field (the compound Name)
    leaves only "Always use Salesforce" and "Don't sync" to pick, and the rule picked gives
    way to the first of them; a field that takes writes offers every rule again."""
    pick_a_blocked_pair(page, live_server, emulators)
    expect(page.locator("#mapping-check")).to_contain_text("can't map")
    rule = page.locator("#id_rule")
    offered = "s => [...s.options].filter(o => !o.disabled && !o.hidden).map(o => o.value)"
    expect(rule).to_have_value("prefer_salesforce_unless_blank")
    page.fill("#id_salesforce_field", "Name")
    page.locator("#id_salesforce_field").dispatch_event("change")
    expect(page.locator("#mapping-check")).to_contain_text("This Salesforce field is read-only")
    expect(rule).to_have_value("always_use_salesforce")
    assert rule.evaluate(offered) == ["always_use_salesforce", "dont_sync"]
    screenshot(page, "mapping-read-only")
    page.fill("#id_salesforce_field", "Loyalty__c")
    page.locator("#id_salesforce_field").dispatch_event("change")
    expect(page.locator("#mapping-check")).to_contain_text("Compatible")
    # app.js narrows the picker once the check's answer is in: wait for it, not the text
    # (a locator, not wait_for_function: its polling evaluates a string, which the CSP bars).
    expect(rule.locator("option:not([disabled]):not([hidden])")).to_have_count(4)
    assert len(rule.evaluate(offered)) == 4
    expect(rule).to_have_value("always_use_salesforce")  # a rule still offered stays


def test_switching_to_dutch(page: Page, live_server, connected):
    person("ada", ADMINS)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/contacts/")
    page.click("footer button[value=nl]")
    expect(page.locator("h1")).to_have_text("Contactpersonen")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("#create-update h2")).to_have_text("Contactpersonen maken en bijwerken")
    expect(page.locator(".tabs")).to_contain_text("Synchronisatiestatus")
    screenshot(page, "contacts-nl")
    page.goto(f"{live_server.url}/sync-health/")
    expect(page.locator("#api-usage")).to_contain_text("Toegewezen aan HubSpot")
    screenshot(page, "sync-health-nl")


def test_fix_in_the_crm_resync_and_watch_the_error_leave(
    page: Page, live_server, synced, emulators, hs_person, celery_eager
):
    person("ada", ADMINS)
    contact = hs_create(
        hs_person, email="long@example.com", lastname="Long", company="X", jobtitle="Senior " * 40
    )
    sync_cycle_run(integration=synced, object_name="contacts", trigger="schedule")
    assert SyncError.objects.get(resolved_at__isnull=True).error_type == "property_value"

    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/")
    page.locator(".error-card", has_text="Invalid property value").click()
    panel = page.locator("#error-panel")
    expect(panel.locator("tbody tr")).to_have_count(1)
    expect(panel).to_contain_text("STRING_TOO_LONG")
    screenshot(page, "resync-before")
    # A person fixes the title in HubSpot, then the admin resyncs.
    hs_update(hs_person, contact, jobtitle="Director")
    htmx_settled(page)  # before it settles, "Resync all" posts without htmx (and asks nothing)
    asked = []  # Resync all asks first whether the cause is fixed (spec §3.3)
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    panel.locator("button:has-text('Resync all')").click()
    expect(page.locator("#flash")).to_contain_text("1 error queued for a resync")
    assert asked and "Fix the cause first" in asked[0]
    expect(panel).to_contain_text("No current errors of this type: they have all been fixed.")
    screenshot(page, "resync-after")
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    sf = salesforce_client(emulators, token="auditor-token")
    leads = sf.query("SELECT Title FROM Lead WHERE Email = 'long@example.com'")["records"]
    assert [lead["Title"] for lead in leads] == ["Director"]
    page.goto(f"{live_server.url}/sync-health/")
    expect(page.locator(".error-cards")).to_contain_text("No sync errors")


def test_saved_contact_settings_are_obeyed_on_the_next_cycle(
    page: Page, live_server, synced, sf_person, hs_person, celery_eager
):
    person("ada", ADMINS)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/contacts/")
    expect(page.locator("#lead-warning")).to_be_visible()  # "lead" is the default
    page.check("#id_hubspot_creates_0")  # Create or update the contact
    expect(page.locator("#lead-warning")).to_be_hidden()
    page.check("#id_salesforce_create_update_1")  # Salesforce → HubSpot: do nothing
    page.click("#contact-settings button[type=submit]")
    saved = page.locator("#settings-saved")
    expect(saved).to_contain_text("Saved. What changed:")
    expect(saved).to_contain_text("Create or update the lead → Create or update the contact")
    screenshot(page, "contacts-saved")

    hs_create(hs_person, email="new.person@example.com", lastname="Person", company="Y")
    sf_person.Lead.create({"LastName": "Quiet", "Company": "Z", "Email": "quiet@example.com"})
    page.click(".statusbar button:has-text('Sync now')")
    expect(page.locator("#flash")).to_contain_text("Sync started for Contacts.")
    expect(page.locator(".statusbar__syncs")).to_contain_text(
        re.compile(r"Contacts: synced (just now|\d.* ago)")
    )  # not "not synced yet"
    screenshot(page, "contacts-after-sync")
    # The page loads its list picker: answered before the test reads the database (the live
    # server's threads share the test's SQLite connection).
    htmx_ready(page)
    # HubSpot → Salesforce created a contact, not a lead…
    contacts = sf_person.query("SELECT Id FROM Contact WHERE Email = 'new.person@example.com'")
    assert contacts["totalSize"] == 1
    leads = sf_person.query("SELECT Id FROM Lead WHERE Email = 'new.person@example.com'")
    assert leads["totalSize"] == 0
    # …and Salesforce → HubSpot did nothing with the new lead.
    found = hs_person.crm.contacts.basic_api.get_page(limit=100, properties=["email"]).results
    assert "quiet@example.com" not in {c.properties.get("email") for c in found}
    assert Integration.objects.get(pk=synced.pk).runs.filter(trigger="manual").exists()


# What reaches past a 375 px window (for the failure message): boxes no scrolling box holds,
# and absolutely placed ones, which widen the page from wherever they sit.
WIDER_THAN_THE_WINDOW = """
[...document.querySelectorAll('body *')].filter(e => {
  if (e.getBoundingClientRect().right <= 380) return false;
  if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return true;
  for (let a = e.parentElement; a; a = a.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return false;
  }
  return true;
}).slice(0, 5).map(e => e.tagName + '.' + e.className)
"""


def test_a_phone_wide_window_never_scrolls_sideways(page: Page, live_server, connected):
    person("ada", ADMINS)
    make_error(connected, 30)
    # A record named by a long email address: its heading has nowhere to break but anywhere.
    make_error(
        connected, 1, hubspot_id="1437",
        record_label="Lars Smit <lars.smit.555@soylentvandelayinc.example.com>",
    )  # fmt: skip
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, "ada")
    for path in (
        "/sync-health/errors/property_value/",
        "/contacts/",
        "/audit/",
        "/records/contacts/hubspot:1437/",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(WIDER_THAN_THE_WINDOW)
        assert width <= 375, (path, width, wide)
    expect(page.locator("h1")).to_contain_text("soylentvandelayinc")
    screenshot(page, "phone-width")


def test_a_phone_sees_the_status_bar_compact_and_the_mapping_rules(
    page: Page, live_server, connected
):
    person("ada", ADMINS)
    make_custom_object(connected)
    now = timezone.now()
    for name in ("contacts", "companies", "deals", "tickets", "activities", "custom:1"):
        SyncRun.objects.create(
            integration=connected, object=name, status="succeeded",
            finished_at=now - timedelta(seconds=20),
        )  # fmt: skip
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/contacts/")
    # Six objects' last syncs wrap as one line under the state and "Sync now", not one
    # narrow column each: the page's heading is on the first screen.
    bar = page.locator(".statusbar")
    expect(bar.locator("li")).to_have_count(6)
    expect(bar).to_contain_text("Contacts: synced just now")
    assert bar.bounding_box()["height"] < 140, bar.bounding_box()
    assert page.locator("h1").bounding_box()["y"] < 500
    screenshot(page, "phone-status-bar")
    # Each mapping is a small card: its sync rule is in the window, labelled.
    row = page.locator('tr[data-hubspot="firstname"]')
    rule = row.locator('select[name="rule"]')
    rule.scroll_into_view_if_needed()
    box = rule.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    expect(row.locator("td[data-label='Sync rule']")).to_be_visible()
    screenshot(page, "phone-mappings")
    # The sync history: each cycle a small card, its status in the window.
    page.goto(f"{live_server.url}/sync-health/")
    status = page.locator("#sync-runs td[data-label='Status']").first
    status.scroll_into_view_if_needed()
    box = status.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    screenshot(page, "phone-sync-runs")


def test_on_a_phone_saved_wraps_under_the_save_button(page: Page, live_server, connected):
    """After an htmx save the "Saved…" note moves next to Save (app.js); on a phone it goes
    under the button, and neither reaches past the window."""
    person("ada", ADMINS)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/contacts/")
    page.check("#id_hubspot_creates_0")
    page.check("#id_salesforce_delete_1")
    save = page.locator("#contact-settings button[type=submit]")
    save.click()
    saved = page.locator("#contact-settings .settings__footer #settings-saved")
    expect(saved).to_contain_text("Create or update the lead → Create or update the contact")
    # The saved card loads its list picker again, above the footer: measured once it's in
    # (and not left running when the test's database is emptied).
    htmx_settled(page)
    screenshot(page, "phone-saved")
    button, note = save.bounding_box(), saved.bounding_box()
    assert button["x"] >= 0 and button["x"] + button["width"] <= 375, button
    assert note["x"] >= 0 and note["x"] + note["width"] <= 375, note
    assert note["y"] >= button["y"] + button["height"], (button, note)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, (width, page.evaluate(WIDER_THAN_THE_WINDOW))


def test_a_desktop_window_keeps_the_header_and_tables_on_screen(page: Page, live_server, connected):
    ada = person("ada", ADMINS)
    make_error(connected, 1)  # hubspot:1000, for the record page
    for label in ("Salesforce leads", "Campaign members: Partner Summit"):
        ImportJob.objects.create(
            integration=connected, object="leads", object_label=label, status="succeeded",
            started_by=ada, total=386, processed=386, skipped=386, salesforce_calls=2,
        )  # fmt: skip
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/import/")
    # The header's links keep to one line each, side by side.
    items = page.locator(".topbar__user > *")
    boxes = [items.nth(i).bounding_box() for i in range(items.count())]
    assert all(box["height"] < 30 for box in boxes), boxes
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 12, boxes
    # Recent imports: every column in the card, no scrolling box.
    wrap = page.locator("#import-history .table-wrap")
    expect(wrap.locator("tbody tr")).to_have_count(2)
    assert wrap.evaluate("e => e.scrollWidth <= e.clientWidth"), wrap.evaluate(
        "e => [e.scrollWidth, e.clientWidth]"
    )
    # The choices: no browser-default fieldset border.
    border = page.locator(".import-form fieldset").evaluate(
        "e => getComputedStyle(e).borderTopStyle"
    )
    assert border == "none"
    screenshot(page, "desktop-import")
    # The add-mapping rule shows its longest choice whole.
    page.goto(f"{live_server.url}/contacts/")
    rule = page.locator("#id_rule")
    fits = rule.evaluate(
        """s => {
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = getComputedStyle(s).font;
          const text = Math.max(...[...s.options].map(o => ctx.measureText(o.text).width));
          return [s.clientWidth, text];
        }"""
    )
    assert fits[0] >= fits[1] + 16, fits
    # The record page's Resync button has room under the facts.
    page.goto(f"{live_server.url}/records/contacts/hubspot:1000/")
    facts = page.locator(".facts").bounding_box()
    button = page.get_by_role("button", name="Resync").bounding_box()
    assert button["y"] - (facts["y"] + facts["height"]) >= 12, (facts, button)
    screenshot(page, "desktop-record")


def test_keyboard_focus_survives_htmx_saves(page: Page, live_server, connected):
    person("ada", ADMINS)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/contacts/")
    page.keyboard.press("Tab")  # the first stop skips the header and tabs
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
    select = page.locator('tr[data-hubspot="firstname"] select[name="rule"]')
    select.focus()
    page.evaluate("document.querySelector('tr[data-hubspot=\"firstname\"]').dataset.before = ''")
    with page.expect_response(lambda r: "/rule/" in r.url):
        page.keyboard.press("ArrowDown")  # one step down the rules: saved once, after a pause
    # The response is in before its row is swapped: focus is checked on the new row's select.
    expect(page.locator('tr[data-hubspot="firstname"][data-before]')).to_have_count(0)
    expect(select).to_be_focused()
    # The settings card's Save keeps focus too; "Saved…" comes next to it, in view, and is
    # announced through the page's live region.
    save = page.locator("#contact-settings button[type=submit]")
    save.focus()
    page.keyboard.press("Enter")
    saved = page.locator("#contact-settings .settings__footer #settings-saved")
    expect(saved).to_have_text("Saved. Nothing changed.")
    expect(saved).to_be_in_viewport()
    expect(save).to_be_focused()
    expect(page.locator("#announcer")).to_have_text("Saved. Nothing changed.")
    expect(page.locator("#announcer")).to_have_attribute("aria-live", "polite")
    htmx_settled(page)  # the saved card's list picker: not left loading when the test ends


def test_escape_closes_the_error_panel(page: Page, live_server, connected):
    person("ada", ADMINS)
    make_error(connected, 3)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/")
    card = page.locator('.error-card[data-error-type="property_value"]')
    card.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#error-panel")
    expect(panel.locator("h2")).to_have_text("Invalid property value")
    htmx_settled(page)
    # In the search box, Escape first empties the box; the panel stays.
    page.fill("#error-search", "Person 1")
    expect(panel.locator("tbody tr")).to_have_count(1)
    page.locator("#error-search").press("Escape")
    expect(page.locator("#error-search")).to_have_value("")
    expect(panel.locator("h2")).to_have_text("Invalid property value")
    # Then Escape closes it, as its × does, and focus is back on the card that opened it.
    page.keyboard.press("Escape")
    expect(page).to_have_url(f"{live_server.url}/sync-health/")
    expect(panel.locator(".panel__inner")).to_have_count(0)
    expect(card).to_be_focused()


def test_ticked_errors_stay_ticked_while_the_list_reloads(page: Page, live_server, connected):
    """While a row says "Resync queued" the error list reloads every 3 seconds: the admin's
    ticked rows stay ticked, "Resync selected" enabled, focus on the same row's box."""
    person("ada", ADMINS)
    errors = make_error(connected, 3)
    SyncError.objects.filter(pk=errors[0].pk).update(
        next_retry_at=timezone.now() - timedelta(minutes=1)
    )
    page.clock.install()
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/errors/property_value/")
    panel = page.locator("#error-panel")
    expect(panel.locator(".badge", has_text="Resync queued")).to_have_count(1)
    resync_selected = panel.locator("button:has-text('Resync selected')")
    expect(resync_selected).to_be_disabled()
    ticked = panel.locator(f'input[name=ids][value="{errors[1].pk}"]')
    ticked.check()
    expect(resync_selected).to_be_enabled()
    page.evaluate("document.getElementById('error-list').dataset.before = ''")
    with page.expect_response(lambda r: "/sync-health/errors/property_value/?" in r.url):
        page.clock.run_for(3500)
    expect(page.locator("#error-list")).to_have_count(1)
    expect(page.locator("#error-list[data-before]")).to_have_count(0)  # reloaded
    expect(ticked).to_be_checked()
    expect(ticked).to_be_focused()
    expect(resync_selected).to_be_enabled()
    expect(panel.locator(f'input[name=ids][value="{errors[2].pk}"]')).not_to_be_checked()
    select_all = panel.locator("[data-select-all]")
    assert select_all.evaluate("e => e.indeterminate && !e.checked")
    screenshot(page, "error-list-reloaded-ticked")
    # Still queued: it reloads again, and the ticked row still is.
    with page.expect_response(lambda r: "/sync-health/errors/property_value/?" in r.url):
        page.clock.run_for(3500)
    expect(ticked).to_be_checked()
    expect(resync_selected).to_be_enabled()


def test_the_open_panel_s_card_stays_highlighted(page: Page, live_server, connected):
    person("ada", ADMINS)
    make_error(connected, 3)
    make_error(connected, 2, error_type="picklist", code="INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    page.clock.install()
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/errors/property_value/")
    open_card = page.locator('.error-card[data-error-type="property_value"]')
    other = page.locator('.error-card[data-error-type="picklist"]')
    expect(open_card).to_have_class(re.compile(r"\berror-card--active\b"))
    # The cards reload every 30 seconds; the panel stays open, and so does its highlight.
    page.evaluate("document.getElementById('error-cards').dataset.before = ''")
    with page.expect_response(lambda r: r.url.endswith("/sync-health/cards/")):
        page.clock.run_for("00:31")
    expect(page.locator("#error-cards[data-before]")).to_have_count(0)  # reloaded
    expect(page.locator("#error-panel h2")).to_have_text("Invalid property value")
    expect(open_card).to_have_class(re.compile(r"\berror-card--active\b"))
    expect(other).not_to_have_class(re.compile(r"\berror-card--active\b"))
    # Opening another card's panel moves the highlight to it (in place: once the reloaded
    # cards have settled, a click is htmx's, not a plain link's).
    htmx_settled(page)
    other.click()
    expect(page.locator("#error-panel h2")).to_have_text("Picklist value not allowed")
    expect(other).to_have_class(re.compile(r"\berror-card--active\b"))
    expect(open_card).not_to_have_class(re.compile(r"\berror-card--active\b"))
    screenshot(page, "error-card-highlight")


def test_on_a_phone_the_current_tab_is_in_the_tab_strip(page: Page, live_server, connected):
    person("ada", ADMINS)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, "ada")
    for path in ("/connection/", "/custom-objects/", "/sync-health/"):
        page.goto(f"{live_server.url}{path}")
        tab = page.locator(".tabs__tab--active")
        expect(tab).to_have_attribute("href", path)
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, (path, box)
        # Only the strip scrolled sideways: the page is still at its top, not sideways.
        assert page.evaluate("[window.scrollX, window.scrollY]") == [0, 0], path
    screenshot(page, "phone-tabs")


def test_the_error_search_and_the_language_switch_keep_the_panel(
    page: Page, live_server, connected
):
    """The panel's search is in the address (a reload or Back shows the same rows), and
    switching the language comes back to the open panel, searched, not to Sync health."""
    person("ada", ADMINS)
    make_error(connected, 12)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/sync-health/")
    page.locator(".error-card").first.click()
    panel = page.locator("#error-panel")
    expect(panel.locator("h2")).to_have_text("Invalid property value")
    htmx_settled(page)
    page.fill("#error-search", "Person 1")
    expect(panel.locator("tbody tr")).to_have_count(3)  # Person 1, 10, 11
    expect(page).to_have_url(re.compile(r"/sync-health/errors/property_value/\?q=Person(\+|%20)1$"))
    page.reload()
    expect(page.locator("#error-panel tbody tr")).to_have_count(3)
    page.locator(".language-switcher button[value=nl]").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page).to_have_url(re.compile(r"/sync-health/errors/property_value/\?q=Person(\+|%20)1$"))
    expect(page.locator("#error-panel tbody tr")).to_have_count(3)


def test_on_a_phone_the_deal_pipelines_stack(page: Page, live_server, connected):
    """The synced pipelines table stacks like the other tables at 375 px: nothing in its
    card scrolls sideways."""

    person("ada", ADMINS)
    deal_pipeline_synced(connected)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, "ada")
    page.goto(f"{live_server.url}/deals/")
    card = page.locator("#pipelines")
    expect(card.locator("#pipeline-list")).to_contain_text("Enterprise renewals")
    sideways = card.evaluate("c => c.scrollWidth - c.clientWidth")
    assert sideways <= 0, sideways
