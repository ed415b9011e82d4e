"""A multi-currency org: ``CurrencyIsoCode`` on the objects that hold amounts, restricted to
the active currencies, the corporate one by default."""

# ruff: noqa: S608 - the f-strings here build SOQL for an in-memory emulator, not SQL

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def currency_field(sf, sobject: str) -> dict | None:
    return next((f for f in sf.restful(f"sobjects/{sobject}/describe")["fields"]
                 if f["name"] == "CurrencyIsoCode"), None)  # fmt: skip


def test_a_single_currency_org_has_no_currency_field(sf):
    assert currency_field(sf, "Opportunity") is None


def test_turning_it_on_gives_every_amount_object_its_currency(sf, app, control):
    before = sf.Opportunity.create({"Name": "Old", "StageName": "Prospecting",
                                    "CloseDate": "2026-03-01"})["id"]  # fmt: skip
    response = control("actions/enable_multi_currency", {"corporate": "USD",
                                                         "currencies": ["EUR", "GBP"]})  # fmt: skip
    assert response.status_code == 200
    field = currency_field(sf, "Opportunity")
    assert field["type"] == "picklist" and field["restrictedPicklist"] is True
    assert field["label"] == "Opportunity Currency" and field["custom"] is False
    assert [v["value"] for v in field["picklistValues"]] == ["USD", "EUR", "GBP"]
    assert [v["value"] for v in field["picklistValues"] if v["defaultValue"]] == ["USD"]
    for sobject in ("Lead", "Contact", "Account", "Case", "Task"):
        assert currency_field(sf, sobject) is not None, sobject
    assert sf.Opportunity.get(before)["CurrencyIsoCode"] == "USD"  # existing: corporate

    euro = sf.Opportunity.create({"Name": "Euro", "StageName": "Prospecting",
                                  "CloseDate": "2026-03-01", "Amount": 1200,
                                  "CurrencyIsoCode": "EUR"})["id"]  # fmt: skip
    plain = sf.Opportunity.create({"Name": "Plain", "StageName": "Prospecting",
                                   "CloseDate": "2026-03-01"})["id"]  # fmt: skip
    rows = sf.query(f"SELECT Id, CurrencyIsoCode, Amount FROM Opportunity WHERE Id IN "
                    f"('{euro}', '{plain}')")["records"]  # fmt: skip
    assert {r["Id"]: r["CurrencyIsoCode"] for r in rows} == {euro: "EUR", plain: "USD"}
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Opportunity.update(euro, {"CurrencyIsoCode": "JPY"})
    assert refused.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "JPY" in refused.value.content[0]["message"]

    # Activating another currency later keeps the corporate one and the records' currencies.
    app.run_action("enable_multi_currency", corporate="CHF", currencies=["JPY"])
    field = currency_field(sf, "Opportunity")
    assert [v["value"] for v in field["picklistValues"] if v["defaultValue"]] == ["USD"]
    sf.Opportunity.update(euro, {"CurrencyIsoCode": "JPY"})
    assert sf.Opportunity.get(euro)["CurrencyIsoCode"] == "JPY"
    assert sf.Opportunity.get(plain)["CurrencyIsoCode"] == "USD"


def test_the_org_resets_to_a_single_currency(sf, app, emulators):
    from emulators.testing import reset_emulators

    app.run_action("enable_multi_currency", corporate="USD", currencies=["EUR"])
    reset_emulators(emulators)
    assert currency_field(sf, "Opportunity") is None


def test_currency_types_hold_the_rates_of_a_multi_currency_org_only(sf, app):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.query("SELECT IsoCode FROM CurrencyType")
    assert refused.value.content[0]["errorCode"] == "INVALID_TYPE"  # a single-currency org

    app.run_action("enable_multi_currency", corporate="USD", currencies=["EUR", "GBP"],
                   rates={"EUR": 0.9, "GBP": 0.8})  # fmt: skip
    rows = sf.query("SELECT IsoCode, ConversionRate, DecimalPlaces, IsActive, IsCorporate "
                    "FROM CurrencyType ORDER BY IsoCode")["records"]  # fmt: skip
    assert [(r["IsoCode"], r["ConversionRate"], r["IsActive"], r["IsCorporate"]) for r in rows] == [
        ("EUR", 0.9, True, False), ("GBP", 0.8, True, False), ("USD", 1.0, True, True)
    ]  # fmt: skip
    assert {r["DecimalPlaces"] for r in rows} == {2}
    described = sf.restful("sobjects/CurrencyType/describe")
    assert described["createable"] is False
    assert {"IsoCode", "ConversionRate", "IsCorporate"} <= {f["name"] for f in described["fields"]}

    # An admin changes a rate; activating another currency keeps the rates set.
    app.run_action("set_conversion_rate", currency="GBP", rate=0.75)
    app.run_action("enable_multi_currency", corporate="USD", currencies=["JPY"],
                   rates={"JPY": 150})  # fmt: skip
    rows = sf.query("SELECT IsoCode, ConversionRate FROM CurrencyType")["records"]
    rates = {r["IsoCode"]: r["ConversionRate"] for r in rows}
    assert rates == {"USD": 1.0, "EUR": 0.9, "GBP": 0.75, "JPY": 150.0}
    with pytest.raises(Exception, match="always 1"):
        app.run_action("set_conversion_rate", currency="USD", rate=2)


def test_a_saved_multi_currency_org_keeps_its_currency_types(sf, app):
    app.run_action("enable_multi_currency", corporate="EUR", currencies=["USD"],
                   rates={"USD": 1.1})  # fmt: skip
    app.restore(app.snapshot())
    rows = sf.query("SELECT IsoCode, ConversionRate FROM CurrencyType")["records"]
    assert {r["IsoCode"]: r["ConversionRate"] for r in rows} == {"EUR": 1.0, "USD": 1.1}
