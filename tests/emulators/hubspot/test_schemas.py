"""Custom object schemas: creating one opens the objects API for the new type."""

from __future__ import annotations

import pytest
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.objects import PublicObjectSearchRequest
from hubspot.crm.schemas import (
    ApiException,
    CollectionResponseObjectSchemaNoPaging,
    ObjectSchema,
    ObjectSchemaEgg,
    ObjectTypeDefinitionLabels,
    ObjectTypePropertyCreate,
    OptionInput,
)

from .conftest import validation_results


def widget_egg(name="widgets"):
    return ObjectSchemaEgg(
        name=name,
        labels=ObjectTypeDefinitionLabels(singular="Widget", plural="Widgets"),
        primary_display_property="widget_name",
        required_properties=["widget_name"],
        searchable_properties=["widget_name"],
        associated_objects=["CONTACT"],
        properties=[
            ObjectTypePropertyCreate(
                name="widget_name", label="Name", type="string", field_type="text"
            ),
            ObjectTypePropertyCreate(name="size", label="Size", type="number", field_type="number"),
            ObjectTypePropertyCreate(
                name="colour",
                label="Colour",
                type="enumeration",
                field_type="select",
                options=[
                    OptionInput(label="Red", value="red", hidden=False, display_order=0),
                    OptionInput(label="Blue", value="blue", hidden=False, display_order=1),
                ],
            ),
        ],
    )


def test_create_schema_is_201_typed(hs):
    schema = hs.crm.schemas.core_api.create(widget_egg())
    assert isinstance(schema, ObjectSchema)
    assert schema.object_type_id.startswith("2-")
    assert schema.fully_qualified_name == f"p{hs_portal(hs)}_widgets"
    assert {"widget_name", "size", "colour", "hs_object_id"} <= {p.name for p in schema.properties}
    assert schema.associations and schema.associations[0].to_object_type_id == "0-1"
    listed = hs.crm.schemas.core_api.get_all()
    assert isinstance(listed, CollectionResponseObjectSchemaNoPaging)
    assert [s.name for s in listed.results] == ["widgets"]
    assert hs.crm.schemas.core_api.get_by_id(schema.object_type_id).name == "widgets"
    assert hs.crm.schemas.core_api.get_by_id("p_widgets").id == schema.id
    with pytest.raises(ApiException) as caught:
        hs.crm.schemas.core_api.create(widget_egg())
    assert caught.value.status == 409


def hs_portal(hs) -> int:
    return hs.api_request({"method": "GET", "path": "/account-info/v3/details"}).json()["portalId"]


def test_objects_api_works_for_the_custom_type(hs):
    schema = hs.crm.schemas.core_api.create(widget_egg())
    objects = hs.crm.objects
    created = objects.basic_api.create(
        schema.object_type_id,
        {"properties": {"widget_name": "Sprocket", "size": "3", "colour": "red"}},
    )
    assert created.properties["hs_object_id"] == created.id
    assert "hs_createdate" in created.properties and "hs_lastmodifieddate" in created.properties
    for key in (schema.object_type_id, "p_widgets", schema.fully_qualified_name):
        got = objects.basic_api.get_by_id(key, created.id, properties=["widget_name"])
        assert got.properties["widget_name"] == "Sprocket"
    found = objects.search_api.do_search(
        "p_widgets",
        PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": "size", "operator": "GTE", "value": "2"}]}]
        ),
    )
    assert [r.id for r in found.results] == [created.id]
    assert len(objects.fetch_all(schema.object_type_id)) == 1


def test_custom_type_validation(hs):
    schema = hs.crm.schemas.core_api.create(widget_egg())
    with pytest.raises(ObjectsApiException) as caught:
        hs.crm.objects.basic_api.create(
            schema.object_type_id, {"properties": {"size": "big", "colour": "green"}}
        )
    errors = {r["name"]: r["error"] for r in validation_results(caught.value)}
    assert errors == {
        "size": "INVALID_INTEGER",
        "colour": "INVALID_OPTION",
        "widget_name": "REQUIRED_PROPERTY",
    }


def test_custom_type_associations(hs):
    schema = hs.crm.schemas.core_api.create(widget_egg())
    widget = hs.crm.objects.basic_api.create(
        schema.object_type_id, {"properties": {"widget_name": "Cog"}}
    )
    contact = hs.crm.contacts.basic_api.create({"properties": {"email": "w@x.com"}})
    v4 = hs.crm.associations.v4.basic_api
    v4.create_default("p_widgets", widget.id, "contacts", contact.id)
    page = v4.get_page("contacts", contact.id, schema.object_type_id)
    assert [r.to_object_id for r in page.results] == [widget.id]
