"""Deals left in a retired pipeline (spec §10): the default pipeline, once the org has
several record types, or one deleted in HubSpot and built again. They move to their
opportunity's pipeline, a slice per cycle, without their opportunity changing. End to end
through the official clients and the emulators (on SQLite, the embedded database)."""

from __future__ import annotations

from sync_engine.models import SyncError

from .test_deals import hs_deal_get, hs_stage, new_opportunity
from .test_deals_pipelines import an_hour_later


def test_a_deal_in_the_default_pipeline_moves_once_a_second_record_type_appears(
    deals, sf_person, hs_person
):
    """The org had one record type (one default pipeline); a second one gets each its own
    pipeline. The old opportunity doesn't change, yet its deal leaves the retired pipeline."""
    first = deals.sf_action("add_record_type", object="Opportunity", label="New Business")
    early = new_opportunity(sf_person, Name="Old one", StageName="Qualification")
    deals()
    deal = deals.link(salesforce_id=early).hubspot_id
    assert (
        hs_deal_get(hs_person, deal, "pipeline")["pipeline"]
        == hs_stage(hs_person, "Qualification")[0]
    )
    deals.sf_action("add_record_type", object="Opportunity", label="Renewal")
    an_hour_later(deals)
    deals()
    deals()
    pipeline_id, stage = hs_stage(hs_person, "Qualification", f"Salesforce – {first}")
    props = hs_deal_get(hs_person, deal, "pipeline", "dealstage")
    assert (props["pipeline"], props["dealstage"]) == (pipeline_id, stage.id)
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_a_deal_left_in_a_deleted_pipeline_moves_to_the_one_built_again(
    deals, sf_person, hs_person
):
    early = new_opportunity(sf_person, Name="Left behind", StageName="Qualification")
    deals()
    deal = deals.link(salesforce_id=early).hubspot_id
    hs_person.crm.pipelines.pipelines_api.archive("deals", deals.pipeline()["id"])
    new_opportunity(sf_person, Name="After the delete")
    deals()  # the new deal's refusal builds the pipeline again
    deals()
    pipeline_id, stage = hs_stage(hs_person, "Qualification")
    props = hs_deal_get(hs_person, deal, "pipeline", "dealstage")
    assert (props["pipeline"], props["dealstage"]) == (pipeline_id, stage.id)
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
