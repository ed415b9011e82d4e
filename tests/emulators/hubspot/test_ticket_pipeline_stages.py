"""Adding a stage to a ticket pipeline (``POST /crm/v3/pipelines/{type}/{id}/stages``), and
tickets using the new stage."""

from __future__ import annotations

import pytest
from hubspot.crm.pipelines import PipelineStage
from hubspot.crm.pipelines.exceptions import ApiException as PipelineError
from hubspot.crm.tickets import SimplePublicObjectInputForCreate as TicketCreate


def test_a_stage_added_to_a_created_pipeline_takes_tickets(hs):
    pipeline = hs.crm.pipelines.pipelines_api.create(
        "tickets",
        {
            "label": "Salesforce cases: Master",
            "displayOrder": 5,
            "stages": [
                {"label": "New", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}},
                {"label": "Closed", "displayOrder": 1, "metadata": {"ticketState": "CLOSED"}},
            ],
        },
    )
    stage = hs.crm.pipelines.pipeline_stages_api.create(
        "tickets",
        pipeline.id,
        {"label": "Escalated", "displayOrder": 2, "metadata": {"ticketState": "OPEN"}},
    )
    assert isinstance(stage, PipelineStage) and stage.label == "Escalated"
    assert stage.id not in {s.id for s in pipeline.stages}
    listed = hs.crm.pipelines.pipelines_api.get_by_id("tickets", pipeline.id)
    assert [s.label for s in listed.stages] == ["New", "Closed", "Escalated"]
    ticket = hs.crm.tickets.basic_api.create(
        TicketCreate(
            properties={
                "subject": "Broken",
                "hs_pipeline": pipeline.id,
                "hs_pipeline_stage": stage.id,
            }
        )
    )
    assert ticket.properties["hs_pipeline_stage"] == stage.id


def test_a_stage_needs_a_label_and_a_unique_one(hs):
    with pytest.raises(PipelineError) as error:
        hs.crm.pipelines.pipeline_stages_api.create(
            "tickets", "0", {"label": "New", "displayOrder": 9}
        )
    assert error.value.status == 400
    with pytest.raises(PipelineError) as error:
        hs.crm.pipelines.pipeline_stages_api.create(
            "tickets", "nope", {"label": "X", "displayOrder": 1}
        )
    assert error.value.status == 404
