"""The Deals tab: the deal-sync switch (off until an admin turns it on, audit-logged), the
delete setting, the synced pipelines and the opportunity mappings, read-only while sync is off
(spec §10)."""

from __future__ import annotations

import pytest

from sync_engine.models import AuditEvent, FieldMapping, ObjectSync, SchemaCache
from sync_engine.object_settings import DealSettings, settings_as_dict

from .conftest import assert_only_change, deal_pipelines_stored, mapping_row

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def row(integration) -> ObjectSync:
    return ObjectSync.objects.get(integration=integration, object="deals")


def test_the_tab_needs_a_login(client, connected):
    response = client.get("/deals/")
    assert response.status_code == 302 and "/login" in response["Location"]
    assert client.post("/deals/", {"enabled": "on", "salesforce_delete": "delete"}).status_code in (
        302,
        403,
    )
    assert not ObjectSync.objects.filter(object="deals", enabled=True).exists()


def test_the_tab_shows_the_switch_off_every_setting_and_the_mappings(admin_client, connected):
    html = admin_client.get("/deals/").content.decode()
    assert row(connected).enabled is False
    assert 'name="enabled" value="on">' in html  # unchecked
    for name in settings_as_dict(DealSettings()):
        assert f'name="{name}"' in html, name
    for text in (
        "Turn it on before importing Salesforce opportunities",
        "never matched by name",
        "Delete the deal",
        "the Salesforce opportunity is not deleted",
        "Synced pipelines",
        "the first deal sync creates them",
        "Deal properties",
    ):
        assert text in html, text
    # The default opportunity mappings are listed, read-only while sync is off.
    assert 'id="mappings-locked"' in html and "Add a mapping" not in html
    assert FieldMapping.objects.filter(
        integration=connected, object="deals", hubspot_property="dealstage"
    ).exists()


def test_the_synced_pipelines_are_listed(admin_client, connected):
    admin_client.get("/deals/")
    deal_pipelines_stored(
        connected,
        {
            "012000000000001AAA": {"Prospecting": "10000011", "Closed Won": "10000012"},
            "012000000000002AAA": {"Prospecting": "10000021"},
        },
        record_type_names={"012000000000001AAA": "New Business"},
    )
    html = admin_client.get("/deals/").content.decode()
    assert 'id="pipeline-list"' in html and 'id="no-pipelines"' not in html
    assert "Salesforce – 012000000000001AAA" in html
    record_type = 'data-label="Salesforce opportunity record type" class="cell--wide">'
    assert f"{record_type}New Business <code>012000000000001AAA</code></td>" in html
    assert f"{record_type}<code>012000000000002AAA</code></td>" in html  # a name not read yet
    stages = 'data-label="Number of stages">'
    assert f"{stages}2</td>" in html and f"{stages}1</td>" in html


def test_the_tab_says_deals_in_other_pipelines_do_not_sync(admin_client, connected):
    """HubSpot's own deals, in its default pipeline, never sync: the tab said only that a deal
    moved out of the listed pipelines stops syncing."""
    from html import unescape

    html = unescape(admin_client.get("/deals/").content.decode())
    assert (
        "Only deals in the pipelines listed here sync. Deals in any other HubSpot pipeline, "
        "such as HubSpot's own default pipeline, don't: move a deal into a listed pipeline and "
        "the next sync creates its Salesforce opportunity."
    ) in html
    assert "A deal moved out of the listed pipelines stops syncing." in html


def test_a_pipeline_hubspot_refused_is_listed_with_its_reason(admin_client, connected):
    """The Sales Hub tier caps deal pipelines: the record type left without one is on the tab,
    with HubSpot's words (escaped), not silently missing."""
    admin_client.get("/deals/")
    deal_pipelines_stored(
        connected,
        {"012000000000001AAA": {"Prospecting": "1"}},
        refused={"012000000000002AAA": "You have reached the limit of <b>2</b> pipelines."},
        record_type_names={"012000000000002AAA": "Renewal"},
    )
    html = admin_client.get("/deals/").content.decode()
    assert "Salesforce – 012000000000001AAA" in html
    assert "Not created" in html
    assert (
        "HubSpot refused this pipeline: You have reached the limit of &lt;b&gt;2&lt;/b&gt;" in html
    )
    record_type = 'data-label="Salesforce opportunity record type" class="cell--wide">'
    assert f"{record_type}Renewal <code>012000000000002AAA</code></td>" in html


def test_turning_sync_on_is_audited_and_unlocks_the_mappings(admin_client, connected):
    admin_client.get("/deals/")
    name = FieldMapping.objects.get(
        integration=connected, object="deals", hubspot_property="dealname"
    )
    response = admin_client.post(f"/mappings/{name.pk}/rule/", {"rule": "two_way"}, **HTMX)
    name.refresh_from_db()
    assert name.rule == "prefer_salesforce_unless_blank"
    assert "Turn Deals sync on" in response.content.decode()

    response = admin_client.post("/deals/", {"enabled": "on", "salesforce_delete": "delete"})
    assert response.status_code == 200 and row(connected).enabled is True
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert event.details["object"] == "deals"
    assert event.details["changes"]["enabled"] == {"from": False, "to": True}
    html = admin_client.get("/deals/").content.decode()
    assert 'id="mappings-locked"' not in html and "Add a mapping" in html
    admin_client.post(f"/mappings/{name.pk}/rule/", {"rule": "two_way"}, **HTMX)
    name.refresh_from_db()
    assert name.rule == "two_way"


def test_saving_the_delete_setting_shows_what_changed(admin_client, connected):
    admin_client.get("/deals/")
    response = admin_client.post(
        "/deals/", {"enabled": "on", "salesforce_delete": "nothing"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "When a Salesforce opportunity is deleted" in html and "Sync deals" in html
    assert row(connected).options["salesforce_delete"] == "nothing"
    event = AuditEvent.objects.filter(action="settings.updated").latest("pk")
    assert event.details["changes"]["salesforce_delete"] == {"from": "delete", "to": "nothing"}


def test_a_bad_choice_is_refused(admin_client, connected):
    admin_client.get("/deals/")
    response = admin_client.post("/deals/", {"enabled": "on", "salesforce_delete": "explode"})
    assert response.status_code == 400
    assert row(connected).enabled is False


def test_viewer_sees_but_cannot_change_anything(viewer_client, connected):
    html = viewer_client.get("/deals/").content.decode()
    assert '<fieldset class="settings__body" disabled>' in html
    assert "Add a mapping" not in html
    response = viewer_client.post("/deals/", {"enabled": "on", "salesforce_delete": "nothing"})
    assert response.status_code == 403
    assert row(connected).enabled is False
    assert not AuditEvent.objects.filter(action="settings.updated").exists()


def test_the_tab_costs_a_fixed_number_of_queries(
    admin_client, connected, django_assert_max_num_queries
):
    admin_client.get("/deals/")
    with django_assert_max_num_queries(25):
        admin_client.get("/deals/")


def test_a_stale_tab_does_not_switch_sync_back_off(admin_client, connected, page_form):
    tab_a = page_form(admin_client.get("/deals/").content, "deal-settings")
    tab_b = dict(tab_a)
    admin_client.post("/deals/", {**tab_a, "enabled": "on"})
    assert row(connected).enabled is True
    # Tab B's page still shows deal sync off; it only changes the delete setting.
    assert tab_b["initial-salesforce_delete"] == "delete"
    response = admin_client.post("/deals/", {**tab_b, "salesforce_delete": "nothing"}, **HTMX)
    assert row(connected).enabled is True
    assert row(connected).options["salesforce_delete"] == "nothing"
    assert_only_change(response, "When a Salesforce opportunity is deleted", "salesforce_delete")


def test_a_deal_moved_out_of_the_synced_pipelines_shows_as_not_syncing(
    admin_client, live, emulators
):
    """Spec §10: a deal moved into a pipeline that doesn't sync stops syncing. Its record page
    says so (and why), instead of "Syncing"."""
    from django.core.cache import cache
    from hubspot.crm.deals import SimplePublicObjectInput

    from emulators.testing import hubspot_client, salesforce_client
    from sync_engine.models import RecordLink
    from sync_engine.services import object_settings_update
    from sync_engine.sync.cycle import sync_cycle_run

    object_settings_update(integration=live, object_name="deals", changes={}, enabled=True)
    sf = salesforce_client(emulators, token="support-agent-token")
    account = sf.Account.create({"Name": "Moved Corp"})["id"]
    sf.Opportunity.create({"Name": "Moved", "StageName": "Prospecting",
                           "CloseDate": "2027-01-31", "AccountId": account})  # fmt: skip
    assert sync_cycle_run(integration=live, object_name="deals").status == "succeeded"
    deal = RecordLink.objects.get(object="deals").hubspot_id
    page = f"/records/deals/hubspot:{deal}/"
    assert "Syncing" in admin_client.get(page).content.decode()

    deals = hubspot_client(emulators, strict=False).crm.deals.basic_api
    moved = {"pipeline": "default", "dealstage": "appointmentscheduled"}
    deals.update(deal, SimplePublicObjectInput(properties=moved))
    cache.clear()  # the page's read of the deal is kept five minutes
    html = admin_client.get(page).content.decode()
    assert 'data-status="opted-out">Not syncing</span>' in html
    assert "The deal is in the HubSpot pipeline “Sales Pipeline”, which doesn" in html
    assert "None: the record syncs." not in html


def test_a_deal_in_a_retired_pipeline_still_shows_as_syncing(admin_client, live, emulators):
    """Once the org has record types, the default pipeline retires: its deals still sync (and
    move to their record type's pipeline), so their record page doesn't say "Not syncing"."""
    from django.core.cache import cache

    from emulators.testing import salesforce_client
    from sync_engine.models import RecordLink
    from sync_engine.services import object_settings_update
    from sync_engine.sync.cycle import sync_cycle_run

    object_settings_update(integration=live, object_name="deals", changes={}, enabled=True)
    sf = salesforce_client(emulators, token="support-agent-token")
    account = sf.Account.create({"Name": "Retired Corp"})["id"]
    sf.Opportunity.create({"Name": "Old pipeline", "StageName": "Prospecting",
                           "CloseDate": "2027-01-31", "AccountId": account})  # fmt: skip
    assert sync_cycle_run(integration=live, object_name="deals").status == "succeeded"
    deal = RecordLink.objects.get(object="deals").hubspot_id
    state = SchemaCache.objects.get(integration=live, object="deals:pipelines")
    state.data["retired"] = state.data["pipelines"]
    state.data["pipelines"] = [
        {"key": "012000000000001AAA", "id": "999", "label": "Salesforce – New", "stages": {}}
    ]
    state.save()
    cache.clear()
    html = admin_client.get(f"/records/deals/hubspot:{deal}/").content.decode()
    assert ">Syncing</span>" in html and "Not syncing" not in html


def test_a_multi_currency_org_shows_the_currency_mapping(admin_client, live, emulators):
    """The tab's first read of the schemas finds a multi-currency org: the opportunity's
    currency is listed with the default mappings, mapped to the deal's."""
    from sync_engine.services import object_settings_update

    emulators.salesforce.app.run_action("enable_multi_currency", corporate="USD",
                                        currencies=["EUR"])  # fmt: skip
    object_settings_update(integration=live, object_name="deals", changes={}, enabled=True)
    admin_client.get("/deals/")  # the first visit reads the schemas
    html = admin_client.get("/deals/").content.decode()
    mapping = FieldMapping.objects.get(integration=live, object="deals",
                                       hubspot_property="deal_currency_code")  # fmt: skip
    assert mapping.salesforce_field == "CurrencyIsoCode" and mapping.is_default
    assert "Opportunity Currency" in html and "deal_currency_code" in html
    row_html = mapping_row(html, mapping)
    assert "Prefer Salesforce unless blank" in row_html and ">OK<" in row_html
    # (The rule chosen, not only offered; the row locked as a default mapping.)
    assert 'value="prefer_salesforce_unless_blank" selected>' in row_html
    assert "CurrencyIsoCode" in row_html and "Default" in row_html
