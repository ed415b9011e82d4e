"""Read the org's API limits from Salesforce now ("Limited by Salesforce")."""

from django.core.management.base import BaseCommand, CommandError

from sync_engine.errors import ConnectorError
from sync_engine.selectors import integration_salesforce_connection
from sync_engine.services import integration_refresh_limits

from ._integration import NOT_CONNECTED, integration_or_error


class Command(BaseCommand):
    help = "Refresh 'Limited by Salesforce' from the org's limits (one API call)."

    def handle(self, *args, **opts):
        integration = integration_or_error(to="read the limits")
        if integration_salesforce_connection(integration=integration) is None:
            raise CommandError(NOT_CONNECTED)
        try:
            integration_refresh_limits(integration=integration)
        except ConnectorError as error:
            raise CommandError(f"Could not read the limits: {error}") from error
        integration.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"Limited by Salesforce: {integration.salesforce_api_limit} calls/24 h "
                f"({integration.salesforce_api_remaining} left for the org)."
            )
        )
