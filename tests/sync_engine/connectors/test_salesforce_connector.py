"""The Salesforce connector against the Salesforce emulator, through simple-salesforce."""

from __future__ import annotations

import pytest

from sync_engine.connectors.salesforce import SalesforceConnector
from sync_engine.errors import (
    ApiLimitExceeded,
    AuthExpired,
    BudgetExhausted,
    NotFound,
    RateLimited,
    TransientError,
)
from sync_engine.models import ApiCall, Integration, SalesforceConnection, System

pytestmark = pytest.mark.django_db


def our_calls(integration):
    return list(
        ApiCall.objects.filter(integration=integration, system=System.SALESFORCE).order_by("id")
    )


def their_calls(emulators):
    return emulators.salesforce.app.ledger.entries()


def assert_ledgers_agree(integration, emulators):
    ours, theirs = our_calls(integration), their_calls(emulators)
    assert len(ours) == len(theirs), (
        [c.operation for c in ours],
        [(e.method, e.path) for e in theirs],
    )
    assert [c.status for c in ours] == [e.status for e in theirs]
    assert all(c.status is not None for c in ours)


def test_limits_sets_limited_by_salesforce(salesforce, emulators):
    limits = salesforce.limits()
    daily = limits["DailyApiRequests"]
    integration = Integration.objects.get(pk=salesforce.integration.pk)
    assert integration.salesforce_api_limit == daily["Max"]
    assert integration.salesforce_api_remaining == daily["Remaining"]
    assert integration.limits_checked_at is not None
    assert [c.operation for c in our_calls(integration)] == ["limits"]
    assert_ledgers_agree(integration, emulators)


def test_every_page_and_write_is_counted_once(salesforce, emulators):
    records = [{"LastName": f"Page{i}", "Email": f"p{i}@example.com"} for i in range(450)]
    created = salesforce.collections_create(sobject="Contact", records=records)
    assert len(created) == 450 and all(r["success"] for r in created)

    pages = list(
        salesforce.query_all_pages(
            "SELECT Id, Email FROM Contact WHERE LastName LIKE 'Page%'", batch_size=200
        )
    )
    assert sum(len(p["records"]) for p in pages) == 450
    assert len(pages) == 3

    calls = our_calls(salesforce.integration)
    # Three collections of at most 200 records go in one composite call (five fit).
    assert [c.operation for c in calls] == ["composite", "query", "query.more", "query.more"]
    assert [c.records for c in calls] == [450, 200, 200, 50]
    assert_ledgers_agree(salesforce.integration, emulators)


def test_writes_beyond_five_collections_take_another_composite_call(salesforce, emulators):
    records = [{"LastName": f"Many{i}", "Email": f"m{i}@example.com"} for i in range(1_100)]
    created = salesforce.collections_create(sobject="Contact", records=records)
    assert len(created) == 1_100 and all(r["success"] for r in created)
    updated = salesforce.collections_update(
        sobject="Contact", records=[{"Id": r["id"], "Title": "Many"} for r in created[300:501]]
    )
    assert len(updated) == 201 and all(r["success"] for r in updated)
    deleted = salesforce.collections_delete(ids=[r["id"] for r in created[:250]])
    assert len(deleted) == 250 and all(r["success"] for r in deleted)
    calls = our_calls(salesforce.integration)
    assert [c.operation for c in calls] == [
        "composite", "collections.create", "composite", "composite",
    ]  # fmt: skip
    assert [c.records for c in calls] == [1_000, 100, 201, 250]
    titled = salesforce.query("SELECT COUNT() FROM Contact WHERE Title = 'Many'")
    assert titled["totalSize"] == 201
    assert salesforce.query("SELECT COUNT() FROM Contact")["totalSize"] == 850
    assert_ledgers_agree(salesforce.integration, emulators)


def test_collections_update_retrieve_upsert_delete(salesforce, emulators):
    created = salesforce.collections_create(
        sobject="Account", records=[{"Name": "Acme"}, {"Name": "Globex"}]
    )
    ids = [r["id"] for r in created]
    updated = salesforce.collections_update(
        sobject="Account", records=[{"Id": ids[0], "Name": "Acme Corp"}, {"Id": ids[1]}]
    )
    assert all(r["success"] for r in updated)
    fetched = salesforce.collections_retrieve(sobject="Account", ids=ids, fields=["Id", "Name"])
    assert [r["Name"] for r in fetched] == ["Acme Corp", "Globex"]
    deleted = salesforce.collections_delete(ids=ids)
    assert [r["success"] for r in deleted] == [True, True]
    assert_ledgers_agree(salesforce.integration, emulators)


def test_one_bad_record_fails_alone(salesforce):
    results = salesforce.collections_create(
        sobject="Contact", records=[{"LastName": "Good"}, {"FirstName": "No last name"}]
    )
    assert results[0]["success"] is True
    assert results[1]["success"] is False
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"


def test_composite_is_one_call(salesforce, emulators):
    base = f"/services/data/v{salesforce.connection.api_version}"
    result = salesforce.composite(
        [
            {"method": "GET", "url": f"{base}/query?q=SELECT+Id+FROM+Lead", "referenceId": "leads"},
            {"method": "GET", "url": f"{base}/query?q=SELECT+Id+FROM+Contact", "referenceId": "c"},
        ]
    )
    assert [r["referenceId"] for r in result["compositeResponse"]] == ["leads", "c"]
    calls = our_calls(salesforce.integration)
    assert [(c.operation, c.records) for c in calls] == [("composite", 2)]
    assert_ledgers_agree(salesforce.integration, emulators)


def test_describe(salesforce):
    names = {s["name"] for s in salesforce.describe()["sobjects"]}
    assert {"Lead", "Contact", "Account", "Opportunity"} <= names
    fields = {f["name"] for f in salesforce.describe_object("Contact")["fields"]}
    assert {"Id", "Email", "LastName"} <= fields
    with pytest.raises(NotFound):
        salesforce.describe_object("NoSuchThing__c")


def test_budget_exhausted_before_calling_out(salesforce, emulators):
    Integration.objects.filter(pk=salesforce.integration.pk).update(salesforce_api_allocation=2)
    salesforce.limits()
    salesforce.query("SELECT Id FROM Lead")
    seen = len(their_calls(emulators))
    with pytest.raises(BudgetExhausted) as caught:
        salesforce.query("SELECT Id FROM Lead")
    assert (caught.value.used, caught.value.allocation) == (2, 2)
    assert len(their_calls(emulators)) == seen  # nothing went out
    assert len(our_calls(salesforce.integration)) == 2


def test_budget_stops_a_query_between_pages(salesforce, emulators):
    salesforce.collections_create(
        sobject="Lead",
        records=[{"LastName": f"L{i}", "Company": "X"} for i in range(300)],
    )  # one call: two collections in a composite
    Integration.objects.filter(pk=salesforce.integration.pk).update(salesforce_api_allocation=2)
    pages = salesforce.query_all_pages("SELECT Id FROM Lead", batch_size=200)
    assert len(next(pages)["records"]) == 200
    with pytest.raises(BudgetExhausted):
        next(pages)
    assert_ledgers_agree(salesforce.integration, emulators)


def test_expired_token_is_refreshed_and_stored_encrypted(sf_connection, emulators):
    grant = emulators.salesforce.app.run_action(
        "issue_token", client_id="test-client", client_secret="test-secret"
    )
    sf_connection.access_token = grant["access_token"]
    sf_connection.refresh_token = grant["refresh_token"]
    sf_connection.client_id = "test-client"
    sf_connection.client_secret = "test-secret"
    sf_connection.save()
    connector = SalesforceConnector(integration=sf_connection.integration)
    connector.limits()
    emulators.salesforce.app.run_action("expire_token", token=grant["access_token"])

    result = connector.query("SELECT Id FROM Lead")
    assert result["done"] is True

    stored = SalesforceConnection.objects.get(pk=sf_connection.pk)
    assert stored.access_token != grant["access_token"]
    assert stored.token_refreshed_at is not None
    ops = [(c.operation, c.status) for c in our_calls(sf_connection.integration)]
    assert ops == [("limits", 200), ("query", 401), ("oauth.token", 200), ("query", 200)]
    assert_ledgers_agree(sf_connection.integration, emulators)


def test_expired_token_without_refresh_token(salesforce, emulators):
    emulators.salesforce.app.run_action("expire_token", token=salesforce.connection.access_token)
    with pytest.raises(AuthExpired) as caught:
        salesforce.query("SELECT Id FROM Lead")
    assert caught.value.status == 401
    assert caught.value.code == "INVALID_SESSION_ID"


def test_server_errors_are_transient(salesforce, emulators):
    emulators.salesforce.app.faults.add(path="/query", status=503, body="<html>down</html>")
    with pytest.raises(TransientError) as caught:
        salesforce.query("SELECT Id FROM Lead")
    assert caught.value.status == 503
    assert caught.value.retryable
    assert_ledgers_agree(salesforce.integration, emulators)


def test_dropped_connection_is_transient_and_counted(salesforce, emulators):
    emulators.salesforce.app.faults.add(path="/limits", drop=True)
    with pytest.raises(TransientError) as caught:
        salesforce.limits()
    assert caught.value.status == 0
    (call,) = our_calls(salesforce.integration)
    assert call.status == 0


def test_org_limit_exceeded(salesforce, emulators):
    emulators.salesforce.app.faults.add(path="/query", error_code="REQUEST_LIMIT_EXCEEDED")
    with pytest.raises(ApiLimitExceeded) as caught:
        salesforce.query("SELECT Id FROM Lead")
    assert caught.value.status == 403
    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED"


def test_org_usage_is_read_from_every_response(salesforce, emulators):
    salesforce.query("SELECT Id FROM Lead")  # no limits call
    integration = Integration.objects.get(pk=salesforce.integration.pk)
    used, limit = salesforce.session.org_api_usage
    assert integration.salesforce_api_limit == limit
    assert integration.salesforce_api_remaining == limit - used


def test_too_many_concurrent_requests_is_a_rate_limit_not_the_daily_limit(salesforce, emulators):
    emulators.salesforce.app.faults.add(path="/query", error_code="CONCURRENT_REQUEST_LIMIT")
    with pytest.raises(RateLimited) as caught:
        salesforce.query("SELECT Id FROM Lead")
    assert not isinstance(caught.value, ApiLimitExceeded)
    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED" and caught.value.retry_after
