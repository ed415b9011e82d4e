"""Deal pipelines kept in step with Salesforce's ``StageName`` picklist after they were made
(spec §10): stages added, deactivated or changed in Setup, deals moved out and back in."""

from __future__ import annotations

from sync_engine.models import SchemaCache, SyncError
from sync_engine.sync.pipelines import DEFAULT_LABEL

from .helpers import set_rule
from .test_deals import (
    hs_deal,
    hs_deal_get,
    hs_deal_ids,
    hs_deal_update,
    hs_pipelines,
    hs_stage,
    new_opportunity,
)


def an_hour_later(deals) -> None:
    """The hourly describe is due again."""
    state = SchemaCache.objects.get(integration=deals.integration, object="deals:pipelines")
    state.data = {**state.data, "checked_at": "2020-01-01T00:00:00+00:00"}
    state.save()


def open_errors():
    return list(SyncError.objects.filter(object="deals", resolved_at__isnull=True))


def test_a_stage_made_won_in_salesforce_becomes_a_won_stage_in_hubspot(deals, hs_person):
    deals()
    assert hs_stage(hs_person, "Negotiation/Review")[1].metadata["isClosed"] == "false"
    deals.sf_action("set_opportunity_stage", value="Negotiation/Review", won=True)
    deals.sf_action("set_opportunity_stage", value="Prospecting", probability=25)
    an_hour_later(deals)
    deals()
    assert hs_stage(hs_person, "Negotiation/Review")[1].metadata == {
        "isClosed": "true",
        "probability": "1.0",
    }
    assert hs_stage(hs_person, "Prospecting")[1].metadata["probability"] == "0.25"


def test_a_stage_added_in_salesforce_appears_in_the_pipeline(deals, sf_person, hs_person):
    deals()
    deals.sf_action("set_opportunity_stage", value="Legal Review", probability=85)
    opportunity = new_opportunity(sf_person, Name="In legal", StageName="Legal Review")
    deals()
    pipeline_id, stage = hs_stage(hs_person, "Legal Review")
    props = hs_deal_get(hs_person, deals.link(salesforce_id=opportunity).hubspot_id, "dealstage")
    assert props["dealstage"] == stage.id
    assert stage.metadata == {"isClosed": "false", "probability": "0.85"}
    assert not open_errors()


def test_a_deal_in_a_stage_deactivated_in_salesforce_keeps_syncing(deals, sf_person, hs_person):
    opportunity = new_opportunity(sf_person, Name="Stuck", StageName="Needs Analysis")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    _, stage = hs_stage(hs_person, "Needs Analysis")
    deals.sf_action("set_opportunity_stage", value="Needs Analysis", active=False)
    an_hour_later(deals)
    deals()
    sf_person.Opportunity.update(opportunity, {"Name": "Stuck, renamed"})
    deals()
    props = hs_deal_get(hs_person, deal, "dealname", "dealstage")
    assert props == {**props, "dealname": "Stuck, renamed", "dealstage": stage.id}
    hs_deal_update(hs_person, deal, description="Edited in HubSpot")
    deals()
    record = sf_person.Opportunity.get(opportunity)
    assert record["StageName"] == "Needs Analysis"
    assert record["Description"] == "Edited in HubSpot"
    assert not open_errors()


def pipeline_stages(hs_person) -> list[str]:
    """The Salesforce pipeline's live stages, in HubSpot's order."""
    pipeline = next(p for p in hs_pipelines(hs_person) if p.label == DEFAULT_LABEL)
    live = [s for s in pipeline.stages if not s.archived]
    return [s.label for s in sorted(live, key=lambda s: s.display_order)]


def test_an_opportunity_in_a_value_deactivated_before_the_first_sync_gets_its_stage(
    deals, sf_person, hs_person
):
    """Years-old opportunities sit in values since deactivated in Setup: each value a synced
    opportunity holds becomes a stage of its pipeline (once, after the active ones, closed
    as Salesforce says), so history syncs instead of failing for ever."""
    old = [new_opportunity(sf_person, Name=f"Old {n}", StageName="Needs Analysis") for n in (1, 2)]
    deals.sf_action("set_opportunity_stage", value="Needs Analysis", active=False)
    deals.sf_action("set_opportunity_stage", value="Perception Analysis", active=False)
    deals.sf_action("set_opportunity_stage", value="Lost to a rival", closed=True, won=False)
    lost = new_opportunity(sf_person, Name="Older", StageName="Lost to a rival")
    deals.sf_action("set_opportunity_stage", value="Lost to a rival", active=False)
    new_opportunity(sf_person, Name="Current", StageName="Prospecting")
    deals()
    assert not open_errors()
    stages = pipeline_stages(hs_person)
    assert stages.count("Needs Analysis") == 1 and stages.count("Lost to a rival") == 1
    assert stages.index("Needs Analysis") > stages.index("Closed Lost")
    _, analysis = hs_stage(hs_person, "Needs Analysis")
    for opportunity in old:
        deal = deals.link(salesforce_id=opportunity).hubspot_id
        assert hs_deal_get(hs_person, deal, "dealstage")["dealstage"] == analysis.id
    _, rival = hs_stage(hs_person, "Lost to a rival")
    assert rival.metadata == {"isClosed": "true", "probability": "0.0"}
    deal = deals.link(salesforce_id=lost).hubspot_id
    assert hs_deal_get(hs_person, deal, "dealstage")["dealstage"] == rival.id
    # A deactivated value no opportunity holds makes no stage.
    assert "Perception Analysis" not in stages
    an_hour_later(deals)
    deals()
    assert pipeline_stages(hs_person) == stages


def test_an_opportunity_in_a_value_the_pipeline_never_had_gets_its_stage(
    deals, sf_person, hs_person
):
    """The pipeline exists; a value added and deactivated in Setup between two cycles (or an
    import's old record in one) reaches an opportunity the pipeline hasn't seen: its stage is
    added, and the deal lands in it."""
    deals()
    deals.sf_action("set_opportunity_stage", value="Legacy review", probability=40)
    old = new_opportunity(sf_person, Name="Dormant", StageName="Legacy review")
    deals.sf_action("set_opportunity_stage", value="Legacy review", active=False)
    deals()
    assert not open_errors()
    _, legacy = hs_stage(hs_person, "Legacy review")
    assert legacy.metadata == {"isClosed": "false", "probability": "0.4"}
    deal = deals.link(salesforce_id=old).hubspot_id
    assert hs_deal_get(hs_person, deal, "dealstage")["dealstage"] == legacy.id


def test_a_stage_hubspot_refuses_fails_only_its_opportunities_and_is_tried_hourly(
    deals, emulators, sf_person, hs_person
):
    """HubSpot refuses the stage for a deactivated value (its limit on stages): the other
    deals sync, the opportunity's error gives HubSpot's reason, the next cycles don't ask
    again, and the hourly describe does."""
    deals()
    deals.sf_action("set_opportunity_stage", value="Legacy review", probability=40)
    old = new_opportunity(sf_person, Name="Dormant", StageName="Legacy review")
    deals.sf_action("set_opportunity_stage", value="Legacy review", active=False)
    fresh = new_opportunity(sf_person, Name="Fresh", StageName="Prospecting")
    message = "You have reached the maximum number of stages for this pipeline"
    refusal = emulators.hubspot.app.faults.add(
        path=r"/crm/v3/pipelines/deals/[^/]+/stages$", method="POST", status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": message},
    )  # fmt: skip
    run = deals()
    assert run.status == "succeeded", run.message
    assert deals.link(salesforce_id=fresh).hubspot_id
    [error] = open_errors()
    assert (error.error_type, error.salesforce_id) == ("picklist", old)
    assert "Legacy review" in error.message and message in error.message
    sf_person.Opportunity.update(old, {"Name": "Dormant, edited"})
    deals()
    assert refusal.fired == 1  # not again every cycle

    emulators.hubspot.app.faults.remove(refusal.id)
    an_hour_later(deals)
    sf_person.Opportunity.update(old, {"Name": "Dormant, edited again"})
    deals()
    _, legacy = hs_stage(hs_person, "Legacy review")
    deal = deals.link(salesforce_id=old).hubspot_id
    assert hs_deal_get(hs_person, deal, "dealstage")["dealstage"] == legacy.id
    assert not open_errors()


def test_a_deal_moved_out_and_back_into_its_pipeline_resumes_without_a_duplicate(
    deals, sf_person, hs_person
):
    opportunity = new_opportunity(sf_person, Name="Wanders")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="qualifiedtobuy")
    deals()
    sf_person.Opportunity.update(opportunity, {"Name": "Renamed while away"})
    deals()
    _, qualification = hs_stage(hs_person, "Qualification")
    hs_deal_update(hs_person, deal, pipeline=pipeline_id, dealstage=qualification.id)
    deals()
    deals()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 1
    assert hs_deal_ids(hs_person) == [deal]
    assert hs_deal_get(hs_person, deal, "dealname")["dealname"] == "Renamed while away"
    assert not open_errors()


def test_a_deal_in_a_stage_made_in_hubspot_never_clears_the_opportunity_stage(
    deals, integration, sf_person, hs_person
):
    set_rule(integration, "dealstage", "two_way")
    opportunity = new_opportunity(sf_person, Name="Odd stage", StageName="Qualification")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    pipeline_id, qualification = hs_stage(hs_person, "Qualification")
    made = hs_person.crm.pipelines.pipeline_stages_api.create(
        "deals",
        pipeline_id,
        {"label": "Verbal commit", "displayOrder": 50, "metadata": {"probability": "0.7"}},
    )
    hs_deal_update(hs_person, deal, dealstage=made.id, description="Moved in HubSpot")
    deals()
    # The other edits sync; the stage stays, with an error that names it.
    record = sf_person.Opportunity.get(opportunity)
    assert record["StageName"] == "Qualification"
    assert record["Description"] == "Moved in HubSpot"
    [error] = open_errors()
    assert (error.error_type, error.record_key) == ("picklist", f"hubspot:{deal}")
    assert "'Verbal commit' is not a value of the Salesforce Stage" in error.message
    # A new deal in that stage creates no opportunity without a stage.
    new = hs_deal(
        hs_person,
        dealname="Made in HubSpot",
        closedate="2026-11-30",
        pipeline=pipeline_id,
        dealstage=made.id,
    )
    deals()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 1
    assert {e.record_key for e in open_errors()} == {f"hubspot:{deal}", f"hubspot:{new}"}
    # Moved to a Salesforce stage, both sync and their errors end.
    hs_deal_update(hs_person, deal, dealstage=qualification.id)
    hs_deal_update(hs_person, new, dealstage=qualification.id)
    deals()
    assert sf_person.query("SELECT Id FROM Opportunity")["totalSize"] == 2
    assert deals.link(hubspot_id=new)
    assert not open_errors()


def test_an_opportunity_whose_record_type_changes_moves_its_deal_to_that_pipeline(
    deals, sf_person, hs_person
):
    first = deals.sf_action("add_record_type", object="Opportunity", label="New Business")
    second = deals.sf_action("add_record_type", object="Opportunity", label="Renewal")
    opportunity = new_opportunity(
        sf_person, Name="Switches", RecordTypeId=first, StageName="Qualification"
    )
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    sf_person.Opportunity.update(
        opportunity, {"RecordTypeId": second, "StageName": "Proposal/Price Quote"}
    )
    deals()
    pipeline_id, stage = hs_stage(hs_person, "Proposal/Price Quote", f"Salesforce – {second}")
    props = hs_deal_get(hs_person, deal, "pipeline", "dealstage")
    assert (props["pipeline"], props["dealstage"]) == (pipeline_id, stage.id)
    idle = deals()
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get(
        "updated_in_salesforce"
    )
    assert not open_errors()


def test_an_opportunity_restored_from_the_recycle_bin_gets_a_deal_again(
    deals, sf_person, hs_person
):
    opportunity = new_opportunity(sf_person, Name="Comes back")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    sf_person.Opportunity.delete(opportunity)
    deals()
    assert deal not in hs_deal_ids(hs_person)
    deals.sf_action("undelete", id=opportunity)
    deals()
    assert len(hs_deal_ids(hs_person)) == 1
    assert deals.link(salesforce_id=opportunity)


def test_a_blip_reading_the_stages_leaves_their_probabilities_alone(deals, emulators, hs_person):
    deals.sf_action("set_opportunity_stage", value="Prospecting", probability=25)
    deals()
    assert hs_stage(hs_person, "Prospecting")[1].metadata["probability"] == "0.25"
    blip = emulators.salesforce.app.faults.add(
        path=r"/query/?$", method="GET", status=503, headers={"Retry-After": "0"}, times=4
    )
    an_hour_later(deals)
    deals()
    assert blip.fired == 4  # OpportunityStage unread: its last read stands
    assert hs_stage(hs_person, "Prospecting")[1].metadata["probability"] == "0.25"


def test_a_stage_renamed_in_hubspot_keeps_its_deals_when_the_picklist_changes(
    deals, sf_person, hs_person
):
    opportunity = new_opportunity(sf_person, Name="Renamed stage", StageName="Qualification")
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    pipeline_id, stage = hs_stage(hs_person, "Qualification")
    hs_person.crm.pipelines.pipeline_stages_api.update(
        "deals", pipeline_id, stage.id, {"label": "Qualifying (SF)"}
    )
    deals.sf_action("set_opportunity_stage", value="Legal Review", probability=85)
    an_hour_later(deals)
    deals()
    sf_person.Opportunity.update(opportunity, {"Name": "Renamed stage, edited"})
    deals()
    props = hs_deal_get(hs_person, deal, "dealname", "dealstage")
    assert props["dealname"] == "Renamed stage, edited" and props["dealstage"] == stage.id
    [pipeline] = [p for p in hs_pipelines(hs_person) if p.id == pipeline_id]
    labels = [s.label for s in pipeline.stages if not s.archived]
    assert "Qualification" not in labels and "Qualifying (SF)" in labels
    assert not open_errors()
