"""The Salesforce budget: never past "Allocated to HubSpot" in a rolling 24 hours."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine.budget import budget_check, budget_remaining, budget_reserve
from sync_engine.errors import BudgetExhausted
from sync_engine.models import ApiCall, System

from .factories import ApiCallFactory, IntegrationFactory


@pytest.mark.django_db
def test_check_passes_under_the_allocation_and_fails_at_it():
    integration = IntegrationFactory(salesforce_api_allocation=3)
    ApiCallFactory.create_batch(2, integration=integration)
    budget_check(integration, System.SALESFORCE)
    assert budget_remaining(integration=integration, system=System.SALESFORCE) == 1
    ApiCallFactory(integration=integration)
    with pytest.raises(BudgetExhausted) as caught:
        budget_check(integration, System.SALESFORCE)
    assert caught.value.used == 3
    assert caught.value.allocation == 3


@pytest.mark.django_db
def test_window_is_rolling_24_hours():
    integration = IntegrationFactory(salesforce_api_allocation=2)
    old = timezone.now() - timedelta(hours=24, minutes=1)
    ApiCallFactory.create_batch(5, integration=integration, called_at=old)
    ApiCallFactory(integration=integration, called_at=timezone.now() - timedelta(hours=23))
    budget_check(integration, System.SALESFORCE)  # only one call inside the window


@pytest.mark.django_db
def test_hubspot_calls_do_not_use_the_salesforce_allocation():
    integration = IntegrationFactory(salesforce_api_allocation=1)
    ApiCallFactory.create_batch(3, integration=integration, system=System.HUBSPOT)
    budget_check(integration, System.SALESFORCE)
    budget_check(integration, System.HUBSPOT)  # no allocation on that side


@pytest.mark.django_db
def test_other_integrations_calls_do_not_count():
    integration = IntegrationFactory(salesforce_api_allocation=1)
    ApiCallFactory.create_batch(3)
    budget_check(integration, System.SALESFORCE)


@pytest.mark.django_db
def test_reserve_writes_the_row_or_nothing():
    integration = IntegrationFactory(salesforce_api_allocation=2)
    first = budget_reserve(integration=integration, system=System.SALESFORCE, operation="query")
    second = budget_reserve(integration=integration, system=System.SALESFORCE, operation="query")
    assert first.status is None and second.status is None  # in flight until completed
    with pytest.raises(BudgetExhausted):
        budget_reserve(integration=integration, system=System.SALESFORCE, operation="query")
    assert ApiCall.objects.filter(integration=integration).count() == 2


@pytest.mark.django_db
def test_lowering_the_allocation_takes_effect_immediately():
    integration = IntegrationFactory(salesforce_api_allocation=10)
    ApiCallFactory.create_batch(3, integration=integration)
    type(integration).objects.filter(pk=integration.pk).update(salesforce_api_allocation=3)
    with pytest.raises(BudgetExhausted):  # the stale instance still says 10
        budget_reserve(integration=integration, system=System.SALESFORCE, operation="query")
