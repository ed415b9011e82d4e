"""Celery tasks: thin shells over services. Schedules live in ``schedules.py``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import shared_task

from .errors import ConnectorError
from .selectors import (
    integration_get_default,
    integration_salesforce_connection,
    resync_pending,
)
from .services import api_calls_prune, integration_refresh_limits, sync_runs_prune

if TYPE_CHECKING:
    from .models import LeasedJob

logger = logging.getLogger(__name__)


@shared_task(name="sync_engine.refresh_api_limits", ignore_result=True)
def refresh_api_limits() -> None:
    integration = integration_get_default()
    if integration is None or integration_salesforce_connection(integration=integration) is None:
        return
    if not integration.is_connected or not integration.sync_enabled:
        return  # sync off: the integration makes no call on its own until it's back on
    try:
        integration_refresh_limits(integration=integration)
    except ConnectorError as error:
        logger.warning("refresh_api_limits failed: %s", error)


@shared_task(name="sync_engine.prune_api_calls", ignore_result=True)
def prune_api_calls() -> None:
    """The nightly clean-up: ledger rows and runs past 30 days."""
    api_calls_prune()
    sync_runs_prune()


# A Resync whose pair another worker is syncing comes back this much later, for about a lease.
RESYNC_WAIT_SECONDS = 15
RESYNC_TRIES = 20


@shared_task(name="sync_engine.sync_object", ignore_result=True, acks_late=True)
def sync_object(
    *,
    integration_id: int,
    object_name: str = "contacts",
    trigger: str = "schedule",
    tries: int = 1,
):
    from .models import Integration
    from .object_settings import PairRemoved
    from .sync.cycle import SyncAlreadyRunning, sync_cycle_run

    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return
    if not integration.sync_enabled:
        # A resync asked for while sync is off: its request stays queued for the first cycle
        # after sync is turned back on.
        logger.info("sync is off for integration %s; %s not synced", integration_id, object_name)
        return
    if tries > 1 and not resync_pending(integration=integration, object_name=object_name):
        return  # served meanwhile (by another click's cycle, say): no cycle for nothing
    try:
        sync_cycle_run(integration=integration, object_name=object_name, trigger=trigger)
    except SyncAlreadyRunning:
        logger.info("%s of integration %s is already syncing", object_name, integration_id)
        if trigger == "resync" and tries < RESYNC_TRIES:
            # The running cycle may be past its retries, or not allowed them (above 75% of
            # the allocation): an admin's Resync gets a cycle of its own once that one ends.
            sync_object.apply_async(
                kwargs={
                    "integration_id": integration_id,
                    "object_name": object_name,
                    "trigger": trigger,
                    "tries": tries + 1,
                },
                countdown=RESYNC_WAIT_SECONDS,
            )
    except PairRemoved:
        logger.info("%s of integration %s was removed; not synced", object_name, integration_id)


@shared_task(name="sync_engine.sync_pairs", ignore_result=True, acks_late=True)
def sync_pairs(
    *,
    integration_id: int,
    object_names: list[str],
    trigger: str = "schedule",
    due_at: str | None = None,
):
    """One cycle over several pairs in dependency order, sharing one Salesforce change probe.
    ``due_at``: the beat's tick that found them due (ISO time)."""
    from datetime import datetime

    from .models import Integration
    from .sync.cycle import sync_cycles_run
    from .sync.schedule import still_due

    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return
    if not integration.sync_enabled:
        logger.info("sync is off for integration %s; no cycle", integration_id)
        return
    if due_at is not None:
        # Ticks pile up behind a busy worker (an import, a long cycle): a cycle started since
        # this tick served it, and a pair switched off since is no longer due.
        object_names = still_due(
            integration=integration,
            object_names=object_names,
            since=datetime.fromisoformat(due_at),
        )
        if not object_names:
            return
    sync_cycles_run(integration=integration, object_names=object_names, trigger=trigger)


@shared_task(name="sync_engine.sync_due", ignore_result=True)
def sync_due() -> None:
    """Every minute: start the cycles that are due (the interval stretches when the allocation
    would otherwise run out before the 24-hour window ends), one task per integration."""
    from django.utils import timezone

    from .sync.schedule import due_cycles

    due_at = timezone.now().isoformat()
    due: dict[int, list[str]] = {}
    for integration_id, object_name in due_cycles():
        due.setdefault(integration_id, []).append(object_name)
    for integration_id, object_names in due.items():
        sync_pairs.delay(integration_id=integration_id, object_names=object_names, due_at=due_at)


def _leased_job_run(
    task: Any, model: type[LeasedJob], job_id: int, run: Callable[..., LeasedJob]
) -> None:
    """Run (or resume) one worker job (``model``: an import, a list resync) with ``run``. When
    another worker holds it, ``task`` looks again once its lease would run out: a worker
    restarted on another host (a redeploy) leaves a lease nobody renews, and the job then
    resumes by itself."""
    from .imports import job_lease_left

    job = model.objects.select_related("integration").filter(pk=job_id).first()
    if job is None or not job.is_active:
        return
    job = run(job=job)
    if job.is_active:  # not ours: a live lease elsewhere
        task.apply_async((job_id,), countdown=job_lease_left(job).total_seconds() + 5)


@shared_task(name="sync_engine.run_import", ignore_result=True, acks_late=True)
def run_import(import_id: int) -> None:
    """Run (or resume) one import of Salesforce records into HubSpot (``_leased_job_run``)."""
    from .imports import import_run
    from .models import ImportJob

    _leased_job_run(run_import, ImportJob, import_id, import_run)


@shared_task(name="sync_engine.run_list_resync", ignore_result=True, acks_late=True)
def run_list_resync(job_id: int) -> None:
    """Read one *Resync a list*'s members and queue them, or go on where a worker that died
    left it (``_leased_job_run``)."""
    from .models import ListResyncJob
    from .services import list_resync_run

    _leased_job_run(run_list_resync, ListResyncJob, job_id, list_resync_run)
