"""Properties API: served from the same registry that validates and searches."""

from __future__ import annotations

import pytest
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.properties import (
    ApiException,
    BatchInputPropertyCreate,
    BatchInputPropertyName,
    BatchReadInputPropertyName,
    BatchResponseProperty,
    BatchResponsePropertyWithErrors,
    CollectionResponsePropertyNoPaging,
    ModelProperty,
    OptionInput,
    PropertyCreate,
    PropertyGroupCreate,
    PropertyName,
    PropertyUpdate,
)
from hubspot.crm.properties.exceptions import NotFoundException

from .conftest import error_of, validation_results


def tier_property(name="customer_tier"):
    return PropertyCreate(
        name=name,
        label="Customer tier",
        type="enumeration",
        field_type="select",
        group_name="contactinformation",
        options=[
            OptionInput(label="Gold", value="gold", hidden=False, display_order=0),
            OptionInput(label="Silver", value="silver", hidden=False, display_order=1),
        ],
    )


def test_get_all_and_by_name_are_typed(hs):
    everything = hs.crm.properties.core_api.get_all("contacts")
    assert isinstance(everything, CollectionResponsePropertyNoPaging)
    names = {p.name for p in everything.results}
    assert {"email", "firstname", "lifecyclestage", "hs_object_id"} <= names
    email = hs.crm.properties.core_api.get_by_name("contacts", "email")
    assert isinstance(email, ModelProperty)
    assert (email.type, email.field_type, email.group_name) == (
        "string",
        "text",
        "contactinformation",
    )
    stage = hs.crm.properties.core_api.get_by_name("contacts", "lifecyclestage")
    assert "customer" in [o.value for o in stage.options]
    created = hs.crm.properties.core_api.get_by_name("contacts", "createdate")
    assert created.modification_metadata.read_only_value is True
    with pytest.raises(NotFoundException):
        hs.crm.properties.core_api.get_by_name("contacts", "nope")


def test_created_property_is_usable_at_once(hs):
    created = hs.crm.properties.core_api.create("contacts", tier_property())
    assert isinstance(created, ModelProperty) and created.hubspot_defined is False
    contact = hs.crm.contacts.basic_api.create(
        {"properties": {"email": "a@x.com", "customer_tier": "gold"}}
    )
    assert contact.properties["customer_tier"] == "gold"
    with pytest.raises(ContactsApiException) as caught:
        hs.crm.contacts.basic_api.create(
            {"properties": {"email": "b@x.com", "customer_tier": "bronze"}}
        )
    assert validation_results(caught.value)[0]["error"] == "INVALID_OPTION"
    found = hs.crm.contacts.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "customer_tier", "operator": "EQ", "value": "gold"}]}
            ]
        )
    )
    assert [r.id for r in found.results] == [contact.id]


def test_duplicate_and_invalid_definitions(hs):
    hs.crm.properties.core_api.create("contacts", tier_property())
    with pytest.raises(ApiException) as caught:
        hs.crm.properties.core_api.create("contacts", tier_property())
    assert caught.value.status == 409
    assert error_of(caught.value)["category"] == "OBJECT_ALREADY_EXISTS"
    with pytest.raises(ApiException) as caught:
        hs.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(
                name="x_field",
                label="X",
                type="string",
                field_type="text",
                group_name="no_such_group",
            ),
        )
    assert caught.value.status == 400


def test_update_and_archive_custom_property(hs):
    hs.crm.properties.core_api.create("contacts", tier_property())
    updated = hs.crm.properties.core_api.update(
        "contacts",
        "customer_tier",
        PropertyUpdate(
            label="Tier",
            options=[
                OptionInput(label="Gold", value="gold", hidden=False, display_order=0),
                OptionInput(label="Bronze", value="bronze", hidden=False, display_order=1),
            ],
        ),
    )
    assert updated.label == "Tier"
    hs.crm.contacts.basic_api.create(
        {"properties": {"email": "a@x.com", "customer_tier": "bronze"}}
    )
    assert hs.crm.properties.core_api.archive("contacts", "customer_tier") is None
    with pytest.raises(ContactsApiException) as caught:
        hs.crm.contacts.basic_api.create(
            {"properties": {"email": "b@x.com", "customer_tier": "gold"}}
        )
    assert validation_results(caught.value)[0]["error"] == "PROPERTY_DOESNT_EXIST"
    archived = hs.crm.properties.core_api.get_all("contacts", archived=True)
    assert [p.name for p in archived.results] == ["customer_tier"]
    with pytest.raises(ApiException) as caught:
        hs.crm.properties.core_api.archive("contacts", "email")
    assert caught.value.status == 400


def test_unique_custom_property_is_enforced_and_usable_as_id_property(hs):
    hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="erp_id",
            label="ERP id",
            type="string",
            field_type="text",
            group_name="contactinformation",
            has_unique_value=True,
        ),
    )
    first = hs.crm.contacts.basic_api.create({"properties": {"email": "a@x.com", "erp_id": "E-1"}})
    with pytest.raises(ContactsApiException) as caught:
        hs.crm.contacts.basic_api.create({"properties": {"email": "b@x.com", "erp_id": "E-1"}})
    assert caught.value.status == 409
    upsert = hs.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id="E-1", id_property="erp_id", properties={"firstname": "Erp"}
                ),
                SimplePublicObjectBatchInputUpsert(
                    id="E-2", id_property="erp_id", properties={"email": "c@x.com"}
                ),
            ]
        )
    )
    by_new = {r.new: r for r in upsert.results}
    assert by_new[False].id == first.id and by_new[True].properties["erp_id"] == "E-2"


def test_batch_read_create_archive(hs):
    created = hs.crm.properties.batch_api.create(
        "companies",
        BatchInputPropertyCreate(
            inputs=[
                PropertyCreate(
                    name="erp_code",
                    label="ERP code",
                    type="string",
                    field_type="text",
                    group_name="companyinformation",
                ),
                PropertyCreate(
                    name="erp_size",
                    label="ERP size",
                    type="number",
                    field_type="number",
                    group_name="companyinformation",
                ),
            ]
        ),
    )
    assert isinstance(created, BatchResponseProperty) and len(created.results) == 2
    read = hs.crm.properties.batch_api.read(
        "companies",
        BatchReadInputPropertyName(
            archived=False, inputs=[PropertyName(name="erp_code"), PropertyName(name="domain")]
        ),
    )
    assert {p.name for p in read.results} == {"erp_code", "domain"}
    missing = hs.crm.properties.batch_api.read(
        "companies",
        BatchReadInputPropertyName(
            archived=False, inputs=[PropertyName(name="erp_code"), PropertyName(name="nope")]
        ),
    )
    assert isinstance(missing, BatchResponsePropertyWithErrors)
    assert (
        hs.crm.properties.batch_api.archive(
            "companies", BatchInputPropertyName(inputs=[PropertyName(name="erp_code")])
        )
        is None
    )
    names = {p.name for p in hs.crm.properties.core_api.get_all("companies").results}
    assert "erp_code" not in names and "erp_size" in names


def test_property_groups(hs):
    groups = hs.crm.properties.groups_api.get_all("contacts")
    assert "contactinformation" in {g.name for g in groups.results}
    created = hs.crm.properties.groups_api.create(
        "contacts", PropertyGroupCreate(name="integration", label="Integration", display_order=5)
    )
    assert created.name == "integration" and created.archived is False
    hs.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="sync_note",
            label="Sync note",
            type="string",
            field_type="text",
            group_name="integration",
        ),
    )
    assert (
        hs.crm.properties.groups_api.get_by_name("contacts", "integration").label == "Integration"
    )
