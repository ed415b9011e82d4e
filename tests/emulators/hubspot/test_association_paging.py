"""Associations v4 batch read pages per record (crm-apis.md §3.5): a record with more
associations than one answer holds (500 in HubSpot) carries ``paging.next.after``, and an
input ``{"id", "after"}`` reads on from there."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)

from .conftest import control


def batch_read(hs, inputs):
    return hs.crm.associations.v4.batch_api.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(**i) for i in inputs]
        ),
    )


@pytest.fixture
def ada_and_five_companies(hs):
    contact = hs.crm.contacts.basic_api.create({"properties": {"email": "ada@x.com"}}).id
    other = hs.crm.contacts.basic_api.create({"properties": {"email": "bob@x.com"}}).id
    companies = []
    for n in range(5):
        company = hs.crm.companies.basic_api.create({"properties": {"name": f"Co {n}"}}).id
        hs.crm.associations.v4.basic_api.create_default("contacts", contact, "companies", company)
        companies.append(company)
    hs.crm.associations.v4.basic_api.create_default("contacts", other, "companies", companies[0])
    return contact, other, companies


def test_batch_read_pages_each_record_and_reads_on_from_after(hs, base_url, ada_and_five_companies):
    contact, other, companies = ada_and_five_companies
    response = control(base_url, "set_association_page_size", size=2)
    assert response.status_code == 200, response.text

    first = batch_read(hs, [{"id": contact}, {"id": other}])
    by_id = {r._from.id: r for r in first.results}
    assert [t.to_object_id for t in by_id[contact].to] == companies[:2]
    assert by_id[other].paging is None  # one company: all in this answer
    seen = [t.to_object_id for t in by_id[contact].to]
    after = by_id[contact].paging.next.after
    while after:
        page = batch_read(hs, [{"id": contact, "after": after}]).results[0]
        assert page._from.id == contact and 1 <= len(page.to) <= 2
        seen += [t.to_object_id for t in page.to]
        after = page.paging.next.after if page.paging else None
    assert seen == companies


def test_batch_read_answers_500_per_record_by_default(hs, app, ada_and_five_companies):
    contact, _, companies = ada_and_five_companies
    assert app.state.settings.association_page_size == 500
    whole = batch_read(hs, [{"id": contact}]).results[0]
    assert [t.to_object_id for t in whole.to] == companies and whole.paging is None


def test_association_page_size_must_be_1_to_500(base_url):
    assert control(base_url, "set_association_page_size", size=0).status_code == 400
    assert control(base_url, "set_association_page_size", size=501).status_code == 400
