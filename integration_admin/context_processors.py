"""What the header shows on every page: the integration's state and its connected systems."""

from __future__ import annotations

from urllib.parse import urlsplit

from sync_engine.selectors import (
    integration_get_default,
    integration_hubspot_connection,
    integration_salesforce_connection,
)

from .navigation import TABS


def integration_header(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    integration = integration_get_default()
    salesforce = hubspot = None
    if integration is not None:
        salesforce = integration_salesforce_connection(integration=integration)
        hubspot = integration_hubspot_connection(integration=integration)
    return {
        "header_integration": integration,
        "header_salesforce_host": urlsplit(salesforce.instance_url).netloc if salesforce else "",
        "header_hubspot_host": urlsplit(hubspot.base_url).netloc if hubspot else "",
        "tabs": TABS,
    }
