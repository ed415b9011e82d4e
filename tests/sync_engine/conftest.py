"""Fixtures: an integration connected to the in-process emulators (see emulators.testing)."""

from __future__ import annotations

import pytest

from .factories import HubSpotConnectionFactory, IntegrationFactory, SalesforceConnectionFactory

SF_TOKEN = "integration-user-token"
HS_TOKEN = "integration-app-token"


@pytest.fixture
def integration(db):
    return IntegrationFactory()


@pytest.fixture
def sf_connection(integration, emulators):
    return SalesforceConnectionFactory(
        integration=integration,
        instance_url=emulators.salesforce.url,
        ca_bundle=emulators.ca_path.read_text(),
        access_token=SF_TOKEN,
    )


@pytest.fixture
def hs_connection(integration, emulators):
    return HubSpotConnectionFactory(
        integration=integration, base_url=emulators.hubspot.url, access_token=HS_TOKEN
    )


@pytest.fixture
def salesforce(sf_connection):
    from sync_engine.connectors.salesforce import SalesforceConnector

    return SalesforceConnector(integration=sf_connection.integration)


@pytest.fixture
def hubspot(hs_connection):
    from sync_engine.connectors.hubspot import HubSpotConnector

    return HubSpotConnector(integration=hs_connection.integration)
