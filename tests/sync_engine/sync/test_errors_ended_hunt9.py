"""Errors on a Salesforce person that syncs with nothing (no link: the orphaned lead of a
HubSpot merge, a lead HubSpot refused to take) end in the cycle that reads the person deleted
or merged away in Salesforce, saying which, as its retry 20 minutes later would have: the
change stream already carries ``IsDeleted`` and ``MasterRecordId``, so no read is added."""

from __future__ import annotations

import pytest

from sync_engine.models import RecordLink, SyncError
from tests.integration_admin.test_record_error_endings import RecordPage

from .helpers import new_lead

pytestmark = pytest.mark.django_db

DELETED = "Ended: the record was deleted"
MERGED = "Ended: its Salesforce record was merged away"


def orphaned_lead(cycle, emulators, sf_person) -> tuple[str, str, SyncError]:
    """Two synced leads whose HubSpot contacts were merged: the other lead syncs with nothing
    and has an open *Email already in use* error (not due for 20 minutes).
    (the survivor's lead, the orphaned lead, its error)."""
    keep = new_lead(sf_person, Email="keep@example.com", LastName="Keep")
    gone = new_lead(sf_person, Email="gone@example.com", LastName="Gone")
    cycle()
    emulators.hubspot.app.run_action(
        "merge",
        object_type="contacts",
        primary_id=cycle.link(salesforce_id=keep).hubspot_id,
        merged_id=cycle.link(salesforce_id=gone).hubspot_id,
    )
    cycle()
    assert not RecordLink.objects.filter(salesforce_id=gone).exists()
    error = SyncError.objects.get(record_key=f"salesforce:{gone}", resolved_at__isnull=True)
    assert error.error_type == "email_in_use"
    return keep, gone, error


def refused_lead(cycle, emulators, sf_person) -> tuple[str, SyncError]:
    """A new lead HubSpot refused to take (its create failed): no link, an open error."""
    cycle()
    emulators.hubspot.app.faults.add(
        path=r"^/crm/v3/objects/contacts/batch/(create|upsert)$",
        status=400,
        body={"status": "error", "category": "VALIDATION_ERROR", "message": "Refused"},
        times=4,
    )
    lead = new_lead(sf_person, Email="refused@example.com", LastName="Refused")
    cycle()
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()
    error = SyncError.objects.get(record_key=f"salesforce:{lead}", resolved_at__isnull=True)
    return lead, error


def ended_in_this_cycle(admin_client, run, idle, error: SyncError, reason: str, label: str):
    """The error ended in this cycle, for ``reason``; the page says so; no more calls than
    an idle cycle's (nothing was read again)."""
    error.refresh_from_db()
    assert error.resolved_at is not None, "still open: it would end only at its retry"
    assert (error.ended_because, error.next_retry_at) == (reason, None)
    assert not SyncError.objects.filter(resolved_at__isnull=True).exists()
    page = RecordPage(admin_client, "contacts", error.record_key)
    assert label in page.history
    assert page.status.startswith("Not syncing"), page.status
    assert page.current == "None: the record no longer syncs."
    assert run.calls == idle.calls
    assert not run.counts.get("retried")


def test_an_orphaned_leads_error_ends_as_deleted_in_the_cycle_that_reads_the_delete(
    admin_client, cycle, emulators, sf_person, hs_person
):
    _, gone, error = orphaned_lead(cycle, emulators, sf_person)
    idle = cycle()
    sf_person.Lead.delete(gone)
    run = cycle()
    ended_in_this_cycle(admin_client, run, idle, error, "deleted", DELETED)


def test_an_orphaned_leads_error_ends_as_merged_in_the_cycle_that_reads_the_merge(
    admin_client, cycle, emulators, sf_person, hs_person
):
    keep, gone, error = orphaned_lead(cycle, emulators, sf_person)
    survivor = cycle.link(salesforce_id=keep).hubspot_id
    idle = cycle()
    emulators.salesforce.app.run_action("merge", object="Lead", master_id=keep, loser_ids=[gone])
    run = cycle()
    ended_in_this_cycle(admin_client, run, idle, error, "merged_in_salesforce", MERGED)
    # The survivor goes on syncing with its own contact.
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor


def test_a_refused_leads_error_ends_as_deleted_in_the_cycle_that_reads_the_delete(
    admin_client, cycle, emulators, sf_person, hs_person
):
    lead, error = refused_lead(cycle, emulators, sf_person)
    emulators.hubspot.app.faults.clear()
    idle = cycle()
    sf_person.Lead.delete(lead)
    run = cycle()
    ended_in_this_cycle(admin_client, run, idle, error, "deleted", DELETED)
    assert not RecordLink.objects.exists()
