"""Bulk API 2.0 ingest and query through ``sf.bulk2`` (simple-salesforce's own client)."""

from __future__ import annotations

import csv
import io

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_insert_reports_per_row_results(sf):
    records = [{"LastName": f"B{i}", "Email": f"b{i}@example.com"} for i in range(3)]
    records.append({"LastName": "Bad", "Email": "not-an-email"})
    (result,) = sf.bulk2.Contact.insert(records=records, wait=0)
    assert result["numberRecordsProcessed"] == 4 and result["numberRecordsFailed"] == 1
    job_id = result["job_id"]
    assert job_id.startswith("750")
    ok = rows(sf.bulk2.Contact.get_successful_records(job_id))
    assert [(r["sf__Created"], r["LastName"]) for r in ok] == [
        ("true", "B0"),
        ("true", "B1"),
        ("true", "B2"),
    ]
    assert all(r["sf__Id"].startswith("003") for r in ok)
    (failed,) = rows(sf.bulk2.Contact.get_failed_records(job_id))
    assert failed["sf__Id"] == ""
    assert failed["sf__Error"] == (
        "INVALID_EMAIL_ADDRESS:Email: invalid email address: not-an-email:Email --"
    )
    assert rows(sf.bulk2.Contact.get_unprocessed_records(job_id)) == []
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 3


def test_upsert_update_and_delete(sf):
    (first,) = sf.bulk2.Account.upsert(
        records=[{"HubSpot_Id__c": "co-1", "Name": "Acme"}, {"HubSpot_Id__c": "co-2", "Name": "B"}],
        external_id_field="HubSpot_Id__c",
        wait=0,
    )
    created = rows(sf.bulk2.Account.get_successful_records(first["job_id"]))
    assert [r["sf__Created"] for r in created] == ["true", "true"]
    (again,) = sf.bulk2.Account.upsert(
        records=[{"HubSpot_Id__c": "co-1", "Name": "Acme 2"}],
        external_id_field="HubSpot_Id__c",
        wait=0,
    )
    assert rows(sf.bulk2.Account.get_successful_records(again["job_id"]))[0]["sf__Created"] == (
        "false"
    )
    ids = [r["sf__Id"] for r in created]
    (updated,) = sf.bulk2.Account.update(records=[{"Id": ids[1], "Name": "Beta"}], wait=0)
    assert updated["numberRecordsFailed"] == 0
    names = sorted(r["Name"] for r in sf.query("SELECT Name FROM Account")["records"])
    assert names == ["Acme 2", "Beta"]
    (deleted,) = sf.bulk2.Account.delete(records=[{"Id": ids[0]}], wait=0)
    assert deleted["numberRecordsFailed"] == 0
    assert (
        sf.query_all("SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True)[
            "totalSize"
        ]
        == 1
    )
    (hard,) = sf.bulk2.Account.hard_delete(records=[{"Id": ids[1]}], wait=0)
    assert hard["numberRecordsFailed"] == 0
    assert sf.query_all("SELECT Id FROM Account", include_deleted=True)["totalSize"] == 1


def test_relationship_columns_and_null_marker(sf):
    account = sf.Account.create({"Name": "Acme", "HubSpot_Id__c": "co-7"})["id"]
    contact = sf.Contact.create({"LastName": "Doe", "Title": "CTO"})["id"]
    sf.bulk2.Contact.update(
        records=[{"Id": contact, "Account.HubSpot_Id__c": "co-7", "Title": "#N/A"}], wait=0
    )
    record = sf.Contact.get(contact)
    assert record["AccountId"] == account and record["Title"] is None


def test_query_pages_with_locators(sf):
    sf.bulk2.Contact.insert(records=[{"LastName": f"Q{i:02d}"} for i in range(7)], wait=0)
    pages = list(
        sf.bulk2.Contact.query(
            "SELECT Id, LastName, Owner.Name FROM Contact ORDER BY LastName", max_records=3, wait=0
        )
    )
    assert len(pages) == 3
    parsed = [rows(page) for page in pages]
    assert [len(p) for p in parsed] == [3, 3, 1]
    assert list(parsed[0][0]) == ["Id", "LastName", "Owner.Name"]
    assert [r["LastName"] for p in parsed for r in p] == [f"Q{i:02d}" for i in range(7)]
    assert parsed[0][0]["Owner.Name"] == "Integration Token"


def test_query_all_includes_deleted_rows(sf):
    created = sf.Lead.create({"LastName": "Gone", "Company": "X"})["id"]
    sf.Lead.delete(created)
    (page,) = list(sf.bulk2.Lead.query_all("SELECT Id, IsDeleted FROM Lead", wait=0))
    assert rows(page) == [{"Id": created, "IsDeleted": "true"}]
    (page,) = list(sf.bulk2.Lead.query("SELECT Id FROM Lead", wait=0))
    assert rows(page) == []


def test_jobs_can_report_in_progress_first(sf, app):
    app.run_action("configure_bulk", in_progress_polls=2)
    (page,) = list(sf.bulk2.Lead.query("SELECT Id FROM Lead", wait=0))
    assert page.startswith('"Id"')
    polls = [
        e
        for e in app.ledger.entries()
        if e.method == "GET" and "/jobs/query/" in e.path and not e.path.endswith("/results")
    ]
    assert len(polls) == 3  # two InProgress answers, then JobComplete


def test_failed_jobs_raise_with_the_error_message(sf, app):
    app.run_action("fail_next_bulk_job", message="InvalidBatch : Failed to process query")
    with pytest.raises(SalesforceOperationError) as caught:
        list(sf.bulk2.Lead.query("SELECT Id FROM Lead", wait=0))
    assert "InvalidBatch : Failed to process query" in str(caught.value)
    with pytest.raises(SalesforceOperationError) as caught:
        sf.bulk2.Contact.insert(records=[{"Nope__c": "x"}], wait=0)
    assert "Field name not found : Nope__c" in str(caught.value)


def test_bulk_calls_are_api_calls_and_batches(sf, app):
    before = app.budget_state()["used"]
    sf.bulk2.Lead.insert(records=[{"LastName": "L", "Company": "C"}], wait=0)
    # create job, upload, close, poll, final status read
    assert app.budget_state()["used"] == before + 5
    limits = sf.limits()
    assert limits["DailyBulkApiBatches"]["Remaining"] == 15000 - 1
    list(sf.bulk2.Lead.query("SELECT Id FROM Lead", wait=0))
    assert sf.limits()["DailyBulkV2QueryJobs"]["Remaining"] == 10000 - 1


def test_bad_query_jobs_are_refused(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        list(sf.bulk2.Lead.query("SELECT Nope FROM Lead", wait=0))
    assert caught.value.content[0]["errorCode"] == "INVALID_FIELD"
