"""The REST API and its OpenAPI schema, for a logged-in user."""

from __future__ import annotations

import pytest

from tests.sync_engine.factories import (
    ApiCallFactory,
    HubSpotConnectionFactory,
    IntegrationFactory,
    SalesforceConnectionFactory,
)

pytestmark = pytest.mark.django_db


def test_integration_before_connecting(logged_in):
    response = logged_in.get("/api/v1/integration/")
    assert response.status_code == 404
    assert "connect" in response.json()["detail"]


def test_integration_state_and_usage(logged_in):
    integration = IntegrationFactory(salesforce_api_allocation=100, salesforce_api_limit=15000)
    SalesforceConnectionFactory(integration=integration, access_token="never-shown")
    HubSpotConnectionFactory(integration=integration, access_token="never-shown-either")
    ApiCallFactory.create_batch(3, integration=integration)
    response = logged_in.get("/api/v1/integration/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "connected"
    assert body["api_usage"]["salesforce_calls_last_24h"] == 3
    assert body["api_usage"]["allocated_to_hubspot"] == 100
    assert body["api_usage"]["remaining"] == 97
    assert body["api_usage"]["limited_by_salesforce"] == 15000
    assert body["salesforce"]["instance_url"] == "https://127.0.0.1:1"
    assert "never-shown" not in response.content.decode()


def test_schema(logged_in):
    response = logged_in.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/integration/" in schema["paths"]
    assert schema["info"]["title"].startswith("HubSpot")
