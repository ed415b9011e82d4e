"""A multi-currency Salesforce org: an opportunity's amount goes with its currency, both ways,
and never lands in another currency."""

from __future__ import annotations

from sync_engine.models import FieldMapping, SyncError

from .test_deals import hs_deal, hs_deal_get, hs_stage, new_opportunity


def currencies(deals, *, salesforce: list[str], hubspot: list[str]) -> None:
    """The org's active currencies (the first is the corporate one) and HubSpot's (the first
    is the company currency), before the deals' first cycle reads the schemas."""
    deals.sf_action("enable_multi_currency", corporate=salesforce[0], currencies=salesforce[1:])
    deals.hs_action("set_currencies", company=hubspot[0], additional=hubspot[1:])


def amount_and_currency(hs, deal_id) -> tuple[float | None, str]:
    props = hs_deal_get(hs, deal_id, "amount", "deal_currency_code")
    return (float(props["amount"]) if props.get("amount") else None,
            props.get("deal_currency_code") or "")  # fmt: skip


def test_an_opportunity_s_currency_goes_with_its_amount_both_ways(deals, sf_person, hs_person):
    currencies(deals, salesforce=["USD", "EUR", "GBP"], hubspot=["EUR", "USD", "GBP"])
    euros = new_opportunity(sf_person, Name="Euros", Amount=1200, CurrencyIsoCode="EUR")
    dollars = new_opportunity(sf_person, Name="Dollars", Amount=300)  # the corporate currency
    run = deals()
    assert run.counts["created_in_hubspot"] == 2
    mapping = FieldMapping.objects.get(object="deals", hubspot_property="deal_currency_code")
    assert mapping.salesforce_field == "CurrencyIsoCode" and mapping.is_default
    assert mapping.rule == FieldMapping.objects.get(object="deals", hubspot_property="amount").rule
    assert amount_and_currency(hs_person, deals.link(salesforce_id=euros).hubspot_id) == (
        1200.0, "EUR")  # fmt: skip
    assert amount_and_currency(hs_person, deals.link(salesforce_id=dollars).hubspot_id) == (
        300.0, "USD")  # fmt: skip

    # Moved to pounds in Salesforce: the deal follows, amount and currency together.
    sf_person.Opportunity.update(euros, {"CurrencyIsoCode": "GBP", "Amount": 1000})
    deals()
    assert amount_and_currency(hs_person, deals.link(salesforce_id=euros).hubspot_id) == (
        1000.0, "GBP")  # fmt: skip

    # Deals made in HubSpot: in their currency, or, without one, in the company currency
    # (euros here), not in the integration user's (dollars).
    pipeline_id, stage = hs_stage(hs_person, "Prospecting")
    pounds = hs_deal(hs_person, dealname="Pounds", amount="70", deal_currency_code="GBP",
                     closedate="2026-10-01", pipeline=pipeline_id, dealstage=stage.id)  # fmt: skip
    plain = hs_deal(hs_person, dealname="Plain", amount="80", closedate="2026-10-01",
                    pipeline=pipeline_id, dealstage=stage.id)  # fmt: skip
    assert deals().counts["created_in_salesforce"] == 2
    for deal, expected in ((pounds, (70, "GBP")), (plain, (80, "EUR"))):
        opportunity = sf_person.Opportunity.get(deals.link(hubspot_id=str(deal)).salesforce_id)
        assert (opportunity["Amount"], opportunity["CurrencyIsoCode"]) == expected
    deals()  # reads back its own writes
    idle = deals()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))
    assert hs_deal_get(hs_person, str(plain), "deal_currency_code")["deal_currency_code"] in (
        None, "")  # fmt: skip  # the company currency is no change to write back


def test_a_currency_hubspot_lacks_holds_the_amount_with_an_error_until_it_is_added(
    deals, sf_person, hs_person
):
    currencies(deals, salesforce=["USD", "CHF"], hubspot=["USD"])
    francs = new_opportunity(sf_person, Name="Francs", Amount=500, CurrencyIsoCode="CHF")
    deals()
    deal = deals.link(salesforce_id=francs).hubspot_id
    assert hs_deal_get(hs_person, deal, "dealname")["dealname"] == "Francs"
    assert amount_and_currency(hs_person, deal) == (None, "")  # not 500 dollars
    [error] = SyncError.objects.filter(object="deals", resolved_at__isnull=True)
    assert error.error_type == "picklist" and "'CHF'" in error.message
    assert "Account defaults > Currencies" in error.message

    # Added in HubSpot's settings: the next change of the opportunity brings both.
    deals.hs_action("set_currencies", company="USD", additional=["CHF"])
    sf_person.Opportunity.update(francs, {"Description": "Swiss office"})
    deals()
    assert amount_and_currency(hs_person, deal) == (500.0, "CHF")
    assert not SyncError.objects.filter(object="deals", resolved_at__isnull=True).exists()


def test_a_single_currency_org_maps_no_currency(deals, sf_person, hs_person):
    new_opportunity(sf_person, Name="Plain", Amount=10)
    deals()
    assert not FieldMapping.objects.filter(hubspot_property="deal_currency_code").exists()


def test_a_currency_salesforce_lacks_holds_the_amount_back_too(deals, sf_person, hs_person):
    from .test_deals import hs_deal_update

    currencies(deals, salesforce=["USD", "EUR"], hubspot=["EUR", "USD", "JPY"])
    opportunity = new_opportunity(sf_person, Name="Yen soon", Amount=40, CurrencyIsoCode="USD")
    deals()
    FieldMapping.objects.filter(
        object="deals", hubspot_property__in=["amount", "deal_currency_code", "description"]
    ).update(rule="two_way")
    deal = deals.link(salesforce_id=opportunity).hubspot_id
    deals()  # reads back its own writes
    hs_deal_update(hs_person, deal, amount="5000", deal_currency_code="JPY", description="Tokyo")
    deals()
    record = sf_person.Opportunity.get(opportunity)
    # The description goes; 5,000 yen never becomes 5,000 dollars.
    assert (record["Description"], record["Amount"], record["CurrencyIsoCode"]) == (
        "Tokyo", 40, "USD")  # fmt: skip
    [error] = SyncError.objects.filter(object="deals", resolved_at__isnull=True)
    assert "JPY" in error.message and "CurrencyIsoCode" in error.fields

    # The org activates yen: the deal's next change brings amount and currency together.
    deals.sf_action("enable_multi_currency", corporate="USD", currencies=["JPY"])
    hs_deal_update(hs_person, deal, description="Tokyo office")
    deals()
    record = sf_person.Opportunity.get(opportunity)
    assert (record["Description"], record["Amount"], record["CurrencyIsoCode"]) == (
        "Tokyo office", 5000, "JPY")  # fmt: skip
    assert not SyncError.objects.filter(object="deals", resolved_at__isnull=True).exists()


def test_an_admin_s_own_mapping_of_the_currency_stays(deals, integration, sf_person, hs_person):
    """The org's currency already mapped by an admin (to another deal property): the schema
    read maps nothing more, and the cycle syncs on."""
    currencies(deals, salesforce=["USD", "EUR"], hubspot=["EUR", "USD"])
    FieldMapping.objects.create(integration=integration, object="deals",
                                hubspot_property="hs_next_step", salesforce_field="CurrencyIsoCode",
                                salesforce_fields={"Opportunity": "CurrencyIsoCode"},
                                rule="prefer_salesforce_unless_blank")  # fmt: skip
    opportunity = new_opportunity(sf_person, Name="Mapped", Amount=5, CurrencyIsoCode="EUR")
    assert deals().status == "succeeded"
    assert list(
        FieldMapping.objects.filter(object="deals", salesforce_field="CurrencyIsoCode").values_list(
            "hubspot_property", flat=True
        )
    ) == ["hs_next_step"]
    assert not FieldMapping.objects.filter(hubspot_property="deal_currency_code").exists()
    assert deals.link(salesforce_id=opportunity)
