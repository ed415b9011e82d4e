"""What the header shows on every page: the integration's state, why, what to do, the last
successful sync per object, both connected systems and the user's role (2 queries)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sync_engine.selectors import (
    integration_hubspot_connection,
    integration_salesforce_connection,
    object_last_synced,
)

from .navigation import TABS
from .roles import user_is_admin, user_role_label
from .status import integration_status
from .views.common import current_integration


def integration_header(request) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    integration = current_integration(request)
    salesforce = hubspot = status = None
    if integration is not None:
        salesforce = integration_salesforce_connection(integration=integration)
        hubspot = integration_hubspot_connection(integration=integration)
        status = integration_status(integration, object_last_synced(integration=integration))
    return {
        "header_integration": integration,
        "header_status": status,
        "header_salesforce_host": urlsplit(salesforce.instance_url).netloc if salesforce else "",
        "header_hubspot_host": urlsplit(hubspot.base_url).netloc if hubspot else "",
        "tabs": TABS,
        "is_admin": user_is_admin(request.user),
        "role_label": user_role_label(request.user),
    }
