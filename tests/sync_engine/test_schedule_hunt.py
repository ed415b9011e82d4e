"""The beat's ticks against a worker that is busy: what waited in the queue runs once."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine import tasks
from sync_engine.budget import ALLOCATION_USED
from sync_engine.models import ApiCall, ObjectSync, RecordLink, SyncError, SyncRun
from sync_engine.services import (
    object_sync_get_or_create,
    record_resync,
    sync_errors_request_resync,
)
from sync_engine.sync.cycle import sync_cycles_run
from sync_engine.sync.schedule import cycle_interval
from tests.sync_engine.sync.helpers import hs_create
from tests.sync_engine.sync.test_cycle_lock import dead_pid, here, hold
from tests.sync_engine.sync.test_schedule import calls_left, ran

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(monkeypatch):
    """The broker: what the beat's ``sync_due`` sends, kept for the worker to take later."""
    sent: list[dict] = []
    monkeypatch.setattr(tasks.sync_pairs, "delay", lambda **kwargs: sent.append(kwargs))
    return sent


def test_ticks_queued_behind_a_busy_worker_run_one_cycle_not_one_each(connected, queue):
    # The only worker is busy (an import, a long first sync): three ticks pass, and each
    # finds contacts due, as no cycle has started since.
    object_sync_get_or_create(integration=connected, object_name="contacts")
    for _ in range(3):
        tasks.sync_due()
    assert [m["object_names"] for m in queue] == [["contacts"]] * 3
    # Free again, the worker takes them in turn: the first runs the cycle; the two others
    # were asked for before it started, so it served them.
    tasks.sync_pairs(**queue[0])
    assert SyncRun.objects.count() == 1
    calls = ApiCall.objects.count()
    for message in queue[1:]:
        tasks.sync_pairs(**message)
    assert SyncRun.objects.count() == 1 and ApiCall.objects.count() == calls
    # The next tick (a minute on) is due as ever.
    SyncRun.objects.update(started_at=SyncRun.objects.get().started_at.replace(year=2000))
    tasks.sync_due()
    tasks.sync_pairs(**queue[-1])
    assert SyncRun.objects.count() == 2


def test_a_pair_switched_off_after_its_tick_is_not_synced_by_it(connected, queue):
    object_sync_get_or_create(integration=connected, object_name="contacts")
    tasks.sync_due()
    ObjectSync.objects.filter(integration=connected, object="contacts").update(enabled=False)
    tasks.sync_pairs(**queue[0])
    # No cycle, and no run in the history for a sync someone just switched off.
    assert not SyncRun.objects.exists() and not ApiCall.objects.exists()


def test_cycles_paused_at_the_allocation_dont_make_cycles_look_cheap_after_it(integration):
    # Contacts cycles cost 10 calls; then the allocation was used up (an admin lowered it)
    # and for 11 hours the hourly cycles paused before their first call.
    calls_left(integration, 3_000, used=300)
    for hour in range(20, 11, -1):
        ran(integration, "contacts", seconds_ago=hour * 3_600, calls=10)
    for hour in range(11, 0, -1):
        at = timezone.now() - timedelta(hours=hour)
        SyncRun.objects.create(
            integration=integration, object="contacts", started_at=at, finished_at=at,
            status=SyncRun.Status.PAUSED, message=ALLOCATION_USED,
        )  # fmt: skip
    # Now 2,700 calls are free: at 10 calls a cycle, one cycle per 320 seconds lasts the day.
    # Paced by the paused cycles' 0 calls, cycles would run every minute and use it up again
    # within five hours.
    interval = cycle_interval(integration=integration, object_names=["contacts"])
    assert interval == timedelta(seconds=320)


def test_a_ticks_cycle_killed_with_its_worker_runs_when_the_message_comes_back(connected, queue):
    # The worker took the tick's message, started the cycle and was killed: the run still
    # says running, and the lease names a process that is gone. The broker hands the message
    # (acknowledged only once done) to the restarted worker.
    object_sync_get_or_create(integration=connected, object_name="contacts")
    tasks.sync_due()
    killed = SyncRun.objects.create(integration=connected, object="contacts")
    hold(connected, here(dead_pid()))
    tasks.sync_pairs(**queue[0])
    killed.refresh_from_db()
    assert killed.status == "failed" and "Interrupted" in killed.message
    assert SyncRun.objects.exclude(pk=killed.pk).get().status == "succeeded"


def test_a_resync_asked_for_while_its_pair_syncs_is_served_past_75_percent(
    connected, hs_person, emulators, monkeypatch
):
    # A contact Salesforce refuses (a validation rule) has an error; the allocation is 80%
    # used, so automatic retries have stopped.
    object_sync_get_or_create(integration=connected, object_name="contacts")
    emulators.salesforce.app.run_action(
        "add_validation_rule", object="Lead", field="Title", operator="equals",
        value="Intern", message="Interns can't be leads", rule_name="No_interns",
    )  # fmt: skip
    contact = hs_create(
        hs_person, email="intern@example.com", lastname="I", company="X", jobtitle="Intern"
    )
    sync_cycles_run(integration=connected, object_names=["contacts"])
    error = SyncError.objects.get(record_key=f"hubspot:{contact}", resolved_at__isnull=True)
    assert error.error_type == "salesforce_custom_code"
    calls_left(connected, 10_000, used=8_000 - ApiCall.objects.filter(system="salesforce").count())
    # The admin fixes the rule and clicks Resync while another worker's cycle of contacts
    # runs: the Resync's own cycle finds the pair taken.
    emulators.salesforce.app.run_action("remove_validation_rule", rule_name="No_interns")
    sync_errors_request_resync(integration=connected, error_ids=[error.pk])
    hold(connected, here(os.getpid()))
    later: list[dict] = []
    monkeypatch.setattr(
        tasks.sync_object, "apply_async", lambda kwargs, countdown: later.append(kwargs)
    )
    tasks.sync_object(integration_id=connected.pk, object_name="contacts", trigger="resync")
    # That cycle ends; the Resync's cycle comes back, and the next scheduled cycle follows.
    ObjectSync.objects.filter(integration=connected).update(lock_holder="", lock_expires_at=None)
    for kwargs in later:
        tasks.sync_object(**kwargs)
    sync_cycles_run(integration=connected, object_names=["contacts"])
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert RecordLink.objects.filter(integration=connected, hubspot_id=contact).exists()


def test_resyncs_waiting_for_a_busy_pair_run_one_cycle_between_them(
    connected, hs_person, emulators, monkeypatch
):
    """Several Resyncs clicked during a long cycle each come back; the first one's cycle
    serves them all, and the others, finding nothing left to resync, run none."""
    object_sync_get_or_create(integration=connected, object_name="contacts")
    record_resync(integration=connected, object_name="contacts", record_key="hubspot:1")
    hold(connected, here(os.getpid()))
    later: list[dict] = []
    monkeypatch.setattr(
        tasks.sync_object, "apply_async", lambda kwargs, countdown: later.append(kwargs)
    )
    for _ in range(3):
        tasks.sync_object(integration_id=connected.pk, object_name="contacts", trigger="resync")
    assert len(later) == 3
    ObjectSync.objects.filter(integration=connected).update(lock_holder="", lock_expires_at=None)
    runs = SyncRun.objects.count()
    for kwargs in later:
        tasks.sync_object(**kwargs)
    assert SyncRun.objects.count() == runs + 1
