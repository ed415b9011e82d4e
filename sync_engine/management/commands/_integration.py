"""What the commands check before they act on the integration (not a command: a leading ``_``
keeps Django from listing it)."""

from __future__ import annotations

from django.core.management.base import CommandError

from sync_engine.models import Integration
from sync_engine.selectors import audit_events_query, integration_get_default

NOT_CONNECTED = "Not connected yet: run `manage.py connect` first."


def was_disconnected(integration: Integration) -> bool:
    """Disconnected on purpose (the Connection page's Disconnect), as the Connection page
    tells it apart from "not connected yet": a failed first connect leaves no such event."""
    return (
        integration.state == Integration.State.DISCONNECTED
        and audit_events_query(integration=integration, action="integration.disconnected").exists()
    )


def integration_or_error(*, to: str) -> Integration:
    """The integration, or a ``CommandError`` saying how to connect it first (``to``: what
    for, "sync")."""
    integration = integration_get_default()
    if integration is None:
        raise CommandError(NOT_CONNECTED)
    if was_disconnected(integration):
        raise CommandError(
            f"Disconnected: connect again (manage.py connect … or the Connection page) to {to}."
        )
    if integration.state == Integration.State.DISCONNECTED:
        raise CommandError(NOT_CONNECTED)
    return integration
