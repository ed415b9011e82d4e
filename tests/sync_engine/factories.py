"""factory-boy factories for the sync_engine models."""

import factory
from django.utils import timezone

from sync_engine.models import (
    ApiCall,
    HubSpotConnection,
    Integration,
    SalesforceConnection,
    System,
)


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    name = "Test integration"
    state = Integration.State.CONNECTED


class SalesforceConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesforceConnection

    integration = factory.SubFactory(IntegrationFactory)
    instance_url = "https://127.0.0.1:1"
    access_token = factory.Sequence(lambda n: f"sf-token-{n}")


class HubSpotConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HubSpotConnection

    integration = factory.SubFactory(IntegrationFactory)
    base_url = "http://127.0.0.1:1"
    access_token = factory.Sequence(lambda n: f"hs-token-{n}")


class ApiCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiCall

    integration = factory.SubFactory(IntegrationFactory)
    system = System.SALESFORCE
    operation = "query"
    status = 200
    called_at = factory.LazyFunction(timezone.now)
