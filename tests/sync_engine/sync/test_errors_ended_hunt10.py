"""Errors on a synced Salesforce person (an edit HubSpot couldn't take: *Email already in
use*) end in the cycle that reads the person deleted or merged away in Salesforce, saying
which, as its retry 20 minutes later would have (no read added). A HubSpot contact kept after
the merge still gets its *Merged in Salesforce* error."""

from __future__ import annotations

import pytest

from sync_engine.models import RecordLink, SyncError
from tests.integration_admin.test_record_error_endings import RecordPage

from .helpers import hs_create, lead_refused_for_a_taken_email, new_lead
from .test_contacts_deletes_merges import merged_in_salesforce
from .test_errors_ended_hunt9 import DELETED, MERGED, ended_in_this_cycle

pytestmark = pytest.mark.django_db


def test_a_synced_leads_error_ends_as_deleted_in_the_cycle_that_reads_the_delete(
    admin_client, cycle, emulators, sf_person, hs_person
):
    lead, error = lead_refused_for_a_taken_email(cycle, sf_person, hs_person)
    idle = cycle()
    sf_person.Lead.delete(lead)
    run = cycle()
    ended_in_this_cycle(admin_client, run, idle, error, "deleted", DELETED)
    assert not RecordLink.objects.filter(salesforce_id=lead).exists()


def test_a_synced_leads_error_ends_as_merged_and_its_kept_contact_gets_merged_in_salesforce(
    admin_client, cycle, emulators, sf_person, hs_person
):
    """Merged into a lead that syncs with a contact of its own: the loser's error ends as
    merged in the cycle that reads the merge; its contact, kept (delete setting *Do
    nothing*), has the one current error, *Merged in Salesforce*."""
    hs_create(hs_person, email="taken@example.com", lastname="Holder", company="X")
    loser = new_lead(sf_person, Email="mover@example.com", LastName="Loser")
    master = new_lead(sf_person, Email="master@example.com", LastName="Master")
    cycle()
    kept = cycle.link(salesforce_id=loser).hubspot_id
    sf_person.Lead.update(loser, {"Email": "taken@example.com"})
    cycle()
    error = SyncError.objects.get(record_key=f"salesforce:{loser}", resolved_at__isnull=True)
    assert error.error_type == "email_in_use"

    emulators.salesforce.app.run_action("merge", object="Lead", master_id=master, loser_ids=[loser])
    cycle()
    error.refresh_from_db()
    assert error.resolved_at is not None, "still open: it would end only at its retry"
    assert (error.ended_because, error.next_retry_at) == ("merged_in_salesforce", None)
    assert MERGED in RecordPage(admin_client, "contacts", error.record_key).history
    held = merged_in_salesforce(cycle, kept)
    assert list(SyncError.objects.filter(resolved_at__isnull=True)) == [held]
    page = RecordPage(admin_client, "contacts", f"hubspot:{kept}")
    assert "Merged in Salesforce" in page.current and page.status == "1 current error"
