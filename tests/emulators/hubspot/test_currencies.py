"""The account's currencies: account-info reports them and deals' currency offers them."""

from __future__ import annotations

import pytest
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate
from hubspot.crm.deals.exceptions import ApiException

from .conftest import control


def details(hs) -> dict:
    return hs.api_request({"method": "GET", "path": "/account-info/v3/details"}).json()


def offered(hs) -> list[str]:
    prop = hs.crm.properties.core_api.get_by_name("deals", "deal_currency_code")
    return [o.value for o in prop.options]


def test_a_deal_takes_the_account_currencies_only(hs, base_url):
    assert details(hs)["companyCurrency"] == "EUR" and details(hs)["additionalCurrencies"] == []
    assert offered(hs) == ["EUR"]
    response = control(base_url, "set_currencies", company="USD", additional=["EUR", "GBP"])
    assert response.status_code == 200
    assert details(hs)["companyCurrency"] == "USD"
    assert details(hs)["additionalCurrencies"] == ["EUR", "GBP"]
    assert offered(hs) == ["USD", "EUR", "GBP"]
    deal = hs.crm.deals.basic_api.create(
        DealCreate(properties={"dealname": "Pounds", "amount": "10", "deal_currency_code": "GBP"})
    )
    assert deal.properties["deal_currency_code"] == "GBP"
    with pytest.raises(ApiException) as refused:
        hs.crm.deals.basic_api.create(
            DealCreate(properties={"dealname": "Yen", "deal_currency_code": "JPY"})
        )
    assert refused.value.status == 400 and "JPY was not one of the allowed options" in (
        refused.value.body
    )
    assert control(base_url, "set_currencies", company="usd").status_code == 400
