"""What real Salesforce refuses, the emulator refuses too (so the engine can't rely on leniency).

Each test drives the emulator through simple-salesforce as the engine does and checks the
answer a real org gives: the status, the error code and the per-record results.
"""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest


def composite(sf, subrequests):
    return sf.restful("composite", method="POST", json={"compositeRequest": subrequests})


def test_six_queries_in_one_composite_call_are_refused_whatever_the_url_spelling(sf):
    # "/query?q=" (no slash before the "?") is a query subrequest like "/query/?q=".
    queries = [
        {
            "method": "GET",
            "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead",
            "referenceId": f"q{i}",
        }
        for i in range(6)
    ]
    with pytest.raises(SalesforceMalformedRequest) as refused:
        composite(sf, queries)
    assert refused.value.content[0]["errorCode"] == "LIMIT_EXCEEDED"
    # five are fine
    answers = composite(sf, queries[:5])["compositeResponse"]
    assert [a["httpStatusCode"] for a in answers] == [200] * 5


def test_collections_upsert_fails_every_record_sharing_an_external_id(sf):
    records = [
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "77", "LastName": "First"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "78", "LastName": "Alone"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "77", "LastName": "Second"},
    ]
    results = sf.restful(
        "composite/sobjects/Contact/HubSpot_Id__c",
        method="PATCH",
        json={"allOrNone": False, "records": records},
    )
    assert [r["success"] for r in results] == [False, True, False]
    for failed in (results[0], results[2]):
        assert failed["errors"] == [
            {
                "statusCode": "DUPLICATE_VALUE",
                "message": "Duplicate external id specified: 77",
                "fields": ["HubSpot_Id__c"],
            }
        ]
    found = sf.query("SELECT LastName, HubSpot_Id__c FROM Contact ORDER BY LastName")["records"]
    assert [(r["LastName"], r["HubSpot_Id__c"]) for r in found] == [("Alone", "78")]


def test_external_ids_differing_only_in_case_are_the_same_id(sf):
    # HubSpot_Id__c is a case-insensitive unique external id.
    records = [
        {"attributes": {"type": "Account"}, "HubSpot_Id__c": "abc", "Name": "One"},
        {"attributes": {"type": "Account"}, "HubSpot_Id__c": "ABC", "Name": "Two"},
    ]
    results = sf.restful(
        "composite/sobjects/Account/HubSpot_Id__c", method="PATCH", json={"records": records}
    )
    assert [r["errors"][0]["statusCode"] for r in results] == ["DUPLICATE_VALUE"] * 2
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_bulk_upsert_rows_sharing_an_external_id_fail(sf):
    (result,) = sf.bulk2.Contact.upsert(
        records=[
            {"HubSpot_Id__c": "5", "LastName": "A"},
            {"HubSpot_Id__c": "5", "LastName": "B"},
            {"HubSpot_Id__c": "6", "LastName": "C"},
        ],
        external_id_field="HubSpot_Id__c",
        wait=0,
    )
    assert result["numberRecordsFailed"] == 2
    failed = list(
        csv.DictReader(io.StringIO(sf.bulk2.Contact.get_failed_records(result["job_id"])))
    )
    assert sorted(r["LastName"] for r in failed) == ["A", "B"]
    assert {r["sf__Error"] for r in failed} == {
        "DUPLICATE_VALUE:Duplicate external id specified: 5:HubSpot_Id__c --"
    }
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 1


def test_a_field_selected_twice_is_refused(sf):
    sf.Contact.create({"LastName": "Doe"})
    for soql in (
        "SELECT Id, Email, email FROM Contact",
        "SELECT Id, Contact.Id FROM Contact",
        "SELECT Id, FIELDS(STANDARD) FROM Contact LIMIT 200",
    ):
        with pytest.raises(SalesforceMalformedRequest) as refused:
            sf.query(soql)
        (error,) = refused.value.content
        assert error["errorCode"] == "INVALID_FIELD"
        assert error["message"].startswith("duplicate field selected: ")
    # the same field through a relationship is another column
    assert sf.query("SELECT AccountId, Account.Id FROM Contact")["totalSize"] == 1


def test_long_text_areas_and_addresses_cannot_be_filtered_or_sorted(sf):
    sf.Contact.create({"LastName": "Doe", "Description": "notes"})
    for soql, verb, field in (
        ("SELECT Id FROM Contact WHERE Description = 'notes'", "filtered", "Description"),
        ("SELECT Id FROM Contact WHERE Description IN ('notes')", "filtered", "Description"),
        ("SELECT Id FROM Contact ORDER BY Description", "sorted", "Description"),
        ("SELECT Id FROM Contact WHERE MailingAddress = null", "filtered", "MailingAddress"),
    ):
        with pytest.raises(SalesforceMalformedRequest) as refused:
            sf.query(soql)
        (error,) = refused.value.content
        assert error["errorCode"] == "INVALID_FIELD"
        assert error["message"].endswith(f"field '{field}' can not be {verb} in a query call")
    # describe says so
    fields = {f["name"]: f for f in sf.Contact.describe()["fields"]}
    for name, usable in (("Description", False), ("MailingAddress", False), ("Email", True)):
        assert (fields[name]["filterable"], fields[name]["sortable"]) == (usable, usable)
    # selecting them is fine, and a short text area filters as usual
    assert sf.query("SELECT Description, MailingAddress FROM Contact")["totalSize"] == 1
    assert sf.query("SELECT Id FROM Contact WHERE MailingStreet = null")["totalSize"] == 1


def test_bulk_queries_refuse_compound_fields(sf):
    sf.Account.create({"Name": "Acme", "BillingCity": "Utrecht"})
    with pytest.raises(SalesforceMalformedRequest) as refused:
        list(sf.bulk2.Account.query("SELECT Id, BillingAddress FROM Account", wait=0))
    assert refused.value.content[0] == {
        "message": "Selecting compound data not supported in Bulk Query",
        "errorCode": "API_ERROR",
    }
    (page,) = list(sf.bulk2.Account.query("SELECT Id, BillingCity FROM Account", wait=0))
    assert "Utrecht" in page


@pytest.mark.parametrize("employees", [123456789, 99999999999, "123456789"])
def test_an_int_beyond_its_digits_is_out_of_range(sf, employees):
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Account.create({"Name": "Huge", "NumberOfEmployees": employees})
    assert refused.value.content == [
        {
            "message": f"Employees: value outside of valid range on numeric field: {employees}",
            "errorCode": "NUMBER_OUTSIDE_VALID_RANGE",
            "fields": ["NumberOfEmployees"],
        }
    ]
    account = sf.Account.create({"Name": "Big", "NumberOfEmployees": 99999999})["id"]
    assert sf.Account.get(account)["NumberOfEmployees"] == 99999999


def test_records_cannot_be_given_to_a_deactivated_user(sf, app):
    leaver = app.run_action("create_user", last_name="Leaver", email="leaver@example.com")
    kept = sf.Contact.create({"LastName": "Kept", "OwnerId": leaver})["id"]
    app.run_action("edit", id=leaver, fields={"IsActive": False})  # an admin deactivates them
    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Contact.create({"LastName": "New", "OwnerId": leaver})
    assert refused.value.content == [
        {
            "message": f"operation performed with inactive user [{leaver}] as owner of contact",
            "errorCode": "INACTIVE_OWNER_OR_USER",
            "fields": [],
        }
    ]
    other = sf.Contact.create({"LastName": "Other"})["id"]
    (result,) = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Contact"}, "id": other, "OwnerId": leaver}]},
    )
    assert result["errors"][0]["statusCode"] == "INACTIVE_OWNER_OR_USER"
    # their existing records still take edits that leave the owner alone
    sf.Contact.update(kept, {"Title": "Buyer", "OwnerId": leaver})
    assert sf.Contact.get(kept)["Title"] == "Buyer"
