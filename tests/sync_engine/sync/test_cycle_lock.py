"""The per-pair lease: one cycle at a time, and a dead worker's lease is taken over."""

import os
import socket
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine.models import ObjectSync, SyncRun
from sync_engine.sync.cycle import SyncAlreadyRunning, sync_cycle_run


def hold(integration, holder):
    ObjectSync.objects.filter(integration=integration, object="contacts").update(
        lock_holder=holder, lock_expires_at=timezone.now() + timedelta(minutes=5)
    )


def test_a_live_holder_keeps_the_pair(cycle, integration):
    hold(integration, f"{socket.gethostname()}:{os.getpid()}:other-cycle")
    with pytest.raises(SyncAlreadyRunning):
        sync_cycle_run(integration=integration, object_name="contacts")


def test_a_dead_workers_lease_and_run_are_taken_over(cycle, integration):
    dead = subprocess.Popen(["true"])
    dead.wait()
    hold(integration, f"{socket.gethostname()}:{dead.pid}:killed-cycle")
    stale = SyncRun.objects.create(integration=integration, object="contacts")
    run = cycle()
    assert run.status == "succeeded"
    stale.refresh_from_db()
    assert stale.status == "failed" and "Interrupted" in stale.message
    row = ObjectSync.objects.get(integration=integration, object="contacts")
    assert row.lock_holder == "" and row.lock_expires_at is None  # released after the cycle


def test_another_hosts_lease_is_respected_until_it_expires(cycle, integration):
    hold(integration, "some-other-host:1:cycle")
    with pytest.raises(SyncAlreadyRunning):
        sync_cycle_run(integration=integration, object_name="contacts")
    ObjectSync.objects.filter(integration=integration).update(
        lock_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert cycle().status == "succeeded"
