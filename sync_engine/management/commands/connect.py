"""Connect the integration to a Salesforce org and a HubSpot account, verifying both."""

from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from sync_engine.errors import ConnectionCheckFailed
from sync_engine.services import integration_connect, integration_sync_set


class Command(BaseCommand):
    help = (
        "Connect the integration: verify both connections with one cheap call each and store "
        "them (tokens encrypted). The browser flow does the same with OAuth."
    )

    def add_arguments(self, parser):
        sf = parser.add_argument_group("Salesforce")
        sf.add_argument("--salesforce-url", required=True, help="instance URL, https://…")
        sf.add_argument("--salesforce-token", required=True, help="access token (session id)")
        sf.add_argument("--salesforce-ca", help="PEM file of a CA to trust (self-signed servers)")
        sf.add_argument("--salesforce-refresh-token", default="")
        sf.add_argument("--salesforce-client-id", default="")
        sf.add_argument("--salesforce-client-secret", default="")
        sf.add_argument(
            "--sandbox",
            action="store_true",
            help="the org is a Salesforce sandbox (one on a sandbox's own host is told anyway): "
            "the Connection page then offers Connect to a new sandbox",
        )
        hs = parser.add_argument_group("HubSpot")
        hs.add_argument(
            "--hubspot-url", required=True, help="API base URL, e.g. https://api.hubapi.com"
        )
        hs.add_argument("--hubspot-token", required=True, help="private-app or OAuth access token")
        hs.add_argument("--hubspot-refresh-token", default="")
        hs.add_argument("--hubspot-client-id", default="")
        hs.add_argument("--hubspot-client-secret", default="")
        parser.add_argument(
            "--another-account",
            action="store_true",
            help="connect a Salesforce org or HubSpot account other than the one the "
            "integration's links were made with (they would pair unrelated records: a fresh "
            "installation is the safe way)",
        )
        parser.add_argument(
            "--start",
            action="store_true",
            help="start syncing at once: a first connection otherwise waits until sync is "
            "started on the Connection page (after you have reviewed what will sync)",
        )

    def handle(self, *args, **opts):
        for side, option in (("Salesforce", "salesforce_url"), ("HubSpot", "hubspot_url")):
            try:
                urlsplit(opts[option]).port  # noqa: B018 - raises for a malformed host or port
            except ValueError as error:
                flag = "--" + option.replace("_", "-")
                raise CommandError(
                    f"{side}: {opts[option]} is not a valid URL ({error}); check {flag}"
                ) from error
        ca = ""
        if opts["salesforce_ca"]:
            path = Path(opts["salesforce_ca"])
            try:
                ca = path.read_text()
            except OSError as error:
                raise CommandError(
                    f"Salesforce: can't read the CA file {path}: {error.strerror}"
                ) from error
            if "BEGIN CERTIFICATE" not in ca:
                raise CommandError(f"Salesforce: {path} is not a PEM certificate bundle")
        if bool(opts["salesforce_refresh_token"]) != bool(opts["salesforce_client_id"]):
            raise CommandError(
                "Salesforce: token refresh needs both --salesforce-refresh-token and "
                "--salesforce-client-id (and usually --salesforce-client-secret)"
            )
        try:
            integration = integration_connect(
                salesforce_url=opts["salesforce_url"],
                salesforce_token=opts["salesforce_token"],
                salesforce_ca=ca,
                salesforce_refresh_token=opts["salesforce_refresh_token"],
                salesforce_client_id=opts["salesforce_client_id"],
                salesforce_client_secret=opts["salesforce_client_secret"],
                hubspot_url=opts["hubspot_url"],
                hubspot_token=opts["hubspot_token"],
                hubspot_refresh_token=opts["hubspot_refresh_token"],
                hubspot_client_id=opts["hubspot_client_id"],
                hubspot_client_secret=opts["hubspot_client_secret"],
                another_account=opts["another_account"],
                salesforce_sandbox=opts["sandbox"],
                hold_first_sync=not opts["start"],
            )
        except ConnectionCheckFailed as error:
            raise CommandError(f"Could not connect. {error}") from error
        if opts["start"] and integration.sync_not_started:  # held by an earlier connect
            integration = integration_sync_set(integration=integration, enabled=True)
        sf = integration.salesforce_connection
        hs = integration.hubspot_connection
        user = sf.username or sf.user_name or sf.user_id or "unknown user"
        limit = integration.salesforce_api_limit
        self.stdout.write(self.style.SUCCESS("Connected."))
        self.stdout.write(f"  Salesforce: {sf.instance_url} as {user}")
        self.stdout.write(
            f"    Limited by Salesforce: {limit if limit is not None else 'unknown'} calls/24 h; "
            f"allocated to HubSpot: {integration.salesforce_api_allocation}"
        )
        self.stdout.write(f"  HubSpot:    {hs.base_url}")
        if integration.sync_not_started:
            self.stdout.write(
                "Sync hasn't started: review what will sync (the Contacts tab's inclusion list "
                "and creation rules, the other tabs, the mappings), then press Start syncing on "
                "the Connection page (or connect again with --start)."
            )
