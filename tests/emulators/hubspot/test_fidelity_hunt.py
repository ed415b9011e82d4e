"""Places where the emulator was kinder than HubSpot (crm-apis.md §3), found by comparing the
two. The engine sends plain dicts, which the client passes on unchecked, so only the emulator
can refuse what HubSpot refuses."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4 import ApiException as AssociationsApiException
from hubspot.crm.contacts import ApiException as ContactsApiException

from .conftest import error_of


@pytest.fixture
def pair(hs):
    contact = hs.crm.contacts.basic_api.create({"properties": {"email": "a@x.com"}}).id
    company = hs.crm.companies.basic_api.create({"properties": {"name": "Acme"}}).id
    return contact, company


def company_links(hs, contact_id) -> list:
    return hs.crm.associations.v4.basic_api.get_page("contacts", contact_id, "companies").results


# An association type is {"associationCategory", "associationTypeId"} (§3.5); both are
# required, so HubSpot refuses a type without its category instead of guessing it.
def test_v4_association_type_without_category_is_refused(hs, pair):
    contact, company = pair
    with pytest.raises(AssociationsApiException) as caught:
        hs.crm.associations.v4.basic_api.create(
            "contacts", contact, "companies", company, [{"associationTypeId": 279}]
        )
    assert caught.value.status == 400
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"
    assert company_links(hs, contact) == []


def test_v4_batch_association_type_without_category_fails(hs, pair):
    contact, company = pair
    result = hs.crm.associations.v4.batch_api.create(
        "contacts",
        "companies",
        {
            "inputs": [
                {
                    "from": {"id": contact},
                    "to": {"id": company},
                    "types": [{"associationTypeId": 1}],
                }
            ]
        },
    )
    assert getattr(result, "num_errors", 0) == 1 and result.results == []  # 207
    assert result.errors[0].category == "VALIDATION_ERROR"
    assert company_links(hs, contact) == []


def contacts_with_email(hs, email: str) -> int:
    equals = {"propertyName": "email", "operator": "EQ", "value": email}
    return hs.crm.contacts.search_api.do_search({"filterGroups": [{"filters": [equals]}]}).total


def test_inline_association_without_category_is_refused(hs, pair):
    _contact, company = pair
    with pytest.raises(ContactsApiException) as caught:
        hs.crm.contacts.basic_api.create(
            {
                "properties": {"email": "b@x.com"},
                "associations": [{"to": {"id": company}, "types": [{"associationTypeId": 1}]}],
            }
        )
    assert caught.value.status == 400
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"
    assert contacts_with_email(hs, "b@x.com") == 0  # nothing was created


def test_inline_association_without_types_is_refused(hs, pair):
    """An association with no ``types`` links nothing: HubSpot refuses it rather than create
    the record without the link the caller asked for."""
    _contact, company = pair
    with pytest.raises(ContactsApiException) as caught:
        hs.crm.contacts.basic_api.create(
            {"properties": {"email": "c@x.com"}, "associations": [{"to": {"id": company}}]}
        )
    assert caught.value.status == 400
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"
    assert contacts_with_email(hs, "c@x.com") == 0  # not made without its link
