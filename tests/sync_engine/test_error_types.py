"""Every raw failure lands in one typed category with an explanation and a fix (spec §4)."""

import pytest

from sync_engine.error_types import ERROR_TYPES, classify


@pytest.mark.parametrize(
    ("system", "status", "code", "message", "key"),
    [
        (
            "salesforce",
            400,
            "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "Title is required",
            "salesforce_custom_code",
        ),
        (
            "salesforce",
            400,
            "DUPLICATES_DETECTED",
            "Use one of these records?",
            "salesforce_duplicate_rule",
        ),
        (
            "salesforce",
            400,
            "CANNOT_EXECUTE_FLOW_TRIGGER",
            "We can't save this record because the 'Lead routing' process failed.",
            "salesforce_custom_code",
        ),
        (
            "salesforce",
            400,
            "DUPLICATE_VALUE",
            "duplicate value found: Invoice_Key__c duplicates value on record with id: a01",
            "value_in_use",
        ),
        (
            "salesforce",
            400,
            "FIELD_FILTER_VALIDATION_EXCEPTION",
            "Value does not exist or does not match filter criteria.",
            "insufficient_access",
        ),
        (
            "salesforce",
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "Unable to create/update fields: Title",
            "field_permission",
        ),
        (
            "salesforce",
            400,
            "INSUFFICIENT_ACCESS_OR_READONLY",
            "insufficient access rights",
            "insufficient_access",
        ),
        (
            "salesforce",
            403,
            "INSUFFICIENT_ACCESS_OR_READONLY",
            "insufficient access rights",
            "object_permission",
        ),
        (
            "salesforce",
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Lead Source: bad value",
            "picklist",
        ),
        (
            "salesforce",
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            "There's a problem with this state",
            "picklist",
        ),
        (
            "salesforce",
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            "field integrity exception: unknown",
            "property_value",
        ),
        (
            "salesforce",
            400,
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: a@@b",
            "property_value",
        ),
        ("salesforce", 400, "STRING_TOO_LONG", "Title: data value too large", "property_value"),
        (
            "salesforce",
            400,
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [LastName]",
            "property_value",
        ),
        ("salesforce", 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", "api_limit"),
        (
            "salesforce",
            400,
            "CANNOT_UPDATE_CONVERTED_LEAD",
            "cannot reference converted lead",
            "converted_lead",
        ),
        ("salesforce", 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access", "transient"),
        ("salesforce", 503, None, "<html>down</html>", "transient"),
        ("salesforce", 400, "SOMETHING_NEW", "?", "other"),
        ("hubspot", 409, "CONFLICT", "Contact already exists. Existing ID: 5", "email_in_use"),
        (
            "hubspot",
            400,
            "VALIDATION_ERROR",
            '[{"error":"INVALID_EMAIL","name":"email"}]',
            "property_value",
        ),
        (
            "hubspot",
            400,
            "VALIDATION_ERROR",
            '[{"error":"INVALID_OPTION","name":"industry"}]',
            "picklist",
        ),
        (
            "hubspot",
            429,
            "RATE_LIMIT",
            "You have reached your ten_secondly_rolling limit.",
            "transient",
        ),
        (
            "hubspot",
            400,
            "VALIDATION_ERROR",
            '[{"error":"PROPERTY_DOESNT_EXIST","name":"sf_notes"}]',
            "missing_property",
        ),
        ("salesforce", 400, "INVALID_FIELD", "No such column 'Notes__c'", "missing_property"),
        ("hubspot", 401, "EXPIRED_AUTHENTICATION", "expired", "authentication"),
        ("hubspot", 0, None, "connection reset", "transient"),
    ],
)
def test_classify(system, status, code, message, key):
    assert classify(system=system, status=status, code=code, message=message).key == key


def test_every_type_explains_itself_and_says_how_to_fix_it():
    for error_type in ERROR_TYPES.values():
        assert error_type.title and error_type.explanation.endswith(".")
        assert error_type.fix.endswith(".")
