"""The Companies tab: the company-sync switch (off until an admin turns it on, audit-logged),
the company settings, and the account mappings, read-only while sync is off (spec §9)."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import SimplePublicObjectInputForCreate as CompanyCreate

from emulators.testing import hubspot_client
from sync_engine.models import AuditEvent, FieldMapping, ObjectSync, ResyncRequest
from sync_engine.object_settings import CompanySettings, settings_as_dict

from .conftest import assert_only_change, mapping_row

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
FORM = {"salesforce_creates": "on", "hubspot_creates": "on", "salesforce_delete": "nothing"}


def row(integration) -> ObjectSync:
    return ObjectSync.objects.get(integration=integration, object="companies")


def test_the_tab_shows_the_switch_off_and_every_setting(admin_client, connected):
    html = admin_client.get("/companies/").content.decode()
    assert row(connected).enabled is False
    assert 'name="enabled" value="on">' in html  # unchecked
    for name in settings_as_dict(CompanySettings()):
        assert f'name="{name}"' in html, name
    for text in (
        "Turn it on before importing Salesforce accounts",
        "never on the domain",
        "Delete the company",
        "the Salesforce account is not deleted",
        "Company properties",
    ):
        assert text in html, text


def test_mappings_are_read_only_until_company_sync_is_on(admin_client, connected):
    html = admin_client.get("/companies/").content.decode()
    assert 'id="mappings-locked"' in html
    assert "Add a mapping" not in html
    assert ">Name</td>" in html or "Name" in html  # the default account mappings are listed
    assert FieldMapping.objects.filter(integration=connected, object="companies").exists()
    name = FieldMapping.objects.get(
        integration=connected, object="companies", hubspot_property="name"
    )
    response = admin_client.post(f"/mappings/{name.pk}/rule/", {"rule": "two_way"}, **HTMX)
    name.refresh_from_db()
    assert name.rule == "prefer_salesforce_unless_blank"
    assert "Turn Companies sync on" in response.content.decode()

    response = admin_client.post("/companies/", {**FORM, "enabled": "on"})
    assert response.status_code == 200 and row(connected).enabled is True
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert event.details["changes"]["enabled"] == {"from": False, "to": True}
    html = admin_client.get("/companies/").content.decode()
    assert 'id="mappings-locked"' not in html and "Add a mapping" in html
    # The switch's note says what is true now.
    assert "Company sync is on." in html and "off until you turn it on" not in html
    name = FieldMapping.objects.get(
        integration=connected, object="companies", hubspot_property="name"
    )
    admin_client.post(f"/mappings/{name.pk}/rule/", {"rule": "two_way"}, **HTMX)
    name.refresh_from_db()
    assert name.rule == "two_way"


def test_switching_sync_on_from_the_card_refreshes_the_whole_tab(admin_client, connected):
    admin_client.get("/companies/")
    response = admin_client.post("/companies/", {**FORM, "enabled": "on"}, **HTMX)
    assert response["HX-Retarget"] == "main.page" and response["HX-Reselect"] == "main.page"
    html = response.content.decode()
    assert 'id="mappings-locked"' not in html and "Add a mapping" in html
    assert "Saved. What changed:" in html and 'id="company-sync"' in html
    # Other settings only swap the card.
    response = admin_client.post(
        "/companies/", {**FORM, "enabled": "on", "salesforce_delete": "delete"}, **HTMX
    )
    assert "HX-Retarget" not in response and "Add a mapping" not in response.content.decode()


def test_saving_settings_shows_what_changed(admin_client, connected):
    admin_client.get("/companies/")
    response = admin_client.post(
        "/companies/",
        {"enabled": "on", "salesforce_creates": "on", "salesforce_delete": "delete"},
        **HTMX,
    )
    html = response.content.decode()
    assert "A HubSpot company creates a Salesforce account" in html
    assert "When a Salesforce account is deleted" in html
    saved = row(connected)
    assert saved.options["hubspot_creates"] is False
    assert saved.options["salesforce_delete"] == "delete"


def test_viewer_sees_but_cannot_change_anything(viewer_client, connected):
    html = viewer_client.get("/companies/").content.decode()
    assert '<fieldset class="settings__body" disabled>' in html
    assert "Add a mapping" not in html
    assert viewer_client.post("/companies/", {**FORM, "enabled": "on"}).status_code == 403
    assert row(connected).enabled is False
    mapping = FieldMapping.objects.filter(integration=connected, object="companies").first()
    assert (
        viewer_client.post(f"/mappings/{mapping.pk}/rule/", {"rule": "two_way"}).status_code == 403
    )


def test_the_tab_costs_a_fixed_number_of_queries(
    admin_client, connected, django_assert_max_num_queries
):
    admin_client.get("/companies/")
    with django_assert_max_num_queries(25):
        admin_client.get("/companies/")


def test_an_admin_can_sync_one_company_by_its_hubspot_id(admin_client, live, emulators):
    companies = hubspot_client(emulators, strict=False).crm.companies.basic_api
    acme = companies.create(CompanyCreate(properties={"name": "Acme"})).id
    nameless = companies.create(CompanyCreate(properties={"domain": "x.example"})).id
    admin_client.get("/companies/")
    html = admin_client.get("/companies/").content.decode()
    assert 'id="company-sync"' not in html  # only while company sync is on
    response = admin_client.post("/companies/sync/", {"company_id": acme}, follow=True)
    assert "Turn company sync on first." in response.content.decode()
    assert not ResyncRequest.objects.exists()

    admin_client.post("/companies/", {**FORM, "enabled": "on"})
    assert 'id="company-sync"' in admin_client.get("/companies/").content.decode()
    for bad in ("abc", f"https://app.hubspot.com/contacts/1/record/0-1/{acme}"):  # a contact's
        response = admin_client.post("/companies/sync/", {"company_id": bad}, follow=True)
        assert "paste its address from HubSpot" in response.content.decode()
    # A company HubSpot doesn't have isn't queued as if it were.
    response = admin_client.post("/companies/sync/", {"company_id": "99999999"}, follow=True)
    assert "HubSpot has no company 99999999." in response.content.decode()
    assert not ResyncRequest.objects.exists()
    response = admin_client.post("/companies/sync/", {"company_id": acme}, follow=True)
    assert f"Company Acme ({acme}) syncs now" in response.content.decode()
    request = ResyncRequest.objects.get()
    assert (request.object, request.record_key) == ("companies", f"hubspot:{acme}")
    assert AuditEvent.objects.filter(action="record.resync_requested").exists()
    # The company's address, pasted from HubSpot, names it too.
    address = f" https://app.hubspot.com/contacts/24681357/record/0-2/{nameless}?tab=activity "
    response = admin_client.post("/companies/sync/", {"company_id": address}, follow=True)
    assert f"Company {nameless} syncs now" in response.content.decode()
    assert ResyncRequest.objects.filter(record_key=f"hubspot:{nameless}").exists()


def test_viewer_cannot_sync_a_company(viewer_client, connected):
    assert viewer_client.post("/companies/sync/", {"company_id": "123"}).status_code == 403


def test_the_api_refuses_company_mapping_changes_while_sync_is_off(admin_client, connected):
    admin_client.get("/companies/")
    name = FieldMapping.objects.get(
        integration=connected, object="companies", hubspot_property="name"
    )
    response = admin_client.patch(
        f"/api/v1/mappings/{name.pk}/", {"rule": "two_way"}, content_type="application/json"
    )
    assert response.status_code == 400
    name.refresh_from_db()
    assert name.rule == "prefer_salesforce_unless_blank"


def test_syncing_a_company_answers_in_its_card(admin_client, live, emulators):
    """With htmx the card answers in place: a refused id stays in the field with its error
    beside it, and a queued one clears it (no jump to a message at the top of the page)."""
    companies = hubspot_client(emulators, strict=False).crm.companies.basic_api
    acme = companies.create(CompanyCreate(properties={"name": "Acme"})).id
    admin_client.get("/companies/")
    admin_client.post("/companies/", {**FORM, "enabled": "on"})
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "company-sync"}
    html = admin_client.post("/companies/sync/", {"company_id": "99999999"}, **htmx).content
    html = html.decode()
    assert html.lstrip().startswith("<section") and 'id="company-sync"' in html
    assert 'value="99999999"' in html and 'aria-invalid="true"' in html
    assert 'role="alert">HubSpot has no company 99999999.</div>' in html
    html = admin_client.post("/companies/sync/", {"company_id": acme}, **htmx).content.decode()
    assert 'value=""' in html and 'role="status">Company Acme' in html
    assert ResyncRequest.objects.filter(record_key=f"hubspot:{acme}").exists()
    # The page's messages don't repeat it on the next page load.
    assert "syncs now" not in admin_client.get("/companies/").content.decode()


def test_a_stale_tab_does_not_undo_another_tabs_changes(admin_client, connected, page_form):
    tab_a = page_form(admin_client.get("/companies/").content, "company-settings")
    tab_b = dict(tab_a)
    assert tab_a["initial-enabled"] == "False" and "enabled" not in tab_a
    # Tab A turns company sync on (the whole tab answers) and deletes companies with accounts.
    response = admin_client.post(
        "/companies/", {**tab_a, "enabled": "on", "salesforce_delete": "delete"}, **HTMX
    )
    assert response["HX-Retarget"] == "main.page"
    # Tab B, drawn before that, only unticks "a HubSpot company creates an account".
    tab_b.pop("hubspot_creates", None)
    response = admin_client.post("/companies/", {**tab_b, "hubspot_creates": ""}, **HTMX)
    saved = row(connected)
    assert saved.enabled is True
    assert saved.options["salesforce_delete"] == "delete"
    assert saved.options["hubspot_creates"] is False
    assert "HX-Retarget" not in response  # the switch wasn't touched: the card answers
    assert_only_change(
        response, "A HubSpot company creates a Salesforce account", "hubspot_creates"
    )


def test_a_multi_currency_org_s_amounts_say_they_are_converted(admin_client, live, emulators):
    """Account amounts are in each record's currency, HubSpot's in its company currency: the
    mapping says the engine converts them, and still does after its rule is changed."""
    from sync_engine.models import FieldMapping
    from sync_engine.services import hubspot_account_details, object_settings_update

    emulators.salesforce.app.run_action("enable_multi_currency", corporate="USD",
                                        currencies=["EUR"])  # fmt: skip
    hubspot_account_details(integration=live)  # as connecting keeps it: euros
    object_settings_update(integration=live, object_name="companies", changes={}, enabled=True)
    admin_client.get("/companies/")  # the first visit reads the schemas
    html = admin_client.get("/companies/").content.decode()
    revenue = FieldMapping.objects.get(integration=live, object="companies",
                                       hubspot_property="annualrevenue")  # fmt: skip
    converted = (
        "Converted between each record&#x27;s currency and HubSpot&#x27;s company currency (EUR)"
    )
    assert converted in mapping_row(html, revenue)
    name = FieldMapping.objects.get(integration=live, object="companies", hubspot_property="name")
    assert "Converted" not in mapping_row(html, name)  # not an amount
    response = admin_client.post(f"/mappings/{revenue.pk}/rule/", {"rule": "two_way"}, **HTMX)
    assert converted in response.content.decode()
    assert "Converted" not in admin_client.get("/deals/").content.decode()  # deals: their own
