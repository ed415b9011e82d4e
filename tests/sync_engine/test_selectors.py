from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine.models import System
from sync_engine.selectors import (
    api_calls_by_operation,
    api_calls_per_hour,
    api_calls_used,
    integration_api_usage,
    integration_get_default,
)

from .factories import ApiCallFactory, IntegrationFactory, SalesforceConnectionFactory


@pytest.mark.django_db
def test_default_integration_is_the_first():
    assert integration_get_default() is None
    first = IntegrationFactory()
    IntegrationFactory()
    SalesforceConnectionFactory(integration=first)
    found = integration_get_default()
    assert found == first
    assert found.salesforce_connection.instance_url


@pytest.mark.django_db
def test_calls_used_counts_the_window_per_system():
    integration = IntegrationFactory()
    now = timezone.now()
    ApiCallFactory.create_batch(4, integration=integration, called_at=now - timedelta(hours=1))
    ApiCallFactory(integration=integration, called_at=now - timedelta(hours=25))
    ApiCallFactory(integration=integration, system=System.HUBSPOT)
    assert api_calls_used(integration=integration, system=System.SALESFORCE) == 4
    assert api_calls_used(integration=integration, system=System.HUBSPOT) == 1
    assert api_calls_used(integration=integration, since=now - timedelta(hours=26)) == 5
    assert api_calls_used(integration=integration, window=timedelta(minutes=30)) == 0


@pytest.mark.django_db
def test_calls_per_hour_fills_gaps():
    integration = IntegrationFactory()
    now = timezone.now()
    ApiCallFactory.create_batch(3, integration=integration, called_at=now)
    ApiCallFactory(integration=integration, called_at=now - timedelta(hours=2))
    hours = api_calls_per_hour(integration=integration, hours=5)
    assert len(hours) == 5
    assert [count for _, count in hours] == [0, 0, 1, 0, 3]
    assert hours[-1][0] == now.replace(minute=0, second=0, microsecond=0)


@pytest.mark.django_db
def test_usage_panel():
    integration = IntegrationFactory(salesforce_api_allocation=10, salesforce_api_limit=15000)
    ApiCallFactory.create_batch(4, integration=integration, operation="query", records=2)
    ApiCallFactory(integration=integration, operation="limits")
    usage = integration_api_usage(integration=integration)
    assert (usage.used, usage.remaining, usage.percent_used, usage.limit) == (5, 5, 50, 15000)
    by_op = api_calls_by_operation(integration=integration)
    assert by_op[0] == {"operation": "query", "calls": 4, "records": 8}
