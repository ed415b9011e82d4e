"""Deals merged in HubSpot (spec §10): the link follows the surviving deal, and a merge is
never taken for a delete, so neither side gets a copy of the merged deal."""

from __future__ import annotations

from emulators.testing import advance_clocks
from sync_engine.sync.deals import KEY_PROPERTY as KEY

from .test_deals import hs_deal, hs_deal_get, hs_deal_ids, hs_stage, new_opportunity


def merge_deals(deals, *, survivor: str, merged_away: str) -> None:
    deals.hs_action("merge", object_type="deals", primary_id=survivor, merged_id=merged_away)
    advance_clocks(deals.emulators, 60)


def opportunity_names(sf) -> list[str]:
    return sorted(r["Name"] for r in sf.query("SELECT Name FROM Opportunity")["records"])


def test_a_deal_merged_into_a_new_deal_moves_its_link(deals, sf_person, hs_person):
    """A synced deal merged into one made in HubSpot since: the survivor syncs with the
    merged deal's opportunity. No opportunity is made for the survivor, and the
    opportunity's next edit updates the survivor instead of making a third deal."""
    opportunity = new_opportunity(sf_person, Name="Anvils")
    deals()
    merged_away = deals.link(salesforce_id=opportunity).hubspot_id
    pipeline_id, stage = hs_stage(hs_person, "Needs Analysis")
    survivor = hs_deal(
        hs_person, dealname="Anvils (HubSpot)", pipeline=pipeline_id, dealstage=stage.id
    )
    merge_deals(deals, survivor=survivor, merged_away=merged_away)

    run = deals()
    assert run.counts.get("created_in_salesforce", 0) == 0
    assert opportunity_names(sf_person) == ["Anvils"]
    assert deals.link(salesforce_id=opportunity).hubspot_id == survivor
    # Its name follows the rule (Prefer Salesforce), and the survivor now holds the key.
    synced = hs_deal_get(hs_person, survivor, "dealname", KEY)
    assert (synced["dealname"], synced[KEY]) == ("Anvils", opportunity)

    sf_person.Opportunity.update(opportunity, {"Description": "Rep edit"})
    advance_clocks(deals.emulators, 60)
    run = deals()
    assert run.counts.get("created_in_hubspot", 0) == 0
    assert hs_deal_ids(hs_person) == [survivor]
    assert hs_deal_get(hs_person, survivor, "description")["description"] == "Rep edit"


def test_an_opportunity_edit_finds_its_deal_merged_into_a_new_one(deals, sf_person, hs_person):
    """The opportunity changes before any HubSpot read sees the merge: reading the merged
    deal answers with the survivor, which the link follows; no new deal is made."""
    opportunity = new_opportunity(sf_person, Name="Anvils")
    deals()
    deals()  # reads back its own writes
    merged_away = deals.link(salesforce_id=opportunity).hubspot_id
    pipeline_id, stage = hs_stage(hs_person, "Needs Analysis")
    survivor = hs_deal(
        hs_person, dealname="Anvils (HubSpot)", pipeline=pipeline_id, dealstage=stage.id
    )
    merge_deals(deals, survivor=survivor, merged_away=merged_away)
    sf_person.Opportunity.update(opportunity, {"Description": "Rep edit"})
    advance_clocks(deals.emulators, 60)

    deals()
    deals()
    assert hs_deal_ids(hs_person) == [survivor]
    assert len(opportunity_names(sf_person)) == 1
    assert deals.link(salesforce_id=opportunity).hubspot_id == survivor
    assert hs_deal_get(hs_person, survivor, "description")["description"] == "Rep edit"


def test_a_deal_merged_into_a_synced_deal_is_no_delete(deals, sf_person, hs_person):
    """Two synced deals merged: the survivor keeps its own opportunity; the merged deal's
    opportunity loses its link, and is neither deleted nor given a copy of the survivor."""
    first = new_opportunity(sf_person, Name="First")
    second = new_opportunity(sf_person, Name="Second")
    deals()
    deals()
    merge_deals(
        deals,
        survivor=deals.link(salesforce_id=first).hubspot_id,
        merged_away=deals.link(salesforce_id=second).hubspot_id,
    )
    run = deals()
    assert run.counts.get("created_in_salesforce", 0) == 0
    assert opportunity_names(sf_person) == ["First", "Second"]
    assert deals.links().count() == 1
    assert len(hs_deal_ids(hs_person)) == 1
