"""``python manage.py import_salesforce <object> [--wait | --here] [--resume ID]``

Import a Salesforce object's existing records into HubSpot (leads, contacts, accounts,
opportunities, cases, tasks, events or ``custom:<n>``), or one active campaign's members
(``campaign:<Id>``: its contacts and unconverted leads). By default the import is queued for a
worker; ``--wait`` then watches it with a live progress bar, ``--here`` runs it in this process
(no worker needed). Both end with the summary: created, updated, skipped with reasons, failed.
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError

from sync_engine.imports import (
    SKIP_REASONS,
    STANDARD_TARGETS,
    ImportRefused,
    import_job_get,
    import_progress,
    import_resume,
    import_run,
    import_start,
    job_target,
)
from sync_engine.models import ImportJob
from sync_engine.selectors import integration_get_default

BAR = 30


class Command(BaseCommand):
    help = "Import a Salesforce object's records into HubSpot, with a live progress bar."

    def add_arguments(self, parser):
        parser.add_argument(
            "object",
            nargs="?",
            help=f"{', '.join(STANDARD_TARGETS)}, custom:<n> or campaign:<Id> (an active "
            "campaign's members)",
        )
        how = parser.add_mutually_exclusive_group()
        how.add_argument(
            "--wait", action="store_true", help="queue it, then watch it until it ends"
        )
        how.add_argument(
            "--here", action="store_true", help="run it in this process (no worker needed)"
        )
        parser.add_argument(
            "--resume", type=int, metavar="ID", help="resume a failed or cancelled import"
        )

    def handle(self, *args, **options):
        integration = integration_get_default()
        if integration is None:
            raise CommandError("Not connected yet: run `manage.py connect` first.")
        here = options["here"]
        try:
            if options["resume"]:
                job = import_job_get(integration=integration, job_id=options["resume"])
                if job is None:
                    raise CommandError(f"No import #{options['resume']}.")
                if job.status in (ImportJob.Status.FAILED, ImportJob.Status.CANCELLED):
                    job = import_resume(job=job) if not here else self._requeue(job)
            elif options["object"]:
                job = import_start(
                    integration=integration, object_name=options["object"], enqueue=not here
                )
            else:
                raise CommandError("Name the object to import, or --resume ID.")
        except ImportRefused as error:
            raise CommandError(str(error)) from error
        target = job_target(job)
        self.stdout.write(f"Import #{job.pk} of {target.label if target else job.object} started.")
        if here:
            self.started = time.monotonic()
            import_run(job=job, progress=self.show)
        elif options["wait"]:
            self.started = time.monotonic()
            while True:
                job.refresh_from_db()
                self.show(job)
                if not job.is_active:
                    break
                time.sleep(0.5)
        else:
            self.stdout.write(
                f"A worker runs it; watch it with `manage.py import_salesforce --resume "
                f"{job.pk} --wait` or on the dashboard's Import page."
            )
            return
        job.refresh_from_db()
        self.summary(job)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"The import failed: {job.message}")

    def _requeue(self, job: ImportJob) -> ImportJob:
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, message="")
        job.refresh_from_db()
        return job

    def show(self, job: ImportJob) -> None:
        """One line, redrawn: bar, processed/total, records/s and the calls spent."""
        progress = import_progress(job)
        total = progress["total"]
        filled = round(BAR * progress["percent"] / 100)
        bar = "█" * filled + "·" * (BAR - filled)
        line = (
            f"\r[{bar}] {job.processed:,}/{total:,} {progress['percent']:3d}%  "
            f"{progress['rate']:,.0f} records/s  Salesforce {job.salesforce_calls:,} calls  "
            f"HubSpot {job.hubspot_calls:,} calls"
        )
        self.stdout.write(line, ending="")
        self.stdout.flush()

    def summary(self, job: ImportJob) -> None:
        progress = import_progress(job)
        self.stdout.write("")
        self.stdout.write(
            f"{job.object}: {job.get_status_display()} in {progress['seconds']:.1f} s "
            f"({job.method or 'no read'}, {progress['rate']:,.0f} records/s)"
        )
        rows = [
            ("records in Salesforce", progress["total"]),
            ("processed", job.processed),
            ("created in HubSpot", job.created),
            ("updated in HubSpot", job.updated),
            ("skipped", job.skipped),
        ]
        rows += [(f"  {SKIP_REASONS.get(k, k)}", v) for k, v in progress["reasons"]]
        rows += [
            ("failed (see Sync health)", job.failed),
            ("Salesforce API calls", job.salesforce_calls),
            ("HubSpot API calls", job.hubspot_calls),
        ]
        for label, value in rows:
            self.stdout.write(f"  {label:<40} {value:>10,}")
        if job.message:
            self.stdout.write(f"  {job.message}")
        sys.stdout.flush()
