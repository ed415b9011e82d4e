"""CRM v3 objects: single-record calls, list pages and paging termination."""

from __future__ import annotations

import re

import pytest
from hubspot.crm.contacts import (
    ApiException,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts import SimplePublicObject as ContactObject
from hubspot.crm.contacts.exceptions import NotFoundException
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.objects import SimplePublicObjectInputForCreate as ObjectInput

from .conftest import error_of

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def make_contact(hs, **props):
    return hs.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties=props))


def test_create_returns_typed_object_with_ms_timestamps(hs):
    contact = make_contact(hs, email="ada@example.com", firstname="Ada")
    assert isinstance(contact, ContactObject)  # a 200 instead of 201 would give None
    assert contact.id.isdigit()
    props = contact.properties
    assert props["email"] == "ada@example.com"
    assert props["hs_object_id"] == contact.id
    assert ISO_MS.match(props["createdate"]) and ISO_MS.match(props["lastmodifieddate"])
    assert props["createdate"] == props["lastmodifieddate"]
    assert contact.created_at == contact.updated_at


def test_get_returns_requested_properties_with_null_for_empty(hs):
    contact = make_contact(hs, email="b@example.com")
    got = hs.crm.contacts.basic_api.get_by_id(contact.id, properties=["email", "phone", "nope"])
    # The id and the create/modify dates always come along.
    assert set(got.properties) == {
        "email",
        "phone",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
    }
    assert got.properties["email"] == "b@example.com"
    assert "phone" in got.properties and got.properties["phone"] is None
    assert "nope" not in got.properties  # unknown names are ignored, as HubSpot does
    default = hs.crm.contacts.basic_api.get_by_id(contact.id)
    assert set(default.properties) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }


def test_update_stores_strings_and_empty_string_clears(hs, app):
    contact = make_contact(hs, email="c@example.com", firstname="Cee", phone="123")
    app.clock.advance(1)
    updated = hs.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"firstname": "", "hs_lead_status": "NEW"})
    )
    assert updated.properties["firstname"] is None
    assert updated.properties["hs_lead_status"] == "NEW"
    hs.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"lifecyclestage": "customer"})
    )
    staged = hs.crm.contacts.basic_api.get_by_id(
        contact.id, properties=["hs_lifecyclestage_customer_date", "lastmodifieddate"]
    )
    entered = staged.properties["hs_lifecyclestage_customer_date"]
    assert entered == staged.properties["lastmodifieddate"]  # HubSpot-calculated
    assert updated.properties["lastmodifieddate"] > contact.properties["lastmodifieddate"]
    deal = hs.crm.deals.basic_api.create(
        {"properties": {"dealname": "Big", "amount": 1500, "dealstage": "qualifiedtobuy"}}
    )
    assert deal.properties["amount"] == "1500"  # numbers come back as strings
    assert deal.properties["pipeline"] == "default"


def test_unchanged_values_do_not_bump_modification(hs, app):
    contact = make_contact(hs, email="d@example.com", firstname="Dee")
    app.clock.advance(5)
    same = hs.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"firstname": "Dee"})
    )
    assert same.properties["lastmodifieddate"] == contact.properties["lastmodifieddate"]


def test_archive_then_get_is_404_unless_archived_requested(hs):
    contact = make_contact(hs, email="e@example.com")
    assert hs.crm.contacts.basic_api.archive(contact.id) is None  # 204
    with pytest.raises(NotFoundException) as caught:
        hs.crm.contacts.basic_api.get_by_id(contact.id)
    assert caught.value.status == 404
    assert error_of(caught.value)["category"] == "OBJECT_NOT_FOUND"
    archived = hs.crm.contacts.basic_api.get_by_id(contact.id, archived=True)
    assert archived.archived is True and archived.archived_at is not None
    # The email is free again once the contact is archived.
    assert make_contact(hs, email="e@example.com").id != contact.id


def test_id_property_email_lookup_is_case_insensitive(hs):
    contact = make_contact(hs, email="Mixed.Case@Example.com")
    got = hs.crm.contacts.basic_api.get_by_id("mixed.case@example.com", id_property="email")
    assert got.id == contact.id
    updated = hs.crm.contacts.basic_api.update(
        "MIXED.case@example.com",
        SimplePublicObjectInput(properties={"city": "Utrecht"}),
        id_property="email",
    )
    assert updated.id == contact.id and updated.properties["city"] == "Utrecht"
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.get_by_id("x", id_property="firstname")
    assert caught.value.status == 400


def test_list_pages_terminate_and_last_page_has_no_paging(hs, app):
    for i in range(25):
        make_contact(hs, email=f"p{i}@example.com")
    first = hs.crm.contacts.basic_api.get_page(limit=10)
    assert len(first.results) == 10 and first.paging.next.after
    second = hs.crm.contacts.basic_api.get_page(limit=10, after=first.paging.next.after)
    third = hs.crm.contacts.basic_api.get_page(limit=10, after=second.paging.next.after)
    assert len(third.results) == 5 and third.paging is None
    ids = [r.id for r in first.results + second.results + third.results]
    assert ids == sorted(ids, key=int) and len(set(ids)) == 25
    assert len(hs.crm.contacts.get_all()) == 25
    assert len(hs.crm.objects.fetch_all("contacts")) == 25  # stops only when paging is absent
    assert len(hs.crm.contacts.get_all(limit=7)) == 7


def test_list_page_limits(hs):
    with pytest.raises(ApiException) as caught:
        hs.crm.contacts.basic_api.get_page(limit=101)
    assert caught.value.status == 400
    with pytest.raises(ApiException):
        hs.crm.contacts.basic_api.get_page(limit=51, properties_with_history=["email"])
    assert hs.crm.contacts.basic_api.get_page(limit=50, properties_with_history=["email"])


def test_archived_page_lists_only_archived(hs):
    keep = make_contact(hs, email="keep@example.com")
    gone = make_contact(hs, email="gone@example.com")
    hs.crm.contacts.basic_api.archive(gone.id)
    assert [r.id for r in hs.crm.contacts.basic_api.get_page().results] == [keep.id]
    assert [r.id for r in hs.crm.contacts.basic_api.get_page(archived=True).results] == [gone.id]


def test_create_with_inline_associations(hs):
    company = hs.crm.companies.basic_api.create(
        {"properties": {"name": "Acme", "domain": "acme.example"}}
    )
    contact = hs.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"email": "f@acme.example"},
            associations=[
                {
                    "to": {"id": company.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        )
    )
    got = hs.crm.contacts.basic_api.get_by_id(
        contact.id, associations=["companies"], properties=["associatedcompanyid"]
    )
    types = {r.type for r in got.associations["companies"].results}
    assert types == {"contact_to_company", "contact_to_company_unlabeled"}  # became primary
    assert got.properties["associatedcompanyid"] == company.id
    with pytest.raises(ApiException) as caught:
        make_contact_bad = SimplePublicObjectInputForCreate(
            properties={"email": "g@acme.example"},
            associations=[
                {
                    "to": {"id": "999999"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        )
        hs.crm.contacts.basic_api.create(make_contact_bad)
    assert caught.value.status == 400


def test_generic_objects_api_and_engagements(hs):
    note = hs.crm.objects.notes.basic_api.create(
        {"properties": {"hs_timestamp": "2026-01-05T10:00:00Z", "hs_note_body": "Called"}}
    )
    assert note.properties["hs_timestamp"] == "2026-01-05T10:00:00.000Z"
    task = hs.crm.objects.basic_api.create(
        "tasks",
        ObjectInput(
            properties={
                "hs_timestamp": "1767607200000",
                "hs_task_subject": "Follow up",
                "hs_task_status": "NOT_STARTED",
            }
        ),
    )
    assert task.properties["hs_timestamp"] == "2026-01-05T10:00:00.000Z"  # epoch ms accepted
    got = hs.crm.objects.basic_api.get_by_id("0-27", task.id, properties=["hs_task_subject"])
    assert got.properties["hs_task_subject"] == "Follow up"
    for kind in ("calls", "emails", "meetings"):
        record = hs.crm.objects.basic_api.create(
            kind, ObjectInput(properties={"hs_timestamp": "2026-01-05T10:00:00Z"})
        )
        assert record.id.isdigit()
    with pytest.raises(ObjectsApiException) as caught:
        hs.crm.objects.basic_api.create("notes", ObjectInput(properties={"hs_note_body": "x"}))
    assert caught.value.status == 400


def test_unknown_object_type_and_route(hs):
    with pytest.raises(ObjectsApiException) as caught:
        hs.crm.objects.basic_api.get_page("widgets")
    assert caught.value.status == 400
    assert "Unable to infer object type" in error_of(caught.value)["message"]
    response = hs.api_request({"method": "GET", "path": "/crm/v3/nothing/here"})
    assert response.status_code == 404
    assert response.json()["category"] == "OBJECT_NOT_FOUND"
    assert response.json()["status"] == "error" and response.json()["correlationId"]
