from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sync_engine.selectors import (
    integration_api_usage,
    integration_get_default,
    integration_hubspot_connection,
    integration_salesforce_connection,
)

from .serializers import IntegrationSerializer


class IntegrationView(APIView):
    """The integration: state, both connections and API use (last 24 hours)."""

    @extend_schema(responses=IntegrationSerializer)
    def get(self, request: Request) -> Response:
        integration = integration_get_default()
        if integration is None:
            raise NotFound("Not connected yet: run `manage.py connect`.")
        payload = {
            "id": integration.pk,
            "name": integration.name,
            "state": integration.state,
            "state_reason": integration.state_reason,
            "state_changed_at": integration.state_changed_at,
            "salesforce": integration_salesforce_connection(integration=integration),
            "hubspot": integration_hubspot_connection(integration=integration),
            "api_usage": integration_api_usage(integration=integration),
        }
        return Response(IntegrationSerializer(payload).data)
