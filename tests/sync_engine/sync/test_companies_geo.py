"""Companies ⇄ accounts with Salesforce's State and Country/Territory Picklists (spec §9,
§12): a company's free-text country and state become the org's values, as a contact's do."""

from __future__ import annotations

import pytest
from hubspot.crm.companies import SimplePublicObjectInput as CompanyInput

from sync_engine.models import FieldMapping, SyncError
from sync_engine.services import object_settings_update, record_resync

from .test_companies import hs_company, hs_company_get


@pytest.fixture
def picklists(companies, emulators):
    emulators.salesforce.app.run_action("enable_state_country_picklists", enabled=True)


def state_country(integration, mode: str) -> None:
    """The portal's setting: kept with the contact pair's, it applies to companies too."""
    object_settings_update(
        integration=integration,
        object_name="contacts",
        changes={"salesforce_state_country": mode, "hubspot_state_country": "convert"},
    )


def open_errors():
    return list(
        SyncError.objects.filter(object="companies", resolved_at__isnull=True).values_list(
            "code", "message"
        )
    )


@pytest.mark.parametrize("mode", ["enabled", "customised"])
def test_a_companys_free_text_country_and_state_become_the_orgs_values(
    companies, picklists, mode, sf_person, hs_person
):
    state_country(companies.integration, mode)
    dutch = hs_company(hs_person, name="Dutch BV", country="Holland", state="Utrecht")
    japanese = hs_company(hs_person, name="Tokyo KK", country="Japan", state="JP-13")
    for company in (dutch, japanese):  # a manual Sync creates the account
        record_resync(
            integration=companies.integration,
            object_name="companies",
            record_key=f"hubspot:{company}",
        )
    run = companies()
    assert run.counts["created_in_salesforce"] == 2, (run.counts, open_errors())
    account = sf_person.Account.get(companies.link(hubspot_id=dutch).salesforce_id)
    # The Netherlands has no states in the org: the state is dropped, not refused.
    assert (account["BillingCountry"], account["BillingState"]) == ("Netherlands", None)
    account = sf_person.Account.get(companies.link(hubspot_id=japanese).salesforce_id)
    assert (account["BillingCountry"], account["BillingState"], account["BillingStateCode"]) == (
        "Japan",
        "Tokyo",
        "13",
    )
    companies()
    idle = companies()
    assert not idle.counts.get("updated_in_salesforce") and not idle.counts.get(
        "updated_in_hubspot"
    )
    props = hs_company_get(hs_person, dutch, "country", "state")
    assert (props["country"], props["state"]) == ("Holland", "Utrecht")  # HubSpot keeps its text
    assert not open_errors()


def test_an_accounts_place_comes_as_salesforce_names_it_and_hubspot_edits_go_back_converted(
    companies, picklists, sf_person, hs_person
):
    state_country(companies.integration, "enabled")
    FieldMapping.objects.filter(
        object="companies", hubspot_property__in=["country", "state"]
    ).update(rule="two_way")
    account = sf_person.Account.create(
        {"Name": "Osaka KK", "BillingCountryCode": "JP", "BillingStateCode": "27"}
    )["id"]
    companies()
    company = companies.link(salesforce_id=account).hubspot_id
    props = hs_company_get(hs_person, company, "country", "state")
    assert (props["country"], props["state"]) == ("Japan", "Osaka")

    # Another spelling of the same country is no change for Salesforce.
    hs_person.crm.companies.basic_api.update(company, CompanyInput(properties={"country": "JPN"}))
    run = companies()
    assert not run.counts.get("updated_in_salesforce"), run.counts
    assert sf_person.Account.get(account)["BillingCountry"] == "Japan"

    # A move reaches Salesforce converted; the new country's missing states drop the state.
    hs_person.crm.companies.basic_api.update(
        company, CompanyInput(properties={"country": "Holland", "state": "Zuid-Holland"})
    )
    run = companies()
    assert run.counts["updated_in_salesforce"] == 1, (run.counts, open_errors())
    record = sf_person.Account.get(account)
    assert (record["BillingCountry"], record["BillingState"]) == ("Netherlands", None)
    assert not open_errors()
    companies()
    idle = companies()
    assert not idle.counts.get("updated_in_salesforce") and not idle.counts.get(
        "updated_in_hubspot"
    )
