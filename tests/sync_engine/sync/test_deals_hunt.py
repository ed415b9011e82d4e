"""Deals ⇄ opportunities: sequences across cycles on both sides, numbers, switches."""

from __future__ import annotations

from sync_engine.models import FieldMapping, RecordLink, SyncError
from sync_engine.services import object_settings_update

from . import test_deals
from .test_deals import deal_companies, hs_deal_get, hs_deal_update, new_opportunity

with_companies = test_deals.with_companies


def company_of(account: str) -> str:
    return RecordLink.objects.get(object="companies", salesforce_id=account).hubspot_id


def company_sync(integration, on: bool) -> None:
    object_settings_update(integration=integration, object_name="companies", changes={}, enabled=on)


def account_moved_while_company_sync_off(deals, integration, sf_person, hs_person, name: str):
    """A synced deal whose opportunity moves from account "First" to "Second" while company
    sync is off (read so by a cycle): (deal, opportunity, first, second)."""
    first = sf_person.Account.create({"Name": "First"})["id"]
    second = sf_person.Account.create({"Name": "Second"})["id"]
    opportunity = new_opportunity(sf_person, Name=name, AccountId=first)
    deals.all()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    assert deal_companies(hs_person, deal) == [company_of(first)]
    company_sync(integration, on=False)
    sf_person.Opportunity.update(opportunity, {"AccountId": second})
    deals.all()  # the opportunity is read while company sync is off
    return deal, opportunity, first, second


def test_an_account_changed_while_company_sync_was_off_moves_the_deal_once_it_is_on(
    with_companies,
    integration,
    sf_person,
    hs_person,
):
    deals = with_companies
    deal, opportunity, first, second = account_moved_while_company_sync_off(
        deals, integration, sf_person, hs_person, "Moves account"
    )
    assert deal_companies(hs_person, deal) == [company_of(first)]  # not moved while off

    company_sync(integration, on=True)
    deals.all()
    assert deal_companies(hs_person, deal) == [company_of(second)]
    assert sf_person.Opportunity.get(opportunity)["AccountId"] == second
    idle = deals.all()
    assert not idle.counts.get("associations_to_hubspot")
    assert not idle.counts.get("updated_in_salesforce")
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()


def test_an_amount_with_more_decimals_than_salesforce_keeps_settles_on_its_value(
    deals,
    sf_person,
    hs_person,
):
    opportunity = new_opportunity(sf_person, Name="Decimals", Amount=100)
    deals()
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    FieldMapping.objects.filter(object="deals", hubspot_property="amount").update(rule="two_way")
    hs_deal_update(hs_person, deal, amount="1234.567")
    deals()
    assert sf_person.Opportunity.get(opportunity)["Amount"] == 1234.57
    deals()  # Salesforce's rounding comes back to HubSpot
    assert hs_deal_get(hs_person, deal, "amount")["amount"] == "1234.57"
    idle = deals()
    assert not idle.counts.get("updated_in_hubspot") and not idle.counts.get(
        "updated_in_salesforce"
    )


def test_a_moved_account_of_a_deal_taken_out_of_the_synced_pipelines_isnt_read_every_cycle(
    with_companies, integration, sf_person, hs_person
):
    from sync_engine.sync.deals import ACCOUNT_MOVED

    deals = with_companies
    deal, _opportunity, first, _second = account_moved_while_company_sync_off(
        deals, integration, sf_person, hs_person, "Leaves the pipeline"
    )
    hs_deal_update(hs_person, deal, pipeline="default", dealstage="qualifiedtobuy")
    deals.all()  # out of the synced pipelines now
    company_sync(integration, on=True)
    deals.all()
    assert ACCOUNT_MOVED not in deals.link(hubspot_id=deal).snapshot
    assert deal_companies(hs_person, deal) == [company_of(first)]  # it opted out
