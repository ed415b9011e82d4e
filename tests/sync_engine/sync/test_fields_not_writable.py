"""A two-way field the integration user may no longer edit in Salesforce: once the admin's
Refresh properties and fields has read that, the HubSpot edits of it are a *Field permission*
error on their record, as Salesforce's own refusal was before the refresh, instead of
vanishing; the record's other edits still go, and the retry carries the edit once the field is
editable again (and read so)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_engine.models import FieldMapping, SyncError
from sync_engine.services import schema_refresh

from .helpers import hs_create, hs_update, new_lead
from .test_deals import deal_from_hubspot, hs_deal_update, new_opportunity

PAIR_OF = {"Lead": "contacts", "Opportunity": "deals"}


def field_access(emulators, sf_connection, sobject: str, field: str, access: str) -> None:
    """Field-level security changed in Salesforce, and the admin's Refresh reading it."""
    emulators.salesforce.app.run_action(
        "set_field_permission",
        object=sobject,
        field=field,
        access=access,
        token=sf_connection.access_token,
    )
    schema_refresh(integration=sf_connection.integration, object_name=PAIR_OF[sobject])


def two_way(integration, object_name: str, hubspot_property: str) -> None:
    FieldMapping.objects.filter(
        integration=integration, object=object_name, hubspot_property=hubspot_property
    ).update(rule="two_way")


def retry_due() -> None:
    SyncError.objects.filter(resolved_at__isnull=True).update(
        next_retry_at=datetime.now(UTC) - timedelta(minutes=1)
    )


def test_a_contact_edit_of_a_field_refreshed_as_read_only_is_an_error(
    cycle, emulators, sf_connection, sf_person, hs_person
):
    two_way(cycle.integration, "contacts", "jobtitle")
    two_way(cycle.integration, "contacts", "city")
    lead = new_lead(sf_person, Email="refreshed@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    field_access(emulators, sf_connection, "Lead", "Title", "read")

    hs_update(hs_person, contact, jobtitle="Head of sales", city="Utrecht")
    run = cycle()
    record = sf_person.Lead.get(lead)
    assert (record["Title"], record["City"]) == (None, "Utrecht")  # the other edit went
    error = SyncError.objects.get(resolved_at__isnull=True)
    assert (error.record_key, error.error_type) == (f"hubspot:{contact}", "field_permission")
    assert error.fields == ["Title"] and "Title" in error.message
    assert "Refresh properties and fields" in error.message
    assert run.counts["failed"] == 1, run.counts

    field_access(emulators, sf_connection, "Lead", "Title", "edit")
    retry_due()
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "Head of sales"
    error.refresh_from_db()
    assert error.resolved_at is not None and error.ended_because == ""


def test_a_deal_edit_of_a_field_refreshed_as_read_only_is_an_error(
    deals, emulators, sf_connection, sf_person, hs_person
):
    two_way(deals.integration, "deals", "description")
    two_way(deals.integration, "deals", "dealname")
    opportunity = new_opportunity(sf_person, Name="Renewal", Description="As sold")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    field_access(emulators, sf_connection, "Opportunity", "Description", "read")

    hs_deal_update(hs_person, deal, description="Edited in HubSpot", dealname="Renewal 2027")
    run = deals()
    record = sf_person.Opportunity.get(opportunity)
    assert (record["Description"], record["Name"]) == ("As sold", "Renewal 2027")
    error = SyncError.objects.get(resolved_at__isnull=True)
    assert (error.record_key, error.error_type) == (f"hubspot:{deal}", "field_permission")
    assert error.fields == ["Description"], error.message
    assert run.counts["failed"] == 1, run.counts
    # The next cycles keep it open: the deal still holds the edit.
    deals()
    assert SyncError.objects.filter(pk=error.pk, resolved_at__isnull=True).exists()


def test_a_held_edit_keeps_only_its_own_error_open(
    cycle, emulators, sf_connection, sf_person, hs_person
):
    """The contact still holds a Title edit Salesforce won't take; a City a validation rule
    refused is then fixed and lands: that error ends, the Title's stays."""
    two_way(cycle.integration, "contacts", "jobtitle")
    two_way(cycle.integration, "contacts", "city")
    emulators.salesforce.app.run_action(
        "add_validation_rule", object="Lead", field="City", operator="equals",
        value="Nowhere", message="Nowhere is no city", rule_name="Real_cities",
    )  # fmt: skip
    lead = new_lead(sf_person, Email="held@example.com")
    cycle()
    contact = cycle.link(salesforce_id=lead).hubspot_id
    field_access(emulators, sf_connection, "Lead", "Title", "read")

    hs_update(hs_person, contact, jobtitle="Head of sales", city="Nowhere")
    cycle()
    open_errors = SyncError.objects.filter(resolved_at__isnull=True)
    assert set(open_errors.values_list("error_type", flat=True)) == {
        "field_permission",
        "salesforce_custom_code",
    }
    hs_update(hs_person, contact, city="Utrecht")
    cycle()
    assert sf_person.Lead.get(lead)["City"] == "Utrecht"
    assert list(open_errors.values_list("error_type", flat=True)) == ["field_permission"]


def test_a_lead_made_from_hubspot_without_a_value_it_may_not_set_says_so(
    cycle, emulators, sf_connection, sf_person, hs_person
):
    """A new HubSpot contact becomes a lead, but its job title can't be set by the
    integration user: the lead is made without it and the contact has a *Field permission*
    error, instead of the title never reaching Salesforce without a word."""
    two_way(cycle.integration, "contacts", "jobtitle")
    cycle()
    field_access(emulators, sf_connection, "Lead", "Title", "read")
    contact = hs_create(
        hs_person, email="new@example.com", lastname="New", company="X", jobtitle="CTO"
    )
    cycle()
    lead = cycle.link(hubspot_id=contact).salesforce_id
    assert sf_person.Lead.get(lead)["Title"] is None
    error = SyncError.objects.get(resolved_at__isnull=True)
    assert (error.record_key, error.error_type) == (f"hubspot:{contact}", "field_permission")
    assert error.fields == ["Title"]

    field_access(emulators, sf_connection, "Lead", "Title", "edit")
    retry_due()
    cycle()
    assert sf_person.Lead.get(lead)["Title"] == "CTO"
    error.refresh_from_db()
    assert error.resolved_at is not None


def test_an_opportunity_made_from_hubspot_without_a_value_it_may_not_set_says_so(
    deals, emulators, sf_connection, sf_person, hs_person
):
    two_way(deals.integration, "deals", "description")
    deals()  # the pipelines exist
    field_access(emulators, sf_connection, "Opportunity", "Description", "read")
    deal, opportunity = deal_from_hubspot(
        deals, hs_person, dealname="New deal", closedate="2026-12-01", description="Hot lead"
    )
    assert sf_person.Opportunity.get(opportunity)["Description"] is None
    error = SyncError.objects.get(resolved_at__isnull=True)
    assert (error.record_key, error.error_type) == (f"hubspot:{deal}", "field_permission")
    assert error.fields == ["Description"]
