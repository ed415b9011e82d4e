"""``python manage.py sync_now [--object contacts]``: one full cycle, synchronously."""

from django.core.management.base import BaseCommand, CommandError

from sync_engine.selectors import integration_get_default
from sync_engine.sync.cycle import sync_cycles_run
from sync_engine.sync.registry import is_pair

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
        integration = integration_get_default()
        if integration is None:
            raise CommandError("Not connected yet: run `manage.py connect` first.")
        failed = False
        for object_name in options["objects"] or []:
            if not is_pair(object_name):
                raise CommandError(f"Unknown object pair: {object_name}")
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
