"""Deal pipelines (spec §10) deleted in HubSpot after the engine built them: the synced
pipeline, or one of its stages, deleted in HubSpot's settings. The deal writes naming it must
not fail cycle after cycle with HubSpot's raw refusal: what is gone is built again and the
writes go again in the same cycle. End to end through the official clients and emulators."""

from __future__ import annotations

import pytest

from sync_engine.models import ApiCall, FieldMapping, SchemaCache, SyncError
from sync_engine.sync.pipelines import DEFAULT_LABEL

from .test_deals import hs_deal_get, hs_deal_update, hs_pipelines, hs_stage, new_opportunity


def open_errors() -> list[tuple[str, str, str]]:
    return list(
        SyncError.objects.filter(object="deals", resolved_at__isnull=True).values_list(
            "error_type", "code", "message"
        )
    )


def pipeline_reads(deals, since: int) -> int:
    return ApiCall.objects.filter(
        integration=deals.integration, id__gt=since, operation="deals.pipelines.list"
    ).count()


def last_call() -> int:
    return ApiCall.objects.order_by("-id").values_list("id", flat=True).first() or 0


def stored(deals) -> dict:
    return SchemaCache.objects.get(integration=deals.integration, object="deals:pipelines").data


def test_a_synced_pipeline_deleted_in_hubspot_is_made_again_for_new_deals(
    deals, sf_person, hs_person
):
    """An admin tidying HubSpot's settings deleted "Salesforce – default pipeline". The next
    opportunity still gets its deal: in a new pipeline of that name, in the same cycle."""
    early = new_opportunity(sf_person, Name="Early", StageName="Qualification")
    deals()
    old = deals.pipeline()["id"]
    hs_person.crm.pipelines.pipelines_api.archive("deals", old)
    opportunity = new_opportunity(sf_person, Name="After the delete", StageName="Prospecting")
    sf_person.Opportunity.update(early, {"Name": "Early, renamed"})
    since = last_call()
    run = deals()
    assert run.counts.get("created_in_hubspot") == 1, (run.counts, open_errors())
    assert run.counts["pipelines_created"] == 1
    assert open_errors() == []
    assert pipeline_reads(deals, since) == 1
    [pipeline] = [p for p in hs_pipelines(hs_person) if p.label == DEFAULT_LABEL]
    assert pipeline.id != old and deals.pipeline()["id"] == pipeline.id
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    props = hs_deal_get(hs_person, deal, "pipeline", "dealstage")
    assert (props["pipeline"], props["dealstage"]) == (pipeline_id, stage.id)
    # The deal left in the deleted pipeline takes its opportunity's edit, and nothing fails.
    early_deal = deals.link(salesforce_id=early).hubspot_id
    assert hs_deal_get(hs_person, early_deal, "dealname")["dealname"] == "Early, renamed"
    deals()
    assert open_errors() == []
    since = last_call()
    idle = deals()
    assert not idle.counts.get("failed") and not idle.counts.get("pipelines_created")
    assert pipeline_reads(deals, since) == 0


def test_a_stage_deleted_in_hubspot_is_made_again_when_a_deal_moves_to_it(
    deals, sf_person, hs_person
):
    """Nobody used "Negotiation/Review" yet, so an admin deleted the stage. An opportunity
    moved to it later lands in a new stage of that name."""
    opportunity = new_opportunity(sf_person, Name="Moving on", StageName="Prospecting")
    deals()
    pipeline_id, old = hs_stage(hs_person, "Negotiation/Review")
    hs_person.crm.pipelines.pipeline_stages_api.archive("deals", pipeline_id, old.id)
    sf_person.Opportunity.update(opportunity, {"StageName": "Negotiation/Review"})
    run = deals()
    assert run.counts.get("updated_in_hubspot") == 1, (run.counts, open_errors())
    assert run.counts["pipeline_stages_created"] == 1
    assert open_errors() == []
    _, stage = hs_stage(hs_person, "Negotiation/Review")
    assert stage.id != old.id and stage.metadata == old.metadata
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    props = hs_deal_get(hs_person, deal, "pipeline", "dealstage")
    assert (props["pipeline"], props["dealstage"]) == (pipeline_id, stage.id)
    [kept] = stored(deals)["pipelines"]
    assert kept["stages"]["Negotiation/Review"] == stage.id
    idle = deals()
    assert not idle.counts.get("failed") and not idle.counts.get("pipeline_stages_created")


def test_a_stage_refusal_with_the_pipelines_intact_is_an_error_and_builds_nothing(
    deals, emulators, sf_person, hs_person
):
    """HubSpot refuses a deal's stage for another reason: the pipelines are read once, nothing
    is built, and the opportunity gets HubSpot's error."""
    deals()
    emulators.hubspot.app.faults.add(
        path=r"/crm/v3/objects/deals/batch/upsert",
        status=400,
        body={
            "status": "error",
            "category": "VALIDATION_ERROR",
            "message": 'Property values were not valid: [{"isValid":false,"message":"Stage '
            'is locked","error":"INVALID_OPTION","name":"dealstage"}]',
        },
        times=2,
    )
    new_opportunity(sf_person, Name="Locked", StageName="Prospecting")
    since = last_call()
    run = deals()
    assert pipeline_reads(deals, since) == 1
    assert not run.counts.get("pipelines_created") and not run.counts.get("pipeline_stages_created")
    assert run.counts["failed"] == 1
    assert [(t, c) for t, c, _ in open_errors()] == [("picklist", "VALIDATION_ERROR")]


@pytest.mark.parametrize("rule", ["prefer_salesforce_unless_blank", "two_way"])
def test_deals_left_in_a_stage_deleted_in_hubspot_move_to_its_new_stage(
    deals, sf_person, hs_person, rule
):
    """An admin deleted "Prospecting" through HubSpot's API, which leaves its deals in it, and
    a new opportunity built the stage again. A deal left in the deleted stage still holds
    Prospecting: when HubSpot's side of it is next read, it moves to the new stage, whatever
    the stage mapping's rule, without an unknown-stage error, and its opportunity keeps its
    stage."""
    FieldMapping.objects.filter(object="deals", hubspot_property="dealstage").update(rule=rule)
    kept = new_opportunity(sf_person, Name="Kept", StageName="Prospecting")
    deals()
    pipeline_id, old = hs_stage(hs_person, "Prospecting")
    hs_person.crm.pipelines.pipeline_stages_api.archive("deals", pipeline_id, old.id)
    new_opportunity(sf_person, Name="New", StageName="Prospecting")
    run = deals()
    assert run.counts["pipeline_stages_created"] == 1, (run.counts, open_errors())
    kept_deal = deals.link(salesforce_id=kept).hubspot_id
    assert hs_deal_get(hs_person, kept_deal, "dealstage")["dealstage"] == old.id

    hs_deal_update(hs_person, kept_deal, description="Edited in HubSpot")
    run = deals()
    assert open_errors() == [], run.counts
    _, prospecting = hs_stage(hs_person, "Prospecting")
    assert hs_deal_get(hs_person, kept_deal, "dealstage")["dealstage"] == prospecting.id
    assert sf_person.Opportunity.get(kept)["StageName"] == "Prospecting"
    [pipeline] = stored(deals)["pipelines"]
    assert pipeline["gone"] == {old.id: "Prospecting"}
    deals()
    idle = deals()
    assert not idle.counts.get("updated_in_hubspot") and open_errors() == []
