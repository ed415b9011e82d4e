"""Lists v3: MANUAL/SNAPSHOT/DYNAMIC lists, memberships and DYNAMIC re-evaluation."""

from __future__ import annotations

import pytest
from hubspot.crm.lists import (
    ApiCollectionResponseJoinTimeAndRecordId,
    ApiException,
    ListCreateRequest,
    ListCreateResponse,
    ListFetchResponse,
    ListsByIdResponse,
    ListSearchRequest,
    ListSearchResponse,
    MembershipChangeRequest,
    MembershipsUpdateResponse,
)
from hubspot.crm.lists.exceptions import NotFoundException

from emulators.testing import hubspot_client

from .conftest import control


def stage_filter(operator="IS_EQUAL_TO", value="customer"):
    operation = {
        "operationType": "ENUMERATION",
        "operator": operator,
        "includeObjectsWithNoValueSet": False,
    }
    if operator == "IS_EQUAL_TO":
        operation = {
            "operationType": "MULTISTRING",
            "operator": operator,
            "values": [value],
            "includeObjectsWithNoValueSet": False,
        }
    return {
        "filterBranchType": "OR",
        "filters": [],
        "filterBranches": [
            {
                "filterBranchType": "AND",
                "filterBranches": [],
                "filters": [
                    {"filterType": "PROPERTY", "property": "lifecyclestage", "operation": operation}
                ],
            }
        ],
    }


@pytest.fixture
def contacts(hs):
    out = []
    for i, stage in enumerate(["customer", "lead", "customer", None]):
        props = {"email": f"l{i}@x.com"}
        if stage:
            props["lifecyclestage"] = stage
        out.append(hs.crm.contacts.basic_api.create({"properties": props}).id)
    return out


def create_list(hs, name, processing_type="MANUAL", filter_branch=None):
    request = {"name": name, "objectTypeId": "0-1", "processingType": processing_type}
    if filter_branch:
        request["filterBranch"] = filter_branch  # a dict: the strict model cannot express it
    return hs.crm.lists.lists_api.create(request)


def members(hs, list_id):
    page = hs.crm.lists.memberships_api.get_page(list_id)
    return [m.record_id for m in page.results]


def test_manual_list_lifecycle(hs, contacts):
    created = hs.crm.lists.lists_api.create(
        ListCreateRequest(name="VIPs", object_type_id="0-1", processing_type="MANUAL")
    )
    assert isinstance(created, ListCreateResponse)  # lists create answers 200, not 201
    list_id = created.list.list_id
    assert created.list.processing_type == "MANUAL" and created.list.list_version == 1
    added = hs.crm.lists.memberships_api.add(list_id, [contacts[0], contacts[1], "999999"])
    assert isinstance(added, MembershipsUpdateResponse)
    assert added.records_ids_added == [contacts[0], contacts[1]]
    assert added.record_ids_missing == ["999999"]
    assert members(hs, list_id) == [contacts[0], contacts[1]]
    changed = hs.crm.lists.memberships_api.add_and_remove(
        list_id,
        MembershipChangeRequest(
            record_ids_to_add=[contacts[2]], record_ids_to_remove=[contacts[0]]
        ),
    )
    assert changed.record_ids_removed == [contacts[0]]
    assert members(hs, list_id) == [contacts[1], contacts[2]]
    removed = hs.crm.lists.memberships_api.remove(list_id, [contacts[1]])
    assert removed.record_ids_removed == [contacts[1]]


def test_get_by_id_name_all_and_search(hs):
    first = create_list(hs, "Newsletter").list.list_id
    second = create_list(hs, "Webinar").list.list_id
    fetched = hs.crm.lists.lists_api.get_by_id(first)
    assert isinstance(fetched, ListFetchResponse) and fetched.list.name == "Newsletter"
    by_name = hs.crm.lists.lists_api.get_by_name("webinar", "0-1")
    assert by_name.list.list_id == second
    every = hs.crm.lists.lists_api.get_all(list_ids=[first, second])
    assert isinstance(every, ListsByIdResponse)
    assert [lst.list_id for lst in every.lists] == [first, second]
    found = hs.crm.lists.lists_api.do_search(ListSearchRequest(query="news"))
    assert isinstance(found, ListSearchResponse)
    assert [lst.list_id for lst in found.lists] == [first] and found.has_more is False
    with pytest.raises(NotFoundException):
        hs.crm.lists.lists_api.get_by_id("424242")
    with pytest.raises(ApiException) as caught:
        create_list(hs, "newsletter")
    assert caught.value.status == 400


def test_memberships_paging_and_join_order(hs, contacts):
    list_id = create_list(hs, "All").list.list_id
    hs.crm.lists.memberships_api.add(list_id, list(reversed(contacts)))
    page = hs.crm.lists.memberships_api.get_page(list_id, limit=3)
    assert isinstance(page, ApiCollectionResponseJoinTimeAndRecordId)
    assert [m.record_id for m in page.results] == contacts[:3]  # by record id
    assert page.paging.next.after
    rest = hs.crm.lists.memberships_api.get_page(list_id, limit=3, after=page.paging.next.after)
    assert [m.record_id for m in rest.results] == contacts[3:] and rest.paging is None
    joined = hs.crm.lists.memberships_api.get_page_ordered_by_added_to_list_date(list_id)
    assert [m.record_id for m in joined.results] == list(reversed(contacts))
    with pytest.raises(ApiException):
        hs.crm.lists.memberships_api.get_page(list_id, limit=251)


def test_dynamic_list_follows_record_writes(emulators, hs, contacts):
    list_id = create_list(hs, "Customers", "DYNAMIC", stage_filter()).list.list_id
    assert members(hs, list_id) == [contacts[0], contacts[2]]
    hs.crm.contacts.basic_api.update(contacts[1], {"properties": {"lifecyclestage": "customer"}})
    assert members(hs, list_id) == [contacts[0], contacts[1], contacts[2]]
    # A person in the CRM (another token) moves one out again.
    someone = hubspot_client(emulators, token="sales-rep")
    someone.crm.contacts.basic_api.update(contacts[0], {"properties": {"lifecyclestage": ""}})
    assert members(hs, list_id) == [contacts[1], contacts[2]]
    new = hs.crm.contacts.basic_api.create(
        {"properties": {"email": "n@x.com", "lifecyclestage": "customer"}}
    ).id
    assert new in members(hs, list_id)
    hs.crm.contacts.basic_api.archive(new)
    assert new not in members(hs, list_id)
    with pytest.raises(ApiException) as caught:
        hs.crm.lists.memberships_api.add(list_id, [contacts[3]])
    assert caught.value.status == 400


def test_dynamic_list_is_known_filter_and_filter_updates(hs, contacts):
    known = {
        "filterBranchType": "AND",
        "filterBranches": [],
        "filters": [
            {
                "filterType": "PROPERTY",
                "property": "lifecyclestage",
                "operation": {"operationType": "ALL_PROPERTY", "operator": "IS_KNOWN"},
            }
        ],
    }
    list_id = create_list(hs, "Known stage", "DYNAMIC", known).list.list_id
    assert members(hs, list_id) == contacts[:3]
    updated = hs.crm.lists.lists_api.update_list_filters(
        list_id, {"filterBranch": stage_filter("IS_EQUAL_TO", "lead")}
    )
    assert updated.updated_list.list_version == 2
    assert members(hs, list_id) == [contacts[1]]


def test_unsupported_filters_are_rejected(hs):
    weird = {
        "filterBranchType": "OR",
        "filterBranches": [],
        "filters": [{"filterType": "FORM_SUBMISSION", "formId": "x"}],
    }
    with pytest.raises(ApiException) as caught:
        create_list(hs, "Forms", "DYNAMIC", weird)
    assert caught.value.status == 400


def test_snapshot_list_is_filled_once_then_manual(hs, contacts):
    list_id = create_list(hs, "Snapshot", "SNAPSHOT", stage_filter()).list.list_id
    assert members(hs, list_id) == [contacts[0], contacts[2]]
    hs.crm.contacts.basic_api.update(contacts[1], {"properties": {"lifecyclestage": "customer"}})
    assert members(hs, list_id) == [contacts[0], contacts[2]]  # not re-evaluated
    hs.crm.lists.memberships_api.add(list_id, [contacts[3]])
    assert contacts[3] in members(hs, list_id)


def test_filters_only_with_include_filters(emulators, hs, contacts):
    list_id = create_list(hs, "Customers", "DYNAMIC", stage_filter()).list.list_id
    # The strict client cannot decode real filter branches (its model only allows ASSOCIATION),
    # so read them with a lenient client, as an engine that needs them would.
    lenient = hubspot_client(emulators, strict=False)
    with_filters = lenient.crm.lists.lists_api.get_by_id(list_id, include_filters=True)
    assert with_filters.list.filter_branch.filter_branch_type == "OR"
    assert hs.crm.lists.lists_api.get_by_id(list_id).list.filter_branch is None


def test_record_memberships_and_control_plane(hs, contacts, base_url):
    list_id = create_list(hs, "Manual").list.list_id
    response = control(base_url, "add_to_list", list_id=list_id, record_ids=[contacts[3]])
    assert response.status_code == 200
    lists = hs.crm.lists.memberships_api.get_lists("0-1", contacts[3])
    assert [m.list_id for m in lists.results] == [list_id]
    control(base_url, "remove_from_list", list_id=list_id, record_ids=[contacts[3]])
    assert hs.crm.lists.memberships_api.get_lists("0-1", contacts[3]).results == []
    created = control(base_url, "create_list", list_name="UI list", record_ids=contacts[:2])
    assert created.json()["result"]["size"] == 2


def test_list_delete_and_restore(hs):
    list_id = create_list(hs, "Temp").list.list_id
    assert hs.crm.lists.lists_api.remove(list_id) is None
    with pytest.raises(NotFoundException):
        hs.crm.lists.lists_api.get_by_id(list_id)
    hs.crm.lists.lists_api.restore(list_id)
    assert hs.crm.lists.lists_api.get_by_id(list_id).list.name == "Temp"


def test_short_operator_names(hs, contacts):
    def dynamic(name, prop, operator, value=None):
        operation = {"operator": operator}
        if value is not None:
            operation["value"] = value
        branch = {
            "filterBranchType": "AND",
            "filterBranches": [],
            "filters": [{"filterType": "PROPERTY", "property": prop, "operation": operation}],
        }
        return create_list(hs, name, "DYNAMIC", branch).list.list_id

    assert members(hs, dynamic("eq", "lifecyclestage", "EQ", "Lead")) == [contacts[1]]
    assert members(hs, dynamic("neq", "lifecyclestage", "NEQ", "lead")) == [
        contacts[0],
        contacts[2],
    ]
    assert members(hs, dynamic("contains", "email", "CONTAINS", "l2@")) == [contacts[2]]
    assert members(hs, dynamic("known", "lifecyclestage", "IS_KNOWN")) == contacts[:3]
