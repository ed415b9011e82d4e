"""Fixtures: an integration connected to the in-process emulators (see emulators.testing)."""

from __future__ import annotations

import pytest

from .factories import HubSpotConnectionFactory, IntegrationFactory, SalesforceConnectionFactory

SF_TOKEN = "integration-user-token"
HS_TOKEN = "integration-app-token"


def connect_to_emulators(emulators, **kwargs):
    """What ``manage.py connect`` does against the emulators (with the test tokens)."""
    from sync_engine.services import integration_connect

    return integration_connect(
        salesforce_url=emulators.salesforce.url,
        salesforce_token=SF_TOKEN,
        salesforce_ca=emulators.ca_path.read_text(),
        hubspot_url=emulators.hubspot.url,
        hubspot_token=HS_TOKEN,
        **kwargs,
    )


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
    """A HubSpot account in UTC (its company currency the emulator's, euros), connected: its
    details kept as connecting keeps them."""
    from django.utils import timezone

    from sync_engine.models import SchemaCache, System
    from sync_engine.services import HUBSPOT_ACCOUNT

    emulators.hubspot.app.run_action("set_time_zone", time_zone="UTC")
    SchemaCache.objects.update_or_create(
        integration=integration,
        system=System.HUBSPOT,
        object=HUBSPOT_ACCOUNT,
        defaults={
            "data": {"timeZone": "UTC", "companyCurrency": "EUR"},
            "fetched_at": timezone.now(),
        },
    )
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


@pytest.fixture
def connected(sf_connection, hs_connection, emulators):
    """The integration as ``manage.py connect`` leaves it (the integration user's id stored),
    with the emulators' own quotas lifted so only injected faults throttle."""
    from . import engine_harness

    integration = sf_connection.integration
    user = emulators.salesforce.app.run_action("user_for_token", token=sf_connection.access_token)
    sf_connection.user_id = user or ""
    sf_connection.save()
    engine_harness.unthrottle(emulators)
    return integration
