"""Leftovers of the retries that respect HubSpot deletes: a ticket deleted while its case
waits for its contact, a contact merged in HubSpot into another person's contact, and a
Resync by the HubSpot key of a linked pair."""

from __future__ import annotations

from sync_engine.models import RecordLink, SyncError
from sync_engine.services import record_resync

from .helpers import hs_emails, hs_get
from .test_contacts_deletes_merges import (
    merged_while_salesforce_is_read,
    two_people_merged_in_hubspot,
)
from .test_retry_recreate_hunt7 import refuse_update, refused_then_deleted
from .test_tickets import associated, ticket, ticket_ids


def open_errors(object_name: str):
    return SyncError.objects.filter(object=object_name, resolved_at__isnull=True)


# --- tickets: deleted in HubSpot while the case waits for its contact --------------------------
def test_a_ticket_deleted_while_its_case_waits_is_made_again_with_its_contact(
    tickets, sf_person, hs_person
):
    """The wait's check is a write of the case: the ticket comes back, as every write of a
    case makes its deleted ticket again (docs: Tickets, Creates), with its association, and
    no confusing "No ticket with id" error."""
    contact = sf_person.Contact.create({"LastName": "Gibbons", "Email": "peter@init.example"})["id"]
    case = sf_person.Case.create({"Subject": "TPS reports", "Status": "New", "ContactId": contact})[
        "id"
    ]
    assert tickets().counts["waiting_for_contact"] == 1
    waiting = open_errors("tickets").get()
    old = tickets.link(salesforce_id=case).hubspot_id
    hs_person.crm.tickets.basic_api.archive(old)
    tickets("contacts")

    run = tickets()
    assert run.counts.get("created_in_hubspot") == 1, run.counts
    (again,) = ticket_ids(hs_person)
    assert again != old and tickets.link(salesforce_id=case).hubspot_id == again
    assert ticket(hs_person, again, "subject")["subject"] == "TPS reports"
    person = tickets.links("contacts").get(salesforce_id=contact).hubspot_id
    assert associated(hs_person, again, "contacts") == [person]
    waiting.refresh_from_db()
    assert waiting.resolved_at is not None
    assert not open_errors("tickets").exists()
    assert not SyncError.objects.exclude(error_type="waiting_for_contact").exists()

    idle = tickets()
    assert not idle.counts.get("created_in_hubspot") and not open_errors("tickets").exists()


# --- contacts: merged in HubSpot into another person's contact ---------------------------------
def two_leads_with_a_refused_edit(cycle, emulators, sf_person, change: dict):
    """Two synced leads; the second's edit (``change``) was refused by HubSpot, and its error
    waits. ``(keep, gone, survivor, merge)``: ``merge`` merges the second's contact into the
    first's (the survivor, which stays the first lead's)."""
    keep, gone, survivor, merge = two_people_merged_in_hubspot(cycle, emulators, sf_person)
    refuse_update(emulators, "contacts")
    sf_person.Lead.update(gone, change)
    cycle()
    return keep, gone, survivor, merge


def retry_made_no_contact(cycle, hs_person, gone: str, error) -> None:
    """The retry's cycle makes no contact for lead ``gone``, keeps no link for it, and ends
    its refused edit's ``error`` as gone from HubSpot: the survivor alone is left."""
    run = cycle()
    assert not run.counts.get("created_in_hubspot"), run.counts
    assert hs_emails(hs_person) == ["keep@example.com"]
    assert not RecordLink.objects.filter(salesforce_id=gone).exists()
    error.refresh_from_db()
    assert error.ended_because == SyncError.EndedBecause.GONE_FROM_HUBSPOT
    assert not open_errors("contacts").exists()


def test_a_retry_does_not_make_a_contact_merged_into_another_persons_again(
    cycle, emulators, sf_person, hs_person
):
    """HubSpot's merge is the person's contact gone into another's (docs: Merges in HubSpot;
    spec §6.2): the survivor stays the other person's, and holds the person's email, which
    the person's *Email already in use* error says. The refused edit's error is about a
    contact that is gone: it ends, and its retry doesn't linger nightly."""
    keep, gone, survivor, merge = two_leads_with_a_refused_edit(
        cycle, emulators, sf_person, {"Title": "Head of Buying"}
    )
    error = refused_then_deleted("contacts", merge)
    run = cycle()
    assert not run.counts.get("created_in_hubspot"), run.counts
    assert hs_person.crm.contacts.basic_api.get_page(limit=100).results[0].id == survivor
    assert len(hs_person.crm.contacts.basic_api.get_page(limit=100).results) == 1
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor
    assert not RecordLink.objects.filter(salesforce_id=gone).exists()
    error.refresh_from_db()
    assert error.resolved_at is not None
    assert error.ended_because == SyncError.EndedBecause.GONE_FROM_HUBSPOT
    in_use = open_errors("contacts").get()
    assert (in_use.error_type, in_use.record_key, in_use.hubspot_id) == (
        "email_in_use", f"salesforce:{gone}", survivor,
    )  # fmt: skip
    assert keep in in_use.message
    props = hs_get(hs_person, survivor, "email", "lastname", "jobtitle")
    assert (props["email"], props["lastname"], props["jobtitle"]) == (
        "keep@example.com", "Keep", None,
    )  # fmt: skip
    assert not cycle().counts.get("created_in_hubspot")


def test_a_retry_makes_no_contact_for_a_person_whose_merged_contact_lacks_their_email(
    cycle, emulators, sf_person, hs_person
):
    """The person's refused change was a new email, which the survivor doesn't hold: the
    merge still took its contact away, the retry makes none (a real change does, as after a
    delete: docs, Contacts, Merges and Deleting in HubSpot)."""
    keep, gone, survivor, merge = two_leads_with_a_refused_edit(
        cycle, emulators, sf_person, {"Email": "moved@example.com"}
    )
    error = refused_then_deleted("contacts", merge)
    retry_made_no_contact(cycle, hs_person, gone, error)
    assert not cycle().counts.get("created_in_hubspot")

    # The lead changes: it gets a contact of its own (the survivor stays the other lead's).
    sf_person.Lead.update(gone, {"Title": "Chief Buyer"})
    assert cycle().counts["created_in_hubspot"] == 1
    assert sorted(hs_emails(hs_person)) == ["keep@example.com", "moved@example.com"]
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor


def test_a_retry_reading_the_merge_itself_makes_no_contact_either(
    cycle, emulators, sf_person, hs_person, monkeypatch
):
    """As above, with the merge landing after the cycle read HubSpot's changes: the retry
    finds the person still linked to the contact merged away (HubSpot's read answers with
    the survivor, another person's)."""
    keep, gone, survivor, merge = two_leads_with_a_refused_edit(
        cycle, emulators, sf_person, {"Email": "moved@example.com"}
    )
    error = refused_then_deleted("contacts", lambda: None)
    merged_while_salesforce_is_read(monkeypatch, merge)
    retry_made_no_contact(cycle, hs_person, gone, error)
    assert cycle.link(salesforce_id=keep).hubspot_id == survivor


# --- Resync from the HubSpot side ---------------------------------------------------------------
def test_a_resync_of_a_ticket_pushes_its_case_and_ends_the_cases_error(
    tickets, emulators, integration, sf_person, hs_person
):
    """The ticket's record page resyncs ``hubspot:<ticket>``: the case is the ticket's
    source, so it is read and written again, and its error ends, as a Resync of the case
    does (docs: Retries, an admin's Resync is always served)."""
    case = sf_person.Case.create({"Subject": "Phoenix", "Status": "Working"})["id"]
    tickets()
    ticket_id = tickets.link(salesforce_id=case).hubspot_id
    refuse_update(emulators, "tickets", upsert=True)
    sf_person.Case.update(case, {"Priority": "Low"})
    tickets()
    error = open_errors("tickets").get()
    assert error.record_key == f"salesforce:{case}"
    emulators.hubspot.app.faults.clear()

    record_resync(integration=integration, object_name="tickets", record_key=f"hubspot:{ticket_id}")
    run = tickets()
    assert run.counts.get("updated_in_hubspot") == 1, run.counts
    assert ticket(hs_person, ticket_id, "hs_ticket_priority")["hs_ticket_priority"] == "LOW"
    error.refresh_from_db()
    assert error.resolved_at is not None and error.ended_because == ""
    assert not open_errors("tickets").exists()
    assert not tickets().counts.get("updated_in_hubspot")
