"""Owners and pipelines."""

from __future__ import annotations

import pytest
from hubspot.crm.owners import CollectionResponsePublicOwnerForwardPaging, PublicOwner
from hubspot.crm.owners.exceptions import NotFoundException as OwnerNotFound
from hubspot.crm.pipelines import CollectionResponsePipelineNoPaging, Pipeline
from hubspot.crm.pipelines.exceptions import NotFoundException as PipelineNotFound


@pytest.fixture
def owners(app):
    return [
        app.run_action(
            "create_owner", email=f"o{i}@example.com", first_name=f"O{i}", last_name="Wner"
        )
        for i in range(5)
    ]


def test_owner_pages_terminate(hs, owners):
    first = hs.crm.owners.owners_api.get_page(limit=2)
    assert isinstance(first, CollectionResponsePublicOwnerForwardPaging)
    assert [o.email for o in first.results] == ["o0@example.com", "o1@example.com"]
    assert first.results[0].type == "PERSON" and first.results[0].archived is False
    every = hs.crm.owners.get_all()
    assert [o.id for o in every] == [o["id"] for o in owners]
    last = hs.crm.owners.owners_api.get_page(limit=5)
    assert last.paging is None


def test_owner_email_filter_and_lookup_by_user_id(hs, owners):
    found = hs.crm.owners.owners_api.get_page(email="O3@example.com")
    assert [o.id for o in found.results] == [owners[3]["id"]]
    owner = hs.crm.owners.owners_api.get_by_id(owners[2]["id"])
    assert isinstance(owner, PublicOwner) and owner.first_name == "O2"
    by_user = hs.crm.owners.owners_api.get_by_id(str(owners[2]["userId"]), id_property="userId")
    assert by_user.id == owners[2]["id"]


def test_archived_owner_only_with_archived_flag(hs, app, owners):
    app.run_action("archive_owner", owner_id=owners[0]["id"])
    assert owners[0]["id"] not in [o.id for o in hs.crm.owners.owners_api.get_page().results]
    archived = hs.crm.owners.owners_api.get_page(archived=True)
    assert [o.id for o in archived.results] == [owners[0]["id"]]
    assert archived.results[0].archived is True
    with pytest.raises(OwnerNotFound):
        hs.crm.owners.owners_api.get_by_id(owners[0]["id"])
    assert hs.crm.owners.owners_api.get_by_id(owners[0]["id"], archived=True).archived


def test_deal_and_ticket_pipelines(hs):
    deals = hs.crm.pipelines.pipelines_api.get_all("deals")
    assert isinstance(deals, CollectionResponsePipelineNoPaging)
    [default] = deals.results
    assert default.id == "default" and default.label == "Sales Pipeline"
    stages = [s.id for s in default.stages]
    assert stages[0] == "appointmentscheduled" and "closedwon" in stages
    assert default.stages[-1].metadata["isClosed"] == "true"
    tickets = hs.crm.pipelines.pipelines_api.get_by_id("tickets", "0")
    assert isinstance(tickets, Pipeline) and tickets.stages[0].metadata["ticketState"] == "OPEN"
    stage_list = hs.crm.pipelines.pipeline_stages_api.get_all("deals", "default")
    assert [s.id for s in stage_list.results] == stages
    one = hs.crm.pipelines.pipeline_stages_api.get_by_id("deals", "default", "closedlost")
    assert one.label == "Closed Lost"
    with pytest.raises(PipelineNotFound):
        hs.crm.pipelines.pipelines_api.get_by_id("deals", "nope")


def test_created_pipeline_is_used_for_validation(hs):
    created = hs.crm.pipelines.pipelines_api.create(
        "deals",
        {
            "label": "Partners",
            "displayOrder": 1,
            "stages": [
                {"label": "Intro", "displayOrder": 0, "metadata": {"probability": "0.1"}},
                {"label": "Signed", "displayOrder": 1, "metadata": {"probability": "1.0"}},
            ],
        },
    )
    assert isinstance(created, Pipeline)
    stage = created.stages[0].id
    deal = hs.crm.deals.basic_api.create(
        {"properties": {"dealname": "P", "pipeline": created.id, "dealstage": stage}}
    )
    assert deal.properties["dealstage"] == stage


def test_set_deal_stage_action(hs, app):
    deal = hs.crm.deals.basic_api.create(
        {"properties": {"dealname": "D", "dealstage": "qualifiedtobuy"}}
    )
    app.run_action("set_deal_stage", id=deal.id, stage="closedwon")
    got = hs.crm.deals.basic_api.get_by_id(deal.id, properties_with_history=["dealstage"])
    newest = got.properties_with_history["dealstage"][0]
    assert newest.value == "closedwon" and newest.source_type == "CRM_UI"
    calculated = hs.crm.deals.basic_api.get_by_id(
        deal.id, properties=["hs_is_closed", "hs_is_closed_won", "hs_deal_stage_probability"]
    )
    assert calculated.properties == {
        **calculated.properties,
        "hs_is_closed": "true",
        "hs_is_closed_won": "true",
        "hs_deal_stage_probability": "1.0",
    }
