"""A multi-currency Salesforce org: an account's or lead's amounts are in the record's own
currency, HubSpot's in its company currency (euros here, as connecting kept them). Amounts
are converted by the org's rates both ways, and a value never drifts by rounding."""

from __future__ import annotations

from datetime import timedelta

from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

from sync_engine.models import FieldMapping, RecordLink, SchemaCache, SyncError
from sync_engine.services import schema_refresh_by_admin

from .helpers import hs_create, hs_get, mapped_new_property
from .test_companies import hs_company, hs_company_get

# Units per US dollar, the corporate currency.
RATES = {"EUR": 0.9, "GBP": 0.8}


def multi_currency(pairs, *, currencies=("EUR", "GBP"), rates=RATES) -> None:
    """The org's currencies (dollars first, the corporate one) and HubSpot's (euros), before
    the pair's first cycle reads the schemas."""
    pairs.sf_action("enable_multi_currency", corporate="USD", currencies=list(currencies),
                    rates={c: r for c, r in rates.items() if c in currencies})  # fmt: skip
    pairs.hs_action("set_currencies", company="EUR", additional=["USD", "GBP"])


def revenue(hs, company) -> str | None:
    return hs_company_get(hs, company, "annualrevenue")["annualrevenue"]


def open_errors(object_name: str) -> list[SyncError]:
    return list(SyncError.objects.filter(object=object_name, resolved_at__isnull=True))


def test_an_account_s_revenue_is_converted_both_ways_and_never_drifts(
    companies, sf_person, hs_person
):
    multi_currency(companies)
    pounds = sf_person.Account.create({"Name": "Pounds Ltd", "AnnualRevenue": 1_000_000,
                                       "CurrencyIsoCode": "GBP"})["id"]  # fmt: skip
    euros = sf_person.Account.create({"Name": "Euro GmbH", "AnnualRevenue": 500_000,
                                      "CurrencyIsoCode": "EUR"})["id"]  # fmt: skip
    dollars = sf_person.Account.create({"Name": "Dollar Inc", "AnnualRevenue": 1_000})["id"]
    assert companies().counts["created_in_hubspot"] == 3
    company = {a: companies.link(salesforce_id=a).hubspot_id for a in (pounds, euros, dollars)}
    # £1,000,000 is $1,250,000, which is €1,125,000: not €1,000,000.
    assert float(revenue(hs_person, company[pounds])) == 1_125_000
    assert float(revenue(hs_person, company[euros])) == 500_000  # already euros
    assert float(revenue(hs_person, company[dollars])) == 900

    # Two-way: HubSpot's euros become the account's pounds, to its whole units.
    FieldMapping.objects.filter(object="companies", hubspot_property="annualrevenue").update(
        rule="two_way"
    )
    for account, value in ((pounds, "2250000"), (dollars, "1000001")):
        hs_person.crm.companies.basic_api.update(
            company[account], CompanyInput(properties={"annualrevenue": value})
        )
    assert companies().counts["updated_in_salesforce"] == 2
    assert sf_person.Account.get(pounds)["AnnualRevenue"] == 2_000_000
    assert sf_person.Account.get(dollars)["AnnualRevenue"] == 1_111_112  # $1,111,112.22
    assert sf_person.Account.get(dollars)["CurrencyIsoCode"] == "USD"  # its currency stays

    # Read back, neither value comes back changed by the rounding.
    companies()
    idle = companies()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))
    assert float(revenue(hs_person, company[dollars])) == 1_000_001

    # A Salesforce edit goes over converted again.
    sf_person.Account.update(pounds, {"AnnualRevenue": 800})
    companies()
    assert float(revenue(hs_person, company[pounds])) == 900
    assert not open_errors("companies")


def test_a_company_makes_its_account_in_the_company_currency(companies, sf_person, hs_person):
    multi_currency(companies)
    company = hs_company(hs_person, name="Euro Start", annualrevenue="300")
    contact = hs_create(hs_person, email="eva@start.example", firstname="Eva", lastname="S")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.both()
    account = sf_person.Account.get(companies.link(hubspot_id=str(company)).salesforce_id)
    # Not 300 in the integration user's dollars: 300 euros.
    assert (account["AnnualRevenue"], account["CurrencyIsoCode"]) == (300, "EUR")
    companies.both()
    idle, _ = companies.both()
    assert not idle.counts.get("updated_in_hubspot")


def test_without_a_rate_for_the_company_currency_the_amount_waits_with_an_error(
    companies, integration, sf_person, hs_person
):
    multi_currency(companies, currencies=("GBP",))  # the org has no euros
    pounds = sf_person.Account.create({"Name": "Pounds Ltd", "AnnualRevenue": 1_000,
                                       "CurrencyIsoCode": "GBP"})["id"]  # fmt: skip
    companies()
    company = companies.link(salesforce_id=pounds).hubspot_id
    assert hs_company_get(hs_person, company, "name")["name"] == "Pounds Ltd"  # the rest syncs
    assert revenue(hs_person, company) in (None, "")  # not £1,000 shown as €1,000
    [error] = open_errors("companies")
    assert (error.error_type, error.code) == ("property_value", "CURRENCY_NOT_CONVERTIBLE")
    assert "GBP" in error.message and "EUR" in error.message and "Currencies" in error.message
    assert error.record_key == f"salesforce:{pounds}"

    # Euros added in Salesforce, the fields refreshed: the next change brings the amount.
    companies.sf_action("enable_multi_currency", corporate="USD", currencies=["EUR"],
                        rates={"EUR": 0.9})  # fmt: skip
    schema_refresh_by_admin(integration=integration, object_name="companies", actor=None)
    sf_person.Account.update(pounds, {"Description": "Now in euros too"})
    companies()
    assert float(revenue(hs_person, company)) == 1_125
    assert not open_errors("companies")


def test_a_lead_s_revenue_reaches_its_contact_in_the_company_currency(cycle, emulators, hs_person,
                                                                      sf_person):  # fmt: skip
    emulators.salesforce.app.run_action(
        "enable_multi_currency", corporate="USD", currencies=["EUR", "GBP"], rates=RATES
    )
    lead = sf_person.Lead.create({"LastName": "Pound", "Company": "P Ltd", "Email":
                                  "p@pound.example", "AnnualRevenue": 8_000,
                                  "CurrencyIsoCode": "GBP"})["id"]  # fmt: skip
    cycle()
    contact = RecordLink.objects.get(object="contacts", salesforce_id=lead).hubspot_id
    assert float(hs_get(hs_person, contact, "annualrevenue")["annualrevenue"]) == 9_000
    cycle()
    idle = cycle()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))

    # A person made in HubSpot becomes a lead in euros, its revenue as it is.
    made = hs_create(hs_person, email="e@euro.example", firstname="E", lastname="Euro",
                     company="E AG", annualrevenue="300")  # fmt: skip
    cycle()
    created = RecordLink.objects.get(object="contacts", hubspot_id=made).salesforce_id
    record = getattr(sf_person, "Lead" if created.startswith("00Q") else "Contact").get(created)
    assert (record["AnnualRevenue"], record["CurrencyIsoCode"]) == (300, "EUR")


def test_a_custom_object_s_amounts_are_converted_too(integration, emulators, hs_person, sf_person):
    from .test_custom_objects import Projects, set_up

    emulators.salesforce.app.run_action(
        "enable_multi_currency", corporate="USD", currencies=["EUR", "GBP"], rates=RATES
    )
    emulators.hubspot.app.configure_budget(search_per_second=1000)
    hs_type, name = set_up(integration, hs_person, conflict_winner="hubspot")
    projects = Projects(integration, emulators, hs_person, hs_type, name)
    pounds = sf_person.Project__c.create({"Name": "Pounds", "Budget__c": 1000,
                                         "CurrencyIsoCode": "GBP"})["id"]  # fmt: skip
    made = projects.create(project_name="Euros", budget="800")
    projects()
    record = projects.link(salesforce_id=pounds).hubspot_id
    assert float(projects.get(record)["budget"]) == 1125
    euros = sf_person.Project__c.get(projects.link(hubspot_id=made).salesforce_id)
    assert (euros["Budget__c"], euros["CurrencyIsoCode"]) == (800, "EUR")

    projects.update(record, budget="900")
    projects()
    assert sf_person.Project__c.get(pounds)["Budget__c"] == 800  # £800 is €900
    projects()
    idle = projects()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))
    assert float(projects.get(record)["budget"]) == 900


def test_a_case_s_amount_reaches_its_ticket_converted_and_comes_back(
    tickets, integration, sf_person, hs_person
):
    from hubspot.crm.tickets import SimplePublicObjectInput as TicketInput

    from .test_tickets import ticket

    multi_currency(tickets)
    tickets.sf_action("add_field", object="Case", field="Cost", type="currency")
    mapped_new_property(
        hs_person, integration, "tickets", "cost", "Cost__c", hs_type="number",
        field_type="number", group="ticketinformation", salesforce_type="currency",
    )  # fmt: skip
    case = sf_person.Case.create({"Subject": "Refund", "Status": "New", "Cost__c": 80,
                                  "CurrencyIsoCode": "GBP"})["id"]  # fmt: skip
    tickets()
    record = tickets.link(salesforce_id=case).hubspot_id
    assert float(ticket(hs_person, record, "cost")["cost"]) == 90  # £80 is €90

    hs_person.crm.tickets.basic_api.update(record, TicketInput(properties={"cost": "45"}))
    tickets()
    assert sf_person.Case.get(case)["Cost__c"] == 40  # €45 is £40
    tickets()
    idle = tickets()
    assert not any(idle.counts.get(k) for k in ("updated_in_hubspot", "updated_in_salesforce"))
    assert float(ticket(hs_person, record, "cost")["cost"]) == 45

    # A link that never kept its case's currency (made before the mapping was two-way): the
    # case's currency is read for the edit.
    link = tickets.link(salesforce_id=case)
    link.snapshot.pop("__currency")
    link.save()
    hs_person.crm.tickets.basic_api.update(record, TicketInput(properties={"cost": "90"}))
    tickets()
    assert sf_person.Case.get(case)["Cost__c"] == 80
    assert not open_errors("tickets")


def test_a_company_s_amount_waits_while_salesforce_s_currencies_cannot_be_read(
    companies, integration, sf_person, hs_person
):
    from ..conftest import SF_TOKEN

    multi_currency(companies)
    companies.sf_action("set_record_access", access="none", object="CurrencyType", token=SF_TOKEN)
    company = hs_company(hs_person, name="Unknown Rates", annualrevenue="300")
    contact = hs_create(hs_person, email="u@rates.example", firstname="U", lastname="R")
    companies.hs_action("associate", from_type="contacts", from_id=contact, to_type="companies",
                        to_id=company)  # fmt: skip
    companies.both()
    account = companies.link(hubspot_id=str(company)).salesforce_id
    assert sf_person.Account.get(account)["AnnualRevenue"] is None  # not 300 of some currency
    errors = open_errors("companies")
    assert errors and {e.code for e in errors} == {"CURRENCY_NOT_CONVERTIBLE"}
    assert all("CurrencyType) couldn't be read" in e.message for e in errors)
    assert f"hubspot:{company}" in {e.record_key for e in errors}  # its way to Salesforce

    # Readable again: a failed read is tried again 20 minutes later (as the records' errors
    # are), and the next change brings the amount, with no admin's Refresh.
    companies.sf_action("set_record_access", access="all", object="CurrencyType", token=SF_TOKEN)
    kept = SchemaCache.objects.get(integration=integration, object="currency-rates")
    assert kept.data == {}  # nothing known yet
    SchemaCache.objects.filter(pk=kept.pk).update(
        fetched_at=kept.fetched_at - timedelta(minutes=19)
    )
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"annualrevenue": "450"})
    )
    companies()  # 19 minutes on: not read again yet, the amount still waits
    assert sf_person.Account.get(account)["AnnualRevenue"] is None
    assert open_errors("companies")
    SchemaCache.objects.filter(pk=kept.pk).update(
        fetched_at=kept.fetched_at - timedelta(minutes=21)
    )
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"annualrevenue": "450", "description": "Later"})
    )
    companies()  # 21 minutes on: read again, and the edit brings the amount
    # The account was made in the integration user's (corporate) dollars: €450 is $500.
    assert sf_person.Account.get(account)["CurrencyIsoCode"] == "USD"
    assert sf_person.Account.get(account)["AnnualRevenue"] == 500
    assert not open_errors("companies")
