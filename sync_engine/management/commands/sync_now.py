"""``python manage.py sync_now [--object contacts]``: one full cycle, synchronously."""

from django.core.management.base import BaseCommand, CommandError

from sync_engine.models import Integration, ObjectSync
from sync_engine.object_settings import CUSTOM_PREFIX, settings_for
from sync_engine.selectors import pairs_switched_on
from sync_engine.sync.cycle import sync_cycles_run
from sync_engine.sync.registry import is_pair

from ._integration import integration_or_error

LABELS = [
    ("read_salesforce", "read from Salesforce"),
    ("read_hubspot", "read from HubSpot"),
    ("created_in_hubspot", "created in HubSpot"),
    ("updated_in_hubspot", "updated in HubSpot"),
    ("deleted_in_hubspot", "deleted in HubSpot"),
    ("created_in_salesforce", "created in Salesforce"),
    ("updated_in_salesforce", "updated in Salesforce"),
    ("linked", "newly linked"),
    ("unchanged", "unchanged (skipped)"),
    ("skipped_no_email", "skipped: no email"),
    ("skipped_outside_list", "skipped: outside the inclusion list"),
    ("skipped_create_disabled", "skipped: creation turned off"),
    ("lifecycle_updates", "lifecycle stages moved"),
    ("owner_resets", "owners reset"),
    ("failed", "failed (see Sync health)"),
]

# Each standard pair's name in a sentence, and the dashboard tab that switches it on.
PAIR_SWITCHES = {
    "contacts": ("Contact", "Contacts"),
    "companies": ("Company", "Companies"),
    "deals": ("Deal", "Deals"),
    "tickets": ("Ticket", "Tickets"),
    "activities": ("Activity", "Activities"),
}


def sync_refusal(integration: Integration, object_names: list[str]) -> str:
    """Why a cycle asked for by hand can't run ("" when it can), decided as the dashboard's
    Sync now decides: the integration suspended or its sync off, or a named pair switched off
    (``pairs_switched_on``). Refused up front, so no run is recorded for a cycle that would
    only say so."""
    if integration.state == Integration.State.SUSPENDED:
        reason = integration.state_reason or "no reason was recorded."
        return (
            f"Syncing is suspended: {reason} Once that's fixed, clear the suspension on the "
            "dashboard (connecting again clears it too)."
        )
    if integration.sync_not_started:
        return (
            "Sync hasn't started yet: review what will sync, then press Start syncing on the "
            "Connection page (or run `manage.py connect` again with --start)."
        )
    if not integration.sync_enabled:
        return "Sync is off for this integration: turn it on on the Connection page."
    on = pairs_switched_on(integration=integration)
    custom = {  # set up through the wizard
        row.object: row
        for row in ObjectSync.objects.filter(
            integration=integration, object__startswith=CUSTOM_PREFIX
        )
    }
    for name in object_names:
        if name in on:
            continue
        if name in PAIR_SWITCHES:
            noun, tab = PAIR_SWITCHES[name]
            return f"{noun} sync is off: turn it on on the {tab} tab (or the settings API) first."
        row = custom.get(name)
        if row is None:
            known = ", ".join(sorted(custom)) or "none is set up"
            return f"Unknown object pair: {name} (custom objects: {known})."
        sobject = settings_for(name, row.options).salesforce_object or name
        return (
            f"Custom object sync of {sobject} ({name}) is off: turn it on on the Custom objects "
            "tab (or the settings API) first."
        )
    return ""


class Command(BaseCommand):
    help = "Run one sync cycle now and print what it read, wrote, skipped and failed."

    def add_arguments(self, parser):
        parser.add_argument(
            "--object",
            dest="objects",
            action="append",
            help="object pair to sync: contacts, companies, deals, tickets, activities or "
            "custom:<n> (default: every pair switched on, in dependency order)",
        )

    def handle(self, *args, **options):
        names = options["objects"] or []
        for object_name in names:
            if not is_pair(object_name):
                raise CommandError(f"Unknown object pair: {object_name}")
        integration = integration_or_error(to="sync")
        refusal = sync_refusal(integration, names)
        if refusal:
            raise CommandError(refusal)
        failed = False
        runs = sync_cycles_run(
            integration=integration, object_names=options["objects"], trigger="manual"
        )
        if options["objects"]:
            busy = set(options["objects"]) - {run.object for run in runs}
            if busy:
                raise CommandError(
                    f"{', '.join(sorted(busy))} already syncing; try again when that cycle ends."
                )
        if not runs and not options["objects"]:
            self.stdout.write("Nothing to sync: no object pair is switched on.")
        for run in runs:
            object_name = run.object
            seconds = (run.finished_at - run.started_at).total_seconds()
            self.stdout.write(f"{object_name}: {run.get_status_display()} in {seconds:.1f} s")
            for key, label in LABELS:
                if run.counts.get(key):
                    self.stdout.write(f"  {label:<40} {run.counts[key]:>8,}")
            self.stdout.write(f"  {'Salesforce API calls':<40} {run.salesforce_calls:>8,}")
            self.stdout.write(f"  {'HubSpot API calls':<40} {run.hubspot_calls:>8,}")
            if run.message:
                self.stdout.write(f"  {run.message}")
            failed = failed or run.status == "failed"
        if failed:
            raise CommandError("A cycle failed; see the message above.")
