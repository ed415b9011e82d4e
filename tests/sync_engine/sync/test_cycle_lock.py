"""The per-pair lease: one cycle at a time, and a dead worker's lease is taken over."""

import os
import socket
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone

from sync_engine.models import ObjectSync, SyncRun
from sync_engine.sync.cycle import (
    SyncAlreadyRunning,
    _holder_is_dead,
    _process_space,
    lock_holder_new,
    sync_cycle_run,
)


def hold(integration, holder):
    ObjectSync.objects.filter(integration=integration, object="contacts").update(
        lock_holder=holder, lock_expires_at=timezone.now() + timedelta(minutes=5)
    )


def here(pid: int, space: str | None = None) -> str:
    """A holder as a worker with ``pid`` in this pid space (or another ``space``) writes it."""
    return f"{socket.gethostname()[:32]}:{pid}:{space or _process_space()}:othercyc"


def dead_pid() -> int:
    dead = subprocess.Popen(["true"])
    dead.wait()
    return dead.pid


def test_a_live_holder_keeps_the_pair(cycle, integration):
    hold(integration, here(os.getpid()))
    with pytest.raises(SyncAlreadyRunning):
        sync_cycle_run(integration=integration, object_name="contacts")


def test_a_dead_workers_lease_and_run_are_taken_over(cycle, integration):
    hold(integration, here(dead_pid()))
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


def test_the_holder_names_its_pid_space_and_fits_the_column():
    holder = lock_holder_new()
    host, pid, space, _ = holder.split(":")
    assert len(holder) <= ObjectSync._meta.get_field("lock_holder").max_length
    assert pid == str(os.getpid()) and space == (_process_space() or "-")
    assert not _holder_is_dead(holder)  # this very process


def test_a_dead_pid_in_another_container_with_our_hostname_is_not_taken_over(cycle, integration):
    # Same hostname, but another boot or pid namespace: that pid means nothing here.
    hold(integration, here(dead_pid(), space="0123456789ab"))
    with pytest.raises(SyncAlreadyRunning):
        sync_cycle_run(integration=integration, object_name="contacts")


def test_an_old_holder_without_a_pid_space_waits_for_its_expiry(cycle, integration):
    hold(integration, f"{socket.gethostname()}:{dead_pid()}:killed-cycle")
    with pytest.raises(SyncAlreadyRunning):
        sync_cycle_run(integration=integration, object_name="contacts")
    ObjectSync.objects.filter(integration=integration).update(
        lock_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert cycle().status == "succeeded"


def test_a_pair_that_fails_unexpectedly_does_not_stop_the_pairs_after_it(
    cycle, integration, sf_person, monkeypatch
):
    """A defect in one pair's code (here: contacts, the first in order) fails its run with
    the reason; the later pairs of the cycle still run."""
    from sync_engine.services import object_settings_update
    from sync_engine.sync.contacts import ContactSync
    from sync_engine.sync.cycle import sync_cycles_run

    object_settings_update(integration=integration, object_name="companies", changes={},
                           enabled=True)  # fmt: skip
    account = sf_person.Account.create({"Name": "Still Synced"})["id"]

    def broken(self):
        raise ValueError("a bug in the contact sync")

    monkeypatch.setattr(ContactSync, "run", broken)
    runs = {run.object: run for run in sync_cycles_run(integration=integration)}
    assert runs["contacts"].status == "failed"
    assert runs["contacts"].message == "The cycle stopped unexpectedly: a bug in the contact sync"
    assert runs["companies"].status == "succeeded"
    assert integration.links.filter(object="companies", salesforce_id=account).exists()
