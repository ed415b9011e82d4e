"""Value normalisation between both CRMs and the mapping compatibility matrix (spec §8.1)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync_engine.sync.values import (
    ValueConversionError,
    default_mappings,
    domain_of,
    is_compatible,
    normalize,
    to_salesforce,
)


@pytest.mark.parametrize(
    ("value", "sf_type", "expected"),
    [
        (5.0, "double", "5"),
        ("5.0", "double", "5"),
        ("12.50", "currency", "12.5"),
        (True, "boolean", "true"),
        ("false", "boolean", "false"),
        (None, "string", ""),
        ("2024-03-01", "date", "2024-03-01"),
        ("1709251200000", "date", "2024-03-01"),
        ("2024-01-01T12:34:56.000+0000", "datetime", "2024-01-01T12:34:56.000Z"),
        ("2024-01-01T13:34:56.5+01:00", "datetime", "2024-01-01T12:34:56.500Z"),
        ("a;b", "multipicklist", "a;b"),
    ],
)
def test_normalize(value, sf_type, expected):
    assert normalize(value, sf_type) == expected


def test_invalid_values_raise_a_typed_error():
    with pytest.raises(ValueConversionError):
        normalize("twelve", "double")
    with pytest.raises(ValueConversionError):
        normalize("next tuesday", "date")


def test_to_salesforce_types():
    assert to_salesforce("5", "int") == 5
    # A decimal for a whole-number field rounds (12.9 employees are 13), never truncates.
    assert [to_salesforce(v, "int") for v in ("12.9", "12.5", "12.4", "-2.5")] == [13, 13, 12, -3]
    assert to_salesforce("5.25", "double") == 5.25
    assert to_salesforce("true", "boolean") is True
    assert to_salesforce("", "string") is None
    assert to_salesforce("hello", "string") == "hello"


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
    )
)
def test_numbers_round_trip_through_both_forms(number):
    hubspot_form = normalize(str(number), "double")
    assert normalize(to_salesforce(hubspot_form, "double"), "double") == hubspot_form


@pytest.mark.parametrize(
    ("hs_type", "hs_field_type", "sf_type", "ok"),
    [
        ("enumeration", "select", "picklist", True),
        ("enumeration", "checkbox", "multipicklist", True),
        ("enumeration", "select", "multipicklist", False),
        ("number", "number", "double", True),
        ("number", "number", "currency", True),
        ("string", "text", "email", True),
        ("string", "textarea", "string", False),
        ("date", "date", "datetime", True),
        ("bool", "booleancheckbox", "boolean", True),
        ("string", "text", "boolean", False),
        ("enumeration", "hubspot_user", "reference", False),
    ],
)
def test_compatibility_matrix(hs_type, hs_field_type, sf_type, ok):
    assert is_compatible(hs_type=hs_type, hs_field_type=hs_field_type, sf_type=sf_type) is ok


def test_default_contact_mappings_include_email_and_owner():
    pairs = {(m["hubspot"], m["salesforce"]) for m in default_mappings("contacts")}
    assert ("email", "Email") in pairs and ("hubspot_owner_id", "OwnerId") in pairs


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("https://www.Web.Example/about?x=1", "web.example"),
        ("http://shop.web.example:8080/", "shop.web.example"),
        ("www.web.example", "web.example"),
        ("web.example.", "web.example"),
        ("web.example", "web.example"),
        ("", ""),
        (None, ""),
    ],
)
def test_domain_of_keeps_the_host_as_hubspot_does(value, domain):
    assert domain_of(value) == domain
