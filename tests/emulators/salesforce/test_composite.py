"""``composite``, ``composite/batch`` and sObject Collections through ``sf.restful``."""

from __future__ import annotations

import time

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

ROLLED_BACK = (
    "Record rolled back because not all records were valid and the request was using AllOrNone "
    "header"
)


def usage(sf) -> int:
    return sf.limits()["DailyApiRequests"]["Max"] - sf.limits()["DailyApiRequests"]["Remaining"]


def composite(sf, subrequests, all_or_none=False):
    return sf.restful(
        "composite", method="POST", json={"allOrNone": all_or_none, "compositeRequest": subrequests}
    )


# --- composite -----------------------------------------------------------------------------


def test_composite_chains_references_and_counts_once(sf, app):
    before = app.budget_state()["used"]
    result = composite(
        sf,
        [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "acct",
                "body": {"Name": "Acme"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "ct",
                "body": {"LastName": "Doe", "AccountId": "@{acct.id}"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{ct.id}?fields=AccountId",
                "referenceId": "read",
            },
            {
                "method": "PATCH",
                "url": "/services/data/v59.0/sobjects/Account/@{acct.id}",
                "referenceId": "rename",
                "body": {"Name": "@{read.AccountId}"},
            },
        ],
    )
    responses = result["compositeResponse"]
    assert [r["referenceId"] for r in responses] == ["acct", "ct", "read", "rename"]
    assert [r["httpStatusCode"] for r in responses] == [201, 201, 200, 204]
    account_id = responses[0]["body"]["id"]
    assert responses[0]["httpHeaders"] == {
        "Location": f"/services/data/v59.0/sobjects/Account/{account_id}"
    }
    assert responses[2]["body"]["AccountId"] == account_id
    assert responses[3]["body"] is None
    assert app.budget_state()["used"] == before + 1  # the whole composite is one API call
    assert sf.Account.get(account_id)["Name"] == account_id


def test_several_change_queries_in_one_call(sf, app):
    sf.Lead.create({"LastName": "L", "Company": "C"})
    sf.Contact.create({"LastName": "C"})
    before = app.budget_state()["used"]
    since = "2000-01-01T00:00:00Z"
    subrequests = [
        {
            "method": "GET",
            "referenceId": obj,
            "url": f"/services/data/v59.0/queryAll/?q=SELECT+Id,SystemModstamp+FROM+{obj}+WHERE+"
            f"SystemModstamp+>+{since}+ORDER+BY+SystemModstamp,Id",
        }
        for obj in ("Lead", "Contact", "Account")
    ]
    result = composite(sf, subrequests)
    bodies = {r["referenceId"]: r["body"] for r in result["compositeResponse"]}
    assert bodies["Lead"]["totalSize"] == 1 and bodies["Account"]["totalSize"] == 0
    assert app.budget_state()["used"] == before + 1


def test_a_subrequest_fault_fails_one_query_of_a_composite_call(sf, app):
    sf.Lead.create({"LastName": "L", "Company": "C"})
    subrequests = [
        {
            "method": "GET",
            "referenceId": obj,
            "url": f"/services/data/v59.0/query/?q=SELECT+Id+FROM+{obj}",
        }
        for obj in ("Lead", "Contact", "Account")
    ]
    app.faults.add(
        path=r"/query/?$",
        subrequest=True,
        status=400,
        error_code="QUERY_TIMEOUT",
        body="Your query request was running for too long.",
        times=1,
        after=1,
    )
    # Whole requests don't match a subrequest rule: the plain query and the call succeed.
    assert sf.query("SELECT Id FROM Lead")["totalSize"] == 1
    answers = composite(sf, subrequests)["compositeResponse"]
    assert [a["httpStatusCode"] for a in answers] == [200, 400, 200]
    assert answers[1]["body"] == [
        {"errorCode": "QUERY_TIMEOUT", "message": "Your query request was running for too long."}
    ]
    assert answers[0]["body"]["totalSize"] == 1
    # Fired once: the next call answers every subrequest.
    answers = composite(sf, subrequests)["compositeResponse"]
    assert [a["httpStatusCode"] for a in answers] == [200, 200, 200]


def test_a_subrequest_rule_with_only_a_delay_answers_as_usual(sf, app):
    rule = app.faults.add(path=r"/query/?$", subrequest=True, delay=0.2, times=1)
    query = {"method": "GET", "url": "/services/data/v59.0/query/?q=SELECT+Id+FROM+Lead",
             "referenceId": "slow"}  # fmt: skip
    started = time.monotonic()
    answer = composite(sf, [query])["compositeResponse"][0]
    assert time.monotonic() - started >= 0.2 and rule.fired == 1
    assert answer["httpStatusCode"] == 200 and answer["body"]["totalSize"] == 0


def test_a_subrequest_fault_after_applying_keeps_the_write(sf, app):
    app.faults.add(path=r"/composite/sobjects$", subrequest=True, status=500, apply_then_fail=True)
    write = {
        "method": "POST",
        "url": "/services/data/v59.0/composite/sobjects",
        "referenceId": "create",
        "body": {"records": [{"attributes": {"type": "Account"}, "Name": "Landed"}]},
    }
    answer = composite(sf, [write])["compositeResponse"][0]
    assert answer["httpStatusCode"] == 500
    assert sf.query("SELECT Name FROM Account")["records"][0]["Name"] == "Landed"


def test_composite_all_or_none_rolls_back(sf):
    result = composite(
        sf,
        [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Kept?"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "bad",
                "body": {"FirstName": "No last name"},
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "later",
                "body": {"Name": "Never"},
            },
        ],
        all_or_none=True,
    )
    responses = {r["referenceId"]: r for r in result["compositeResponse"]}
    assert responses["bad"]["httpStatusCode"] == 400
    assert responses["bad"]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    for ref in ("ok", "later"):
        assert responses[ref]["httpStatusCode"] == 400
        assert responses[ref]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_composite_without_all_or_none_keeps_going_but_halts_dependents(sf):
    result = composite(
        sf,
        [
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Contact",
                "referenceId": "bad",
                "body": {"FirstName": "x"},
            },
            {
                "method": "GET",
                "url": "/services/data/v59.0/sobjects/Contact/@{bad.id}",
                "referenceId": "dependent",
            },
            {
                "method": "POST",
                "url": "/services/data/v59.0/sobjects/Account",
                "referenceId": "fine",
                "body": {"Name": "Fine"},
            },
        ],
    )
    codes = [r["httpStatusCode"] for r in result["compositeResponse"]]
    assert codes == [400, 400, 201]
    assert result["compositeResponse"][1]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_composite_limits(sf):
    too_many = [
        {"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{i}"}
        for i in range(26)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        composite(sf, too_many)
    six_queries = [
        {
            "method": "GET",
            "referenceId": f"q{i}",
            "url": "/services/data/v59.0/query/?q=SELECT+Id+FROM+Lead",
        }
        for i in range(6)
    ]
    with pytest.raises(SalesforceMalformedRequest):
        composite(sf, six_queries)


def test_composite_batch_counts_each_subrequest(sf, app):
    before = app.budget_state()["used"]
    result = sf.restful(
        "composite/batch",
        method="POST",
        json={
            "batchRequests": [
                {"method": "POST", "url": "v59.0/sobjects/Account", "richInput": {"Name": "A"}},
                {"method": "GET", "url": "v59.0/query/?q=SELECT+Name+FROM+Account"},
                {"method": "GET", "url": "v59.0/sobjects/Account/001000000000000AAA"},
            ]
        },
    )
    assert result["hasErrors"] is True
    assert [r["statusCode"] for r in result["results"]] == [201, 200, 404]
    assert result["results"][1]["result"]["records"][0]["Name"] == "A"
    assert app.budget_state()["used"] == before + 3


# --- sObject Collections -------------------------------------------------------------------


def test_collections_create_update_retrieve_delete(sf, app):
    before = app.budget_state()["used"]
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Acme"},
                {"attributes": {"type": "Contact"}, "LastName": "Doe"},
                {"attributes": {"type": "Contact"}, "FirstName": "Nameless"},
            ],
        },
    )
    assert created[0]["success"] and created[1]["success"]
    assert created[2] == {
        "success": False,
        "errors": [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
            }
        ],
    }
    account, contact = created[0]["id"], created[1]["id"]

    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Contact"}, "id": contact, "AccountId": account},
                {"attributes": {"type": "Contact"}, "id": "0035g0000009999AAA", "LastName": "x"},
                {"attributes": {"type": "Contact"}, "LastName": "no id"},
            ]
        },
    )
    assert updated[0] == {"id": contact, "success": True, "errors": []}
    assert updated[1]["id"] == "0035g0000009999AAA"
    assert updated[1]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert updated[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"

    fetched = sf.restful(
        "composite/sobjects/Contact",
        params={"ids": f"{contact},0035g0000009999AAA", "fields": "LastName,AccountId"},
    )
    assert fetched[0]["LastName"] == "Doe" and fetched[0]["AccountId"] == account
    assert fetched[1] is None
    posted = sf.restful(
        "composite/sobjects/Contact", method="POST", json={"ids": [contact], "fields": ["LastName"]}
    )
    assert posted[0]["LastName"] == "Doe"

    deleted = sf.restful(
        "composite/sobjects",
        method="DELETE",
        params={"ids": f"{contact},{contact},garbage", "allOrNone": "false"},
    )
    assert deleted[0] == {"id": contact, "success": True, "errors": []}
    assert deleted[1]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert deleted[2]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert app.budget_state()["used"] == before + 5  # each Collections call counts once


def test_collections_upsert(sf):
    sf.Contact.upsert("HubSpot_Id__c/hs-1", {"LastName": "Existing"})
    results = sf.restful(
        "composite/sobjects/Contact/HubSpot_Id__c",
        method="PATCH",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "hs-1", "LastName": "Updated"},
                {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "hs-2", "LastName": "New"},
                {"attributes": {"type": "Contact"}, "LastName": "No key"},
            ],
        },
    )
    assert results[0]["success"] and results[0]["created"] is False
    assert results[1]["success"] and results[1]["created"] is True
    assert results[2]["success"] is False
    assert sf.Contact.get(results[0]["id"])["LastName"] == "Updated"
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/sobjects/Contact/LastName", method="PATCH", json={"records": []})


def test_collections_all_or_none(sf):
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": "Fine", "Company": "X"},
                {
                    "attributes": {"type": "Lead"},
                    "LastName": "Bad",
                    "Company": "X",
                    "Email": "x@@y",
                },
            ],
        },
    )
    assert results[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": ROLLED_BACK,
                "fields": [],
            }
        ],
    }
    assert results[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == 0


def test_collections_limits_and_shapes(sf):
    many = [{"attributes": {"type": "Lead"}, "LastName": "x", "Company": "y"}] * 201
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/sobjects", method="POST", json={"records": many})
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    results = sf.restful(
        "composite/sobjects", method="POST", json={"records": [{"LastName": "no type"}]}
    )
    assert results[0]["errors"][0]["statusCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/sobjects", method="POST", json={"nope": []})
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("composite/sobjects/Nope__c", params={"ids": "x", "fields": "Id"})


def test_duplicate_values_inside_one_call(sf):
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "Name": "A", "HubSpot_Id__c": "same"},
                {"attributes": {"type": "Account"}, "Name": "B", "HubSpot_Id__c": "same"},
            ]
        },
    )
    assert results[0]["success"] is True
    assert results[1]["errors"][0]["statusCode"] == "DUPLICATE_VALUE"


def test_duplicates_detected_in_collections_carry_the_duplicate_result(sf, app):
    sf.Contact.create({"LastName": "A", "Email": "a@example.com"})
    app.run_action("add_duplicate_rule", object="Contact", allow_save=True)
    record = {"attributes": {"type": "Contact"}, "LastName": "B", "Email": "a@example.com"}
    blocked = sf.restful("composite/sobjects", method="POST", json={"records": [record]})
    error = blocked[0]["errors"][0]
    assert error["statusCode"] == "DUPLICATES_DETECTED" and "duplicateResult" in error
    allowed = sf.restful(
        "composite/sobjects",
        method="POST",
        json={"records": [record]},
        headers={"Sforce-Duplicate-Rule-Header": "allowSave=true"},
    )
    assert allowed[0]["success"] is True


def test_all_or_none_composite_overrides_its_collections_subrequests(sf):
    collections = {
        "method": "POST",
        "url": "/services/data/v59.0/composite/sobjects",
        "referenceId": "accounts",
        "body": {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "Fine"},
                {"attributes": {"type": "Account"}, "Name": "Dup", "HubSpot_Id__c": "x"},
                {"attributes": {"type": "Account"}, "Name": "Dup", "HubSpot_Id__c": "x"},
            ],
        },
    }
    contact = {
        "method": "POST",
        "url": "/services/data/v59.0/sobjects/Contact",
        "referenceId": "contact",
        "body": {"LastName": "Doe"},
    }
    result = composite(sf, [collections, contact], all_or_none=True)
    first, second = result["compositeResponse"]
    assert first["httpStatusCode"] == 200
    codes = [r["errors"][0]["statusCode"] if r["errors"] else None for r in first["body"]]
    assert codes == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "DUPLICATE_VALUE",
    ]
    assert second["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 0

    partial = composite(sf, [collections, contact], all_or_none=False)
    assert [r["success"] for r in partial["compositeResponse"][0]["body"]] == [True, True, False]
    assert partial["compositeResponse"][1]["httpStatusCode"] == 201


def test_reference_ids_must_be_simple_names(sf):
    result = composite(
        sf, [{"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": "bad-name"}]
    )
    (response,) = result["compositeResponse"]
    assert response["httpStatusCode"] == 400
    assert "must start with a letter or a number" in response["body"][0]["message"]
