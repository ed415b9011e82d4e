"""Associations v4: labelled and default links, symmetry, batch calls and primary companies."""

from __future__ import annotations

import pytest
from hubspot.crm.association_type import AssociationType
from hubspot.crm.associations.v4 import (
    ApiException,
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    BatchResponseLabelsBetweenObjectPair,
    BatchResponseLabelsBetweenObjectPairWithErrors,
    BatchResponsePublicAssociationMultiWithLabel,
    BatchResponsePublicAssociationMultiWithLabelWithErrors,
    BatchResponsePublicDefaultAssociation,
    LabelsBetweenObjectPair,
    PublicAssociationMultiArchive,
    PublicAssociationMultiPost,
    PublicDefaultAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.associations.v4.exceptions import NotFoundException
from hubspot.crm.associations.v4.schema import PublicAssociationDefinitionCreateRequest


def spec(type_id, category="HUBSPOT_DEFINED"):
    return AssociationSpec(association_category=category, association_type_id=type_id)


@pytest.fixture
def records(hs):
    contact = hs.crm.contacts.basic_api.create({"properties": {"email": "a@x.com"}}).id
    other = hs.crm.contacts.basic_api.create({"properties": {"email": "b@x.com"}}).id
    acme = hs.crm.companies.basic_api.create({"properties": {"name": "Acme"}}).id
    globex = hs.crm.companies.basic_api.create({"properties": {"name": "Globex"}}).id
    deal = hs.crm.deals.basic_api.create({"properties": {"dealname": "D"}}).id
    return {"contact": contact, "other": other, "acme": acme, "globex": globex, "deal": deal}


def type_ids(page):
    return {r.to_object_id: sorted(t.type_id for t in r.association_types) for r in page.results}


def primary_company(hs, contact_id):
    return hs.crm.contacts.basic_api.get_by_id(
        contact_id, properties=["associatedcompanyid"]
    ).properties["associatedcompanyid"]


def test_create_labelled_is_201_and_symmetric(hs, records):
    v4 = hs.crm.associations.v4.basic_api
    result = v4.create(
        "contacts",
        records["contact"],
        "companies",
        records["acme"],
        [spec(AssociationType.PRIMARY_CONTACT_TO_COMPANY)],
    )
    assert isinstance(result, LabelsBetweenObjectPair)
    assert result.labels == ["Primary"] and result.from_object_type_id == "0-1"
    forward = v4.get_page("contacts", records["contact"], "companies")
    assert type_ids(forward) == {records["acme"]: [1, 279]}  # a label implies the default
    backward = v4.get_page("companies", records["acme"], "contacts")
    assert type_ids(backward) == {records["contact"]: [2, 280]}  # inverse type ids
    labels = {t.type_id: t.label for t in forward.results[0].association_types}
    assert labels == {1: "Primary", 279: None}
    assert primary_company(hs, records["contact"]) == records["acme"]


def test_create_default_and_archive(hs, records):
    v4 = hs.crm.associations.v4.basic_api
    result = v4.create_default("deals", records["deal"], "contacts", records["contact"])
    assert isinstance(result, BatchResponsePublicDefaultAssociation)
    assert result.results[0].association_spec.association_type_id == 3
    assert type_ids(v4.get_page("contacts", records["contact"], "deals")) == {records["deal"]: [4]}
    assert v4.archive("contacts", records["contact"], "deals", records["deal"]) is None
    assert v4.get_page("deals", records["deal"], "contacts").results == []


def test_unknown_record_and_wrong_type_pair(hs, records):
    v4 = hs.crm.associations.v4.basic_api
    with pytest.raises(NotFoundException):
        v4.create("contacts", "424242", "companies", records["acme"], [spec(279)])
    with pytest.raises(ApiException) as caught:
        v4.create("contacts", records["contact"], "companies", records["acme"], [spec(4)])
    assert caught.value.status == 400


def test_first_company_becomes_primary_and_primary_moves(hs, records):
    v4 = hs.crm.associations.v4.basic_api
    v4.create_default("contacts", records["contact"], "companies", records["acme"])
    assert primary_company(hs, records["contact"]) == records["acme"]
    v4.create_default("contacts", records["contact"], "companies", records["globex"])
    assert primary_company(hs, records["contact"]) == records["acme"]  # still the first
    v4.create("contacts", records["contact"], "companies", records["globex"], [spec(1)])
    assert type_ids(v4.get_page("contacts", records["contact"], "companies")) == {
        records["acme"]: [279],
        records["globex"]: [1, 279],
    }
    assert primary_company(hs, records["contact"]) == records["globex"]
    v4.archive("contacts", records["contact"], "companies", records["globex"])
    assert primary_company(hs, records["contact"]) is None


def test_writing_associatedcompanyid_sets_the_primary_company(hs, records):
    hs.crm.contacts.basic_api.update(
        records["contact"], {"properties": {"associatedcompanyid": records["globex"]}}
    )
    page = hs.crm.associations.v4.basic_api.get_page("contacts", records["contact"], "companies")
    assert type_ids(page) == {records["globex"]: [1, 279]}


def test_batch_create_read_archive(hs, records):
    batch = hs.crm.associations.v4.batch_api
    created = batch.create(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=records["contact"]),
                    to=PublicObjectId(id=records["acme"]),
                    types=[spec(279)],
                ),
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=records["other"]),
                    to=PublicObjectId(id=records["globex"]),
                    types=[spec(279)],
                ),
            ]
        ),
    )
    assert isinstance(created, BatchResponseLabelsBetweenObjectPair)
    assert len(created.results) == 2
    read = batch.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[
                PublicFetchAssociationsBatchRequest(id=records["contact"]),
                PublicFetchAssociationsBatchRequest(id=records["other"]),
            ]
        ),
    )
    assert isinstance(read, BatchResponsePublicAssociationMultiWithLabel)
    targets = {r._from.id: [t.to_object_id for t in r.to] for r in read.results}
    assert targets == {records["contact"]: [records["acme"]], records["other"]: [records["globex"]]}
    assert (
        batch.archive(
            "contacts",
            "companies",
            BatchInputPublicAssociationMultiArchive(
                inputs=[
                    PublicAssociationMultiArchive(
                        _from=PublicObjectId(id=records["contact"]),
                        to=[PublicObjectId(id=records["acme"])],
                    )
                ]
            ),
        )
        is None
    )
    partial = batch.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[
                PublicFetchAssociationsBatchRequest(id=records["contact"]),
                PublicFetchAssociationsBatchRequest(id=records["other"]),
            ]
        ),
    )
    assert isinstance(partial, BatchResponsePublicAssociationMultiWithLabelWithErrors)
    assert partial.errors[0].context == {"fromObjectId": [records["contact"]]}
    assert [r._from.id for r in partial.results] == [records["other"]]


def test_batch_create_partial_failure_is_207(hs, records):
    batch = hs.crm.associations.v4.batch_api
    result = batch.create(
        "contacts",
        "deals",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=records["contact"]),
                    to=PublicObjectId(id=records["deal"]),
                    types=[spec(4)],
                ),
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id="999999"),
                    to=PublicObjectId(id=records["deal"]),
                    types=[spec(4)],
                ),
            ]
        ),
    )
    assert isinstance(result, BatchResponseLabelsBetweenObjectPairWithErrors)
    assert result.num_errors == 1 and len(result.results) == 1


def test_batch_default_and_label_archive(hs, records):
    batch = hs.crm.associations.v4.batch_api
    result = batch.create_default(
        "contacts",
        "companies",
        BatchInputPublicDefaultAssociationMultiPost(
            inputs=[
                PublicDefaultAssociationMultiPost(
                    _from=PublicObjectId(id=records["contact"]),
                    to=PublicObjectId(id=records["acme"]),
                )
            ]
        ),
    )
    assert isinstance(result, BatchResponsePublicDefaultAssociation)
    assert (
        batch.archive_labels(
            "contacts",
            "companies",
            BatchInputPublicAssociationMultiPost(
                inputs=[
                    PublicAssociationMultiPost(
                        _from=PublicObjectId(id=records["contact"]),
                        to=PublicObjectId(id=records["acme"]),
                        types=[spec(1)],
                    )
                ]
            ),
        )
        is None
    )
    page = hs.crm.associations.v4.basic_api.get_page("contacts", records["contact"], "companies")
    assert type_ids(page) == {records["acme"]: [279]}
    assert primary_company(hs, records["contact"]) is None


def test_label_definitions(hs, records):
    definitions = hs.crm.associations.v4.schema.definitions_api
    labels = definitions.get_all("contacts", "companies")
    assert {(t.type_id, t.label, t.category) for t in labels.results} == {
        (1, "Primary", "HUBSPOT_DEFINED"),
        (279, None, "HUBSPOT_DEFINED"),
    }
    created = definitions.create(
        "contacts",
        "companies",
        PublicAssociationDefinitionCreateRequest(
            label="Billing contact", name="billing_contact", inverse_label="Billed company"
        ),
    )
    custom = created.results[0]
    assert custom.category == "USER_DEFINED" and custom.label == "Billing contact"
    v4 = hs.crm.associations.v4.basic_api
    v4.create(
        "contacts",
        records["contact"],
        "companies",
        records["acme"],
        [spec(custom.type_id, "USER_DEFINED")],
    )
    back = v4.get_page("companies", records["acme"], "contacts")
    assert {t.label for t in back.results[0].association_types} >= {"Billed company"}


def test_associations_in_v3_reads(hs, records):
    hs.crm.associations.v4.basic_api.create_default(
        "deals", records["deal"], "companies", records["acme"]
    )
    deal = hs.crm.deals.basic_api.get_by_id(records["deal"], associations=["companies"])
    assert {(a.id, a.type) for a in deal.associations["companies"].results} == {
        (records["acme"], "deal_to_company"),
        (records["acme"], "deal_to_company_unlabeled"),
    }
    page = hs.crm.companies.basic_api.get_page(associations=["deals"])
    by_id = {r.id: r.associations for r in page.results}
    assert by_id[records["acme"]]["deals"].results[0].id == records["deal"]
