"""Property validation errors and the unique-email conflict, as HubSpot words them."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.contacts import ApiException, SimplePublicObjectInput
from hubspot.crm.contacts import SimplePublicObjectInputForCreate as Create
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.objects.calls import ApiException as CallsApiException
from hubspot.crm.properties import PropertyCreate
from hubspot.crm.tickets import ApiException as TicketsApiException

from .conftest import error_of, validation_results


def rejected(hs, api="contacts", exc=ApiException, **props) -> list[dict]:
    with pytest.raises(exc) as caught:
        getattr(hs.crm, api).basic_api.create({"properties": props})
    assert caught.value.status == 400
    body = error_of(caught.value)
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"]
    return validation_results(caught.value)


def test_invalid_email_message_shape(hs):
    [result] = rejected(hs, email="x@@y.com")
    assert result["isValid"] is False
    assert result["error"] == "INVALID_EMAIL" and result["name"] == "email"
    assert result["message"] == "Email address x@@y.com is invalid"


def test_error_body_lists_codes_per_property(hs):
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.create(
            Create(properties={"email": "nope", "lifecyclestage": "x"})
        )
    body = error_of(caught.value)
    codes = {e["code"]: e["context"]["propertyName"] for e in body["errors"]}
    assert codes == {"INVALID_EMAIL": ["email"], "INVALID_OPTION": ["lifecyclestage"]}


def test_enumeration_option(hs):
    [result] = rejected(hs, email="a@x.com", lifecyclestage="Lead")
    assert result["error"] == "INVALID_OPTION" and result["name"] == "lifecyclestage"
    assert "was not one of the allowed options" in result["message"]


def test_number_property(hs):
    [result] = rejected(hs, "deals", DealsApiException, dealname="D", amount="12,5")
    assert result == {
        **result,
        "error": "INVALID_INTEGER",
        "name": "amount",
        "message": "12,5 was not a valid number.",
    }
    [spaced] = rejected(hs, "deals", DealsApiException, dealname="D", amount=" 12")
    assert spaced["error"] == "INVALID_INTEGER"


def test_datetime_property(hs):
    [result] = rejected(hs, "deals", DealsApiException, dealname="D", closedate="next week")
    assert result["error"] == "INVALID_LONG" and result["name"] == "closedate"


def test_date_property_must_be_midnight_utc(hs):
    hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="contract_start",
            label="Contract start",
            type="date",
            field_type="date",
            group_name="contactinformation",
        ),
    )
    [result] = rejected(hs, email="a@x.com", contract_start="1767607200000")  # 10:00 UTC
    assert result["error"] == "INVALID_DATE"
    assert "not midnight" in result["message"]
    ok = hs.crm.contacts.basic_api.create(
        Create(properties={"email": "b@x.com", "contract_start": "1767571200000"})
    )  # 2026-01-05 00:00 UTC
    assert ok.properties["contract_start"] == "2026-01-05"


def test_unknown_and_read_only_properties(hs):
    results = rejected(
        hs, email="a@x.com", favourite_colour="red", createdate="1767571200000", hs_object_id="5"
    )
    by_name = {r["name"]: r["error"] for r in results}
    assert by_name == {
        "favourite_colour": "PROPERTY_DOESNT_EXIST",
        "createdate": "READ_ONLY_VALUE",
        "hs_object_id": "READ_ONLY_VALUE",
    }
    [calculated] = rejected(hs, email="b@x.com", hubspotscore="10")
    assert calculated["error"] == "READ_ONLY_VALUE"


def test_owner_must_exist_and_be_active(hs, app):
    owner = app.run_action("create_owner", email="o@example.com", first_name="O", last_name="W")
    ok = hs.crm.contacts.basic_api.create(
        Create(properties={"email": "a@x.com", "hubspot_owner_id": owner["id"]})
    )
    assert ok.properties["hubspot_owner_id"] == owner["id"]
    app.run_action("archive_owner", owner_id=owner["id"])
    [result] = rejected(hs, email="b@x.com", hubspot_owner_id=owner["id"])
    assert result["error"] == "INVALID_OWNER_ID"


def test_deal_stage_must_belong_to_pipeline(hs):
    [result] = rejected(hs, "deals", DealsApiException, dealname="D", dealstage="won")
    assert result["name"] == "dealstage" and result["error"] == "INVALID_OPTION"
    [pipeline] = rejected(
        hs, "deals", DealsApiException, dealname="D", pipeline="nope", dealstage="closedwon"
    )
    assert pipeline["name"] == "pipeline"


def test_tickets_need_a_stage_of_their_pipeline(hs):
    [missing] = rejected(hs, "tickets", TicketsApiException, subject="Broken")
    assert missing["name"] == "hs_pipeline_stage"
    ticket = hs.crm.tickets.basic_api.create(
        {"properties": {"subject": "Broken", "hs_pipeline_stage": "1"}}
    )
    assert ticket.properties["hs_pipeline"] == "0"
    [bad] = rejected(hs, "tickets", TicketsApiException, subject="X", hs_pipeline_stage="9")
    assert bad["error"] == "INVALID_OPTION"


def test_engagements_require_hs_timestamp(hs):
    # Each sub-package raises its own, unrelated ApiException class.
    with pytest.raises(CallsApiException) as caught:
        hs.crm.objects.calls.basic_api.create({"properties": {"hs_call_body": "hi"}})
    assert not isinstance(caught.value, ObjectsApiException)
    [result] = validation_results(caught.value)
    assert result["name"] == "hs_timestamp" and result["error"] == "REQUIRED_PROPERTY"


def test_bool_property(hs):
    [result] = rejected(hs, "companies", CompaniesApiException, name="Acme", is_public="maybe")
    assert result["error"] == "INVALID_BOOLEAN"
    company = hs.crm.companies.basic_api.create({"properties": {"name": "A", "is_public": "TRUE"}})
    assert company.properties["is_public"] == "true"


def test_duplicate_email_is_409_conflict(hs):
    first = hs.crm.contacts.basic_api.create(Create(properties={"email": "Same@x.com"}))
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.create(Create(properties={"email": "same@X.com"}))
    assert caught.value.status == 409
    body = error_of(caught.value)
    assert body["category"] == "CONFLICT" and body["status"] == "error"
    assert body["message"] == f"Contact already exists. Existing ID: {first.id}"
    other = hs.crm.contacts.basic_api.create(Create(properties={"email": "other@x.com"}))
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.update(
            other.id, SimplePublicObjectInput(properties={"email": "SAME@x.com"})
        )
    assert caught.value.status == 409


def test_company_domain_is_not_unique(hs):
    a = hs.crm.companies.basic_api.create({"properties": {"name": "A", "domain": "a.example"}})
    b = hs.crm.companies.basic_api.create({"properties": {"name": "B", "domain": "a.example"}})
    assert a.id != b.id
