"""Remote failures land on the card whose explanation and fix are true for them (spec §4):
produced by their real causes in the emulators, one bad record never blocking its batch."""

from __future__ import annotations

from hubspot.crm.properties import PropertyCreate

from sync_engine.error_types import ERROR_TYPES, classify
from sync_engine.models import FieldMapping, SchemaCache, SyncError
from sync_engine.services import schema_refresh

from .helpers import hs_create, hs_update, new_lead
from .test_tickets import PIPELINE_CREATE


def current_errors(**filters):
    return SyncError.objects.filter(resolved_at__isnull=True, **filters)


def test_an_assignment_rule_giving_leads_to_a_deactivated_user_is_an_owner_error(
    cycle, emulators, sf_person, hs_person
):
    salesforce = emulators.salesforce.app
    leaver = salesforce.run_action(
        "create_user", first_name="Lee", last_name="Leaver", email="leaver@example.com"
    )
    salesforce.run_action("edit", id=leaver, object="User", fields={"IsActive": False})
    salesforce.run_action("set_assignment_rule", object="Lead", owner_id=leaver)
    contact = hs_create(hs_person, email="new@example.com", lastname="New", company="X")
    run = cycle()
    (error,) = current_errors(record_key=f"hubspot:{contact}")
    assert (error.error_type, error.code) == ("inactive_owner", "INACTIVE_OWNER_OR_USER")
    assert leaver in error.message  # the raw message, kept
    kind = ERROR_TYPES[error.error_type]
    assert kind.category == "Owner" and "deactivated" in kind.explanation
    assert "assignment rule" in kind.fix
    assert run.counts["failed"] == 1

    salesforce.run_action("edit", id=leaver, object="User", fields={"IsActive": True})
    current_errors().update(next_retry_at=error.first_seen_at)
    cycle()
    assert not current_errors().exists()
    lead = cycle.link(hubspot_id=contact).salesforce_id
    assert sf_person.Lead.get(lead)["OwnerId"] == leaver


def test_a_record_locked_by_an_approval_process_has_its_own_card(
    cycle, emulators, sf_person, hs_person
):
    locked = new_lead(sf_person, Email="locked@example.com")
    cycle()
    # Salesforce answers the update as it does for a record in an approval process.
    emulators.salesforce.app.faults.add(
        path="composite/sobjects", method="PATCH", status=200, times=1,
        body=[
            {"id": locked, "success": False, "errors": [{"statusCode": "ENTITY_IS_LOCKED",
             "message": "the entity is locked for editing", "fields": []}]},
        ],
    )  # fmt: skip
    contact = cycle.link(salesforce_id=locked).hubspot_id
    hs_update(hs_person, contact, jobtitle="Approver")
    cycle()
    (error,) = current_errors()
    assert (error.error_type, error.record_key) == ("record_locked", f"hubspot:{contact}")
    assert error.message == "the entity is locked for editing"
    kind = ERROR_TYPES[error.error_type]
    assert kind.category == "Permissions" and "approval" in kind.explanation
    assert not kind.transient  # an approval can take days: not a blip to retry quietly


def test_a_company_unique_property_clash_is_not_an_email_error(
    companies,
    integration,
    sf_person,
    hs_person,
):
    hs_person.crm.properties.core_api.create(
        "companies",
        PropertyCreate(name="account_no", label="Account number", type="string",
                       field_type="text", group_name="companyinformation",
                       has_unique_value=True),
    )  # fmt: skip
    FieldMapping.objects.create(integration=integration, object="companies",
                                hubspot_property="account_no", salesforce_field="AccountNumber",
                                rule="always_use_salesforce", hubspot_type="string",
                                hubspot_field_type="text", salesforce_type="string")  # fmt: skip
    SchemaCache.objects.filter(object="companies").delete()
    first = sf_person.Account.create({"Name": "First", "AccountNumber": "A-1"})["id"]
    second = sf_person.Account.create({"Name": "Second", "AccountNumber": "A-1"})["id"]
    run = companies()
    assert run.counts["created_in_hubspot"] == 1  # the other company isn't blocked
    (error,) = current_errors(object="companies")
    assert error.salesforce_id in (first, second)
    assert (error.error_type, error.code) == ("value_in_use", "CONFLICT")
    assert "Company already exists" in error.message
    kind = ERROR_TYPES[error.error_type]
    assert kind.category == "Duplicates" and "email" not in kind.explanation.lower()


def test_a_missing_hubspot_scope_is_not_explained_as_a_salesforce_object_permission(
    tickets,
    sf_person,
    emulators,
):
    sf_person.Case.create({"Subject": "Master", "Status": "New"})
    tickets()
    emulators.hubspot.app.faults.add(
        path=PIPELINE_CREATE, method="POST", error_code="MISSING_SCOPES"
    )
    emulators.salesforce.app.run_action("add_record_type", object="Case", label="Hardware")
    schema_refresh(integration=tickets.integration, object_name="tickets")
    case = sf_person.Case.create({"Subject": "Disk", "Status": "New"})["id"]
    tickets()
    (error,) = current_errors(object="tickets")
    assert (error.salesforce_id, error.error_type) == (case, "hubspot_scope")
    assert "required scopes" in error.message
    kind = ERROR_TYPES[error.error_type]
    assert "Salesforce" not in kind.explanation + kind.fix and "scope" in kind.fix.lower()


def test_a_contact_email_clash_stays_email_in_use_and_no_message_is_safe():
    conflict = classify(
        system="hubspot",
        status=409,
        code="CONFLICT",
        message="Contact already exists. Existing ID: 5",
    )
    assert conflict.key == "email_in_use"
    # Activities pass Salesforce's message as it came, which may be missing.
    state = classify(
        system="salesforce", status=400, code="FIELD_INTEGRITY_EXCEPTION", message=None
    )
    assert state.key == "property_value"


def test_the_pages_show_a_validation_rule_s_own_words_escaped_with_its_card(
    cycle, emulators, hs_person, client, django_user_model
):
    """A Salesforce admin's rule text is shown as they wrote it, as text, never as markup."""
    emulators.salesforce.app.run_action(
        "add_validation_rule", object="Lead", field="Title", operator="equals", value="Intern",
        message='<img src=x onerror="alert(1)"> Interns & trainees can\'t be leads',
    )  # fmt: skip
    contact = hs_create(
        hs_person, email="intern@example.com", lastname="I", company="X", jobtitle="Intern"
    )
    cycle()
    client.force_login(django_user_model.objects.create_user("reader", password="x-pass-123"))
    panel = client.get("/sync-health/errors/salesforce_custom_code/").content.decode()
    record = client.get(f"/records/contacts/hubspot:{contact}/").content.decode()
    for html in (panel, record):
        assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in html
        assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; Interns &amp; trainees" in html
        assert "<img src=x" not in html
    assert "An Apex trigger, flow, process or validation rule in Salesforce rejected" in panel
