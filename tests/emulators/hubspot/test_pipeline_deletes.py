"""Deleting a pipeline (``DELETE /crm/v3/pipelines/{type}/{id}``) or one of its stages
(``.../stages/{stageId}``): 204, gone from every read, and refused in record writes."""

from __future__ import annotations

import pytest
from hubspot.crm.deals import SimplePublicObjectInput as DealInput
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate
from hubspot.crm.deals.exceptions import ApiException as DealError
from hubspot.crm.pipelines.exceptions import NotFoundException as PipelineNotFound


def partners(hs):
    return hs.crm.pipelines.pipelines_api.create(
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


def test_a_deleted_pipeline_is_gone_and_refused(hs, app):
    pipeline = partners(hs)
    intro = pipeline.stages[0].id
    deal = hs.crm.deals.basic_api.create(
        DealCreate(properties={"dealname": "D", "pipeline": pipeline.id, "dealstage": intro})
    )
    hs.crm.pipelines.pipelines_api.archive("deals", pipeline.id)
    assert app.ledger.entries()[-1].status == 204
    assert [p.id for p in hs.crm.pipelines.pipelines_api.get_all("deals").results] == ["default"]
    with pytest.raises(PipelineNotFound):
        hs.crm.pipelines.pipelines_api.get_by_id("deals", pipeline.id)
    with pytest.raises(PipelineNotFound):
        hs.crm.pipelines.pipelines_api.archive("deals", pipeline.id)
    with pytest.raises(DealError) as refused:
        hs.crm.deals.basic_api.update(deal.id, DealInput(properties={"dealstage": intro}))
    assert refused.value.status == 400 and "INVALID_OPTION" in refused.value.body
    # Its id isn't given out again.
    assert partners(hs).id != pipeline.id


def test_a_deleted_stage_is_gone_and_refused(hs):
    pipeline = partners(hs)
    intro, signed = (s.id for s in pipeline.stages)
    hs.crm.pipelines.pipeline_stages_api.archive("deals", pipeline.id, signed)
    listed = hs.crm.pipelines.pipelines_api.get_by_id("deals", pipeline.id)
    assert [s.id for s in listed.stages] == [intro]
    stages = hs.crm.pipelines.pipeline_stages_api.get_all("deals", pipeline.id)
    assert [s.id for s in stages.results] == [intro]
    with pytest.raises(PipelineNotFound):
        hs.crm.pipelines.pipeline_stages_api.get_by_id("deals", pipeline.id, signed)
    with pytest.raises(PipelineNotFound):
        hs.crm.pipelines.pipeline_stages_api.archive("deals", pipeline.id, signed)
    with pytest.raises(DealError) as refused:
        hs.crm.deals.basic_api.create(
            DealCreate(properties={"dealname": "D", "pipeline": pipeline.id, "dealstage": signed})
        )
    assert refused.value.status == 400 and "INVALID_OPTION" in refused.value.body
    # A stage of that label can be made again, with a new id.
    again = hs.crm.pipelines.pipeline_stages_api.create(
        "deals", pipeline.id, {"label": "Signed", "displayOrder": 1}
    )
    assert again.id not in (intro, signed)
