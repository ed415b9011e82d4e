"""The daily API budget, ``Sforce-Limit-Info``, ``/limits`` and injected faults."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from emulators.testing import salesforce_client


def test_every_call_is_counted_and_reported(sf):
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"].used == 1
    assert sf.api_usage["api-usage"].total == 15000
    lead = sf.Lead
    lead.create({"LastName": "x", "Company": "y"})
    assert lead.api_usage["api-usage"].used == 2
    limits = sf.limits()  # not counted by default
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 14998}
    assert sf.api_usage["api-usage"].used == 2
    assert {"DailyBulkApiBatches", "DailyBulkV2QueryJobs", "DataStorageMB"} <= set(limits)
    assert set(limits["DataStorageMB"]) == {"Max", "Remaining"}


def test_query_more_pages_count(sf, app):
    sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "X"}
                for i in range(200)
            ]
        },
    )
    sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Lead"}, "LastName": f"M{i}", "Company": "X"}
                for i in range(200)
            ]
        },
    )
    before = app.budget_state()["used"]
    result = sf.query_all("SELECT Id FROM Lead", headers={"Sforce-Query-Options": "batchSize=200"})
    assert len(result["records"]) == 400
    assert app.budget_state()["used"] == before + 2


def test_counting_limits_is_configurable(sf, app, control):
    response = control("budget", {"max": 100, "count_limits": True})
    assert response.json()["max"] == 100
    sf.limits()
    sf.limits()
    assert sf.api_usage["api-usage"] == (2, 100)
    assert app.budget_state() == {
        "used": 2,
        "max": 100,
        "remaining": 98,
        "count_limits": True,
        "window_hours": 24,
    }


def test_exhausted_budget_is_refused_until_the_window_rolls(sf, app):
    app.configure_budget(max=3)
    for _ in range(3):
        sf.query("SELECT Id FROM Lead")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Lead")
    assert caught.value.status == 403
    assert caught.value.content == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert sf.limits()["DailyApiRequests"]["Remaining"] == 0  # limits still answers
    app.clock.advance(24 * 3600 + 1)
    assert sf.query("SELECT Id FROM Lead")["done"] is True
    assert sf.api_usage["api-usage"].used == 1


def test_usage_can_be_preloaded(sf, app):
    app.configure_budget(max=1000, used=990)
    sf.query("SELECT Id FROM Lead")
    assert sf.api_usage["api-usage"] == (991, 1000)


def test_failed_requests_still_count_but_refused_ones_do_not(sf, app, emulators):
    with pytest.raises(SalesforceMalformedRequest):
        sf.query("SELECT Nope FROM Lead")
    assert app.budget_state()["used"] == 1
    bad = salesforce_client(emulators, token="x")
    app.run_action("expire_token", token="x")
    with pytest.raises(SalesforceExpiredSession):
        bad.query("SELECT Id FROM Lead")
    assert app.budget_state()["used"] == 1


@pytest.mark.parametrize(
    ("code", "exception", "status"),
    [
        ("UNABLE_TO_LOCK_ROW", SalesforceMalformedRequest, 400),
        ("REQUEST_LIMIT_EXCEEDED", SalesforceRefusedRequest, 403),
        ("INVALID_SESSION_ID", SalesforceExpiredSession, 401),
        ("SERVER_UNAVAILABLE", SalesforceGeneralError, 503),
        ("UNKNOWN_EXCEPTION", SalesforceGeneralError, 500),
    ],
)
def test_named_faults_answer_real_error_bodies(sf, app, code, exception, status):
    created = sf.Contact.create({"LastName": "x"})["id"]
    app.faults.add(path=r"/sobjects/Contact/", method="PATCH", error_code=code, times=1)
    with pytest.raises(exception) as caught:
        sf.Contact.update(created, {"LastName": "y"})
    assert caught.value.status == status
    assert caught.value.content[0]["errorCode"] == code
    if code == "UNABLE_TO_LOCK_ROW":
        assert caught.value.content[0]["message"].endswith(created)
    assert sf.Contact.update(created, {"LastName": "y"}) == 204  # fired once only


def test_html_fault_bodies_fall_back_to_text(sf, app):
    app.faults.add(path="/query", status=503, body="<html>Service unavailable</html>", times=1)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Lead")
    assert caught.value.status == 503
    assert "Service unavailable" in str(caught.value.content)


def test_apply_then_fail_commits_the_write(sf, app):
    app.faults.add(
        path="/sobjects/Lead",
        method="POST",
        error_code="SERVER_UNAVAILABLE",
        apply_then_fail=True,
        times=1,
    )
    with pytest.raises(SalesforceGeneralError):
        sf.Lead.create({"LastName": "Ghost", "Company": "X"})
    assert sf.query("SELECT LastName FROM Lead")["records"][0]["LastName"] == "Ghost"
