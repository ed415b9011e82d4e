"""Ledger labels for Salesforce requests, derived from method and path."""

import pytest

from sync_engine.connectors.salesforce.operations import request_records, salesforce_operation

BASE = "https://127.0.0.1:8443/services/data/v59.0"


@pytest.mark.parametrize(
    ("method", "url", "operation"),
    [
        ("GET", f"{BASE}/query/?q=SELECT+Id+FROM+Lead", "query"),
        ("GET", f"{BASE}/query/01gxx-2000", "query.more"),
        ("GET", f"{BASE}/queryAll/?q=SELECT+Id+FROM+Lead", "queryAll"),
        ("GET", f"{BASE}/queryAll/01gxx-2000", "queryAll.more"),
        ("GET", f"{BASE}/limits/", "limits"),
        ("GET", f"{BASE}/sobjects", "describe"),
        ("GET", f"{BASE}/sobjects/Lead/describe", "sobject.describe"),
        ("POST", f"{BASE}/sobjects/Lead/", "sobject.create"),
        ("GET", f"{BASE}/sobjects/Lead/00Q000000000001", "sobject.get"),
        ("PATCH", f"{BASE}/sobjects/Lead/00Q000000000001", "sobject.update"),
        ("PATCH", f"{BASE}/sobjects/Lead/Ext__c/abc", "sobject.upsert"),
        ("DELETE", f"{BASE}/sobjects/Lead/00Q000000000001", "sobject.delete"),
        ("POST", f"{BASE}/composite", "composite"),
        ("POST", f"{BASE}/composite/batch", "composite.batch"),
        ("POST", f"{BASE}/composite/sobjects", "collections.create"),
        ("PATCH", f"{BASE}/composite/sobjects", "collections.update"),
        ("PATCH", f"{BASE}/composite/sobjects/Contact/Ext__c", "collections.upsert"),
        ("DELETE", f"{BASE}/composite/sobjects?ids=a,b", "collections.delete"),
        ("POST", f"{BASE}/composite/sobjects/Contact", "collections.retrieve"),
        ("POST", f"{BASE}/jobs/ingest", "bulk2.ingest"),
        ("POST", "https://127.0.0.1:8443/services/oauth2/token", "oauth.token"),
        ("GET", "https://127.0.0.1:8443/services/oauth2/userinfo", "oauth.userinfo"),
    ],
)
def test_operation_names(method, url, operation):
    assert salesforce_operation(method, url) == operation


def test_records_sent():
    body = {"allOrNone": False, "records": [{"LastName": "a"}, {"LastName": "b"}]}
    assert request_records("collections.create", json_body=body) == 2
    assert request_records("collections.delete", params={"ids": "a,b,c"}) == 3
    assert request_records("query") == 0
