"""What real Salesforce refuses, the emulator refuses too: OFFSET in a Bulk API 2.0 query job,
semi-joins SOQL doesn't allow, an Id in an update's body, and composite/batch subrequests past
the daily API allowance.

Every test drives the emulator through simple-salesforce, as the engine does.
"""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def refusal(caught) -> dict:
    (error,) = caught.value.content
    return error


# --- Bulk API 2.0 query jobs ---------------------------------------------------------------


def test_bulk_query_job_with_offset_is_refused(sf, app):
    sf.Lead.create({"LastName": "One", "Company": "Acme"})
    with pytest.raises(SalesforceMalformedRequest) as caught:
        list(sf.bulk2.Lead.query("SELECT Id FROM Lead ORDER BY Id LIMIT 10 OFFSET 1", wait=0))
    error = refusal(caught)
    assert error["errorCode"] == "API_ERROR"
    assert "OFFSET" in error["message"]
    assert sf.limits()["DailyBulkV2QueryJobs"]["Remaining"] == 10000  # no job was made
    # without OFFSET the same job runs (LIMIT and ORDER BY are allowed)
    rows = list(sf.bulk2.Lead.query("SELECT Id FROM Lead ORDER BY Id LIMIT 10", wait=0))
    assert len(rows) == 1


# --- semi-joins ----------------------------------------------------------------------------


@pytest.fixture
def campaign_member(sf):
    campaign = sf.Campaign.create({"Name": "Expo"})["id"]
    contact = sf.Contact.create({"LastName": "Visitor"})["id"]
    sf.CampaignMember.create({"CampaignId": campaign, "ContactId": contact})
    return campaign, contact


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        (
            "SELECT Id FROM Contact WHERE LastName = 'X' OR Id IN "
            "(SELECT ContactId FROM CampaignMember)",
            "Semi join sub-selects are not allowed with the 'OR' operator",
        ),
        (
            "SELECT Id FROM Contact WHERE LastName = 'X' AND (Email = null OR Id IN "
            "(SELECT ContactId FROM CampaignMember))",
            "Semi join sub-selects are only allowed at the top level WHERE expressions",
        ),
        (
            "SELECT Id FROM Contact WHERE NOT Id IN (SELECT ContactId FROM CampaignMember)",
            "Semi join sub-selects are only allowed at the top level WHERE expressions",
        ),
        (
            "SELECT Id FROM Contact WHERE Id IN (SELECT ContactId FROM CampaignMember) "
            "AND Id IN (SELECT ContactId FROM OpportunityContactRole) "
            "AND Id NOT IN (SELECT WhoId FROM Task)",
            "Maximum 2 semi join sub-selects are allowed",
        ),
        (
            "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Id IN "
            "(SELECT ContactId FROM CampaignMember))",
            "Nesting of semi join sub-selects is not supported",
        ),
        (
            "SELECT Id FROM Contact WHERE Id IN (SELECT ReportsToId FROM Contact)",
            "The inner and outer selects should not be on the same object type",
        ),
        (
            "SELECT Id FROM Contact WHERE AccountId IN (SELECT Name FROM Account)",
            "semi join sub selects can only query id fields, cannot use: 'Name'",
        ),
    ],
)
def test_semi_joins_salesforce_refuses(sf, campaign_member, soql, message):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    error = refusal(caught)
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert message in error["message"]


def test_semi_joins_salesforce_allows(sf, campaign_member):
    campaign, contact = campaign_member
    # two semi-joins in the top-level AND chain, parentheses or not
    both = sf.query(
        "SELECT Id FROM Contact WHERE (Id IN (SELECT ContactId FROM CampaignMember)) "
        "AND Id NOT IN (SELECT ContactId FROM OpportunityContactRole) AND LastName = 'Visitor'"
    )
    assert [r["Id"] for r in both["records"]] == [contact]
    # the engine's campaign import: a semi-join after a plain condition
    members = sf.query(
        "SELECT Id FROM Contact WHERE LastName != null AND Id IN "  # noqa: S608
        f"(SELECT ContactId FROM CampaignMember WHERE CampaignId = '{campaign}')"
    )
    assert [r["Id"] for r in members["records"]] == [contact]


# --- an Id in an update's body -------------------------------------------------------------


def test_update_with_the_id_in_the_body_is_refused(sf):
    account = sf.Account.create({"Name": "Acme"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.update(account, {"Id": account, "Name": "Renamed"})
    error = refusal(caught)
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"] == "The Id field should not be specified in the sobject data."
    assert sf.Account.get(account)["Name"] == "Acme"  # nothing written
    # upsert on Id and sObject Collections carry the id in the body, as they should
    sf.Account.upsert(f"Id/{account}", {"Name": "By upsert"})
    sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Account"}, "Id": account, "Name": "Batch"}]},
    )
    assert sf.Account.get(account)["Name"] == "Batch"


# --- composite/batch and the daily allowance -------------------------------------------------


def test_composite_batch_stops_at_the_daily_allowance(sf, app):
    app.configure_budget(max=1000, used=998)
    result = sf.restful(
        "composite/batch",
        method="POST",
        json={
            "batchRequests": [
                {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Name": n}}
                for n in ("A", "B", "C", "D")
            ]
        },
    )
    assert [r["statusCode"] for r in result["results"]] == [201, 201, 403, 403]
    assert result["hasErrors"] is True
    assert result["results"][2]["result"] == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    # only two subrequests ran: two accounts, and the allowance is spent, not overspent
    assert app.budget_state()["used"] == 1000
    assert app.budget_state()["remaining"] == 0
    names = {r["Name"] for r in app.org.store.table("Account").values()}
    assert {"A", "B"} <= names and not {"C", "D"} & names
