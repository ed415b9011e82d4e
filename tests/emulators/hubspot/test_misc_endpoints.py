"""Less common endpoints and generic error handling, still through the strict client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot.crm.lists import ListUpdateResponse
from hubspot.crm.properties import PropertyGroupUpdate
from hubspot.crm.properties.exceptions import NotFoundException as PropertyNotFound
from hubspot.crm.schemas import AssociationDefinition, AssociationDefinitionEgg
from hubspot.oauth import RefreshTokenInfoResponse
from hubspot.oauth.exceptions import NotFoundException as OAuthNotFound

from .test_schemas import widget_egg


def test_list_rename(hs):
    list_id = hs.crm.lists.lists_api.create(
        {"name": "Old", "objectTypeId": "0-1", "processingType": "MANUAL"}
    ).list.list_id
    renamed = hs.crm.lists.lists_api.update_name(list_id, list_name="New")
    assert isinstance(renamed, ListUpdateResponse)
    assert renamed.updated_list.name == "New" and renamed.updated_list.list_version == 2


def test_schema_association_definition(hs):
    schema = hs.crm.schemas.core_api.create(widget_egg())
    created = hs.crm.schemas.core_api.create_association(
        schema.object_type_id,
        AssociationDefinitionEgg(
            from_object_type_id=schema.object_type_id, to_object_type_id="0-2"
        ),
    )
    assert isinstance(created, AssociationDefinition) and created.to_object_type_id == "0-2"
    company = hs.crm.companies.basic_api.create({"properties": {"name": "Acme"}}).id
    widget = hs.crm.objects.basic_api.create(
        schema.object_type_id, {"properties": {"widget_name": "W"}}
    ).id
    hs.crm.associations.v4.basic_api.create_default(
        schema.object_type_id, widget, "companies", company
    )
    page = hs.crm.associations.v4.basic_api.get_page("companies", company, "p_widgets")
    assert [r.to_object_id for r in page.results] == [widget]


def test_refresh_token_info_and_revoke(hs, base_url):
    response = requests.get(
        f"{base_url}/oauth/authorize",
        allow_redirects=False,
        timeout=10,
        params={"client_id": "c", "redirect_uri": "http://localhost/cb"},
    )
    code = parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    tokens = hs.oauth.tokens_api.create(
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://localhost/cb",
        client_id="c",
        client_secret="s",
    )
    info = hs.oauth.refresh_tokens_api.get(tokens.refresh_token)
    assert isinstance(info, RefreshTokenInfoResponse) and info.client_id == "c"
    assert hs.oauth.refresh_tokens_api.archive(tokens.refresh_token) is None
    with pytest.raises(OAuthNotFound):
        hs.oauth.refresh_tokens_api.get(tokens.refresh_token)


def test_property_group_update_and_archive(hs):
    hs.crm.properties.groups_api.create("deals", {"name": "extra", "label": "Extra"})
    updated = hs.crm.properties.groups_api.update(
        "deals", "extra", PropertyGroupUpdate(label="More")
    )
    assert updated.label == "More"
    assert hs.crm.properties.groups_api.archive("deals", "extra") is None
    with pytest.raises(PropertyNotFound):
        hs.crm.properties.groups_api.get_by_name("deals", "extra")


def test_generic_errors(hs):
    wrong_method = hs.api_request({"method": "PUT", "path": "/crm/v3/objects/contacts"})
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == "error"
    bad_json = hs.api_request(
        {"method": "POST", "path": "/crm/v3/objects/contacts", "body": "{not json"}
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["category"] == "VALIDATION_ERROR"
    bad_limit = hs.api_request(
        {"method": "GET", "path": "/crm/v3/objects/contacts", "qs": {"limit": "many"}}
    )
    assert bad_limit.status_code == 400
