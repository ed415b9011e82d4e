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
