"""A *Duplicate created by the sync* error says why it ended: the rep merged the duplicate
away in Salesforce, deleted it, or converted it (a lead) into their contact. The record's Sync
history then reads so, not "Cleared: the record synced" (the duplicate syncs with nothing)."""

from __future__ import annotations

import pytest

from emulators.testing import advance_clocks
from integration_admin.labels import ENDED_BECAUSE_LABELS
from sync_engine.models import RecordLink, SyncError
from tests.integration_admin.test_record_error_endings import RecordPage

from .helpers import hs_create, new_lead

pytestmark = pytest.mark.django_db


def duplicate_made_by_the_sync(
    cycle, emulators, sf_person, hs_person, *, made_as="Lead", rep_as="Lead"
):
    """The rep's person (a ``rep_as``) commits late, so the sync makes one of its own (a
    ``made_as``) for the HubSpot contact with the same email; once the rep's shows, the
    contact follows it: ``(the person the sync made, the rep's person, the open error)``."""
    cycle.settings(hubspot_creates=made_as.lower())
    cycle()
    emulators.salesforce.app.run_action("late_commit", seconds=30, count=1)
    if rep_as == "Lead":
        rep = new_lead(sf_person, Email="twin@example.com", LastName="Twin")
    else:
        rep = sf_person.Contact.create({"LastName": "Twin", "Email": "twin@example.com"})["id"]
    contact = hs_create(hs_person, email="twin@example.com", lastname="Twin", company="Acme")
    cycle()
    made = cycle.link(hubspot_id=contact).salesforce_id
    assert made != rep  # the rep's person wasn't visible yet
    advance_clocks(emulators, 61)
    cycle()
    assert cycle.link(hubspot_id=contact).salesforce_id == rep
    error = SyncError.objects.get(
        integration=cycle.integration, error_type="duplicate_created", resolved_at=None
    )
    assert error.record_key == f"salesforce:{made}"
    return made, rep, error


def ended_as(admin_client, error: SyncError, reason: str, label: str) -> None:
    """The error ended for ``reason``, and the record's page says so in its Sync history."""
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert error.ended_because == reason
    assert str(ENDED_BECAUSE_LABELS[error.ended_because]) == label
    page = RecordPage(admin_client, "contacts", error.record_key)
    assert label in page.history
    assert "Cleared: the record synced" not in page.history
    # The duplicate is gone: its page doesn't claim it still syncs.
    assert page.status.startswith("Not syncing"), page.status


@pytest.mark.parametrize("sobject", ["Lead", "Contact"])
def test_a_duplicate_merged_into_the_reps_person_ends_as_merged_away(
    admin_client, cycle, emulators, sf_person, hs_person, sobject
):
    made, rep, error = duplicate_made_by_the_sync(
        cycle, emulators, sf_person, hs_person, made_as=sobject, rep_as=sobject
    )
    emulators.salesforce.app.run_action("merge", object=sobject, master_id=rep, loser_ids=[made])
    advance_clocks(emulators, 61)
    cycle()
    ended_as(
        admin_client, error, "merged_in_salesforce", "Ended: its Salesforce record was merged away"
    )
    assert not RecordLink.objects.filter(salesforce_id=made).exists()


def test_a_deleted_duplicate_ends_as_deleted(admin_client, cycle, emulators, sf_person, hs_person):
    made, _, error = duplicate_made_by_the_sync(cycle, emulators, sf_person, hs_person)
    sf_person.Lead.delete(made)
    advance_clocks(emulators, 61)
    cycle()
    ended_as(admin_client, error, "deleted", "Ended: the record was deleted")


def test_a_duplicate_lead_converted_into_the_reps_contact_ends_as_converted(
    admin_client, cycle, emulators, sf_person, hs_person
):
    """Salesforce merges only records of one kind: the error asks to convert the lead into
    the contact, and once that is done it ends saying the lead was converted."""
    made, rep, error = duplicate_made_by_the_sync(
        cycle, emulators, sf_person, hs_person, rep_as="Contact"
    )
    emulators.salesforce.app.run_action(
        "convert_lead", lead_id=made, contact_id=rep, create_opportunity=False
    )
    advance_clocks(emulators, 61)
    cycle()
    ended_as(admin_client, error, "converted", "Ended: its Salesforce lead was converted")
    assert cycle.link(salesforce_id=rep).hubspot_id == error.hubspot_id
