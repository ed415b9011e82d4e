"""Merges (the merged id keeps resolving to the survivor) and GDPR deletes."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import PublicMergeInput as CompanyMerge
from hubspot.crm.contacts import (
    PublicGdprDeleteInput,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObject,
)
from hubspot.crm.contacts.exceptions import NotFoundException


@pytest.fixture
def pair(hs, app):
    primary = hs.crm.contacts.basic_api.create(
        {"properties": {"email": "keep@x.com", "firstname": "Keep"}}
    ).id
    merged = hs.crm.contacts.basic_api.create(
        {"properties": {"email": "old@x.com", "firstname": "Old", "phone": "+31 6 1234"}}
    ).id
    company = hs.crm.companies.basic_api.create({"properties": {"name": "Acme"}}).id
    hs.crm.associations.v4.basic_api.create_default("contacts", merged, "companies", company)
    list_id = hs.crm.lists.lists_api.create(
        {"name": "Manual", "objectTypeId": "0-1", "processingType": "MANUAL"}
    ).list.list_id
    hs.crm.lists.memberships_api.add(list_id, [merged])
    app.clock.advance(1)
    return {"primary": primary, "merged": merged, "company": company, "list": list_id}


def test_merge_contacts(hs, pair):
    survivor = hs.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=pair["primary"], object_id_to_merge=pair["merged"])
    )
    assert isinstance(survivor, SimplePublicObject)
    assert survivor.id == pair["primary"]
    props = survivor.properties
    assert props["hs_merged_object_ids"] == pair["merged"]
    assert props["email"] == "keep@x.com" and props["firstname"] == "Keep"
    assert props["phone"] == "+31 6 1234"  # blanks filled from the merged record
    assert props["hs_additional_emails"] == "old@x.com"


def test_merged_id_and_email_resolve_to_the_survivor(hs, pair):
    hs.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=pair["primary"], object_id_to_merge=pair["merged"])
    )
    assert hs.crm.contacts.basic_api.get_by_id(pair["merged"]).id == pair["primary"]
    by_old_email = hs.crm.contacts.basic_api.get_by_id("old@x.com", id_property="email")
    assert by_old_email.id == pair["primary"]
    everyone = [c.id for c in hs.crm.contacts.get_all()]
    assert everyone == [pair["primary"]]
    found = hs.crm.contacts.search_api.do_search(PublicObjectSearchRequest())
    assert [r.id for r in found.results] == [pair["primary"]]


def test_merge_moves_associations_and_list_memberships(hs, pair):
    hs.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=pair["primary"], object_id_to_merge=pair["merged"])
    )
    page = hs.crm.associations.v4.basic_api.get_page("contacts", pair["primary"], "companies")
    assert [r.to_object_id for r in page.results] == [pair["company"]]
    members = hs.crm.lists.memberships_api.get_page(pair["list"])
    assert [m.record_id for m in members.results] == [pair["primary"]]


def test_merge_companies_and_ui_merge_action(hs, app):
    a = hs.crm.companies.basic_api.create({"properties": {"name": "A", "domain": "a.io"}}).id
    b = hs.crm.companies.basic_api.create({"properties": {"name": "B", "city": "Utrecht"}}).id
    survivor = hs.crm.companies.basic_api.merge(
        CompanyMerge(primary_object_id=a, object_id_to_merge=b)
    )
    assert survivor.properties["city"] == "Utrecht"
    c = hs.crm.contacts.basic_api.create({"properties": {"email": "c@x.com"}}).id
    d = hs.crm.contacts.basic_api.create({"properties": {"email": "d@x.com"}}).id
    result = app.run_action("merge", object_type="contacts", primary_id=c, merged_id=d)
    assert result["properties"]["hs_merged_object_ids"] == d
    history = hs.crm.contacts.basic_api.get_by_id(
        c, properties_with_history=["hs_merged_object_ids"]
    ).properties_with_history
    assert history["hs_merged_object_ids"][0].source_type == "CRM_UI"


def test_gdpr_delete_removes_for_good(hs, pair):
    assert (
        hs.crm.contacts.basic_api.purge(
            PublicGdprDeleteInput(object_id="old@x.com", id_property="email")
        )
        is None
    )
    with pytest.raises(NotFoundException):
        hs.crm.contacts.basic_api.get_by_id(pair["merged"])
    with pytest.raises(NotFoundException):
        hs.crm.contacts.basic_api.get_by_id(pair["merged"], archived=True)
    assert (
        hs.crm.associations.v4.basic_api.get_page("companies", pair["company"], "contacts").results
        == []
    )
    again = hs.crm.contacts.basic_api.create({"properties": {"email": "old@x.com"}})
    assert again.id != pair["merged"]
    with pytest.raises(NotFoundException):
        hs.crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id="424242"))
