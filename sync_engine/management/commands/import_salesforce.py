"""``python manage.py import_salesforce <object> [--wait | --here] [--resume ID]``

Import a Salesforce object's existing records into HubSpot (leads, contacts, accounts,
opportunities, cases, tasks, events or ``custom:<n>``), or one active campaign's members
(``campaign:<Id>``: its contacts and unconverted leads). By default the import is queued for a
worker; ``--wait`` then watches it with a live progress bar, ``--here`` runs it in this process
(no worker needed). Both end with the summary: created, updated, skipped with reasons, failed,
and exit non-zero when the import failed or was cancelled. Ctrl-C cancels an import run
``--here`` (resume it with ``--resume ID``) and only stops watching one a worker runs.
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sync_engine.imports import (
    SKIP_REASONS,
    STANDARD_TARGETS,
    ImportRefused,
    import_cancel,
    import_job_get,
    import_progress,
    import_resumable,
    import_resume,
    import_run,
    import_start,
    job_target,
)
from sync_engine.models import ImportJob

from ._integration import integration_or_error

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
            "--resume",
            type=int,
            metavar="ID",
            help="resume a failed, cancelled or stalled import (or watch a running one with "
            "--wait)",
        )

    def handle(self, *args, **options):
        integration = integration_or_error(to="import")
        here, wait = options["here"], options["wait"]
        try:
            if options["resume"] is not None:
                if options["object"]:
                    raise CommandError("Name the object to import or --resume ID, not both.")
                job = import_job_get(integration=integration, job_id=options["resume"])
                if job is None:
                    raise CommandError(f"No import #{options['resume']}.")
                if import_resumable(job):
                    job = import_resume(job=job, enqueue=not here)
                    self.stdout.write(f"Import #{job.pk} of {self.label(job)} resumed.")
                elif job.is_active:
                    self.stdout.write(
                        f"Import #{job.pk} of {self.label(job)} is already "
                        f"{job.get_status_display().lower()}."
                    )
                else:
                    raise CommandError(self.finished(job))
            elif options["object"]:
                job = import_start(
                    integration=integration, object_name=options["object"], enqueue=not here
                )
                self.stdout.write(f"Import #{job.pk} of {self.label(job)} started.")
            else:
                raise CommandError("Name the object to import, or --resume ID.")
        except ImportRefused as error:
            raise CommandError(str(error)) from error
        if not (here or wait):
            self.stdout.write(
                f"A worker runs it; watch it with `manage.py import_salesforce --resume "
                f"{job.pk} --wait` or on the dashboard's Import page."
            )
            return
        mode = "--here" if here else "--wait"
        running_here = here
        try:
            if here:
                # Returns at once when a worker holds the import: then this watches it instead.
                import_run(job=job, progress=self.show)
                running_here = False
                job.refresh_from_db()
            if wait or job.is_active:
                while True:
                    self.show(job)
                    if not job.is_active:
                        break
                    time.sleep(0.5)
                    job.refresh_from_db()
        except KeyboardInterrupt:
            # Ctrl-C: an import run here stops as cancelled (resumable at once, and the same
            # object can be imported again), one a worker runs goes on; no traceback.
            self.stdout.write("")
            if not running_here:
                raise CommandError(
                    f"Stopped watching import #{job.pk}; a worker goes on with it (watch it "
                    f"again with `manage.py import_salesforce --resume {job.pk} --wait`).",
                    returncode=130,
                ) from None
            if import_cancel(job=job):
                raise CommandError(
                    f"Import #{job.pk} of {self.label(job)} stopped after {job.processed:,} "
                    f"records; resume it with `manage.py import_salesforce --resume {job.pk} "
                    f"--here`.",
                    returncode=130,
                ) from None
            job.refresh_from_db()  # it ended just before
        self.summary(job)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"The import failed: {job.message}")
        if job.status == ImportJob.Status.CANCELLED:
            raise CommandError(
                f"Import #{job.pk} of {self.label(job)} was cancelled after {job.processed:,} "
                f"records; resume it with `manage.py import_salesforce --resume {job.pk} {mode}`."
            )

    @staticmethod
    def label(job: ImportJob) -> str:
        target = job_target(job)
        return target.label if target else job.object

    def finished(self, job: ImportJob) -> str:
        """Why a succeeded import doesn't resume, and how to import the object again."""
        end = job.finished_at and timezone.localtime(job.finished_at)
        when = f" on {end:%Y-%m-%d %H:%M %Z}" if end else ""
        return (
            f"Import #{job.pk} of {self.label(job)} already finished "
            f"({job.get_status_display().lower()}{when}: {job.created:,} created, "
            f"{job.updated:,} updated, {job.skipped:,} "
            f"skipped, {job.failed:,} failed); only a failed, cancelled or stalled import "
            f"resumes. Start a new one with `manage.py import_salesforce {job.object}`."
        )

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
        ]
        if job.left_out:  # of created and updated
            rows.append(("  written without a value (see Sync health)", job.left_out))
        rows.append(("skipped", job.skipped))
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
