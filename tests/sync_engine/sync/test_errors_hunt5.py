"""Unique-value clashes on the card that explains them, and the errors of records made in
HubSpot named on Sync health (spec §4), produced by their real causes in the emulators."""

from __future__ import annotations

from hubspot.crm.properties import PropertyCreate

from integration_admin.labels import error_text
from sync_engine.error_types import ERROR_TYPES
from sync_engine.models import FieldMapping, SchemaCache, SyncError

from .helpers import new_lead
from .test_custom_objects import Projects, coded_projects, set_up


def current_errors(**filters):
    return SyncError.objects.filter(resolved_at__isnull=True, **filters)


def test_a_salesforce_unique_field_clash_is_explained_as_a_value_in_use(
    integration, emulators, hs_person, sf_person
):
    """A HubSpot edit gives a project the code (mapped to the unique ``External_Id__c``)
    another Salesforce project holds: Salesforce refuses DUPLICATE_VALUE, and the card says
    the value is taken, not that it doesn't fit its field."""
    pairing = coded_projects(integration, emulators, hs_person)
    first = sf_person.Project__c.create({"Name": "Apollo", "External_Id__c": "P-1"})["id"]
    second = sf_person.Project__c.create({"Name": "Gemini", "External_Id__c": "P-2"})["id"]
    pairing()
    record = pairing.link(salesforce_id=second).hubspot_id
    pairing.update(record, project_code="P-1")
    pairing()
    (error,) = current_errors(object=pairing.name)
    assert (error.error_type, error.code) == ("value_in_use", "DUPLICATE_VALUE")
    assert first in error.message and error.record_label == "Gemini"
    kind = ERROR_TYPES[error.error_type]
    assert kind.category == "Duplicates" and "unique" in kind.explanation
    assert "Salesforce" in kind.explanation and "HubSpot" in kind.explanation
    shown = error_text(error.error_type)
    assert shown.title == "Value already in use" and "Salesforce unique" in shown.explanation
    assert sf_person.Project__c.get(second)["External_Id__c"] == "P-2"


def test_a_salesforce_duplicate_rule_keeps_its_own_card():
    assert ERROR_TYPES["salesforce_duplicate_rule"].title == "Salesforce duplicate rule"
    from sync_engine.error_types import classify

    kind = classify(system="salesforce", status=400, code="DUPLICATES_DETECTED", message="")
    assert kind.key == "salesforce_duplicate_rule"


def test_a_contact_unique_property_clash_is_not_an_email_error(
    cycle, integration, sf_person, hs_person
):
    """Two Salesforce leads with the same value of a field mapped to a HubSpot contact
    property with unique values: HubSpot refuses the second contact (409 CONFLICT, "Contact
    already exists"), naming that property, not the email."""
    hs_person.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(name="customer_no", label="Customer number", type="string",
                       field_type="text", group_name="contactinformation",
                       has_unique_value=True),
    )  # fmt: skip
    # Title (mapped to jobtitle by default) fills the unique property instead.
    FieldMapping.objects.filter(integration=integration, salesforce_field="Title").delete()
    FieldMapping.objects.create(integration=integration, object="contacts",
                                hubspot_property="customer_no", salesforce_field="Title",
                                rule="always_use_salesforce", hubspot_type="string",
                                hubspot_field_type="text", salesforce_type="string")  # fmt: skip
    SchemaCache.objects.filter(object="contacts").delete()
    new_lead(sf_person, LastName="First", Email="first@example.com", Title="CN-1")
    second = new_lead(sf_person, LastName="Second", Email="second@example.com", Title="CN-1")
    run = cycle()
    assert run.counts["created_in_hubspot"] == 1  # the other contact isn't blocked
    (error,) = current_errors(object="contacts")
    assert error.salesforce_id == second
    assert (error.error_type, error.code) == ("value_in_use", "CONFLICT")
    assert "Contact already exists" in error.message
    assert error_text(error.error_type).title == "Value already in use"


def test_a_contact_email_clash_stays_an_email_error(cycle, sf_person, hs_person):
    """A Salesforce lead's email changed to the email of another synced HubSpot contact:
    *Email already in use*, as before."""
    new_lead(sf_person, LastName="First", Email="first@example.com")
    second = new_lead(sf_person, LastName="Second", Email="second@example.com")
    cycle()
    sf_person.Lead.update(second, {"Email": "first@example.com"})
    cycle()
    (error,) = current_errors(object="contacts", salesforce_id=second)
    assert error.error_type == "email_in_use"


def test_the_error_of_a_record_made_in_hubspot_is_named_by_its_display_property(
    integration, emulators, hs_person, sf_person
):
    """With no property mapped to the record's Name, a project made in HubSpot that
    Salesforce refuses (a status its picklist lacks) is named on Sync health as HubSpot
    names it: by the custom object's primary display property."""
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(
        integration,
        hs_person,
        mappings={"Budget__c": "budget", "Status__c": "status"},
        salesforce_to_hubspot="nothing",
    )
    pairing = Projects(integration, emulators, hs_person, hs_type, name)
    made = pairing.create(project_name="Called off", budget="5", status="Cancelled")
    pairing()
    (error,) = current_errors(object=name)
    assert error.record_key == f"hubspot:{made}"
    assert error.error_type == "picklist" and error.record_label == "Called off"
    idle = pairing()  # the display property was read once, and kept
    assert "schemas.list" not in idle.operations, idle.operations
